"""Elastic Common Schema (Elastic Agent, Winlogbeat, Filebeat) → CIM, for JSON lines and CSV.

Raw columns are ECS field names (`process.command_line`); JSON records may nest them or use flat
dotted keys, CSV exports use them as column names. A record is a process start, a DNS event, a
file creation or a network connection by its `event.category`/`event.type` (arrays or strings),
and belongs to one node at most.
"""

from __future__ import annotations

from tunnelhunt.cim import ALL_TRAFFIC, DNS, FILESYSTEM, PROCESSES
from tunnelhunt.normalize.mapping import (
    NodeMapping,
    SourceMapping,
    as_list,
    basename,
    col,
    dotted_sources,
    event_time,
    list_has,
)

_TIME = event_time(col("@timestamp"))
_HOST = f"coalesce({col('host.name')}, {col('host.hostname')})"
_USER = (
    f"CASE WHEN {col('user.domain')} IS NOT NULL AND {col('user.name')} IS NOT NULL"
    f" THEN {col('user.domain')} || '\\' || {col('user.name')} ELSE {col('user.name')} END"
)
_VENDOR = f"'Elastic ' || coalesce({col('agent.type')}, 'Agent')"

_IS_PROCESS_START = f"({list_has('event.category', 'process')} AND {list_has('event.type', 'start')})"
_IS_DNS = f"(NOT {_IS_PROCESS_START} AND {col('dns.question.name')} IS NOT NULL)"
_IS_FILE_CREATE = (
    f"(NOT {_IS_PROCESS_START} AND NOT {_IS_DNS} AND {list_has('event.category', 'file')}"
    f" AND ({list_has('event.type', 'creation')} OR lower({col('event.action')}) IN ('creation', 'file-create')))"
)
_IS_CONNECTION = (
    f"(NOT {_IS_PROCESS_START} AND NOT {_IS_DNS} AND NOT {_IS_FILE_CREATE}"
    f" AND {list_has('event.category', 'network')} AND {col('destination.ip')} IS NOT NULL)"
)


def _process_fields(prefix: str) -> dict[str, str]:
    """CIM process fields of the acting process (`process.*`), shared by file and network nodes."""
    return {
        "process_exec": basename(col(f"{prefix}.executable")),
        "process_guid": col(f"{prefix}.entity_id"),
        "process_id": col(f"{prefix}.pid"),
        "process_name": f"coalesce({col(f'{prefix}.name')}, {basename(col(f'{prefix}.executable'))})",
        "process_path": col(f"{prefix}.executable"),
    }


ECS_PROCESS = NodeMapping(
    node=PROCESSES,
    where=_IS_PROCESS_START,
    time=_TIME,
    fields={
        **_process_fields("process"),
        "action": "'allowed'",
        "dest": _HOST,
        "original_file_name": col("process.pe.original_file_name"),
        "parent_process": col("process.parent.command_line"),
        "parent_process_exec": basename(col("process.parent.executable")),
        "parent_process_guid": col("process.parent.entity_id"),
        "parent_process_id": col("process.parent.pid"),
        "parent_process_name": (
            f"coalesce({col('process.parent.name')}, {basename(col('process.parent.executable'))})"
        ),
        "parent_process_path": col("process.parent.executable"),
        "process": col("process.command_line"),
        "process_current_directory": col("process.working_directory"),
        "process_hash": (
            f"nullif(concat_ws(',', 'SHA256=' || {col('process.hash.sha256')},"
            f" 'SHA1=' || {col('process.hash.sha1')}, 'MD5=' || {col('process.hash.md5')}), '')"
        ),
        "process_integrity_level": f"lower({col('winlog.event_data.IntegrityLevel')})",
        "user": _USER,
        "user_id": col("user.id"),
        "vendor_product": _VENDOR,
    },
)

_DNS_TYPE = col("dns.question.type")
ECS_DNS = NodeMapping(
    node=DNS,
    where=_IS_DNS,
    time=_TIME,
    fields={
        "answer": (
            f"CASE WHEN {col('dns.answers')} IS NOT NULL AND json_valid({col('dns.answers')})"
            f" THEN json_extract_string({col('dns.answers')}, '$[*].data')"
            f" ELSE {as_list(col('dns.resolved_ip'))} END"
        ),
        "dest": col("destination.ip"),
        "dest_port": col("destination.port"),
        "message_type": f"CASE lower({col('dns.type')}) WHEN 'answer' THEN 'Response' ELSE 'Query' END",
        "query": col("dns.question.name"),
        "record_type": f"CASE WHEN {_DNS_TYPE} IS NULL THEN NULL ELSE [{_DNS_TYPE}] END",
        "reply_code": col("dns.response_code"),
        "src": f"coalesce({col('source.ip')}, {_HOST})",
        "src_port": col("source.port"),
        "transaction_id": col("dns.id"),
        "transport": col("network.transport"),
        "vendor_product": _VENDOR,
    },
)

ECS_FILE = NodeMapping(
    node=FILESYSTEM,
    where=_IS_FILE_CREATE,
    time=_TIME,
    fields={
        **_process_fields("process"),
        "action": "'created'",
        "dest": _HOST,
        "file_create_time": col("file.created"),
        "file_hash": col("file.hash.sha256"),
        "file_name": f"coalesce({col('file.name')}, {basename(col('file.path'))})",
        "file_path": col("file.path"),
        "file_size": col("file.size"),
        "user": _USER,
        "user_id": col("user.id"),
        "vendor_product": _VENDOR,
    },
)

ECS_CONNECTION = NodeMapping(
    node=ALL_TRAFFIC,
    where=_IS_CONNECTION,
    time=_TIME,
    fields={
        **_process_fields("process"),
        "action": "'allowed'",
        "app": f"coalesce({col('network.protocol')}, {col('process.name')})",
        "bytes_in": col("destination.bytes"),
        "bytes_out": col("source.bytes"),
        "dest": f"coalesce({col('destination.domain')}, {col('destination.ip')})",
        "dest_ip": col("destination.ip"),
        "dest_port": col("destination.port"),
        "direction": col("network.direction"),
        "dvc": _HOST,
        "protocol": col("network.type"),
        "src": f"coalesce({col('source.domain')}, {col('source.ip')})",
        "src_ip": col("source.ip"),
        "src_port": col("source.port"),
        "transport": col("network.transport"),
        "user": _USER,
        "user_id": col("user.id"),
        "vendor_product": _VENDOR,
    },
)

RAW_COLUMNS = (
    "@timestamp",
    "agent.type",
    "event.category",
    "event.type",
    "event.action",
    "host.name",
    "host.hostname",
    "user.name",
    "user.domain",
    "user.id",
    "process.command_line",
    "process.name",
    "process.executable",
    "process.pid",
    "process.entity_id",
    "process.working_directory",
    "process.pe.original_file_name",
    "process.hash.sha256",
    "process.hash.sha1",
    "process.hash.md5",
    "process.parent.command_line",
    "process.parent.name",
    "process.parent.executable",
    "process.parent.pid",
    "process.parent.entity_id",
    "winlog.event_data.IntegrityLevel",
    "dns.question.name",
    "dns.question.type",
    "dns.answers",
    "dns.resolved_ip",
    "dns.response_code",
    "dns.id",
    "dns.type",
    "source.ip",
    "source.port",
    "source.domain",
    "source.bytes",
    "destination.ip",
    "destination.port",
    "destination.domain",
    "destination.bytes",
    "network.transport",
    "network.type",
    "network.protocol",
    "network.direction",
    "file.path",
    "file.name",
    "file.created",
    "file.size",
    "file.hash.sha256",
)

NODES = (ECS_PROCESS, ECS_DNS, ECS_FILE, ECS_CONNECTION)
ECS_JSON = SourceMapping(
    sourcetype="ecs", raw_columns=RAW_COLUMNS, nodes=NODES, host=_HOST, sources=dotted_sources(RAW_COLUMNS)
)
ECS_CSV = SourceMapping(sourcetype="ecs:csv", raw_columns=RAW_COLUMNS, nodes=NODES, host=_HOST)

MAPPINGS = (ECS_JSON, ECS_CSV)
