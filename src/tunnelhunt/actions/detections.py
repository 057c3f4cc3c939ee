"""`detections`: what would run — each detection, analytic and Sigma rule, where it comes from, what it
searches, when `run`/`watch` schedule it and whether they do (a seed ships `disabled: true`, as in ESCU)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tunnelhunt.actions.common import load, load_sigma
from tunnelhunt.content.behaviours import load_behaviours
from tunnelhunt.content.loader import ContentSet

_DATAMODEL = re.compile(r"\bdatamodel\s*[=:]\s*\"?([A-Za-z_]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Listed:
    name: str
    source: str  # "YAML", "analytic" or "Sigma"
    data: str  # the CIM data model searched, or "raw events"
    schedule: str | None  # the cron of `run`/`watch` ("every tick": with each due detection; None: `hunt` only)
    enabled: bool


@dataclass
class DetectionList:
    items: list[Listed]
    content: ContentSet
    sigma_errors: list[tuple[str, str]]


def data_of(search: str) -> str:
    """The data models a search reads (`| tstats … from datamodel=Endpoint.Processes`), or raw events."""
    models = list(dict.fromkeys(_DATAMODEL.findall(search)))
    return ", ".join(models) if models else "raw events"


def detections(paths: Sequence[Path] = (), macros: Sequence[Path] = (), sigma: Sequence[Path] = ()) -> DetectionList:
    """The shipped content with the user's layered on top, as `hunt` and `run` would load it."""
    content = load(paths, macros, allow_empty=True)
    items = [
        Listed(d.name, "YAML", data_of(d.search), d.schedule.cron_schedule, not d.schedule.disabled)
        for d in content.detections
    ]
    items += [Listed(a.name, "analytic", data_of(a.search), "every tick", True) for a in load_behaviours()]
    rules = load_sigma([*sigma, *content.sigma])
    items += [Listed(str(r.title), "Sigma", "raw events", None, True) for r in [*rules.rules, *rules.correlations]]
    return DetectionList(sorted(items, key=lambda i: (i.source != "YAML", i.name.lower())), content, rules.errors)
