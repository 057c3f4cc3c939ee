"""Registered zones ("eTLD+1") of DNS names, for analytics that group lookups by the zone that owns them.

Why a library: `a.b.example.co.uk` belongs to `example.co.uk`, not `co.uk`; only the Public Suffix List
knows that. The list is the snapshot `tldextract` bundles (ICANN section), with no network fetch or cache
directory, so a hunt never reaches out and never writes outside the store. Names under no public suffix
(`dc01.corp.local`, `wpad.lan`) fall back to their last two labels; single labels and IP addresses have no
zone. Each distinct name is classified once in Python, and the analytics join the result in SQL.

Plain names (lower-case letters, digits, `-`, `_`, no punycode label) are matched here, on the same
snapshot with tldextract's own rule walk (`_public_suffix_start`), because importing tldextract imports
`requests` (a tenth of a second of every hunt's start, issue 20); every other name (punycode, other
scripts, anything URL-like) goes to tldextract itself. tests/unit/test_zones.py holds both to the same
answers on every rule of the list.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
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
#: A name the local walk answers exactly as tldextract would: labels of ASCII letters, digits, `-` and `_`
#: (lower case: `split_zone` lowers first), none empty and none punycode (tldextract decodes those).
_PLAIN = re.compile(r"(?!xn--)[a-z0-9_-]+(?:\.(?!xn--)[a-z0-9_-]+)*")
#: tldextract's bundled snapshot of the list, its rule pattern and where the private section starts
#: (`tldextract.suffix_list`): the same text parsed the same way.
SNAPSHOT = ".tld_set_snapshot"
_RULE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)
_PRIVATE_SECTION = "// ===BEGIN PRIVATE DOMAINS==="


@cache
def _extractor() -> tldextract.TLDExtract:
    """The bundled Public Suffix List snapshot (ICANN section), no fetch and no cache directory."""
    import tldextract  # imports `requests`: only for a name the local walk does not answer

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


#: A trie of the list's rules by reversed labels (`*` a wildcard, `!label` an exception): label → node, and
#: the key `_END` (never a label: labels hold no dot) in a node where a rule ends. Plain dicts: the
#: ~7,000 rules load in a few milliseconds.
_Node = dict[str, Any]
_END = "."


def snapshot_path() -> Path | None:
    """tldextract's bundled list, found without importing tldextract (None if it is not there)."""
    spec = importlib.util.find_spec("tldextract")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / SNAPSHOT).is_file():
            return Path(folder) / SNAPSHOT
    return None


@cache
def _icann_rules() -> _Node | None:
    """The ICANN rules of the snapshot as a trie (None: no snapshot found, every name goes to tldextract)."""
    path = snapshot_path()
    if path is None:
        return None
    root: _Node = {}
    icann = path.read_text(encoding="utf-8").partition(_PRIVATE_SECTION)[0]
    for rule in _RULE.finditer(icann):
        node = root
        for label in reversed(rule.group("suffix").split(".")):
            node = node.setdefault(label, {})
        node[_END] = True
    return root


def _public_suffix_start(labels: list[str], root: _Node) -> int | None:
    """Index of the first label of the public suffix, or None when no rule matches: tldextract's
    `suffix_index` without the private section (the longest rule wins, a wildcard takes one more label
    unless an exception names it)."""
    node, start, index = root, len(labels), len(labels)
    for label in reversed(labels):
        child = node.get(label)
        if child is not None:
            index -= 1
            node = child
            if _END in node:
                start = index
            continue
        if "*" in node:
            return index if "!" + label in node else index - 1
        break
    return None if start == len(labels) else start


def registered_zone(clean: str) -> str:
    """The name's label left of its public suffix joined to the suffix, or "" (no suffix, or nothing left
    of it): tldextract's `top_domain_under_public_suffix`, for a name without a trailing dot."""
    root = _icann_rules()
    if root is None or not _PLAIN.fullmatch(clean):
        return _extractor()(clean).top_domain_under_public_suffix
    labels = clean.split(".")
    start = _public_suffix_start(labels, root)
    return "" if start is None or start == 0 else ".".join(labels[start - 1 :])


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
    zone = registered_zone(clean)
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
