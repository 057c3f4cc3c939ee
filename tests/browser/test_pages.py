"""In a real browser: the HTML report, and the app from the queue to a finding, its entity and raw
events; a status change; a search; a finding raised while the queue is open. Each page's screenshot
goes to build/screenshots/ (docs/screenshots/ holds the README's copies)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from typer.testing import CliRunner

from tests.browser.conftest import screenshot
from tests.support.browser import Served
from tests.support.web_data import PAYLOAD, hostile_sample
from tunnelhunt.actions.common import load
from tunnelhunt.cli.app import app as cli
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.store.rba_store import RbaStore
from tunnelhunt.web.app import create_app

pytestmark = pytest.mark.browser
WAIT = 60  # seconds a page may take on a loaded machine (a limit, not a measurement)


@pytest.fixture(scope="module")
def hunted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The hostile sample hunted into a database, with its HTML report."""
    folder = tmp_path_factory.mktemp("browser")
    db, html = folder / "th.duckdb", folder / "report.html"
    result = CliRunner().invoke(cli, ["hunt", str(hostile_sample(folder)), "--db", str(db), "--html", str(html)])
    assert result.exit_code == 0, result.output
    return db, html


@pytest.fixture(scope="module")
def served(hunted: tuple[Path, Path]) -> Iterator[tuple[Served, Store]]:
    with Store(hunted[0]) as store, Served(create_app(store, load())) as server:
        yield server, store


def _wait(driver: Any) -> WebDriverWait:  # type: ignore[type-arg]
    return WebDriverWait(driver, WAIT)


def _pwned(driver: Any) -> Any:
    return driver.execute_script("return window.pwned === undefined ? null : window.pwned")


def test_the_html_report_draws_its_charts_and_shows_raw_events(browser: Any, hunted: tuple[Path, Path]) -> None:
    browser.get(hunted[1].as_uri())
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#chart-timeline .main-svg")))
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-timeline .scatterlayer .point")  # markers drawn
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-by-detection .barlayer .point")
    screenshot(browser, "report")
    finding = browser.find_elements(By.CSS_SELECTOR, "details.finding")[0]
    finding.find_element(By.TAG_NAME, "summary").click()
    cells = [c.text for c in finding.find_elements(By.CSS_SELECTOR, "table.events td")]
    assert cells and any("hostile-sysmon.log" in c for c in cells)
    every_cell = " ".join(c.get_attribute("textContent") for c in browser.find_elements(By.CSS_SELECTOR, "td"))
    assert PAYLOAD in every_cell and _pwned(browser) is None  # shown, never run


def test_queue_finding_entity_raw_events_review_and_search(browser: Any, served: tuple[Served, Store]) -> None:
    server, _ = served
    browser.get(server.url + "/")
    rows = _wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#queue tbody tr"))
    assert len(rows) >= 2
    screenshot(browser, "queue")
    # queue → finding
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, "#queue a.finding"))
    link.click()
    _wait(browser).until(ec.presence_of_element_located((By.ID, "review")))
    assert browser.find_element(By.ID, "current-status").text == "new"
    # a status change, kept with an audit row
    Select(browser.find_element(By.ID, "status")).select_by_visible_text("in progress")
    browser.find_element(By.ID, "owner").send_keys("alice")
    browser.find_element(By.ID, "by").send_keys("alice")
    browser.find_element(By.ID, "save").click()
    _wait(browser).until(ec.text_to_be_present_in_element((By.ID, "current-status"), "in progress"))
    audit = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tr")[1:]]
    assert any("status new in progress" in r for r in audit) and any("alice@127.0.0.1" in r for r in audit)
    screenshot(browser, "finding")
    # finding → entity: its risk over time drawn, its risk events listed
    entity = browser.find_element(By.ID, "entity-link").text
    browser.find_element(By.ID, "entity-link").click()
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#chart-risk .scatterlayer .point")))
    assert browser.find_element(By.ID, "entity-name").text == entity
    assert browser.find_elements(By.CSS_SELECTOR, "#risk-events tr td")
    screenshot(browser, "entity")
    # entity → raw events of a risk event, with the attacker's markup as text
    links = browser.find_elements(By.CSS_SELECTOR, "#risk-events a.raw-link")
    target = next((a for a in links if "Command Line" in a.find_element(By.XPATH, "../..").text), links[0])
    target.click()
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.events")))
    cells = " ".join(c.text for c in browser.find_elements(By.CSS_SELECTOR, "table.events td"))
    assert "hostile-sysmon.log" in cells and entity.split(".")[0].lower() in cells.lower()
    screenshot(browser, "events")
    # a search from the search bar
    bar = browser.find_element(By.ID, "searchbar")
    bar.send_keys("`sysmon` EventCode=1 ngrok | table _time host CommandLine")
    bar.submit()
    count = _wait(browser).until(ec.presence_of_element_located((By.ID, "result-count")))
    assert count.text == "3"
    texts = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#results td")]
    assert any(PAYLOAD in t for t in texts) and _pwned(browser) is None
    screenshot(browser, "search")


def test_a_new_finding_appears_in_the_open_queue(browser: Any, served: tuple[Served, Store]) -> None:
    server, store = served
    browser.get(server.url + "/")
    before = len(_wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#queue tbody tr")))
    now = datetime.now(UTC)
    with store.cursor() as cursor:
        RbaStore(cursor).add_findings([{
            "finding_id": "f" * 32, "_time": now, "rule": "Risk Threshold Exceeded", "risk_object": "<b>new-host</b>",
            "risk_object_type": "system", "severity": "critical", "risk_score": 999.0, "risk_event_count": 1,
            "detection_count": 1, "tactic_count": 0, "search_names": ["Live"], "mitre_tactic_id": [],
            "mitre_tactic": [], "earliest": now, "latest": now, "description": "raised while the page was open",
        }])  # fmt: skip
    fresh = _wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#queue tbody tr.fresh"))
    assert "<b>new-host</b>" in fresh[0].text  # as text: the markup is not bold
    assert len(browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")) == before + 1
    assert browser.find_element(By.ID, "count").text == str(before + 1)
