"""Sigma rules as content: pySigma parses them, tunnelhunt compiles them to the SPL compiler's SQL form.

content (Sigma YAML) → `rules.load_content` (one pySigma collection: correlations resolved, Sigma
filters applied) → `compiler.SigmaCompiler` (pySigma pipelines per logsource mapping + the sqlglot
backend) → a `spl.compiler.CompiledSearch` over the raw-event table `events`, which DuckDB, the lake
and Spark run unchanged (`.sql("duckdb")` / `.sql("spark")`).

Public API:
- `load_content(paths) -> SigmaContent` (`.rules`, `.correlations`, `.errors`)
- `compile_rule(rule, window=None, options=None) -> CompiledSearch`: one row per matching event
- `compile_correlation(rule, window=None) -> CompiledSearch`: one row per matching group
- `run_sigma(engine, rules, window=None) -> list[DetectionRun]`: hits as detection runs whose
  `detection` (a `SigmaDetection`) carries risk objects `host`/`user` scored by level (`LEVEL_SCORES`),
  so `rba.risk.risk_events` adds them up with ESCU findings; rules of the same logsource share one scan
  of the events (`scan`)
- `regression.run_regression(root, rule_dirs, load_events) -> RegressionReport` (SigmaHQ regression_data)

Extending:
- a logsource: append a `logsources.LogsourceMapping` (a pySigma `ProcessingPipeline` adding the event
  conditions and field renames, and the identifiers of the items that select events) to
  `logsources.MAPPINGS`, or pass `CompileOptions(mappings=...)`; a generic category over a Zeek, Suricata,
  ECS or OCSF log is an `EventSource` in `netsources.py` (list-valued fields: `multivalue.py`);
- `|expand` placeholders: `CompileOptions(placeholders={"name": ["value", ...]})`;
- a modifier: pySigma owns modifiers (`sigma.modifiers.modifier_mapping`); one that yields a new value
  type needs a `convert_condition_*` method on `backend.SqlglotBackend` returning a sqlglot predicate.
Semantics and deliberate differences from other engines: docs/sigma.md.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from tunnelhunt.sigma.rules import SigmaContent, load_content

if TYPE_CHECKING:
    from tunnelhunt.sigma.compiler import CompileOptions, SigmaCompileError, SigmaCompiler, compile_rule
    from tunnelhunt.sigma.correlation import compile_correlation
    from tunnelhunt.sigma.results import LEVEL_SCORES, SigmaDetection, sigma_detection
    from tunnelhunt.sigma.scan import run_sigma

#: Where each public name lives: imported on first use (PEP 562), so that a hunt without Sigma rules
#: does not import pySigma (a tenth of a second or more at start-up).
_LAZY = {
    "CompileOptions": "compiler", "SigmaCompileError": "compiler", "SigmaCompiler": "compiler",
    "compile_rule": "compiler", "compile_correlation": "correlation", "LEVEL_SCORES": "results",
    "SigmaDetection": "results", "run_sigma": "scan", "sigma_detection": "results",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"tunnelhunt.sigma.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LEVEL_SCORES",
    "CompileOptions",
    "SigmaCompileError",
    "SigmaCompiler",
    "SigmaContent",
    "SigmaDetection",
    "compile_correlation",
    "compile_rule",
    "load_content",
    "run_sigma",
    "sigma_detection",
]
