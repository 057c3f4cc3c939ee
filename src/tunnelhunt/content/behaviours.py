"""Behaviour analytics: detections whose logic needs state or a join, so they are not SPL.

Each is described in `content/behaviours/*.yml` with the same fields as an ESCU detection (name, id,
description, known false positives, rba, tags, ...), minus the search, plus which built-in analytic
computes it and its parameters. Findings then flow through the same risk and output code as SPL
detections do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.files import ContentError, read_yaml, yaml_files
from tunnelhunt.content.loader import SHIPPED
from tunnelhunt.content.models import Detection
from tunnelhunt.content.validated import cached_model

BEHAVIOURS_DIR = SHIPPED / "behaviours"


class BehaviourAnalytic(Detection):
    """An ESCU-shaped detection computed by `tunnelhunt.detect.behaviour` instead of an SPL search."""

    search: str = ""
    #: which registered analytic computes it (`detect.behaviour.ANALYTICS`); an unknown kind fails its run
    analytic: str
    parameters: dict[str, Any] = Field(default_factory=dict)


def _validate(path: Path) -> BehaviourAnalytic:
    try:
        return BehaviourAnalytic.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise ContentError.from_validation(path, exc) from None


def load_behaviours(directory: Path = BEHAVIOURS_DIR, cache: ContentCache | None = None) -> list[BehaviourAnalytic]:
    """Every behaviour analytic in `directory`, in file-name order (validated once, then from `cache` when
    given); raises ContentError on a bad file."""
    return [cached_model(path, BehaviourAnalytic, cache, _validate) for path in yaml_files(directory)]
