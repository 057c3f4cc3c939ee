"""Risk incident rules: 24-hour score threshold with severity bands, 7-day tactic spread, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tunnelhunt.rba.risk import stable_id
from tunnelhunt.rba.rules import SCORE_RULE, TACTIC_RULE, RuleConfig, evaluate
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def event(
    at: datetime, score: float, obj: str = "h1", search: str = "S1", tactics: list[str] | None = None
) -> dict[str, Any]:
    return {
        "risk_event_id": stable_id(at.isoformat(), obj, search, str(score)),
        "_time": at,
        "search_name": search,
        "risk_object": obj,
        "risk_object_type": "system",
        "risk_score": score,
        "annotations.mitre_attack.mitre_tactic_id": tactics or ["TA0011"],
    }


@pytest.fixture
def rba() -> RbaStore:
    return RbaStore(Store())


def fire(rba: RbaStore, at: datetime, config: RuleConfig | None = None) -> list[dict[str, Any]]:
    found = evaluate(rba, at, config)
    rba.add_findings(found)
    return found


def test_sum_must_exceed_100_within_24_hours(rba: RbaStore) -> None:
    rba.add_risk_events([event(T0, 50), event(T0 + timedelta(hours=1), 50)])
    assert fire(rba, T0 + timedelta(hours=1)) == []  # exactly 100 is not above 100
    rba.add_risk_events([event(T0 + timedelta(hours=2), 50)])
    [finding] = fire(rba, T0 + timedelta(hours=2))
    assert (finding["rule"], finding["severity"], finding["risk_score"]) == (SCORE_RULE, "medium", 150)
    assert finding["risk_event_count"] == 3 and finding["risk_object"] == "h1"


def test_old_risk_falls_out_of_the_24_hour_window(rba: RbaStore) -> None:
    rba.add_risk_events([event(T0, 60), event(T0 + timedelta(hours=23), 60)])
    assert fire(rba, T0 + timedelta(hours=24)) == []  # the first is exactly 24 h old: outside (T-24h, T]
    assert [f["risk_score"] for f in fire(rba, T0 + timedelta(hours=23, minutes=59))] == [120]


@pytest.mark.parametrize(
    ("total", "severity"), [(100.5, "medium"), (249, "medium"), (250, "high"), (499, "high"), (500, "critical")]
)
def test_severity_bands(rba: RbaStore, total: float, severity: str) -> None:
    rba.add_risk_events([event(T0, total)])
    assert [f["severity"] for f in fire(rba, T0)] == [severity]


def test_throttled_until_severity_rises(rba: RbaStore) -> None:
    rba.add_risk_events([event(T0, 150)])
    assert len(fire(rba, T0)) == 1
    rba.add_risk_events([event(T0 + timedelta(hours=1), 50)])
    assert fire(rba, T0 + timedelta(hours=1)) == []  # still medium: no new finding
    rba.add_risk_events([event(T0 + timedelta(hours=2), 100)])
    assert [f["severity"] for f in fire(rba, T0 + timedelta(hours=2))] == ["high"]
    assert fire(rba, T0 + timedelta(hours=2)) == []  # evaluating the same moment again adds nothing


def test_objects_are_separate(rba: RbaStore) -> None:
    rba.add_risk_events([event(T0, 60, "h1"), event(T0, 60, "h2")])
    assert fire(rba, T0) == []


def test_tactic_rule_needs_three_tactics_and_four_detections(rba: RbaStore) -> None:
    quiet = RuleConfig.model_validate({"score": {"enabled": False}})
    days = [T0 + timedelta(days=d) for d in range(4)]
    rba.add_risk_events(
        [
            event(days[0], 10, search="S1", tactics=["TA0002"]),
            event(days[1], 10, search="S2", tactics=["TA0011"]),
            event(days[2], 10, search="S3", tactics=["TA0011", "TA0005"]),
        ]
    )
    assert fire(rba, days[3], quiet) == []  # three tactics but three detections
    rba.add_risk_events([event(days[3], 10, search="S4", tactics=["TA0011"])])
    [finding] = fire(rba, days[3], quiet)
    assert finding["rule"] == TACTIC_RULE and finding["severity"] == "high"
    assert finding["mitre_tactic"] == ["Execution", "Defense Evasion", "Command and Control"]
    assert (finding["tactic_count"], finding["detection_count"]) == (3, 4)


def test_tactic_rule_near_miss_two_tactics(rba: RbaStore) -> None:
    quiet = RuleConfig.model_validate({"score": {"enabled": False}})
    rba.add_risk_events([event(T0, 1, search=f"S{n}", tactics=["TA0011", "TA0002"]) for n in range(6)])
    assert fire(rba, T0, quiet) == []


def test_thresholds_are_configurable_from_yaml(rba: RbaStore, tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        "score:\n  threshold: 40\n  window_hours: 2\n  bands:\n    - {min_score: 0, severity: low}\n"
        "tactics:\n  min_tactics: 1\n  min_detections: 1\n  severity: medium\n"
    )
    config = RuleConfig.from_file(path)
    rba.add_risk_events([event(T0, 45)])
    found = {f["rule"]: f["severity"] for f in fire(rba, T0, config)}
    assert found == {SCORE_RULE: "low", TACTIC_RULE: "medium"}
    assert fire(rba, T0 + timedelta(hours=3), config) == []  # outside the 2-hour window
    with pytest.raises(ValueError):
        RuleConfig.model_validate({"score": {"treshold": 5}})  # a misspelt key is an error, not ignored


def test_a_stored_risk_event_is_counted_once(rba: RbaStore) -> None:
    """The count an insert returns is of the rows it added: one already stored (same id) is not added again."""
    first, second = event(T0, 50), event(T0 + timedelta(hours=1), 50)
    assert rba.add_risk_events([first]) == 1
    assert rba.add_risk_events([first, second, second]) == 1
    assert rba.add_risk_events([first, second]) == 0
    assert rba.store.count("risk_events") == 2
