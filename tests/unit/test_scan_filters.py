"""The one-column conditions added to a tstats filter for the scan: implied by the filter, so no result changes."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from tests.helpers import store_with
from tunnelhunt.cim import PROCESSES
from tunnelhunt.spl.compiler import compile_search
from tunnelhunt.spl.scan_filters import implied_on, scan_filters


def _sql(node: exp.Expr | None) -> str | None:
    return None if node is None else node.sql("duckdb")


def test_each_column_gets_what_the_filter_implies_on_it() -> None:
    predicate = sqlglot.parse_one("a = 1 OR (b = 2 AND a = 3 AND (a = 4 OR a = 5))", read="duckdb")
    assert _sql(implied_on(predicate, "a")) == "a = 1 OR (a = 3 AND (a = 4 OR a = 5))"
    assert implied_on(predicate, "b") is None  # `a = 1` alone lets b be anything
    assert [_sql(f) for f in scan_filters(predicate)] == ["a = 1 OR (a = 3 AND (a = 4 OR a = 5))"]


def test_not_over_two_columns_implies_nothing() -> None:
    # NOT (a = 1 AND b = 2) holds with a = 1 (when b differs): `NOT a = 1` would drop those rows
    predicate = sqlglot.parse_one("NOT (a = 1 AND b = 2) AND COALESCE(a = 7 OR b = 8, FALSE)", read="duckdb")
    assert implied_on(predicate, "a") is None and scan_filters(predicate) == []


def test_parts_that_can_fail_are_not_copied_out() -> None:
    # evaluated alone, CAST would fail on rows where b <> 2 rules it out of the filter
    predicate = sqlglot.parse_one("(b = 2 AND CAST(a AS INT) > 5) OR a = 'x'", read="duckdb")
    assert implied_on(predicate, "a") is None
    safe = sqlglot.parse_one("(b = 2 AND TRY_CAST(a AS INT) > 5) OR a = 'x'", read="duckdb")
    assert _sql(implied_on(safe, "a")) == "TRY_CAST(a AS INT) > 5 OR a = 'x'"


def test_one_column_conjuncts_and_lambdas_add_nothing() -> None:
    assert scan_filters(sqlglot.parse_one("a = 1 AND b = 2", read="duckdb")) == []
    lam = sqlglot.parse_one("COALESCE(ARRAY_LENGTH(LIST_FILTER(a, x -> x = 1)) > 0, FALSE) OR b = 2", read="duckdb")
    assert scan_filters(lam) == []  # reads a and b, and neither alone is implied
    both = sqlglot.parse_one("(LIST_FILTER(a, x -> x = 1) = [] AND b = 3) OR b = 2", read="duckdb")
    assert [_sql(f) for f in scan_filters(both)] == ["b = 3 OR b = 2"]


_SEARCH = (
    "| tstats count from datamodel=Endpoint.Processes where Processes.process IN ({long}) "
    'OR (Processes.process_name IN ("ssh", "plink.exe") AND Processes.process IN ("* -R*") '
    'AND Processes.process IN ("* serveo.net", "*@serveo.net *")) by Processes.process '
    "| rename Processes.* AS *"
)
_LONG = ", ".join(f'"* tunnel {n} --url*"' for n in range(12))


@pytest.mark.parametrize(
    ("name", "process", "kept"),
    [
        ("cloudflared.exe", "c tunnel 3 --url http://x", True),
        ("cloudflared.exe", "c tunnel 30 --url http://x", False),  # no `* tunnel 30 --url*` value
        ("ssh", "ssh -R 80:localhost:80 nokey@serveo.net x", True),
        ("SSH", "ssh -R 80:l:80 SERVEO.NET", True),
        ("bash", "ssh -R 80:localhost:80 nokey@serveo.net x", False),  # the process name is a near miss
        ("ssh", "ssh -L 80:localhost:80 nokey@serveo.net x", False),  # no remote forward
        ("ssh", "ssh -R 80:localhost:80 serveo.network", False),
        (None, "ssh -R 80:localhost:80 nokey@serveo.net x", False),  # no process name: the AND is not true
        (None, "c tunnel 3 --url http://x", True),  # ...but the OR's other side is
        ("ssh", None, False),
    ],
)
def test_cross_column_filter_keeps_exactly_its_matches(name: str | None, process: str | None, kept: bool) -> None:
    rows: list[dict[str, Any]] = [{"process_name": name, "process": process}]
    compiled = compile_search(_SEARCH.format(long=_LONG))
    where = compiled.query.find(exp.Where)
    assert where is not None and len(list(where.find_all(exp.RegexpExtract))) == 2  # the filter and its implied copy
    found = store_with(PROCESSES, rows).query(compiled.sql()).to_pylist()
    assert bool(found) is kept
