"""`serve`'s pages and JSON API: the queue and its filters, review with an audit log, CSRF and origin
checks, the token wall, escaping of attacker text, search."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lxml.html
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tests.support.web_data import PAYLOAD
from tunnelhunt.actions.common import load
from tunnelhunt.cli.app import app as cli
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.web.app import create_app
from tunnelhunt.web.auth import COOKIE, hash_token, is_loopback, verify_token


def _findings(client: TestClient, **params: str) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/findings", params=params)
    assert answer.status_code == 200
    return list(answer.json()["findings"])


def _csrf(client: TestClient, path: str = "/") -> str:
    page = lxml.html.fromstring(client.get(path).text)
    return str(page.xpath("//meta[@name='csrf-token']/@content")[0])


def test_the_queue_lists_findings_and_its_filters_narrow_them(client: TestClient) -> None:
    every = _findings(client)
    assert len(every) >= 2 and all(f["status"] == "new" for f in every)
    page = lxml.html.fromstring(client.get("/").text)
    assert len(page.xpath("//table[@id='queue']/tbody/tr")) == len(every)
    severity = every[0]["severity"]
    assert {f["finding_id"] for f in _findings(client, severity=severity)} == {
        f["finding_id"] for f in every if f["severity"] == severity
    }
    entity = every[-1]["risk_object"]
    assert all(f["risk_object"] == entity for f in _findings(client, entity=entity.upper()))
    detection = every[0]["search_names"][0]
    narrowed = _findings(client, detection=detection)
    assert narrowed and all(detection in f["search_names"] for f in narrowed)
    assert _findings(client, earliest="+1d") == []  # a window in the future holds nothing
    assert len(_findings(client, earliest="-1d", latest="+1m")) == len(every)
    newest = max(f["seq"] for f in every)
    assert _findings(client, after_seq=str(newest)) == []  # what polling sees once up to date
    assert client.get("/api/v1/findings", params={"earliest": "-3zz"}).status_code == 400


def test_a_review_change_is_stored_with_an_audit_row(client: TestClient) -> None:
    finding = _findings(client)[0]
    path = f"/findings/{finding['finding_id']}"
    token = _csrf(client, path)
    form = {"csrf": token, "status": "in progress", "owner": "alice", "comment": "looking", "by": "alice"}
    answer = client.post(f"{path}/review", data=form, headers={"origin": "http://127.0.0.1:8465"},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    stored = client.get(f"/api/v1{path}").json()
    assert (stored["status"], stored["owner"], stored["comment"]) == ("in progress", "alice", "looking")
    audit = {(a["field"], a["old"], a["new"]) for a in stored["audit"]}
    assert audit == {("status", "new", "in progress"), ("owner", None, "alice"), ("comment", None, "looking")}
    assert all(a["actor"] == "alice@testclient" for a in stored["audit"])
    # the same values again change nothing and log nothing
    client.post(f"{path}/review", data=form)
    assert len(client.get(f"/api/v1{path}").json()["audit"]) == 3
    page = lxml.html.fromstring(client.get(path).text)
    assert page.get_element_by_id("current-status").text == "in progress"
    assert len(page.xpath("//table[@id='audit']//tr[td]")) == 3
    assert [f["finding_id"] for f in _findings(client, status="in progress")] == [finding["finding_id"]]


def test_changes_need_the_session_csrf_token_and_the_same_origin(client: TestClient) -> None:
    finding = _findings(client)[-1]
    path = f"/findings/{finding['finding_id']}/review"
    assert client.post(path, data={"status": "closed"}).status_code == 403  # no token
    assert client.post(path, data={"status": "closed", "csrf": "0" * 64}).status_code == 403  # wrong token
    token = _csrf(client)
    evil = client.post(path, data={"status": "closed", "csrf": token}, headers={"origin": "http://evil.example"})
    assert evil.status_code == 403
    # another browser (another session cookie) cannot use this session's token
    with TestClient(client.app, base_url="http://127.0.0.1:8465") as other:
        assert other.post(path, data={"status": "closed", "csrf": token}).status_code == 403
    assert client.get(f"/api/v1/findings/{finding['finding_id']}").json()["status"] == "new"
    # the JSON API takes the token as a header
    api = f"/api/v1/findings/{finding['finding_id']}/review"
    assert client.post(api, json={"status": "closed"}).status_code == 403
    header = {"x-csrf-token": client.get("/api/v1/session").json()["csrf"]}
    assert client.post(api, json={"status": "shelved"}, headers=header).status_code == 400
    changed = client.post(api, json={"status": "closed", "by": "bob"}, headers=header)
    assert changed.status_code == 200 and changed.json()["status"] == "closed"


def test_attacker_text_is_shown_as_text_on_every_page(client: TestClient) -> None:
    finding = next(f for f in _findings(client) if "Ngrok Agent Command Line" in " ".join(f["search_names"]))
    events = client.get(f"/events/{finding['finding_id']}")
    assert events.status_code == 200 and PAYLOAD not in events.text
    cells = [td.text_content() for td in lxml.html.fromstring(events.text).xpath("//table[@class='events']//td")]
    assert any(PAYLOAD in cell for cell in cells)
    api = client.get(f"/api/v1/events/{finding['finding_id']}").json()
    assert any(PAYLOAD in str(e.get("process")) for r in api["results"] for e in r["events"])
    entity = client.get(f"/entities/{finding['risk_object']}")
    assert entity.status_code == 200 and PAYLOAD not in entity.text
    assert "&lt;script&gt;window.pwned=1" in entity.text or "\\u0026lt;script" in entity.text
    assert "default-src 'self'" in entity.headers["content-security-policy"]


def test_the_entity_page_and_api(client: TestClient) -> None:
    finding = _findings(client)[0]
    data = client.get(f"/api/v1/entities/{finding['risk_object']}").json()
    assert data["summary"][0]["risk_score"] == sum(e["risk_score"] for e in data["risk_events"])
    assert finding["finding_id"] in {f["finding_id"] for f in data["findings"]}
    page = lxml.html.fromstring(client.get(f"/entities/{finding['risk_object']}").text)
    assert page.get_element_by_id("entity-name").text == finding["risk_object"]
    assert len(page.xpath("//table[@id='risk-events']//tr[td]")) == len(data["risk_events"])
    assert page.xpath("//script[@src='/static/plotly.min.js']")
    assert client.get("/static/plotly.min.js").text.startswith("/**")
    assert client.get("/entities/no-such-host").status_code == 404
    assert client.get("/api/v1/findings/" + "0" * 32).status_code == 404
    assert client.get("/events/00000000deadbeef").status_code == 404


def test_search_runs_spl_with_a_time_range(client: TestClient) -> None:
    spl = "`sysmon` EventCode=1 ngrok | table _time CommandLine"
    rows = client.get("/api/v1/search", params={"q": spl}).json()["rows"]
    assert len(rows) == 3 and any(PAYLOAD in r["CommandLine"] for r in rows)
    assert client.get("/api/v1/search", params={"q": spl, "earliest": "+1d"}).json()["rows"] == []
    page = client.get("/search", params={"q": spl})
    assert PAYLOAD not in page.text
    assert lxml.html.fromstring(page.text).get_element_by_id("result-count").text == "3"
    bad = client.get("/search", params={"q": "EventCode=1 | nosuchcommand"})
    assert "nosuchcommand" in lxml.html.fromstring(bad.text).get_element_by_id("search-error").text
    assert client.get("/api/v1/search", params={"q": "| nosuchcommand"}).status_code == 400


def test_a_token_guards_every_page_and_is_kept_hashed(store: Store) -> None:
    stored = hash_token("s3cret")
    assert "s3cret" not in stored and verify_token("s3cret", stored) and not verify_token("s3cret!", stored)
    with TestClient(create_app(store, load(), stored), base_url="http://127.0.0.1:8465") as client:
        assert client.get("/", follow_redirects=False).headers["location"] == "/login"
        assert client.get("/api/v1/findings").status_code == 401
        assert client.get("/api/v1/findings", headers={"authorization": "Bearer s3cret"}).status_code == 200
        token = _csrf(client, "/login")
        assert client.post("/login", data={"csrf": token, "token": "wrong"}).status_code == 403
        before = client.cookies.get(COOKIE)
        answer = client.post("/login", data={"csrf": token, "token": "s3cret"}, follow_redirects=False)
        assert answer.status_code == 303 and client.cookies.get(COOKIE) != before  # the session id is new
        assert client.get("/").status_code == 200


def test_serve_refuses_other_hosts_without_a_token(served_db: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
    result = CliRunner().invoke(cli, ["serve", "--db", str(served_db), "--host", "0.0.0.0"])
    assert result.exit_code != 0 and re.search(r"--token", result.stderr)
    missing = CliRunner().invoke(cli, ["serve", "--db", str(served_db.with_name("none.duckdb"))])
    assert missing.exit_code != 0 and "no database" in missing.stderr
