"""Windows events (Sysmon and Security channels) → CIM, as Splunk's Sysmon and Windows add-ons map them.

The raw columns are the flattened event: System fields (`EventID`, `Computer`, `Channel`,
`TimeCreated`, `UserID`) and EventData fields by their `Name`. Every transport that yields that
shape (XML lines, EVTX, JSON exports) shares these mappings.
"""

from __future__ import annotations

from tunnelhunt.cim import DNS, PROCESSES
from tunnelhunt.normalize.mapping import NodeMapping, SourceMapping, basename, windows_system_time

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
_IS_SYSMON = f"(Channel = '{SYSMON_CHANNEL}' OR Provider = 'Microsoft-Windows-Sysmon')"
_TIME = windows_system_time("TimeCreated")

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
        "vendor_product": "'Microsoft Sysmon'",
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
        "vendor_product": "'Microsoft Sysmon'",
    },
)

WINDOWS_EVENT = SourceMapping(
    sourcetype="XmlWinEventLog",
    raw_columns=(
        "EventID",
        "Channel",
        "Provider",
        "Computer",
        "TimeCreated",
        "UserID",
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
    ),
    nodes=(SYSMON_PROCESS_CREATE, SYSMON_DNS_QUERY),
)
