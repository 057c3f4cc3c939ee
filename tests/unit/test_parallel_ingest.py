"""Parallel ingest gives exactly what a sequential run gives: same rows, same line numbers, same account."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import dns_event, process_event
from tunnelhunt.ingest import plan
from tunnelhunt.ingest import run as ingest_run
from tunnelhunt.ingest import workers as pool
from tunnelhunt.ingest.run import IngestReport, ingest
from tunnelhunt.readers.base import START
from tunnelhunt.readers.detect import ReaderSet
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import SysmonXmlReader
from tunnelhunt.store.duckdb_store import Store

CHECK = (
    "SELECT _offset, process, dest FROM endpoint_processes ORDER BY _offset",
    "SELECT _offset, query, answer FROM network_resolution_dns ORDER BY _offset",
)


def _log(path: Path, events: int) -> dict[int, str]:
    """A log of `events` lines with a few bad ones; returns the bad lines' numbers and what is wrong."""
    lines: list[str] = []
    bad: dict[int, str] = {}
    for index in range(events):
        number = index + 1
        if number % 97 == 0:
            lines.append(process_event("ngrok.exe http 80").replace("<Data Name='User'>", "<Data Name='User'><x>"))
            bad[number] = "malformed XML"
        elif number % 151 == 0:
            lines.append("stray text " + str(number))
            bad[number] = "text outside an <Event> element"
        elif index % 3 == 0:
            lines.append(dns_event(f"h{index}.ngrok.io", results=f"::ffff:10.0.0.{index % 250};"))
        else:
            lines.append(process_event(f"ngrok.exe http {index}", computer=f"host-{index % 7}"))
    path.write_text("\n".join(lines) + "\n")
    return bad


def _snapshot(store: Store) -> list[list[dict[str, object]]]:
    return [store.query(sql).to_pylist() for sql in CHECK]


def _ingest(path: Path, workers: int) -> tuple[IngestReport, list[list[dict[str, object]]]]:
    with Store() as store:
        report = ingest([path], store, workers=workers)
        return report, _snapshot(store)


def test_ranges_cut_at_event_starts(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    _log(path, 600)
    size = path.stat().st_size
    with path.open("rb") as stream:
        cuts = SysmonXmlReader().cut_points(stream, size, 20_000)
    assert len(plan.plan_units(0, Source(path), SysmonXmlReader(), START, True, 20_000)) == len(cuts) + 1
    assert len(cuts) > 10
    data = path.read_bytes()
    assert all(data[cut : cut + 7] == b"<Event " for cut in cuts)
    assert cuts == sorted(set(cuts))


def test_parallel_ranges_match_a_sequential_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.log"
    bad = _log(path, 1500)
    sequential, rows = _ingest(path, workers=1)
    monkeypatch.setattr("tunnelhunt.ingest.run.unit_size", lambda total, workers: 50_000)
    units = plan.plan_units(0, Source(path), SysmonXmlReader(), START, True, 50_000)
    assert len(units) > 20
    ranged = [batch for result in pool.run_units(units, 1) for batch in result.batches]
    assert sum(batch.records for batch in ranged) == 1500
    assert ranged[-1].end == sequential.files[0].position
    pooled, pooled_rows = _ingest(path, workers=2)
    for report in (sequential, pooled):
        file_report = report.files[0]
        assert file_report.balanced and file_report.error is None
        assert file_report.read == 1500
        assert {q.offset: q.reason.split(":")[0] for q in report.quarantine} == bad
    assert rows == pooled_rows
    assert [row["_offset"] for row in rows[0]][:3] == [2, 3, 5]


@pytest.mark.parametrize("commit_rows", [400, 900])
def test_the_last_transaction_takes_the_rest_rather_than_commit_fewer_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, commit_rows: int
) -> None:
    """DuckDB appends a transaction of fewer rows than a row group into a table that has rows all over again
    at its commit: the rest of a run smaller than what a transaction took joins the last one instead."""
    path = tmp_path / "a.log"
    _log(path, 1500)
    sequential, rows = _ingest(path, workers=1)
    monkeypatch.setattr("tunnelhunt.ingest.run.unit_size", lambda total, workers: 50_000)
    monkeypatch.setattr("tunnelhunt.ingest.run.COMMIT_ROWS", commit_rows)
    committed: list[int] = []
    commit = ingest_run._Transaction.commit

    def counted(self: ingest_run._Transaction) -> None:
        committed.append(self.records)
        commit(self)

    monkeypatch.setattr(ingest_run._Transaction, "commit", counted)
    pooled, pooled_rows = _ingest(path, workers=2)
    assert sum(committed) == 1500 and len(committed) == 1500 // commit_rows
    assert min(committed) >= commit_rows  # the last one too
    assert pooled_rows == rows and pooled.files[0].position == sequential.files[0].position


def test_multiline_wrapped_file_in_ranges_keeps_line_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    event = process_event("ngrok.exe tcp 22").replace("><", ">\n  <")
    per_event = event.count("\n") + 1
    text = "<?xml version='1.0' encoding='utf-8'?>\n<Events>\n" + "\n".join([event] * 200) + "\n</Events>\n"
    path = tmp_path / "wevtutil.xml"
    path.write_text(text)
    monkeypatch.setattr("tunnelhunt.ingest.run.unit_size", lambda total, workers: 10_000)
    report, rows = _ingest(path, workers=2)
    assert report.total("quarantined") == 0
    assert [row["_offset"] for row in rows[0]] == [3 + i * per_event for i in range(200)]


def test_missing_and_unknown_files_are_reported_and_others_ingested(tmp_path: Path) -> None:
    good = tmp_path / "good.log"
    good.write_text(process_event("ngrok.exe http 1") + "\n")
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello\n")
    with Store() as store:
        report = ingest([good, unknown, tmp_path / "gone.log"], store, workers=2)
        assert store.count("endpoint_processes") == 1
    errors = {Path(f.path).name: f.error for f in report.files}
    assert errors["good.log"] is None
    assert errors["notes.txt"] and errors["gone.log"] == "no such file or directory"


def test_json_lines_in_ranges_match_a_sequential_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tunnelhunt.generate import generate_sysmon
    from tunnelhunt.generate.jsonl import xml_log_to_jsonl

    dataset = generate_sysmon(tmp_path / "x", events=2000, seed=5)
    path = tmp_path / "events.jsonl"
    xml_log_to_jsonl(dataset.path, path, workers=1)
    lines = path.read_text().splitlines()
    lines[700] = '{"EventID": "1", broken'
    path.write_text("\n".join(lines) + "\n")
    sequential, rows = _ingest(path, workers=1)
    monkeypatch.setattr("tunnelhunt.ingest.run.unit_size", lambda total, workers: 40_000)
    reader = ReaderSet().choose(Source(path)).reader
    assert len(plan.plan_units(0, Source(path), reader, START, True, 40_000)) > 10
    pooled, pooled_rows = _ingest(path, workers=2)
    assert rows == pooled_rows and len(rows[0]) > 50
    for report in (sequential, pooled):
        assert report.files[0].read == 2000 and report.files[0].balanced
        assert [q.offset for q in report.quarantine] == [701]


# --- small inputs read, normalised and stored together ---------------------------------------------


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    for index in range(9):
        _log(folder / f"f{index}.log", 150 + 40 * index)
    (folder / "empty.log").write_text("")
    (folder / "junk.log").write_text("nothing here is a log\n")
    return folder


def _reports(report: IngestReport) -> list[tuple[object, ...]]:
    return [
        (
            f.path,
            f.format,
            f.read,
            f.ingested,
            f.unmapped,
            f.quarantined,
            f.error,
            sorted(f.per_table.items()),
            f.position,
        )
        for f in report.files
    ]


def _quarantine(store: Store) -> list[dict[str, object]]:
    sql = 'SELECT source, "offset", reason FROM ingest_quarantine ORDER BY source, "offset"'
    return store.query(sql).to_pylist()


@pytest.mark.parametrize("workers", [1, 2])
def test_grouped_small_files_match_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    folder = _folder(tmp_path)
    check = (*CHECK, "SELECT _source, count(*) AS n FROM endpoint_processes GROUP BY ALL ORDER BY ALL")
    sizes: list[int] = []
    group_units = plan.group_units

    def spy(units: list[plan.WorkUnit], *args: int) -> list[list[plan.WorkUnit]]:
        groups = group_units(units, *args)
        sizes.extend(len(group) for group in groups)
        return groups

    monkeypatch.setattr("tunnelhunt.ingest.workers.group_units", spy)
    with Store() as store:
        grouped = ingest([folder], store, workers=workers)
        grouped_rows = [store.query(sql).to_pylist() for sql in check]
        grouped_quarantine = _quarantine(store)
        assert ingest([folder], store, workers=workers).total("ingested") == 0  # checkpoints kept per file
    monkeypatch.setattr(plan, "GROUP_BYTES", 0)
    monkeypatch.setattr("tunnelhunt.ingest.run.COMMIT_INPUTS", 1)
    with Store() as store:
        alone = ingest([folder], store, workers=1)
        alone_rows = [store.query(sql).to_pylist() for sql in check]
        alone_quarantine = _quarantine(store)
    assert max(sizes) >= 9  # the small files did travel together
    assert _reports(grouped) == _reports(alone)
    assert grouped.balanced and grouped.total("quarantined") > 0 and len(grouped_rows[2]) == 9
    assert grouped_rows == alone_rows
    assert grouped_quarantine == alone_quarantine


def test_a_grown_file_in_a_group_adds_only_its_new_events(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    with Store() as store:
        first = ingest([folder], store)
        grown = folder / "f3.log"
        grown.write_text(grown.read_text() + process_event("ngrok.exe tcp 22") + "\n")
        again = ingest([folder], store)
        assert again.total("ingested") == 1 and again.total("read") == 1
        assert [f.path for f in again.files if f.read] == [str(grown)]
        total = store.query("SELECT count(*) AS n FROM endpoint_processes").to_pylist()[0]["n"]
        assert total == sum(f.per_table.get("endpoint_processes", 0) for f in first.files) + 1


def test_units_group_by_size_format_and_name() -> None:
    def unit(name: str, size: int, fmt: str = "evtx", end: int | None = None) -> plan.WorkUnit:
        source = type("S", (), {"name": name, "expanded_size": size})()
        return plan.WorkUnit(0, source, fmt, START, end, True)  # type: ignore[arg-type]

    small = [unit(f"s{i}", 1000) for i in range(3)]
    big = unit("big", plan.GROUP_BYTES + 1)
    other = unit("j", 10, "jsonl")
    ranged = unit("r", 10, end=5)
    groups = plan.group_units([*small, big, other, ranged, unit("s0", 10), unit("s0", 10)])
    assert [[u.source.name for u in g] for g in groups] == [["s0", "s1", "s2"], ["big"], ["j"], ["r"], ["s0"], ["s0"]]


def test_inputs_group_by_the_bytes_their_readers_get_not_their_size_on_disk(tmp_path: Path) -> None:
    import gzip
    import zipfile

    line = (process_event("whoami.exe /all") + "\n").encode()
    big = line * (plan.GROUP_BYTES // len(line) + 1)  # more than a group holds, compresses to ~100 KB
    plain = tmp_path / "plain.log"
    plain.write_bytes(line * 10)
    packed = tmp_path / "logs.zip"
    with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.log", big)
        archive.writestr("small.log", line * 10)
        archive.writestr("inner.log.gz", gzip.compress(line * 10))
    zipped = tmp_path / "big.log.gz"
    zipped.write_bytes(gzip.compress(big))
    sources = {
        "plain": Source(plain),
        "zip big": Source(packed, "big.log"),
        "zip small": Source(packed, "small.log"),
        "zip of gzip": Source(packed, "inner.log.gz"),
        "gzip": Source(zipped),
    }
    assert all((s.size or 0) < plan.GROUP_BYTES for s in sources.values())  # small on disk, every one
    assert {name: s.expanded_size for name, s in sources.items()} == {
        "plain": len(line) * 10, "zip big": len(big), "zip small": len(line) * 10, "zip of gzip": None, "gzip": None,
    }  # fmt: skip
    units = [plan.WorkUnit(0, s, "jsonl", START, None, True) for s in sources.values()]
    groups = plan.group_units(units)
    names = {id(s): name for name, s in sources.items()}
    assert [[names[id(u.source)] for u in g] for g in groups] == [
        ["plain"],
        ["zip big"],
        ["zip small"],
        ["zip of gzip"],
        ["gzip"],
    ]
    # the small ones together again when nothing unbounded stands between them
    together = plan.group_units([units[0], units[2]])
    assert [[names[id(u.source)] for u in g] for g in together] == [["plain", "zip small"]]


def test_tables_cross_processes_as_arrow_ipc_unchanged() -> None:
    import pyarrow as pa

    table = pa.table({"_source": ["a", "b", None], "n": [1, 2, 3], "tags": [["x"], [], None]})
    unit = plan.WorkUnit(0, Source(Path("a")), "jsonl", START, None, True)
    batch = plan.BatchResult({"endpoint_processes": table.slice(1)}, 0, [], 2, None, "line", "jsonl")
    packed = pool.pack([plan.UnitResult(unit, [batch])])
    assert isinstance(packed[0].batches[0].tables["endpoint_processes"], pa.Buffer)  # bytes, not a table
    back = pool.unpack(packed)[0].batches[0].tables["endpoint_processes"]
    assert back.equals(table.slice(1))


def test_a_worker_imports_neither_the_command_line_nor_the_parents_main_module() -> None:
    # under pytest the parent's __main__ is pytest's: a worker importing it would load pytest
    with pool.worker_pool(1) as submit:
        loaded = set(submit(pool.loaded_modules).result())
    assert "tunnelhunt.ingest.workers" in loaded  # what it runs
    assert not {m for m in loaded if m.startswith(("tunnelhunt.cli", "typer", "pytest", "_pytest", "rich"))}


def test_the_pool_starts_only_for_inputs_it_speeds_up() -> None:
    large = plan.PARALLEL_MIN_BYTES
    assert plan.choose_workers(plan.pool_bytes([("sysmon_xml", large)]), None) == plan.default_workers()
    assert plan.choose_workers(plan.pool_bytes([("evtx", 10 * large), ("jsonl", large // 2)]), None) == 1
    assert plan.choose_workers(plan.pool_bytes([("evtx", 10 * large)]), 2) == 2  # as asked


def test_a_compressed_input_in_a_pooled_run_is_read_here_as_it_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker returns its unit whole, and a compressed input is never cut into ranges: the parent reads
    it (stored batch by batch), between the pooled inputs before and after it, with the same results."""
    import gzip

    folder = _folder(tmp_path)
    packed = folder / "f4.log"  # in the middle of the others: order must hold across both ways
    packed.write_bytes(gzip.compress(packed.read_bytes()))
    check = (*CHECK, "SELECT _source, count(*) AS n FROM endpoint_processes GROUP BY ALL ORDER BY ALL")
    here: list[str] = []
    unit_parts = pool.unit_parts

    def spy(unit: plan.WorkUnit, context: object = None) -> object:
        here.append(Path(unit.source.name).name)
        return unit_parts(unit, context)  # type: ignore[arg-type]

    monkeypatch.setattr(pool, "unit_parts", spy)
    with Store() as store:
        pooled = ingest([folder], store, workers=2)
        pooled_rows = [store.query(sql).to_pylist() for sql in check]
    assert here == ["f4.log"]  # the workers read the others, in groups before and after it
    with Store() as store:
        alone = ingest([folder], store, workers=1)
        alone_rows = [store.query(sql).to_pylist() for sql in check]
    assert _reports(pooled) == _reports(alone) and pooled_rows == alone_rows
    assert any(f.path.endswith("f4.log") and f.ingested for f in pooled.files)
