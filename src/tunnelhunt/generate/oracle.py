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

DNS_DETECTIONS = (AGENT_HOSTS, ENDPOINTS, DOWNLOADS, OTHER_DNS)
PROCESS_DETECTIONS = (GRAMMAR, REMOTE, OVER_SSH, OTHER_CLIENTS)
ALL_DETECTIONS = (*DNS_DETECTIONS, CNAME, *PROCESS_DETECTIONS, NETWORK, CONFIG_FILE, HASH_PIVOT)
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


def dns_hits(query: str) -> set[str]:
    """The query-based DNS detections that find a lookup of `query`."""
    checks = {AGENT_HOSTS: _AGENT_HOSTS, ENDPOINTS: _ENDPOINTS, DOWNLOADS: _DOWNLOADS, OTHER_DNS: _OTHER_DNS}
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
