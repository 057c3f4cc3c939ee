"""Issue 16's tunnelling variants in generated data: the oracle reads each grammar as its tool does, and
truth.json's `tunnels` lists exactly the events of the log that show a variant (background included)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from lxml import etree

from tunnelhunt.generate import GeneratedDataset, generate_sysmon
from tunnelhunt.generate.oracle import (
    PORT_PROXY,
    PROXY_TOOL,
    SSH_TUNNEL,
    SSH_TUNNEL_HIGH_RISK,
    TUNNEL_SERVICE_CLIENT,
    TUNNEL_SERVICE_DNS,
    TUNNEL_VARIANTS,
    tunnel_dns_hits,
    tunnel_process_hits,
)

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


# --- the oracle, case by case ----------------------------------------------------------------------------------

BOTH = {SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK}
SSH_CASES = [
    # (image, command line, variants expected)
    ("plink.exe", "plink.exe 10.0.0.5 -P 443 -l u -pw p -R 127.0.0.3:4444:127.0.0.2:3389", BOTH),
    ("ssh", "ssh -NfL 8080:intranet.example.com:80 jump", {SSH_TUNNEL}),
    ("ssh.exe", "ssh -L13389:10.0.0.9:3389 jump", {SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK}),  # attached spec
    ("ssh", "ssh -R 8080:localhost:80 jump", {SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK}),  # loopback target
    ("ssh", "ssh -D 1080 -N jump", {SSH_TUNNEL}),  # SOCKS: no target, not high risk by itself
    ("ssh", "ssh -R 1080 jump", {SSH_TUNNEL}),  # remote SOCKS
    ("ssh", 'ssh -o "RemoteForward 8022 localhost:22" host', {SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK}),
    ("ssh", "ssh -oDynamicForward=1080 jump", {SSH_TUNNEL}),
    ("putty.exe", "putty.exe -ssh -L 5985:127.0.0.1:5985 admin@h", {SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK}),
    ("ssh", "ssh -V", set()),
    ("ssh", "ssh -l admin -p 2222 host", set()),  # flags are case-sensitive: -l is the login name
    ("ssh", "ssh -o BatchMode=yes deploy@10.0.0.1 uptime", set()),
    ("scp", "scp -P 22 -r dir host:/tmp", set()),  # not an SSH tunnel client
    ("cmd.exe", "cmd.exe /c echo -L 8080:localhost:80", set()),
]
NETSH_CASES = [
    ("netsh interface portproxy add v4tov4 listenport=8001 connectport=3389 connectaddress=10.0.0.5", True),
    ("netsh I p a v l=8001 listena=127.0.0.1 connectp=3389 c=1.1.1.1", True),
    ('"C:\\Windows\\System32\\netsh.exe" int portproxy set v4tov4 listenport=8443 connectport=443', True),
    ("NETSH.EXE INTERFACE PORTPROXY ADD V4TOV6 LISTENPORT=445 CONNECTADDRESS=::1", True),
    ("netsh interface show interface", False),
    ("netsh interface portproxy show all", False),
    ("netsh i p s all", False),  # `s` is ambiguous between set and show
    ("netsh interface portproxy delete v4tov4 listenport=8001", False),
    ("netsh advfirewall firewall add rule name=x dir=in localport=8001", False),
    ("netsh http add urlacl url=http://+:8080/ user=Everyone", False),
]
TOOL_CASES = [
    ("x.exe client --auth a:b https://203.0.113.1:443 R:3389:127.0.0.1:3389", "chisel"),
    ("chisel client 203.0.113.1:8080 R:socks", "chisel"),
    ("chisel server -p 8000 --reverse", "chisel"),
    ("frpc.exe -c C:\\frp\\frpc.toml", "frp"),
    ("w.exe tcp --server_addr 203.0.113.2:7000 --local_port 3389 --remote_port 6000", "frp"),
    ("agent.exe -connect 203.0.113.3:11601 -ignore-cert", "ligolo-ng"),
    ("proxy -selfcert -laddr 0.0.0.0:11601", "ligolo-ng"),
    ("gost -L rtcp://:3389/127.0.0.1:3389 -F relay+tls://203.0.113.4:443", "gost"),
    ("gost -L :8080", "gost"),
    ("socat TCP-LISTEN:8080,fork TCP:10.0.0.5:3389", "socat"),
    ("revsocks -connect 203.0.113.5:8443 -pass x", "revsocks"),
    ("rathole.exe client.toml", "rathole"),
    ("iodine.exe -f -P s3cret 203.0.113.6 t1.example.net", "iodine"),
    ("dnscat --dns server=203.0.113.7,port=53 --secret=ab", "dnscat2"),
    ("curl.exe -L -o c.gz https://github.com/jpillora/chisel/releases/download/v1/chisel.gz", None),
    ("curl -L https://github.com:443/x", None),  # curl's -L takes no value: not a gost listener
    ("notepad.exe C:\\docs\\chiseled-oak.txt", None),
    ("socat -V", None),
    ("frpc.exe --version", None),
]
SERVICE_CASES = [
    ("cloudflared.exe tunnel run --token eyJhIjoi", "cloudflare-tunnel"),
    ("cloudflared access rdp --hostname rdp.example.com --url localhost:13389", "cloudflare-tunnel"),
    ("devtunnel.exe host -p 5000", "microsoft-dev-tunnels"),
    ("code tunnel", "vscode-tunnel"),
    ('"C:\\VS Code\\bin\\code-tunnel.exe" tunnel --accept-server-license-terms --name x', "vscode-tunnel"),
    ("tailscale funnel --bg 8080", "tailscale-funnel"),
    ("zrok share private --backend-mode tcpTunnel 127.0.0.1:3389", "zrok"),
    ("localtonet authtoken 9f8e7d", "localtonet"),
    ("playit.exe --secret_path C:\\playit.toml start", "playit"),
    ("ssh -p 443 -R0:localhost:8000 qr@a.pinggy.io", "pinggy"),
    ("cloudflared.exe --version", None),
    ("cloudflared tunnel list", None),
    ("code tunnel --help", None),
    ('"C:\\VS Code\\Code.exe" C:\\src\\tunnel-notes.md', None),
    ("tailscale funnel status", None),
    ("zrok version", None),
    ("devtunnel user show", None),
    ("ssh a.pinggy.io", None),  # no forward
]
DNS_CASES = [
    ("x.trycloudflare.com", "cloudflare-tunnel"),
    ("region1.v2.argotunnel.com", "cloudflare-tunnel"),
    ("a-5000.euw.devtunnels.ms", "microsoft-dev-tunnels"),
    ("usw2-data.rel.tunnels.api.visualstudio.com", "microsoft-dev-tunnels"),
    ("K3J5.Share.Zrok.IO", "zrok"),
    ("crl.ngrok-agent.com", "ngrok"),
    ("demo.ngrok-free.dev", "ngrok"),
    ("notcloudflared.com", None),
    ("trycloudflare.com", None),
    ("share.zrok.io", None),
    ("tunnels.api.visualstudio.com", None),
    ("devtunnels.ms.example.net", None),
    ("crl.ngrok-agent.com.example.net", None),
    ("ngrok-free.dev", None),
]


@pytest.mark.parametrize(("image", "command", "expected"), SSH_CASES)
def test_ssh_forwards(image: str, command: str, expected: set[str]) -> None:
    hits = tunnel_process_hits(image, command)
    assert {k for k in hits if k in (SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK)} == expected


@pytest.mark.parametrize(("command", "expected"), NETSH_CASES)
def test_port_proxy_full_and_abbreviated(command: str, expected: bool) -> None:
    assert (PORT_PROXY in tunnel_process_hits("netsh.exe", command)) is expected


@pytest.mark.parametrize(("command", "tool"), TOOL_CASES)
def test_proxy_tools_by_grammar(command: str, tool: str | None) -> None:
    assert tunnel_process_hits("renamed.exe", command).get(PROXY_TOOL) == tool


@pytest.mark.parametrize(("command", "service"), SERVICE_CASES)
def test_tunnel_service_clients(command: str, service: str | None) -> None:
    assert tunnel_process_hits(command.split()[0], command).get(TUNNEL_SERVICE_CLIENT) == service


@pytest.mark.parametrize(("query", "service"), DNS_CASES)
def test_tunnel_service_zones(query: str, service: str | None) -> None:
    assert tunnel_dns_hits(query).get(TUNNEL_SERVICE_DNS) == service


# --- the generated data -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[GeneratedDataset, dict[str, Any]]:
    dataset = generate_sysmon(tmp_path_factory.mktemp("tunnels"), events=3000, seed=11)
    return dataset, json.loads(dataset.truth_path.read_text(encoding="utf-8"))


def _rows(dataset: GeneratedDataset) -> list[dict[str, str]]:
    rows = []
    with dataset.path.open("rb") as handle:
        for line in handle:
            root = etree.fromstring(line, PARSER)
            row = {item.get("Name"): item.text or "" for item in root.find(f"{NS}EventData")}  # type: ignore[union-attr]
            row["EventID"] = root.findtext(f"{NS}System/{NS}EventID") or ""
            row["Computer"] = root.findtext(f"{NS}System/{NS}Computer") or ""
            rows.append(row)
    return rows


def test_truth_lists_exactly_the_events_showing_each_variant(
    generated: tuple[GeneratedDataset, dict[str, Any]],
) -> None:
    dataset, truth = generated
    rows = _rows(dataset)
    windows = {row["Computer"] for row in rows}
    found: Counter[tuple[str, ...]] = Counter()
    for row in rows:
        if row["EventID"] == "1":
            for variant, tool in tunnel_process_hits(row["Image"], row["CommandLine"]).items():
                found[(variant, row["Computer"], row["CommandLine"], tool)] += 1
        elif row["EventID"] == "22":
            for variant, service in tunnel_dns_hits(row["QueryName"]).items():
                found[(variant, row["Computer"], row["QueryName"], service)] += 1
    expected: Counter[tuple[str, ...]] = Counter()
    for variant, lists in truth["tunnels"].items():
        for entry in lists["positives"]:
            host = entry.get("dest") or entry["src"]
            if host in windows:
                value, label = entry.get("process") or entry["query"], entry.get("tool") or entry["service"]
                expected[(variant, host, value, label)] += 1
    assert found == expected


def test_every_variant_has_positives_and_near_misses_that_are_in_the_log(
    generated: tuple[GeneratedDataset, dict[str, Any]],
) -> None:
    dataset, truth = generated
    assert list(truth["tunnels"]) == list(TUNNEL_VARIANTS)
    text = dataset.path.read_text(encoding="utf-8")
    for variant, lists in truth["tunnels"].items():
        assert lists["positives"] and lists["near_misses"], variant
        for miss in lists["near_misses"]:
            escaped = miss["value"].replace("&", "&amp;").replace('"', "&quot;").replace("'", "&apos;")
            assert escaped in text, miss
            hits = {**tunnel_process_hits(miss["value"].split()[0], miss["value"]), **tunnel_dns_hits(miss["value"])}
            assert variant not in hits, miss


def test_every_variant_of_issue_16_is_planted(generated: tuple[GeneratedDataset, dict[str, Any]]) -> None:
    _, truth = generated
    tunnels = truth["tunnels"]
    labels = {name: {e.get("tool") or e.get("service") for e in lists["positives"]} for name, lists in tunnels.items()}
    tools = {tool for label in labels[PROXY_TOOL] for tool in label.split(",")}
    assert tools >= {"chisel", "frp", "ligolo-ng", "gost", "socat", "revsocks", "rathole", "iodine", "dnscat2"}
    assert labels[TUNNEL_SERVICE_CLIENT] >= {
        "cloudflare-tunnel", "microsoft-dev-tunnels", "vscode-tunnel", "tailscale-funnel", "zrok", "localtonet",
        "playit", "pinggy",
    }  # fmt: skip
    assert labels[TUNNEL_SERVICE_DNS] >= {"cloudflare-tunnel", "microsoft-dev-tunnels", "zrok", "ngrok"}
    assert labels[SSH_TUNNEL] >= {"ssh", "plink", "putty"}
    commands = {e["process"] for e in tunnels[PORT_PROXY]["positives"]}
    assert any(" I p a v " in c for c in commands) and any("portproxy add v4tov4" in c for c in commands)
    assert any("-R 127.0.0.3:4444:127.0.0.2:3389" in e["process"] for e in tunnels[SSH_TUNNEL_HIGH_RISK]["positives"])
    queries = {e["query"] for e in tunnels[TUNNEL_SERVICE_DNS]["positives"]}
    for suffix in (".trycloudflare.com", ".devtunnels.ms", ".rel.tunnels.api.visualstudio.com", ".share.zrok.io",
                   ".ngrok-free.dev"):  # fmt: skip
        assert any(q.endswith(suffix) for q in queries), suffix
    assert "crl.ngrok-agent.com" in queries
    misses = {m["value"] for lists in tunnels.values() for m in lists["near_misses"]}
    assert {"ssh -V", "netsh interface show interface", "notcloudflared.com"} <= misses
    assert any("chisel" in m and "chisel" not in m.split()[0].lower() for m in misses)  # a word containing chisel
