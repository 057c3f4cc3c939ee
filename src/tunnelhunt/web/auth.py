"""Who may use the server, and which requests may change things.

- Binding to anything but loopback requires a token; only its scrypt hash is kept. A browser logs in
  once (`/login`, the session id is then rotated); an API client sends `Authorization: Bearer TOKEN`.
- Every state-changing request from a browser session carries the session's CSRF token (an HMAC of the
  session id under a per-process key: nothing to store) and, when the browser says where it comes from
  (`Origin`, else `Referer`), must come from this server's own origin.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

COOKIE = "th_session"
CSRF_HEADER = "x-csrf-token"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_token(token: str) -> str:
    """`scrypt$salt$hash` (hex): what the server keeps of the token."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(token.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_token(token: str, stored: str) -> bool:
    kind, salt, digest = stored.split("$")
    if kind != "scrypt":
        return False
    given = hashlib.scrypt(token.encode("utf-8"), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(given.hex(), digest)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


class Guard:
    """The server's keys and logged-in sessions (in memory: a restart logs everyone out)."""

    def __init__(self, token_hash: str | None) -> None:
        self.token_hash = token_hash
        self._key = secrets.token_bytes(32)
        self._sessions: set[str] = set()

    @staticmethod
    def new_session() -> str:
        return secrets.token_urlsafe(32)

    def csrf(self, session: str) -> str:
        return hmac.new(self._key, session.encode("utf-8"), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf(session), token)

    def login(self, token: str) -> str | None:
        """A new logged-in session id when the token is right."""
        if self.token_hash is None or not verify_token(token, self.token_hash):
            return None
        session = self.new_session()
        self._sessions.add(session)
        return session

    def bearer(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return (
            self.token_hash is not None
            and header.lower().startswith("bearer ")
            and verify_token(header[7:].strip(), self.token_hash)
        )

    def allowed(self, request: Request, session: str) -> bool:
        return self.token_hash is None or session in self._sessions or self.bearer(request)


def same_origin(request: Request) -> bool:
    """The browser's `Origin` (or `Referer`) names this server; absent both (not a browser), True."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return claimed is None
    parts = urlsplit(claimed)
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{request.headers.get('host', '')}"
