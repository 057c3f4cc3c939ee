"""Network sinks: Splunk's HTTP Event Collector and a generic JSON webhook, both spooled to disk.

Delivery is at least once and never lossy: items go to the spool (`sinks/spool.py`) before any request,
a batch leaves the spool only when the receiver answered 2xx, and failures are retried with exponential
back-off. While the receiver is down, batches wait on disk and go out, in order, once it is back.

HEC: `POST <url>/services/collector/event`, header `Authorization: Splunk <token>`, a body of
concatenated JSON event objects (`time`, `host`, `source`, `sourcetype`, `index`, `event`), one request
per batch. Webhook: one `POST` per item of the item as a JSON object with its `kind`.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tunnelhunt.sinks.outbox import KINDS, pages
from tunnelhunt.sinks.retry import RetryPolicy
from tunnelhunt.sinks.spool import Spool
from tunnelhunt.sinks.urls import parse_sink_url
from tunnelhunt.store.rba_store import RbaStore

#: HTTP statuses that mean "the data itself is bad": retrying cannot help, so the batch is set aside.
REJECTED = {400, 413, 422}


@dataclass
class Response:
    ok: bool
    retryable: bool
    detail: str


Request = tuple[bytes, dict[str, str]]


class HttpSink:
    """Spool first, then send; subclasses say how a batch becomes requests."""

    url: str

    def __init__(
        self,
        key: str,
        spool_dir: Path,
        batch_size: int,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = parse_sink_url(self.url)
        self.key = f"{key}:{self.endpoint.shown}"  # what reports print: no secret in it
        self.spool = Spool(spool_dir)
        self.batch_size = batch_size
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.failures = 0
        self.next_attempt = 0.0
        self.last_error: str | None = None
        self.sent = 0

    # --- taking items ------------------------------------------------------------------------------
    def deliver(self, rba: RbaStore) -> int:
        """Spool everything new from the store, then try to send what is spooled."""
        taken = 0
        for kind in KINDS:
            for first, last, items in pages(rba, kind, self.spool.cursor(kind), self.batch_size):
                self.spool.put(kind, items, first, last)
                taken += len(items)
        self.flush()
        return taken

    # --- sending -----------------------------------------------------------------------------------
    def flush(self, force: bool = False) -> int:
        """Send spooled batches in order; stop at the first that still fails after its retries."""
        if not force and self.clock() < self.next_attempt:
            return 0
        sent = 0
        for batch in self.spool.batches():
            items = batch.items()
            response = self._send_batch(batch.kind, items)
            if response.ok:
                self.spool.done(batch)
                sent += len(items)
                continue
            if not response.retryable:
                self.spool.reject(batch, response.detail)
                self.last_error = f"rejected {batch.path.name}: {response.detail}"
                continue
            self.failures += 1
            self.last_error = response.detail
            self.next_attempt = self.clock() + self.retry.delay(self.failures)
            return sent
        self.failures = 0
        self.sent += sent
        return sent

    def _send_batch(self, kind: str, items: list[dict[str, Any]]) -> Response:
        response = Response(False, True, "not sent")
        for body, headers in self.requests(kind, items):
            response = self._post_with_retry(body, headers)
            if not response.ok:
                return response
        return response

    def _post_with_retry(self, body: bytes, headers: dict[str, str]) -> Response:
        response = Response(False, True, "not sent")
        for attempt in range(1, self.retry.attempts + 1):
            response = self.post(body, headers)
            if response.ok or not response.retryable:
                return response
            if attempt < self.retry.attempts:
                self.sleep(self.retry.delay(attempt))
        return response

    def post(self, body: bytes, headers: dict[str, str]) -> Response:
        if self.endpoint.authorization and "Authorization" not in headers:
            headers = {**headers, "Authorization": self.endpoint.authorization}
        request = urllib.request.Request(self.endpoint.target, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.retry.timeout) as answer:  # noqa: S310 (URL from the user)
                return self.check(answer.status, answer.read())
        except urllib.error.HTTPError as exc:
            return self.check(exc.code, exc.read())
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Response(False, True, f"cannot reach {self.endpoint.shown}: {reason}")

    def check(self, status: int, body: bytes) -> Response:
        if 200 <= status < 300:
            return Response(True, False, "ok")
        detail = f"HTTP {status}: {body[:200].decode('utf-8', 'replace').strip()}"
        return Response(False, status not in REJECTED, detail)

    def requests(self, kind: str, items: list[dict[str, Any]]) -> list[Request]:
        raise NotImplementedError


def _epoch(value: Any) -> float | None:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


class HecSink(HttpSink):
    """Splunk HTTP Event Collector, JSON event endpoint."""

    def __init__(
        self,
        url: str,
        token: str,
        spool_dir: Path,
        index: str | None = None,
        host: str | None = None,
        batch_size: int = 100,
        **kwargs: Any,
    ) -> None:
        base = url.rstrip("/")
        self.url = base if base.endswith("/services/collector/event") else base + "/services/collector/event"
        super().__init__("hec", spool_dir, batch_size, **kwargs)
        self.token = token
        self.index = index
        self.host = host or socket.gethostname()

    def requests(self, kind: str, items: list[dict[str, Any]]) -> list[Request]:
        lines = []
        for item in items:
            event: dict[str, Any] = {
                "host": self.host,
                "source": "tunnelhunt",
                "sourcetype": f"tunnelhunt:{kind}",
                "event": item,
            }
            stamp = _epoch(item.get("_time"))
            if stamp is not None:
                event["time"] = stamp
            if self.index:
                event["index"] = self.index
            lines.append(json.dumps(event, ensure_ascii=False))
        body = "\n".join(lines).encode("utf-8")
        headers = {"Authorization": f"Splunk {self.token}", "Content-Type": "application/json"}
        return [(body, headers)]

    def check(self, status: int, body: bytes) -> Response:
        if status == 200:
            try:
                code = json.loads(body or b"{}").get("code", 0)
            except ValueError:
                code = 0
            if code not in (0, None):
                return Response(False, True, f"HEC code {code}: {body[:200].decode('utf-8', 'replace')}")
        return super().check(status, body)


class WebhookSink(HttpSink):
    """A JSON webhook: one POST per item, `{"kind": ..., <item fields>}`."""

    def __init__(self, url: str, spool_dir: Path, headers: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.url = url
        super().__init__("webhook", spool_dir, 1, **kwargs)
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    def requests(self, kind: str, items: list[dict[str, Any]]) -> list[Request]:
        return [
            (json.dumps({"kind": kind, **item}, ensure_ascii=False).encode("utf-8"), self.headers) for item in items
        ]
