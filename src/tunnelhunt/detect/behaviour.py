"""Run the behaviour analytics (first seen, host counts, agent + lookup correlation, agent hashes, beaconing,
DNS tunnelling) after SPL.

Why here and not in SPL: first seen needs state kept across runs (`DnsSeenState`), and the correlation
joins the findings of the agent detections with raw DNS lookups in a time window. Each analytic comes
back as a `DetectionRun`, so output, risk events and exit codes treat it like any other detection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from tunnelhunt.content.behaviours import BehaviourAnalytic, load_behaviours
from tunnelhunt.content.cache import ContentCache
from tunnelhunt.content.services import ServiceCatalogue, shipped_catalogue
from tunnelhunt.detect.agent_hashes import AgentHashes
from tunnelhunt.detect.beaconing import beacons
from tunnelhunt.detect.dns_state import DnsSeenState, SeenUpdate
from tunnelhunt.detect.dns_tunnelling import tunnelling_zones
from tunnelhunt.detect.runner import DetectionRun
from tunnelhunt.spl.window import TimeWindow
from tunnelhunt.store.duckdb_store import Store

#: The time format of `security_content_ctime`, used for the analytics' time fields too.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
DEFAULT_WINDOW_MINUTES = 30


def _text_time(value: Any) -> str | None:
    return value.strftime(TIME_FORMAT) if isinstance(value, datetime) else value


def _parse_time(value: Any) -> datetime | None:
    """A finding's firstTime/lastTime: a `security_content_ctime` string, epoch seconds, or a timestamp."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.strptime(value, TIME_FORMAT)
        except ValueError:
            pass
        try:  # an unconverted min(_time)/max(_time) prints as epoch seconds, as in Splunk
            return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            return None
    return None


def _rows(table: pa.Table, columns: dict[str, str]) -> pa.Table:
    """Rename and order columns (source → output name), with timestamps as text."""
    selected = table.select(list(columns)).to_pylist()
    rows = [{out: _text_time(row[source]) for source, out in columns.items()} for row in selected]
    if not rows:
        return pa.table({out: pa.array([], pa.string()) for out in columns.values()})
    return pa.Table.from_pylist(rows)


def _as_rows(table: pa.Table) -> pa.Table:
    """Every column as it is, with timestamps as text (for analytics whose SQL names the output)."""
    return _rows(table, {name: name for name in table.column_names})


def first_seen_on_host(update: SeenUpdate) -> pa.Table:
    columns = {"host": "src", "service": "service", "zone": "zone", "role": "role", "first_query": "query",
               "first_seen": "firstTime"}  # fmt: skip
    return _rows(update.new_on_host, columns)


def first_seen_in_fleet(update: SeenUpdate) -> pa.Table:
    columns = {"first_host": "src", "service": "service", "zone": "zone", "role": "role", "first_query": "query",
               "first_seen": "firstTime"}  # fmt: skip
    return _rows(update.new_in_fleet, columns)


def host_count(state: DnsSeenState, window: TimeWindow | None) -> pa.Table:
    columns = {"service": "service", "zone": "zone", "hosts": "host_count", "hosts_ever": "host_count_ever",
               "lookups": "count", "host_list": "hosts", "queries": "queries", "first_seen": "firstTime",
               "last_seen": "lastTime"}  # fmt: skip
    return _rows(state.host_counts(window), columns)


def _agent_runs(
    runs: Iterable[DetectionRun], services_by_detection: dict[str, str], catalogue: ServiceCatalogue
) -> list[dict[str, Any]]:
    """One entry per distinct agent run found by the agent detections (several may find the same run)."""
    agents: dict[tuple[Any, ...], dict[str, Any]] = {}
    for run in runs:
        if run.detection.name not in services_by_detection:
            continue
        fixed = services_by_detection[run.detection.name] or None
        for row in run.rows:
            host, process = row.get("dest"), row.get("process")
            service = fixed or catalogue.service_of_command(process if isinstance(process, str) else None)
            start, end = _parse_time(row.get("firstTime")), _parse_time(row.get("lastTime"))
            if not host or host == "null" or service is None or start is None or end is None:
                continue
            key = (str(host).lower(), service, process, start, end)
            agent = agents.setdefault(
                key,
                {"idx": len(agents), "host": key[0], "dest": host, "user": row.get("user"), "service": service,
                 "process_name": row.get("process_name"), "process": process, "t0": start, "t1": end,
                 "detections": []},
            )  # fmt: skip
            agent["detections"].append(run.detection.name)
    return list(agents.values())


def agent_lookup_correlation(
    state: DnsSeenState, runs: list[DetectionRun], parameters: dict[str, Any], window: TimeWindow | None
) -> pa.Table:
    """Agent runs whose host looked up that service's names within `window_minutes` of the run."""
    minutes = float(parameters.get("window_minutes", DEFAULT_WINDOW_MINUTES))
    roles = [str(role) for role in parameters.get("roles", ["agent"])]
    services_by_detection = {str(k): str(v or "") for k, v in dict(parameters.get("agent_detections", {})).items()}
    agents = _agent_runs(runs, services_by_detection, state.catalogue)
    names = ["dest", "user", "service", "process_name", "process", "agent_detections", "query", "lookup_count",
             "seconds_apart", "firstTime", "lookupTime"]  # fmt: skip
    if not agents:
        return pa.table({name: pa.array([], pa.string()) for name in names})
    agent_table = pa.Table.from_pylist(
        [{k: a[k] for k in ("idx", "host", "service", "t0", "t1")} for a in agents],
        schema=pa.schema([("idx", pa.int64()), ("host", pa.string()), ("service", pa.string()),
                          ("t0", pa.timestamp("us")), ("t1", pa.timestamp("us"))]),
    )  # fmt: skip
    role_list = ", ".join("'" + role.replace("'", "''") + "'" for role in roles)
    distance = "greatest(epoch(a.t0) - epoch(l._time), epoch(l._time) - epoch(a.t1), 0)"
    sql = (
        f"WITH l AS ({state.lookups_sql(window)}) "
        f"SELECT a.idx, count(*) AS lookup_count, arg_min(l.query, {distance}) AS query, "
        f"arg_min(l._time, {distance}) AS lookup_time, min({distance}) AS seconds_apart "
        "FROM _agents a JOIN l ON l.host = a.host AND l.service = a.service "
        f"WHERE l.role IN ({role_list}) AND {distance} <= {minutes * 60} GROUP BY a.idx ORDER BY a.idx"
    )
    con = state.store.con
    con.register("_agents", agent_table)
    try:
        matched = state.query(sql).to_pylist()
    finally:
        con.unregister("_agents")
    rows = []
    for match in matched:
        agent = agents[match["idx"]]
        rows.append(
            {"dest": agent["dest"], "user": agent["user"], "service": agent["service"],
             "process_name": agent["process_name"], "process": agent["process"],
             "agent_detections": sorted(set(agent["detections"])), "query": match["query"],
             "lookup_count": match["lookup_count"], "seconds_apart": int(match["seconds_apart"]),
             "firstTime": _text_time(agent["t0"]), "lookupTime": _text_time(match["lookup_time"])}
        )  # fmt: skip
    return pa.Table.from_pylist(rows) if rows else pa.table({n: pa.array([], pa.string()) for n in names})


def agent_hash_pivot(
    store: Store, runs: list[DetectionRun], parameters: dict[str, Any], window: TimeWindow | None
) -> pa.Table:
    """Runs of files known (by SHA256) to be an agent that no agent detection found."""
    services_by_detection = {str(k): str(v or "") for k, v in dict(parameters.get("agent_detections", {})).items()}
    hashes = AgentHashes(store)
    hashes.learn(runs, services_by_detection)
    flagged = {
        (str(row.get("dest")).lower(), str(row.get("process")))
        for run in runs
        if run.detection.name in services_by_detection
        for row in run.rows
    }
    names = ("dest", "user", "process_name", "process", "process_path", "sha256", "service", "known_as")
    columns = {name: name for name in names}
    columns.update({"first_host": "known_on", "count": "count", "firstTime": "firstTime", "lastTime": "lastTime"})
    return _rows(hashes.other_runs(flagged, window), columns)


@dataclass
class AnalyticContext:
    """What every analytic may read: the seen-state (and its store), its update for the window, the
    detection runs of the same pass, and the window."""

    state: DnsSeenState
    update: SeenUpdate
    runs: list[DetectionRun]
    window: TimeWindow | None


Analytic = Callable[[AnalyticContext, BehaviourAnalytic], pa.Table]
#: Analytic kind (the YAML's `analytic:`) → the function computing it. Register with `@analytic("kind")`.
ANALYTICS: dict[str, Analytic] = {}


def analytic(kind: str) -> Callable[[Analytic], Analytic]:
    def register(function: Analytic) -> Analytic:
        ANALYTICS[kind] = function
        return function

    return register


analytic("first_seen_on_host")(lambda c, _a: first_seen_on_host(c.update))
analytic("first_seen_in_fleet")(lambda c, _a: first_seen_in_fleet(c.update))
analytic("host_count")(lambda c, _a: host_count(c.state, c.window))
analytic("agent_hash_pivot")(lambda c, a: agent_hash_pivot(c.state.store, c.runs, a.parameters, c.window))
analytic("agent_lookup_correlation")(lambda c, a: agent_lookup_correlation(c.state, c.runs, a.parameters, c.window))
analytic("beaconing")(lambda c, a: _as_rows(beacons(c.state.store, a.parameters, c.window)))
analytic("dns_tunnelling")(lambda c, a: _as_rows(tunnelling_zones(c.state.store, a.parameters, c.window)))


def run_behaviours(
    store_state: DnsSeenState,
    detection_runs: list[DetectionRun],
    analytics: list[BehaviourAnalytic] | None = None,
    window: TimeWindow | None = None,
) -> list[DetectionRun]:
    """Update the seen-state once from the window's lookups, then compute each analytic by its kind."""
    analytics = load_behaviours() if analytics is None else analytics
    with store_state.lookups_read_once(window):
        context = AnalyticContext(store_state, store_state.update(window), detection_runs, window)
        runs = []
        for behaviour in analytics:
            compute = ANALYTICS.get(behaviour.analytic)
            if compute is None:
                known = ", ".join(sorted(ANALYTICS))
                runs.append(DetectionRun(behaviour, error=f"unknown analytic {behaviour.analytic!r} (known: {known})"))
                continue
            runs.append(DetectionRun(behaviour, findings=compute(context, behaviour)))
    return runs


def hunt_behaviours(
    store: Store,
    detection_runs: list[DetectionRun],
    window: TimeWindow | None = None,
    analytics: list[BehaviourAnalytic] | None = None,
    cache: ContentCache | None = None,
) -> list[DetectionRun]:
    """The behaviour analytics (default: the shipped ones) over a store, with the shipped service catalogue;
    both validated once and kept in `cache` when given."""
    analytics = load_behaviours(cache=cache) if analytics is None else analytics
    return run_behaviours(DnsSeenState(store, shipped_catalogue(cache)), detection_runs, analytics, window)
