"""Risk incident rules: when risk adds up for an entity, a finding is raised (Splunk ES's RBA rules).

Two rules, evaluated at a point in time T over the risk events with `T - window < _time <= T`:

- **Risk Threshold Exceeded For Object Over 24 Hours**: the sum of `risk_score` per risk object is above
  100; severity medium below 250, high below 500, critical from 500.
- **ATT&CK Tactic Threshold Exceeded For Object Over Previous 7 Days**: the object's risk events span at
  least 3 distinct ATT&CK tactics and at least 4 distinct detections.

Every number is a `RuleConfig` setting (a YAML file can override them). A rule is throttled per object:
it fires again within its window only when the severity rises, so an entity whose risk stays high is one
finding, not one per scheduled run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tunnelhunt.errors import Location, TunnelhuntError
from tunnelhunt.rba.risk import stable_id
from tunnelhunt.store.rba_store import RbaStore, to_naive_utc

SCORE_RULE = "Risk Threshold Exceeded For Object Over 24 Hours"
TACTIC_RULE = "ATT&CK Tactic Threshold Exceeded For Object Over Previous 7 Days"
_DEFAULT_BANDS = ((500.0, "critical"), (250.0, "high"), (0.0, "medium"))
SEVERITY_RANK = {"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


#: defer_build: a validator is built only for a rules file (`from_file`); the default rules are not
#: validated (`default_rules`), so a run without `--rules` builds none (issue 20)
_CONFIG = ConfigDict(extra="forbid", defer_build=True)


class SeverityBand(BaseModel):
    model_config = _CONFIG
    min_score: float
    severity: str


class ScoreRule(BaseModel):
    model_config = _CONFIG
    enabled: bool = True
    window_hours: float = 24
    threshold: float = 100  # the sum must be above this
    bands: list[SeverityBand] = Field(
        default_factory=lambda: [SeverityBand(min_score=m, severity=s) for m, s in _DEFAULT_BANDS]
    )

    def severity(self, score: float) -> str:
        for band in sorted(self.bands, key=lambda b: b.min_score, reverse=True):
            if score >= band.min_score:
                return band.severity
        return "medium"


class TacticRule(BaseModel):
    model_config = _CONFIG
    enabled: bool = True
    window_days: float = 7
    min_tactics: int = 3
    min_detections: int = 4
    severity: str = "high"


class RuleConfig(BaseModel):
    """Thresholds of the incident rules; every field has Splunk ES's default."""

    model_config = _CONFIG
    score: ScoreRule = Field(default_factory=ScoreRule)
    tactics: TacticRule = Field(default_factory=TacticRule)

    @classmethod
    def from_file(cls, path: Path) -> RuleConfig:
        """The rules file's thresholds; raises RuleConfigError naming the file."""
        import yaml  # only with a rules file (`--rules`): a run on the default rules never parses YAML

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return cls.model_validate(data)
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
            raise RuleConfigError(path, exc) from None


def default_rules() -> RuleConfig:
    """`RuleConfig()` built as it is, without validating it (nor building a validator)."""
    bands = [SeverityBand.model_construct(min_score=m, severity=s) for m, s in _DEFAULT_BANDS]
    return RuleConfig.model_construct(
        score=ScoreRule.model_construct(bands=bands), tactics=TacticRule.model_construct()
    )


class RuleConfigError(TunnelhuntError):
    """A rules file that cannot be read or does not fit the schema."""

    def __init__(self, path: Path, cause: Exception) -> None:
        super().__init__(f"cannot use rules file {path}: {cause}")
        self.path = path

    @property
    def location(self) -> Location:
        return Location(file=str(self.path))


_AGGREGATE = """
SELECT risk_object, risk_object_type,
       sum(risk_score) AS risk_score,
       count(*) AS risk_event_count,
       count(DISTINCT search_name) AS detection_count,
       list(DISTINCT search_name ORDER BY search_name) AS search_names,
       list_distinct(flatten(list("annotations.mitre_attack.mitre_tactic_id"))) AS tactic_ids
FROM risk_events
WHERE _time > ? AND _time <= ?
GROUP BY risk_object, risk_object_type
ORDER BY risk_object_type, risk_object
"""


def _aggregate(rba: RbaStore, earliest: datetime, latest: datetime) -> list[dict[str, Any]]:
    """Per risk object over `(earliest, latest]`: summed score, counts, detections and tactics."""
    return rba.rows(_AGGREGATE, [to_naive_utc(earliest), to_naive_utc(latest)])


def _recent(rba: RbaStore, rule: str, obj: str, obj_type: str, since: datetime, at: datetime) -> int:
    """Highest severity rank this rule already gave the object in its throttle window (-1 when none)."""
    rows = rba.rows(
        "SELECT severity FROM findings WHERE rule = ? AND risk_object = ? AND risk_object_type = ? "
        "AND _time > ? AND _time <= ?",
        [rule, obj, obj_type, to_naive_utc(since), to_naive_utc(at)],
    )
    return max((SEVERITY_RANK.get(r["severity"], 0) for r in rows), default=-1)


def evaluate(rba: RbaStore, at: datetime, config: RuleConfig | None = None) -> list[dict[str, Any]]:
    """Findings the rules raise at time `at` (not yet stored; `RbaStore.add_findings` stores them)."""
    config = config or default_rules()
    tactic_names = _tactic_names()
    findings: list[dict[str, Any] | None] = []
    if config.score.enabled:
        since = at - timedelta(hours=config.score.window_hours)
        for row in _aggregate(rba, since, at):
            score = float(row["risk_score"] or 0)
            if score <= config.score.threshold:
                continue
            severity = config.score.severity(score)
            findings.append(
                _finding(
                    rba, SCORE_RULE, row, severity, since, at, tactic_names, f"{config.score.window_hours:g} hours"
                )
            )
    if config.tactics.enabled:
        since = at - timedelta(days=config.tactics.window_days)
        for row in _aggregate(rba, since, at):
            tactics = row["tactic_ids"] or []
            if len(tactics) < config.tactics.min_tactics or row["detection_count"] < config.tactics.min_detections:
                continue
            findings.append(
                _finding(
                    rba,
                    TACTIC_RULE,
                    row,
                    config.tactics.severity,
                    since,
                    at,
                    tactic_names,
                    f"{config.tactics.window_days:g} days",
                )  # fmt: skip
            )
    return [f for f in findings if f is not None]


def _finding(
    rba: RbaStore,
    rule: str,
    row: dict[str, Any],
    severity: str,
    since: datetime,
    at: datetime,
    tactic_names: dict[str, str],
    span: str,
) -> dict[str, Any] | None:
    obj, obj_type = row["risk_object"], row["risk_object_type"]
    if _recent(rba, rule, obj, obj_type, since, at) >= SEVERITY_RANK.get(severity, 0):
        return None  # throttled: already raised for this object in the window at this severity or above
    tactic_ids = [t for t in tactic_names if t in set(row["tactic_ids"] or [])]
    score = float(row["risk_score"] or 0)
    return {
        "finding_id": stable_id(rule, obj_type, obj, at.isoformat(), severity),
        "_time": at,
        "rule": rule,
        "risk_object": obj,
        "risk_object_type": obj_type,
        "severity": severity,
        "risk_score": score,
        "risk_event_count": int(row["risk_event_count"]),
        "detection_count": int(row["detection_count"]),
        "tactic_count": len(tactic_ids),
        "search_names": list(row["search_names"] or []),
        "mitre_tactic_id": tactic_ids,
        "mitre_tactic": [tactic_names[t] for t in tactic_ids],
        "earliest": since,
        "latest": at,
        "description": (
            f"{obj_type} {obj}: risk {score:g} from {row['risk_event_count']} risk event(s) of "
            f"{row['detection_count']} detection(s) and {len(tactic_ids)} tactic(s) in the last {span}"
        ),
    }


def _tactic_names() -> dict[str, str]:
    from tunnelhunt.rba.attack import attack_table

    return attack_table().tactics
