"""ATT&CK lookups offline, risk event fields and scores as ES writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import yaml

from tests.conftest import shared_dataset
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.models import Detection
from tunnelhunt.rba.attack import attack_table
from tunnelhunt.rba.risk import RISK_EVENT_FIELDS, risk_events

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_techniques_resolve_to_names_and_tactics_in_kill_chain_order() -> None:
    annotation = attack_table().annotate(["T1572", "t1003.001", "T1059"])
    assert annotation.technique_ids == ("T1572", "T1003.001", "T1059")
    assert annotation.technique_names == ("Protocol Tunneling", "LSASS Memory", "Command and Scripting Interpreter")
    assert annotation.tactic_ids == ("TA0002", "TA0006", "TA0011")
    assert annotation.tactic_names == ("Execution", "Credential Access", "Command and Control")


def test_unknown_technique_is_kept_and_reported_not_invented() -> None:
    annotation = attack_table().annotate(["T9999", "T1090"])
    assert annotation.technique_ids == ("T9999", "T1090")
    assert annotation.technique_names == ("Proxy",)
    assert annotation.unknown == ("T9999",)


def test_every_shipped_technique_is_known() -> None:
    ids = {t for d in load_content().detections for t in d.tags.mitre_attack_id}
    assert ids and not [t for t in ids if attack_table().technique(t) is None]


def test_every_security_content_technique_is_known() -> None:
    folder = shared_dataset("security_content/detections")
    pattern = re.compile(r"^\s*-\s*(T\d{4}(?:\.\d{3})?)\s*$", re.M)
    ids = {m for path in folder.rglob("*.yml") for m in pattern.findall(path.read_text(errors="replace"))}
    assert len(ids) > 200
    assert sorted(t for t in ids if attack_table().technique(t) is None) == []


def _detection(**extra: object) -> Detection:
    data: dict[str, object] = {
        "name": "Test Tunnel",
        "id": "d-1",
        "version": 1,
        "type": "Anomaly",
        "search": "| tstats count from datamodel=Endpoint.Processes by Processes.dest",
        "rba": {
            "message": "tunnel on $dest$ by $user$",
            "risk_objects": [
                {"field": "dest", "type": "system", "score": 30},
                {"field": "user", "type": "user", "score": 30},
            ],
            "threat_objects": [{"field": "process_name", "type": "process_name"}],
        },
        "tags": {"analytic_story": ["Reverse Network Proxy"], "mitre_attack_id": ["T1572"]},
    }
    data.update(extra)
    return Detection.model_validate(data)


def test_risk_event_carries_the_es_fields() -> None:
    [system, user] = risk_events(_detection(), [{"dest": "wks-1", "user": "alice", "process_name": "ngrok.exe"}], AT)
    assert list(system) == list(RISK_EVENT_FIELDS)
    assert system["_time"] == "2026-11-20T10:00:00+00:00"
    assert system["search_name"] == "ESCU - Test Tunnel - Rule"
    assert (system["risk_object"], system["risk_object_type"], system["risk_score"]) == ("wks-1", "system", 30)
    assert (user["risk_object"], user["risk_object_type"]) == ("alice", "user")
    assert system["risk_message"] == "tunnel on wks-1 by alice"
    assert system["threat_object"] == ["ngrok.exe"] and system["threat_object_type"] == ["process_name"]
    assert system["annotations.mitre_attack"] == ["T1572"]
    assert system["annotations.mitre_attack.mitre_technique"] == ["Protocol Tunneling"]
    assert system["annotations.mitre_attack.mitre_tactic_id"] == ["TA0011"]
    assert system["annotations.mitre_attack.mitre_tactic"] == ["Command and Control"]
    assert system["analyticstories"] == ["Reverse Network Proxy"]
    assert system["risk_event_id"] != user["risk_event_id"]


def test_score_is_impact_times_confidence_when_content_gives_both() -> None:
    tags = {"mitre_attack_id": ["T1572"], "impact": 80, "confidence": 70}
    [event, _] = risk_events(_detection(tags=tags), [{"dest": "wks-1", "user": "bob"}], AT)
    assert event["risk_score"] == 56
    [event, _] = risk_events(_detection(tags={"impact": 80}), [{"dest": "wks-1", "user": "bob"}], AT)
    assert event["risk_score"] == 30  # impact alone: the risk object's own score


def test_identity_is_stable_and_depends_on_the_finding() -> None:
    finding = {"dest": "wks-1", "user": "alice"}
    first = risk_events(_detection(), [finding], AT)
    again = risk_events(_detection(), [dict(finding)], AT)
    other = risk_events(_detection(), [{"dest": "wks-2", "user": "alice"}], AT)
    assert [e["risk_event_id"] for e in first] == [e["risk_event_id"] for e in again]
    assert first[1]["risk_event_id"] != other[1]["risk_event_id"]  # same user, other finding


def test_missing_risk_object_gives_no_event() -> None:
    events = risk_events(_detection(), [{"dest": "wks-1", "user": None}], AT)
    assert [e["risk_object"] for e in events] == ["wks-1"]


def test_a_real_detection_gives_the_same_risk_events_in_the_older_and_the_v5_form() -> None:
    """notepad_with_no_command_line_arguments as security_content ships it (tags: confidence 70, impact 50,
    message, observables) and as contentctl v5 writes the same risk (an `rba:` block, score 35)."""
    path = shared_dataset("security_content/detections/endpoint/notepad_with_no_command_line_arguments.yml")
    older = yaml.safe_load(path.read_text(encoding="utf-8"))
    tags = older["tags"]
    v5 = dict(older, tags={k: v for k, v in tags.items() if k not in ("confidence", "impact", "message", "observable")})
    v5["tags"].pop("risk_score")
    v5["rba"] = {
        "message": tags["message"],
        "risk_objects": [{"field": "dest", "type": "system", "score": 35}],
        "threat_objects": [
            {"field": "parent_process_name", "type": "process"},
            {"field": "process_name", "type": "process"},
        ],
    }
    findings = [
        {"dest": "wks-1", "parent_process_name": "explorer.exe", "process_name": "notepad.exe", "count": 2},
        {"dest": "wks-2", "parent_process_name": None, "process_name": "notepad.exe", "count": 1},
        {"dest": None, "parent_process_name": "cmd.exe", "process_name": "notepad.exe", "count": 1},  # no risk object
    ]
    before = risk_events(Detection.model_validate(older), findings, AT)
    after = risk_events(Detection.model_validate(v5), findings, AT)
    assert [(e["risk_object"], e["risk_score"], e["threat_object"]) for e in before] == [
        ("wks-1", 35, ["explorer.exe", "notepad.exe"]),
        ("wks-2", 35, ["notepad.exe"]),
    ]
    assert before[0]["risk_message"].startswith("An instance of explorer.exe spawning notepad.exe was identified on")
    assert after == before
