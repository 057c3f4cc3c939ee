"""Each SPL construct compiled to SQL and run on DuckDB, with Splunk's matching rules and near misses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlglot import exp

from tests.helpers import store_with
from tunnelhunt.cim import DNS, PROCESSES
from tunnelhunt.spl.compiler import TimeWindow, compile_search
from tunnelhunt.spl.errors import UnsupportedError

NGROK_DNS = (
    '| tstats count from datamodel=Network_Resolution where DNS.query IN ("*.ngrok.com","*.ngrok.io", '
    '"ngrok.*.tunnel.com", "korgn.*.lennut.com") by DNS.query | rename DNS.* AS *'
)


def run(search: str, node: Any, rows: list[dict[str, Any]], window: TimeWindow | None = None) -> list[dict[str, Any]]:
    store = store_with(node, rows)
    return store.query(compile_search(search, window).sql()).to_pylist()


def queries_matched(names: list[str]) -> list[str]:
    rows = run(NGROK_DNS, DNS, [{"query": n} for n in names])
    return [r["query"] for r in rows]


@pytest.mark.parametrize(
    "name",
    ["a.ngrok.io", "x-1-2.ngrok.io", "tunnel.us.ngrok.com", "NGROK.US.TUNNEL.COM", "korgn.su.lennut.com", "A.NGROK.IO"],
)
def test_ngrok_domains_match(name: str) -> None:
    assert queries_matched([name]) == [name]


@pytest.mark.parametrize(
    "name",
    [
        "ngrok.io",  # the wildcard needs a label before the dot
        "myngrok.io",
        "ngrok.io.evil.com",
        "ngrok.com",
        "www.ngrok.com.example.net",
        "ngrok.tunnel.com",  # no middle label between the fixed parts? "ngrok." + "*" + ".tunnel.com" needs two dots
        "korgn.lennut.com",
        "xngrok.us.tunnel.com",
        "a.ngrok.io.",
    ],
)
def test_ngrok_near_misses_do_not_match(name: str) -> None:
    assert queries_matched([name]) == []


def test_like_metacharacters_in_values_are_literal() -> None:
    rows = run(
        "| tstats count from datamodel=Network_Resolution where DNS.query=a_b%.com by DNS.query",
        DNS,
        [{"query": "a_b%.com"}, {"query": "axbyz.com"}, {"query": "a_b%!.com"}],
    )
    assert [r["DNS.query"] for r in rows] == ["a_b%.com"]


def test_and_or_not_and_missing_fields() -> None:
    rows = [
        {"process_name": "ngrok.exe", "process": "ngrok http 80", "dest": "h1"},
        {"process_name": "ngrok.exe", "process": "ngrok version", "dest": "h2"},
        {"process_name": "cmd.exe", "process": "cmd /c http", "dest": "h3"},
        {"process_name": "ngrok.exe", "process": None, "dest": "h4"},
    ]
    search = (
        "| tstats count from datamodel=Endpoint.Processes where Processes.process_name=NGROK.EXE "
        '(Processes.process="*http*" OR NOT Processes.process=*) by Processes.dest'
    )
    assert [r["Processes.dest"] for r in run(search, PROCESSES, rows)] == ["h1", "h4"]
    negated = "| tstats count from datamodel=Endpoint.Processes where NOT Processes.process=*version* by Processes.dest"
    assert [r["Processes.dest"] for r in run(negated, PROCESSES, rows)] == ["h1", "h3", "h4"]
    not_equal = "| tstats count from datamodel=Endpoint.Processes where Processes.process!=*version* by Processes.dest"
    assert [r["Processes.dest"] for r in run(not_equal, PROCESSES, rows)] == ["h1", "h3"]


def test_multivalue_by_field_gives_one_row_per_value_and_where_matches_any() -> None:
    rows = [
        {"src": "h1", "query": "a.ngrok.io", "answer": ["1.1.1.1", "cname.ngrok.io"]},
        {"src": "h1", "query": "a.ngrok.io", "answer": ["1.1.1.1"]},
        {"src": "h2", "query": "b.ngrok.io", "answer": []},
    ]
    search = "| tstats fillnull_value=null count from datamodel=Network_Resolution by DNS.src DNS.answer"
    result = [(r["DNS.src"], r["DNS.answer"], r["count"]) for r in run(search, DNS, rows)]
    assert result == [("h1", "1.1.1.1", 2), ("h1", "cname.ngrok.io", 1), ("h2", "null", 1)]
    any_value = "| tstats count from datamodel=Network_Resolution where DNS.answer=*.NGROK.io by DNS.src"
    assert [(r["DNS.src"], r["count"]) for r in run(any_value, DNS, rows)] == [("h1", 1)]


def test_without_fillnull_rows_missing_a_by_field_are_dropped() -> None:
    rows = [{"src": "h1", "query": "q"}, {"src": None, "query": "q"}]
    dropped = "| tstats count from datamodel=Network_Resolution by DNS.src DNS.query"
    assert [r["DNS.src"] for r in run(dropped, DNS, rows)] == ["h1"]
    filled = '| tstats fillnull_value="unknown" count from datamodel=Network_Resolution by DNS.src DNS.query'
    assert [r["DNS.src"] for r in run(filled, DNS, rows)] == ["h1", "unknown"]


def test_field_outside_the_data_model_is_null_with_a_warning() -> None:
    compiled = compile_search("| tstats count from datamodel=Network_Resolution by DNS.src DNS.nonsense")
    assert any("DNS.nonsense" in w for w in compiled.warnings)


def test_aggregates_rename_convert_and_search_after() -> None:
    rows = [
        {"_time": datetime(2026, 11, 20, 9, 0, 5), "src": "h1", "query": "a.ngrok.io"},
        {"_time": datetime(2026, 11, 20, 9, 30, 0), "src": "h1", "query": "b.ngrok.io"},
        {"_time": datetime(2026, 11, 20, 9, 10, 0), "src": "h2", "query": "a.ngrok.io"},
    ]
    search = (
        "| tstats count dc(DNS.query) as queries values(DNS.query) as names min(_time) as firstTime "
        "max(_time) as lastTime from datamodel=Network_Resolution by DNS.src | rename DNS.* AS * "
        '| convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(firstTime) | convert ctime(lastTime) | search NOT src=h2'
    )
    [row] = run(search, DNS, rows)
    assert row == {
        "src": "h1",
        "count": 2,
        "queries": 2,
        "names": ["a.ngrok.io", "b.ngrok.io"],
        "firstTime": "2026-11-20T09:00:05",
        "lastTime": "11/20/2026 09:30:00",
    }


def test_time_window_is_half_open() -> None:
    rows = [
        {"_time": datetime(2026, 11, 20, 9, 0, 0), "src": "at-earliest"},
        {"_time": datetime(2026, 11, 20, 9, 59, 59), "src": "inside"},
        {"_time": datetime(2026, 11, 20, 10, 0, 0), "src": "at-latest"},
    ]
    window = TimeWindow(datetime(2026, 11, 20, 9), datetime(2026, 11, 20, 10))
    search = "| tstats count from datamodel=Network_Resolution by DNS.src"
    assert [r["DNS.src"] for r in run(search, DNS, rows, window)] == ["at-earliest", "inside"]


def test_same_sql_renders_for_spark() -> None:
    compiled = compile_search(NGROK_DNS)
    spark = compiled.sql("spark")
    assert "ENDSWITH(LOWER(`query`), '.ngrok.io')" in spark and "`DNS.query`" in spark


_SHAPES = ["*.ngrok.io", "ngrok*", "*ngrok*", "a*b", "*a*b*", "*", "**", "*50%_!*", "c:\\*\\x*.exe", "a_b*", "*!"]
_TEXTS = ["x.ngrok.io", "ngrok.io", "NGROK http", "my-ngrok-agent", "ab", "a-b", "xayb", "", "50%_!", "5012!",
          "c:\\tools\\x.exe", "c:/tools/x.exe", "a_bc", "axbc", "wow!", None]  # fmt: skip


@pytest.mark.parametrize("value", _SHAPES)
def test_wildcard_shapes_match_exactly_what_an_escaped_like_matches(value: str) -> None:
    """The sqlglot form (compilers) and the SQL text form (the service catalogue) both match what
    an escaped LIKE does."""
    from tunnelhunt.spl import like, semantics

    store = store_with(PROCESSES, [{"_offset": i, "process": t} for i, t in enumerate(_TEXTS)])
    escaped = exp.Escape(
        this=exp.Like(this=exp.column("process"), expression=exp.Literal.string(semantics.wildcard_to_like(value))),
        expression=exp.Literal.string(semantics.LIKE_ESCAPE),
    )
    fast = semantics.wildcard_match(exp.column("process"), value)

    def matched(predicate: exp.Expr | str) -> list[object]:
        text = predicate if isinstance(predicate, str) else predicate.sql("duckdb")
        sql = f"SELECT _offset, ({text}) AS m FROM {PROCESSES.table} ORDER BY _offset"
        return [row["m"] for row in store.query(sql).to_pylist()]  # NULL stays NULL

    assert matched(fast) == matched(escaped)
    assert matched(like.pattern_sql("process", like.wildcard_parts(value))) == matched(escaped)
    if value.strip("*") and "*" not in value.strip("*"):
        assert "LIKE" not in fast.sql("duckdb")  # a suffix, prefix or substring test, not a pattern


def test_unsupported_constructs_name_themselves() -> None:
    with pytest.raises(UnsupportedError, match="data model 'Risk.All_Risk' is not modelled"):
        compile_search("| tstats count from datamodel=Risk.All_Risk by All_Risk.risk_object")
    with pytest.raises(UnsupportedError, match="free-text search term 'ngrok'"):
        compile_search("| tstats count from datamodel=Network_Resolution by DNS.src | search ngrok")
    with pytest.raises(UnsupportedError, match="starts with search terms, tstats or inputlookup, not 'eval'"):
        compile_search("| eval x=1")


# --- long wildcard IN lists: one regex, same answers as one LIKE per value -----------------------------

_LONG_LIST = tuple(f"* http {n}*" for n in range(30)) + (
    "a.b*",  # `.` is literal, not any character
    "*(x)+[y]{2}?^$|\\*",  # every regex metacharacter, literal
    "*%_!*",  # LIKE metacharacters stay literal too
    "ngrok.*.tunnel.com",
    "exact value",
    "10.0.0.0/8",
    "Mixed CASE *",
)
_PROBES = [
    "x http 7 y", "X HTTP 29", "x http 30", "xhttp 7", " http 1", "a.bc", "axbc", "(x)+[y]{2}?^$|\\ end",
    "(x)+[y]{2}?^$| end", "z%_!z", "z%x!z", "ngrok.us.tunnel.com", "ngrok.tunnel.com", "EXACT VALUE",
    "exact value ", "10.1.2.3", "11.1.2.3", "mixed case here", "mixed casehere", "line\none http 4\nend", "",
]  # fmt: skip


def _matching_rows(values: tuple[str, ...], multivalue: bool, regex_min: int) -> list[int]:
    from tunnelhunt.spl import semantics

    node, field = (DNS, "answer") if multivalue else (PROCESSES, "process")
    rows = [{"_offset": i, field: [p] if multivalue else p} for i, p in enumerate(_PROBES)]
    if multivalue:
        rows.append({"_offset": len(_PROBES), field: ["nothing", "X HTTP 3"]})
    store = store_with(node, rows)
    original = semantics.WILDCARD_REGEX_MIN
    semantics.WILDCARD_REGEX_MIN = regex_min
    try:
        predicate = semantics.in_list(exp.column(field), values, multivalue)
    finally:
        semantics.WILDCARD_REGEX_MIN = original
    sql = f"SELECT _offset FROM {node.table} WHERE {predicate.sql('duckdb')} ORDER BY _offset"
    return [row["_offset"] for row in store.query(sql).to_pylist()]


@pytest.mark.parametrize("multivalue", [False, True])
def test_long_wildcard_list_regex_matches_exactly_what_likes_match(multivalue: bool) -> None:
    as_regex = _matching_rows(_LONG_LIST, multivalue, regex_min=2)
    as_likes = _matching_rows(_LONG_LIST, multivalue, regex_min=10_000)
    assert as_regex == as_likes
    expected = {0, 1, 2, 4, 5, 7, 9, 11, 13, 15, 17, 19}  # "x http 30" is "* http 3*"; near misses stay out
    if multivalue:
        expected.add(len(_PROBES))
    assert set(as_regex) == expected


def test_long_wildcard_list_compiles_to_one_regex_that_renders_for_spark() -> None:
    from tunnelhunt.spl import semantics

    predicate = semantics.in_list(exp.column("process"), _LONG_LIST, multivalue=False)
    duck, spark = predicate.sql("duckdb"), predicate.sql("spark")
    assert duck.count("REGEXP_EXTRACT('#' ||") == 1 and "LIKE" not in duck and "REGEXP_MATCHES" not in duck
    assert spark.count("REGEXP_EXTRACT('#' ||") == 1 and "\\\\A#" in spark
    assert semantics.wildcards_regex(("a.b*", "*x|y")) == r"(?s)\A(?:a\.b.*|.*x\|y)\z"
    assert semantics.wildcards_regex(("a.b*",), "#") == r"(?s)\A#(?:a\.b.*)\z"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("**", "x*"), {0, 1, 2, 3, 4}),  # `**` matches any value, the empty one too (not a missing one)
        (("*#*", "x*"), {1, 2}),  # the mark put before the value is not part of it: "" and "y" stay out
        (("#*", "x*"), {1, 2}),
        (("*", "x*"), {0, 1, 2, 3, 4}),  # a lone `*` is "the field exists"
    ],
)
def test_long_wildcard_list_treats_empty_and_missing_values_as_likes_do(
    values: tuple[str, ...], expected: set[int]
) -> None:
    from tunnelhunt.spl import semantics

    rows = [{"_offset": i, "process": p} for i, p in enumerate(["", "xy", "#y", "y", "\n"])]
    rows.append({"_offset": 5, "process": None})
    store = store_with(PROCESSES, rows)
    found = []
    for regex_min in (1, 10_000):
        original = semantics.WILDCARD_REGEX_MIN
        semantics.WILDCARD_REGEX_MIN = regex_min
        try:
            predicate = semantics.in_list(exp.column("process"), values, multivalue=False)
        finally:
            semantics.WILDCARD_REGEX_MIN = original
        sql = f"SELECT _offset FROM {PROCESSES.table} WHERE {predicate.sql('duckdb')} ORDER BY _offset"
        found.append({row["_offset"] for row in store.query(sql).to_pylist()})
    assert found == [expected, expected]


# --- non-ASCII case folding (issue 19): a letter lowered alone, the same on DuckDB and Spark ------------

_FOLD_PROBES = [
    "İstanbul", "ISTANBUL", "istanbul", "ıstanbul",  # the dotless ı is another letter: a near miss
    "ΣΊΣΥΦΟΣ", "σίσυφος", "Σίσυφοσ", "ΣΙΣΥΦΟΣ",  # no accent: another word
    "straße", "STRAẞE", "strasse", "STRASSE",  # ß is one letter, not ss
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('Processes.process="İstanbul"', {"İstanbul", "ISTANBUL", "istanbul"}),
        ('Processes.process="istanbul"', {"İstanbul", "ISTANBUL", "istanbul"}),
        ('Processes.process="İST*"', {"İstanbul", "ISTANBUL", "istanbul"}),
        ('Processes.process="ΣΊΣΥΦΟΣ"', {"ΣΊΣΥΦΟΣ", "σίσυφος", "Σίσυφοσ"}),
        ('Processes.process="σίσυφος"', {"ΣΊΣΥΦΟΣ", "σίσυφος", "Σίσυφοσ"}),
        ('Processes.process IN ("σίσυφος", "x")', {"ΣΊΣΥΦΟΣ", "σίσυφος", "Σίσυφοσ"}),
        ('Processes.process="*ΦΟς"', {"ΣΊΣΥΦΟΣ", "σίσυφος", "Σίσυφοσ", "ΣΙΣΥΦΟΣ"}),
        ('Processes.process="STRAẞE"', {"straße", "STRAẞE"}),
        ('Processes.process="strasse"', {"strasse", "STRASSE"}),
    ],
)
def test_non_ascii_values_compare_letter_by_letter_case_insensitively(where: str, expected: set[str]) -> None:
    search = f"| tstats count from datamodel=Endpoint.Processes where {where} by Processes.process"
    rows = run(search, PROCESSES, [{"process": p} for p in _FOLD_PROBES])
    assert {r["Processes.process"] for r in rows} == expected


def test_spark_lowers_letter_by_letter_as_duckdb_does() -> None:
    from tunnelhunt.detect.spark import spark_sql

    compiled = compile_search('| tstats count from datamodel=Endpoint.Processes where Processes.process="İstanbul"')
    assert "LOWER(TRANSLATE(`process`, 'İΣ', 'iσ')) = 'istanbul'" in spark_sql(compiled)


def test_no_character_lowers_to_a_caseless_ascii_character_but_itself() -> None:
    """What a multivalue match's first filter rests on (`semantics.caseless_run`): DuckDB's LOWER on every
    code point gives an ASCII character other than a letter only from that character itself."""
    import duckdb

    caseless = "".join(chr(c) for c in range(128) if not chr(c).isalpha())
    found = duckdb.sql("""
        SELECT i FROM range(0, 1114112) t(i)
        WHERE NOT i BETWEEN 55296 AND 57343
          AND regexp_matches(lower(chr(i::INTEGER)), '[\\x00-\\x40\\x5b-\\x60\\x7b-\\x7f]')
          AND lower(chr(i::INTEGER)) <> chr(i::INTEGER)
    """).fetchall()
    assert found == [] and len(caseless) == 128 - 52


_ANSWERS = [
    ["A.NGROK-CNAME.COM"],  # upper case
    ["10.0.0.1", "x.ngrok-cname.com"],  # one element of several
    [None, "y.Ngrok-Cname.com"],  # beside a NULL element
    ["x.ngro\u212a-cname.com"],  # the Kelvin sign lowers to k
    ["\u0130.ngrok-cname.com"],  # İ lowers to i
    ["x.ngrok-cname.com.evil.net"],  # near misses: not at the end,
    ["x.ngrok\u2013cname.com"],  # an en dash is no hyphen,
    ["x.ngrokcname.com", "ngrok-cname.com"],  # no hyphen, no dot before
    [],  # empty
    None,  # missing
    [None],
]


@pytest.mark.parametrize(
    "where",
    ['DNS.answer="*.ngrok-cname.com"', 'DNS.answer="*-CNAME.COM"', 'DNS.answer!="*.ngrok-cname.com"',
     'DNS.answer="*:53"', 'DNS.answer="10.0.0.0/8"', 'DNS.answer="*.com"'],
)  # fmt: skip
def test_multivalue_match_with_a_first_filter_finds_what_lowering_every_element_finds(where: str, monkeypatch) -> None:
    """`field=value` over a list filters elements on the value's caseless run first: the same rows as
    the exact test on every element, for case variants, one matching element among several, NULLs,
    empty and missing lists."""
    search = f"| tstats count from datamodel=Network_Resolution where {where} by DNS.src"
    rows = [{"src": f"h{i}", "answer": answer} for i, answer in enumerate(_ANSWERS)]
    with_first = {r["DNS.src"] for r in run(search, DNS, rows)}
    monkeypatch.setattr("tunnelhunt.spl.semantics._element_first", lambda value: None)
    every_element = {r["DNS.src"] for r in run(search, DNS, rows)}
    assert with_first == every_element
    if where == 'DNS.answer="*.ngrok-cname.com"':
        assert with_first == {"h0", "h1", "h2", "h3", "h4"}


def test_a_multivalue_match_filters_on_the_caseless_run_first_on_both_engines() -> None:
    from tunnelhunt.detect.spark import spark_sql

    compiled = compile_search('| tstats count from datamodel=Network_Resolution where DNS.answer="*.ngrok-cname.com"')
    assert "LIST_FILTER(LIST_FILTER(\"answer\", LAMBDA x : CONTAINS(x, '-'))" in compiled.sql("duckdb")
    assert "FILTER(FILTER(`answer`, x -> CONTAINS(x, '-'))" in spark_sql(compiled)
    plain = compile_search('| tstats count from datamodel=Network_Resolution where DNS.answer="*.example.com"')
    assert "CONTAINS" not in plain.sql("duckdb")  # dots alone: every answer has them
