"""`tunnelhunt validate`: what is wrong with a set of detections before anything runs.

Errors: files that do not load (schema errors with the key at fault), contentctl's stricter schema
(older `tags.confidence`/`impact` form or v5 `rba:` block, drilldowns, date), duplicate ids, a search
without its exact `<name>_filter` macro (contentctl's rule), SPL that does not parse once its macros
are expanded, macros or lookups that are defined nowhere, malformed ATT&CK technique ids.
Warnings: data-model fields the CIM registry does not declare (a local data-model extension may add
them; the search would see them as null here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from tunnelhunt.cim import UnknownNodeError, find_node
from tunnelhunt.content.files import ContentError, read_yaml
from tunnelhunt.content.loader import ContentSet, source_path
from tunnelhunt.content.models import ATTACK_ID, ContentctlDetection, Detection
from tunnelhunt.spl.errors import MacroError, SplSyntaxError, UnsupportedError
from tunnelhunt.spl.macros import expand_macros, macro_calls, strip_comments
from tunnelhunt.spl.parser import parse

Severity = Literal["error", "warning"]

_LOOKUP = re.compile(
    r"\|\s*(?:lookup|inputlookup)\s+(?:(?:local|update|append|event_time_field|start|max)\s*=\s*\S+\s+)*"
    r"\"?([A-Za-z0-9_.\-]+)\"?",
    re.IGNORECASE,
)
_DATAMODEL = re.compile(r"datamodel\s*=\s*\"?([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?", re.IGNORECASE)
_NODENAME = re.compile(r"nodename\s*=\s*\"?([A-Za-z0-9_]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Issue:
    path: str
    key: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.path}: {self.key}: {self.message}"


def validate(content: ContentSet) -> list[Issue]:
    issues: list[Issue] = []
    for error in content.errors:
        issues.extend(Issue(str(error.path), key, message) for key, message in error.problems)
    for detection_id, first, second in content.duplicates:
        issues.append(Issue(str(second), "id", f"duplicate id {detection_id} (also in {first})"))
    for detection in content.detections:
        issues.extend(_contentctl_schema(detection))
        issues.extend(validate_detection(detection, content))
    return issues


def _contentctl_schema(detection: Detection) -> list[Issue]:
    """contentctl's stricter schema (required keys, enumerations, UUID id) over the detection's file."""
    path = source_path(detection)
    if path is None:
        return []
    try:
        ContentctlDetection.model_validate(read_yaml(path))
    except ContentError as exc:
        return [Issue(str(path), key, message) for key, message in exc.problems]
    except ValidationError as exc:
        return [Issue(str(path), key, message) for key, message in ContentError.from_validation(path, exc).problems]
    return []


def validate_detection(detection: Detection, content: ContentSet) -> list[Issue]:
    path = str(source_path(detection) or detection.name)
    issues: list[Issue] = []
    search = strip_comments(detection.search)
    if f"`{detection.filter_macro}`" not in search:
        issues.append(Issue(path, "search", f"does not call its filter macro `{detection.filter_macro}`"))
    for name, count in _macro_calls(search):
        if content.macros.lookup(name, count) is None:
            issues.append(Issue(path, "search", f"macro `{name}` with {count} argument(s) is not defined"))
    try:
        expanded = expand_macros(search, content.macros.lookup)
    except MacroError as exc:
        expanded = search
        if not str(exc).startswith("unknown macro"):  # unknown ones are reported above
            issues.append(Issue(path, "search", str(exc)))
    else:
        issues.extend(_syntax(path, expanded))
    for name in dict.fromkeys(_LOOKUP.findall(expanded)):
        if name not in content.lookups:
            issues.append(Issue(path, "search", f"lookup '{name}' is not defined"))
        elif content.lookups.resolve(name) is None:
            issues.append(Issue(path, "search", f"lookup '{name}' has no CSV file (KV store or model lookup)"))
    for technique in detection.tags.mitre_attack_id:
        if not ATTACK_ID.match(technique):
            issues.append(Issue(path, "tags.mitre_attack_id", f"malformed ATT&CK technique id {technique!r}"))
    issues.extend(_unknown_fields(path, expanded))
    return issues


def _syntax(path: str, search: str) -> list[Issue]:
    """SPL that does not parse (an unclosed `IN (`, a missing `)`): an error here, not at run time.

    Valid SPL that tunnelhunt does not run (a command it lacks) is `compile`'s report, not an error.
    """
    try:
        parse(search)
    except SplSyntaxError as exc:
        return [Issue(path, "search", f"SPL does not parse: {exc}")]
    except UnsupportedError:
        pass
    return []


def _macro_calls(search: str) -> list[tuple[str, int]]:
    """(name, argument count) of each macro the search calls directly; a malformed call is skipped
    here (expansion reports it)."""
    try:
        calls = macro_calls(search)
    except MacroError:
        return []
    return list(dict.fromkeys((call.name, len(call.arguments)) for call in calls))


def _unknown_fields(path: str, search: str) -> list[Issue]:
    """`Node.field` references that the data model named by the search does not declare."""
    issues: list[Issue] = []
    nodenames = _NODENAME.findall(search)
    for datamodel, node_name in dict.fromkeys(_DATAMODEL.findall(search)):
        try:
            node = find_node(datamodel, node_name or (nodenames[0] if nodenames else None))
        except UnknownNodeError:
            continue  # `compile` names the data model as the obstacle
        prefix = re.compile(rf"(?<![\w.=]){re.escape(node.name)}\.([A-Za-z_][A-Za-z0-9_]*)\b")
        for field in dict.fromkeys(prefix.findall(search)):
            if node.field(field) is None and field not in ("_time", node.name):
                issues.append(
                    Issue(
                        path,
                        "search",
                        f"field '{node.name}.{field}' is not in data model {node.qualified_name}",
                        "warning",
                    )
                )
    return issues


def error_count(issues: list[Issue]) -> int:
    return sum(1 for issue in issues if issue.severity == "error")


def files_checked(content: ContentSet) -> int:
    return len(content.detections) + len({Path(e.path) for e in content.errors})
