"""SigmaHQ's regression suite: each `regression_data/**/info.yml` names a rule, a sample and `match_count`.

A case passes when the rule matches at least `match_count` events of its sample (SigmaHQ's own rule)
and is exact when it matches exactly that many. Each case gets a fresh in-memory DuckDB holding only
its sample's events, loaded by the caller's `EventLoader` (the raw-event ingest), so cases never see
each other's events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from tunnelhunt.sigma.compiler import CompileOptions, SigmaCompileError, compile_rule
from tunnelhunt.sigma.rules import load_content, rule_ids

#: Creates the `events` table in a connection from sample files.
EventLoader = Callable[[duckdb.DuckDBPyConnection, list[Path]], object]


@dataclass(frozen=True)
class RegressionCase:
    """One test of an info.yml: the rule, the sample (resolved under the suite's root) and the expected count."""

    info: Path
    rule_id: str
    title: str
    name: str
    kind: str
    sample: Path
    match_count: int


@dataclass
class CaseResult:
    case: RegressionCase
    matched: int | None = None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.matched is not None and self.matched >= self.case.match_count

    @property
    def exact(self) -> bool:
        return self.matched == self.case.match_count


@dataclass
class RegressionReport:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def exact(self) -> int:
        return sum(r.exact for r in self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]


def _sample_path(root: Path, info: Path, path: str) -> Path:
    """info.yml paths start at the repository (`regression_data/...`); fall back to the info's folder."""
    relative = Path(path)
    parts = relative.parts
    if parts and parts[0] == root.name:
        candidate = root.joinpath(*parts[1:])
        if candidate.exists():
            return candidate
    return info.parent / relative.name


def discover(root: Path) -> list[RegressionCase]:
    """Every case of every info.yml under `root`, whatever its sample type (`evtx`, `json`, ...): the ingest
    recognises a sample by its content, and a sample it cannot read fails its case rather than vanishing."""
    cases: list[RegressionCase] = []
    for info in sorted(root.rglob("info.yml")):
        data = yaml.safe_load(info.read_text(encoding="utf-8")) or {}
        metadata = (data.get("rule_metadata") or [{}])[0]
        for test in data.get("regression_tests_info") or []:
            cases.append(
                RegressionCase(
                    info=info,
                    rule_id=str(metadata.get("id", "")).lower(),
                    title=str(metadata.get("title", "")),
                    name=str(test.get("name", "")),
                    kind=str(test.get("type", "")),
                    sample=_sample_path(root, info, str(test["path"])),
                    match_count=int(test.get("match_count", 1)),
                )
            )
    return cases


def run_case(
    case: RegressionCase, rule_file: Path | None, load_events: EventLoader, options: CompileOptions | None = None
) -> CaseResult:
    """Compile the case's rule and count its matches over the sample alone."""
    result = CaseResult(case)
    if rule_file is None:
        result.error = f"rule {case.rule_id} not found"
        return result
    content = load_content([rule_file])
    rule = next((r for r in content.rules if str(r.id).lower() == case.rule_id), None)
    if rule is None:
        result.error = "; ".join(f"{where}: {why}" for where, why in content.errors) or "rule did not load"
        return result
    try:
        compiled = compile_rule(rule, options=options)
    except SigmaCompileError as exc:
        result.error = f"does not convert: {exc}"
        return result
    con = duckdb.connect()
    try:
        load_events(con, [case.sample])
        count = con.execute(f"SELECT count(*) FROM ({compiled.sql('duckdb')})").fetchone()
        result.matched = int(count[0]) if count else 0
    except (duckdb.Error, OSError, ValueError) as exc:
        result.error = f"failed to run: {type(exc).__name__}: {exc}"
    finally:
        con.close()
    return result


def run_regression(
    root: Path, rules: Iterable[Path], load_events: EventLoader, options: CompileOptions | None = None
) -> RegressionReport:
    """Run every case under `root` with the rules found (by id) in the `rules` files and folders."""
    index: dict[str, Path] = {}
    for folder in rules:
        for rule_id, path in rule_ids(folder).items():
            index.setdefault(rule_id, path)
    report = RegressionReport()
    for case in discover(root):
        report.results.append(run_case(case, index.get(case.rule_id), load_events, options))
    return report
