"""Compile detections (macros expanded, filters applied) and run them on the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from tunnelhunt.content.loader import MacroLibrary
from tunnelhunt.content.models import Detection
from tunnelhunt.spl.compiler import CompiledSearch, TimeWindow, compile_search
from tunnelhunt.spl.errors import SplError
from tunnelhunt.spl.macros import expand_macros
from tunnelhunt.store.duckdb_store import Store


@dataclass
class DetectionRun:
    """One detection's outcome: its findings, or why it could not run."""

    detection: Detection
    compiled: CompiledSearch | None = None
    findings: pa.Table | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, object]]:
        return self.findings.to_pylist() if self.findings is not None else []


def compile_detection(detection: Detection, macros: MacroLibrary, window: TimeWindow | None = None) -> CompiledSearch:
    """Expand macros (user filter overrides included) and compile; raises SplError."""
    return compile_search(expand_macros(detection.search, macros.lookup), window)


def run_detection(
    store: Store, detection: Detection, macros: MacroLibrary, window: TimeWindow | None = None
) -> DetectionRun:
    run = DetectionRun(detection)
    try:
        run.compiled = compile_detection(detection, macros, window)
    except SplError as exc:
        run.error = f"does not compile: {exc}"
        return run
    run.warnings = list(run.compiled.warnings)
    run.findings = store.query(run.compiled.sql("duckdb"))
    return run


def run_detections(
    store: Store, detections: Iterable[Detection], macros: MacroLibrary, window: TimeWindow | None = None
) -> list[DetectionRun]:
    return [run_detection(store, detection, macros, window) for detection in detections]
