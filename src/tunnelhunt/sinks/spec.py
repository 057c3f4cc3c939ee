"""Build sinks from `--sink` specifications: `jsonl:DIR`, `csv:DIR`, `hec:URL`, `webhook:URL`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.sinks.file_sink import FileSink
from tunnelhunt.sinks.outbox import Sink
from tunnelhunt.sinks.retry import RetryPolicy
from tunnelhunt.sinks.urls import parse_sink_url, spool_folder


class SinkSpecError(TunnelhuntError, ValueError):
    """A `--sink` value tunnelhunt cannot use."""


@dataclass(frozen=True)
class SinkOptions:
    """Settings the network sinks need besides their URL."""

    spool_root: Path
    hec_token: str | None = None
    hec_index: str | None = None
    retry: RetryPolicy = RetryPolicy()


SinkFactory = Callable[[str, str, SinkOptions], Sink]


def _file(kind: str, target: str, options: SinkOptions) -> Sink:
    return FileSink(Path(target), kind)


def _network(kind: str, target: str, options: SinkOptions) -> Sink:
    if not target.startswith(("http://", "https://")):
        raise SinkSpecError(f"--sink {kind}:{target!r}: the URL must start with http:// or https://")
    from tunnelhunt.sinks.http import HecSink, WebhookSink  # the HTTP client (urllib, ssl): only for a network sink

    spool = options.spool_root / spool_folder(kind, parse_sink_url(target))
    if kind == "webhook":
        return WebhookSink(target, spool, retry=options.retry)
    if not options.hec_token:
        raise SinkSpecError("a hec sink needs a token (--hec-token or TUNNELHUNT_HEC_TOKEN)")
    return HecSink(target, options.hec_token, spool, index=options.hec_index, retry=options.retry)


#: Sink kind (the part of `--sink` before the colon) → how to build it. Add a sink by adding a row.
SINKS: dict[str, SinkFactory] = {"jsonl": _file, "csv": _file, "hec": _network, "webhook": _network}


def build_sink(spec: str, options: SinkOptions) -> Sink:
    kind, sep, target = spec.partition(":")
    if not sep or not target:
        raise SinkSpecError(f"--sink {spec!r}: expected jsonl:DIR, csv:DIR, hec:URL or webhook:URL")
    factory = SINKS.get(kind.lower())
    if factory is None:
        raise SinkSpecError(f"--sink {spec!r}: unknown sink type {kind!r} ({', '.join(SINKS)})")
    return factory(kind.lower(), target, options)
