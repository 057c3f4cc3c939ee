"""`validate`: content problems (schema, ids, filter macros, macros, lookups, fields), as contentctl reports them.

Sigma rules (`--sigma`, or Sigma YAML among the detections) are validated by converting them: a rule
pySigma does not parse, or that does not convert and bind on an empty store, is an error at its file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tunnelhunt.actions.common import check_exist, load_sigma
from tunnelhunt.actions.compile import compile_sigma
from tunnelhunt.content.loader import ContentSet, load_content
from tunnelhunt.content.validation import Issue, error_count, validate
from tunnelhunt.sigma import SigmaContent
from tunnelhunt.store.duckdb_store import Store


@dataclass
class ValidateResult:
    content: ContentSet
    issues: list[Issue]
    sigma: SigmaContent = field(default_factory=SigmaContent)

    @property
    def errors(self) -> int:
        return error_count(self.issues)


def validate_content(
    paths: Sequence[Path] = (), macros: Sequence[Path] = (), sigma: Sequence[Path] = ()
) -> ValidateResult:
    """Validate the given content (default, when neither paths nor Sigma rules are given: the shipped content)."""
    check_exist(paths)
    content = load_content(list(paths), list(macros), shipped_detections=not paths and not sigma)
    rules = load_sigma([*sigma, *content.sigma])
    issues = validate(content)
    if rules.collection_size or rules.errors:
        with Store() as store:
            entries = compile_sigma(rules, store)
        issues.extend(Issue(entry.path, "sigma", entry.reason) for entry in entries if entry.reason)
    return ValidateResult(content, issues, rules)
