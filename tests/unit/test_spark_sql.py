"""Spark SQL rendering, checked without a JVM."""

from __future__ import annotations

import pytest

from tunnelhunt.detect.spark import spark_datetime_pattern, spark_sql
from tunnelhunt.spl.compiler import compile_search


@pytest.mark.parametrize(
    ("strftime", "spark"),
    [
        ("%Y-%m-%dT%H:%M:%S", "yyyy-MM-dd'T'HH:mm:ss"),
        ("%m/%d/%Y %H:%M:%S", "MM/dd/yyyy HH:mm:ss"),
        ("%Y-%m-%d %H:%M:%S.%f", "yyyy-MM-dd HH:mm:ss.SSSSSS"),
        ("at %H o'clock", "'at 'HH' o''clock'"),
        ("100%% %Y", "100% yyyy"),
    ],
)
def test_strftime_becomes_a_quoted_spark_pattern(strftime: str, spark: str) -> None:
    assert spark_datetime_pattern(strftime) == spark


def test_ctime_renders_with_the_literal_t_quoted() -> None:
    compiled = compile_search(
        "| tstats min(_time) as firstTime from datamodel=Endpoint.Processes by Processes.dest "
        '| convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(firstTime)'
    )
    sql = spark_sql(compiled)
    assert "DATE_FORMAT(`firstTime`, 'yyyy-MM-dd\\'T\\'HH:mm:ss')" in sql
    assert "yyyy-MM-ddTHH" not in sql
    assert "'%Y-%m-%dT%H:%M:%S'" in compiled.sql("duckdb")  # the compiler itself stays engine-neutral


def test_a_field_aggregated_twice_is_selected_once() -> None:
    """Spark rejects a CTE with two columns of one name (DuckDB tolerates it): select each field once."""
    compiled = compile_search(
        "| tstats dc(DNS.query) as queries values(DNS.query) as names from datamodel=Network_Resolution by DNS.src"
    )
    sql = spark_sql(compiled)
    assert sql.count("`query` AS `DNS.query`") == 1, sql


def test_a_try_cast_stays_a_try_cast_on_spark() -> None:
    # under ANSI mode a plain CAST of a host name to DOUBLE fails the whole query (found by the differential)
    sql = spark_sql(compile_search("index=main | stats count by host | sort host"))
    assert "TRY_CAST(" in sql and "ORDER BY CAST(" not in sql


def test_an_exact_percentile_is_sparks_percentile() -> None:
    """`PERCENTILE_CONT(x, p)` is refused by Spark; `percentile(x, p)` interpolates as DuckDB's quantile_cont."""
    compiled = compile_search("index=main | stats exactperc95(bytes) as p by host")
    assert "QUANTILE_CONT(" in compiled.sql("duckdb")
    sql = spark_sql(compiled)
    assert "PERCENTILE(" in sql and "PERCENTILE_CONT" not in sql, sql
