"""Pydantic models of the ESCU (contentctl v5) content schema: detections, macros and lookups.

Both the v5 risk form (`rba:` with risk and threat objects) and the older form (`tags.observable`,
`tags.risk_score`, `tags.impact`/`confidence`, `tags.message`) load; `Detection.risk` gives one
view. Enumerated keys (type, status, security domain, risk object type) are checked as contentctl
checks them; unknown keys are kept (extra="allow") so newer content still loads, and
`tunnelhunt validate` reports the softer problems (ATT&CK ids, filter macro, fields).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ATTACK_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
#: What contentctl requires one drilldown search to contain: the detection's own search.
DRILLDOWN_PLACEHOLDER = "%original_detection_search%"

DetectionType = Literal["TTP", "Anomaly", "Hunting", "Correlation"]
ContentStatus = Literal["production", "experimental", "deprecated", "removed", "validation"]
SecurityDomain = Literal["endpoint", "network", "threat", "identity", "access", "audit", "cloud"]
RiskObjectType = Literal["system", "user", "other"]


class _Model(BaseModel):
    #: defer_build: a model's validator is built when it first validates, so a run builds only those it uses
    #: (a hunt never validates the contentctl models of `tunnelhunt validate`), not all of them on import
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class RiskObject(_Model):
    field: str
    type: RiskObjectType
    score: float = Field(ge=0, le=100)


class ThreatObject(_Model):
    field: str
    type: str


class Rba(_Model):
    message: str
    risk_objects: list[RiskObject] = Field(default_factory=list)
    threat_objects: list[ThreatObject] = Field(default_factory=list)


class Observable(_Model):
    """Older content's `tags.observable` entry: a field and its role (Victim → risk, Attacker → threat)."""

    name: str
    type: str
    role: list[str] = Field(default_factory=list)


class Tags(_Model):
    analytic_story: list[str] = Field(default_factory=list)
    asset_type: str | None = None
    group: list[str] = Field(default_factory=list)
    mitre_attack_id: list[str] = Field(default_factory=list)
    nist: list[str] = Field(default_factory=list)
    product: list[str] = Field(default_factory=list)
    security_domain: str | None = None
    cve: list[str] = Field(default_factory=list)
    atomic_guid: list[str] = Field(default_factory=list)
    manual_test: str | None = None
    throttling: dict[str, Any] | None = None
    # older content keeps risk configuration in tags
    confidence: float | None = None
    impact: float | None = None
    message: str | None = None
    observable: list[Observable] = Field(default_factory=list)
    risk_score: float | None = None
    required_fields: list[str] = Field(default_factory=list)


class ContentctlTags(Tags):
    """contentctl's required tags (older content's risk numbers are percentages, as contentctl v4 had them)."""

    analytic_story: list[str] = Field(min_length=1)
    asset_type: str
    product: list[str] = Field(min_length=1)
    security_domain: SecurityDomain
    confidence: int | None = Field(default=None, ge=0, le=100)
    impact: int | None = Field(default=None, ge=0, le=100)
    risk_score: int | None = Field(default=None, ge=0, le=100)


#: contentctl v5's threat object types (contentctl/objects/rba.py: ThreatObjectType).
ThreatObjectType = Literal[
    "certificate_common_name",
    "certificate_organization",
    "certificate_serial",
    "certificate_unit",
    "command",
    "domain",
    "email_address",
    "email_subject",
    "file_hash",
    "file_name",
    "file_path",
    "http_user_agent",
    "ip_address",
    "process",
    "process_name",
    "parent_process",
    "parent_process_name",
    "process_hash",
    "registry_path",
    "registry_value_name",
    "registry_value_text",
    "service",
    "signature",
    "system",
    "tls_hash",
    "url",
]


class ContentctlRiskObject(RiskObject):
    """contentctl v5: a whole score from 1 to 100."""

    score: int = Field(ge=1, le=100)


class ContentctlThreatObject(ThreatObject):
    type: ThreatObjectType


class ContentctlRba(Rba):
    """contentctl v5's `rba:` block: a message and at least one risk object."""

    risk_objects: list[ContentctlRiskObject] = Field(min_length=1)  # type: ignore[assignment]
    threat_objects: list[ContentctlThreatObject] = Field(default_factory=list)  # type: ignore[assignment]


class AttackData(_Model):
    """One file a test replays: a path relative to the detection's YAML, or a URL (see --data-root)."""

    data: str
    source: str
    sourcetype: str
    custom_index: str | None = None
    host: str | None = None
    update_timestamp: bool | None = None


class DetectionTest(_Model):
    name: str
    attack_data: list[AttackData] = Field(default_factory=list)
    test_type: Literal["unit", "integration", "manual"] | None = None


class Drilldown(_Model):
    name: str
    search: str
    earliest_offset: str | int | None = None
    latest_offset: str | int | None = None


class Schedule(_Model):
    """When a detection runs (tunnelhunt's form of ESCU's default deployment for scheduled searches)."""

    cron_schedule: str = "0 * * * *"
    earliest_time: str = "-70m@m"
    latest_time: str = "-10m@m"
    disabled: bool = False


#: Observable types of older content → risk object types ES uses.
_RISK_OBJECT_TYPES = {"user": "user", "hostname": "system", "ip address": "system", "endpoint": "system"}


def filter_macro_name(detection_name: str) -> str:
    """contentctl's rule: spaces, `-`, `.` and `/` become `_`, lower-cased, plus `_filter`."""
    slug = detection_name
    for char in (" ", "-", ".", "/"):
        slug = slug.replace(char, "_")
    return slug.lower() + "_filter"


class Detection(_Model):
    """A detection as tunnelhunt runs it: lenient, so content from any contentctl era loads.

    `ContentctlDetection` holds contentctl's stricter rules; `tunnelhunt validate` applies them.
    """

    name: str = Field(min_length=1)
    id: str
    version: int = 1
    date: dt.date | str | None = None
    author: str | None = None
    status: str | None = None
    type: str
    description: str = ""
    data_source: list[str] = Field(default_factory=list)
    search: str = Field(min_length=1)
    how_to_implement: str | None = None
    known_false_positives: str | None = None
    references: list[str] = Field(default_factory=list)
    drilldown_searches: list[Drilldown] = Field(default_factory=list)
    rba: Rba | None = None
    tags: Tags = Field(default_factory=Tags)
    tests: list[DetectionTest] = Field(default_factory=list)
    schedule: Schedule = Field(default_factory=Schedule)

    @field_validator("references", "data_source", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def filter_macro(self) -> str:
        """The `<name>_filter` macro every ESCU detection ends with."""
        return filter_macro_name(self.name)

    @property
    def search_name(self) -> str:
        """The saved-search name ES writes into risk events."""
        return f"ESCU - {self.name} - Rule"

    @property
    def risk(self) -> Rba | None:
        """Risk configuration in the v5 shape, derived from older tags where needed."""
        if self.rba is not None:
            return self.rba
        tags = self.tags
        if not tags.message or not tags.observable:
            return None
        score = tags.risk_score
        if tags.impact is not None and tags.confidence is not None:
            score = tags.impact * tags.confidence / 100
        risk_objects = [
            RiskObject(field=o.name, type=_RISK_OBJECT_TYPES.get(o.type.lower(), "other"), score=score or 0)  # type: ignore[arg-type]
            for o in tags.observable
            if "Victim" in o.role
        ]
        threat_objects = [
            ThreatObject(field=o.name, type=o.type.lower().replace(" ", "_"))
            for o in tags.observable
            if "Attacker" in o.role
        ]
        return Rba(message=tags.message, risk_objects=risk_objects, threat_objects=threat_objects)


class ContentctlDetection(Detection):
    """contentctl v5's rules for a detection file: required keys, enumerations, a UUID id."""

    name: str = Field(min_length=1, max_length=99)
    version: int = Field(ge=1)
    date: dt.date | str
    author: str
    status: ContentStatus
    type: DetectionType
    description: str
    how_to_implement: str
    known_false_positives: str
    tags: ContentctlTags
    rba: ContentctlRba | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _not_in_future(cls, value: Any) -> Any:
        """contentctl: a date (YYYY-MM-DD) that is not after today (UTC)."""
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if day > dt.datetime.now(dt.UTC).date():
            raise ValueError(f"date {day} is in the future")
        return day

    @model_validator(mode="after")
    def _drilldowns(self) -> ContentctlDetection:
        """contentctl v5: drilldowns, when given, are at least two and one repeats the detection's search."""
        if not self.drilldown_searches:
            return self
        if len(self.drilldown_searches) < 2:
            raise ValueError(f"drilldown_searches: 2 are required, found {len(self.drilldown_searches)}")
        if not any(DRILLDOWN_PLACEHOLDER in d.search for d in self.drilldown_searches):
            raise ValueError(f"drilldown_searches: none contains {DRILLDOWN_PLACEHOLDER}")
        return self

    @model_validator(mode="after")
    def _rba_fields_in_search(self) -> ContentctlDetection:
        """contentctl v5 (production content): every risk/threat object field and every `$field$` of the
        risk message appears in the search."""
        if self.rba is None or self.status != "production":
            return self
        search = self.search.lower()
        named = [o.field for o in self.rba.risk_objects] + [o.field for o in self.rba.threat_objects]
        named += re.findall(r"\$([^\s.$]*)\$", self.rba.message)
        missing = sorted({name for name in named if name.lower() not in search})
        if missing:
            raise ValueError(f"rba: fields not in the search: {', '.join(missing)}")
        return self

    @field_validator("id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        try:
            uuid.UUID(str(value))
        except ValueError:
            raise ValueError(f"not a UUID: {value!r}") from None
        return str(value)


class Macro(_Model):
    name: str = Field(min_length=1)
    definition: str = ""
    description: str | None = None
    arguments: list[str] = Field(default_factory=list)

    @field_validator("definition", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else str(value) if isinstance(value, bool | int | float) else value

    @field_validator("arguments", mode="before")
    @classmethod
    def _arguments(cls, value: Any) -> Any:
        return [] if value is None else value


_MATCH_TYPE = re.compile(r"(WILDCARD|CIDR)\(\s*([^)]+?)\s*\)", re.IGNORECASE)


class Lookup(_Model):
    """A lookup definition (`lookups/<name>.yml`); CSV lookups name their file in `filename`."""

    name: str = Field(min_length=1)
    description: str | None = None
    filename: str | None = None
    collection: str | None = None  # KV store lookups
    default_match: str | None = None
    match_type: list[str] = Field(default_factory=list)
    min_matches: int | None = None
    max_matches: int | None = None
    case_sensitive_match: bool | None = None

    @field_validator("default_match", mode="before")
    @classmethod
    def _default_text(cls, value: Any) -> Any:
        return str(value).lower() if isinstance(value, bool) else value

    @field_validator("match_type", mode="before")
    @classmethod
    def _match_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [f"{kind.upper()}({field})" for kind, field in _MATCH_TYPE.findall(value)] or [value]
        return value

    @field_validator("case_sensitive_match", mode="before")
    @classmethod
    def _bool_text(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value

    def fields_matched_by(self, kind: str) -> frozenset[str]:
        """The lookup fields with `WILDCARD(...)` or `CIDR(...)` matching."""
        out = set()
        for entry in self.match_type:
            match = _MATCH_TYPE.fullmatch(entry.strip())
            if match and match.group(1).upper() == kind:
                out.add(match.group(2))
        return frozenset(out)
