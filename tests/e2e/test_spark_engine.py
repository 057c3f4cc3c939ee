"""Spark returns the same findings as DuckDB on the same Parquet lake (one Spark session for the module).

Java is needed: the Makefile installs a Java 17 runtime when it is missing. Locally without Java these
tests skip; under CI=true they fail, so CI always compares the two engines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import dns_event, process_event
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.models import Detection
from tunnelhunt.detect.runner import DetectionRun, run_detections
from tunnelhunt.generate import generate_sysmon
from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.lake import LakeStore, LakeWriter

#: Searches that exercise more of the compiler than the two shipped detections do.
EXTRA_SEARCHES = {
    "answers and distinct queries": (
        "| tstats count dc(DNS.query) as queries values(DNS.query) as names min(_time) as firstTime "
        'max(_time) as lastTime from datamodel=Network_Resolution where DNS.answer="*.ngrok*" OR '
        'DNS.query="*NGROK*" by DNS.src | `drop_dm_object_name("DNS")` | `security_content_ctime(firstTime)`'
    ),
    "fillnull and explode": (
        '| tstats fillnull_value="unknown" count from datamodel=Network_Resolution by DNS.src DNS.answer'
    ),
    "negation and not-equal": (
        "| tstats count earliest(Processes.process) as first_cmd latest(Processes.process) as last_cmd "
        "from datamodel=Endpoint.Processes where NOT Processes.process_name=ngrok.exe "
        "Processes.parent_process_name!=explorer.exe by Processes.dest Processes.user"
    ),
    "numbers": (
        "| tstats count sum(Processes.process_id) as pid_sum avg(Processes.parent_process_id) as ppid_avg "
        "from datamodel=Endpoint.Processes where Processes.process_id>1000 by Processes.process_name "
        "| `drop_dm_object_name(Processes)`"
    ),
    # searches over the raw events: hot columns, the field map, bare terms, join, eval aggregates
    "raw terms and map fields": (
        '`sysmon` EventCode=1 ngrok NOT CommandLine="*version*" | eval n=len(CommandLine) '
        "| stats count dc(eval(if(n>10, Image, null()))) as long_images values(ProcessId) as pids by host "
        "| sort host"
    ),
    "raw join": (
        "EventCode=1 | join type=left max=0 ProcessGuid [search EventCode=3 | table ProcessGuid DestinationPort] "
        "| stats count(eval(isnotnull(DestinationPort))) as connected count by Image | sort - count | head 20"
    ),
    # non-ASCII case folding (issue 19): Java's LOWER gives İ two letters and Σ a final form; DuckDB's not
    "unicode case folding": (
        '`sysmon` EventCode=1 (İSTANBUL OR CommandLine="*σίσυφος*" OR CommandLine="*STRAẞE*") '
        "| stats count by CommandLine | sort CommandLine"
    ),
}


#: Zeek dns.log rows (ts, query, answers): sets compare element by element (`sigma/multivalue.py`).
ZEEK_DNS_HEADER = "#separator \\x09\n#set_separator\t,\n#path\tdns\n#fields\tts\tquery\tanswers\n"
ZEEK_DNS_ROWS = (
    ("1763636400.0", "a.example", "1.2.3.4,127.0.0.1"),  # an element is 127.0.0.1
    ("1763636401.0", "b.example", "127.0.0.10,1.2.3.4"),  # near miss: the text holds 127.0.0.1, no element is it
    ("1763636402.0", "c.example", "x.EVIL,1.2.3.4"),  # an element ends with .evil
    ("1763636403.0", "d.example", "x.evil.com"),  # near miss
)
ZEEK_SIGMA = """
title: {title}
logsource: {logsource}
detection:
  selection:
    {selection}
  condition: selection
"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, shipped_sample_path: Path) -> Path:
    root = tmp_path_factory.mktemp("spark")
    generated = generate_sysmon(root / "generated", events=3000, seed=11)
    crafted = root / "crafted.log"
    crafted.write_text(
        "\n".join(
            [
                process_event("NGROK.EXE HTTP 80", image="C:\\Temp\\NgRoK.ExE"),
                process_event("ngrok.exe version", image="C:\\Temp\\ngrok.exe"),
                process_event("x", image="C:\\Temp\\ngrok.exe.bak"),
                dns_event("ngrok.io.evil.com"),
                dns_event("A.NGROK.IO", results="type:  5 b.ngrok.io;::ffff:1.2.3.4;::ffff:1.2.3.4;"),
                dns_event("nothing.example", results=""),
                dns_event("korgn.x.lennut.com", results="-"),
                *(  # a host of their own, a second apart: earliest()/latest() of other groups have no new ties
                    process_event(command, image="C:\\Temp\\t.exe", computer="wks-u", time=f"2026-11-20T11:00:0{n}Z")
                    for n, command in enumerate(
                        ("t İstanbul", "t ISTANBUL", "t ıstanbul", "t ΣΊΣΥΦΟΣ", "t Σίσυφος", "t straße")
                    )
                ),
            ]
        )
        + "\n"
    )
    zeek_tsv, zeek_json = root / "dns.log", root / "zeek.json"
    zeek_tsv.write_text(
        ZEEK_DNS_HEADER + "".join(f"{ts}\t{query}\t{answers}\n" for ts, query, answers in ZEEK_DNS_ROWS)
    )
    zeek_json.write_text(
        "".join(
            json.dumps({"_path": "dns", "ts": float(ts), "query": q, "answers": a.split(",")}) + "\n"
            for ts, q, a in ZEEK_DNS_ROWS
        )
    )
    lake_root = root / "lake"
    with LakeWriter(lake_root, flush_bytes=200_000) as writer:
        protocols = [shipped_sample_path.with_name(n) for n in ("tunnel_tools_sysmon.log", "tunnel_rdp_security.log")]
        report = ingest([generated.path, crafted, shipped_sample_path, *protocols, zeek_tsv, zeek_json], writer)
    assert report.total("quarantined") == 0
    return lake_root


@pytest.fixture(scope="module")
def shipped_sample_path() -> Path:
    return Path(__file__).resolve().parents[2] / "src" / "tunnelhunt" / "content" / "data" / "ngrok_windows_sysmon.log"


def _detections() -> tuple[list[Detection], Any]:
    content = load_content([], [])
    extra = [
        Detection(name=f"extra {name}", id=f"extra-{index}", version=1, type="Hunting", search=search)
        for index, (name, search) in enumerate(EXTRA_SEARCHES.items())
    ]
    return [*content.detections, *extra], content.macros


def _normal(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value


def _rows(run: DetectionRun) -> list[dict[str, Any]]:
    assert run.error is None, run.error
    return [{key: _normal(value) for key, value in row.items()} for row in run.rows]


def test_spark_and_duckdb_find_the_same(lake: Path, spark_session: Any) -> None:
    from tunnelhunt.detect.spark import SparkEngine

    detections, macros = _detections()
    with LakeStore(lake) as duck:  # detections sharing scans of the lake's views, Spark running each query
        expected = run_detections(duck, detections, macros, share_from_rows=0)
    with SparkEngine(lake, session=spark_session) as spark:
        got = run_detections(spark, detections, macros)
    shipped_findings = 0
    for duck_run, spark_run in zip(expected, got, strict=True):
        duck_rows, spark_rows = _rows(duck_run), _rows(spark_run)
        assert duck_rows, f"{duck_run.detection.name} found nothing: the comparison would prove little"
        assert spark_rows == duck_rows, duck_run.detection.name
        if not duck_run.detection.name.startswith("extra"):
            shipped_findings += len(duck_rows)
        if duck_run.detection.name == "extra unicode case folding":  # the near miss ıstanbul stays out
            assert sorted(row["CommandLine"] for row in spark_rows) == sorted(
                ["t İstanbul", "t ISTANBUL", "t ΣΊΣΥΦΟΣ", "t Σίσυφος", "t straße"]
            )
    assert shipped_findings > 10


def test_near_misses_stay_out_on_spark(lake: Path, spark_session: Any) -> None:
    from tunnelhunt.detect.spark import SparkEngine

    detections, macros = _detections()
    with SparkEngine(lake, session=spark_session) as spark:
        seeds = [
            d for d in detections if d.name in ("Ngrok Reverse Proxy on Network", "Windows Ngrok Reverse Proxy Usage")
        ]
        runs = {run.detection.name: run for run in run_detections(spark, seeds, macros)}
    queries = {row["query"] for row in runs["Ngrok Reverse Proxy on Network"].rows}
    assert "A.NGROK.IO" in queries and "korgn.x.lennut.com" in queries
    assert "ngrok.io.evil.com" not in queries
    processes = {row["process_path"] for row in runs["Windows Ngrok Reverse Proxy Usage"].rows}
    assert "C:\\Temp\\NgRoK.ExE" in processes and "C:\\Temp\\ngrok.exe.bak" not in processes


def test_spark_holds_the_same_raw_events_as_duckdb(lake: Path, spark_session: Any, tmp_path: Path) -> None:
    """The raw events of the lake read by Spark equal those DuckDB stores from the same inputs, and a
    raw search built with the contract's lookup rule finds the same events on both engines."""
    from sqlglot import exp

    from tunnelhunt.detect.spark import SparkEngine
    from tunnelhunt.store.duckdb_store import Store
    from tunnelhunt.store.events import EVENTS_TABLE, field_sql

    def canonical(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "fields": sorted(map(tuple, row["fields"]))} for row in rows]

    ordered = f"SELECT * FROM {EVENTS_TABLE} ORDER BY _source, _offset"
    picked = [exp.alias_(field_sql(name), name, quoted=True) for name in ("User", "process_name")]
    search = exp.select("_source", "_offset", *picked).from_(EVENTS_TABLE)
    search = search.where(
        exp.or_(
            exp.Like(this=exp.Lower(this=field_sql("CommandLine")), expression=exp.Literal.string("%ngrok%")),
            exp.EQ(this=field_sql("QueryStatus"), expression=exp.Literal.string("0")),
        )
    ).order_by("_source", "_offset")
    with LakeStore(lake) as duck:
        lake_rows = canonical(duck.query(ordered).to_pylist())
        duck_found = duck.query(search.sql("duckdb")).to_pylist()
    inputs = sorted({row["_source"] for row in lake_rows})
    with Store() as store:
        ingest([Path(p) for p in inputs], store)
        assert canonical(store.query(ordered).to_pylist()) == lake_rows
    with SparkEngine(lake, session=spark_session) as spark:
        assert canonical(spark.query(ordered).to_pylist()) == lake_rows
        assert spark.query(search.sql("spark")).to_pylist() == duck_found
    assert len(lake_rows) > 3000 and len(duck_found) > 10


def test_sigma_list_fields_match_alike_on_spark(lake: Path, spark_session: Any) -> None:
    """Sigma rules over Zeek sets (TSV comma-joined, JSON arrays): any element matches, on both engines."""
    from sigma.rule import SigmaRule

    from tunnelhunt.detect.spark import SparkEngine
    from tunnelhunt.sigma.scan import run_sigma

    rules = [
        SigmaRule.from_yaml(ZEEK_SIGMA.format(title=t, logsource=ls, selection=sel))
        for t, ls, sel in (
            ("sinkholed", "{product: zeek, service: dns}", "answers: '127.0.0.1'"),
            ("evil answer", "{category: dns}", "answer|endswith: '.evil'"),
        )
    ]

    def found(engine: Any) -> dict[str, list[tuple[str, str]]]:
        runs = run_sigma(engine, rules)
        assert all(run.error is None for run in runs), [run.error for run in runs]
        return {
            run.detection.name: sorted((Path(r["_source"]).name, r["query"]) for r in run.findings.to_pylist())
            for run in runs
            if run.findings is not None
        }

    with LakeStore(lake) as duck:
        expected = found(duck)
    with SparkEngine(lake, session=spark_session) as spark:
        assert found(spark) == expected
    assert expected == {
        "sinkholed": [("dns.log", "a.example"), ("zeek.json", "a.example")],
        "evil answer": [("dns.log", "c.example"), ("zeek.json", "c.example")],
    }


#: Sigma rules over the crafted process events, one per string form (`sigma.backend.string_match`):
#: =, STARTS_WITH, ENDS_WITH, CONTAINS, LIKE with and without ESCAPE, IN lists, regex lists, `?`, escaped wildcards,
#: `%`, `_`, `!`, backslashes and non-ASCII case; each names the CommandLines it must find.
SIGMA_FORMS = {
    "equals": ("CommandLine: 'ngrok.exe VERSION'", ["ngrok.exe version"]),
    "in list": ("CommandLine: ['X', 't straße', 'nope']", ["x", "t straße"]),
    "startswith": ("CommandLine|startswith: 'ngrok.'", ["NGROK.EXE HTTP 80", "ngrok.exe version"]),
    "endswith backslash": ("Image|endswith: '\\ngrok.exe'", ["NGROK.EXE HTTP 80", "ngrok.exe version"]),
    "contains": ("CommandLine|contains: 'EXE H'", ["NGROK.EXE HTTP 80"]),
    "inner star": ("Image: 'c:\\temp\\\\n*.exe'", ["NGROK.EXE HTTP 80", "ngrok.exe version"]),
    "question mark": ("CommandLine: 't ?stanbul'", ["t İstanbul", "t ISTANBUL", "t ıstanbul"]),
    "escaped star": ("CommandLine|contains: 'ngrok\\*'", []),
    "percent underscore bang": ("CommandLine|contains: ['%', '_', '!']", []),
    "cased": ("CommandLine|contains|cased: 'ISTANBUL'", ["t ISTANBUL"]),
    "unicode": (
        "CommandLine|contains: ['İSTANBUL', 'σίσυφος', 'STRAẞE']",
        ["t İstanbul", "t ISTANBUL", "t ΣΊΣΥΦΟΣ", "t Σίσυφος", "t straße"],
    ),
    "regex list": (
        "CommandLine|contains: ['ngrok.exe v', 'İSTANBUL', 'σίσυφος', 'a.b', 'x(y']",
        ["ngrok.exe version", "t İstanbul", "t ISTANBUL", "t ΣΊΣΥΦΟΣ", "t Σίσυφος"],
    ),
    "regex endswith list": (
        "Image|endswith: ['\\ngrok.exe', '.bak', 'x[y]', '^$']",
        ["NGROK.EXE HTTP 80", "ngrok.exe version", "x"],
    ),
    "unicode question mark": ("CommandLine: 't σίσυφο?'", ["t ΣΊΣΥΦΟΣ", "t Σίσυφος"]),
}


def _sigma_rules() -> list[Any]:
    from sigma.collection import SigmaCollection

    documents = [
        f"title: {name}\nid: 00000000-0000-4000-8000-{index:012d}\nlogsource: {{category: process_creation, "
        f"product: windows}}\ndetection:\n  sel:\n    {detection}\n  condition: sel\n"
        for index, (name, (detection, _)) in enumerate(SIGMA_FORMS.items())
    ]
    return list(SigmaCollection.from_yaml("---\n".join(documents)).rules)


def test_sigma_string_forms_find_the_same_on_spark(lake: Path, spark_session: Any) -> None:
    """Sigma's shared scans on Spark find what they find on DuckDB, form by form, and what the rule says."""
    from tunnelhunt.detect.spark import SparkEngine
    from tunnelhunt.sigma.scan import run_sigma

    def found(runs: list[DetectionRun]) -> dict[str, list[tuple[str, int, str]]]:
        out = {}
        for run in runs:
            assert run.error is None, run.error
            out[run.detection.name] = sorted((r["_source"], r["_offset"], r["CommandLine"]) for r in run.rows)
        return out

    rules = _sigma_rules()
    with LakeStore(lake) as duck:
        expected = found(run_sigma(duck, rules))
    with SparkEngine(lake, session=spark_session) as spark:
        got = found(run_sigma(spark, rules))
    assert got == expected
    for name, (_, commands) in SIGMA_FORMS.items():  # the crafted events: the generated ones vary with the seed
        crafted = [command for source, _, command in expected[name] if source.endswith("crafted.log")]
        assert sorted(crafted) == sorted(commands), name


#: Correlations over the lake's process events, one per type and aggregate (`sigma/correlation.py`).
CORRELATIONS = {
    "event_count": "{gte: 2}",
    "value_count": "{field: Image, gte: 2}",
    "value_sum": "{field: ProcessId, gt: 1000.5}",
    "value_avg": "{field: ProcessId, gte: 1}",
    "value_percentile": "{field: Image, lte: 50}",  # the specification's share of each value in the window
    "value_median": "{field: ProcessId, gte: 1}",
}


def test_sigma_correlations_find_the_same_on_spark(lake: Path, spark_session: Any) -> None:
    """Every correlation type, and pySigma's `percentile: P`, gives the same rows on Spark as on DuckDB."""
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule

    from tunnelhunt.detect.spark import SparkEngine
    from tunnelhunt.sigma.results import run_sigma_rule

    base = (
        "title: proc\nid: 10000000-0000-4000-8000-000000000000\nname: proc\n"
        "logsource: {category: process_creation, product: windows}\n"
        "detection:\n  sel: {Image|endswith: '.exe'}\n  condition: sel\n"
    )
    cases = {**CORRELATIONS, "value_percentile p90": "{field: ProcessId, percentile: 90, gte: 1}"}
    documents = [base] + [
        f"title: {name}\nid: 20000000-0000-4000-8000-{index:012d}\ncorrelation:\n  type: {name.split()[0]}\n"
        f"  rules: [proc]\n  group-by: [Computer]\n  timespan: 10m\n  condition: {condition}\n"
        for index, (name, condition) in enumerate(cases.items())
    ]
    documents.append(  # a chain: the specification's form, an event_count correlation followed by a rule
        "title: chained\nid: 30000000-0000-4000-8000-000000000000\ncorrelation:\n  type: temporal_ordered\n"
        "  rules: [counted, proc]\n  group-by: [Computer]\n  timespan: 10m\n---\n"
        "title: counted\nid: 30000000-0000-4000-8000-000000000001\nname: counted\ncorrelation:\n"
        "  type: event_count\n  rules: [proc]\n  group-by: [Computer]\n  timespan: 10m\n  condition: {gte: 3}\n"
    )
    cases["chained"] = ""
    rules = SigmaCollection.from_yaml("---\n".join(documents)).rules
    correlations = [r for r in rules if isinstance(r, SigmaCorrelationRule) and getattr(r, "_output", True)]

    def rows(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
        out = {}
        for rule in correlations:
            run = run_sigma_rule(engine, rule)
            assert run.error is None, (rule.title, run.error)
            out[rule.title] = sorted(tuple(_normal(v) for k, v in row.items() if k != "tags") for row in run.rows)
        return out

    with LakeStore(lake) as duck:
        expected = rows(duck)
    with SparkEngine(lake, session=spark_session) as spark:
        got = rows(spark)
    for name in cases:
        assert got[name] == expected[name], (
            name,
            [r for r in got[name] if r not in expected[name]][:3],
            [r for r in expected[name] if r not in got[name]][:3],
        )
    assert all(expected[name] for name in cases), {name: len(found) for name, found in expected.items()}
