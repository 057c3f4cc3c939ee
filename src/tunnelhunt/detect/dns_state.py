"""Seen-state of tunnel-service domains: which host (and which fleet) has looked up which zone, since when.

Why: "the first time this host resolves an ngrok endpoint" needs memory across runs, which no SPL
search over a time window has. The state lives in two tables of the store's DuckDB, so with
`--db FILE` it survives from one run to the next; it is separate from the node tables and from any
other state. Updates are idempotent: running over the same lookups twice reports them once.

A zone (`ngrok-free.app`, `trycloudflare.com`, see `content/intel/tunnel_services.yml`) is what is
counted, so a new random tunnel URL under a zone the host already used is not news again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from tunnelhunt.cim import DNS
from tunnelhunt.content.services import ServiceCatalogue
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store

HOST_TABLE = "state_tunnel_dns_host"
FLEET_TABLE = "state_tunnel_dns_fleet"

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {HOST_TABLE} (host VARCHAR NOT NULL, service VARCHAR NOT NULL, zone VARCHAR NOT NULL,"
    " first_seen TIMESTAMP NOT NULL, first_query VARCHAR, last_seen TIMESTAMP NOT NULL,"
    " PRIMARY KEY (host, service, zone))",
    f"CREATE TABLE IF NOT EXISTS {FLEET_TABLE} (service VARCHAR NOT NULL, zone VARCHAR NOT NULL,"
    " first_seen TIMESTAMP NOT NULL, first_host VARCHAR, first_query VARCHAR, last_seen TIMESTAMP NOT NULL,"
    " PRIMARY KEY (service, zone))",
)


#: On conflict: keep the earliest first sighting and the latest last one (so re-reading changes nothing).
_MERGE_TIMES = (
    "first_seen = least(first_seen, excluded.first_seen), last_seen = greatest(last_seen, excluded.last_seen)"
)


def _earlier(column: str) -> str:
    """On conflict, take the incoming value of `column` only when it comes with an earlier first sighting."""
    return f"{column} = CASE WHEN excluded.first_seen < first_seen THEN excluded.{column} ELSE {column} END"


@dataclass(frozen=True)
class SeenUpdate:
    """What one update learned: the (host, zone) and (zone) pairs never seen before, with their first lookup."""

    new_on_host: pa.Table  # host, service, zone, role, first_query, first_seen
    new_in_fleet: pa.Table  # service, zone, role, first_host, first_query, first_seen


def window_sql(window: TimeWindow | None) -> str:
    """A `_time` predicate for a window, TRUE when unbounded (shared with the agent-hash state)."""
    conditions = []
    if window is not None and window.earliest is not None:
        conditions.append(f"_time >= TIMESTAMP '{window.earliest.replace(tzinfo=None).isoformat(sep=' ')}'")
    if window is not None and window.latest is not None:
        conditions.append(f"_time < TIMESTAMP '{window.latest.replace(tzinfo=None).isoformat(sep=' ')}'")
    return " AND ".join(conditions) or "TRUE"


_LOOKUPS_TABLE = "_tunnel_lookups"


class DnsSeenState:
    """Reads tunnel-service lookups from the store's DNS table and keeps first/last seen per host and fleet."""

    def __init__(self, store: Store, catalogue: ServiceCatalogue) -> None:
        self.store = store
        self.catalogue = catalogue
        for statement in _CREATE:
            store.con.execute(statement)
        groups = catalogue.groups
        self._groups = pa.table(
            {
                "g": [g.index for g in groups],
                "service": [g.service for g in groups],
                "zone": [g.zone for g in groups],
                "role": [g.role for g in groups],
            }
        )
        #: The window whose lookups sit in `_LOOKUPS_TABLE` (see `lookups_read_once`), if any.
        self._materialised: tuple[TimeWindow | None] | None = None

    @contextmanager
    def lookups_read_once(self, window: TimeWindow | None = None) -> Iterator[None]:
        """Within this block, the window's lookups are read from the DNS table once, into a temporary
        table that every `lookups_sql(window)` reads: each analytic used to scan the DNS table again."""
        self.query(f"CREATE OR REPLACE TEMP TABLE {_LOOKUPS_TABLE} AS {self.lookups_sql(window)}")
        self._materialised = (window,)
        try:
            yield
        finally:
            self._materialised = None
            with suppress(duckdb.Error):  # an aborted transaction drops it anyway; keep the first error
                self.store.con.execute(f"DROP TABLE IF EXISTS {_LOOKUPS_TABLE}")

    def lookups_sql(self, window: TimeWindow | None = None) -> str:
        """Every lookup of a tunnel-service name in the window: host (lower case), query, _time, service, zone, role.

        A lookup belongs to the group of its query, or else to that of an answer (a CNAME such as
        `x.ngrok-cname.com` behind an innocent-looking name).

        Needs the catalogue's groups registered as `_tunnel_groups` (see `_registered`).
        """
        if self._materialised is not None and self._materialised[0] == window:
            return f"SELECT host, query, _time, service, zone, role FROM {_LOOKUPS_TABLE}"
        return (
            f"SELECT lower(d.src) AS host, d.query, d._time, g.service, g.zone, g.role "
            f"FROM (SELECT src, query, _time, coalesce({self.catalogue.sql_group('query')}, "
            f"list_min(list_transform(answer, LAMBDA a : {self.catalogue.sql_group('a')}))) AS g FROM {DNS.table} "
            f"WHERE src IS NOT NULL AND query IS NOT NULL AND {window_sql(window)}) AS d "
            "JOIN _tunnel_groups AS g ON d.g = g.g"
        )

    def query(self, sql: str) -> pa.Table:
        """Run SQL that may read `_tunnel_groups` (the catalogue as a table)."""
        con = self.store.con
        con.register("_tunnel_groups", self._groups)
        try:
            return con.sql(sql).to_arrow_table()
        finally:
            con.unregister("_tunnel_groups")

    def update(self, window: TimeWindow | None = None) -> SeenUpdate:
        """Merge the window's lookups into the state; return the pairs that were new before this update."""
        firsts = (
            f"WITH l AS ({self.lookups_sql(window)}) "
            "SELECT host, service, zone, arg_min(role, _time) AS role, arg_min(query, _time) AS first_query, "
            "min(_time) AS first_seen, max(_time) AS last_seen FROM l GROUP BY host, service, zone"
        )
        seen = self.query(firsts)
        con = self.store.con
        con.register("_seen", seen)
        try:
            new_on_host = con.sql(
                f"SELECT s.host, s.service, s.zone, s.role, s.first_query, s.first_seen FROM _seen s "
                f"ANTI JOIN {HOST_TABLE} h USING (host, service, zone) ORDER BY s.first_seen, s.host, s.zone"
            ).to_arrow_table()
            zones = (
                "SELECT service, zone, arg_min(role, first_seen) AS role, arg_min(host, first_seen) AS first_host, "
                "arg_min(first_query, first_seen) AS first_query, min(first_seen) AS first_seen, "
                "max(last_seen) AS last_seen FROM _seen GROUP BY service, zone"
            )
            new_in_fleet = con.sql(
                f"SELECT z.service, z.zone, z.role, z.first_host, z.first_query, z.first_seen FROM ({zones}) z "
                f"ANTI JOIN {FLEET_TABLE} f USING (service, zone) ORDER BY z.first_seen, z.zone"
            ).to_arrow_table()
            con.execute(
                f"INSERT INTO {HOST_TABLE} SELECT host, service, zone, first_seen, first_query, last_seen FROM _seen "
                f"ON CONFLICT (host, service, zone) DO UPDATE SET {_earlier('first_query')}, {_MERGE_TIMES}"
            )
            con.execute(
                f"INSERT INTO {FLEET_TABLE} SELECT service, zone, first_seen, first_host, first_query, last_seen "
                f"FROM ({zones}) ON CONFLICT (service, zone) DO UPDATE SET "
                f"{_earlier('first_host')}, {_earlier('first_query')}, {_MERGE_TIMES}"
            )
        finally:
            con.unregister("_seen")
        return SeenUpdate(new_on_host, new_in_fleet)

    def host_counts(self, window: TimeWindow | None = None) -> pa.Table:
        """Per service and zone: hosts and lookups in the window, and hosts that ever looked it up (state)."""
        sql = (
            f"WITH l AS ({self.lookups_sql(window)}), w AS (SELECT service, zone, count(DISTINCT host) AS hosts, "
            "count(*) AS lookups, list_sort(list_distinct(list(host))) AS host_list, "
            "list_sort(list_distinct(list(lower(query)))) AS queries, min(_time) AS first_seen, "
            "max(_time) AS last_seen FROM l GROUP BY service, zone) "
            "SELECT w.service, w.zone, w.hosts, coalesce(e.hosts_ever, w.hosts) AS hosts_ever, w.lookups, "
            "w.host_list, w.queries, w.first_seen, w.last_seen FROM w "
            f"LEFT JOIN (SELECT service, zone, count(*) AS hosts_ever FROM {HOST_TABLE} GROUP BY service, zone) e "
            "USING (service, zone) ORDER BY w.hosts DESC, w.service, w.zone"
        )
        return self.query(sql)
