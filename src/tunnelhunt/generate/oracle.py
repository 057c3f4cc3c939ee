"""Ground truth for the tunnel detections beyond the seeds, written independently of their SPL.

Why: the generator records which planted events each detection must find. Deriving that from the
detections' own wildcard lists would let a wrong pattern vouch for itself; these are regular
expressions written from the intent (the ngrok command-line grammar, the services' domains), so the
end-to-end test compares two independent readings of the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable

AGENT_HOSTS = "Ngrok Agent Hosts in DNS"
ENDPOINTS = "Ngrok Endpoint Domains in DNS"
CNAME = "Ngrok Custom Domain CNAME in DNS"
DOWNLOADS = "Ngrok Download or Update Hosts in DNS"
OTHER_DNS = "Tunnel Service Domains in DNS"
GRAMMAR = "Ngrok Agent Command Line on Any Binary"
REMOTE = "Ngrok Agent Exposing Remote Access or Installed as Service"
OVER_SSH = "Ngrok Tunnel over SSH"
OTHER_CLIENTS = "Tunnel Service Client Command Line"
NETWORK = "Ngrok Agent Network Connection"
CONFIG_FILE = "Ngrok Configuration File Written"
HASH_PIVOT = "Ngrok Agent Binary Known by Hash"  # a behaviour analytic: the generator knows which files are ngrok
# protocol tunnelling beyond the tunnel services (issue 16)
SSH_FORWARDING = "SSH Client Port Forwarding"
SSH_REMOTE_ACCESS = "SSH Tunnel to Remote Access Port or Loopback"
NETSH_PORT_PROXY = "Netsh Port Proxy Rule Added"
IP_HELPER = "IP Helper Service Started or Enabled from Command Line"
PROXY_TOOLS = "Tunnel or Proxy Tool Command Line"
CURRENT_CLIENTS = "Current Tunnel Service Client Command Line"
CURRENT_DNS = "Current Tunnel Service Domains in DNS"
RDP_LOOPBACK_LOGON = "RDP Logon from Loopback Address"
RDP_LOOPBACK_CONNECTION = "RDP Connection over Loopback"
PORT_PROXY_REGISTRY = "Port Proxy Rule in Registry"

DNS_DETECTIONS = (AGENT_HOSTS, ENDPOINTS, DOWNLOADS, OTHER_DNS, CURRENT_DNS)
PROCESS_DETECTIONS = (
    GRAMMAR, REMOTE, OVER_SSH, OTHER_CLIENTS, SSH_FORWARDING, SSH_REMOTE_ACCESS, NETSH_PORT_PROXY, IP_HELPER,
    PROXY_TOOLS, CURRENT_CLIENTS,
)  # fmt: skip
ALL_DETECTIONS = (
    *DNS_DETECTIONS, CNAME, *PROCESS_DETECTIONS, NETWORK, CONFIG_FILE, HASH_PIVOT, RDP_LOOPBACK_LOGON,
    RDP_LOOPBACK_CONNECTION, PORT_PROXY_REGISTRY,
)  # fmt: skip
#: The detections whose findings teach the hash analytic which files are ngrok (besides the seed's).
HASH_TEACHERS = (GRAMMAR, REMOTE)


def _names(*patterns: str) -> re.Pattern[str]:
    return re.compile("^(?:" + "|".join(patterns) + ")$", re.IGNORECASE)


_LABEL = r"[^.\s]+"
_AGENT_HOSTS = _names(
    rf"connect\.(?:{_LABEL}\.)?ngrok-agent\.com", rf"tunnel\.(?:{_LABEL}\.)?ngrok\.com",
    r"korgn\..+\.lennut\.com", r"ngrok\..+\.tunnel\.com",
)  # fmt: skip
_ENDPOINTS = _names(r".+\.(?:ngrok-free\.app|ngrok-free\.dev|ngrok\.app|ngrok\.dev|ngrok\.pizza|ngrok\.io)")
_CNAME = _names(r".+\.ngrok-cname\.com")
_DOWNLOADS = _names(
    r"(?:bin|dl|update)\.equinox\.io", r"(?:update|crl)\.ngrok-agent\.com", r"crl\.ngrok\.com",
    r"ngrok-agent\.s3\.amazonaws\.com",
)  # fmt: skip
_OTHER_DNS = _names(
    r".+\.(?:trycloudflare\.com|argotunnel\.com|cfargotunnel\.com)", r"(?:.+\.)?localtunnel\.me", r"(?:.+\.)?loca\.lt",
    r"(?:.+\.)?localhost\.run", r".+\.lhr\.life", r"(?:.+\.)?serveo\.net", r".+\.serveousercontent\.com",
    r"(?:a|free)\.pinggy\.io", r".+\.(?:pinggy\.link|pinggy-free\.link|devtunnels\.ms)", r"bore\.pub",
)  # fmt: skip
#: Names the older DNS detections leave out: cloudflared's 2023 edge, the dev tunnels relay, zrok's shares and
#: API, localtonet, playit; Tailscale Funnel's `*.ts.net` cannot be told from a tailnet's own names.
_CURRENT_DNS = _names(
    r"(?:.+\.)?cftunnel\.com", r".+\.rel\.tunnels\.api\.visualstudio\.com", r".+\.share\.zrok\.io",
    r"api(?:-v1)?\.zrok\.io", r".+\.localto\.net", r"localtonet\.com", r".+\.(?:playit\.gg|ply\.gg|joinmc\.link)",
)  # fmt: skip


def dns_hits(query: str) -> set[str]:
    """The query-based DNS detections that find a lookup of `query`."""
    checks = {
        AGENT_HOSTS: _AGENT_HOSTS, ENDPOINTS: _ENDPOINTS, DOWNLOADS: _DOWNLOADS, OTHER_DNS: _OTHER_DNS,
        CURRENT_DNS: _CURRENT_DNS,
    }  # fmt: skip
    return {name for name, regex in checks.items() if regex.match(query)}


def cname_rows(query: str, answers: list[str]) -> list[str]:
    """The answers the CNAME detection reports for a lookup (every answer when the query itself is the target)."""
    if _CNAME.match(query):
        return answers or ["null"]
    return [answer for answer in answers if _CNAME.match(answer)]


# --- process command lines -------------------------------------------------------------------------------

_V3_FLAGS = (
    "url|domain|hostname|subdomain|region|authtoken|config|basic-auth|oauth|traffic-policy-file|remote-addr"
    "|host-header|binding|log"
)
_V2_FLAGS = "auth|region|subdomain|hostname|config|log|remote-addr|bind-tls|host-header|inspect"
#: `<any binary> http|tcp|tls` and then what ngrok expects: a port or address (not a version such as
#: "TLS 1.2"), localhost, an upstream URL (http only), or one of ngrok's own flags.
_TUNNEL = re.compile(
    rf"\s(?:http|tcp|tls)\s(?:[02-9]|1\d|localhost|-(?:{_V2_FLAGS})|--(?:{_V3_FLAGS}))|\shttp\s(?:https?|file)://",
    re.IGNORECASE,
)
_OTHER_GRAMMAR = re.compile(
    r"\sstart\s(?:--all|--none|-{1,2}config)|\sstart\s.*\s-{1,2}config.*\.y.*ml|--config.*ngrok.*\.y.*ml"
    r"|\sconfig\sadd-(?:authtoken|api-key)\s|\sauthtoken\s|-authtoken|ngrok_authtoken"
    r"|\sservice\sinstall\s-{1,2}config|\stunnel\s--label\s",
    re.IGNORECASE,
)
_NOT_NGROK = re.compile(r"\s-{1,2}protocol\s|\saccess\stcp\s", re.IGNORECASE)
_NOT_NGROK_IMAGES = {"netstat.exe", "netstat", "netsh.exe"}
_REMOTE_PORTS = "3389|22|445|5985|5986"
_REMOTE = re.compile(
    rf"\stcp\s(?:.*:)?(?:{_REMOTE_PORTS})(?:\s|$)|\stcp\s-.*\s(?:{_REMOTE_PORTS})(?:\s|$)"
    r"|\sservice\sinstall\s-{1,2}config",
    re.IGNORECASE,
)
_SSH_CLIENTS = {"ssh", "ssh.exe", "plink", "plink.exe", "klink.exe", "autossh", "dbclient"}
_REMOTE_FORWARD = re.compile(r"\s-R|\s-.*R\s", re.IGNORECASE)
_NGROK_GATEWAY = re.compile(
    rf"[@\s](?:connect\.(?:{_LABEL}\.)?ngrok-agent\.com|tunnel\.(?:{_LABEL}\.)?ngrok\.com)(?:\s|$)", re.IGNORECASE
)
_SSH_SERVICES = re.compile(
    r"[@\s](?:(?:ssh\.)?localhost\.run|serveo\.net|(?:a|free)\.pinggy\.io)(?:\s|$)", re.IGNORECASE
)
_CLIENTS = re.compile(
    r"\stunnel\s(?:.*\s)?--url|\stunnel\s(?:.*\s)?run\s--token\s|\sservice\sinstall\seyJ"  # cloudflared
    r"|(?:localtunnel|lt\.js).*\s(?:--port|-p\s)|(?:^|[\s/\\])lt\s(?:--port|-p\s)"  # localtunnel
    r"|(?:^|\s)devtunnel(?:\.exe)?\shost|\\devtunnel\.exe\"?\shost|/devtunnel\shost"  # dev tunnels
    r"|^code\stunnel(?:\s|$)|^code\.exe\stunnel|\\code\.exe\"?\stunnel|/code\stunnel(?:\s|$)"  # VS Code
    r"|code-tunnel.*\stunnel"
    r"|^bore(?:\.exe)?\slocal\s|\\bore\.exe\"?\slocal\s|/bore\slocal\s|\slocal\s.*\s--to\sbore\.pub",  # bore
    re.IGNORECASE,
)


def basename(path: str) -> str:
    """The file name of a Windows or Unix path, as the add-ons derive process_name from the image path."""
    return re.split(r"[\\/]", path)[-1]


def process_hits(image: str, command: str) -> set[str]:
    """The process detections that find a process started from `image` with `command`."""
    return set(process_rows(image, command))


def process_rows(image: str, command: str) -> dict[str, dict[str, str]]:
    """The process detections that find a process start, each with the fields its row adds (`tool`, ...)."""
    return {name: {} for name in _ngrok_process_hits(image, command)} | protocol_tunnel_rows(image, command)


def _ngrok_process_hits(image: str, command: str) -> set[str]:
    name = basename(image).lower()
    hits: set[str] = set()
    ngrok_like = not _NOT_NGROK.search(command) and name not in _NOT_NGROK_IMAGES
    if ngrok_like and (_TUNNEL.search(command) or _OTHER_GRAMMAR.search(command)):
        hits.add(GRAMMAR)
    if ngrok_like and _REMOTE.search(command):
        hits.add(REMOTE)
    ssh = name in _SSH_CLIENTS and bool(_REMOTE_FORWARD.search(command))
    if ssh and _NGROK_GATEWAY.search(command):
        hits.add(OVER_SSH)
    if _CLIENTS.search(command) or (ssh and _SSH_SERVICES.search(command)):
        hits.add(OTHER_CLIENTS)
    return hits


# --- connections and files ----------------------------------------------------------------------------------

_CONFIG_PATHS = re.compile(
    r".*\\AppData\\Local\\ngrok\\ngrok\.yml|.*[\\/]\.ngrok2[\\/]ngrok\.yml|.*/\.config/ngrok/ngrok\.yml"
    r"|.*/Library/Application Support/ngrok/ngrok\.yml",
    re.IGNORECASE,
)


def network_hits(hostname: str) -> set[str]:
    """A connection whose destination host name is an ngrok agent ingress."""
    name = (hostname or "").lower()
    return {NETWORK} if _AGENT_HOSTS.match(name) and not name.startswith(("korgn.", "ngrok.")) else set()


def file_hits(path: str) -> set[str]:
    """A file written at one of ngrok's v2/v3 configuration paths."""
    return {CONFIG_FILE} if _CONFIG_PATHS.fullmatch(path) else set()


Oracle = Callable[..., set[str]]


# --- protocol tunnelling beyond ngrok (issue 16): one truth key per variant ---------------------------------
#
# Unlike the detection names above, these keys name *variants*: the detections written for them may
# split or join them, and read `tool`/`service` in each entry to do so. Written from the tools' own
# documented grammars; every planted event goes through them, so a variant seen by accident (an SSH
# forward in an older scenario, on Linux) is recorded too.

SSH_TUNNEL = "ssh_tunnel"
SSH_TUNNEL_HIGH_RISK = "ssh_tunnel_high_risk"
PORT_PROXY = "port_proxy"
PROXY_TOOL = "proxy_tool"
TUNNEL_SERVICE_CLIENT = "tunnel_service_client"
TUNNEL_SERVICE_DNS = "tunnel_service_dns"
TUNNEL_VARIANTS = (SSH_TUNNEL, SSH_TUNNEL_HIGH_RISK, PORT_PROXY, PROXY_TOOL, TUNNEL_SERVICE_CLIENT, TUNNEL_SERVICE_DNS)

_SSH_TUNNEL_CLIENTS = {"ssh", "plink", "putty", "klink", "autossh", "dbclient"}
#: OpenSSH/PuTTY forwards are case-sensitive flags (`-L` forwards, `-l` is the login name): `-L`, `-R` or
#: `-D` alone or closing a cluster of flags that take no value (`-NfR`), with the spec attached or next.
_SSH_FORWARD = re.compile(
    r"(?:^|\s)-[46AaCfGgKkMNnqsTtVvXxYy]*(?P<kind>[LRD])\s*(?P<spec>[^\s-]\S*)"
    r"|(?:^|\s)-o\s*[\"']?(?i:(?P<option>LocalForward|RemoteForward|DynamicForward))(?:\s*=\s*|\s+)[\"']?"
    r"(?P<ospec>[^\s\"']+(?:\s+[^\s\"'-][^\s\"']*)?)"
)
_REMOTE_ACCESS_PORTS = {"22", "445", "3389", "5985", "5986"}
_LOOPBACK = re.compile(r"^(?:127(?:\.\d{1,3}){3}|localhost|\[?::1\]?)$", re.IGNORECASE)


def _forward_target(spec: str) -> tuple[str, str] | None:
    """(host, port) a `-L`/`-R` spec `[bind:]port:host:hostport` forwards to; None for a SOCKS (`-D`) spec."""
    parts = re.split(r":(?![^\[]*\])", spec.strip('"').replace(" ", ":"))
    if len(parts) < 3:
        return None
    return parts[-2].strip("[]"), parts[-1]


def _ssh_tunnel(name: str, command: str) -> dict[str, str]:
    client = re.sub(r"\.exe$", "", name)
    if client not in _SSH_TUNNEL_CLIENTS:
        return {}
    forwards = list(_SSH_FORWARD.finditer(command))
    if not forwards:
        return {}
    hits = {SSH_TUNNEL: client}
    for forward in forwards:
        kind = forward.group("kind") or (forward.group("option") or "")[:1].upper()
        target = _forward_target(forward.group("spec") or forward.group("ospec") or "") if kind != "D" else None
        if target and (target[1] in _REMOTE_ACCESS_PORTS or _LOOPBACK.match(target[0])):
            hits[SSH_TUNNEL_HIGH_RISK] = client
    return hits


def _prefixes(word: str, shortest: int = 1) -> str:
    """Every abbreviation netsh accepts for a context or command: `i`, `in`, ... `interface`."""
    return "(?:" + "|".join(re.escape(word[:n]) for n in range(len(word), shortest - 1, -1)) + ")"


#: `netsh interface portproxy add|set v4tov4 ...`, every word abbreviable (`netsh I p a v l=8001 ...`);
#: `s` alone is not `set` (it is ambiguous with `show`).
_PORT_PROXY = re.compile(
    r"(?:^|[\s\\/\"'])netsh(?:\.exe)?[\"']?\s+(?:-[a-z]\s+\S+\s+)*"
    + _prefixes("interface") + r"\s+" + _prefixes("portproxy") + r"\s+(?:" + _prefixes("add") + "|"
    + _prefixes("set", 2) + r")\s+v(?:[46](?:t(?:o(?:v[46]?)?)?)?)?(?:\s|$)",
    re.IGNORECASE,
)  # fmt: skip

_GOST_SCHEMES = (
    r"(?:socks[45]a?|socks|ss|ssu|relay|rtcp|rudp|tcp|udp|redirect|redu|red|tun|tap|sni|dns|forward|ssh|sshd"
    r"|http2|h2c?|kcp|quic|mwss?|wss?|mtls|tls|otls|ohttp|obfs4|icmp)"
)
#: Each tool by what its command line must say to open a tunnel or proxy, whatever the binary is called
#: (rathole, iodine and localtonet have no grammar of their own beyond their name and config).
_PROXY_TOOLS: dict[str, re.Pattern[str]] = {
    "chisel": re.compile(
        r"\sclient\s(?:--?\S+(?:\s[^\s-]\S*)?\s)*\S+:\d+\S*\s+(?:\S+\s+)*R:\S+|\sclient\s.*\s(?:R:)?socks(?:\s|$)"
        r"|\sserver\s(?:.*\s)?--reverse(?:\s|$)",
        re.IGNORECASE,
    ),
    "frp": re.compile(
        r"\s-{1,2}c(?:onfig)?[\s=]\S*frp[cs]\S*\.(?:ini|toml|ya?ml|json)|\s--server[_-]addr[\s=]\S+"
        r"|\s--remote[_-]port[\s=]\d+",
        re.IGNORECASE,
    ),
    "ligolo-ng": re.compile(
        r"\s-connect\s\S+:\d+\s.*-(?:ignore-cert|accept-fingerprint|retry)|\s-(?:selfcert|autocert)\s"
    ),
    "gost": re.compile(
        # a listener (`-L`) or a hop of the forward chain (`-F`) as a URL of gost's schemes; plain http(s) only as
        # an empty-host listener (`-L http://:8080`), since `curl -L https://...` is not gost
        rf"\s-[LF][\s=][\"']?{_GOST_SCHEMES}(?:\+{_GOST_SCHEMES})*://|\s-L[\s=][\"']?(?:https?://)?(?:\S*@)?:\d+"
        rf"|\s-F[\s=][\"']?https?://",
    ),
    "socat": re.compile(
        r"(?:^|\s)(?:tcp[46]?-l(?:isten)?|udp[46]?-l(?:isten)?|openssl-listen|ssl-l|tcp[46]?|openssl|socks4a?"
        r"|proxy):[^\s]+\s+(?:tcp[46]?|udp[46]?|openssl|exec|system|socks4a?|proxy|tcp[46]?-l(?:isten)?"
        r"|stdio|-)(?::\S*|\s|$)",
        re.IGNORECASE,
    ),
    "revsocks": re.compile(r"\s-listen\s\S*:\d+\s(?:.*\s)?-socks\s|\s-connect\s\S+:\d+\s(?:.*\s)?-pass\s"),
    "rathole": re.compile(
        r"(?:^|[\s\\/\"])rathole(?:\.exe)?[\"']?\s+(?:-[cs]\s+|--(?:client|server)\s+)?\S+\.toml"
        r"|\s--(?:client|server)\s+\S+\.toml",
        re.IGNORECASE,
    ),
    "iodine": re.compile(r"(?:^|[\s\\/\"])iodined?(?:\.exe)?[\"']?\s(?:.*\s)?-P\s\S+\s", re.IGNORECASE),
    "dnscat2": re.compile(
        r"\s--dns[\s=](?:server|domain|port|type)=|dnscat2\.rb\s|(?:^|[\s;])Start-Dnscat2\s", re.IGNORECASE
    ),
}
_SERVICE_CLIENTS: dict[str, re.Pattern[str]] = {
    "cloudflare-tunnel": re.compile(
        r"\stunnel\s(?:.*\s)?(?:--url|run)(?:\s|$)|\sservice\sinstall\seyJ"
        r"|\saccess\s(?:tcp|rdp|ssh)\s(?:.*\s)?--(?:hostname|url)[\s=]",
        re.IGNORECASE,
    ),
    "microsoft-dev-tunnels": re.compile(
        r"devtunnel(?:\.exe)?[\"']?\s+(?:host|connect|create|port\s+create)(?:\s|$)", re.IGNORECASE
    ),
    "vscode-tunnel": re.compile(
        r"(?:^|[\s\\/\"])code(?:-tunnel|-insiders)?(?:\.exe)?[\"']?\s+tunnel"
        r"(?:\s+(?:(?!--help\b|--version\b)--\S+|service\s+install)(?:\s.*)?)?$",
        re.IGNORECASE,
    ),
    "tailscale-funnel": re.compile(
        r"tailscale(?:\.exe)?[\"']?\s+funnel\s+(?!(?:status|reset|--help|-h)(?:\s|$))\S", re.IGNORECASE
    ),
    "zrok": re.compile(
        r"\sshare\s+(?:public|private|reserved)\s|\sreserve\s+(?:public|private)\s|\saccess\s+private\s",
        re.IGNORECASE,
    ),
    "localtonet": re.compile(r"(?:^|[\s\\/\"])localtonet(?:\.exe)?[\"']?\s+(?:--)?authtoken\s", re.IGNORECASE),
    "playit": re.compile(
        r"(?:^|[\s\\/\"])playit(?:-[\w.-]+)?(?:\.exe)?[\"']?\s(?:.*\s)?(?:--secret(?:_path)?[\s=]|(?:start|run)(?:\s|$))",
        re.IGNORECASE,
    ),
    "pinggy": re.compile(r"\s-R\s?\S+.*[\s@](?:a|free)\.pinggy\.io(?:\s|$)"),
}
_TUNNEL_ZONES: dict[str, re.Pattern[str]] = {
    "cloudflare-tunnel": _names(r".+\.(?:trycloudflare\.com|argotunnel\.com|cfargotunnel\.com)"),
    "microsoft-dev-tunnels": _names(r".+\.devtunnels\.ms", r".+\.rel\.tunnels\.api\.visualstudio\.com"),
    "zrok": _names(r".+\.share\.zrok\.io"),
    "ngrok": _names(r"(?:crl|update)\.ngrok-agent\.com", r".+\.ngrok-free\.dev"),
}


def _named(patterns: dict[str, re.Pattern[str]], text: str) -> str | None:
    found = [name for name, regex in patterns.items() if regex.search(text)]
    return ",".join(found) if found else None


def tunnel_process_hits(image: str, command: str) -> dict[str, str]:
    """The tunnelling variants a process start shows, each with the tool or service it names."""
    name = basename(image).lower()
    hits = _ssh_tunnel(name, command)
    if _PORT_PROXY.search(command):
        hits[PORT_PROXY] = "netsh"
    tool = _named(_PROXY_TOOLS, command)
    if tool:
        hits[PROXY_TOOL] = tool
    service = _named(_SERVICE_CLIENTS, command)
    if service:
        hits[TUNNEL_SERVICE_CLIENT] = service
    return hits


def tunnel_dns_hits(query: str) -> dict[str, str]:
    """The tunnel-service zone a looked-up name is under, as {TUNNEL_SERVICE_DNS: service}."""
    service = next((name for name, regex in _TUNNEL_ZONES.items() if regex.match(query)), None)
    return {TUNNEL_SERVICE_DNS: service} if service else {}


# --- the protocol-tunnelling detections (issue 16), each read from its description -----------------------------
#
# These name detections again (unlike the variants above, which they are checked against when planted): the
# rows each detection must return. They reuse the variants' readings of a grammar where the detection's intent
# is the same (the SSH forward, netsh's abbreviations, a tool's own grammar) and differ where it is not
# (socat's reverse shell is no tunnel; the SOCKS forward of SSH is not high risk).

_SSH_DETECTION_CLIENTS = {"ssh", "plink", "putty", "kitty", "kitty_portable", "klink", "autossh", "dbclient"}
_HOST = r"(?:\[[^\]\s]+\]|[^:\s\[\]]+)"
#: `-L`/`-R [bind:]port:host:hostport` and `-D [bind:]port` (a unix socket or a remote SOCKS `-R port` is neither).
_LR_SPEC = re.compile(rf"(?:{_HOST}:)?\d+:(?P<host>{_HOST}):(?P<port>\d+)")
_D_SPEC = re.compile(rf"(?:{_HOST}:)?\d+")


def _ssh_forward_targets(name: str, command: str) -> list[tuple[str, str] | None] | None:
    """None unless an SSH client forwards a port; else each forward's (host, port) target (None: SOCKS)."""
    if re.sub(r"\.exe$", "", name) not in _SSH_DETECTION_CLIENTS:
        return None
    targets: list[tuple[str, str] | None] = []
    for forward in _SSH_FORWARD.finditer(command):
        kind = forward.group("kind") or (forward.group("option") or "")[:1].upper()
        raw = (forward.group("spec") or forward.group("ospec") or "").strip("\"'")
        # an option's value is one word (`-oRemoteForward=8022:localhost:22 host`) or, quoted, two
        # (`-o "LocalForward 8443 intranet:443"`): the first reading that is a whole forward counts
        for spec in (raw.split()[0] if raw else "", re.sub(r"\s+", ":", raw)):
            if kind == "D" and _D_SPEC.fullmatch(spec):
                targets.append(None)
                break
            if kind in ("L", "R") and (lr := _LR_SPEC.fullmatch(spec)):
                targets.append((lr.group("host").strip("[]"), lr.group("port")))
                break
    return targets or None


def _ssh_rows(name: str, command: str) -> dict[str, dict[str, str]]:
    """Forwards to a remote-access port or a loopback target score higher; every other forward is ordinary."""
    targets = _ssh_forward_targets(name, command)
    if targets is None:
        return {}
    risky = any(t and (t[1] in _REMOTE_ACCESS_PORTS or _LOOPBACK.match(t[0])) for t in targets)
    return {SSH_REMOTE_ACCESS if risky else SSH_FORWARDING: {}}


#: The IP Helper service (which runs port proxies) started or set to start, by sc, net or PowerShell.
_IP_HELPER = re.compile(
    r"(?:^|[\s\\/\"])sc(?:\.exe)?[\"']?\s+(?:\\\\\S+\s+)?(?:start\s+[\"']?iphlpsvc[\"']?(?:\s|$)"
    r"|config\s+[\"']?iphlpsvc[\"']?\s+(?:.*\s)?start=\s*(?!disabled\b)\w)"
    r"|(?:^|[\s\\/\"])net1?(?:\.exe)?[\"']?\s+start\s+[\"']?iphlpsvc[\"']?(?:\s|$)"
    r"|(?:Start|Restart)-Service\s+(?:-Name\s+)?[\"']?iphlpsvc\b"
    r"|Set-Service\s+(?:-Name\s+)?[\"']?iphlpsvc[\"']?\s+(?:.*\s)?-(?:StartupType\s+(?!Disabled\b)\w|Status\s+Running)",
    re.IGNORECASE,
)
#: The tools as the detection names them (first that applies), by what opens a tunnel: a chisel client with a
#: remote (reverse, SOCKS or local), a listener relayed to a connection for socat (not `EXEC:` shells), ...
_DETECTION_TOOLS: dict[str, re.Pattern[str]] = {
    "chisel": re.compile(
        r"\sclient\s(?:--?[\w-]+(?:[\s=][^\s-]\S*)?\s+)*\S+:\d+\S*(?:\s+\S+)*?"
        r"\s+(?:R:\S+|(?:R:)?socks|(?:[\w.]+:)?\d+:[^\s:]+:\d+)(?:\s|$)|\sserver\s(?:.*\s)?--(?:reverse|socks5)(?:\s|$)"
    ),
    "frp": re.compile(
        r"\s-{1,2}c(?:onfig)?[\s=]\S*frp[cs]?\S*\.(?:ini|toml|ya?ml|json)(?:\s|$)|\s--server[_-]addr[\s=]\S+",
        re.IGNORECASE,
    ),
    "ligolo-ng or revsocks": re.compile(r"\s-connect\s+\S+:\d+(?:\s|$)|\s-socks\s+\S*:\d+(?:\s|$)"),
    "gost": _PROXY_TOOLS["gost"],
    "socat": re.compile(
        r"(?:^|\s)(?:(?:tcp[46]?|udp[46]?|openssl)-l(?:isten)?:\d+\S*\s+(?:tcp[46]?|udp[46]?|openssl|socks4a?|proxy)"
        r"|(?:tcp[46]?|openssl):[^\s:]+:\d+\S*\s+(?:tcp[46]?|openssl)):\S+",
        re.IGNORECASE,
    ),
    "rathole": _PROXY_TOOLS["rathole"],
    "iodine": re.compile(
        r"(?:^|[\s\\/\"])iodined?(?:\.exe)?[\"']?\s(?:.*\s)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:\s|$)", re.IGNORECASE
    ),
    "dnscat2": _PROXY_TOOLS["dnscat2"],
}
_DOWNLOADERS = {"curl", "curl.exe", "wget", "wget.exe"}
#: Clients "Tunnel Service Client Command Line" does not know, by the grammar that opens a tunnel.
_CURRENT_CLIENTS: dict[str, re.Pattern[str]] = {
    "tailscale-funnel": re.compile(
        r"tailscaled?(?:\.exe)?[\"']?\s+(?:--\S+\s+)*funnel\s+(?!(?:status|reset|off)(?:\s|$))(?:--\S+\s+)*[^\s-]",
        re.IGNORECASE,
    ),
    "zrok": re.compile(r"zrok(?:\.exe)?[\"']?\s+share\s+(?:public|private|reserved)(?:\s|$)", re.IGNORECASE),
    "localtonet": re.compile(r"localtonet(?:\.exe)?[\"']?\s+(?:--)?authtoken[\s=]", re.IGNORECASE),
    "playit": re.compile(
        r"playit(?:-cli|-agent)?(?:\.exe)?[\"']?\s+(?:.*\s)?(?:--secret(?:_path)?[\s=]|start(?:\s|$))", re.IGNORECASE
    ),
    "cloudflare-tunnel": re.compile(r"\stunnel\s+(?:.*\s)?--hostname[\s=]", re.IGNORECASE),
    "ngrok": re.compile(r"(?:^|\s)--connect-url[\s=]\S+|connect_url[:=]", re.IGNORECASE),
}


def _first(patterns: dict[str, re.Pattern[str]], text: str) -> str | None:
    return next((name for name, regex in patterns.items() if regex.search(text)), None)


def protocol_tunnel_rows(image: str, command: str) -> dict[str, dict[str, str]]:
    """The protocol-tunnelling process detections that find a process start, each with the extra field of its
    row (`tool`, `service`)."""
    name = basename(image).lower()
    rows = _ssh_rows(name, command)
    if name in {"netsh.exe", "netsh"} and _PORT_PROXY.search(command):
        rows[NETSH_PORT_PROXY] = {}
    if _IP_HELPER.search(command):
        rows[IP_HELPER] = {}
    tool = None if name in _DOWNLOADERS else _first(_DETECTION_TOOLS, command)
    if tool:
        rows[PROXY_TOOLS] = {"tool": tool}
    service = _first(_CURRENT_CLIENTS, command)
    if service:
        rows[CURRENT_CLIENTS] = {"service": service}
    return rows


_LOOPBACK_ADDRESS = re.compile(r"^(?:(?:::ffff:)?127(?:\.\d{1,3}){3}|::1|0:0:0:0:0:0:0:1)$", re.IGNORECASE)


def reported_address(address: str) -> str:
    """An address as the Windows add-on reports it: an IPv4-mapped IPv6 address as the IPv4 one."""
    return re.sub(r"^::ffff:(\d+\.\d+\.\d+\.\d+)$", r"\1", address, flags=re.IGNORECASE)


def logon_hits(event_id: int, logon_type: int, address: str) -> set[str]:
    """A Remote Desktop logon (4624 type 10, or 1149 which only RDP writes) arriving from the host's own loopback."""
    rdp = event_id == 1149 or (event_id == 4624 and logon_type == 10)
    return {RDP_LOOPBACK_LOGON} if rdp and _LOOPBACK_ADDRESS.match(address) else set()


def connection_hits(src_ip: str, dest_ip: str, dest_port: int, allowed: bool = True) -> set[str]:
    """A local process reaching RDP on a loopback address from a loopback address: the near end of a tunnel."""
    loopback = _LOOPBACK_ADDRESS.match(src_ip) and _LOOPBACK_ADDRESS.match(dest_ip)
    return {RDP_LOOPBACK_CONNECTION} if allowed and loopback and dest_port == 3389 else set()


_PORT_PROXY_KEY = re.compile(r"\\Services\\PortProxy\\v[46]tov[46]\\", re.IGNORECASE)


def registry_hits(path: str, action: str) -> set[str]:
    """A port proxy rule written: a value created or set under Services\\PortProxy\\v4tov4 (v4tov6, ...)."""
    return {PORT_PROXY_REGISTRY} if action in {"created", "modified"} and _PORT_PROXY_KEY.search(path) else set()
