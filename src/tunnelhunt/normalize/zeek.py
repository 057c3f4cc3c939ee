"""Zeek dns.log → Network_Resolution.DNS, as Splunk's Zeek (Corelight) add-on maps it.

The TSV reader gives columns named as in `#fields` (`id.orig_h`, sets comma-joined) plus `_path`;
Zeek JSON gives the same names (or `id_orig_h` when a shipper renamed them, `@stream` for the
path) with sets as JSON arrays. One row of dns.log is a query with its response, if any.
"""

from __future__ import annotations

from tunnelhunt.cim import DNS
from tunnelhunt.normalize.mapping import NodeMapping, SourceMapping, col, event_time

_ANSWERS = col("answers")
_TTLS = col("TTLs")
_QTYPE = col("qtype_name")


def zeek_set(column: str) -> str:
    """A Zeek set or vector: a JSON array (Zeek JSON) or a comma-joined string (TSV)."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" WHEN json_valid({column}) AND json_type({column}) = 'ARRAY' THEN json_extract_string({column}, '$[*]')"
        f" ELSE list_filter(list_transform(string_split({column}, ','), LAMBDA v : replace(v, '\\x2c', ',')),"
        " LAMBDA v : v <> '') END"
    )


ZEEK_DNS = NodeMapping(
    node=DNS,
    where="CASE WHEN _path IS NOT NULL THEN lower(_path) = 'dns' ELSE trans_id IS NOT NULL END",
    time=event_time("ts"),
    fields={
        "answer": zeek_set(_ANSWERS),
        "answer_count": f"CAST(len({zeek_set(_ANSWERS)}) AS VARCHAR)",
        "dest": col("id.resp_h"),
        "dest_port": col("id.resp_p"),
        "duration": "rtt",
        "message_type": "CASE WHEN rcode IS NULL AND rcode_name IS NULL THEN 'Query' ELSE 'Response' END",
        "query": "query",
        "query_count": "CASE WHEN query IS NULL THEN '0' ELSE '1' END",
        "record_type": f"CASE WHEN {_QTYPE} IS NULL THEN NULL ELSE [{_QTYPE}] END",
        "reply_code": "rcode_name",
        "reply_code_id": "rcode",
        "src": col("id.orig_h"),
        "src_port": col("id.orig_p"),
        "transaction_id": "trans_id",
        "transport": "proto",
        "ttl": zeek_set(_TTLS),
        "vendor_product": "'Zeek'",
    },
)

RAW_COLUMNS = (
    "_path",
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "trans_id",
    "rtt",
    "query",
    "qtype_name",
    "rcode",
    "rcode_name",
    "answers",
    "TTLs",
)

ZEEK_TSV = SourceMapping(sourcetype="zeek", raw_columns=RAW_COLUMNS, nodes=(ZEEK_DNS,))

_ID_FIELDS = ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
ZEEK_JSON = SourceMapping(
    sourcetype="zeek:json",
    raw_columns=RAW_COLUMNS,
    nodes=(ZEEK_DNS,),
    sources={
        "_path": ('$."_path"', '$."@stream"'),
        **{
            name: (f'$."{name}"', f'$."{name.replace(".", "_")}"', f'$."id"."{name.split(".", 1)[1]}"')
            for name in _ID_FIELDS
        },
    },
)

MAPPINGS = (ZEEK_TSV, ZEEK_JSON)
