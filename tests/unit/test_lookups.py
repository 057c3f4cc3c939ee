"""CSV lookups: definitions beside their CSV, matching rules, OUTPUT/OUTPUTNEW and inputlookup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tunnelhunt.cim import PROCESSES
from tunnelhunt.content.files import ContentError
from tunnelhunt.content.lookups import LookupLibrary, load_lookups
from tunnelhunt.normalize.normalizer import node_schema
from tunnelhunt.spl.compiler import compile_search
from tunnelhunt.spl.errors import SplSyntaxError, UnsupportedError
from tunnelhunt.spl.lookups import ROW_COLUMN
from tunnelhunt.store.duckdb_store import Store

TSTATS = (
    "| tstats count from datamodel=Endpoint.Processes by Processes.process_name Processes.dest"
    " | rename Processes.* as *"
)


def _write(directory: Path, name: str, definition: str, csv_text: str) -> None:
    (directory / f"{name}.yml").write_text(definition, encoding="utf-8")
    (directory / f"{name}.csv").write_text(csv_text, encoding="utf-8")


@pytest.fixture
def library(tmp_path: Path) -> LookupLibrary:
    lookups = tmp_path / "lookups"
    lookups.mkdir()
    _write(
        lookups,
        "tools",
        "name: tools\nfilename: tools.csv\ncase_sensitive_match: 'false'\nmatch_type: WILDCARD(tool)\n"
        "default_match: 'false'\nmin_matches: 1\n",
        "tool,category,note\nngrok*,tunnel,first\n*ngrok*,tunnel-any,second\ncmd.exe,shell,\n",
    )
    (lookups / "tools_first.yml").write_text(
        "name: tools_first\nfilename: tools.csv\ncase_sensitive_match: 'false'\nmatch_type: WILDCARD(tool)\n"
        "max_matches: 1\n",
        encoding="utf-8",
    )
    _write(lookups, "exact", "name: exact\nfilename: exact.csv\ndefault_match: none\n", "\ufeffname,owner\nh1,ops\n")
    _write(  # cells padded as hand-edited CSVs are: Splunk trims them as it trims headers
        lookups, "padded", "name: padded\nfilename: padded.csv\nmax_matches: 1\n", " name , flag \nh1, True\n h2 ,  \n"
    )
    (lookups / "kv.yml").write_text("name: kv\ncollection: kv_store\n", encoding="utf-8")
    errors: list[ContentError] = []
    library = load_lookups([lookups], errors)
    assert errors == []
    return library


@pytest.fixture
def store() -> Iterator[Store]:
    schema = node_schema(PROCESSES)
    rows = [
        {"_time": datetime(2024, 1, 1), "process_name": "NGROK.exe", "dest": "h1"},
        {"_time": datetime(2024, 1, 1), "process_name": "my-ngrok", "dest": "H1"},
        {"_time": datetime(2024, 1, 1), "process_name": "notepad.exe", "dest": "h2"},
    ]
    with Store() as store:
        store.append(PROCESSES.table, pa.Table.from_pylist(rows, schema=schema))
        yield store


def run(store: Store, library: LookupLibrary, search: str) -> list[dict[str, Any]]:
    compiled = compile_search(search, lookups=library.resolve)
    for lookup in compiled.lookups:
        assert lookup.path is not None
        store.load_csv(lookup.table, lookup.path, lookup.columns, ROW_COLUMN)
    return store.query(compiled.sql()).to_pylist()


def test_wildcard_case_insensitive_every_match_and_default_match(store: Store, library: LookupLibrary) -> None:
    rows = run(
        store,
        library,
        f"{TSTATS} | lookup tools tool AS process_name OUTPUT category note | table process_name category note",
    )
    assert rows == [  # `NGROK.exe` matches both rows: max_matches (100) gives both, in file order
        {"process_name": "NGROK.exe", "category": ["tunnel", "tunnel-any"], "note": ["first", "second"]},
        {"process_name": "my-ngrok", "category": ["tunnel-any"], "note": ["second"]},
        {"process_name": "notepad.exe", "category": ["false"], "note": ["false"]},
    ]


def test_max_matches_one_takes_the_first_row_in_file_order(store: Store, library: LookupLibrary) -> None:
    rows = run(store, library, f"{TSTATS} | lookup tools_first tool AS process_name | table process_name category")
    assert rows == [
        {"process_name": "NGROK.exe", "category": "tunnel"},
        {"process_name": "my-ngrok", "category": "tunnel-any"},
        {"process_name": "notepad.exe", "category": None},
    ]


def test_max_matches_caps_the_rows_and_skips_empty_cells(tmp_path: Path, store: Store) -> None:
    lookups = tmp_path / "caps"
    lookups.mkdir()
    cells = "host,role\n" + "".join(f"h1,r{i}\n" for i in range(5)) + "h1,\nh1,late\n"
    _write(lookups, "roles", "name: roles\nfilename: roles.csv\nmax_matches: 3\n", cells)
    (lookups / "all_roles.yml").write_text("name: all_roles\nfilename: roles.csv\n", encoding="utf-8")
    library = load_lookups([lookups], [])
    capped = run(store, library, f'{TSTATS} | where dest="h1" | lookup roles host AS dest | table role')
    assert capped == [{"role": ["r0", "r1", "r2"]}]
    every = run(store, library, f'{TSTATS} | where dest="h1" | lookup all_roles host AS dest | table role')
    assert every == [{"role": ["r0", "r1", "r2", "r3", "r4", "late"]}]  # the empty cell is no value


def test_lookup_cells_are_trimmed_like_headers(store: Store, library: LookupLibrary) -> None:
    rows = run(store, library, f'{TSTATS} | lookup padded name AS dest | table dest flag | where flag="True"')
    assert rows == [{"dest": "h1", "flag": "True"}]
    h2 = run(store, library, f'{TSTATS} | where dest="h2" | lookup padded name AS dest | table dest flag')
    assert h2 == [{"dest": "h2", "flag": None}]  # ` h2 ` matches h2; a cell of spaces is empty


def test_exact_lookup_is_case_sensitive_by_default_and_default_match_needs_min_matches(
    store: Store, library: LookupLibrary
) -> None:
    rows = run(store, library, f"{TSTATS} | lookup exact.csv name AS dest | table dest owner | sort 0 str(dest)")
    assert rows == [{"dest": "H1", "owner": None}, {"dest": "h1", "owner": ["ops"]}, {"dest": "h2", "owner": None}]


def test_output_overwrites_and_outputnew_keeps_existing_values(store: Store, library: LookupLibrary) -> None:
    base = f'{TSTATS} | eval owner=if(dest="h2", "kept", null())'
    overwritten = run(
        store, library, f"{base} | lookup exact name AS dest OUTPUT owner | table dest owner | sort str(dest)"
    )
    assert [r["owner"] for r in overwritten] == [None, ["ops"], None]
    kept = run(
        store, library, f"{base} | lookup exact name AS dest OUTPUTNEW owner | table dest owner | sort str(dest)"
    )
    assert [r["owner"] for r in kept] == [None, ["ops"], ["kept"]]


def test_inputlookup_with_where(store: Store, library: LookupLibrary) -> None:
    rows = run(store, library, '| inputlookup tools where category="tunnel*" | table tool')
    assert rows == [{"tool": "ngrok*"}, {"tool": "*ngrok*"}]


def test_unknown_lookup_field_and_non_csv_lookups_fail_compilation(library: LookupLibrary) -> None:
    with pytest.raises(SplSyntaxError, match="has no field 'missing'"):
        compile_search(f"{TSTATS} | lookup exact name AS dest OUTPUT missing", lookups=library.resolve)
    with pytest.raises(UnsupportedError, match="lookup 'kv' is not defined"):
        compile_search(f"{TSTATS} | lookup kv a AS dest", lookups=library.resolve)
    assert "kv" in library and library.resolve("kv") is None


def test_a_definition_whose_csv_is_missing_is_a_content_error(tmp_path: Path) -> None:
    (tmp_path / "gone.yml").write_text("name: gone\nfilename: gone.csv\n", encoding="utf-8")
    errors: list[ContentError] = []
    library = load_lookups([tmp_path], errors)
    assert "gone" not in library
    assert len(errors) == 1 and "gone.csv does not exist" in str(errors[0])
