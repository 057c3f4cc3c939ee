"""DNS behaviour: first seen per host and per fleet (persisted, idempotent), host counts, and the
correlation of agent runs with lookups of their service's hosts inside a time window."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from tests.helpers import store_with
from tunnelhunt.cim import DNS
from tunnelhunt.content.behaviours import load_behaviours
from tunnelhunt.content.loader import ContentError
from tunnelhunt.content.models import Detection
from tunnelhunt.content.services import load_catalogue, shipped_catalogue
from tunnelhunt.detect.behaviour import agent_lookup_correlation, run_behaviours
from tunnelhunt.detect.dns_state import DnsSeenState
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.normalize.normalizer import node_schema
from tunnelhunt.spl.compiler import TimeWindow
from tunnelhunt.store.duckdb_store import Store

CATALOGUE = shipped_catalogue()


def lookup(src: str, query: str, minute: int, hour: int = 10, day: int = 20) -> dict[str, Any]:
    return {"src": src, "query": query, "_time": datetime(2026, 11, day, hour, minute)}


def append_dns(store: Store, rows: list[dict[str, Any]]) -> None:
    schema = node_schema(DNS)
    empty = {name: None for name in schema.names}
    full = [{**empty, "_source": "t", "_offset": i, **row} for i, row in enumerate(rows)]
    store.append(DNS.table, pa.Table.from_pylist(full, schema=schema))


def pairs(table: pa.Table, *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(row[f] for f in fields) for row in table.to_pylist()]


def test_catalogue_classifies_by_whole_name_and_first_matching_group() -> None:
    agent = CATALOGUE.classify("CONNECT.EU.NGROK-AGENT.COM")
    assert agent is not None and (agent.service, agent.role, agent.zone) == ("ngrok", "agent", "ngrok-agent.com")
    support = CATALOGUE.classify("update.ngrok-agent.com")
    assert support is not None and support.role == "support"
    quick = CATALOGUE.classify("api.trycloudflare.com")
    assert quick is not None and (quick.service, quick.role) == ("cloudflare-tunnel", "agent")
    for name in ("ngrok.io.example.net", "myngrok.io", "www.ngrok.com", "ngrok-free.app", "pinggy.io", "", None):
        assert CATALOGUE.classify(name) is None
    assert CATALOGUE.service_of_command("cloudflared.exe tunnel --url http://localhost:80") == "cloudflare-tunnel"
    assert CATALOGUE.service_of_command("ssh -R 80:localhost:3000 serveo.net") == "serveo"
    assert CATALOGUE.service_of_command("upd.exe service install eyJhIjoi") is None


def test_catalogue_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "services.yml"
    bad.write_text("services:\n  - service: x\n    groups:\n      - {role: relay, zone: x.io, patterns: [a.x.io]}\n")
    with pytest.raises(ContentError, match=r"services\.0\.groups\.0\.role"):
        load_catalogue(bad)


def test_sql_and_python_classification_agree() -> None:
    names = [
        "connect.ngrok-agent.com",
        "a.ngrok-free.app",
        "x.loca.lt",
        "loca.lt",
        "bore.pub",
        "x.bore.pub",
        "crl.ngrok.com",
        "tunnel.us.ngrok.com",
        "www.google.com",
        "a_b.ngrok.io",
        "region1.v2.argotunnel.com",
    ]
    with store_with(DNS, [{"src": "h", "query": n} for n in names]) as store:
        state = DnsSeenState(store, CATALOGUE)
        sql_rows = state.query(f"WITH l AS ({state.lookups_sql()}) SELECT query, zone, role FROM l").to_pylist()
    by_sql = {r["query"]: (r["zone"], r["role"]) for r in sql_rows}
    by_python = {n: (g.zone, g.role) for n in names if (g := CATALOGUE.classify(n)) is not None}
    assert by_sql == by_python and "www.google.com" not in by_sql and "x.bore.pub" not in by_sql


def test_a_users_catalogue_reaches_sql_as_literals(tmp_path: Path) -> None:
    """Patterns with a quote, `%`, `_` and the escape character match only themselves in SQL, as in Python."""
    mine = tmp_path / "services.yml"
    patterns = ["it's.evil.io", "a%b.io", "a_b.io", "a!b.io", "*.x') OR 1=1 --.io"]
    groups = [{"role": "agent", "zone": "z.io", "patterns": [p]} for p in patterns]
    mine.write_text(yaml.safe_dump({"services": [{"service": "s", "groups": groups}]}))
    catalogue = load_catalogue(mine)
    names = ["IT'S.evil.io", "a%b.io", "axb.io", "a_b.io", "aXb.io", "a!b.io", "ab.io", "q.x') or 1=1 --.io", "x.io"]
    with store_with(DNS, [{"src": "h", "query": n} for n in names]) as store:
        state = DnsSeenState(store, catalogue)
        rows = state.query(f"WITH l AS ({state.lookups_sql()}) SELECT query FROM l").to_pylist()
    by_sql = sorted(r["query"] for r in rows)
    assert by_sql == sorted(n for n in names if catalogue.classify(n) is not None)
    assert by_sql == sorted(["IT'S.evil.io", "a%b.io", "a_b.io", "a!b.io", "q.x') or 1=1 --.io"])


def test_first_seen_per_host_and_fleet_survive_in_a_database_file(tmp_path: Path) -> None:
    db = tmp_path / "state.duckdb"
    with Store(db) as store:
        append_dns(
            store,
            [
                lookup("wks-1", "a1.ngrok-free.app", 5),
                lookup("wks-1", "b2.ngrok-free.app", 1),
                lookup("wks-2", "c3.ngrok-free.app", 9),
                lookup("wks-1", "www.google.com", 2),
            ],
        )
        first = DnsSeenState(store, CATALOGUE).update()
    assert pairs(first.new_on_host, "host", "zone", "first_query") == [
        ("wks-1", "ngrok-free.app", "b2.ngrok-free.app"),
        ("wks-2", "ngrok-free.app", "c3.ngrok-free.app"),
    ]
    assert pairs(first.new_in_fleet, "zone", "first_host", "first_query") == [
        ("ngrok-free.app", "wks-1", "b2.ngrok-free.app")
    ]
    with Store(db) as store:  # a later run, on new data, with the same database
        append_dns(
            store,
            [
                lookup("WKS-1", "d4.ngrok-free.app", 30, hour=11),
                lookup("wks-3", "e5.ngrok-free.app", 31),
                lookup("wks-3", "x.trycloudflare.com", 32),
            ],
        )
        second = DnsSeenState(store, CATALOGUE).update(TimeWindow(earliest=datetime(2026, 11, 20, 10, 30)))
        new = [("wks-3", "ngrok-free.app"), ("wks-3", "trycloudflare.com")]
        assert pairs(second.new_on_host, "host", "zone") == new
        assert pairs(second.new_in_fleet, "zone", "first_host") == [("trycloudflare.com", "wks-3")]
        third = DnsSeenState(store, CATALOGUE).update()  # everything again: nothing is new twice
        assert third.new_on_host.num_rows == 0 and third.new_in_fleet.num_rows == 0
        state = store.query("SELECT host, first_seen, last_seen FROM state_tunnel_dns_host WHERE host = 'wks-1'")
        assert state.to_pylist() == [
            {"host": "wks-1", "first_seen": datetime(2026, 11, 20, 10, 1), "last_seen": datetime(2026, 11, 20, 11, 30)}
        ]
    # fmt: skip


def test_a_late_earlier_lookup_moves_first_seen_back_without_reporting_again() -> None:
    with store_with(DNS, [lookup("wks-1", "late.ngrok.io", 50)]) as store:
        state = DnsSeenState(store, CATALOGUE)
        assert state.update().new_on_host.num_rows == 1
        append_dns(store, [lookup("wks-1", "early.ngrok.io", 10)])
        assert state.update().new_on_host.num_rows == 0
        row = store.query("SELECT first_seen, first_query FROM state_tunnel_dns_host").to_pylist()
    assert row == [{"first_seen": datetime(2026, 11, 20, 10, 10), "first_query": "early.ngrok.io"}]


def test_host_counts_per_zone() -> None:
    rows = [lookup(f"wks-{i}", f"t{i}.trycloudflare.com", i) for i in range(4)]
    rows += [lookup("wks-0", "abc.ngrok-free.app", 1), lookup("wks-0", "abc.ngrok-free.app", 2)]
    with store_with(DNS, rows) as store:
        state = DnsSeenState(store, CATALOGUE)
        state.update()
        counts = state.host_counts().to_pylist()
    assert [(c["zone"], c["hosts"], c["hosts_ever"], c["lookups"]) for c in counts] == [
        ("trycloudflare.com", 4, 4, 4),
        ("ngrok-free.app", 1, 1, 2),
    ]
    assert counts[1]["host_list"] == ["wks-0"] and counts[1]["queries"] == ["abc.ngrok-free.app"]


def agent_run(name: str, rows: list[dict[str, Any]]) -> DetectionRun:
    detection = Detection(name=name, id="x", version=1, type="Anomaly", search="| tstats count")
    return DetectionRun(detection, findings=pa.Table.from_pylist(rows))


def process_finding(dest: str, process: str, first: str, last: str | None = None) -> dict[str, Any]:
    return {"dest": dest, "user": "CORP\\bob", "process_name": process.split(" ")[0], "process": process,
            "firstTime": first, "lastTime": last or first}  # fmt: skip


PARAMETERS = {
    "window_minutes": 30,
    "agent_detections": {"Agents": "ngrok", "Clients": ""},
}


def test_agent_run_correlates_with_its_own_services_lookups_inside_the_window() -> None:
    dns = [
        lookup("wks-1", "connect.ngrok-agent.com", 20),  # 5 minutes after the run: correlates
        lookup("wks-1", "connect.eu.ngrok-agent.com", 50),  # 35 minutes after: outside the window
        lookup("wks-1", "abc.ngrok-free.app", 16),  # an endpoint, not an agent host
        lookup("wks-2", "connect.ngrok-agent.com", 16),  # another host
        lookup("wks-3", "region1.v2.argotunnel.com", 25),  # cloudflared's edge, for the client run below
        lookup("wks-4", "connect.ngrok-agent.com", 15),  # an ngrok lookup near a cloudflared run: other service
    ]
    runs = [
        agent_run("Agents", [process_finding("WKS-1", "svc.exe tcp 3389", "2026-11-20T10:15:00"),
                             process_finding("wks-5", "ngrok http 80", "2026-11-20T10:15:00")]),
        agent_run("Clients", [process_finding("wks-3", "cloudflared tunnel --url http://localhost:80",
                                              "2026-11-20T09:00:00", "2026-11-20T10:30:00"),
                              process_finding("wks-4", "cloudflared tunnel --url http://localhost:80",
                                              "2026-11-20T10:15:00")]),
        agent_run("Unrelated", [process_finding("wks-2", "ngrok http 80", "2026-11-20T10:15:00")]),
    ]  # fmt: skip
    with store_with(DNS, dns) as store:
        table = agent_lookup_correlation(DnsSeenState(store, CATALOGUE), runs, PARAMETERS, None)
    found = [(r["dest"], r["service"], r["query"], r["lookup_count"], r["seconds_apart"]) for r in table.to_pylist()]
    assert found == [
        ("WKS-1", "ngrok", "connect.ngrok-agent.com", 1, 300),
        ("wks-3", "cloudflare-tunnel", "region1.v2.argotunnel.com", 1, 0),  # during the run
    ]


def test_the_same_run_found_by_several_detections_is_one_finding() -> None:
    finding = process_finding("wks-1", "ngrok.exe tcp 3389", "2026-11-20T10:15:00")
    runs = [agent_run("Agents", [finding]), agent_run("More agents", [finding])]
    parameters = {"agent_detections": {"Agents": "ngrok", "More agents": "ngrok"}}
    with store_with(DNS, [lookup("wks-1", "tunnel.us.ngrok.com", 14)]) as store:
        rows = agent_lookup_correlation(DnsSeenState(store, CATALOGUE), runs, parameters, None).to_pylist()
    assert len(rows) == 1 and rows[0]["agent_detections"] == ["Agents", "More agents"]
    assert rows[0]["seconds_apart"] == 60 and rows[0]["lookupTime"] == "2026-11-20T10:14:00"


def test_shipped_behaviours_run_and_report_risk_fields() -> None:
    analytics = load_behaviours()
    assert {a.analytic for a in analytics} == {"first_seen_on_host", "first_seen_in_fleet", "host_count",
                                               "agent_lookup_correlation", "agent_hash_pivot", "beaconing",
                                               "dns_tunnelling"}  # fmt: skip
    dns = [lookup("wks-1", "tunnel.us.ngrok.com", 14), lookup("wks-1", "www.google.com", 15)]
    runs = [
        agent_run(
            "Windows Ngrok Reverse Proxy Usage", [process_finding("wks-1", "ngrok.exe tcp 3389", "2026-11-20T10:15:00")]
        )
    ]
    with store_with(DNS, dns) as store:
        results = run_behaviours(DnsSeenState(store, CATALOGUE), runs, analytics)
    by_name = {run.detection.name: run.rows for run in results}
    assert by_name["Tunnel Service Domain First Seen on Host"] == [
        {"src": "wks-1", "service": "ngrok", "zone": "ngrok.com", "role": "agent", "query": "tunnel.us.ngrok.com",
         "firstTime": "2026-11-20T10:14:00"}]  # fmt: skip
    assert [r["src"] for r in by_name["Tunnel Service Domain First Seen in Fleet"]] == ["wks-1"]
    assert [r["host_count"] for r in by_name["Tunnel Service Domain Host Count"]] == [1]
    [correlated] = by_name["Tunnel Agent Run With Lookup of Its Hosts"]
    assert (correlated["dest"], correlated["query"]) == ("wks-1", "tunnel.us.ngrok.com")
    # two lookups are neither a beacon nor a tunnel
    assert by_name["Host Beaconing to One Destination"] == []
    assert by_name["DNS Tunnelling by Long Random Names Under One Zone"] == []


def test_a_cname_answer_puts_an_innocent_name_under_the_services_zone() -> None:
    rows = [{"src": "wks-1", "query": "portal.partner.example", "answer": ["k2.ngrok-cname.com", "::ffff:3.20.27.198"]},
            {"src": "wks-1", "query": "www.example.org", "answer": ["ngrok-cname.com.example.net"]}]  # fmt: skip
    with store_with(DNS, rows) as store:
        update = DnsSeenState(store, CATALOGUE).update()
    assert pairs(update.new_on_host, "first_query", "zone", "role") == [
        ("portal.partner.example", "ngrok-cname.com", "endpoint")
    ]


def test_agent_hashes_are_learned_from_findings_and_other_runs_found(tmp_path: Path) -> None:
    from tunnelhunt.cim import PROCESSES
    from tunnelhunt.detect.agent_hashes import AgentHashes, sha256_of

    ngrok, other = "A" * 64, "B" * 64
    rows = [
        {"dest": "wks-1", "process": "svc.exe tcp 3389", "process_hash": f"SHA1=X,SHA256={ngrok}"},
        {"dest": "wks-1", "process": "svc.exe version", "process_hash": f"SHA256={ngrok.lower()}"},
        {"dest": "wks-2", "process": "updater.exe", "process_hash": f"MD5=1,SHA256={ngrok}"},
        {"dest": "wks-2", "process": "other.exe version", "process_hash": f"SHA256={other}"},
        {"dest": "wks-3", "process": "nohash.exe", "process_hash": None},
    ]
    for row in rows:
        row["process_name"] = str(row["process"]).split(" ")[0]
    assert sha256_of(rows[1]["process_hash"]) == ngrok and sha256_of("-") is None
    finding = {**rows[0], "firstTime": "2026-11-20T10:00:00"}
    runs = [agent_run("Agents", [finding]), agent_run("Unrelated", [rows[3]])]
    db = tmp_path / "hashes.duckdb"
    with Store(db) as store:
        store.append(PROCESSES.table, _process_table(rows))
        hashes = AgentHashes(store)
        assert hashes.learn(runs, {"Agents": "ngrok"}) == 1
        assert hashes.learn(runs, {"Agents": "ngrok"}) == 0  # nothing is learned twice
        others = hashes.other_runs({("wks-1", "svc.exe tcp 3389")}).to_pylist()
    assert [(r["dest"], r["process"], r["known_as"]) for r in others] == [
        ("wks-1", "svc.exe version", "svc.exe"),
        ("wks-2", "updater.exe", "svc.exe"),
    ]
    with Store(db) as store:  # a later run remembers the hash without any new finding
        assert AgentHashes(store).count() == 1


def _process_table(rows: list[dict[str, Any]]) -> pa.Table:
    from tunnelhunt.cim import PROCESSES

    schema = node_schema(PROCESSES)
    empty = {name: None for name in schema.names}
    full = [
        {**empty, "_time": datetime(2026, 11, 20, 10, i), "_source": "t", "_offset": i, **row}
        for i, row in enumerate(rows)
    ]
    return pa.Table.from_pylist(full, schema=schema)


def test_an_unknown_analytic_kind_fails_its_own_run_only() -> None:
    shipped = load_behaviours()
    typo = shipped[0].model_copy(update={"analytic": "first_seen_on_hots"})
    with Store() as store:
        runs = run_behaviours(DnsSeenState(store, shipped_catalogue()), [], [typo, shipped[1]])
    assert runs[0].error is not None and "first_seen_on_hots" in runs[0].error
    assert runs[1].error is None and runs[1].findings is not None
