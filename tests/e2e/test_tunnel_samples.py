"""The small Sysmon samples shipped with the tunnel detections: each detection's own test data makes it
fire with its risk fields filled (what `tunnelhunt test` asks), the findings are exactly the planted events,
and the near-miss sample makes none of the new detections fire."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tunnelhunt.cli.app import app
from tunnelhunt.content.loader import SHIPPED, load_content
from tunnelhunt.detect.runner import run_detection
from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.duckdb_store import Store

DATA = SHIPPED / "data"
SEEDS = {"Ngrok Reverse Proxy on Network", "Windows Ngrok Reverse Proxy Usage"}
CONTENT = load_content()
NEW = [d for d in CONTENT.detections if d.name not in SEEDS]
runner = CliRunner()


def hunt(path: Path) -> dict[str, list[dict[str, Any]]]:
    result = runner.invoke(app, ["hunt", str(path), "--output", "jsonl"])
    assert result.exit_code == 0, result.stderr
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            found[row.pop("detection")].append(row)
    return found


@pytest.mark.parametrize("detection", NEW, ids=lambda d: d.name)
def test_each_detections_own_test_data_makes_it_fire_with_risk_fields(detection: Any) -> None:
    assert detection.tests, "every shipped detection carries a test"
    rba = detection.risk
    assert rba is not None and rba.risk_objects
    for test in detection.tests:
        with Store() as store:
            for attack in test.attack_data:
                path = (detection.source_path.parent / attack.data).resolve()
                report = ingest([path], store)
                assert report.total("quarantined") == 0 and not report.failed_files
            run = run_detection(store, detection, CONTENT.macros)
        assert run.error is None and run.rows, f"{detection.name}: no result on {test.name}"
        for row in run.rows:
            assert all(row.get(r.field) not in (None, "", "null") for r in rba.risk_objects), row
        for threat in rba.threat_objects:
            assert any(row.get(threat.field) not in (None, "", "null") for row in run.rows), threat.field


def test_ngrok_dns_sample_exact_findings() -> None:
    found = hunt(DATA / "ngrok_dns_sysmon.log")
    queries = {name: sorted(str(row.get("query")) for row in rows) for name, rows in found.items()}
    assert queries["Ngrok Agent Hosts in DNS"] == [
        "connect.eu.ngrok-agent.com",
        "connect.ngrok-agent.com",
        "korgn.su.lennut.com",
        "tunnel.ngrok.com",
    ]
    assert queries["Ngrok Endpoint Domains in DNS"] == [
        "4.tcp.us-cal-1.ngrok.io",
        "b7e1-203-0-113-9.ngrok-free.app",
        "payroll-update.ngrok-free.dev",
        "shop.ngrok.app",
    ]
    assert queries["Ngrok Download or Update Hosts in DNS"] == [
        "bin.equinox.io",
        "crl.ngrok-agent.com",
        "update.ngrok-agent.com",
    ]
    [cname] = found["Ngrok Custom Domain CNAME in DNS"]
    assert (cname["query"], cname["answer"]) == ("portal.partner-co.example", "3k9x2m7f5a.6b3c.ngrok-cname.com")
    [renamed] = found["Ngrok Agent Command Line on Any Binary"]
    assert renamed["process_name"] == "wuauhelper.exe"
    [correlated] = found["Tunnel Agent Run With Lookup of Its Hosts"]
    assert (correlated["process_name"], correlated["query"]) == ("wuauhelper.exe", "connect.ngrok-agent.com")
    zones = sorted(row["zone"] for row in found["Tunnel Service Domain First Seen on Host"])
    assert zones == ["equinox.io", "lennut.com", "ngrok-agent.com", "ngrok-cname.com", "ngrok-free.app",
                     "ngrok-free.dev", "ngrok.app", "ngrok.com", "ngrok.io"]  # fmt: skip
    assert "Windows Ngrok Reverse Proxy Usage" not in found  # the agent was renamed: the seed misses it


def test_ngrok_process_sample_exact_findings() -> None:
    found = hunt(DATA / "ngrok_process_sysmon.log")
    grammar = sorted(row["process"].split(" ", 1)[1] for row in found["Ngrok Agent Command Line on Any Binary"])
    assert grammar == [
        "-authtoken 2Hq7xZ3bQ9kLmN8pR4sT6vW1yA -region=us -log=stdout tcp 22",
        "-o StrictHostKeyChecking=no -R 0:localhost:3389 v2@connect.eu.ngrok-agent.com tcp 3389",
        "config add-authtoken 2AbCdEfGh1jKlMn0pQrStUvWxYz_5aB6cD7eF8gH9iJ0kLmN",
        "http --url=https://status-board.ngrok.app 8080",
        "service install --config C:\\ProgramData\\Microsoft\\Crypto\\tunnels.yml",
        "tcp 3389 --region eu",
    ]
    exposed = sorted(row["process"].split(" ", 1)[1] for row in found[
        "Ngrok Agent Exposing Remote Access or Installed as Service"])  # fmt: skip
    assert exposed == [grammar[0], grammar[1], grammar[4], grammar[5]]
    [ssh] = found["Ngrok Tunnel over SSH"]
    assert ssh["process_name"] == "ssh.exe" and ssh["user"] == "IIS APPPOOL\\DefaultAppPool"
    assert [row["process_name"] for row in found["Windows Ngrok Reverse Proxy Usage"]] == ["ngrok.exe"]


def test_other_services_sample_exact_findings() -> None:
    found = hunt(DATA / "tunnel_services_sysmon.log")
    clients = sorted(row["process_name"] for row in found["Tunnel Service Client Command Line"])
    assert clients == ["bore.exe", "cloudflared-windows-amd64.exe", "devtunnel.exe", "node.exe", "ssh.exe",
                       "ssh.exe", "ssh.exe"]  # fmt: skip
    assert len(found["Tunnel Service Domains in DNS"]) == 14
    services = sorted(row["service"] for row in found["Tunnel Agent Run With Lookup of Its Hosts"])
    assert services == ["bore", "cloudflare-tunnel", "localhost.run", "localtunnel", "microsoft-dev-tunnels",
                        "pinggy", "serveo"]  # fmt: skip
    assert not {name for name in found if name.startswith("Ngrok") or name in SEEDS}


def test_near_miss_sample_finds_nothing_new() -> None:
    found = hunt(DATA / "tunnel_near_misses_sysmon.log")
    # only the seed's broad `*.ngrok.com` reacts, to the browser visiting ngrok's dashboard; the SSH remote
    # forward to a private host is no tunnel service, but it is an SSH tunnel exposing a loopback port
    assert {name: [row.get("query") or row["process"] for row in rows] for name, rows in found.items()} == {
        "Ngrok Reverse Proxy on Network": ["dashboard.ngrok.com"],
        "SSH Tunnel to Remote Access Port or Loopback": ["ssh -R 8080:localhost:80 jump.lab.example"],
    }


def test_network_and_file_sample_exact_findings() -> None:
    found = hunt(DATA / "ngrok_network_file_sysmon.log")
    [connection] = found["Ngrok Agent Network Connection"]
    assert (connection["dest"], connection["dest_port"], connection["process_name"]) == (
        "connect.ngrok-agent.com",
        "443",
        "OneDriveSync.exe",
    )  # the browser's connection to an endpoint and a look-alike host are not agent connections
    paths = sorted(row["file_path"] for row in found["Ngrok Configuration File Written"])
    assert paths == ["C:\\Users\\rpatel\\.ngrok2\\ngrok.yml", "C:\\Users\\rpatel\\AppData\\Local\\ngrok\\ngrok.yml"]
    # `ngrok.yml.bak` and a hand-written `C:\ngrok\ngrok.yml` are near misses


def test_linux_sample_exact_findings() -> None:
    found = hunt(DATA / "ngrok_linux_sysmon.log")
    assert sorted(row["process"] for row in found["Ngrok Agent Command Line on Any Binary"]) == [
        "/tmp/.cache/kworkerd config add-authtoken 2Hq7xZ3bQ9kLmN8pR4sT6vW1yA_5cD7eF9gH2jK4mN6pQ",
        "/tmp/.cache/kworkerd tcp 22 --log=false",
        "ngrok http 3000 --url https://build-preview.ngrok.app",
    ]  # python3 -m http.server, ss, curl to the local inspection API, ssh -L and lsof are near misses
    assert [row["process"] for row in found["Ngrok Agent Exposing Remote Access or Installed as Service"]] == [
        "/tmp/.cache/kworkerd tcp 22 --log=false"
    ]
    [ssh] = found["Ngrok Tunnel over SSH"]
    assert ssh["process_name"] == "ssh" and ssh["vendor_product"] == "Sysmon for Linux"
    assert [row["file_path"] for row in found["Ngrok Configuration File Written"]] == [
        "/var/lib/jenkins/.config/ngrok/ngrok.yml"
    ]
    assert [row["dest"] for row in found["Ngrok Agent Network Connection"]] == ["connect.ngrok-agent.com"]


def test_macos_sample_exact_findings() -> None:
    found = hunt(DATA / "ngrok_macos_endpoint.ndjson")
    assert sorted(row["process"] for row in found["Ngrok Agent Command Line on Any Binary"]) == [
        "ngrok config add-authtoken 2AbCdEfGh1jKlMn0pQrStUvWxYz_5aB6cD7eF8gH9iJ0kLmN",
        "ngrok http 5000",
    ]
    assert [row["file_path"] for row in found["Ngrok Configuration File Written"]] == [
        "/Users/lchen/Library/Application Support/ngrok/ngrok.yml"
    ]  # not the ngrok.yml saved in Downloads
    assert [row["src"] for row in found["Ngrok Agent Network Connection"]] == ["192.168.1.23"]
    assert "Windows Ngrok Reverse Proxy Usage" not in found  # no ngrok.exe on a Mac
