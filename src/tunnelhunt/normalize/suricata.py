"""Suricata EVE JSON `event_type: dns` → Network_Resolution.DNS, every EVE dns layout.

- v1 (Suricata < 4.1 and `version: 1`): one record per query and one per answer RR
  (`dns.type` query/answer, `rrname`, `rrtype`, `rdata`, `ttl`).
- v2 (4.1 – 7): one answer record with `answers[]` (detailed) and/or `grouped` ({rrtype: [rdata]}).
- v3 (8+): `type` request/response with `queries[]` and `answers[]`.

Responses report the DNS client as `src`: Suricata versions differ in which side an answer's
`src_ip` names, so when the source port is 53 and the destination's is not, the two are swapped.
Other event types (flow, alert, ...) are valid records no node models: they count as unmapped.
"""

from __future__ import annotations

from tunnelhunt.cim import DNS
from tunnelhunt.normalize.mapping import NodeMapping, SourceMapping, col, dotted_sources, event_time

_TYPE = f"lower({col('dns.type')})"
_RESPONSE = f"({_TYPE} IN ('answer', 'response'))"
_SWAP = f"({_RESPONSE} AND src_port = '53' AND coalesce(dest_port, '') <> '53')"
_ANSWERS = col("dns.answers")
_GROUPED = col("dns.grouped")
_QUERIES = col("dns.queries")

_ANSWER = (
    f"CASE WHEN {_ANSWERS} IS NOT NULL THEN json_extract_string({_ANSWERS}, '$[*].rdata')"
    f" WHEN {_GROUPED} IS NOT NULL THEN json_extract_string({_GROUPED}, '$.*[*]')"
    f" WHEN {col('dns.rdata')} IS NOT NULL THEN [{col('dns.rdata')}] END"
)
_RRTYPE = f"coalesce({col('dns.rrtype')}, json_extract_string({_QUERIES}, '$[0].rrtype'))"

SURICATA_DNS = NodeMapping(
    node=DNS,
    where="lower(event_type) = 'dns'",
    time=event_time("timestamp"),
    fields={
        "answer": _ANSWER,
        "answer_count": f"CAST(len({_ANSWER}) AS VARCHAR)",
        "dest": f"CASE WHEN {_SWAP} THEN src_ip ELSE dest_ip END",
        "dest_port": f"CASE WHEN {_SWAP} THEN src_port ELSE dest_port END",
        "message_type": f"CASE WHEN {_RESPONSE} THEN 'Response' ELSE 'Query' END",
        "query": f"coalesce({col('dns.rrname')}, json_extract_string({_QUERIES}, '$[0].rrname'))",
        "record_type": f"CASE WHEN {_RRTYPE} IS NULL THEN NULL ELSE [{_RRTYPE}] END",
        "reply_code": col("dns.rcode"),
        "src": f"CASE WHEN {_SWAP} THEN dest_ip ELSE src_ip END",
        "src_port": f"CASE WHEN {_SWAP} THEN dest_port ELSE src_port END",
        "transaction_id": col("dns.id"),
        "transport": "lower(proto)",
        "ttl": (
            f"CASE WHEN {_ANSWERS} IS NOT NULL THEN json_extract_string({_ANSWERS}, '$[*].ttl')"
            f" WHEN {col('dns.ttl')} IS NOT NULL THEN [{col('dns.ttl')}] END"
        ),
        "vendor_product": "'Suricata'",
    },
)

RAW_COLUMNS = (
    "timestamp",
    "event_type",
    "src_ip",
    "src_port",
    "dest_ip",
    "dest_port",
    "proto",
    "dns.type",
    "dns.id",
    "dns.rrname",
    "dns.rrtype",
    "dns.rcode",
    "dns.rdata",
    "dns.ttl",
    "dns.answers",
    "dns.grouped",
    "dns.queries",
)

SURICATA = SourceMapping(
    sourcetype="suricata",
    raw_columns=RAW_COLUMNS,
    nodes=(SURICATA_DNS,),
    sources=dotted_sources(RAW_COLUMNS),
)

MAPPINGS = (SURICATA,)
