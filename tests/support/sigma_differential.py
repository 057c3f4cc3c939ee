"""The same Sigma rules over the same events in tunnelhunt (DuckDB) and in pySigma's SQLite backend.

The SQLite side is what Zircolite does: one flat table, a TEXT COLUMN COLLATE NOCASE per field, a Python
REGEXP function, the SQLite backend's queries. Both sides use the same logsource pipelines (a mapping is
used when it selects events for the rule), so a difference is a difference of matching semantics.
"""

from __future__ import annotations

import copy
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from sigma.backends.sqlite import sqliteBackend
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sqlglot import exp

from tests.support.raw_events import event_fields_of
from tunnelhunt.sigma.compiler import SigmaCompileError, rule_predicate
from tunnelhunt.sigma.logsources import MAPPINGS
from tunnelhunt.sigma.scan import run_sigma
from tunnelhunt.spl.compiler import CompiledSearch

Pair = tuple[str, int]  # (rule id, event number)


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def sqlite_events(events: pa.Table) -> sqlite3.Connection:
    """`logs(event_no, <one column per field>)`, fields as the events table holds them."""
    rows = [{"fields": list(event_fields_of(row).items())} for row in events.to_pylist()]
    names: dict[str, str] = {}
    for row in rows:
        for key, _ in row["fields"]:
            names.setdefault(key.lower(), key)
    columns = sorted(names.values())
    con = sqlite3.connect(":memory:")
    con.create_function("REGEXP", 2, _regexp, deterministic=True)
    ddl = ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in columns)
    con.execute(f"CREATE TABLE logs (event_no INTEGER PRIMARY KEY, {ddl})")
    placeholders = ", ".join("?" for _ in range(len(columns) + 1))
    position = {c.lower(): i for i, c in enumerate(columns)}
    data = []
    for number, row in enumerate(rows):
        values: list[object] = [None] * len(columns)
        for key, value in row["fields"]:
            values[position[key.lower()]] = value
        data.append([number, *values])
    con.executemany(f"INSERT INTO logs VALUES ({placeholders})", data)
    return con


_MISSING = re.compile(r"no such column: (.+)$")


class SqliteSide:
    """pySigma's SQLite backend under each logsource mapping (built once), over a `logs` table."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        self.backends = []
        for mapping in MAPPINGS:
            backend = sqliteBackend(mapping.pipeline())
            backend.init_processing_pipeline()
            self.backends.append((mapping, backend))

    def _run(self, query: str) -> set[int]:
        """Run a query; a field no event has is a column of NULLs, as in Zircolite's table."""
        while True:
            try:
                return {r[0] for r in self.con.execute(query.replace("SELECT *", "SELECT event_no", 1))}
            except sqlite3.OperationalError as exc:
                missing = _MISSING.search(str(exc))
                if not missing:
                    raise
                self.con.execute(f'ALTER TABLE logs ADD COLUMN "{missing.group(1)}" TEXT COLLATE NOCASE')

    def matches(self, rule: SigmaRule) -> set[int] | None:
        """Event numbers the SQLite backend finds for the rule, or None when it does not convert."""
        found: set[int] = set()
        converted = False
        for mapping, backend in self.backends:
            if not mapping.may_apply(rule.logsource.category, rule.logsource.product):
                continue
            try:
                queries = backend.convert_rule(copy.deepcopy(rule))
            except SigmaError:
                continue
            if not mapping.applied(backend.last_processing_pipeline.applied_ids):
                continue
            for query in queries:
                found |= self._run(query)
                converted = True
        return found if converted else None


@dataclass
class Comparison:
    """Pairs only one side found, rules only one side converted, and the counts."""

    rules: int = 0
    converted: int = 0
    not_converted: dict[str, str] = field(default_factory=dict)
    only_tunnelhunt: set[Pair] = field(default_factory=set)
    only_sqlite: set[Pair] = field(default_factory=set)
    same: int = 0
    sqlite_failed: set[str] = field(default_factory=set)
    #: every pair tunnelhunt's one-query-per-rule predicates find (for comparing the shared-scan runner)
    tunnelhunt: set[Pair] = field(default_factory=set)


def compare(rules: Iterable[SigmaRule], duck: duckdb.DuckDBPyConnection, lite: SqliteSide) -> Comparison:
    """Run every rule on both sides; `events` in `duck` must be in the order `lite`'s event numbers follow."""
    duck.execute("CREATE OR REPLACE TEMP TABLE numbered AS SELECT row_number() OVER () - 1 AS event_no, * FROM events")
    result = Comparison()
    for rule in rules:
        result.rules += 1
        rule_id = str(rule.id)
        try:
            predicate = rule_predicate(rule)
        except (SigmaCompileError, SigmaError) as exc:
            result.not_converted[rule_id] = str(exc)
            continue
        query = exp.select("event_no").from_("numbered").where(predicate)
        try:
            ours = {r[0] for r in duck.execute(query.sql("duckdb")).fetchall()}
        except duckdb.Error as exc:
            result.not_converted[rule_id] = f"does not run: {exc}"
            continue
        result.converted += 1
        result.tunnelhunt |= {(rule_id, n) for n in ours}
        theirs = lite.matches(rule)
        if theirs is None:
            result.sqlite_failed.add(rule_id)
            continue
        result.same += len(ours & theirs)
        result.only_tunnelhunt |= {(rule_id, n) for n in ours - theirs}
        result.only_sqlite |= {(rule_id, n) for n in theirs - ours}
    return result


class DuckEngine:
    """The QueryEngine protocol over the comparison's DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def run(self, compiled: CompiledSearch) -> pa.Table:
        return self.con.sql(compiled.sql("duckdb")).to_arrow_table()


def shared_scan_pairs(rules: list[SigmaRule], duck: duckdb.DuckDBPyConnection) -> set[Pair]:
    """The (rule, event number) pairs of `sigma.scan.run_sigma` (rules sharing scans) over `numbered`'s events."""
    number = {(s, o): n for n, s, o in duck.execute("SELECT event_no, _source, _offset FROM numbered").fetchall()}
    pairs: set[Pair] = set()
    for run in run_sigma(DuckEngine(duck), rules):
        pairs |= {(run.detection.id, number[(row["_source"], row["_offset"])]) for row in run.rows}
    return pairs
