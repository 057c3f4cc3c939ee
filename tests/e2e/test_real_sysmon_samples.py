"""Real Sysmon logs (EVTX-ATTACK-SAMPLES, EVTX-to-MITRE-Attack) rendered to XML by the `evtx` package,
read by the XML reader as a multi-line event stream, normalised, and hunted: counts match SOURCE.md and
no ngrok finding appears in these ngrok-free logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from evtx import PyEvtxParser

from tests.conftest import shared_dataset
from tunnelhunt.content.loader import load_content
from tunnelhunt.detect.runner import run_detections
from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.duckdb_store import Store


def evtx_as_xml_stream(evtx: Path, out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8") as stream:
        for record in PyEvtxParser(str(evtx)).records():
            stream.write(record["data"] + "\n")
            count += 1
    return count


@pytest.mark.parametrize(
    ("relative", "records", "processes", "dns"),
    [
        ("EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx", 565, 511, 0),
        ("EVTX-ATTACK-SAMPLES/Privilege Escalation/Sysmon_UACME_64.evtx", 530, 3, 1),
        ("EVTX-to-MITRE-Attack/EVTX_full_APT_attack_steps/ID11,13,17,18-PSexec as system execution.evtx", 15, 2, 1),
    ],
)
def test_real_sysmon_counts_and_no_false_positive(
    relative: str, records: int, processes: int, dns: int, tmp_path: Path
) -> None:
    source = shared_dataset(relative)
    xml = tmp_path / "sysmon.xml"
    assert evtx_as_xml_stream(source, xml) == records
    with Store() as store:
        report = ingest([xml], store)
        [file_report] = report.files
        assert file_report.error is None
        assert file_report.quarantined == 0
        assert file_report.read == records
        assert store.count("endpoint_processes") == processes
        assert store.count("network_resolution_dns") == dns
        assert file_report.read == file_report.ingested + file_report.unmapped
        content = load_content()
        runs = run_detections(store, content.detections, content.macros)
        assert all(run.error is None for run in runs)
        assert [row for run in runs for row in run.rows] == []


def test_real_dns_event_normalises_like_the_add_on(tmp_path: Path) -> None:
    source = shared_dataset("EVTX-ATTACK-SAMPLES/Privilege Escalation/Sysmon_UACME_64.evtx")
    xml = tmp_path / "sysmon.xml"
    evtx_as_xml_stream(source, xml)
    with Store() as store:
        ingest([xml], store)
        [row] = store.query("SELECT * FROM network_resolution_dns").to_pylist()
    assert (row["src"], row["query"], row["reply_code_id"], row["answer"]) == ("DESKTOP-NTSSLJD", "wpad", "9003", [])
