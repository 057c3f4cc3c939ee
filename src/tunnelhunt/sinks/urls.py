"""Sink URLs hold secrets (a `user:pass@`, a `?token=`, a webhook path that is itself the key): they
are sent, never shown. What reports print and what names a spool folder is the redacted form."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit


@dataclass(frozen=True)
class SinkUrl:
    """A sink URL as sent (no userinfo), its basic-auth header, and how it may be shown."""

    target: str
    authorization: str | None
    shown: str
    digest: str

    @property
    def host(self) -> str:
        return urlsplit(self.target).hostname or "host"


def parse_sink_url(url: str) -> SinkUrl:
    """Split `scheme://user:pass@host:port/path?query`: credentials become a Basic `Authorization`
    header (urllib would otherwise send the URL without them); the shown form keeps the scheme, host
    and port, masks the rest, and adds a digest of the whole URL so two sinks stay distinguishable."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    user = "***@" if parts.username is not None else ""
    rest = "/…" if parts.path.strip("/") else ""
    rest += "?…" if parts.query else ""
    return SinkUrl(target, authorization, f"{parts.scheme}://{user}{netloc}{rest} [{digest}]", digest)


def spool_folder(kind: str, url: SinkUrl) -> str:
    """A spool folder name that tells sinks apart without holding any part of a secret."""
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", url.host)[:80]
    return f"{kind}-{host}-{url.digest}"
