"""Add-on aliases kept in the events' field map: added after the event's own fields, never over them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from tests.helpers import sysmon_event
from tests.support.ingesting import ingest_into
from tunnelhunt.normalize.raw_events import add_to_map, map_from_wide
from tunnelhunt.store.duckdb_store import Store


def test_added_entries_follow_each_rows_own_and_never_replace_them() -> None:
    own = map_from_wide([pa.array(["a", None, "c"]), pa.array(["x", "y", None])], ["A", "user_id"], 3)
    merged = add_to_map(own, [pa.array(["u1", "u2", "u3"]), pa.array([None, "p2", None])], ["user_id", "pid"], 3)
    assert merged.to_pylist() == [
        [("A", "a"), ("user_id", "x")],  # the row's own user_id wins
        [("user_id", "y"), ("pid", "p2")],
        [("A", "c"), ("user_id", "u3")],  # no user_id of its own: the alias is added
    ]


def test_sysmon_events_carry_the_add_on_aliases_searches_use(tmp_path: Path) -> None:
    data = {"ProcessGuid": "{G}", "ProcessId": "7", "Image": "C:\\x\\tool.exe", "GrantedAccess": "0x1010"}
    log = tmp_path / "s.xml"
    log.write_text(sysmon_event(10, data, user_sid="S-1-5-18") + "\n", encoding="utf-8")
    with Store() as store:
        ingest_into(store, log)
        fields = dict(store.query("SELECT fields FROM events").column(0)[0].as_py())
    assert {k: fields[k] for k in ("user_id", "process_guid", "process_exec", "granted_access", "dvc")} == {
        "user_id": "S-1-5-18",
        "process_guid": "{G}",
        "process_exec": "tool.exe",
        "granted_access": "0x1010",
        "dvc": "host-1.example.test",
    }
    assert "src_user" not in fields and "pipe_name" not in fields  # an alias of a field the event lacks is absent
