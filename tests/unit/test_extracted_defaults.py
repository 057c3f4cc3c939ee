"""A record's own field named like a default field (`host`, `source`, `sourcetype`, `index`) is kept as
`extracted_<name>`: the column keeps the default field, and the record's value does not disappear, even when
the record also holds a field of the new name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.duckdb_store import Store

ZEEK_HEADER = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n"


def _stored(path: Path) -> list[dict[str, Any]]:
    with Store() as store:
        report = ingest([path], store, None, incremental=False)
        assert not report.failed_files and not report.quarantine, report.files
        rows = store.query("SELECT host, source, fields FROM events ORDER BY _offset").to_pylist()
    return [{"host": r["host"], "source": r["source"], "fields": dict(r["fields"])} for r in rows]


def test_zeek_tsv_keeps_the_host_header_and_source_beside_the_default_fields(tmp_path: Path) -> None:
    log = tmp_path / "http.log"
    fields = ("ts", "uid", "host", "extracted_host", "source", "uri")
    rows = [
        ("1700000000.000001", "C1", "a.example", "own", "S", "/"),
        ("1700000000.000002", "C2", "b.example", "-", "-", "/x"),
    ]
    log.write_text(ZEEK_HEADER + "#fields\t" + "\t".join(fields) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    first, second = _stored(log)
    assert first["fields"]["extracted_host"] == "a.example\nown" and first["fields"]["extracted_source"] == "S"
    assert second["fields"]["extracted_host"] == "b.example" and "extracted_source" not in second["fields"]
    assert "host" not in first["fields"] and first["host"] != "a.example" and first["source"] == str(log)


@pytest.mark.parametrize("uri", ["/", 18446744073709551616], ids=["walked in Python", "left to json_tree"])
def test_zeek_json_keeps_them_on_both_leaf_paths(tmp_path: Path, uri: object) -> None:
    log = tmp_path / "http.json"
    records = [
        {"_path": "http", "ts": "2023-11-14T22:13:20Z", "uid": "C1", "host": "a.example", "extracted_host": "own",
         "source": "S", "uri": uri},
        {"_path": "http", "ts": "2023-11-14T22:13:21Z", "uid": "C2", "host": "b.example", "uri": uri},
    ]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    first, second = _stored(log)
    assert first["fields"]["extracted_host"] == "a.example\nown" and first["fields"]["extracted_source"] == "S"
    assert second["fields"]["extracted_host"] == "b.example"
    assert first["host"] != "a.example" and "host" not in first["fields"]
