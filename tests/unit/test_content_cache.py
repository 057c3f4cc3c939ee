"""The compiled-content cache: JSON entries by key, atomic, corrupt or hostile entries ignored; sqlglot trees
kept exactly; Sigma conversions kept per rule, with the same predicates and errors as converting again."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import pytest
from sqlglot import exp, parse_one

from tunnelhunt.content.cache import (
    CACHE_ENV,
    ContentCache,
    default_cache_dir,
    digest,
    dump_expression,
    load_expression,
    open_cache,
)
from tunnelhunt.sigma import rules as rules_module
from tunnelhunt.sigma.compiler import SigmaCompileError, SigmaCompiler
from tunnelhunt.sigma.keys import rule_key
from tunnelhunt.sigma.rules import SigmaContent, load_content


def test_entries_round_trip_and_a_corrupt_one_is_ignored_then_rewritten(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path)
    cache.put("k", "ab12", {"x": [1, "two"]})
    assert cache.get("k", "ab12") == {"x": [1, "two"]}
    assert cache.get("k", "cd34") is None
    entry = tmp_path / "k" / "ab" / "ab12.json"
    entry.write_bytes(b'{"x": [1, "tw')  # half an entry, as a crash of a non-atomic writer would leave
    assert cache.get("k", "ab12") is None
    cache.put("k", "ab12", {"x": 3})
    assert cache.get("k", "ab12") == {"x": 3}
    assert [p.name for p in entry.parent.iterdir()] == ["ab12.json"]  # no temporary file left behind


def test_an_unwritable_directory_makes_the_cache_do_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    cache = ContentCache(blocked)
    cache.put("k", "ab12", {"x": 1})
    assert cache.get("k", "ab12") is None


def test_where_the_cache_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "tunnelhunt"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "tunnelhunt"
    assert open_cache(tmp_path, enabled=False) is None
    assert open_cache(tmp_path / "new") == ContentCache(tmp_path / "new")
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700


def test_a_directory_others_can_write_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert open_cache(shared) is None
    shared.chmod(0o755)
    assert open_cache(shared) == ContentCache(shared)


def test_digest_tells_parts_apart() -> None:
    assert digest("ab", "c") != digest("a", "bc")
    assert digest("a", b"b") == digest(b"a", "b")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a FROM t WHERE LOWER(x) LIKE '%a!%%' ESCAPE '!' AND fields['k'] = 1",
        "SELECT TRY_CAST(x AS DOUBLE) > 2.5, CAST(y AS TIMESTAMP), [1, 2], NULL, TRUE FROM t",
        "SELECT COALESCE(REGEXP_MATCHES(a, '(?i)x'), FALSE) FROM t WHERE NOT b IN ('a', 'b')",
    ],
)
def test_expressions_round_trip_exactly(sql: str) -> None:
    tree = parse_one(sql, read="duckdb")
    for node in tree.walk():  # the parser's positions: trees the compilers build have none
        node._meta = None
    loaded = load_expression(json.loads(json.dumps(dump_expression(tree))))
    assert loaded == tree
    assert loaded.sql("duckdb") == tree.sql("duckdb") and loaded.sql("spark") == tree.sql("spark")


def test_a_deeply_nested_tree_round_trips() -> None:
    tree = exp.or_(*[exp.column("x").eq(exp.Literal.string(str(i))) for i in range(5000)])
    loaded = load_expression(json.loads(json.dumps(dump_expression(tree))))
    assert loaded is not None and loaded.sql() == tree.sql()


def test_a_tree_with_comments_or_metadata_is_not_kept() -> None:
    assert dump_expression(parse_one("SELECT a /* note */ FROM t")) is None
    assert dump_expression(parse_one("SELECT a FROM t")) is None  # the parser's positions


@pytest.mark.parametrize(
    "data",
    [
        {"shapes": [["os.system", []]], "ops": [0]},  # a dotted name: sqlglot's serde would import it
        {"shapes": [["Exception", []]], "ops": [0]},  # not a node class
        {"shapes": [["Column", ["this"]]], "ops": [0]},  # an argument missing
        {"shapes": [["Column", [1]]], "ops": [["x"], 0]},  # a key that is no name
        {"shapes": [], "ops": [["x"]]},  # a scalar, not a tree
        {"shapes": [["Column", []]], "ops": [0, 0]},  # two trees
        {"shapes": [["Column", []]], "ops": [{"a": 5}]},
        {"shapes": [["Column", []]], "ops": [{"d": "NO_SUCH_TYPE"}]},
        {"shapes": [["Column", []]], "ops": [[{"nested": 1}]]},
        [],
        "SELECT 1",
    ],
)
def test_hostile_or_malformed_entries_load_as_nothing(data: object) -> None:
    assert load_expression(data) is None


RULE = """\
title: cache test
id: 5b0e3a52-2a56-4a3b-9d2a-1c7e0b6a9f01
level: high
logsource: {category: process_creation, product: windows}
detection:
  selection: {Image|endswith: '\\\\ngrok.exe', CommandLine|contains: VALUE}
  condition: selection
"""
UNMAPPED = """\
title: unmapped
id: 7c1e3a52-2a56-4a3b-9d2a-1c7e0b6a9f02
logsource: {product: nosuchproduct}
detection:
  selection: {a: b}
  condition: selection
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _sql(predicates: list[tuple[str, exp.Expr]]) -> list[tuple[str, str]]:
    return [(name, predicate.sql("duckdb")) for name, predicate in predicates]


def test_a_warm_sigma_conversion_equals_a_cold_one_and_a_changed_file_converts_again(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    path = _write(rules, "r.yml", RULE.replace("VALUE", "tcp"))
    _write(rules, "u.yml", UNMAPPED)
    cache = ContentCache(tmp_path / "cache")
    content = load_content([rules])
    ruled = {r.title: r for r in content.rules}
    fresh = _sql(SigmaCompiler().mapped(ruled["cache test"]))
    cold = _sql(SigmaCompiler(cache=cache).mapped(ruled["cache test"]))
    with pytest.raises(SigmaCompileError) as cold_error:
        SigmaCompiler(cache=cache).mapped(ruled["unmapped"])
    entries = sorted((tmp_path / "cache" / "sigma").rglob("*.json"))
    assert len(entries) == 2  # the rule's predicates, and the failure's message

    warm_content = load_content([rules])
    warm_rules = {r.title: r for r in warm_content.rules}
    warm = SigmaCompiler(cache=cache)
    warm._convert = None  # type: ignore[assignment,method-assign]  # a warm conversion must not convert
    assert _sql(warm.mapped(warm_rules["cache test"])) == cold == fresh
    with pytest.raises(SigmaCompileError) as warm_error:
        warm.mapped(warm_rules["unmapped"])
    assert str(warm_error.value) == str(cold_error.value)

    path.write_text(RULE.replace("VALUE", "http"))
    changed = {r.title: r for r in load_content([rules]).rules}
    assert rule_key(changed["cache test"]) != rule_key(ruled["cache test"])
    converted = _sql(SigmaCompiler(cache=cache).mapped(changed["cache test"]))
    assert converted != cold and "http" in converted[0][1]


def test_a_corrupt_sigma_entry_is_converted_again_and_rewritten(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    _write(rules, "r.yml", RULE.replace("VALUE", "tcp"))
    cache = ContentCache(tmp_path / "cache")
    rule = load_content([rules]).rules[0]
    cold = _sql(SigmaCompiler(cache=cache).mapped(rule))
    (entry,) = (tmp_path / "cache" / "sigma").rglob("*.json")
    entry.write_text(json.dumps({"predicates": [["windows", {"shapes": [["os.system", []]], "ops": [0]}]]}))
    assert _sql(SigmaCompiler(cache=cache).mapped(load_content([rules]).rules[0])) == cold
    assert "os.system" not in entry.read_text()


def test_a_file_that_is_not_yaml_is_a_load_error_naming_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    _write(rules, "good.yml", RULE.replace("VALUE", "tcp"))
    bad = _write(rules, "bad.yml", "title: x\nlogsource: {product: windows\n  bad: [\n")
    content = load_content([rules])
    assert [r.title for r in content.rules] == ["cache test"]
    ((where, message),) = content.errors
    assert where == str(bad) and f'in "{bad}", line 2' in message


def _rules(content: SigmaContent) -> list[tuple[object, ...]]:
    return [(r.title, r.date, r.modified, rule_key(r), str(r.detection.to_dict())) for r in content.rules]


def test_parsed_sigma_yaml_is_kept_with_its_dates_and_a_changed_or_odd_file_is_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules"
    dated = RULE.replace("level: high", "level: high\ndate: 2024-02-29\nmodified: 2025-01-02")
    path = _write(rules, "r.yml", dated.replace("VALUE", "tcp"))
    # a !!set is no JSON: that file is parsed on every run, the others come from the cache
    _write(rules, "s.yml", RULE.replace("VALUE", "udp").replace("cache test", "set rule") + "note: !!set {a}\n")
    _write(rules, "bad.yml", "title: x\nlogsource: {product: windows\n")
    cache = ContentCache(tmp_path / "cache")
    fresh = load_content([rules])
    cold = load_content([rules], cache)
    assert _rules(cold) == _rules(fresh) and cold.errors == fresh.errors and len(fresh.errors) == 1
    assert fresh.rules[0].date == date(2024, 2, 29)  # a date, as libyaml gives it

    parsed: list[str] = []
    real = rules_module._parse_file

    def counting(file: Path) -> tuple[list[object], bytes]:
        parsed.append(file.name)
        return real(file)

    monkeypatch.setattr(rules_module, "_parse_file", counting)
    warm = load_content([rules], cache)
    assert _rules(warm) == _rules(fresh) and warm.errors == fresh.errors
    assert parsed == ["bad.yml", "s.yml"]
    path.write_text(dated.replace("VALUE", "http"))
    parsed.clear()
    changed = load_content([rules], cache)
    assert parsed == ["bad.yml", "r.yml", "s.yml"] and "http" in str(changed.rules[0].detection.to_dict())
