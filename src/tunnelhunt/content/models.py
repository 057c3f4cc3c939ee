"""Pydantic models of the ESCU (contentctl) detection schema, as in Splunk's security_content.

Both the v5 form (`rba:` with risk and threat objects) and the older form (`tags.observable`,
`tags.risk_score`, `tags.impact`/`confidence`, `tags.message`) load; `Detection.risk` gives one view.
Unknown keys are kept (extra="allow") so newer content still loads.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_SLUG = re.compile(r"[^a-z0-9]+")
ATTACK_ID = re.compile(r"^T\d{4}(\.\d{3})?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RiskObject(_Model):
    field: str
    type: str
    score: float


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
    mitre_attack_id: list[str] = Field(default_factory=list)
    product: list[str] = Field(default_factory=list)
    security_domain: str | None = None
    # older content keeps risk configuration in tags
    confidence: float | None = None
    impact: float | None = None
    message: str | None = None
    observable: list[Observable] = Field(default_factory=list)
    risk_score: float | None = None
    required_fields: list[str] = Field(default_factory=list)


class AttackData(_Model):
    data: str
    source: str | None = None
    sourcetype: str | None = None
    update_timestamp: bool = False


class DetectionTest(_Model):
    name: str
    attack_data: list[AttackData] = Field(default_factory=list)


class Schedule(_Model):
    """When a detection runs (tunnelhunt's form of ESCU's default deployment for scheduled searches)."""

    cron_schedule: str = "0 * * * *"
    earliest_time: str = "-70m@m"
    latest_time: str = "-10m@m"
    disabled: bool = False


#: Observable types of older content → risk object types ES uses.
_RISK_OBJECT_TYPES = {"user": "user", "hostname": "system", "ip address": "system", "endpoint": "system"}


class Detection(_Model):
    name: str
    id: str
    version: int
    date: str | None = None
    author: str | None = None
    status: str | None = None
    type: str
    description: str = ""
    data_source: list[str] = Field(default_factory=list)
    search: str
    how_to_implement: str | None = None
    known_false_positives: str | None = None
    references: list[str] = Field(default_factory=list)
    drilldown_searches: list[dict[str, Any]] = Field(default_factory=list)
    rba: Rba | None = None
    tags: Tags = Field(default_factory=Tags)
    tests: list[DetectionTest] = Field(default_factory=list)
    schedule: Schedule = Field(default_factory=Schedule)

    @property
    def filter_macro(self) -> str:
        """The `<name>_filter` macro every ESCU detection ends with."""
        return _SLUG.sub("_", self.name.lower()).strip("_") + "_filter"

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
            RiskObject(field=o.name, type=_RISK_OBJECT_TYPES.get(o.type.lower(), "other"), score=score or 0)
            for o in tags.observable
            if "Victim" in o.role
        ]
        threat_objects = [
            ThreatObject(field=o.name, type=o.type.lower().replace(" ", "_"))
            for o in tags.observable
            if "Attacker" in o.role
        ]
        return Rba(message=tags.message, risk_objects=risk_objects, threat_objects=threat_objects)


class Macro(_Model):
    name: str
    definition: str = ""
    description: str | None = None
    arguments: list[str] = Field(default_factory=list)
