"""OCSF 1.x events → CIM: Process Activity (1007, Launch), File System Activity (1001, Create),
Network Activity (4001) and DNS Activity (4003), for JSON lines and (flattened) CSV.

Raw columns are OCSF attribute paths (`process.cmd_line`); `time` is epoch milliseconds.
The class decides the node, so the nodes are disjoint by construction.
"""

from __future__ import annotations

from tunnelhunt.cim import ALL_TRAFFIC, DNS, FILESYSTEM, PROCESSES
from tunnelhunt.normalize.mapping import NodeMapping, SourceMapping, basename, col, dotted_sources, event_time

_TIME = event_time("time")
_HOST = f"coalesce({col('device.hostname')}, {col('device.name')}, {col('device.ip')})"
#: Splunk's `host` of an OCSF event: the device's name, as the events table has it (`raw_profiles.py`).
_DEVICE_NAME = f"coalesce({col('device.hostname')}, {col('device.name')})"
_VENDOR = f"nullif(concat_ws(' ', {col('metadata.product.vendor_name')}, {col('metadata.product.name')}), '')"


def _user(prefix: str) -> str:
    name, domain = col(f"{prefix}.name"), col(f"{prefix}.domain")
    return f"CASE WHEN {domain} IS NOT NULL AND {name} IS NOT NULL THEN {domain} || '\\' || {name} ELSE {name} END"


def _process(prefix: str) -> dict[str, str]:
    path = col(f"{prefix}.file.path")
    return {
        "process_exec": f"coalesce({col(f'{prefix}.file.name')}, {basename(path)})",
        "process_guid": col(f"{prefix}.uid"),
        "process_id": col(f"{prefix}.pid"),
        "process_name": f"coalesce({col(f'{prefix}.name')}, {col(f'{prefix}.file.name')}, {basename(path)})",
        "process_path": path,
    }


OCSF_PROCESS = NodeMapping(
    node=PROCESSES,
    where="class_uid = '1007' AND coalesce(activity_id, '1') = '1'",
    time=_TIME,
    fields={
        **_process("process"),
        "action": "'allowed'",
        "dest": _HOST,
        "parent_process": col("process.parent_process.cmd_line"),
        "parent_process_exec": basename(col("process.parent_process.file.path")),
        "parent_process_guid": col("process.parent_process.uid"),
        "parent_process_id": col("process.parent_process.pid"),
        "parent_process_name": (
            f"coalesce({col('process.parent_process.name')}, {basename(col('process.parent_process.file.path'))})"
        ),
        "parent_process_path": col("process.parent_process.file.path"),
        "process": col("process.cmd_line"),
        "process_current_directory": col("process.working_directory"),
        "process_integrity_level": f"lower({col('process.integrity')})",
        "user": f"coalesce({_user('actor.user')}, {_user('process.user')})",
        "user_id": f"coalesce({col('actor.user.uid')}, {col('process.user.uid')})",
        "vendor_product": _VENDOR,
    },
)

OCSF_FILE = NodeMapping(
    node=FILESYSTEM,
    where="class_uid = '1001' AND activity_id = '1'",
    time=_TIME,
    fields={
        **_process("actor.process"),
        "action": "'created'",
        "dest": _HOST,
        "file_name": f"coalesce({col('file.name')}, {basename(col('file.path'))})",
        "file_path": col("file.path"),
        "file_size": col("file.size"),
        "user": _user("actor.user"),
        "user_id": col("actor.user.uid"),
        "vendor_product": _VENDOR,
    },
)

OCSF_NETWORK = NodeMapping(
    node=ALL_TRAFFIC,
    where="class_uid = '4001'",
    time=_TIME,
    fields={
        **_process("actor.process"),
        "action": (
            f"CASE WHEN lower({col('disposition')}) IN ('blocked', 'denied', 'dropped')"
            " THEN 'blocked' ELSE 'allowed' END"
        ),
        "dest": f"coalesce({col('dst_endpoint.hostname')}, {col('dst_endpoint.ip')})",
        "dest_ip": col("dst_endpoint.ip"),
        "dest_port": col("dst_endpoint.port"),
        "direction": f"lower({col('connection_info.direction')})",
        "dvc": _HOST,
        "src": f"coalesce({col('src_endpoint.hostname')}, {col('src_endpoint.ip')})",
        "src_ip": col("src_endpoint.ip"),
        "src_port": col("src_endpoint.port"),
        "transport": f"lower({col('connection_info.protocol_name')})",
        "user": _user("actor.user"),
        "user_id": col("actor.user.uid"),
        "vendor_product": _VENDOR,
    },
)

_QTYPE = col("query.type")
OCSF_DNS = NodeMapping(
    node=DNS,
    where="class_uid = '4003'",
    time=_TIME,
    fields={
        "answer": f"json_extract_string({col('answers')}, '$[*].rdata')",
        "dest": col("dst_endpoint.ip"),
        "dest_port": col("dst_endpoint.port"),
        "message_type": "CASE activity_id WHEN '2' THEN 'Response' ELSE 'Query' END",
        "query": col("query.hostname"),
        "record_type": f"CASE WHEN {_QTYPE} IS NULL THEN NULL ELSE [{_QTYPE}] END",
        "reply_code": "rcode",
        "reply_code_id": "rcode_id",
        "src": f"coalesce({col('src_endpoint.ip')}, {_HOST})",
        "src_port": col("src_endpoint.port"),
        "transaction_id": col("query.packet_uid"),
        "transport": f"lower({col('connection_info.protocol_name')})",
        "vendor_product": _VENDOR,
    },
)

RAW_COLUMNS = (
    "time",
    "class_uid",
    "activity_id",
    "disposition",
    "metadata.product.vendor_name",
    "metadata.product.name",
    "device.hostname",
    "device.name",
    "device.ip",
    "actor.user.name",
    "actor.user.domain",
    "actor.user.uid",
    "process.user.name",
    "process.user.domain",
    "process.user.uid",
    "process.cmd_line",
    "process.name",
    "process.pid",
    "process.uid",
    "process.file.path",
    "process.file.name",
    "process.working_directory",
    "process.integrity",
    "process.parent_process.cmd_line",
    "process.parent_process.name",
    "process.parent_process.pid",
    "process.parent_process.uid",
    "process.parent_process.file.path",
    "actor.process.name",
    "actor.process.pid",
    "actor.process.uid",
    "actor.process.file.path",
    "actor.process.file.name",
    "file.path",
    "file.name",
    "file.size",
    "src_endpoint.ip",
    "src_endpoint.port",
    "src_endpoint.hostname",
    "dst_endpoint.ip",
    "dst_endpoint.port",
    "dst_endpoint.hostname",
    "connection_info.protocol_name",
    "connection_info.direction",
    "query.hostname",
    "query.type",
    "query.packet_uid",
    "answers",
    "rcode",
    "rcode_id",
)

NODES = (OCSF_PROCESS, OCSF_FILE, OCSF_NETWORK, OCSF_DNS)
OCSF_JSON = SourceMapping(
    sourcetype="ocsf", raw_columns=RAW_COLUMNS, nodes=NODES, host=_DEVICE_NAME, sources=dotted_sources(RAW_COLUMNS)
)
OCSF_CSV = SourceMapping(sourcetype="ocsf:csv", raw_columns=RAW_COLUMNS, nodes=NODES, host=_DEVICE_NAME)

MAPPINGS = (OCSF_JSON, OCSF_CSV)
