"""Golden SPL → SQL: each case of `tests/fixtures/spl/*.spl` compiles to exactly its DuckDB SQL.

The fixtures are read like sqlglot's optimizer fixtures: a file holds several cases, one after another,
separated by blank lines. A case is

    # title: what the case shows          (comment lines; `# tz: Europe/Paris` sets the compile time zone)
    | tstats count from datamodel=...     (the SPL search, one or more lines; macros are expanded
    | ...                                  with the shipped macros)
    ----
    WITH ...                              (the expected SQL, `CompiledSearch.sql("duckdb", pretty=True)`)

Every search is compiled at a fixed `now` with the lookups of `LOOKUPS` below, and the expected SQL is
also run on an empty store, so a golden file can only hold SQL DuckDB accepts. After a deliberate
change to the compiler, `UPDATE_GOLDEN=1 pytest tests/unit/test_spl_golden.py` rewrites the SQL of every
case (comments and searches are kept); review the diff before committing it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tunnelhunt.content.loader import SHIPPED, load_detection, load_macros
from tunnelhunt.spl.compiler import compile_search
from tunnelhunt.spl.lookups import ROW_COLUMN, LookupTable
from tunnelhunt.spl.macros import expand_macros
from tunnelhunt.store.duckdb_store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spl"
SEPARATOR = "----"
NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
LOOKUPS = {
    table.name: table
    for table in (
        LookupTable("tools", ("tool", "category", "note"), case_sensitive=False, wildcard_fields=frozenset({"tool"})),
        LookupTable("owners", ("host", "owner", "team")),
        LookupTable("limited", ("host", "owner"), max_matches=1),
    )
}


@dataclass
class Case:
    """One search and its expected SQL, with the comment lines above them."""

    comments: list[str]
    spl: str
    sql: str

    @property
    def title(self) -> str:
        return self.option("title") or self.spl.splitlines()[0]

    def option(self, name: str) -> str | None:
        prefix = f"# {name}:"
        return next((line[len(prefix) :].strip() for line in self.comments if line.startswith(prefix)), None)


def parse_cases(text: str) -> list[Case]:
    cases: list[Case] = []
    for block in _blocks(text):
        lines = block.splitlines()
        comments = [line for line in lines if line.startswith("#")]
        body = [line for line in lines if not line.startswith("#")]
        if SEPARATOR not in body:
            raise ValueError(f"a case without a '{SEPARATOR}' line: {block[:80]!r}")
        split = body.index(SEPARATOR)
        cases.append(Case(comments, "\n".join(body[:split]).strip(), "\n".join(body[split + 1 :]).strip()))
    return cases


def _blocks(text: str) -> list[str]:
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def render_cases(cases: list[Case]) -> str:
    return "\n\n".join("\n".join([*c.comments, c.spl, SEPARATOR, c.sql]) for c in cases) + "\n"


_MACROS = load_macros([SHIPPED / "macros"])


def compile_case(case: Case) -> str:
    zone = case.option("tz")
    search = expand_macros(case.spl, _MACROS.lookup)
    compiled = compile_search(search, lookups=LOOKUPS.get, now=NOW, tz=ZoneInfo(zone) if zone else UTC)
    return compiled.sql("duckdb", pretty=True)


def _files() -> list[Path]:
    return sorted(FIXTURES.glob("*.spl"))


def test_the_fixture_format_round_trips() -> None:
    text = "# title: a\n| tstats count from datamodel=X\n| head 1\n----\nSELECT\n  1\n\n\n# b\nx\n----\ny\n"
    cases = parse_cases(text)
    assert [(c.title, c.spl, c.sql) for c in cases] == [
        ("a", "| tstats count from datamodel=X\n| head 1", "SELECT\n  1"),
        ("x", "x", "y"),
    ]
    assert parse_cases(render_cases(cases)) == cases
    with pytest.raises(ValueError):
        parse_cases("| tstats count\nSELECT 1\n")


def test_there_are_golden_files_covering_the_brief() -> None:
    names = {path.stem for path in _files()}
    assert {"tstats_where", "eval_where", "stats", "lookup", "rex", "seeds"} <= names
    assert sum(len(parse_cases(path.read_text(encoding="utf-8"))) for path in _files()) >= 30


@pytest.mark.parametrize("path", _files(), ids=lambda path: path.stem)
def test_golden_sql(path: Path) -> None:
    cases = parse_cases(path.read_text(encoding="utf-8"))
    actual = [Case(case.comments, case.spl, compile_case(case)) for case in cases]
    with Store() as store:
        for case in actual:
            for lookup in LOOKUPS.values():
                columns = ", ".join(f'"{name}" VARCHAR' for name in lookup.columns)
                store.con.execute(f'CREATE TABLE IF NOT EXISTS "{lookup.table}" ({columns}, "{ROW_COLUMN}" BIGINT)')
            store.query(case.sql)  # the SQL runs, not only parses
    if UPDATE:
        assert all("\n\n" not in case.sql for case in actual), "a blank line in SQL would split the case"
        path.write_text(render_cases(actual), encoding="utf-8")
        return
    for expected, got in zip(cases, actual, strict=True):
        assert got.sql == expected.sql, f"{path.name}: {expected.title}"


def test_the_seed_cases_are_the_shipped_searches() -> None:
    cases = parse_cases((FIXTURES / "seeds.spl").read_text(encoding="utf-8"))
    detections = {path.stem: path for path in (SHIPPED / "detections").glob("*.yml")}
    for case in cases:
        name = case.title.split()[2]  # "seed detection <name> (...)"
        search = load_detection(detections[name]).search
        assert case.spl.split() == search.split(), name
