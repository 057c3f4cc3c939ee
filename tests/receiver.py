"""A real HTTP receiver on 127.0.0.1 for sink tests: records requests, can answer errors or go away."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def hec_events(self) -> list[dict[str, Any]]:
        decoder = json.JSONDecoder()
        text, position, events = self.body.decode("utf-8"), 0, []
        while position < len(text):
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text):
                break
            event, position = decoder.raw_decode(text, position)
            events.append(event)
        return events


@dataclass
class Receiver:
    """Answers `status` (and `body`) to every POST; `requests` keeps what arrived with a 2xx."""

    status: int = 200
    body: bytes = b'{"text":"Success","code":0}'
    requests: list[Received] = field(default_factory=list)
    refused: int = 0
    server: ThreadingHTTPServer | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                data = self.rfile.read(length)
                if 200 <= receiver.status < 300:
                    receiver.requests.append(Received(self.path, dict(self.headers), data))
                else:
                    receiver.refused += 1
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@contextmanager
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    try:
        yield running
    finally:
        running.stop()
