"""Beaconing: a host that reaches one destination at regular intervals, scored for regularity as RITA does.

Why: an implant or tunnel agent calls home on a timer; people and most software do not. The destination is
a DNS query's registered zone (Sysmon 22, Zeek and Suricata DNS) or a connection's `dest:dest_port`
(Network_Traffic: Sysmon 3, Security 5156; inbound connections are left out). Per (src, destination, via)
with at least `min_count` distinct seconds of activity in the window, the score follows RITA's beacon
analysis (activecm/rita, `beacon` package):

- time-delta skew: Bowley's quartile skewness of the inter-arrival deltas, `(Q1 + Q3 - 2·Q2) / (Q3 - Q1)`,
  taken as 0 when Q2 equals Q1 or Q3 (RITA's rule); score `1 - |skew|`;
- time-delta dispersion: the median absolute deviation about the median (MADM); RITA scores
  `1 - MADM / 30 s`. Here the larger of `MADM / jitter_seconds` and `MADM / (median / 2)` is taken, so
  that a random series is not called regular however fast it is: random arrivals have a MADM of about half
  their median interval (scored 0), a beacon with 50% jitter a quarter of it (scored 0.5);
- count against duration: RITA divides the connection count by the span it covers; here the span is the
  pair's own (`ticks / (span / median + 1)`, 1 for a series with no gap, about 0.7 for a Poisson one), so a
  beacon is not penalised for a long hunt window;
- data size, when bytes are known for `min_count` ticks (`bytes_out`, else `bytes`): skew and MADM of the
  sizes (`1 - MADM / size_jitter_bytes`, RITA's 32 bytes) and smallness `1 - mode / 65535`.

A pair whose median interval is under `min_interval_seconds` is not reported: at the logs' one-second
resolution, continuous activity (a burst of retries, a busy resolver) has deltas of exactly 1 s and looks
perfectly regular; a timer that fast is left to other analytics (a DNS tunnel's polling, for one).

Each group of three is averaged and rounded up to 3 decimals as RITA does; the score is the mean of all six
components when sizes are known, else the time score. Several events in one second count once (Sysmon 3
and WFP 5156 both log the same connection). Everything is one DuckDB query; parameters are bound.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from tunnelhunt.cim import ALL_TRAFFIC, DNS
from tunnelhunt.detect.zones import query_with_zones
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store

DEFAULTS: dict[str, Any] = {
    "min_count": 20,
    "threshold": 0.8,
    "min_interval_seconds": 10.0,
    "jitter_seconds": 30.0,
    "size_jitter_bytes": 32.0,
}


def _bowley(q1: str, q2: str, q3: str) -> str:
    """Bowley skewness of quartiles, 0 where RITA calls it unreliable (Q2 = Q1 or Q2 = Q3)."""
    return f"CASE WHEN {q2} = {q1} OR {q2} = {q3} THEN 0.0 ELSE ({q1} + {q3} - 2 * {q2}) / ({q3} - {q1}) END"


def _rounded_up(expression: str) -> str:
    return f"ceil(({expression}) * 1000) / 1000"


def beacon_sql(zones: str, where: str) -> str:
    """The beacon query over both sources; `where` is our window predicate (no values from data)."""
    dest = "CASE WHEN contains(dest, ':') THEN '[' || lower(dest) || ']' ELSE lower(dest) END"
    return f"""
WITH events AS (
    SELECT lower(d.src) AS src, z.zone AS dest, 'dns' AS via, d._time, CAST(NULL AS BIGINT) AS bytes
    FROM {DNS.table} AS d JOIN {zones} AS z ON d.query = z.query
    WHERE d.src IS NOT NULL AND {where}
    UNION ALL
    SELECT lower(src), {dest} || ':' || coalesce(dest_port, ''), 'connection', _time,
        TRY_CAST(coalesce(bytes_out, bytes) AS BIGINT)
    FROM {ALL_TRAFFIC.table}
    WHERE src IS NOT NULL AND dest IS NOT NULL AND coalesce(lower(direction), '') <> 'inbound' AND {where}
),
ticks AS (
    SELECT src, dest, via, floor(epoch(_time)) AS t, count(*) AS events, sum(bytes) AS bytes, min(_time) AS seen
    FROM events GROUP BY src, dest, via, t
),
pairs AS (SELECT src, dest, via FROM ticks GROUP BY src, dest, via HAVING count(*) >= $min_count),
deltas AS (
    SELECT k.*, k.t - lag(k.t) OVER (PARTITION BY k.src, k.dest, k.via ORDER BY k.t) AS delta
    FROM ticks AS k SEMI JOIN pairs USING (src, dest, via)
),
quartiles AS (
    SELECT src, dest, via, CAST(sum(events) AS BIGINT) AS count, count(*) AS ticks, min(t) AS first, max(t) AS last,
        min(seen) AS first_time, max(seen) AS last_time,
        quantile_cont(delta, 0.25) AS q1, median(delta) AS q2, quantile_cont(delta, 0.75) AS q3,
        count(bytes) AS sized, quantile_cont(bytes, 0.25) AS b1, median(bytes) AS b2,
        quantile_cont(bytes, 0.75) AS b3, mode(bytes) AS bmode
    FROM deltas GROUP BY src, dest, via
),
spread AS (
    SELECT d.src, d.dest, d.via, median(abs(d.delta - q.q2)) AS madm, median(abs(d.bytes - q.b2)) AS bmadm
    FROM deltas AS d JOIN quartiles AS q USING (src, dest, via) GROUP BY d.src, d.dest, d.via
),
components AS (
    SELECT q.*, s.madm,
        1 - abs({_bowley("q1", "q2", "q3")}) AS ts_skew,
        greatest(0, 1 - greatest(s.madm / $jitter_seconds, 2 * s.madm / q2)) AS ts_madm,
        least(1, ticks / ((last - first) / q2 + 1)) AS ts_count,
        CASE WHEN sized >= $min_count THEN 1 - abs({_bowley("b1", "b2", "b3")}) END AS ds_skew,
        CASE WHEN sized >= $min_count THEN greatest(0, 1 - s.bmadm / $size_jitter_bytes) END AS ds_madm,
        CASE WHEN sized >= $min_count THEN greatest(0, 1 - bmode / 65535) END AS ds_small
    FROM quartiles AS q JOIN spread AS s USING (src, dest, via)
),
scored AS (
    SELECT *, {_rounded_up("(ts_skew + ts_madm + ts_count) / 3")} AS ts_score,
        {_rounded_up("(ds_skew + ds_madm + ds_small) / 3")} AS ds_score,
        coalesce({_rounded_up("(ts_skew + ts_madm + ts_count + ds_skew + ds_madm + ds_small) / 6")},
                 {_rounded_up("(ts_skew + ts_madm + ts_count) / 3")}) AS score
    FROM components
)
SELECT src, dest, via, count, ticks, q2 AS interval_seconds, madm AS interval_madm_seconds, score, ts_score,
    ds_score, first_time AS firstTime, last_time AS lastTime
FROM scored WHERE score > $threshold AND q2 >= $min_interval_seconds
ORDER BY score DESC, src, dest, via
"""


def beacons(store: Store, parameters: dict[str, Any], window: TimeWindow | None) -> pa.Table:
    """(src, dest, via) pairs whose activity in the window is regular enough to be a beacon."""
    values = {**DEFAULTS, **{k: v for k, v in parameters.items() if k in DEFAULTS}}
    bound = {
        "min_count": max(3, int(values["min_count"])),
        "threshold": float(values["threshold"]),
        "min_interval_seconds": float(values["min_interval_seconds"]),
        "jitter_seconds": float(values["jitter_seconds"]),
        "size_jitter_bytes": float(values["size_jitter_bytes"]),
    }
    return query_with_zones(store, window, beacon_sql, bound)
