"""File, HEC and webhook sinks: every item once, in order; HEC spools while the receiver is down."""

from __future__ import annotations

import base64
import csv
import errno
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.receiver import receiver
from tunnelhunt.rba.risk import RISK_EVENT_FIELDS, stable_id
from tunnelhunt.schedule.delivery import deliver_all
from tunnelhunt.sinks.file_sink import FileSink
from tunnelhunt.sinks.http import HecSink, WebhookSink
from tunnelhunt.sinks.retry import RetryPolicy
from tunnelhunt.sinks.spec import SinkOptions, build_sink
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, timeout=2)


def risk_event(n: int, host: str = "h1") -> dict[str, Any]:
    return {
        "risk_event_id": stable_id("test", str(n)),
        "_time": T0 + timedelta(minutes=n),
        "search_name": "ESCU - Test - Rule",
        "risk_object": host,
        "risk_object_type": "system",
        "risk_object_field": "dest",
        "risk_score": 50,
        "risk_message": f"hit {n} on {host}",
        "threat_object": ["ngrok.exe"],
        "threat_object_type": ["process_name"],
        "annotations.mitre_attack": ["T1572"],
        "annotations.mitre_attack.mitre_technique": ["Protocol Tunneling"],
        "annotations.mitre_attack.mitre_tactic_id": ["TA0011"],
        "annotations.mitre_attack.mitre_tactic": ["Command and Control"],
        "analyticstories": ["Reverse Network Proxy"],
        "detection_id": "d1",
        "result_id": "r1",
    }


@pytest.fixture
def rba() -> RbaStore:
    return RbaStore(Store())


def test_store_columns_match_the_risk_event_fields(rba: RbaStore) -> None:
    rba.add_risk_events([risk_event(1)])
    [row] = rba.rows("SELECT * FROM risk_events")
    assert set(row) - {"seq"} == set(RISK_EVENT_FIELDS)
    assert row["_time"] == T0 + timedelta(minutes=1)


def test_file_sinks_write_each_item_once_across_deliveries(rba: RbaStore, tmp_path: Path) -> None:
    jsonl, csv_sink = FileSink(tmp_path / "j", "jsonl"), FileSink(tmp_path / "c", "csv")
    rba.add_risk_events([risk_event(n) for n in range(3)])
    assert jsonl.deliver(rba) == 3 and csv_sink.deliver(rba) == 3
    assert jsonl.deliver(rba) == 0  # nothing new
    rba.add_risk_events([risk_event(1), risk_event(3)])  # one repeat (ignored by the store), one new
    assert jsonl.deliver(rba) == 1 and csv_sink.deliver(rba) == 1
    lines = [json.loads(x) for x in jsonl.path("risk_event").read_text().splitlines()]
    assert [x["risk_message"] for x in lines] == ["hit 0 on h1", "hit 1 on h1", "hit 2 on h1", "hit 3 on h1"]
    assert lines[0]["_time"] == "2026-11-20T10:00:00+00:00" and lines[0]["risk_score"] == 50
    with csv_sink.path("risk_event").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["risk_message"] for r in rows] == ["hit 0 on h1", "hit 1 on h1", "hit 2 on h1", "hit 3 on h1"]
    assert list(rows[0]) == list(RISK_EVENT_FIELDS)  # one header, fixed columns


def test_file_sink_repairs_a_batch_written_before_a_crash(rba: RbaStore, tmp_path: Path) -> None:
    sink = FileSink(tmp_path, "jsonl")
    rba.add_risk_events([risk_event(0)])
    sink.deliver(rba)
    # a crash after appending a batch but before recording the cursor leaves unrecorded lines behind
    with sink.path("risk_event").open("a") as stream:
        stream.write('{"risk_message": "hit 1 on h1"}\n{"partial')
    rba.add_risk_events([risk_event(1)])
    sink.deliver(rba)
    lines = [json.loads(x)["risk_message"] for x in sink.path("risk_event").read_text().splitlines()]
    assert lines == ["hit 0 on h1", "hit 1 on h1"]


def test_hec_sends_json_event_protocol_with_token_in_batches(rba: RbaStore, tmp_path: Path) -> None:
    rba.add_risk_events([risk_event(n) for n in range(5)])
    with receiver() as hec:
        sink = HecSink(hec.url, "tok-123", tmp_path / "spool", index="risk", host="th", batch_size=2, retry=FAST)
        assert sink.deliver(rba) == 5
    assert [r.path for r in hec.requests] == ["/services/collector/event"] * 3  # 2 + 2 + 1
    assert all(r.headers["Authorization"] == "Splunk tok-123" for r in hec.requests)
    events = [e for r in hec.requests for e in r.hec_events()]
    assert [e["event"]["risk_message"] for e in events] == [f"hit {n} on h1" for n in range(5)]
    first = events[0]
    assert first["time"] == (T0).timestamp() and first["index"] == "risk" and first["host"] == "th"
    assert first["sourcetype"] == "tunnelhunt:risk_event" and first["source"] == "tunnelhunt"
    assert sink.spool.batches() == []


def test_hec_outage_spools_to_disk_and_delivers_everything_later(rba: RbaStore, tmp_path: Path) -> None:
    sleeps: list[float] = []
    with receiver() as hec:
        url = hec.url
        hec.status, hec.body = 503, b'{"text":"Server is busy","code":9}'
        sink = HecSink(url, "tok", tmp_path / "spool", batch_size=10, retry=FAST, sleep=sleeps.append)
        rba.add_risk_events([risk_event(n) for n in range(4)])
        sink.deliver(rba)
        assert hec.requests == [] and hec.refused == FAST.attempts  # retried with back-off, then gave up
        assert sleeps == [FAST.delay(1), FAST.delay(2)]
        assert sink.spool.pending == 4 and "503" in (sink.last_error or "")
        hec.stop()  # now nothing listens at all: connection refused
        rba.add_risk_events([risk_event(n) for n in range(4, 7)])
        sink.deliver(rba)
        sink.flush(force=True)
        assert sink.spool.pending == 7
        # a new process (fresh sink object, same spool) after the receiver is back delivers all, once
        hec.status, hec.body = 200, b'{"text":"Success","code":0}'
        hec.start(int(url.rsplit(":", 1)[1]))
        again = HecSink(url, "tok", tmp_path / "spool", batch_size=10, retry=FAST)
        again.deliver(rba)
    events = [e["event"]["risk_message"] for r in hec.requests for e in r.hec_events()]
    assert events == [f"hit {n} on h1" for n in range(7)]
    assert again.spool.pending == 0


def test_hec_rejected_batch_is_kept_aside_not_lost(rba: RbaStore, tmp_path: Path) -> None:
    rba.add_risk_events([risk_event(0)])
    with receiver() as hec:
        hec.status, hec.body = 400, b'{"text":"Invalid data format","code":6}'
        sink = HecSink(hec.url, "tok", tmp_path / "spool", retry=FAST)
        sink.deliver(rba)
    kept = list((tmp_path / "spool" / "rejected").glob("*.jsonl"))
    assert len(kept) == 1 and "hit 0 on h1" in kept[0].read_text()
    assert "Invalid data format" in (sink.last_error or "")
    assert sink.spool.cursor("risk_event") >= 1  # not taken again


def test_webhook_posts_each_item_as_json(rba: RbaStore, tmp_path: Path) -> None:
    rba.add_risk_events([risk_event(0), risk_event(1, host="h2")])
    with receiver() as hook:
        sink = WebhookSink(hook.url + "/hook", tmp_path / "spool", retry=FAST)
        assert sink.deliver(rba) == 2
    bodies = [json.loads(r.body) for r in hook.requests]
    assert [(b["kind"], b["risk_object"]) for b in bodies] == [("risk_event", "h1"), ("risk_event", "h2")]
    assert all(r.path == "/hook" for r in hook.requests)


def test_webhook_credentials_authenticate_and_are_never_shown(rba: RbaStore, tmp_path: Path) -> None:
    rba.add_risk_events([risk_event(0)])
    secrets = ("s3cret", "qtok123", "PATHKEY42")
    options = SinkOptions(tmp_path / "spools", retry=FAST)
    with receiver() as hook:
        address = hook.url.removeprefix("http://")
        sink = build_sink(f"webhook:http://alice:s3cret@{address}/hooks/PATHKEY42?token=qtok123", options)
        assert sink.deliver(rba) == 1
    (request,) = hook.requests
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert request.path == "/hooks/PATHKEY42?token=qtok123"
    spool_names = [p.name for p in (tmp_path / "spools").iterdir()]
    rba.add_risk_events([risk_event(1)])
    assert sink.deliver(rba) == 1  # the receiver is gone: the error names the sink, redacted
    shown = " ".join([sink.key, *spool_names, sink.last_error or ""])
    assert "cannot reach" in shown and address.split(":")[0] in shown
    assert not any(secret in shown for secret in secrets)


def test_a_sink_write_on_a_full_disk_is_a_failed_write(
    rba: RbaStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rba.add_risk_events([risk_event(0)])

    def full(*_args: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(FileSink, "_append", full)
    (outcome,) = deliver_all([FileSink(tmp_path, "csv")], rba)
    assert outcome.write_failed and outcome.error == os.strerror(errno.ENOSPC)
    assert outcome.taken == 0
