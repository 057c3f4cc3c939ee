"""Content loading (contentctl v5 and older forms) and `validate`'s checks, each with a clean near miss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tunnelhunt.content.loader import load_content
from tunnelhunt.content.models import Detection, filter_macro_name
from tunnelhunt.content.validation import Issue, validate

V5: dict[str, Any] = {
    "name": "Test Ngrok Usage",
    "id": "11111111-2222-4333-8444-555555555555",
    "version": 1,
    "date": "2025-01-01",
    "author": "Tester",
    "status": "production",
    "type": "TTP",
    "description": "Finds ngrok.",
    "data_source": ["Sysmon EventID 1"],
    "search": "| tstats count from datamodel=Endpoint.Processes where Processes.process_name=ngrok.exe"
    " by Processes.dest Processes.user | `drop_dm_object_name(Processes)` | `test_ngrok_usage_filter`",
    "how_to_implement": "Map process events.",
    "known_false_positives": "Allowed ngrok use.",
    "references": [],
    "drilldown_searches": [
        {
            "name": "View the detection results for - $dest$",
            "search": '%original_detection_search% | search dest = "$dest$"',
            "earliest_offset": "$info_min_time$",
            "latest_offset": "$info_max_time$",
        },
        {"name": "Risk events for - $dest$", "search": "| from datamodel Risk.All_Risk", "earliest_offset": 0},
    ],
    "rba": {
        "message": "ngrok on $dest$ by $user$",
        "risk_objects": [{"field": "dest", "type": "system", "score": 40}],
        "threat_objects": [],
    },
    "tags": {
        "analytic_story": ["Reverse Network Proxy"],
        "asset_type": "Endpoint",
        "mitre_attack_id": ["T1572", "T1090.001"],
        "product": ["Splunk Enterprise"],
        "security_domain": "endpoint",
    },
    "tests": [{"name": "True Positive Test", "attack_data": [{"data": "x.log", "source": "s", "sourcetype": "st"}]}],
}


def _content(tmp_path: Path, detections: dict[str, dict[str, Any]], macros: dict[str, str] | None = None) -> Path:
    root = tmp_path / "content"
    (root / "detections").mkdir(parents=True)
    (root / "macros").mkdir()
    for name, body in detections.items():
        (root / "detections" / f"{name}.yml").write_text(yaml.safe_dump(body), encoding="utf-8")
    for name, definition in (macros or {}).items():
        (root / "macros" / f"{name}.yml").write_text(
            yaml.safe_dump({"name": name, "definition": definition}), encoding="utf-8"
        )
    return root


def _issues(tmp_path: Path, detections: dict[str, dict[str, Any]], macros: dict[str, str] | None = None) -> list[Issue]:
    root = _content(tmp_path, detections, macros)
    return validate(load_content([root], shipped_detections=False))


def test_filter_macro_name_follows_contentctl() -> None:
    assert filter_macro_name("CMD Echo Pipe - Escalation") == "cmd_echo_pipe___escalation_filter"
    assert filter_macro_name("Windows Ngrok Reverse Proxy Usage") == "windows_ngrok_reverse_proxy_usage_filter"
    assert filter_macro_name("Detect .NET/Tools") == "detect__net_tools_filter"


def test_v5_and_older_risk_forms_give_the_same_view() -> None:
    v5 = Detection.model_validate(V5)
    older = dict(V5, rba=None)
    older["tags"] = dict(
        V5["tags"],
        message="ngrok on $dest$ by $user$",
        impact=80,
        confidence=50,
        observable=[
            {"name": "dest", "type": "Hostname", "role": ["Victim"]},
            {"name": "parent_process_name", "type": "Process", "role": ["Attacker"]},
        ],
    )
    legacy = Detection.model_validate(older)
    assert v5.risk is not None and legacy.risk is not None
    assert legacy.risk.message == v5.risk.message
    assert [(o.field, o.type, o.score) for o in legacy.risk.risk_objects] == [("dest", "system", 40.0)]
    assert [(o.field, o.type) for o in legacy.risk.threat_objects] == [("parent_process_name", "process")]


def test_a_clean_detection_has_no_issues(tmp_path: Path) -> None:
    assert _issues(tmp_path, {"ok": V5}) == []


def test_schema_errors_name_file_and_key(tmp_path: Path) -> None:
    bad = dict(V5, type="Alert", id="not-a-uuid")
    issues = _issues(tmp_path, {"bad": bad})
    keys = {issue.key for issue in issues}
    assert {"type", "id"} <= keys
    assert all(issue.path.endswith("bad.yml") for issue in issues)


def test_duplicate_ids(tmp_path: Path) -> None:
    twin = dict(
        V5, name="Test Ngrok Usage Twin", search=V5["search"].replace("test_ngrok_usage", "test_ngrok_usage_twin")
    )
    issues = _issues(tmp_path, {"a": V5, "b": twin})
    assert [(i.key, "duplicate id" in i.message) for i in issues] == [("id", True)]


def test_missing_filter_macro_call(tmp_path: Path) -> None:
    wrong = dict(V5, search=V5["search"].replace("`test_ngrok_usage_filter`", "`test_ngrok_filter`"))
    messages = [i.message for i in _issues(tmp_path, {"a": wrong})]
    assert "does not call its filter macro `test_ngrok_usage_filter`" in messages


def test_unresolved_macros_and_lookups(tmp_path: Path) -> None:
    search = V5["search"].replace(
        "| `test_ngrok_usage_filter`", "| `get_asset(dest)` | lookup nowhere a AS dest | `test_ngrok_usage_filter`"
    )
    messages = [i.message for i in _issues(tmp_path, {"a": dict(V5, search=search)})]
    assert "macro `get_asset` with 1 argument(s) is not defined" in messages
    assert "lookup 'nowhere' is not defined" in messages


def test_defined_macro_resolves(tmp_path: Path) -> None:
    search = V5["search"].replace("| `test_ngrok_usage_filter`", "| `get_asset(dest)` | `test_ngrok_usage_filter`")
    issues = _issues(tmp_path, {"a": dict(V5, search=search)}, {"get_asset": "search *"})
    assert [i.message for i in issues] == [
        "macro `get_asset` with 1 argument(s) is not defined"
    ]  # 0 args: another macro
    root = _content(tmp_path / "again", {"a": dict(V5, search=search)})
    (root / "macros" / "get_asset.yml").write_text(
        yaml.safe_dump({"name": "get_asset", "definition": "search *", "arguments": ["field"]}), encoding="utf-8"
    )
    assert validate(load_content([root], shipped_detections=False)) == []


def test_malformed_attack_ids(tmp_path: Path) -> None:
    bad = dict(V5, tags=dict(V5["tags"], mitre_attack_id=["T1572", "T15720", "t1090"]))
    messages = [i.message for i in _issues(tmp_path, {"a": bad})]
    assert messages == ["malformed ATT&CK technique id 'T15720'", "malformed ATT&CK technique id 't1090'"]


def test_fields_not_in_the_data_model_are_warnings(tmp_path: Path) -> None:
    search = V5["search"].replace("Processes.user", "Processes.user Processes.colour")
    issues = _issues(tmp_path, {"a": dict(V5, search=search)})
    assert [(i.severity, i.message) for i in issues] == [
        ("warning", "field 'Processes.colour' is not in data model Endpoint.Processes")
    ]


def test_missing_filter_macros_get_contentctls_default(tmp_path: Path) -> None:
    content = load_content([_content(tmp_path, {"a": V5})], shipped_detections=False)
    definition = content.macros.lookup("test_ngrok_usage_filter", 0)
    assert definition is not None and definition.definition == "search *"
    assert not content.macros.defines("test_ngrok_usage_filter", 0)


def _errors(tmp_path: Path, body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(issue.key, issue.message) for issue in _issues(tmp_path, {"d": body}) if issue.severity == "error"]


def test_spl_that_does_not_parse_is_an_error_with_file_and_reason(tmp_path: Path) -> None:
    unclosed = V5["search"].replace("Processes.process_name=ngrok.exe", "Processes.process_name IN (ngrok.exe, x.exe")
    issues = _issues(tmp_path, {"unclosed": dict(V5, search=unclosed)})
    assert [(i.key, i.severity) for i in issues] == [("search", "error")]
    assert issues[0].path.endswith("unclosed.yml")
    assert "SPL does not parse: expected a value in IN (...)" in issues[0].message
    # valid SPL tunnelhunt does not run is compile's report, not a validation error
    unsupported = V5["search"].replace("| `drop_dm_object_name", "| nosuchcommand x | `drop_dm_object_name")
    assert _errors(tmp_path / "u", dict(V5, search=unsupported)) == []


def test_contentctl_v5_rba_rules(tmp_path: Path) -> None:
    def rba(**changes: Any) -> dict[str, Any]:
        return dict(V5, rba=dict(V5["rba"], **changes))

    assert _errors(tmp_path / "a", rba(risk_objects=[{"field": "dest", "type": "system", "score": 0}]))[0][0] == (
        "rba.risk_objects.0.score"
    )
    assert _errors(tmp_path / "b", rba(risk_objects=[{"field": "dest", "type": "system", "score": 40.5}]))
    assert _errors(tmp_path / "c", rba(risk_objects=[]))[0][0] == "rba.risk_objects"
    assert _errors(tmp_path / "d", rba(threat_objects=[{"field": "user", "type": "hostname"}]))[0][0] == (
        "rba.threat_objects.0.type"
    )
    assert _errors(tmp_path / "e", rba(threat_objects=[{"field": "user", "type": "process_name"}])) == []
    # production content names no field the search lacks, in its objects or its message
    [(key, message)] = _errors(tmp_path / "f", rba(message="ngrok on $dest$ from $src_ip$"))
    assert "src_ip" in message
    assert _errors(tmp_path / "g", dict(rba(message="ngrok on $dest$ from $src_ip$"), status="experimental")) == []


def test_contentctl_drilldowns_and_date(tmp_path: Path) -> None:
    one = dict(V5, drilldown_searches=V5["drilldown_searches"][:1])
    assert "2 are required" in _errors(tmp_path / "a", one)[0][1]
    no_placeholder = [dict(d, search="| from datamodel Risk.All_Risk") for d in V5["drilldown_searches"]]
    assert "%original_detection_search%" in _errors(tmp_path / "b", dict(V5, drilldown_searches=no_placeholder))[0][1]
    assert _errors(tmp_path / "c", dict(V5, drilldown_searches=[])) == []
    assert "in the future" in _errors(tmp_path / "d", dict(V5, date="2999-01-01"))[0][1]


def test_older_tags_risk_numbers_are_percentages(tmp_path: Path) -> None:
    older = dict(V5, rba=None, tags=dict(V5["tags"], confidence=70, impact=50, message="m", observable=[]))
    assert _errors(tmp_path / "a", older) == []
    too_much = dict(older, tags=dict(older["tags"], confidence=150))
    assert _errors(tmp_path / "b", too_much)[0][0] == "tags.confidence"
