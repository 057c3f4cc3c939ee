"""The catalogue of tunnel services: which DNS names belong to which service, in which role.

Why: the DNS behaviour analytics (first seen, host counts, agent + lookup correlation) need to know
that `abcd.ngrok-free.app` is an ngrok endpoint and `connect.eu.ngrok-agent.com` its agent ingress.
The catalogue is content (`content/intel/tunnel_services.yml`), matched with the same whole-value,
case-insensitive wildcard rule as SPL, in Python (`classify`) or in SQL over a column (`sql_group`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.files import ContentError
from tunnelhunt.content.loader import SHIPPED
from tunnelhunt.content.validated import cached_model
from tunnelhunt.spl.like import pattern_sql, wildcard_parts

Role = Literal["agent", "endpoint", "support"]
CATALOGUE_PATH = SHIPPED / "intel" / "tunnel_services.yml"


class _Group(BaseModel):
    #: defer_build: a run with the catalogue in the content cache never validates it
    model_config = ConfigDict(extra="forbid", defer_build=True)
    role: Role
    zone: str
    patterns: list[str] = Field(min_length=1)


class _Service(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    service: str
    process_markers: list[str] = Field(default_factory=list)
    groups: list[_Group] = Field(min_length=1)


class _Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    services: list[_Service] = Field(min_length=1)


@dataclass(frozen=True)
class DomainGroup:
    """Names of one service in one role under one zone, e.g. ngrok / agent / ngrok-agent.com."""

    index: int
    service: str
    role: Role
    zone: str
    patterns: tuple[str, ...]


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ServiceCatalogue:
    """Domain groups in match order (the first group whose pattern matches a name owns it)."""

    groups: tuple[DomainGroup, ...]
    process_markers: dict[str, tuple[str, ...]]

    def classify(self, name: str | None) -> DomainGroup | None:
        """The group a DNS name belongs to, or None for a name no tunnel service uses."""
        if not name:
            return None
        for group in self.groups:
            if any(_wildcard_regex(pattern).fullmatch(name) for pattern in group.patterns):
                return group
        return None

    def sql_group(self, column: str) -> str:
        """SQL giving the index of the group `column` (a name) belongs to, NULL when none."""
        whens = []
        for group in self.groups:
            likes = " OR ".join(pattern_sql(f"lower({column})", wildcard_parts(p.lower())) for p in group.patterns)
            whens.append(f"WHEN {likes} THEN {group.index}")
        return f"CASE {' '.join(whens)} END"

    def service_of_command(self, command_line: str | None) -> str | None:
        """The service whose client a command line names (by its markers), if exactly one does."""
        if not command_line:
            return None
        text = command_line.lower()
        found = [service for service, markers in self.process_markers.items() if any(m in text for m in markers)]
        return found[0] if len(found) == 1 else None

    def services(self) -> list[str]:
        return list(self.process_markers)


def _validate(path: Path) -> _Catalogue:
    import yaml  # only for a file not in the content cache (`content/validated.py`)

    try:
        return _Catalogue.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(path, f"not readable as YAML: {exc}") from None
    except ValidationError as exc:
        raise ContentError.from_validation(path, exc) from None


def load_catalogue(path: Path = CATALOGUE_PATH, cache: ContentCache | None = None) -> ServiceCatalogue:
    """Read and check a catalogue file (validated once, then from `cache` when given); raises ContentError
    naming the file and key at fault."""
    model = cached_model(path, _Catalogue, cache, _validate)
    groups: list[DomainGroup] = []
    markers: dict[str, tuple[str, ...]] = {}
    for service in model.services:
        if service.service in markers:
            raise ContentError(path, f"service {service.service!r} is listed twice")
        markers[service.service] = tuple(m.lower() for m in service.process_markers)
        for group in service.groups:
            patterns = tuple(p.lower() for p in group.patterns)
            groups.append(DomainGroup(len(groups), service.service, group.role, group.zone.lower(), patterns))
    return ServiceCatalogue(tuple(groups), markers)


@cache
def shipped_catalogue(cache: ContentCache | None = None) -> ServiceCatalogue:
    """The catalogue shipped with tunnelhunt (read once)."""
    return load_catalogue(cache=cache)
