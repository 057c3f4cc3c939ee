"""Which detections tunnelhunt can run, and what stops the others.

A detection counts as compiled only when its SQL also runs on a store (the store may be empty:
binding the query checks every table, column, type and regular expression). The report's JSON
shape is stable so that runs can be compared: `{"detections": [{"path", "name", "data_models",
"compiled", "reason"}]}`. Sigma rules (`--sigma`, or Sigma YAML among the detections) are entries too:
their `path` is the rule file, `data_models` their logsource (`sigma:product/category/service`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sigma.exceptions import SigmaError

from tunnelhunt.actions.common import OptionError, check_exist, load_sigma
from tunnelhunt.content.files import ContentError
from tunnelhunt.content.loader import ContentSet, load_content, source_path
from tunnelhunt.content.models import Detection
from tunnelhunt.detect.runner import compile_detection, execute, expand_detection
from tunnelhunt.sigma import SigmaCompileError, SigmaContent
from tunnelhunt.sigma.results import compile_any
from tunnelhunt.sigma.rules import SigmaRuleKind, rule_location
from tunnelhunt.spl.compiler import CompiledSearch
from tunnelhunt.spl.errors import SplError
from tunnelhunt.spl.macros import strip_comments
from tunnelhunt.store.duckdb_store import Store

_DATAMODEL = re.compile(r"datamodel\s*=\s*\"?([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)", re.IGNORECASE)
_NODENAME = re.compile(r"nodename\s*=\s*\"?([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)", re.IGNORECASE)


@dataclass
class ReportEntry:
    path: str
    name: str
    data_models: list[str]
    compiled: bool
    reason: str | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CompileOutcome:
    """One detection's entry plus its SQL (when it compiled) for printing."""

    entry: ReportEntry
    compiled: CompiledSearch | None = None


def data_models(search: str) -> list[str]:
    """Data models (and nodes) a search names, e.g. `Endpoint.Processes`, `Network_Resolution.DNS`."""
    text = strip_comments(search)
    found: list[str] = []
    nodes = _NODENAME.findall(text)
    for name in _DATAMODEL.findall(text):
        if "." not in name and nodes:
            found.extend(f"{name}.{node}" for node in nodes)
        else:
            found.append(name)
    return list(dict.fromkeys(found))


def _reason(exc: Exception) -> str:
    if isinstance(exc, SplError):
        return str(exc)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"failed to run: {type(exc).__name__}: {message}"


def compile_one(detection: Detection, content: ContentSet, store: Store) -> CompileOutcome:
    path = source_path(detection)
    try:
        search = expand_detection(detection, content.macros)
    except SplError:
        search = detection.search
    entry = ReportEntry(str(path) if path else detection.name, detection.name, data_models(search), False, None)
    try:
        compiled = compile_detection(detection, content.macros, lookups=content.lookups)
        execute(store, compiled)
    except (SplError, duckdb.Error, OSError, pa.ArrowException) as exc:
        entry.reason = _reason(exc)
        return CompileOutcome(entry)
    entry.compiled = True
    return CompileOutcome(entry, compiled)


def compile_all(
    content: ContentSet, store: Store, on_outcome: Callable[[CompileOutcome], None] | None = None
) -> list[ReportEntry]:
    """Compile and dry-run every detection; files that did not load are entries with their error."""
    entries: list[ReportEntry] = []
    for error in content.errors:
        if _is_detection_error(error):
            entries.append(ReportEntry(str(error.path), error.path.stem, [], False, f"does not load: {error.message}"))
    for detection in sorted(content.detections, key=lambda d: str(source_path(d) or d.name)):
        outcome = compile_one(detection, content, store)
        entries.append(outcome.entry)
        if on_outcome:
            on_outcome(outcome)
    return entries


def compile_sigma(
    sigma: SigmaContent, store: Store, on_outcome: Callable[[CompileOutcome], None] | None = None
) -> list[ReportEntry]:
    """Convert and dry-run every Sigma rule; files that did not parse are entries with their error."""
    entries = [ReportEntry(where, Path(where).stem, [], False, f"does not load: {why}") for where, why in sigma.errors]
    for rule in sorted(sigma.runnable(), key=rule_location):
        entry = ReportEntry(rule_location(rule), rule.title or str(rule.id), [logsource_name(rule)], False, None)
        outcome = CompileOutcome(entry)
        try:
            compiled = compile_any(rule)
            execute(store, compiled)
        except (SigmaCompileError, SigmaError) as exc:
            entry.reason = f"does not convert: {exc}"
        except (duckdb.Error, OSError, pa.ArrowException) as exc:
            entry.reason = _reason(exc)
        else:
            entry.compiled = True
            outcome.compiled = compiled
        entries.append(entry)
        if on_outcome:
            on_outcome(outcome)
    return entries


def logsource_name(rule: SigmaRuleKind) -> str:
    """`sigma:product/category/service` of a detection rule (`sigma:correlation` for a correlation)."""
    logsource = getattr(rule, "logsource", None)
    if logsource is None:
        return "sigma:correlation"
    return "sigma:" + "/".join(part or "" for part in (logsource.product, logsource.category, logsource.service))


def _is_detection_error(error: ContentError) -> bool:
    return "macros" not in error.path.parts and "lookups" not in error.path.parts


def obstacle(reason: str) -> str:
    """The named obstacle of a reason, without positions and specific values, for grouping."""
    text = re.sub(r" at position \d+", "", reason)
    text = re.sub(r"`[^`]*`", "`…`", text)
    text = re.sub(r"'[^']*' is not defined", "'…' is not defined", text)
    return text.split(": ", 2)[-1] if text.startswith("failed to run") else text


def top_reasons(entries: list[ReportEntry], limit: int = 10) -> list[tuple[str, int]]:
    return Counter(obstacle(e.reason) for e in entries if e.reason).most_common(limit)


def report_json(entries: list[ReportEntry]) -> dict[str, Any]:
    return {"detections": [entry.as_json() for entry in entries]}


def summarise(entries: list[ReportEntry], prefixes: tuple[str, ...]) -> tuple[int, int]:
    """(detections naming a data model starting with one of `prefixes`, how many of them compiled)."""
    chosen = [e for e in entries if any(m.lower().startswith(p.lower()) for m in e.data_models for p in prefixes)]
    return len(chosen), sum(1 for e in chosen if e.compiled)


def paths_in(entries: list[ReportEntry]) -> list[Path]:
    return [Path(e.path) for e in entries]


@dataclass
class CompileResult:
    """`compile`: one entry per detection file, and how many compile and run."""

    entries: list[ReportEntry]

    @property
    def compiled(self) -> int:
        return sum(1 for e in self.entries if e.compiled)


def compile_content(
    path: Path | None,
    macros: Sequence[Path] = (),
    on_outcome: Callable[[CompileOutcome], None] | None = None,
    sigma: Sequence[Path] = (),
) -> CompileResult:
    """Compile every detection under `path` and every Sigma rule, and dry-run each on an empty store."""
    if path is None and not sigma:
        raise OptionError("give a detection file or folder, or --sigma PATH")
    paths = [path] if path is not None else []
    check_exist(paths)
    content = load_content(paths, list(macros), shipped_detections=False)
    rules = load_sigma([*sigma, *content.sigma])
    with Store() as store:
        entries = compile_all(content, store, on_outcome)
        return CompileResult(entries + compile_sigma(rules, store, on_outcome))
