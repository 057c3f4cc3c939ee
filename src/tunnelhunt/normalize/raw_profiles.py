"""How each reader's records get Splunk's default fields and the add-ons' aliases in the events table.

A profile is data, like a `SourceMapping`: SQL expressions over field names (as the events table names
them) for `_time`, `host`, `source`, `sourcetype`, `EventCode`, `Channel` and the aliases, evaluated
by DuckDB over a whole batch. The field names an expression reads are its `inputs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tunnelhunt.normalize.mapping import (
    SourceMapping,
    basename,
    channel_source,
    event_time,
    quote_identifier,
    sql_string,
)

#: JSON naming: `windows` names EVTX leaves as Splunk's XmlWinEventLog does (EventData by `Name`,
#: System attributes bare); `dotted` joins keys with `.` and marks arrays `{}`, as Splunk's JSON does.
JsonNaming = str


@dataclass(frozen=True)
class RawProfile:
    """Default fields and aliases of one reader source type's records."""

    sourcetype: str
    source: str = "_source"
    host: str = "NULL"
    time: str = "NULL"
    event_code: str = "NULL"
    channel: str = "NULL"
    aliases: dict[str, str] = field(default_factory=dict)
    #: Reader column names renamed to the events table's names (XML System fields).
    renames: dict[str, str] = field(default_factory=dict)
    json_naming: JsonNaming = "dotted"

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every field name the expressions read (quoted identifiers), in first-use order."""
        text = " ".join([self.sourcetype, self.source, self.host, self.time, self.event_code, self.channel])
        text += " " + " ".join(self.aliases.values())
        names = [name.replace('""', '"') for name in re.findall(r'"((?:[^"]|"")+)"', text)]
        return tuple(dict.fromkeys(names))


def f(name: str) -> str:
    """A field reference in a profile expression."""
    return quote_identifier(name)


def _first(*names: str) -> str:
    return f"coalesce({', '.join(f(n) for n in names)})"


def _present(expression: str) -> str:
    return f"nullif(nullif({expression}, '-'), '')"


_WIN_TIME = event_time(_first("TimeCreated", "SystemTime", "@timestamp", "EventTime", "TimeGenerated"))
_WIN_HOST = _first("Computer", "Hostname", "host")
_WIN_CHANNEL = f("Channel")
_WIN_EVENT_CODE = _first("EventID", "EventCode")
_PROCESS_PATH = _first("Image", "NewProcessName")
_PARENT_PATH = _first("ParentImage", "ParentProcessName")

#: Security events whose add-on fields have no `src_user` (security_content's data_sources list the
#: fields Splunk_TA_windows extracts per event code; these lack it although they carry SubjectUserName).
_NO_SRC_USER = ", ".join(
    sql_string(code)
    for code in ("4624", "4625", "4627", "4698", "4699", "4768", "4769", "4771", "4776", "4886", "4887")
)

#: Splunk_TA_windows / Splunk_TA_microsoft_sysmon aliases the ESCU raw searches use.
WINDOWS_ALIASES = {
    "dest": _WIN_HOST,
    "src": f"coalesce({_present(f('IpAddress'))}, {_present(f('SourceIp'))}, {_present(f('WorkstationName'))})",
    "src_ip": f"coalesce({_present(f('SourceIp'))}, {_present(f('IpAddress'))})",
    "dest_ip": f("DestinationIp"),
    "dest_port": f("DestinationPort"),
    "user": (
        f"coalesce({_present(f('User'))}, {_present(f('TargetUserName'))}, {_present(f('SubjectUserName'))},"
        f" {_present(f('UserName'))})"
    ),
    "process": f("CommandLine"),
    "process_name": basename(_PROCESS_PATH),
    "process_path": _PROCESS_PATH,
    "process_id": _first("ProcessId", "NewProcessId"),
    "parent_process": f("ParentCommandLine"),
    "parent_process_name": basename(_PARENT_PATH),
    "parent_process_path": _PARENT_PATH,
    "signature_id": _WIN_EVENT_CODE,
    "query": f("QueryName"),
    "file_path": f("TargetFilename"),
    "file_name": basename(f("TargetFilename")),
    "registry_path": f("TargetObject"),
    "registry_value_data": f("Details"),
    # Not columns of the events table: these go to the field map (`store/events.py` lists the columns).
    "dvc": _WIN_HOST,
    "user_id": f("UserID"),
    "process_exec": basename(_PROCESS_PATH),
    "process_guid": f("ProcessGuid"),
    "parent_process_exec": basename(_PARENT_PATH),
    "parent_process_guid": f("ParentProcessGuid"),
    "parent_process_id": f("ParentProcessId"),
    "granted_access": f("GrantedAccess"),
    "src_port": f"coalesce({_present(f('SourcePort'))}, {_present(f('IpPort'))})",
    "pipe_name": f("PipeName"),
    "service_name": f("ServiceName"),
    # Splunk_TA_windows eventtypes.conf: wineventlog_security / _system / _application by channel
    "eventtype": (
        f"CASE lower({_WIN_CHANNEL}) WHEN 'security' THEN 'wineventlog_security' "
        f"WHEN 'system' THEN 'wineventlog_system' WHEN 'application' THEN 'wineventlog_application' END"
    ),
    "src_user": f"CASE WHEN CAST({_WIN_EVENT_CODE} AS VARCHAR) NOT IN ({_NO_SRC_USER}) THEN {f('SubjectUserName')} END",
}

#: XML System fields under Splunk's XmlWinEventLog names.
_XML_RENAMES = {"Provider": "Provider_Name", "TimeCreated": "SystemTime", "ExecutionProcessID": "ProcessID"}


def _windows(source_prefix: str, renames: dict[str, str] | None = None, naming: JsonNaming = "dotted") -> RawProfile:
    return RawProfile(
        sourcetype=sql_string("XmlWinEventLog" if source_prefix == "XmlWinEventLog:" else "sysmon:linux"),
        source=channel_source(source_prefix, _WIN_CHANNEL),
        host=_WIN_HOST,
        time=_WIN_TIME,
        event_code=f"CAST({_WIN_EVENT_CODE} AS VARCHAR)",
        channel=_WIN_CHANNEL,
        aliases=WINDOWS_ALIASES,
        renames=renames or {},
        json_naming=naming,
    )


_ZEEK_PATH = f"regexp_extract(coalesce({f('_path')}, {f('@stream')}, ''), '^[A-Za-z0-9_-]{{1,64}}$')"


def _zeek(suffix: str) -> RawProfile:
    return RawProfile(
        sourcetype=f"'zeek:' || coalesce(nullif({_ZEEK_PATH}, '') || '{suffix}', '{suffix.strip(':') or 'log'}')",
        host=_first("_system_name", "_node_name", "peer"),
        time=event_time(f("ts")),
    )


_AUDIT_EPOCH = f"regexp_extract({f('msg')}, '^audit\\((\\d+(?:\\.\\d+)?):\\d+\\)', 1)"

PROFILES: dict[str, RawProfile] = {
    "XmlWinEventLog": _windows("XmlWinEventLog:", _XML_RENAMES),
    "sysmon:linux": _windows("Syslog:", _XML_RENAMES),
    "WinEventLog:evtx": _windows("XmlWinEventLog:", naming="windows"),
    "WinEventLog:json": _windows("XmlWinEventLog:"),
    "WinEventLog:csv": _windows("XmlWinEventLog:"),
    "zeek": _zeek(""),
    "zeek:json": _zeek(":json"),
    "suricata": RawProfile(sourcetype="'suricata'", host=f("host"), time=event_time(f("timestamp"))),
    "ecs": RawProfile(sourcetype="'ecs'", host=_first("host.name", "host.hostname"), time=event_time(f("@timestamp"))),
    "ecs:csv": RawProfile(
        sourcetype="'ecs:csv'", host=_first("host.name", "host.hostname"), time=event_time(f("@timestamp"))
    ),
    "ocsf": RawProfile(sourcetype="'ocsf'", host=_first("device.hostname", "device.name"), time=event_time(f("time"))),
    "ocsf:csv": RawProfile(
        sourcetype="'ocsf:csv'", host=_first("device.hostname", "device.name"), time=event_time(f("time"))
    ),
    "linux:audit": RawProfile(
        sourcetype="'linux:audit'",
        host=f("node"),
        time=f"CASE WHEN {_AUDIT_EPOCH} <> '' THEN {event_time(_AUDIT_EPOCH)} END",
    ),
}


def profile_for(sourcetype: str, mapping: SourceMapping | None) -> RawProfile:
    """The built-in profile of a source type, or one derived from a user mapping (its node times)."""
    known = PROFILES.get(sourcetype)
    if known is not None:
        return known
    times = list(dict.fromkeys(node.time for node in mapping.nodes)) if mapping else []
    time = times[0] if len(times) == 1 else (f"coalesce({', '.join(times)})" if times else "NULL")
    return RawProfile(sourcetype=sql_string(sourcetype), time=time)
