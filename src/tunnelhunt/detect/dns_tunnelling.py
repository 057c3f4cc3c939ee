"""DNS tunnelling by traffic: many long, high-entropy names under one zone from one host (iodine, dnscat2).

Why by traffic: the tools are renamed and recompiled, but they must encode data into the labels of names
under a zone their server is authoritative for, so the labels are long, random-looking and all different.
Per (src, registered zone) the window's lookups give: the number of queries, of distinct subdomains (the
labels left of the zone), the mean length of each subdomain's longest label, the mean Shannon entropy (bits per
character, case folded, dots left out) of the subdomains, and the share of TXT/NULL/CNAME record types
among the lookups whose type is known (Zeek and Suricata log it, Sysmon does not). A zone is reported
when all four thresholds are met and it is not in the allow-list (antivirus and reputation lookups that
put hashes in names). Entropy is computed in DuckDB over the distinct subdomains (one row per character,
counted), so each name is measured once however often it is looked up.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from tunnelhunt.cim import DNS
from tunnelhunt.detect.zones import query_with_zones
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store

DEFAULTS: dict[str, Any] = {
    "min_queries": 50,
    "min_subdomains": 30,
    "min_label_length": 20.0,
    "min_entropy": 3.5,
    "allow_zones": [],
}
#: Record types that carry a tunnel's downstream data (iodine prefers NULL, dnscat2 TXT/CNAME/MX).
TUNNEL_RECORD_TYPES = ("TXT", "NULL", "CNAME")


def tunnelling_sql(zones: str, where: str) -> str:
    """Per (src, zone) statistics of the window's lookups, filtered by the bound thresholds."""
    dotless = "replace(subdomain, '.', '')"
    longest = "list_max(list_transform(string_split(subdomain, '.'), LAMBDA x : length(x)))"
    types = ", ".join(f"'{name}'" for name in TUNNEL_RECORD_TYPES)
    return f"""
WITH subdomains AS (SELECT DISTINCT subdomain FROM {zones} WHERE subdomain <> ''),
characters AS (
    SELECT subdomain, unnest(string_split({dotless}, '')) AS c FROM subdomains
),
frequencies AS (
    SELECT subdomain, count(*) AS n, sum(count(*)) OVER (PARTITION BY subdomain) AS total
    FROM characters GROUP BY subdomain, c
),
shapes AS (
    SELECT subdomain, -sum(n / total * log2(n / total)) AS entropy FROM frequencies GROUP BY subdomain
),
lookups AS (
    SELECT lower(d.src) AS src, z.zone, z.subdomain, d.query, d._time,
        list_transform(d.record_type, LAMBDA r : upper(r)) AS types,
        {longest} AS label_length
    FROM {DNS.table} AS d JOIN {zones} AS z ON d.query = z.query
    WHERE d.src IS NOT NULL AND z.subdomain <> '' AND {where}
)
SELECT l.src, l.zone AS dest, count(*) AS count, count(DISTINCT l.subdomain) AS subdomains,
    round(avg(l.label_length), 1) AS mean_longest_label, round(avg(s.entropy), 2) AS mean_entropy,
    round(count(*) FILTER (WHERE list_has_any(l.types, [{types}]))
          / nullif(count(*) FILTER (WHERE len(l.types) > 0), 0), 2) AS tunnel_record_share,
    arg_max(l.query, length(l.query)) AS query, min(l._time) AS firstTime, max(l._time) AS lastTime
FROM lookups AS l JOIN shapes AS s USING (subdomain)
WHERE NOT list_contains(CAST($allow_zones AS VARCHAR[]), l.zone)
GROUP BY l.src, l.zone
HAVING count(*) >= $min_queries AND count(DISTINCT l.subdomain) >= $min_subdomains
    AND avg(l.label_length) >= $min_label_length AND avg(s.entropy) >= $min_entropy
ORDER BY count DESC, l.src, dest
"""


def tunnelling_zones(store: Store, parameters: dict[str, Any], window: TimeWindow | None) -> pa.Table:
    """(src, zone) pairs whose lookups in the window look like data encoded into names."""
    values = {**DEFAULTS, **{k: v for k, v in parameters.items() if k in DEFAULTS}}
    bound = {
        "min_queries": int(values["min_queries"]),
        "min_subdomains": int(values["min_subdomains"]),
        "min_label_length": float(values["min_label_length"]),
        "min_entropy": float(values["min_entropy"]),
        "allow_zones": [str(zone).strip().rstrip(".").lower() for zone in values["allow_zones"] or []],
    }
    return query_with_zones(store, window, tunnelling_sql, bound)
