"""The planted activity: ngrok and other tunnels the detections must find, and near misses they must not.

Why: each scenario is a small story on one host (a user downloads ngrok and starts it, a web shell
exposes RDP, ...), so the planted events sit among plausible parents, lookups and connections. The
fixed scenarios run in every dataset; a few more are added in proportion to its size.
"""

from __future__ import annotations

import random

from tunnelhunt.generate.oracle import (
    AGENT_HOSTS,
    CNAME,
    CONFIG_FILE,
    DOWNLOADS,
    ENDPOINTS,
    GRAMMAR,
    HASH_PIVOT,
    NETWORK,
    OTHER_CLIENTS,
    OTHER_DNS,
    OVER_SSH,
    REMOTE,
)
from tunnelhunt.generate.sizes import MIN_EVENTS
from tunnelhunt.generate.sysmon.catalogue import CHROME, CMD, HOSTS, IMAGES, POWERSHELL
from tunnelhunt.generate.sysmon.plan import NGROK_RESULTS, Planner
from tunnelhunt.generate.sysmon.tunnels import TUNNEL_SCENARIOS
from tunnelhunt.generate.sysmon.world import Sysmon

_EXTRA_RUN_EVERY = 10_000  # one more ngrok scenario per this many events
_EXTRA_MISS_EVERY = 20_000  # one more near miss per this many events

_AUTHTOKEN = "2AbCdEfGh1jKlMn0pQrStUvWxYz_5aB6cD7eF8gH9iJ0kLmN"
_NEAR_MISS_DNS = (
    "ngrok.io.evil.com",
    "myngrok.io",
    "ngrok.io",
    "ngrok.com",
    "notngrok.com.example.net",
    "ngrok.tunnel.com",
)
_REGIONS = ("us", "eu", "ap", "au", "sa", "jp", "in")

# --- the fixed scenarios ----------------------------------------------------------------------------


def _download_and_start(plan: Planner) -> None:
    """wks-017, bob: finds ngrok in Edge, unzips it, adds an authtoken, starts all tunnels from a config."""
    s = plan.script("wks-017")
    explorer = s.proc("explorer")
    edge = s.spawn("msedge", f'"{IMAGES["msedge"][0]}" --profile-directory=Default', explorer)
    s.dns(edge, "ngrok.com", expect="near", near=(AGENT_HOSTS, ENDPOINTS, DOWNLOADS))
    s.connect(edge, "3.125.209.94", 443, "ngrok.com")
    s.wait(20, 90)
    s.file(edge, f"{s.home}\\Downloads\\ngrok-v3-stable-windows-amd64.zip")
    s.wait(10, 60)
    s.file(explorer, f"{s.home}\\Downloads\\ngrok.exe")
    shell = s.spawn("cmd", CMD, explorer)
    s.wait(5, 30)
    ngrok = f"{s.home}\\Downloads\\ngrok.exe"
    config = f"{s.home}\\AppData\\Local\\ngrok\\ngrok.yml"
    first = s.spawn(
        ngrok, f"ngrok config add-authtoken {_AUTHTOKEN}", shell, cwd=f"{s.home}\\Downloads\\", expect="match"
    )
    s.file(first, config)
    s.exit(first)
    s.wait(10, 120)
    agent = s.spawn(
        ngrok, f'"{ngrok}" start --all --config {config}', shell, cwd=f"{s.home}\\Downloads\\", expect="match"
    )
    s.loads(agent)
    s.dns(agent, "tunnel.us.ngrok.com", expect="match")
    s.connect(agent, "3.20.27.198", 443)
    s.wait(300, 1200)
    s.exit(agent)
    plan.place(s)


def _web_shell_rdp(plan: Planner) -> None:
    """srv-web-01, IIS app pool: a web shell drops a v2 agent and exposes RDP; the agent falls back to korgn."""
    s = plan.script("srv-web-01")
    w3wp = s.proc("w3wp")
    ps = s.spawn(
        "powershell",
        'powershell.exe -NoP -W Hidden -c "Expand-Archive C:\\ProgramData\\ngrok\\n.zip '
        '-DestinationPath C:\\ProgramData\\ngrok -Force; & C:\\ProgramData\\ngrok\\n.cmd"',
        w3wp,
        account="apppool",
        integrity="High",
        cwd="C:\\Windows\\system32\\inetsrv\\",
    )
    s.file(ps, "C:\\ProgramData\\ngrok\\ngrok.exe")
    ngrok = "C:\\ProgramData\\ngrok\\ngrok.exe"
    cwd = "C:\\ProgramData\\ngrok\\"
    s.exit(s.spawn(ngrok, f"ngrok.exe authtoken {_AUTHTOKEN}", ps, "apppool", "High", cwd, expect="match"))
    agent = s.spawn(ngrok, "ngrok.exe tcp 3389", ps, "apppool", "High", cwd, expect="match")
    s.loads(agent, 5)
    s.dns(agent, "dns.google.com")
    s.connect(agent, "8.8.8.8", 443, "dns.google")
    s.dns(agent, "korgn.su.lennut.com", expect="match")
    s.dns(agent, "ngrok.us.tunnel.com", expect="match")
    s.connect(agent, "3.20.27.198", 443)
    plan.place(s)


def _developer_tunnels(plan: Planner) -> None:
    """wks-042, dave: an upper-case run from cmd, then a shortcut run with basic auth (quotes and `&`)."""
    s = plan.script("wks-042")
    explorer = s.proc("explorer")
    shell = s.spawn("cmd", CMD, explorer)
    loud = s.spawn("C:\\Tools\\NGROK.EXE", "NGROK.EXE HTTP 80", shell, cwd="C:\\Tools\\", expect="match")
    s.dns(loud, "Tunnel.EU.Ngrok.COM", expect="match")
    s.connect(loud, "3.125.102.39", 443)
    s.wait(600, 1800)
    s.exit(loud)
    agent = s.spawn(
        "C:\\Tools\\ngrok.exe",
        '"C:\\Tools\\ngrok.exe" http 8080 --basic-auth "dave:s3cr&t<1>"',
        explorer,
        cwd="C:\\Tools\\",
        expect="match",
    )
    s.dns(agent, "tunnel.eu.ngrok.com", expect="match")
    s.connect(agent, "18.192.93.86", 443)
    plan.place(s)


def _share_local_app(plan: Planner) -> None:
    """wks-001, alice: exposes a local app from PowerShell and opens the public URL in Chrome."""
    s = plan.script("wks-001")
    explorer = s.proc("explorer")
    ps = s.spawn("powershell", POWERSHELL, explorer)
    agent = s.spawn(
        f"{s.home}\\Downloads\\ngrok.exe", "ngrok.exe http 8080", ps, cwd=f"{s.home}\\Downloads\\", expect="match"
    )
    s.dns(agent, "tunnel.us.ngrok.com", expect="match")
    s.connect(agent, "3.134.73.173", 443)
    s.dns(ps, "ngrok.tunnel.com", expect="near", near=(AGENT_HOSTS,))
    chrome = s.spawn("chrome", f"{CHROME} https://abcd-1-2-3-4.ngrok.io/", explorer)
    s.dns(chrome, "abcd-1-2-3-4.ngrok.io", expect="match")
    s.connect(chrome, "3.20.27.198", 443, "abcd-1-2-3-4.ngrok.io")
    plan.place(s)


def _rdp_through_tunnel(plan: Planner) -> None:
    """wks-058, erin: RDP to an ngrok TCP endpoint, a look-alike tool, a look-alike domain."""
    s = plan.script("wks-058")
    explorer = s.proc("explorer")
    rdp = s.spawn("mstsc", '"C:\\Windows\\system32\\mstsc.exe" /v:2.tcp.ngrok.io:14155', explorer)
    s.dns(rdp, "2.tcp.ngrok.io", expect="match")
    s.connect(rdp, "3.134.39.220", 14155, "2.tcp.ngrok.io")
    shell = s.spawn("cmd", CMD, explorer)
    s.spawn(f"{s.home}\\Downloads\\ngrokker.exe", "ngrokker.exe http 80", shell, expect="near", hits=(GRAMMAR,))
    chrome = s.spawn("chrome", CHROME, explorer)
    s.dns(chrome, "ngrok.io.evil.com", expect="near", near=(ENDPOINTS,))
    plan.place(s)


def _curious_user(plan: Planner) -> None:
    """wks-003, carol: checks ngrok's version, reads notes about it, browses look-alike names."""
    s = plan.script("wks-003")
    explorer = s.proc("explorer")
    shell = s.spawn("cmd", CMD, explorer)
    s.exit(
        s.spawn(
            f"{s.home}\\Downloads\\ngrok.exe",
            "ngrok.exe version",
            shell,
            cwd=f"{s.home}\\Downloads\\",
            expect="near",
            near=(GRAMMAR,),
        )
    )
    s.spawn("notepad", "notepad.exe C:\\notes\\ngrok-start.txt", explorer, expect="near", near=(GRAMMAR,))
    chrome = s.spawn("chrome", CHROME, explorer)
    s.dns(chrome, "ngrok.io", expect="near", near=(ENDPOINTS,))
    s.dns(chrome, "myngrok.io", expect="near", near=(ENDPOINTS,))
    plan.place(s)


def _renamed_agent(plan: Planner) -> None:
    """srv-file-01, frank: a renamed agent; the process detection misses it by name, DNS still sees it."""
    s = plan.script("srv-file-01")
    ps = s.spawn("powershell", POWERSHELL, s.proc("explorer"), integrity="High")
    evil = s.spawn(
        "C:\\tools\\ngrok.exe.bak\\evil.exe",
        "C:\\tools\\ngrok.exe.bak\\evil.exe tcp 22",
        ps,
        integrity="High",
        expect="near",
        hits=(GRAMMAR, REMOTE),
    )
    s.dns(evil, "tunnel.us.ngrok.com", expect="match")
    s.connect(evil, "3.20.27.198", 443)
    s.dns(ps, "notngrok.com.example.net", expect="near", near=(AGENT_HOSTS,))
    plan.place(s)


# --- tunnel scenarios beyond the seeds: renamed and v2 agents, services, SSH, other tunnel services -----------

_NGROK_CONNECT = "::ffff:3.20.27.198;::ffff:3.134.73.173;"
_CRL = "type:  5 crl.ngrok-agent.com.cdn.cloudflare.net;::ffff:104.18.34.11;::ffff:172.64.153.245;"


def _renamed_v3_agent(plan: Planner) -> None:
    """wks-042, dave: fetches ngrok with PowerShell, renames it after Edge's updater, publishes a local app."""
    s = plan.script("wks-042")
    explorer = s.proc("explorer")
    ps = s.spawn(
        "powershell",
        'powershell.exe -NoProfile -Command "Invoke-WebRequest '
        'https://bin.equinox.io/c/bNyj1mQVY4c/ngrok-v3-stable-windows-amd64.zip -OutFile $env:TEMP\\n.zip"',
        explorer,
        near=(GRAMMAR,),
    )
    s.dns(
        ps, "bin.equinox.io", hits=(DOWNLOADS,), results="type:  5 bin.equinox.io.s3.amazonaws.com;::ffff:52.217.71.4;"
    )
    s.file(ps, f"{s.home}\\AppData\\Local\\Temp\\n.zip")
    s.wait(20, 120)
    renamed = f"{s.home}\\AppData\\Local\\Temp\\MicrosoftEdgeUpdateCore.exe"
    first = s.spawn(
        renamed, f'"{renamed}" config add-authtoken {_AUTHTOKEN}', ps, hits=(GRAMMAR,), near=(REMOTE,), binary="ngrok"
    )
    s.file(first, f"{s.home}\\AppData\\Local\\ngrok\\ngrok.yml", hits=(CONFIG_FILE,))
    s.exit(first)
    s.wait(30, 300)
    agent = s.spawn(
        renamed,
        f'"{renamed}" http 3000 --url https://dave-demo.ngrok-free.app',
        ps,
        hits=(GRAMMAR,),
        near=(REMOTE,),
        binary="ngrok",
    )
    s.loads(agent, 3)
    s.dns(agent, "crl.ngrok-agent.com", hits=(DOWNLOADS,), results=_CRL)
    s.dns(agent, "connect.ngrok-agent.com", hits=(AGENT_HOSTS,), results=_NGROK_CONNECT)
    s.connect(agent, "3.20.27.198", 443, "connect.ngrok-agent.com", hits=(NETWORK,))
    chrome = s.spawn("chrome", CHROME, explorer)
    s.dns(chrome, "dave-demo.ngrok-free.app", hits=(ENDPOINTS,), results="::ffff:3.124.67.191;")
    s.connect(chrome, "3.124.67.191", 443, "dave-demo.ngrok-free.app", near=(NETWORK,))
    s.wait(120, 600)
    s.dns(agent, "update.ngrok-agent.com", hits=(DOWNLOADS,), results="::ffff:104.18.35.11;")
    s.exit(agent)
    s.wait(600, 1200)
    s.spawn(renamed, f'"{renamed}" update', ps, hits=(HASH_PIVOT,), near=(GRAMMAR,), binary="ngrok")
    plan.place(s)


def _persistent_rdp_service(plan: Planner) -> None:
    """srv-db-01, frank: installs ngrok as a service exposing RDP, then tries a renamed v2 agent as well."""
    s = plan.script("srv-db-01")
    ps = s.spawn("powershell", POWERSHELL, s.proc("explorer"), integrity="High")
    ngrok, config = "C:\\ProgramData\\ngrok\\ngrok.exe", "C:\\ProgramData\\ngrok\\ngrok.yml"
    s.file(ps, config, near=(CONFIG_FILE,))  # written by hand, outside the paths ngrok itself uses
    s.spawn(
        ngrok,
        f'"{ngrok}" service install --config {config}',
        ps,
        integrity="High",
        expect="match",
        hits=(GRAMMAR, REMOTE),
    )
    s.wait(5, 30)
    service = s.spawn(
        ngrok,
        f'"{ngrok}" service run --config {config}',
        s.proc("services"),
        account="system",
        integrity="System",
        cwd="C:\\Windows\\system32\\",
        expect="match",
        hits=(GRAMMAR,),
        near=(REMOTE,),
    )
    s.dns(service, "connect.us.ngrok-agent.com", hits=(AGENT_HOSTS,), results=_NGROK_CONNECT)
    s.connect(service, "3.134.73.173", 443, "connect.us.ngrok-agent.com", hits=(NETWORK,))
    s.wait(300, 900)
    v2 = "C:\\Windows\\Temp\\sqlwriter64.exe"
    s.spawn(
        v2,
        f"{v2} tcp -region=eu -authtoken {_AUTHTOKEN} 3389",
        ps,
        integrity="High",
        expect="",
        hits=(GRAMMAR, REMOTE),
        binary="ngrok",
    )
    s.dns(ps, "tunnel.eu.ngrok.com", expect="match", hits=(AGENT_HOSTS,))
    plan.place(s)


def _ngrok_over_ssh(plan: Planner) -> None:
    """wks-001, alice: an ngrok tunnel through ngrok's SSH gateway, no ngrok binary; and ordinary SSH next to it."""
    s = plan.script("wks-001")
    ps = s.spawn("powershell", POWERSHELL, s.proc("explorer"))
    ssh = s.spawn(
        "ssh",
        "ssh -R 443:localhost:8080 v2@connect.ngrok-agent.com http",
        ps,
        hits=(OVER_SSH,),
        near=(GRAMMAR, OTHER_CLIENTS),
    )
    s.dns(ssh, "connect.ngrok-agent.com", hits=(AGENT_HOSTS,), results=_NGROK_CONNECT)
    s.connect(ssh, "3.20.27.198", 22, "connect.ngrok-agent.com", hits=(NETWORK,))
    s.wait(60, 600)
    s.spawn("ssh", "ssh -R 8080:localhost:80 jump.corp.example.com", ps, near=(OVER_SSH, OTHER_CLIENTS))
    s.spawn("ssh", "ssh admin@connect.ngrok-agent.com.example.net", ps, near=(OVER_SSH,))
    s.spawn("nslookup", "nslookup connect.ngrok-agent.com", ps, near=(OVER_SSH, GRAMMAR))
    plan.place(s)


def _endpoint_visits(plan: Planner) -> None:
    """wks-003, carol: opens links to ngrok endpoints, RDPs to a TCP endpoint, visits ngrok's own web site."""
    s = plan.script("wks-003")
    explorer = s.proc("explorer")
    chrome = s.spawn("chrome", CHROME, explorer)
    for name, address in (
        ("payroll-portal.ngrok-free.dev", "18.158.249.75"),
        ("shop-7f3a.ngrok.app", "3.125.209.94"),
        ("api-demo.ngrok.dev", "3.125.209.94"),
        ("party.ngrok.pizza", "3.125.209.94"),
    ):
        s.dns(chrome, name, hits=(ENDPOINTS,), results=f"::ffff:{address};")
        s.wait(5, 90)
    s.dns(
        chrome,
        "invoice-portal.contoso-billing.example",
        hits=(CNAME,),
        results="type:  5 3k9x2m7f5a.6b3c.ngrok-cname.com;::ffff:3.20.27.198;",
    )
    s.dns(
        chrome, "status.example.org", near=(CNAME,), results="type:  5 ngrok-cname.com.example.net;::ffff:192.0.2.10;"
    )
    s.dns(
        chrome,
        "dashboard.ngrok.com",
        expect="match",
        near=(AGENT_HOSTS, ENDPOINTS, DOWNLOADS),
        results="::ffff:3.125.209.94;",
    )
    s.dns(chrome, "ngrok-free.app", near=(ENDPOINTS,), results="::ffff:3.124.67.191;")
    s.dns(chrome, "ngrok-free.app.example.net", near=(ENDPOINTS,), results="")
    s.dns(chrome, "connect.ngrok-agent.com.example.net", near=(AGENT_HOSTS,), results="")
    rdp = s.spawn(
        "mstsc", '"C:\\Windows\\system32\\mstsc.exe" /v:4.tcp.us-cal-1.ngrok.io:12345', explorer, near=(GRAMMAR, REMOTE)
    )
    s.dns(rdp, "4.tcp.us-cal-1.ngrok.io", expect="match", hits=(ENDPOINTS,), results="::ffff:52.8.236.79;")
    s.connect(rdp, "52.8.236.79", 12345, "4.tcp.us-cal-1.ngrok.io", near=(NETWORK,))
    plan.place(s)


def _cloudflare_and_friends(plan: Planner) -> None:
    """wks-058, erin: a Cloudflare quick tunnel to RDP, localtunnel, bore and localhost.run, and look-alikes."""
    s = plan.script("wks-058")
    explorer = s.proc("explorer")
    shell = s.spawn("cmd", CMD, explorer)
    cloudflared = f"{s.home}\\Downloads\\cloudflared-windows-amd64.exe"
    quick = s.spawn(
        cloudflared,
        "cloudflared-windows-amd64.exe tunnel --url http://localhost:3389",
        shell,
        hits=(OTHER_CLIENTS,),
        near=(GRAMMAR, REMOTE),
    )
    s.dns(quick, "api.trycloudflare.com", hits=(OTHER_DNS,), results="::ffff:104.16.230.132;::ffff:104.16.231.132;")
    s.dns(quick, "region1.v2.argotunnel.com", hits=(OTHER_DNS,), results="::ffff:198.41.192.7;::ffff:198.41.192.27;")
    s.connect(quick, "198.41.192.7", 7844, "region1.v2.argotunnel.com", near=(NETWORK,))
    s.spawn(cloudflared, "cloudflared-windows-amd64.exe update", shell, near=(OTHER_CLIENTS, HASH_PIVOT))
    s.wait(60, 600)
    lt = s.spawn(
        "node",
        '"C:\\Program Files\\nodejs\\node.exe" '
        f'"{s.home}\\AppData\\Roaming\\npm\\node_modules\\localtunnel\\bin\\lt.js" --port 8000',
        shell,
        hits=(OTHER_CLIENTS,),
        near=(GRAMMAR,),
    )
    s.dns(lt, "localtunnel.me", hits=(OTHER_DNS,), results="::ffff:193.34.76.44;")
    s.dns(lt, "loca.lt", hits=(OTHER_DNS,), results="::ffff:193.34.76.44;")
    bore = s.spawn(
        f"{s.home}\\tools\\bore.exe",
        f"{s.home}\\tools\\bore.exe local 22 --to bore.pub",
        shell,
        hits=(OTHER_CLIENTS,),
        near=(GRAMMAR, REMOTE),
    )
    s.dns(bore, "bore.pub", hits=(OTHER_DNS,), results="::ffff:159.223.171.199;")
    ssh = s.spawn("ssh", "ssh -R 80:localhost:8080 nokey@localhost.run", shell, hits=(OTHER_CLIENTS,), near=(OVER_SSH,))
    s.dns(ssh, "localhost.run", hits=(OTHER_DNS,), results="::ffff:54.82.85.249;")
    chrome = s.spawn("chrome", CHROME, explorer)
    for name in ("tired-owl-example-demo.trycloudflare.com", "quick-fox-7.loca.lt", "9f8e7d6c5b4a.lhr.life"):
        s.dns(chrome, name, hits=(OTHER_DNS,), results="::ffff:104.16.230.132;")
    for name in ("developers.cloudflare.com", "trycloudflare.com", "bore.pub.example.com"):
        s.dns(chrome, name, near=(OTHER_DNS,), results="::ffff:104.16.2.189;")
    plan.place(s)


def _ssh_services_and_dev_tunnels(plan: Planner) -> None:
    """wks-001, alice: serveo and pinggy over SSH, a Microsoft dev tunnel and a VS Code tunnel."""
    s = plan.script("wks-001")
    explorer = s.proc("explorer")
    ps = s.spawn("powershell", POWERSHELL, explorer)
    serveo = s.spawn("ssh", "ssh -R 80:localhost:3000 serveo.net", ps, hits=(OTHER_CLIENTS,), near=(OVER_SSH,))
    s.dns(serveo, "serveo.net", hits=(OTHER_DNS,), results="::ffff:138.68.79.95;")
    pinggy = s.spawn("ssh", "ssh -p 443 -R0:localhost:8000 a.pinggy.io", ps, hits=(OTHER_CLIENTS,))
    s.dns(pinggy, "a.pinggy.io", hits=(OTHER_DNS,), results="::ffff:34.87.117.51;")
    devtunnel = f"{s.home}\\AppData\\Local\\Microsoft\\DevTunnels\\devtunnel.exe"
    host = s.spawn(devtunnel, f"{devtunnel} host -p 5000 --allow-anonymous", ps, hits=(OTHER_CLIENTS,))
    s.dns(
        host,
        "x7k2m9-5000.euw.devtunnels.ms",
        hits=(OTHER_DNS,),
        results="type:  5 tunnels-prod-rel-euw-v3-cluster.westeurope.cloudapp.azure.com;::ffff:20.103.221.187;",
    )
    code = f'"{s.home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"'
    s.spawn("code", f"{code} tunnel", explorer, hits=(OTHER_CLIENTS,))
    s.spawn("code", f"{code} --list-extensions", explorer, near=(OTHER_CLIENTS,))
    chrome = s.spawn("chrome", CHROME, explorer)
    s.dns(chrome, "rnxyz-203-0-113-9.a.free.pinggy.link", hits=(OTHER_DNS,), results="::ffff:34.87.117.51;")
    s.dns(chrome, "5b2c8d1e9f7a.serveousercontent.com", hits=(OTHER_DNS,), results="::ffff:138.68.79.95;")
    s.dns(chrome, "pinggy.io", near=(OTHER_DNS,), results="::ffff:34.87.117.51;")
    plan.place(s)


def _admin_look_alikes(plan: Planner) -> None:
    """srv-web-01, frank: everyday admin commands that share words with tunnel command lines."""
    s = plan.script("srv-web-01")
    ps = s.spawn("powershell", POWERSHELL, s.proc("explorer"), integrity="High")
    tunnel_words = (GRAMMAR, REMOTE, OTHER_CLIENTS)
    for image, command in (
        ("python", "python.exe -m http.server 8000"),
        ("curl", "curl.exe http://intranet.corp.example.com/health"),
        ("netsh", "netsh http add urlacl url=http://+:8080/ user=Everyone"),
        ("netstat", "netstat -an -p tcp 5"),
        (
            "powershell",
            'powershell.exe New-NetFirewallRule -DisplayName "RDP" -Direction Inbound -Protocol TCP '
            "-LocalPort 3389 -Action Allow",
        ),
        (
            "reg",
            'reg add "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2'
            '\\Server" /v Enabled /t REG_DWORD /d 1 /f',
        ),
        ("git", "git.exe config --global http.proxy http://proxy.corp.example.com:8080"),
        ("ssh", "ssh -L 13389:srv-db-01.corp.example.com:3389 jump.corp.example.com"),
    ):
        s.spawn(image, command, ps, integrity="High", near=tunnel_words)
        s.wait(5, 60)
    plan.place(s)


_FIXED_SCENARIOS = (
    _download_and_start,
    _web_shell_rdp,
    _developer_tunnels,
    _share_local_app,
    _rdp_through_tunnel,
    _curious_user,
    _renamed_agent,
    _renamed_v3_agent,
    _persistent_rdp_service,
    _ngrok_over_ssh,
    _endpoint_visits,
    _cloudflare_and_friends,
    _ssh_services_and_dev_tunnels,
    _admin_look_alikes,
)

# --- scenarios added in proportion to the dataset size -----------------------------------------------


def _extra_run(plan: Planner) -> None:
    """Another user somewhere starts ngrok from a shell: one process match and one DNS match."""
    rng = plan.rng
    s = plan.script(rng.choice(HOSTS)[0])
    port = rng.choice((80, 443, 3000, 5000, 8000, 8080, 8443, 22, 3389))
    region = rng.choice(_REGIONS)
    path = rng.choice(
        (
            f"{s.home}\\Downloads\\ngrok.exe",
            f"{s.home}\\Downloads\\ngrok-v3-stable-windows-amd64\\ngrok.exe",
            "C:\\ngrok\\ngrok.exe",
            f"{s.home}\\AppData\\Local\\Temp\\ngrok.exe",
        )
    )
    command = rng.choice(
        (
            f"ngrok.exe http {port}",
            f"ngrok tcp {port}",
            f'"{path}" http https://localhost:{port}',
            f"ngrok.exe tcp {port} --region {region}",
            f"ngrok.exe start web --config {s.home}\\ngrok.yml",
            f'ngrok http {port} --authtoken {_AUTHTOKEN} --url "https://demo-{port}.ngrok.dev"',
        )
    )
    shell_key = rng.choice(("cmd", "powershell"))
    shell = s.spawn(shell_key, f'"{IMAGES[shell_key][0]}"', s.proc("explorer"))
    s.wait(2, 60)
    agent = s.spawn(path, command, shell, expect="match")
    s.loads(agent, 2)
    query = f"tunnel.{region}.ngrok.com"
    s.dns(agent, query, expect="match")
    s.connect(agent, NGROK_RESULTS[query].split(";")[0].removeprefix("::ffff:"), 443)
    s.wait(60, 900)
    s.exit(agent)
    plan.place(s)


def _extra_near_miss(plan: Planner) -> None:
    """A look-alike name lookup in a browser somewhere; the detections must stay quiet."""
    rng = plan.rng
    host = rng.choice([spec[0] for spec in HOSTS if spec[2] == "wks"])
    s = plan.script(host)
    chrome = s.spawn("chrome", CHROME, s.proc("explorer"))
    s.dns(chrome, rng.choice(_NEAR_MISS_DNS), expect="near", near=(AGENT_HOSTS, ENDPOINTS))
    plan.place(s)


def plan_scenarios(world: Sysmon, rng: random.Random, start: int, span: int, events: int) -> Planner:
    """All planted scenarios for a dataset of `events` events."""
    plan = Planner(world, rng, start, span)
    for scenario in (*_FIXED_SCENARIOS, *TUNNEL_SCENARIOS):
        scenario(plan)
    if sum(item.channel == "sysmon" for item in plan.events) > MIN_EVENTS // 2:
        raise AssertionError("fixed scenarios outgrew MIN_EVENTS")
    for _ in range(events // _EXTRA_RUN_EVERY):
        _extra_run(plan)
    for _ in range(events // _EXTRA_MISS_EVERY):
        _extra_near_miss(plan)
    plan.events.sort(key=lambda planned: (planned.ticks, planned.seq))
    return plan
