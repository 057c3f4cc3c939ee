"""`hunt --html` and `report --db --html`: one self-contained page, attacker text shown as text."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
from typer.testing import CliRunner

from tests.support.web_data import PAYLOAD, hostile_sample, hunted_db
from tunnelhunt.cli.app import app

runner = CliRunner()


def _page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def _self_contained(page: lxml.html.HtmlElement) -> None:
    """No script, style, image or font is fetched: everything the page needs is inside it."""
    assert not page.xpath("//script[@src] | //link | //img | //iframe")
    styles = " ".join(page.xpath("//style/text()"))
    assert "url(" not in styles and "@import" not in styles


def test_hunt_writes_a_self_contained_report_with_the_payload_as_text(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["hunt", str(hostile_sample(tmp_path)), "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert "HTML report" in result.stderr and str(out) in result.stderr
    html = out.read_text(encoding="utf-8")
    page = _page(out)
    _self_contained(page)
    assert PAYLOAD not in html  # only ever escaped
    # inline scripts: plotly.js and the one drawing the charts, none from the data
    scripts = page.xpath("//script")
    assert len(scripts) == 2 and "Plotly.newPlot" in scripts[1].text
    assert "<script>window" not in scripts[1].text
    # the chart's hover text: HTML-escaped for plotly's labels, then JSON-escaped for the script
    assert "\\u0026lt;script\\u0026gt;window.pwned=1" in scripts[1].text
    # the raw events of the findings hold the command line, shown as its own text
    raw_cells = [cell.text_content() for cell in page.xpath("//table[@class='events']//td")]
    assert any(PAYLOAD in cell for cell in raw_cells)
    # the run's accounting: the one input, read = ingested + unmapped + quarantined
    inputs = page.xpath("//section[@id='summary']//table[1]//tr")
    cells = [c.text_content() for c in inputs[1].xpath("td")]
    assert cells[0].endswith("hostile-sysmon.log") and cells[1] == "xml"
    read, ingested, unmapped, quarantined = (int(c) for c in cells[2:6])
    assert read == 5 and read == ingested + unmapped + quarantined
    # every detection run is listed, with or without results
    detections = page.xpath("//table[@id='detections']//tr[td]")
    assert len(detections) >= 20 and any(int(r.xpath("td")[1].text) > 0 for r in detections)
    findings = page.xpath("//details[@class='finding']")
    assert findings and int(page.get_element_by_id("count-findings").text) == len(findings)
    # an entity ranked by risk with its ATT&CK tactics
    entity_rows = page.xpath("//section[@id='entities']//tr[td]")
    assert entity_rows and "Command and Control" in entity_rows[0].text_content()


def test_report_from_a_database_shows_what_it_stored(tmp_path: Path) -> None:
    db = hunted_db(tmp_path)
    out = tmp_path / "out" / "db-report.html"
    result = runner.invoke(app, ["report", "--db", str(db), "--html", str(out)])
    assert result.exit_code == 0, result.output
    page = _page(out)
    _self_contained(page)
    assert PAYLOAD not in out.read_text(encoding="utf-8")
    cells = [c.text_content() for c in page.xpath("//section[@id='summary']//table[1]//tr[2]/td")]
    assert cells[0].endswith("hostile-sysmon.log") and cells[1] == "xml" and cells[3] == "5"  # events stored
    # each finding leads to raw events with their file and line
    table = page.xpath("//details[@class='finding']")[0].xpath(".//table[@class='events']")[0]
    header = [th.text for th in table.xpath(".//th")]
    row = table.xpath(".//tr[td]")[0]
    values = dict(zip(header, (td.text_content() for td in row.xpath("td")), strict=True))
    assert values["_source"].endswith("hostile-sysmon.log") and re.fullmatch(r"\d+", values["_offset"])


def test_report_refuses_a_missing_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--db", str(tmp_path / "none.duckdb"), "--html", str(tmp_path / "r.html")])
    assert result.exit_code != 0 and "no database" in result.stderr
    assert not (tmp_path / "r.html").exists()
