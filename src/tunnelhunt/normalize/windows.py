"""Windows events (Sysmon and Security channels) → CIM, as Splunk's Sysmon and Windows add-ons map them.

The node mappings read the flattened event: System fields (`EventID`, `Computer`, `Channel`,
`Provider`, `TimeCreated`, `UserID`) and EventData fields by their `Name`. Every transport that
yields that shape shares them: event XML, Sysmon for Linux syslog, EVTX (JSON rendered by the
`evtx` parser), flattened JSON exports (Security-Datasets, NXLog-style) and CSV exports. Only
where each raw column comes from differs (`sources`).
"""

from __future__ import annotations

from tunnelhunt.cim import ALL_TRAFFIC, DNS, FILESYSTEM, PROCESSES
from tunnelhunt.normalize.mapping import NodeMapping, SourceMapping, basename, event_time

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"
_IS_SYSMON = (
    f"(Channel IN ('{SYSMON_CHANNEL}', '{LINUX_SYSMON_CHANNEL}')"
    " OR Provider IN ('Microsoft-Windows-Sysmon', 'Linux-Sysmon'))"
)
_IS_SECURITY = "(Channel = 'Security' OR Provider = 'Microsoft-Windows-Security-Auditing')"
_TIME = event_time("TimeCreated")
_SYSMON_VENDOR = (
    f"CASE WHEN Provider = 'Linux-Sysmon' OR Channel = '{LINUX_SYSMON_CHANNEL}'"
    " THEN 'Sysmon for Linux' ELSE 'Microsoft Sysmon' END"
)


def _present(column: str) -> str:
    """The value unless it is empty or Sysmon's `-` placeholder."""
    return f"nullif(nullif({column}, '-'), '')"


SYSMON_PROCESS_CREATE = NodeMapping(
    node=PROCESSES,
    where=f"{_IS_SYSMON} AND EventID = '1'",
    time=_TIME,
    fields={
        "action": "'allowed'",
        "dest": "Computer",
        "original_file_name": "OriginalFileName",
        "parent_process": "ParentCommandLine",
        "parent_process_exec": basename("ParentImage"),
        "parent_process_guid": "ParentProcessGuid",
        "parent_process_id": "ParentProcessId",
        "parent_process_name": basename("ParentImage"),
        "parent_process_path": "ParentImage",
        "process": "CommandLine",
        "process_current_directory": "CurrentDirectory",
        "process_exec": basename("Image"),
        "process_guid": "ProcessGuid",
        "process_hash": "Hashes",
        "process_id": "ProcessId",
        "process_integrity_level": "lower(IntegrityLevel)",
        "process_name": basename("Image"),
        "process_path": "Image",
        "user": '"User"',
        "user_id": "UserID",
        "vendor_product": _SYSMON_VENDOR,
    },
)

SYSMON_NETWORK_CONNECT = NodeMapping(
    node=ALL_TRAFFIC,
    where=f"{_IS_SYSMON} AND EventID = '3'",
    time=_TIME,
    fields={
        "action": "'allowed'",
        "app": basename("Image"),
        "dest": f"coalesce({_present('DestinationHostname')}, DestinationIp)",
        "dest_ip": "DestinationIp",
        "dest_port": "DestinationPort",
        "direction": "CASE lower(Initiated) WHEN 'true' THEN 'outbound' WHEN 'false' THEN 'inbound' END",
        "dvc": "Computer",
        "process_exec": basename("Image"),
        "process_guid": "ProcessGuid",
        "process_id": "ProcessId",
        "process_name": basename("Image"),
        "process_path": "Image",
        "protocol": "'ip'",
        "protocol_version": "CASE lower(DestinationIsIpv6) WHEN 'true' THEN 'ipv6' WHEN 'false' THEN 'ipv4' END",
        "src": f"coalesce({_present('SourceHostname')}, SourceIp)",
        "src_ip": "SourceIp",
        "src_port": "SourcePort",
        "transport": "lower(Protocol)",
        "user": '"User"',
        "user_id": "UserID",
        "vendor_product": _SYSMON_VENDOR,
    },
)

SYSMON_FILE_CREATE = NodeMapping(
    node=FILESYSTEM,
    where=f"{_IS_SYSMON} AND EventID = '11'",
    time=_TIME,
    fields={
        "action": "'created'",
        "dest": "Computer",
        "file_create_time": "CreationUtcTime",
        "file_name": basename("TargetFilename"),
        "file_path": "TargetFilename",
        "process_exec": basename("Image"),
        "process_guid": "ProcessGuid",
        "process_id": "ProcessId",
        "process_name": basename("Image"),
        "process_path": "Image",
        "user": '"User"',
        "user_id": "UserID",
        "vendor_product": _SYSMON_VENDOR,
    },
)

#: QueryResults holds `type:  5 cname;` entries and `::ffff:a.b.c.d;` addresses; each becomes one answer.
_ANSWERS = (
    r"list_filter(list_transform(string_split(coalesce(QueryResults, ''), ';'),"
    r" LAMBDA a : trim(regexp_replace(a, '^\s*type:\s*\d+\s+', ''))),"
    r" LAMBDA a : a <> '' AND a <> '-')"
)

SYSMON_DNS_QUERY = NodeMapping(
    node=DNS,
    where=f"{_IS_SYSMON} AND EventID = '22'",
    time=_TIME,
    fields={
        "answer": _ANSWERS,
        "answer_count": "CAST(len(" + _ANSWERS + ") AS VARCHAR)",
        "message_type": "'Query'",
        "query": "QueryName",
        "reply_code_id": "QueryStatus",
        "src": "Computer",
        "vendor_product": _SYSMON_VENDOR,
    },
)


def _hex_to_decimal(column: str) -> str:
    """`0x1d18` → `7448`, as the Windows add-on converts process ids of Security events."""
    return f"CAST(TRY_CAST({column} AS BIGINT) AS VARCHAR)"


_SECURITY_USER = (
    "CASE WHEN nullif(nullif(TargetUserName, '-'), '') IS NOT NULL"
    " THEN concat_ws('\\', nullif(nullif(TargetDomainName, '-'), ''), TargetUserName)"
    " ELSE concat_ws('\\', nullif(nullif(SubjectDomainName, '-'), ''), nullif(SubjectUserName, '')) END"
)
_INTEGRITY = (
    "CASE upper(MandatoryLabel) WHEN 'S-1-16-0' THEN 'untrusted' WHEN 'S-1-16-4096' THEN 'low'"
    " WHEN 'S-1-16-8192' THEN 'medium' WHEN 'S-1-16-8448' THEN 'medium'"
    " WHEN 'S-1-16-12288' THEN 'high' WHEN 'S-1-16-16384' THEN 'system' END"
)

SECURITY_PROCESS_CREATE = NodeMapping(
    node=PROCESSES,
    where=f"{_IS_SECURITY} AND EventID = '4688'",
    time=_TIME,
    fields={
        "action": "'allowed'",
        "dest": "Computer",
        "parent_process_exec": basename("ParentProcessName"),
        "parent_process_id": _hex_to_decimal("ProcessId"),
        "parent_process_name": basename("ParentProcessName"),
        "parent_process_path": "ParentProcessName",
        "process": "CommandLine",
        "process_exec": basename("NewProcessName"),
        "process_id": _hex_to_decimal("NewProcessId"),
        "process_integrity_level": _INTEGRITY,
        "process_name": basename("NewProcessName"),
        "process_path": "NewProcessName",
        "user": _SECURITY_USER,
        "user_id": "coalesce(nullif(TargetUserSid, 'S-1-0-0'), SubjectUserSid)",
        "vendor_product": "'Microsoft Windows'",
    },
)

NODES = (SYSMON_PROCESS_CREATE, SYSMON_NETWORK_CONNECT, SYSMON_FILE_CREATE, SYSMON_DNS_QUERY, SECURITY_PROCESS_CREATE)

SYSTEM_COLUMNS = ("EventID", "Channel", "Provider", "Computer", "TimeCreated", "UserID")
EVENT_DATA_COLUMNS = (
    "User",
    "Image",
    "CommandLine",
    "CurrentDirectory",
    "OriginalFileName",
    "ParentImage",
    "ParentCommandLine",
    "ParentProcessGuid",
    "ParentProcessId",
    "ProcessGuid",
    "ProcessId",
    "Hashes",
    "IntegrityLevel",
    "QueryName",
    "QueryStatus",
    "QueryResults",
    "TargetFilename",
    "CreationUtcTime",
    "Protocol",
    "Initiated",
    "SourceIp",
    "SourceHostname",
    "SourcePort",
    "DestinationIp",
    "DestinationHostname",
    "DestinationPort",
    "DestinationIsIpv6",
    "NewProcessId",
    "NewProcessName",
    "ParentProcessName",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "TargetUserSid",
    "TargetUserName",
    "TargetDomainName",
    "MandatoryLabel",
)
RAW_COLUMNS = SYSTEM_COLUMNS + EVENT_DATA_COLUMNS

#: Event XML and Sysmon for Linux: the reader already flattens to these column names.
WINDOWS_EVENT = SourceMapping(sourcetype="XmlWinEventLog", raw_columns=RAW_COLUMNS, nodes=NODES)
SYSMON_LINUX = SourceMapping(sourcetype="sysmon:linux", raw_columns=RAW_COLUMNS, nodes=NODES)

#: EVTX records as the `evtx` parser renders them: {"Event": {"System": {...}, "EventData": {...}}}.
_EVTX_SYSTEM = {
    "EventID": ('$.Event.System.EventID."#text"', "$.Event.System.EventID"),
    "Channel": ("$.Event.System.Channel",),
    "Provider": ('$.Event.System.Provider."#attributes".Name',),
    "Computer": ("$.Event.System.Computer",),
    "TimeCreated": ('$.Event.System.TimeCreated."#attributes".SystemTime',),
    "UserID": ('$.Event.System.Security."#attributes".UserID',),
}
WINDOWS_EVTX = SourceMapping(
    sourcetype="WinEventLog:evtx",
    raw_columns=RAW_COLUMNS,
    nodes=NODES,
    sources={**_EVTX_SYSTEM, **{name: (f'$.Event.EventData."{name}"',) for name in EVENT_DATA_COLUMNS}},
)

#: Flattened exports (Security-Datasets, NXLog): one object per event, EventData names at top level.
_FLAT_ALTERNATIVES = {
    "Computer": ("Computer", "Hostname", "host"),
    "Provider": ("Provider", "SourceName", "ProviderName"),
    "TimeCreated": ("TimeCreated", "SystemTime", "@timestamp", "EventTime", "TimeGenerated"),
    "UserID": ("UserID", "UserId", "SecurityID"),
}
WINDOWS_JSON = SourceMapping(
    sourcetype="WinEventLog:json",
    raw_columns=RAW_COLUMNS,
    nodes=NODES,
    sources={name: tuple(f'$."{c}"' for c in choices) for name, choices in _FLAT_ALTERNATIVES.items()},
)
WINDOWS_CSV = SourceMapping(
    sourcetype="WinEventLog:csv", raw_columns=RAW_COLUMNS, nodes=NODES, sources=_FLAT_ALTERNATIVES
)

MAPPINGS = (WINDOWS_EVENT, SYSMON_LINUX, WINDOWS_EVTX, WINDOWS_JSON, WINDOWS_CSV)
