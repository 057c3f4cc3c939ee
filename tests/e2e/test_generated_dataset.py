"""Hunt the generated dataset and compare with its ground truth: every planted ngrok event is found
with the exact fields, and no near miss or background event is."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from tunnelhunt.cli.app import app
from tunnelhunt.content.loader import load_content
from tunnelhunt.content.services import shipped_catalogue

runner = CliRunner()
SEEDS = ("Ngrok Reverse Proxy on Network", "Windows Ngrok Reverse Proxy Usage")


@pytest.fixture(scope="module")
def hunted(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("generated")
    generated = runner.invoke(app, ["generate", str(out), "--events", "30000", "--seed", "11"])
    assert generated.exit_code == 0, generated.stderr
    risk = out / "risk.jsonl"
    names = ("windows-sysmon.log", "windows-security.log", "linux-sysmon.log", "macos-endpoint.ndjson")
    logs = [str(out / name) for name in names]
    result = runner.invoke(app, ["hunt", *logs, "--output", "jsonl", "--risk", str(risk)])
    assert result.exit_code == 0, result.stderr
    findings = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    risk_events = [json.loads(line) for line in risk.read_text().splitlines()]
    truth = json.loads((out / "truth.json").read_text())
    return truth, findings, risk_events


def test_process_findings_are_exactly_the_planted_runs(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    truth, findings, _ = hunted
    found = Counter(
        (f["dest"], f["user"], f["process"], f["parent_process_name"])
        for f in findings
        if f["detection"] == "Windows Ngrok Reverse Proxy Usage"
        for _ in range(f["count"])
    )
    expected = Counter((t["dest"], t["user"], t["process"], t["parent_process_name"]) for t in truth["process_matches"])
    assert found == expected
    assert len(expected) >= 7


def test_dns_findings_are_one_row_per_answer_of_each_planted_lookup(
    hunted: tuple[dict[str, Any], list[Any], list[Any]],
) -> None:
    truth, findings, _ = hunted
    found = Counter(
        (f["src"], f["query"], f["answer"])
        for f in findings
        if f["detection"] == "Ngrok Reverse Proxy on Network"
        for _ in range(f["count"])
    )
    expected = Counter((t["src"], t["query"], a) for t in truth["dns_matches"] for a in (t["answers"] or ["null"]))
    assert found == expected


def test_no_near_miss_is_found(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    truth, findings, _ = hunted
    seeds = [f for f in findings if f["detection"] in SEEDS]
    values = {f.get("query") for f in seeds} | {f.get("process") for f in seeds}
    misses = [m["value"] for m in truth["near_misses"]]
    assert misses and not values.intersection(misses)


def test_risk_events_cover_every_finding(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    _, findings, risk_events = hunted
    process_findings = [f for f in findings if f["detection"] == "Windows Ngrok Reverse Proxy Usage"]
    dns_findings = [f for f in findings if f["detection"] == "Ngrok Reverse Proxy on Network"]
    seed_risk = [e for e in risk_events if e["search_name"] in {f"ESCU - {name} - Rule" for name in SEEDS}]
    assert len(seed_risk) == 2 * len(process_findings) + len(dns_findings)
    assert {e["risk_object_type"] for e in seed_risk} == {"user", "system"}


# --- the tunnel detections beyond the seeds -------------------------------------------------------------------

KEYS = ("src", "dest", "query", "answer", "process", "file_path", "dest_port", "dvc", "src_ip", "dest_ip",
        "registry_path", "registry_value_data", "signature_id")  # fmt: skip


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in KEYS)


def _shipped_tunnel_detections() -> list[str]:
    return [d.name for d in load_content().detections if d.name not in SEEDS]


def test_every_tunnel_detection_finds_exactly_its_planted_events(
    hunted: tuple[dict[str, Any], list[Any], list[Any]],
) -> None:
    truth, findings, _ = hunted
    shipped = _shipped_tunnel_detections()
    assert set(shipped) <= set(truth["detections"])  # every shipped detection has ground truth
    for name in shipped:
        expected = Counter(_key(entry) for entry in truth["detections"][name]["matches"])
        found = Counter(_key(f) for f in findings if f["detection"] == name for _ in range(f["count"]))
        assert found == expected, name
        assert expected, f"nothing planted for {name}"


def test_no_tunnel_near_miss_is_found(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    truth, findings, _ = hunted
    for name in _shipped_tunnel_detections():
        misses = {m["value"] for m in truth["detections"][name]["near_misses"]}
        values = {v for f in findings if f["detection"] == name for v in _key(f) if v}
        assert misses, f"no near miss planted for {name}"
        assert not misses & values, name


def test_every_variant_of_the_issue_is_planted(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    truth, _, _ = hunted
    matches = {name: entry["matches"] for name, entry in truth["detections"].items()}
    commands = {m["process"] for m in matches["Ngrok Agent Command Line on Any Binary"]}
    assert any("MicrosoftEdgeUpdateCore.exe" in c for c in commands)  # renamed v3 agent
    assert any(c.startswith("/tmp/.cache/kworkerd tcp 22") for c in commands)  # renamed, on Linux
    assert "ngrok http 5000" in commands  # macOS, through an EDR's ECS export
    over_ssh = {m["process"] for m in matches["Ngrok Tunnel over SSH"]}
    assert any("v2@connect.eu.ngrok-agent.com" in c for c in over_ssh)  # Linux
    configs = {m["file_path"] for m in matches["Ngrok Configuration File Written"]}
    for place in ("\\AppData\\Local\\ngrok\\", "/.config/ngrok/", "/.ngrok2/", "/Library/Application Support/ngrok/"):
        assert any(place in path for path in configs), place
    assert {m["dest"] for m in matches["Ngrok Agent Network Connection"]} == {
        "connect.ngrok-agent.com",
        "connect.us.ngrok-agent.com",
    }
    assert any("-region=eu" in c for c in commands)  # single-dash v2 flags, renamed
    assert any("service install --config" in c for c in commands)
    assert {m["query"] for m in matches["Ngrok Agent Hosts in DNS"]} >= {
        "connect.ngrok-agent.com",
        "connect.us.ngrok-agent.com",
        "tunnel.eu.ngrok.com",
        "korgn.su.lennut.com",
    }
    assert {m["query"].split(".", 1)[1] for m in matches["Ngrok Endpoint Domains in DNS"]} >= {
        "ngrok-free.app",
        "ngrok-free.dev",
        "ngrok.app",
        "ngrok.dev",
        "ngrok.pizza",
        "tcp.us-cal-1.ngrok.io",
    }
    assert [m["answer"] for m in matches["Ngrok Custom Domain CNAME in DNS"]] == ["3k9x2m7f5a.6b3c.ngrok-cname.com"]
    assert {m["query"] for m in matches["Ngrok Download or Update Hosts in DNS"]} == {
        "bin.equinox.io",
        "crl.ngrok-agent.com",
        "update.ngrok-agent.com",
    }
    assert "ssh -R 443:localhost:8080 v2@connect.ngrok-agent.com http" in over_ssh  # Windows
    clients = " ".join(m["process"] for m in matches["Tunnel Service Client Command Line"])
    for marker in (
        "tunnel --url",
        "lt.js",
        "bore.exe local",
        "localhost.run",
        "serveo.net",
        "a.pinggy.io",
        "devtunnel.exe host",
        'Code.exe" tunnel',
    ):
        assert marker in clients, marker
    # fmt: skip


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def test_dns_behaviour_on_generated_data(hunted: tuple[dict[str, Any], list[Any], list[Any]]) -> None:
    truth, findings, _ = hunted
    catalogue = shipped_catalogue()
    lookups = []  # every planted lookup of a tunnel-service name, as the DNS detections' truth lists them
    dns_detections = [lists for lists in truth["detections"].values() if any("query" in m for m in lists["matches"])]
    assert len(dns_detections) >= 6  # the ngrok-era ones, the other services' and the current services' names
    for lists in dns_detections:
        for entry in lists["matches"]:
            group = catalogue.classify(entry["query"]) or catalogue.classify(entry.get("answer"))
            assert group is not None, entry  # every name a DNS detection finds is in the catalogue
            lookups.append((_time(entry["time"]), entry["src"].lower(), entry["query"], group))
    lookups = sorted(set(lookups), key=lambda item: item[0])
    first_on_host: dict[tuple[str, str, str], str] = {}
    first_in_fleet: dict[tuple[str, str], str] = {}
    for _, host, query, group in lookups:
        first_on_host.setdefault((host, group.service, group.zone), query)
        first_in_fleet.setdefault((group.service, group.zone), host)
    rows = {name: [f for f in findings if f["detection"] == name] for name in (
        "Tunnel Service Domain First Seen on Host", "Tunnel Service Domain First Seen in Fleet",
        "Tunnel Service Domain Host Count", "Tunnel Agent Run With Lookup of Its Hosts")}  # fmt: skip
    seen = {(r["src"], r["service"], r["zone"]): r["query"] for r in rows["Tunnel Service Domain First Seen on Host"]}
    assert seen == first_on_host
    fleet = {(r["service"], r["zone"]): r["src"] for r in rows["Tunnel Service Domain First Seen in Fleet"]}
    assert fleet == first_in_fleet
    hosts: dict[tuple[str, str], set[str]] = {}
    for _, host, _, group in lookups:
        hosts.setdefault((group.service, group.zone), set()).add(host)
    counts = {(r["service"], r["zone"]): r["host_count"] for r in rows["Tunnel Service Domain Host Count"]}
    assert counts == {zone: len(members) for zone, members in hosts.items()}

    # an agent run (found by an agent detection) and a lookup of its service's agent hosts within 30 minutes
    agents = {"Ngrok Agent Command Line on Any Binary": "ngrok", "Ngrok Tunnel over SSH": "ngrok",
              "Ngrok Agent Exposing Remote Access or Installed as Service": "ngrok",
              "Tunnel Service Client Command Line": ""}  # fmt: skip
    runs = {(t["dest"].lower(), t["process"], agents[name] or catalogue.service_of_command(t["process"]),
             _time(t["time"]).replace(microsecond=0))
            for name in agents for t in truth["detections"][name]["matches"]}  # fmt: skip
    runs |= {(t["dest"].lower(), t["process"], "ngrok", _time(t["time"]).replace(microsecond=0))
             for t in truth["process_matches"]}  # fmt: skip
    expected = set()
    for host, process, service, when in runs:
        for moment, lookup_host, _, group in lookups:
            near = abs((moment - when).total_seconds()) <= 30 * 60
            if lookup_host == host and group.service == service and group.role == "agent" and near:
                expected.add((host, process))
    found = {(r["dest"].lower(), r["process"]) for r in rows["Tunnel Agent Run With Lookup of Its Hosts"]}
    assert found == expected and len(expected) >= 8


def test_other_runs_of_a_known_agent_binary_are_found_by_hash(
    hunted: tuple[dict[str, Any], list[Any], list[Any]],
) -> None:
    truth, findings, _ = hunted
    name = "Ngrok Agent Binary Known by Hash"
    expected = Counter((t["dest"], t["process"]) for t in truth["detections"][name]["matches"])
    found = Counter((f["dest"], f["process"]) for f in findings if f["detection"] == name for _ in range(f["count"]))
    assert found == expected and len(expected) >= 2  # a renamed agent's `update`, and `ngrok.exe version`
    misses = {m["value"] for m in truth["detections"][name]["near_misses"]}
    assert misses and not misses & {process for _, process in found}
