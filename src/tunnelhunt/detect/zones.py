"""Registered zones ("eTLD+1") of DNS names, for analytics that group lookups by the zone that owns them.

Why a library: `a.b.example.co.uk` belongs to `example.co.uk`, not `co.uk`; only the Public Suffix List
knows that. `tldextract` is used with its bundled snapshot of the list and no network fetch or cache
directory, so a hunt never reaches out and never writes outside the store. Names under no public suffix
(`dc01.corp.local`, `wpad.lan`) fall back to their last two labels; single labels and IP addresses have no
zone. Each distinct name is classified once in Python, and the analytics join the result in SQL.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from tunnelhunt.cim import DNS
from tunnelhunt.detect.dns_state import window_sql
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store

if TYPE_CHECKING:
    import tldextract

#: The Arrow table of `zone_table`: one row per distinct query with a zone.
ZONE_SCHEMA = pa.schema([("query", pa.string()), ("zone", pa.string()), ("subdomain", pa.string())])


@cache
def _extractor() -> tldextract.TLDExtract:
    """The bundled Public Suffix List snapshot (ICANN section), no fetch and no cache directory."""
    import tldextract  # imports `requests`: only once a DNS name is split

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def split_zone(name: str | None) -> tuple[str, str] | None:
    """(registered zone, the labels left of it) of a DNS name, lower case, or None when it has no zone."""
    if not name:
        return None
    clean = name.strip().rstrip(".").lower()
    if not clean or _is_address(clean):
        return None
    zone = _extractor()(clean).top_domain_under_public_suffix
    if not zone:
        labels = [label for label in clean.split(".") if label]
        if len(labels) < 2:
            return None
        zone = ".".join(labels[-2:])
    subdomain = clean[: -len(zone)].rstrip(".") if clean.endswith(zone) else ""
    return zone, subdomain


def zone_table(con: duckdb.DuckDBPyConnection, where: str) -> pa.Table:
    """Every distinct query of the DNS table matching `where` (our own SQL, no values) with its zone."""
    queries = con.sql(f"SELECT DISTINCT query FROM {DNS.table} WHERE query IS NOT NULL AND {where}")
    rows = {"query": [], "zone": [], "subdomain": []}  # type: dict[str, list[str]]
    for (query,) in queries.fetchall():
        split = split_zone(query)
        if split is not None:
            rows["query"].append(query)
            rows["zone"].append(split[0])
            rows["subdomain"].append(split[1])
    return pa.table(rows, schema=ZONE_SCHEMA)


def query_with_zones(
    store: Store, window: TimeWindow | None, sql: Callable[[str, str], str], params: dict[str, Any]
) -> pa.Table:
    """Run `sql(zones table, window predicate)` with the window's queries and zones registered as a table
    and `params` bound (values from the logs or the content never enter the SQL text)."""
    where = window_sql(window)
    con, name = store.con, "_query_zones"
    con.register(name, zone_table(con, where))
    try:
        return con.sql(sql(name, where), params=params).to_arrow_table()
    finally:
        con.unregister(name)
