"""`validate`: content problems (schema, ids, filter macros, macros, lookups, fields), as contentctl reports them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tunnelhunt.actions.common import check_exist
from tunnelhunt.content.loader import ContentSet, load_content
from tunnelhunt.content.validation import Issue, error_count, validate


@dataclass
class ValidateResult:
    content: ContentSet
    issues: list[Issue]

    @property
    def errors(self) -> int:
        return error_count(self.issues)


def validate_content(paths: Sequence[Path] = (), macros: Sequence[Path] = ()) -> ValidateResult:
    """Validate the given content (default: the shipped content)."""
    check_exist(paths)
    content = load_content(list(paths), list(macros), shipped_detections=not paths)
    return ValidateResult(content, validate(content))
