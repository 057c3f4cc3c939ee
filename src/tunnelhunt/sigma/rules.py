"""Loading Sigma content: rule files and folders → one pySigma collection, filters applied, errors kept."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # pySigma is imported when rules are loaded: a hunt without Sigma rules never needs it
    from sigma.correlations import SigmaCorrelationRule
    from sigma.rule import SigmaRule

#: What a Sigma file holds that tunnelhunt runs: a detection rule or a correlation rule.
SigmaRuleKind: TypeAlias = "SigmaRule | SigmaCorrelationRule"

_ID = re.compile(r"^id:\s*['\"]?([0-9a-fA-F-]{36})", re.MULTILINE)


@dataclass
class SigmaContent:
    """The rules to run (detection and correlation rules, Sigma filters already applied) and load errors."""

    rules: list[SigmaRule] = field(default_factory=list)
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def runnable(self) -> list[SigmaRuleKind]:
        """The rules that produce output: not those only correlations use (unless they say `generate`)."""
        every: list[SigmaRuleKind] = [*self.rules, *self.correlations]
        return [rule for rule in every if getattr(rule, "_output", True)]

    @property
    def collection_size(self) -> int:
        return len(self.rules) + len(self.correlations)


def sigma_files(paths: Iterable[Path]) -> list[Path]:
    """Every `.yml`/`.yaml` file of the given files and folders, sorted, hidden entries skipped."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in path.rglob("*")
                if p.suffix in (".yml", ".yaml")
                and p.is_file()
                and not any(s.startswith(".") for s in p.relative_to(path).parts)  # hidden below the folder
            )
        elif path.is_file():
            found.append(path)
    return sorted(set(found))


def rule_location(rule: SigmaRule | SigmaCorrelationRule) -> str:
    """The file a rule came from (or `<rule>` for one built in memory)."""
    return str(rule.source.path) if rule.source and rule.source.path else "<rule>"


def load_content(paths: Iterable[Path]) -> SigmaContent:
    """Parse rule files into one collection (so correlations and filters resolve across files)."""
    files = sigma_files(paths)
    from sigma.collection import SigmaCollection
    from sigma.correlations import SigmaCorrelationRule
    from sigma.rule import SigmaRule

    collection = SigmaCollection.load_ruleset([str(f) for f in files], collect_errors=True)
    content = SigmaContent()
    try:
        collection.resolve_rule_references()
    except Exception as exc:  # a dangling reference must not hide every other rule
        content.errors.append(("<collection>", f"rule references: {exc}"))
    for rule in collection.rules:
        location = rule_location(rule)
        if rule.errors:
            content.errors.extend((location, str(error)) for error in rule.errors)
            continue
        if isinstance(rule, SigmaCorrelationRule):
            content.correlations.append(rule)
        elif isinstance(rule, SigmaRule):
            content.rules.append(rule)
    return content


def rule_ids(root: Path) -> dict[str, Path]:
    """Rule id → file, read from the files' text (no parsing), for finding a rule by id in a large tree."""
    index: dict[str, Path] = {}
    for path in sigma_files([root]):
        match = _ID.search(path.read_text(encoding="utf-8", errors="replace"))
        if match:
            index.setdefault(match.group(1).lower(), path)
    return index
