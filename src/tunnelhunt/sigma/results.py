"""Sigma hits as `DetectionRun`s, so output, risk events and exit codes treat them like ESCU findings.

Each rule becomes a `SigmaDetection` (the lenient ESCU `Detection` model: name = title, id, status,
ATT&CK ids from the `attack.tNNNN` tags) whose risk configuration is derived from the Sigma level:

| level         | risk score | |
|---------------|-----------:|-|
| informational | 0          | no risk events (a hit is context, not risk) |
| low           | 20         | |
| medium        | 40         | |
| high          | 60         | |
| critical      | 80         | |

The risk objects are the event's `host` (system) and `user` (user) columns of the findings, so
`rba.risk.risk_events` sums Sigma and ESCU risk per entity. Scores stop at 80 so a critical Sigma hit
alone does not reach ES's default risk threshold of 100: that takes a second finding on the same entity.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError

from tunnelhunt.content.models import Detection, Rba, RiskObject, Tags
from tunnelhunt.detect.runner import DetectionRun, QueryEngine, QueryError
from tunnelhunt.sigma.compiler import SigmaCompileError, SigmaCompiler, TimeWindow, attack_ids, default_compiler
from tunnelhunt.sigma.correlation import compile_correlation
from tunnelhunt.sigma.rules import SigmaRuleKind, rule_location
from tunnelhunt.spl.compiler import CompiledSearch

LEVEL_SCORES = {"informational": 0, "low": 20, "medium": 40, "high": 60, "critical": 80}


class SigmaDetection(Detection):
    """A Sigma rule seen as a detection; `search` holds where it came from (it has no SPL)."""

    level: str | None = None

    @property
    def search_name(self) -> str:
        return f"Sigma - {self.name} - Rule"


def level_score(level: str | None) -> int:
    """The risk score of a Sigma level (unknown or missing levels count as medium)."""
    return LEVEL_SCORES.get((level or "medium").lower(), LEVEL_SCORES["medium"])


def sigma_detection(rule: SigmaRuleKind) -> SigmaDetection:
    """The detection record of a Sigma rule, with risk objects `host` and `user` scored by its level."""
    level = rule.level.name.lower() if rule.level else None
    score = level_score(level)
    risk = None
    if score > 0:
        risk = Rba(
            message=f"Sigma: {rule.title} on $host$",
            risk_objects=[
                RiskObject(field="host", type="system", score=score),
                RiskObject(field="user", type="user", score=score),
            ],
        )
    source = rule_location(rule)
    return SigmaDetection(
        name=rule.title or str(rule.id),
        id=str(rule.id),
        status=rule.status.name.lower() if rule.status else None,
        type="Correlation" if isinstance(rule, SigmaCorrelationRule) else "TTP",
        description=rule.description or "",
        search=f"sigma:{source}",
        references=list(rule.references or []),
        rba=risk,
        tags=Tags(mitre_attack_id=attack_ids(rule.tags)),
        level=level,
    )


def compile_any(
    rule: SigmaRuleKind, window: TimeWindow | None = None, compiler: SigmaCompiler | None = None
) -> CompiledSearch:
    """A detection or correlation rule's search; raises SigmaCompileError or pySigma's SigmaError."""
    compiler = compiler or default_compiler()
    if isinstance(rule, SigmaCorrelationRule):
        return compile_correlation(rule, window, compiler)
    return compiler.compile(rule, window)


def run_sigma_rule(
    store: QueryEngine,
    rule: SigmaRuleKind,
    window: TimeWindow | None = None,
    compiler: SigmaCompiler | None = None,
) -> DetectionRun:
    """Compile and run one rule (detection or correlation); errors are kept on the run, never raised."""
    run = DetectionRun(sigma_detection(rule))
    try:
        run.compiled = compile_any(rule, window, compiler)
    except (SigmaCompileError, SigmaError) as exc:
        run.error = f"does not compile: {exc}"
        return run
    try:
        run.findings = store.run(run.compiled)
    except (duckdb.Error, OSError, pa.ArrowException, QueryError) as exc:
        run.error = f"failed to run: {type(exc).__name__}: {exc}"
    return run
