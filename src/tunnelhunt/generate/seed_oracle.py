"""Ground truth for the two seed detections, written from what their SPL asks, not by running it.

Why: "Ngrok Reverse Proxy on Network" and "Windows Ngrok Reverse Proxy Usage" are Splunk's own
searches; the generator records which planted events each must find by applying their documented
semantics here (case-insensitive whole-value wildcards, process_name as the file name of Image,
keywords as substrings), so the end-to-end test compares the compiled SQL with an independent reading.
"""

from __future__ import annotations

import re

from tunnelhunt.generate.oracle import basename

_DNS_PATTERNS = ("*.ngrok.com", "*.ngrok.io", "ngrok.*.tunnel.com", "korgn.*.lennut.com")
_PROCESS_KEYWORDS = ("start", "--config", "http", "authtoken", "tcp")


def _wildcard(pattern: str) -> re.Pattern[str]:
    """Splunk `field=pattern`: case-insensitive, whole value, `*` matches any run of characters."""
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.IGNORECASE | re.DOTALL)


_DNS_REGEXES = tuple(_wildcard(pattern) for pattern in _DNS_PATTERNS)


def dns_detection_matches(query: str) -> bool:
    """What "Ngrok Reverse Proxy on Network" asks of DNS.query; used to check the planted data."""
    return any(regex.fullmatch(query) for regex in _DNS_REGEXES)


def process_detection_matches(image: str, command_line: str) -> bool:
    """What "Windows Ngrok Reverse Proxy Usage" asks of process_name and process."""
    return basename(image).lower() == "ngrok.exe" and any(word in command_line.lower() for word in _PROCESS_KEYWORDS)
