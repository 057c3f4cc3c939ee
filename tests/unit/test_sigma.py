"""Sigma rules compiled to SQL over `events`: every modifier with its near misses, logsources, correlations, RBA."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pyarrow as pa
import pytest
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule
from sigma.types import SigmaString, SpecialChars

from tests.support.raw_events import create_events, event_fields_of, field_rows
from tunnelhunt.rba.risk import risk_events
from tunnelhunt.sigma.backend import REGEX_LIST_MIN
from tunnelhunt.sigma.compiler import CompileOptions, SigmaCompileError, compile_rule
from tunnelhunt.sigma.correlation import compile_correlation
from tunnelhunt.sigma.results import sigma_detection
from tunnelhunt.sigma.scan import run_sigma
from tunnelhunt.spl.compiler import CompiledSearch, TimeWindow
from tunnelhunt.spl.semantics import fold
from tunnelhunt.store.events import field_sql

SYSMON = "Microsoft-Windows-Sysmon/Operational"


def proc(**fields: str) -> dict[str, str]:
    return {"Channel": SYSMON, "EventID": "1", "Computer": "ws1", **fields}


class Engine:
    """The QueryEngine protocol over one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def run(self, compiled: CompiledSearch) -> pa.Table:
        return self.con.sql(compiled.sql("duckdb")).to_arrow_table()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def parse(text: str) -> list[SigmaRule | SigmaCorrelationRule]:
    collection = SigmaCollection.from_yaml(textwrap.dedent(text))
    collection.resolve_rule_references()
    return list(collection.rules)


def rule(detection: str, logsource: str = "category: process_creation\n  product: windows") -> SigmaRule:
    text = f"title: t\nid: 0d2e7a4e-2d1b-4d6b-9c9f-3b0f3c5b8a11\nlevel: high\nlogsource:\n  {logsource}\ndetection:\n"
    text += textwrap.indent(textwrap.dedent(detection), "  ")
    found = parse(text)[0]
    assert isinstance(found, SigmaRule)
    return found


def matches(con: duckdb.DuckDBPyConnection, events: list[dict[str, str]], detection: str, **kw: object) -> list[int]:
    create_events(con, field_rows(events))
    compiled = compile_rule(rule(detection), **kw)  # type: ignore[arg-type]
    return [row["_offset"] for row in con.sql(compiled.sql("duckdb")).to_arrow_table().to_pylist()]


CASES = [
    # (detection, events that must match (by CommandLine), events that must not)
    ("sel: {CommandLine: 'whoami /all'}\ncondition: sel", ["WHOAMI /ALL"], ["whoami /all ", "x whoami /all"]),
    ("sel: {CommandLine|contains: '%temp%'}\ncondition: sel", ["echo %TEMP%\\x"], ["echo C:\\temp"]),
    ("sel: {CommandLine|contains: 'a_b'}\ncondition: sel", ["xa_by"], ["xacby"]),
    ("sel: {CommandLine|startswith: 'net '}\ncondition: sel", ["NET user"], ["cnet user", "net"]),
    ("sel: {CommandLine|endswith: '.ps1'}\ncondition: sel", ["run.PS1"], ["run.ps1x"]),
    ("sel: {CommandLine|contains|all: [' -enc', 'hidden']}\ncondition: sel", ["x -ENC hidden"], ["x -enc shown"]),
    ("sel: {CommandLine: 'a?c*'}\ncondition: sel", ["abcdef", "aXc"], ["ac", "xabc"]),
    ("sel: {CommandLine: 'a\\*b'}\ncondition: sel", ["a*b"], ["axb"]),
    ("sel: {CommandLine|cased: 'Mimikatz'}\ncondition: sel", ["Mimikatz"], ["mimikatz"]),
    ("sel: {CommandLine|contains|cased: 'Kat'}\ncondition: sel", ["miKatz"], ["mikatz"]),
    ("sel: {CommandLine|re: 'ab+c'}\ncondition: sel", ["xabbbcx"], ["xABCx", "xacx"]),
    ("sel: {CommandLine|re|i: '^ab+c$'}\ncondition: sel", ["ABBC"], ["xabc"]),
    ("sel: {CommandLine|re|s: 'a.b'}\ncondition: sel", ["a\nb"], ["ab"]),
    ("sel: {CommandLine|re|m: '^b$'}\ncondition: sel", ["a\nb"], ["ab"]),
    ("sel: {CommandLine|windash|contains: ' -exec'}\ncondition: sel", ["x /exec", "x –exec", "x -exec"], ["x exec"]),
    ("sel: {CommandLine|base64offset|contains: 'http'}\ncondition: sel", ["x aHR0cA", "x odHRw", "x h0dH"], ["http"]),
    ("sel: {CommandLine|base64: 'ab'}\ncondition: sel", ["YWI="], ["ab"]),
    ("sel: {CommandLine|cidr: '10.0.0.0/8'}\ncondition: sel", ["10.1.2.3"], ["100.1.2.3", "11.0.0.1", "10.1.2"]),
    ("sel: {CommandLine|cidr: '192.168.8.0/21'}\ncondition: sel", ["192.168.15.255"], ["192.168.16.0"]),
    ("sel: {CommandLine|cidr: 'fe80::/10'}\ncondition: sel", ["FE80::1"], ["fec0::1"]),
    ("sel: {CommandLine|gt: 10}\ncondition: sel", ["11", "10.5"], ["10", "9", "abc"]),
    ("sel: {CommandLine|lte: 10}\ncondition: sel", ["10", "-3"], ["10.01"]),
    ("sel: {CommandLine|fieldref: Image}\ncondition: sel", ["C:\\A.exe"], ["C:\\b.exe"]),
    ("sel: {CommandLine|fieldref|startswith: Image}\ncondition: sel", ["c:\\a.exe -x"], ["x c:\\a.exe"]),
    ("sel: {CommandLine|fieldref|endswith: Image}\ncondition: sel", ["run c:\\a.exe"], ["c:\\a.exe -x"]),
    ("sel: {CommandLine|neq: 'x'}\ncondition: sel", ["y"], ["X"]),
    ("sel: {CommandLine: ''}\ncondition: sel", [""], ["a"]),
]


@pytest.mark.parametrize(("detection", "hits", "misses"), CASES, ids=[c[0].split("\n")[0] for c in CASES])
def test_modifier_matches_and_near_misses(
    con: duckdb.DuckDBPyConnection, detection: str, hits: list[str], misses: list[str]
) -> None:
    events = [proc(CommandLine=c, Image="c:\\a.exe") for c in hits + misses]
    assert matches(con, events, detection) == list(range(len(hits)))


def test_missing_field_is_false_and_its_negation_true(con: duckdb.DuckDBPyConnection) -> None:
    events = [proc(CommandLine="a"), proc(), proc(CommandLine="b")]
    assert matches(con, events, "sel: {CommandLine: a}\ncondition: sel") == [0]
    assert matches(con, events, "sel: {CommandLine: a}\ncondition: not sel") == [1, 2]
    assert matches(con, events, "sel: {CommandLine: null}\ncondition: sel") == [1]
    assert matches(con, events, "sel: {CommandLine|exists: true}\ncondition: sel") == [0, 2]
    assert matches(con, events, "sel: {CommandLine|exists: false}\ncondition: sel") == [1]


def test_conditions_one_of_all_of_and_keywords(con: duckdb.DuckDBPyConnection) -> None:
    events = [proc(CommandLine="a", Image="x"), proc(CommandLine="b", Image="y"), proc(CommandLine="a", Image="y")]
    assert matches(con, events, "s1: {CommandLine: a}\ns2: {Image: y}\ncondition: all of s*") == [2]
    assert matches(con, events, "s1: {CommandLine: a}\ns2: {Image: y}\ncondition: 1 of s*") == [0, 1, 2]
    assert matches(con, events, "s1: {CommandLine: a}\ns2: {Image: y}\ncondition: s1 and not s2") == [0]
    raw = [dict(proc(), _raw="<Data>Invoke-Mimikatz</Data>"), dict(proc(), _raw="<Data>benign</Data>")]
    assert matches(con, raw, "keywords: ['invoke-mimi']\ncondition: keywords") == [0]


def test_expand_placeholders_take_given_values_and_refuse_without(con: duckdb.DuckDBPyConnection) -> None:
    events = [proc(Computer="admin-ws"), proc(Computer="ws2")]
    detection = "sel: {Computer|expand: '%admins%'}\ncondition: sel"
    options = CompileOptions(placeholders={"admins": ["ADMIN-*", "other"]})
    assert matches(con, events, detection, options=options) == [0]
    with pytest.raises(SigmaCompileError, match="admins"):
        compile_rule(rule(detection))


def test_values_are_literals_never_sql(con: duckdb.DuckDBPyConnection) -> None:
    hostile = "x' OR '1'='1"
    events = [proc(CommandLine=hostile), proc(CommandLine="y")]
    assert matches(con, events, "sel: {CommandLine: \"x' OR '1'='1\"}\ncondition: sel") == [0]
    assert matches(con, events, 'sel: {CommandLine|re: "\'"}\ncondition: sel') == [0]


def test_process_creation_is_sysmon_1_or_security_4688_with_its_names(con: duckdb.DuckDBPyConnection) -> None:
    events = [
        proc(Image="C:\\w\\cmd.exe"),
        {"Channel": "Security", "EventID": "4688", "NewProcessName": "C:\\w\\cmd.exe"},
        {"Channel": "Security", "EventID": "4689", "NewProcessName": "C:\\w\\cmd.exe"},
        {"Channel": SYSMON, "EventID": "5", "Image": "C:\\w\\cmd.exe"},
        {"Channel": "Application", "EventID": "1", "Image": "C:\\w\\cmd.exe"},
    ]
    assert matches(con, events, "sel: {Image|endswith: '\\cmd.exe'}\ncondition: sel") == [0, 1]


def test_unmapped_logsource_is_refused_not_run_over_everything() -> None:
    with pytest.raises(SigmaCompileError, match="maps to no events"):
        compile_rule(rule("sel: {a: b}\ncondition: sel", logsource="category: antivirus\n  product: windows"))


def test_time_window_and_spark_rendering(con: duckdb.DuckDBPyConnection) -> None:
    events = [proc(CommandLine="a"), proc(CommandLine="a"), proc(CommandLine="a")]
    window = TimeWindow(datetime(2026, 1, 1, 0, 0, 1), datetime(2026, 1, 1, 0, 0, 2))
    assert matches(con, events, "sel: {CommandLine: a}\ncondition: sel", window=window) == [1]
    spark = compile_rule(rule("sel: {CommandLine|endswith: '\\a'}\ncondition: sel")).sql("spark")
    assert "ENDSWITH(LOWER(" in spark and "'\\\\a')" in spark and field_sql("CommandLine").sql("spark") in spark
    spark = compile_rule(rule("sel: {CommandLine: '*\\a?'}\ncondition: sel")).sql("spark")
    assert "LIKE '%\\\\a_' ESCAPE '!'" in spark


CORRELATION = """
title: failed logon
id: 5f0c7a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f
name: failed_logon
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: success
id: 6f0c7a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f
name: success
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4624}
  condition: sel
---
title: correlated
id: 7f0c7a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f
level: critical
correlation:
  type: TYPE
  rules: [failed_logon, success]
  group-by: [TargetUserName]
  timespan: 10s
  condition: CONDITION
"""


def logon(second: int, code: str, user: str, ip: str = "1.1.1.1") -> dict[str, str]:
    return {"Channel": "Security", "EventID": code, "TargetUserName": user, "IpAddress": ip,
            "_time": f"2026-01-01T00:00:{second:02d}"}  # fmt: skip


def correlate(con: duckdb.DuckDBPyConnection, kind: str, condition: str, events: list[dict[str, str]]) -> dict:
    create_events(con, field_rows(events))
    rules = parse(CORRELATION.replace("TYPE", kind).replace("CONDITION", condition))
    correlation = next(r for r in rules if isinstance(r, SigmaCorrelationRule))
    rows = con.sql(compile_correlation(correlation).sql("duckdb")).to_arrow_table().to_pylist()
    return {row["TargetUserName"]: row["count"] for row in rows}


def test_event_count_enforces_the_timespan_exactly(con: duckdb.DuckDBPyConnection) -> None:
    events = [logon(0, "4625", "a"), logon(10, "4625", "a"), logon(20, "4625", "a"),  # 3 within 20 s, 2 within 10
              logon(30, "4625", "b"), logon(31, "4624", "b"), logon(40, "4625", "b")]  # fmt: skip
    assert correlate(con, "event_count", "{gte: 3}", events) == {"b": 3}
    assert correlate(con, "event_count", "{gte: 2}", events) == {"a": 2, "b": 3}


def test_value_count_temporal_and_ordered(con: duckdb.DuckDBPyConnection) -> None:
    events = [
        *[logon(0, "4625", "a", "1.1.1.1"), logon(1, "4625", "a", "2.2.2.2"), logon(2, "4625", "a", "2.2.2.2")],
        *[logon(30, "4624", "b"), logon(35, "4625", "b"), logon(50, "4625", "c"), logon(59, "4624", "c")],
    ]
    assert correlate(con, "value_count", "{gte: 2, field: IpAddress}", events) == {"a": 2}
    assert set(correlate(con, "temporal", "{gte: 2}", events)) == {"b", "c"}
    assert set(correlate(con, "temporal_ordered", "{gte: 2}", events)) == {"c"}  # b succeeded before it failed


def _process_rules(kind: str, condition: str) -> SigmaCorrelationRule:
    text = (
        "title: proc\nid: 8f0c7a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\nname: proc\n"
        "logsource: {category: process_creation, product: windows}\n"
        "detection:\n  sel: {CommandLine|contains: ' '}\n  condition: sel\n---\n"
        "title: rare\nid: 9f0c7a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\ncorrelation:\n"
        f"  type: {kind}\n  rules: [proc]\n  group-by: [Computer]\n  timespan: 1m\n  condition: {condition}\n"
    )
    return next(r for r in parse(text) if isinstance(r, SigmaCorrelationRule))


def _procs(rows: list[tuple[int, str, str, str]]) -> list[dict[str, str]]:
    """(second, computer, image, cpu) as Sysmon process creations."""
    return [
        {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": "1", "Computer": computer, "Image": image,
         "CommandLine": f"{image} run", "Cpu": cpu, "_time": f"2026-01-01T00:{second // 60:02d}:{second % 60:02d}"}
        for second, computer, image, cpu in rows
    ]  # fmt: skip


def _rows(con: duckdb.DuckDBPyConnection, correlation: SigmaCorrelationRule) -> list[dict]:
    return con.sql(compile_correlation(correlation).sql("duckdb")).to_arrow_table().to_pylist()


def test_value_percentile_as_the_specification_states_it(con: duckdb.DuckDBPyConnection) -> None:
    """Per computer and image, the percentage of the window's process events with that image: the
    specification's example (images a computer ran in at most 1 % of its processes) at 25 %, here."""
    rows = [(s, "pc1", "a.exe", "1") for s in range(0, 6)] + [(6, "pc1", "rare.exe", "1")]  # 1 of 7 = 14.3 %
    rows += [(s, "pc2", "b.exe", "1") for s in range(0, 3)] + [(10, "pc2", "odd.exe", "1")]  # 1 of 4 = 25 %
    rows += [(100, "pc2", "late.exe", "1")]  # alone in its minute: 100 %
    create_events(con, field_rows(_procs(rows)))

    def shares(condition: str) -> dict[tuple[str, str], float]:
        found = _rows(con, _process_rules("value_percentile", condition))
        return {(r["Computer"], r["Image"]): round(r["count"], 2) for r in found}

    # a.exe and b.exe are 100 % of every window ending at one of them; late.exe is alone in its minute
    assert shares("{field: Image, lte: 25}") == {("pc1", "rare.exe"): 14.29, ("pc2", "odd.exe"): 25.0}
    assert shares("{field: Image, lt: 25}") == {("pc1", "rare.exe"): 14.29}  # 25 % is not under 25
    assert shares("{field: Image, lt: 14}") == {}
    assert set(shares("{field: Image, gte: 100}")) == {("pc1", "a.exe"), ("pc2", "b.exe"), ("pc2", "late.exe")}


def test_value_percentile_with_a_percentile_and_value_median(con: duckdb.DuckDBPyConnection) -> None:
    """pySigma's `percentile: P`: the P-th percentile of the field as a number, interpolated linearly."""
    rows = [(s, "pc1", "a.exe", cpu) for s, cpu in ((0, "1"), (1, "2"), (2, "3"), (3, "10"), (4, "x"))]
    create_events(con, field_rows(_procs(rows)))
    [row] = _rows(con, _process_rules("value_percentile", "{field: Cpu, percentile: 95, gte: 8.9}"))
    assert round(row["count"], 6) == 8.95  # 3 + 0.85 * (10 - 3); the text "x" is no number
    assert _rows(con, _process_rules("value_percentile", "{field: Cpu, percentile: 95, gte: 9}")) == []
    [row] = _rows(con, _process_rules("value_median", "{field: Cpu, gte: 2.5}"))
    assert row["count"] == 2.5
    assert _rows(con, _process_rules("value_median", "{field: Cpu, gt: 2.5}")) == []
    with pytest.raises(SigmaCompileError, match="not between 0 and 100"):
        compile_correlation(_process_rules("value_percentile", "{field: Cpu, percentile: 101, gte: 1}"))


def test_temporal_counts_the_distinct_rules_its_condition_asks_for(con: duckdb.DuckDBPyConnection) -> None:
    """Three rules; the condition says how many of them must hit in the window (all, without one)."""
    three = CORRELATION.replace("rules: [failed_logon, success]", "rules: [failed_logon, success, special]") + (
        "---\ntitle: special\nid: 8a0c7a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\nname: special\n"
        "logsource: {product: windows, service: security}\ndetection:\n  sel: {EventID: 4672}\n  condition: sel\n"
    )
    events = [logon(0, "4625", "a"), logon(1, "4624", "a"),  # two of the three rules
              logon(20, "4625", "b"), logon(21, "4624", "b"), logon(22, "4672", "b")]  # fmt: skip
    create_events(con, field_rows(events))

    def users(condition: str) -> set[str]:
        text = three.replace("TYPE", "temporal")
        text = text.replace("  condition: CONDITION\n", f"  condition: {condition}\n" if condition else "")
        correlation = next(r for r in parse(text) if isinstance(r, SigmaCorrelationRule))
        return {
            r["TargetUserName"]
            for r in con.sql(compile_correlation(correlation).sql("duckdb")).to_arrow_table().to_pylist()
        }

    assert users("{gte: 2}") == {"a", "b"}
    assert users("{gte: 3}") == {"b"}
    assert users("") == {"b"}  # no condition: all three
    assert users("{lt: 3}") == {"a", "b"}  # b's earlier windows held two


CHAINED = """
title: Failed logins followed by a success
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
level: high
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]
  group-by: [User]
  timespan: 10m
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [User]
  timespan: 10m
  condition: {gte: 3}
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4625}, condition: sel}
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4624}, condition: sel}
"""


def test_chained_correlations_the_specifications_example(con: duckdb.DuckDBPyConnection) -> None:
    """A temporal_ordered over an event_count correlation and a rule: 3 failures in 10 minutes, then a success
    within 10 minutes of the third (its occurrence), per user; each near miss differs in one way."""

    def login(minute: int, code: str, user: str) -> dict[str, str]:
        return {"Channel": "Security", "EventID": code, "User": user, "_time": f"2026-01-01T00:{minute:02d}:00"}

    events = [login(m, "4625", "alice") for m in (0, 1, 2)] + [login(5, "4624", "alice")]  # the attack
    events += [login(m, "4625", "bob") for m in (0, 1)] + [login(3, "4624", "bob")]  # two failures only
    events += [login(0, "4624", "carol")] + [login(m, "4625", "carol") for m in (1, 2, 3)]  # success first
    events += [login(m, "4625", "dave") for m in (0, 1, 2)] + [login(13, "4624", "dave")]  # 11 min after the 3rd
    events += [login(m, "4625", "erin") for m in (0, 4, 11)] + [login(12, "4624", "erin")]  # failures 11 min apart
    create_events(con, field_rows(events))
    rules = parse(CHAINED)
    outer = next(r for r in rules if isinstance(r, SigmaCorrelationRule) and r.name is None)
    rows = con.sql(compile_correlation(outer).sql("duckdb")).to_arrow_table().to_pylist()
    assert [(r["User"], r["_time"].minute, r["last_time"].minute) for r in rows] == [("alice", 2, 5)]
    assert [getattr(rule, "_output", True) for rule in rules if rule.name] == [False, False, False]  # only the outer


def test_a_chain_must_group_by_the_chained_correlations_fields() -> None:
    text = CHAINED.replace(
        "  group-by: [User]\n  timespan: 10m\n---", "  group-by: [Computer]\n  timespan: 10m\n---", 1
    )
    outer = next(r for r in parse(text) if isinstance(r, SigmaCorrelationRule) and r.name is None)
    with pytest.raises(SigmaCompileError, match="'Computer' is not a group-by field of the correlation"):
        compile_correlation(outer)


def test_hits_become_detection_runs_with_risk_per_entity(con: duckdb.DuckDBPyConnection) -> None:
    create_events(con, field_rows([proc(CommandLine="mimikatz", User="CORP\\bob"), proc(CommandLine="x")]))
    text = "sel: {CommandLine|contains: mimikatz}\ncondition: sel"
    the_rule = parse(
        "title: Mimikatz\nid: 0d2e7a4e-2d1b-4d6b-9c9f-3b0f3c5b8a11\nstatus: test\nlevel: high\n"
        "tags: [attack.credential-access, attack.t1003.001]\n"
        "logsource: {category: process_creation, product: windows}\ndetection:\n" + textwrap.indent(text, "  ")
    )[0]
    [run] = run_sigma(Engine(con), [the_rule])
    assert run.error is None
    [row] = run.rows
    assert (row["detection"], row["rule_id"], row["level"], row["status"]) == (
        "Mimikatz", "0d2e7a4e-2d1b-4d6b-9c9f-3b0f3c5b8a11", "high", "test")  # fmt: skip
    assert row["tags"] == ["T1003.001"] and row["host"] == "ws1" and row["_offset"] == 0
    assert event_fields_of(row)["CommandLine"] == "mimikatz"
    risks = risk_events(run.detection, run.rows)
    assert {(r["risk_object"], r["risk_object_type"], r["risk_score"]) for r in risks} == {
        ("ws1", "system", 60), ("CORP\\bob", "user", 60)}  # fmt: skip
    assert risks[0]["search_name"] == "Sigma - Mimikatz - Rule"
    assert risks[0]["annotations.mitre_attack"] == ["T1003.001"]
    informational = parse(
        "title: i\nid: 1d2e7a4e-2d1b-4d6b-9c9f-3b0f3c5b8a11\nlevel: informational\n"
        "logsource: {category: process_creation, product: windows}\ndetection:\n" + textwrap.indent(text, "  ")
    )[0]
    assert risk_events(sigma_detection(informational), run.rows) == []


# --- string forms: `=`, STARTS_WITH, ENDS_WITH, CONTAINS or LIKE, always the matches of the Sigma pattern -----

#: Sigma values (`\` escapes a wildcard or a backslash) crossed with the string modifiers.
_VALUES = [
    "50%_!", "a_b", "x!y", "c:\\tools\\*.exe", "c:\\tools\\\\*.exe", "a?c", "a\\?c", "a*b", "*ngrok*",
    "İstanbul", "straẞe", "*ΣΊΣΥΦΟΣ*", "!*%", "\\\\", "",
]  # fmt: skip
_MODIFIERS = ["", "|contains", "|startswith", "|endswith", "|cased", "|contains|cased"]
_TEXTS = [
    "50%_!", "50x_!", "50%y!", "x50%_!y", "a_b", "axb", "x!y", "xy", "x!!y", "c:\\tools*.exe", "c:\\tools\\x.exe",
    "c:\\tools\\\\x.exe", "C:\\TOOLS\\X.EXE", "abc", "aXc", "ac", "a?c", "abbc", "ab", "a*b", "axyzb", "run NGROK http",
    "ngrok", "ngro", "İSTANBUL", "istanbul", "ıstanbul", "x İstanbul y", "STRAẞE", "straße", "strasse",
    "t σίσυφος t", "ΣΊΣΥΦΟΣ", "σισυφος", "!x%", "!%", "\\", "\\\\", "", "%", "_",
]  # fmt: skip


def _oracle(value: str, modifiers: str) -> re.Pattern[str]:
    """What the Sigma spec says `value` matches: its parts as a regular expression over the whole text."""
    out = []
    for part in SigmaString(value).iter_parts():
        if isinstance(part, str):
            out.append(re.escape(part if "cased" in modifiers else fold(part)))
        else:
            out.append(".*" if part is SpecialChars.WILDCARD_MULTI else ".")
    core = "".join(out)
    if "contains" in modifiers or "startswith" in modifiers:
        core += ".*"
    if "contains" in modifiers or "endswith" in modifiers:
        core = ".*" + core
    return re.compile(core, re.DOTALL)


@pytest.mark.parametrize("modifiers", _MODIFIERS)
@pytest.mark.parametrize("value", _VALUES)
def test_string_forms_match_exactly_the_sigma_pattern(
    con: duckdb.DuckDBPyConnection, value: str, modifiers: str
) -> None:
    detection = {"sel": {f"CommandLine{modifiers}": value}, "condition": "sel"}
    sigma_rule = SigmaRule.from_dict(
        {"title": "t", "logsource": {"category": "process_creation", "product": "windows"}, "detection": detection}
    )
    create_events(con, field_rows([proc(CommandLine=text) for text in _TEXTS]))
    compiled = compile_rule(sigma_rule)
    got = [row["_offset"] for row in con.sql(compiled.sql("duckdb")).to_arrow_table().to_pylist()]
    oracle = _oracle(value, modifiers)
    expected = [n for n, t in enumerate(_TEXTS) if oracle.fullmatch(t if "cased" in modifiers else fold(t))]
    assert got == expected
    sql = compiled.sql("duckdb")
    parts = list(SigmaString(value).iter_parts())
    inner = [p for p in parts[1:-1] if not isinstance(p, str)]
    if value and SpecialChars.WILDCARD_SINGLE not in parts and not inner:
        assert " LIKE " not in sql  # no wildcard inside the text: `=` or a prefix, suffix or substring test
    if not any(char in value for char in "%_!\\"):
        assert "ESCAPE" not in sql


_LISTS = [
    ["50%_!", "a_b", "x!y", "c:\\tools\\*.exe"],  # LIKE metacharacters and an escaped wildcard stay literal
    ["a*b", "*ngrok*", "İstanbul", "straẞe", "*ΣΊΣΥΦΟΣ*"],  # inner wildcards, non-ASCII case
    ["(x)+[y]{2}", "^$|.", "\\\\", ""],  # regex metacharacters, a backslash, the empty string
    ["a?c", "ac", "abc", "aXc"],  # a `?` keeps the list out of the regex: each value on its own
]


@pytest.mark.parametrize("modifiers", ["", "|contains", "|startswith", "|endswith", "|contains|cased"])
@pytest.mark.parametrize("values", _LISTS, ids=range(len(_LISTS)))
def test_value_lists_match_exactly_any_of_their_patterns(
    con: duckdb.DuckDBPyConnection, values: list[str], modifiers: str
) -> None:
    detection = {"sel": {f"CommandLine{modifiers}": values}, "condition": "sel"}
    sigma_rule = SigmaRule.from_dict(
        {"title": "t", "logsource": {"category": "process_creation", "product": "windows"}, "detection": detection}
    )
    texts = [*_TEXTS, "(x)+[y]{2}", "x(x)+[y]{2}y", "(x)+[y]{2}{2}", "^$|.", "^$|x", "(X)+[Y]{2}"]
    create_events(con, field_rows([proc(CommandLine=text) for text in texts]))
    sql = compile_rule(sigma_rule).sql("duckdb")
    got = [row["_offset"] for row in con.sql(sql).to_arrow_table().to_pylist()]
    oracles = [_oracle(value, modifiers) for value in values]
    expected = [
        n for n, t in enumerate(texts) if any(o.fullmatch(t if "cased" in modifiers else fold(t)) for o in oracles)
    ]
    assert got == expected
    # many case-insensitive `*` patterns on the field are one regex (the same matches, asserted above)
    listable = [
        v
        for v in values
        if SpecialChars.WILDCARD_SINGLE not in SigmaString(v).iter_parts()
        and (modifiers or SpecialChars.WILDCARD_MULTI in SigmaString(v).iter_parts())
    ]
    assert ("REGEXP" in sql) == (len(listable) >= REGEX_LIST_MIN and "cased" not in modifiers)
