"""The shipped tunnel detections, compiled and run on rows built here: each pattern with its near misses.

Every case names what must be found and what must not, so a loose pattern (substring instead of whole
value, a missing label boundary, a keyword without the grammar around it) fails a test.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.helpers import store_with
from tunnelhunt.cim import DNS, PROCESSES
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.models import Detection
from tunnelhunt.detect.runner import run_detection
from tunnelhunt.generate import oracle

CONTENT = load_content()
BY_NAME: dict[str, Detection] = {d.name: d for d in CONTENT.detections}


def found(detection: str, node: Any, rows: list[dict[str, Any]], field: str) -> list[str]:
    """The values of `field` in the findings of `detection` over `rows`."""
    with store_with(node, rows) as store:
        run = run_detection(store, BY_NAME[detection], CONTENT.macros)
    assert run.error is None, run.error
    return sorted({row[field] for row in run.rows})


def check_dns(detection: str, hits: list[str], misses: list[str]) -> None:
    rows = [{"src": "wks-1", "query": name} for name in hits + misses]
    assert found(detection, DNS, rows, "query") == sorted(set(hits))


def check_processes(detection: str, hits: list[str], misses: list[str], name: str | None = None) -> None:
    rows = []
    for command in hits + misses:
        image = name or command.split(" ", 1)[0].strip('"').replace("\\", "/").rsplit("/", 1)[-1]
        rows.append({"dest": "wks-1", "user": "CORP\\alice", "process": command, "process_name": image})
    assert found(detection, PROCESSES, rows, "process") == sorted(set(hits))


# --- DNS --------------------------------------------------------------------------------------------------


def test_agent_hosts_current_legacy_and_fallback() -> None:
    check_dns(
        "Ngrok Agent Hosts in DNS",
        hits=["connect.ngrok-agent.com", "connect.eu.ngrok-agent.com", "CONNECT.AP.NGROK-AGENT.COM",
              "tunnel.ngrok.com", "tunnel.us.ngrok.com", "Tunnel.EU.Ngrok.COM", "korgn.su.lennut.com",
              "ngrok.us.tunnel.com"],
        misses=["connect.ngrok-agent.com.example.net", "myconnect.ngrok-agent.com", "ngrok-agent.com",
                "update.ngrok-agent.com", "crl.ngrok-agent.com", "ngrok.com", "www.ngrok.com",
                "dashboard.ngrok.com", "api.ngrok.com", "tunnel.ngrok.com.evil.net", "xtunnel.us.ngrok.com",
                "ngrok.tunnel.com", "korgn.lennut.com", "connect.ngrok-agent.co"],
    )  # fmt: skip


def test_endpoint_domains_need_a_label_under_the_whole_suffix() -> None:
    check_dns(
        "Ngrok Endpoint Domains in DNS",
        hits=["abcd-1-2-3-4.ngrok-free.app", "demo.ngrok-free.dev", "shop.ngrok.app", "api.ngrok.dev",
              "x.ngrok.pizza", "abcd.ngrok.io", "2.tcp.ngrok.io", "4.tcp.us-cal-1.ngrok.io", "A.NGROK-FREE.APP"],
        misses=["ngrok-free.app", "ngrok.io", "myngrok.io", "ngrok.io.example.net", "x.ngrok-free.app.evil.net",
                "x.fakengrok-free.app", "ngrok.app", "ngrok.com", "www.ngrok.com", "x.ngrok-free.ap",
                "tunnel.us.ngrok.com"],
    )  # fmt: skip


def test_download_and_update_hosts_exactly() -> None:
    check_dns(
        "Ngrok Download or Update Hosts in DNS",
        hits=["bin.equinox.io", "dl.equinox.io", "update.equinox.io", "update.ngrok-agent.com",
              "crl.ngrok-agent.com", "crl.ngrok.com", "ngrok-agent.s3.amazonaws.com", "BIN.EQUINOX.IO"],
        misses=["equinox.io", "www.equinox.io", "bin.equinox.io.example.net", "s3.amazonaws.com",
                "ngrok.com", "download.ngrok.com", "connect.ngrok-agent.com"],
    )  # fmt: skip


def test_other_tunnel_services() -> None:
    check_dns(
        "Tunnel Service Domains in DNS",
        hits=["tired-owl-example.trycloudflare.com", "api.trycloudflare.com", "region1.v2.argotunnel.com",
              "0a1b2c.cfargotunnel.com", "localtunnel.me", "loca.lt", "quick-fox-7.loca.lt", "localhost.run",
              "ssh.localhost.run", "9f8e7d.lhr.life", "serveo.net", "abc.serveousercontent.com", "a.pinggy.io",
              "free.pinggy.io", "rnxyz-1-2-3-4.a.free.pinggy.link", "x.pinggy-free.link",
              "abc123-8080.euw.devtunnels.ms", "bore.pub"],
        misses=["trycloudflare.com", "trycloudflare.com.example.net", "developers.cloudflare.com",
                "www.cloudflare.com", "loca.lt.example.org", "notlocalhost.run", "lhr.life", "pinggy.io",
                "www.pinggy.io", "dashboard.pinggy.io", "devtunnels.ms", "bore.pub.example.com", "x.bore.pub",
                "serveo.net.evil.com", "localtunnel.me.example.com"],
    )  # fmt: skip


def test_cname_answers_reveal_a_custom_domain() -> None:
    rows = [
        {"src": "wks-1", "query": "portal.partner.example",
         "answer": ["3k9x2m.7f5a.ngrok-cname.com", "::ffff:3.20.27.198"]},
        {"src": "wks-1", "query": "7f5a.ngrok-cname.com", "answer": ["::ffff:3.20.27.198"]},
        {"src": "wks-2", "query": "www.example.org", "answer": ["ngrok-cname.com.example.net", "::ffff:1.2.3.4"]},
        {"src": "wks-2", "query": "shop.example.org", "answer": ["ngrok-cname.com", "::ffff:1.2.3.5"]},
        {"src": "wks-2", "query": "ngrok-cname.com.example.org", "answer": []},
    ]  # fmt: skip
    with store_with(DNS, rows) as store:
        run = run_detection(store, BY_NAME["Ngrok Custom Domain CNAME in DNS"], CONTENT.macros)
    assert sorted((r["src"], r["query"], r["answer"]) for r in run.rows) == [
        ("wks-1", "7f5a.ngrok-cname.com", "::ffff:3.20.27.198"),
        ("wks-1", "portal.partner.example", "3k9x2m.7f5a.ngrok-cname.com"),
    ]


# --- processes ----------------------------------------------------------------------------------------------

AGENT_RUNS = [
    "ngrok http 80",
    "ngrok.exe http 8080",
    '"C:\\Users\\bob\\Downloads\\ngrok.exe" http https://localhost:8443',
    "ngrok http file:///C:/share",
    "ngrok http localhost:3000",
    "ngrok tcp 3389",
    "ngrok tcp 192.168.1.10:3389",
    "ngrok tls 443",
    "ngrok tls --domain=secure.example.com 443",
    "ngrok http --url=https://shop.ngrok.app 8080",
    "ngrok http --domain=abc.ngrok-free.app 80",
    "ngrok tcp -region=eu 3389",
    "ngrok http -subdomain=demo 80",
    "ngrok http -host-header=rewrite 8080",
    "ngrok start --all",
    "ngrok start --all --config C:\\Users\\bob\\AppData\\Local\\ngrok\\ngrok.yml",
    "ngrok start web api --config tunnels.yml",
    "ngrok config add-authtoken 2AbCdEfGh1jKlMn0pQrStUvWxYz_5aB6cD7eF8gH9iJ0kLmN",
    "ngrok.exe  authtoken 2Hq7xZ3bQ9kLmN8pR4sT6vW1yA_5cD7eF9gH2jK4mN6pQ",
    "ngrok service install --config C:\\ngrok\\ngrok.yml",
    "ngrok tunnel --label edge=edghts_2Ab http://localhost:80",
    "C:\\Users\\Public\\svchost32.exe tcp 3389",
    "/tmp/.cache/kworker http 8080",
    "./ngrok http 3000",
    "/opt/homebrew/bin/ngrok http 5000 --url https://demo.ngrok.dev",
    "ngrokker.exe http 80",  # a renamed agent: by behaviour, its name does not matter
    "winupd.exe -authtoken 2AbC -log=stdout tcp 22",
    "docker run --net=host -e NGROK_AUTHTOKEN=2AbC ngrok/ngrok:latest http 80",
]
AGENT_NEAR_MISSES = [
    "python -m http.server 8000",
    "python3 -m http.server --bind 127.0.0.1 8080",
    "curl http://example.com/index.html",
    "curl -s https://ngrok.com/download",
    "wget http://10.0.0.5/file.zip",
    "netsh http add urlacl url=http://+:8080/ user=Everyone",
    "netstat -an -p tcp 5",
    'powershell.exe New-NetFirewallRule -DisplayName "RDP" -Protocol TCP -LocalPort 3389 -Action Allow',
    "aws ec2 authorize-security-group-ingress --group-id sg-1 --protocol tcp --port 22 --cidr 10.0.0.0/8",
    "aws ec2 describe-instances --protocol tcp --region eu-west-1",
    'reg add "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client"'
    " /v Enabled /t REG_DWORD /d 1",
    "git config --global http.proxy http://proxy.corp.example.com:8080",
    "tcpdump -i eth0 tcp port 22",
    "lsof -i tcp -n -P",
    "ssh -L 8080:localhost:80 bastion.corp.example.com",
    "kubectl port-forward svc/web 8080:80",
    "docker run -p 8080:80 nginx",
    "http-server -p 8080",
    "php -S localhost:8000",
    "ngrok.exe version",
    "ngrok.exe update",
    "ngrok help",
    "notepad.exe C:\\notes\\ngrok-start.txt",
    "systemctl start nginx",
    "cloudflared tunnel --url http://localhost:8080",
    "cloudflared access tcp --hostname rdp.example.com --url localhost:3389",
    "npm run start -- --port 3000",
]


def test_agent_grammar_on_any_binary() -> None:
    check_processes("Ngrok Agent Command Line on Any Binary", AGENT_RUNS, AGENT_NEAR_MISSES)


def test_remote_access_ports_and_service_install() -> None:
    check_processes(
        "Ngrok Agent Exposing Remote Access or Installed as Service",
        hits=["ngrok tcp 3389", "ngrok.exe tcp 22", "svc.exe tcp 445", "ngrok tcp 5985", "ngrok tcp 5986",
              "ngrok tcp 127.0.0.1:3389", "ngrok tcp localhost:22 --region eu", "ngrok tcp --region eu 3389",
              "ngrok.exe tcp -region=eu 3389", "/usr/local/bin/ngrok tcp 22",
              "ngrok service install --config C:\\ngrok\\ngrok.yml", "ngrok service install --config=/etc/ngrok.yml"],
        misses=["ngrok tcp 2222", "ngrok tcp 33890", "ngrok tcp 8080", "ngrok http 3389x", "ngrok http 80",
                "ngrok tcp 4455", "netstat -an -p tcp 22",
                'powershell.exe New-NetFirewallRule -Protocol TCP -LocalPort 3389',
                "aws ec2 authorize-security-group-ingress --protocol tcp --port 22",
                "sc.exe create ngrok binPath= C:\\ngrok\\ngrok.exe", "ngrok service start",
                "cloudflared.exe service install eyJhIjoiMTIzIn0="],
    )  # fmt: skip


def test_ngrok_over_ssh_gateway() -> None:
    check_processes(
        "Ngrok Tunnel over SSH",
        hits=["ssh -R 443:localhost:80 v2@connect.ngrok-agent.com http",
              "ssh -R 0:localhost:22 v2@connect.eu.ngrok-agent.com tcp 22",
              "/usr/bin/ssh -p 443 -R0:localhost:3000 v2@connect.ngrok-agent.com http",
              "ssh -fNR 443:localhost:8080 v2@connect.ngrok-agent.com http",
              "ssh -R 0:localhost:8443 tunnel.us.ngrok.com tcp 8443",
              "plink.exe -ssh -R 3389:127.0.0.1:3389 v2@connect.ngrok-agent.com tcp 3389"],
        misses=["ssh admin@connect.ngrok-agent.com.example.net -R 80:localhost:80",
                "ssh -R 8080:localhost:80 jump.corp.example.com",
                "ssh -L 8080:localhost:80 v2@connect.ngrok-agent.com",
                "ssh -R 80:localhost:80 user@myconnect.ngrok-agent.com"],
    )  # fmt: skip
    # the gateway name alone, in a tool that is not an SSH client, is not a tunnel
    check_processes("Ngrok Tunnel over SSH", [], ["nslookup -retry=2 connect.ngrok-agent.com"], name="nslookup.exe")


def test_other_tunnel_clients() -> None:
    check_processes(
        "Tunnel Service Client Command Line",
        hits=["cloudflared tunnel --url http://localhost:8080",
              "cloudflared.exe tunnel --no-autoupdate --url http://127.0.0.1:3389",
              "cloudflared tunnel run --token eyJhIjoiMTIzIn0=",
              "C:\\ProgramData\\upd.exe service install eyJhIjoiMTIzIn0=",
              "lt --port 8000", "npx localtunnel --port 8000 --subdomain demo",
              '"C:\\Program Files\\nodejs\\node.exe" "C:\\Users\\dave\\AppData\\Roaming\\npm\\node_modules'
              '\\localtunnel\\bin\\lt.js" --port 3000', "node /usr/local/bin/lt -p 8080",
              "devtunnel host -p 8080", "C:\\tools\\devtunnel.exe host -p 3389 --allow-anonymous",
              "code tunnel", '"C:\\Users\\dave\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" tunnel',
              "bore local 8000 --to bore.pub", "/usr/local/bin/bore local 22 --to bore.pub",
              "ssh -R 80:localhost:8080 nokey@localhost.run", "ssh -R 80:localhost:3000 serveo.net",
              "ssh -p 443 -R0:localhost:8000 a.pinggy.io", "ssh -p 443 -R0:localhost:3389 tcp@free.pinggy.io"],
        misses=["cloudflared access login https://app.example.com",
                "cloudflared access tcp --hostname rdp.example.com --url localhost:3389",
                "cloudflared.exe update", "cloudflared --version", "lt", "salt -p 4506 minion",
                "git commit -m \"fix code tunnel\"", "code --list-extensions",
                "ssh -R 80:localhost:8080 user@localhost.run.example.com", "ssh user@serveo.net",
                "ssh -R 80:localhost:3000 notserveo.net", "curl https://a.pinggy.io",
                "bore.exe --help", "ngrok http 80"],
    )  # fmt: skip


# --- the generator's independent oracle agrees with the SPL on every case above -------------------------

PROCESS_CASES = [
    *AGENT_RUNS, *AGENT_NEAR_MISSES, "ngrok tcp 2222", "ngrok tcp 127.0.0.1:3389", "ngrok tcp --region eu 3389",
    "ngrok service install --config=/etc/ngrok.yml", "ssh -R 443:localhost:80 v2@connect.ngrok-agent.com http",
    "ssh -fNR 443:localhost:8080 v2@connect.ngrok-agent.com http",
    "ssh -L 8080:localhost:80 v2@connect.ngrok-agent.com",
    "plink.exe -ssh -R 3389:127.0.0.1:3389 v2@connect.ngrok-agent.com tcp 3389",
    "ssh -R 80:localhost:8080 user@localhost.run.example.com", "ssh -p 443 -R0:localhost:8000 a.pinggy.io",
    "lt --port 8000", "node /usr/local/bin/lt -p 8080", "salt -p 4506 minion", "devtunnel host -p 8080",
    "C:\\tools\\devtunnel.exe host -p 3389", "code tunnel", "code --list-extensions", "bore local 8000 --to bore.pub",
    "/usr/local/bin/bore local 22 --to bore.pub", "cloudflared.exe service install eyJhIjoiMTIzIn0=",
    "cloudflared tunnel run --token eyJhIjoiMTIzIn0=",
]  # fmt: skip
DNS_CASES = [
    "connect.ngrok-agent.com", "connect.eu.ngrok-agent.com", "connect.ngrok-agent.com.example.net", "tunnel.ngrok.com",
    "tunnel.us.ngrok.com", "korgn.su.lennut.com", "ngrok.us.tunnel.com", "ngrok.tunnel.com", "abcd.ngrok-free.app",
    "ngrok-free.app", "x.ngrok-free.app.evil.net", "4.tcp.us-cal-1.ngrok.io", "myngrok.io", "ngrok.io",
    "www.ngrok.com", "bin.equinox.io", "update.ngrok-agent.com", "crl.ngrok.com", "equinox.io",
    "x.trycloudflare.com", "trycloudflare.com", "loca.lt", "a.loca.lt", "localhost.run", "lhr.life", "a.lhr.life",
    "serveo.net", "x.serveousercontent.com", "a.pinggy.io", "pinggy.io", "x.pinggy.link", "x.euw.devtunnels.ms",
    "bore.pub", "x.bore.pub", "region1.v2.argotunnel.com",
]  # fmt: skip


def test_generator_oracle_agrees_with_the_process_detections() -> None:
    rows = []
    for index, command in enumerate(PROCESS_CASES):
        image = command.split(" ", 1)[0].strip('"').replace("\\", "/").rsplit("/", 1)[-1]
        when = datetime(2026, 11, 20, 10) + timedelta(seconds=index)
        rows.append({"dest": "wks-1", "user": "u", "process": command, "process_name": image, "_time": when})
    with store_with(PROCESSES, rows) as store:
        by_spl: dict[str, set[str]] = {command: set() for command in PROCESS_CASES}
        for name in oracle.PROCESS_DETECTIONS:
            run = run_detection(store, BY_NAME[name], CONTENT.macros)
            for row in run.rows:
                by_spl[row["process"]].add(name)
    by_oracle = {row["process"]: oracle.process_hits(row["process_name"], row["process"]) for row in rows}
    assert by_spl == by_oracle


def test_generator_oracle_agrees_with_the_dns_detections() -> None:
    with store_with(DNS, [{"src": "wks-1", "query": name} for name in DNS_CASES]) as store:
        by_spl: dict[str, set[str]] = {name: set() for name in DNS_CASES}
        for name in oracle.DNS_DETECTIONS:
            for row in run_detection(store, BY_NAME[name], CONTENT.macros).rows:
                by_spl[row["query"]].add(name)
    assert by_spl == {name: oracle.dns_hits(name) for name in DNS_CASES}
