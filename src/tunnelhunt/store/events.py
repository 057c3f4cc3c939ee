"""The raw-event table: every record read, with Splunk's default fields, hot fields and a map of the rest.

Layout (see /work/briefs/raw-events.md, the contract the SPL and Sigma compilers use):
- Splunk's default fields as columns: `_time`, `host`, `source`, `sourcetype`, `index`, `_raw`, plus
  provenance (`_source`, `_offset`) and the Windows hot columns `EventCode`, `Channel`;
- the fields searches use most (Windows System and EventData names, the add-on aliases ESCU searches
  use) as their own VARCHAR columns (`HOT_FIELDS`): inserting a mostly-NULL column costs far less than a
  map entry, and a search reads a column without scanning a map;
- every other extracted field in `fields MAP(VARCHAR, VARCHAR)`, by its exact (case-kept) name.
A field is in exactly one place. `field_sql(name)` says where: the column when `name` is one of
`EVENT_COLUMNS` (compared case-sensitively, as Splunk compares field names), else `fields['name']`,
which is NULL when the event lacks it (DuckDB and Spark alike), so a comparison on it is false.

Column names are unique case-insensitively (DuckDB and Spark resolve columns without case), which is
why Sysmon's `User` lives in the map while the add-on alias `user` is a column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from tunnelhunt.cim import sql_type

if TYPE_CHECKING:
    from sqlglot import exp

EVENTS_TABLE = "events"
FIELDS_COLUMN = "fields"

#: Splunk's default fields and provenance, with their Arrow types.
DEFAULT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("_time", pa.timestamp("us")),
    ("host", pa.string()),
    ("source", pa.string()),
    ("sourcetype", pa.string()),
    ("index", pa.string()),
    ("_raw", pa.string()),
    ("_source", pa.string()),
    ("_offset", pa.int64()),
    ("EventCode", pa.string()),
    ("Channel", pa.string()),
)

#: Windows fields kept as columns (System, Sysmon, Security, PowerShell): the names ESCU raw searches
#: and Sigma rules filter on most, and those nearly every Sysmon event carries (a mostly-NULL column costs
#: about a tenth of a map entry to store, measured on 30 k Sysmon events). Any other field goes to the map.
HOT_EXTRACTED = (
    "Computer",
    "EventID",
    "EventRecordID",
    "Provider_Name",
    "UserID",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "SystemTime",
    "ThreadID",
    "Guid",
    "RuleName",
    "UtcTime",
    "Description",
    "Product",
    "Company",
    "FileVersion",
    "LogonGuid",
    "LogonId",
    "TerminalSessionId",
    "ParentUser",
    "Protocol",
    "Initiated",
    "SourceIsIpv6",
    "SourceHostname",
    "SourcePortName",
    "DestinationIsIpv6",
    "DestinationPortName",
    "CreationUtcTime",
    "Signature",
    "SignatureStatus",
    "QueryStatus",
    "Image",
    "CommandLine",
    "ParentImage",
    "ParentCommandLine",
    "ProcessId",
    "ProcessGuid",
    "ParentProcessId",
    "ParentProcessGuid",
    "CurrentDirectory",
    "IntegrityLevel",
    "Hashes",
    "OriginalFileName",
    "TargetImage",
    "SourceImage",
    "GrantedAccess",
    "CallTrace",
    "TargetFilename",
    "TargetObject",
    "Details",
    "EventType",
    "ImageLoaded",
    "Signed",
    "QueryName",
    "QueryResults",
    "DestinationIp",
    "DestinationPort",
    "DestinationHostname",
    "SourceIp",
    "SourcePort",
    "PipeName",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectUserSid",
    "TargetUserName",
    "TargetDomainName",
    "TargetUserSid",
    "LogonType",
    "IpAddress",
    "ProcessName",
    "NewProcessName",
    "ServiceName",
    "ImagePath",
    "ShareName",
    "ObjectName",
    "TaskName",
    "ScriptBlockText",
)

#: The Windows add-ons' aliases ESCU raw searches use, computed at ingest (see normalize/raw_profiles.py).
HOT_ALIASES = (
    "dest",
    "src",
    "src_ip",
    "dest_ip",
    "dest_port",
    "user",
    "process",
    "process_name",
    "process_path",
    "process_id",
    "parent_process",
    "parent_process_name",
    "parent_process_path",
    "signature_id",
    "query",
    "file_path",
    "file_name",
    "registry_path",
    "registry_value_data",
)

HOT_FIELDS = HOT_EXTRACTED + HOT_ALIASES

#: Every column a field name can resolve to (the map is not one of them).
#: A record's own field named like one of Splunk's default fields (Zeek http.log's `host` header, files.log's
#: `source`) is stored in the map under `extracted_<name>`: the column of that name holds the default field,
#: and the record's value must not disappear. (Splunk renames such fields of structured data alike.)
EXTRACTED_DEFAULTS: dict[str, str] = {name: f"extracted_{name}" for name in ("host", "source", "sourcetype", "index")}

EVENT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in DEFAULT_COLUMNS) + HOT_FIELDS
_COLUMN_SET = frozenset(EVENT_COLUMNS)

assert len({name.lower() for name in (*EVENT_COLUMNS, FIELDS_COLUMN)}) == len(EVENT_COLUMNS) + 1, (
    "event column names must differ case-insensitively"
)


def events_schema() -> pa.Schema:
    """The Arrow schema of the events table (DuckDB table, Parquet files and Spark views alike)."""
    fields = [pa.field(name, kind) for name, kind in DEFAULT_COLUMNS]
    fields.extend(pa.field(name, pa.string()) for name in HOT_FIELDS)
    fields.append(pa.field(FIELDS_COLUMN, pa.map_(pa.string(), pa.string())))
    return pa.schema(fields)


def is_column(name: str) -> bool:
    """Whether a field name is a column of the events table (exact, case-sensitive)."""
    return name in _COLUMN_SET


def field_sql(name: str) -> exp.Expression:
    """A field of the events table as a sqlglot expression: its column, else `fields['name']`."""
    from sqlglot import exp  # only the compilers build expressions: a hunt with compiled searches needs none

    if name in _COLUMN_SET:
        return exp.column(name, quoted=True)
    return exp.Bracket(this=exp.column(FIELDS_COLUMN, quoted=True), expressions=[exp.Literal.string(name)])


def _column_type(field: pa.Field, dialect: str) -> str:
    """An events column's type in a dialect's DDL (the same logical types as `cim.py`)."""
    if field.name == FIELDS_COLUMN:
        if dialect == "duckdb":  # written out as `cim.sql_type` writes DuckDB's types (and pinned the same way)
            return "MAP(TEXT, TEXT)"
        from sqlglot import exp

        return exp.DataType.build("MAP(VARCHAR, VARCHAR)").sql(dialect)
    if pa.types.is_timestamp(field.type):
        return sql_type("timestamp", False, dialect)
    return sql_type("int" if pa.types.is_integer(field.type) else "string", False, dialect)


def create_events_sql() -> str:
    """DuckDB DDL: `_raw` compressed with zstd (10× smaller than DuckDB's default for event text)."""
    columns = []
    for field in events_schema():
        compression = " USING COMPRESSION zstd" if field.name == "_raw" else ""
        columns.append(f'"{field.name}" {_column_type(field, "duckdb")}{compression}')
    return f"CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} ({', '.join(columns)})"


def spark_ddl() -> str:
    """The events table as a Spark schema string."""
    return ", ".join(f"`{field.name}` {_column_type(field, 'spark')}" for field in events_schema())
