"""Sigma logsources over network and schema-normalised events: Zeek, Suricata EVE, ECS and OCSF.

The events table keeps each record's own field names (`store/events.py`): Zeek's (`id.resp_h`,
`answers`, or `answers{}` from Zeek JSON, where sets are arrays), Suricata's dotted EVE paths
(`dns.rrname`, `http.http_user_agent`), ECS's (`dns.question.name`) and OCSF's (`query.hostname`). Each
`EventSource` below says which events one kind of log is (conditions on `sourcetype` and a field that
kind always has) and where SigmaHQ's taxonomy names for a generic category (`dns`: `query`, `answer`,
`record_type`; `proxy`/`webserver`: `c-uri`, `c-useragent`, `cs-method`, ...; `network_connection` and
`firewall`: `dst_ip`, `DestinationPort`, ...) live in it. `source_pipeline` turns the sources of one
format into a pySigma pipeline of standard transformations: `FieldMappingTransformation` for the names,
`AddConditionTransformation` for the events, and a check that refuses a rule comparing a field the
source does not have (`RequireMappedFields`), so such a rule is reported with the reason instead of
silently matching nothing there (it still runs over the formats that have the field).

`product: zeek` rules (`service: dns`, `http`, `smb_files`, ...) use Zeek's own names: a service is the
Zeek log of that path, and only the names Zeek JSON writes differently (`answers{}`) or that SigmaHQ's
Zeek rules borrow from the proxy taxonomy (`c-uri`) are mapped.

A field whose value is a list (a Zeek set, a JSON array flattened with `{}`) is declared multivalue with
its separator in the pipeline's state (`MULTIVALUE_STATE`): `multivalue.MultivalueBackend` then matches
when any element matches, as the Sigma specification says of lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sigma.exceptions import SigmaTransformationError
from sigma.processing.conditions import IncludeFieldCondition, LogsourceCondition, RuleProcessingCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldMappingTransformation,
    MapStringTransformation,
    SetStateTransformation,
)
from sigma.processing.transformations.base import DetectionItemTransformation
from sigma.rule import SigmaDetection, SigmaDetectionItem

from tunnelhunt.store.events import EXTRACTED_DEFAULTS

#: Pipeline state key: event field name → the separator its list elements are joined with.
MULTIVALUE_STATE = "tunnelhunt_multivalue"
#: Field of the rule `SigmaCompiler.logsource_filters` converts to find a logsource's event conditions.
PROBE_FIELD = "TunnelhuntLogsourceProbe"
#: Events columns Splunk fills itself (the sensor's host, the file, ...): a record's own field of that name
#: is stored as `extracted_<name>` (`store.events.EXTRACTED_DEFAULTS`) and a rule naming it reads that; a
#: rule naming `_time` or `_raw` is refused rather than compared to the column.
DEFAULT_FIELD_NAMES = frozenset({"_time", "_raw"})

FieldMap = Mapping[str, str | list[str]]


@dataclass(frozen=True)
class EventSource:
    """One kind of log of a format: which events it is and where the Sigma taxonomy's names are in it."""

    name: str
    categories: frozenset[str]
    #: `AddConditionTransformation` conditions that select the events (modifiers allowed: `f|exists`).
    events: Mapping[str, object]
    fields: FieldMap
    #: Fields of the events whose value is a list, with the separator its elements are joined by.
    multivalue: Mapping[str, str] = field(default_factory=dict)


@dataclass
class RequireMappedFields(DetectionItemTransformation):
    """Refuse a rule that compares a field the source does not have (`known`, when given) or one of `refused`.

    Keywords, the probe and the conditions this family's selecting items added (`selected_by`) pass."""

    source: str = ""
    selected_by: str = ""
    known: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()

    def apply_detection_item(self, detection_item: SigmaDetectionItem) -> SigmaDetection | SigmaDetectionItem | None:
        name = detection_item.field
        if name is None or name == PROBE_FIELD:
            return None
        if any(applied.startswith(self.selected_by) for applied in detection_item.applied_processing_items):
            return None
        if name in self.refused or (self.known and name not in self.known):
            raise SigmaTransformationError(f"{self.source} has no field {name}")
        return None


def _list(*names: str) -> list[str]:
    return list(names)


def _endpoints(src_ip: str, src_port: str, dst_ip: str, dst_port: str) -> FieldMap:
    """The firewall taxonomy's endpoint names over a source's own."""
    return {"src_ip": src_ip, "src_port": src_port, "dst_ip": dst_ip, "dst_port": dst_port}


def _sourcetypes(*names: str) -> list[str]:
    return list(names)


# --- Zeek ---------------------------------------------------------------------------------------------

#: Zeek logs by path; the reader names the sourcetype `zeek:<path>` (TSV) or `zeek:<path>:json`.
ZEEK_LOGS = (
    "conn", "dce_rpc", "dhcp", "dnp3", "dns", "dpd", "files", "ftp", "http", "irc", "kerberos", "known_certs",
    "known_hosts", "known_services", "modbus", "mysql", "notice", "ntlm", "ntp", "ocsp", "pe", "radius", "rdp",
    "rfb", "sip", "smb_files", "smb_mapping", "smtp", "snmp", "socks", "software", "ssh", "ssl", "syslog",
    "tunnel", "weird", "x509",
)  # fmt: skip

#: Zeek's sets and vectors: comma-joined in TSV, JSON arrays (`name{}`, newline-joined) in Zeek JSON.
ZEEK_SETS = (
    "answers", "TTLs", "resp_mime_types", "orig_mime_types", "resp_fuids", "orig_fuids", "resp_filenames",
    "orig_filenames", "tags", "proxied", "rcptto", "path", "to", "cc", "mailfrom", "tx_hosts", "rx_hosts",
    "conn_uids", "analyzers", "san.dns", "san.uri", "san.email", "san.ip", "server_addresses",
    "client_addresses", "tunnel_parents", "certificate_chain_fuids", "client_cert_chain_fuids",
    "cert_chain_fuids", "client_cert_chain", "cert_chain",
)  # fmt: skip


#: Zeek's booleans: `T`/`F` in TSV, `true`/`false` in Zeek JSON (SigmaHQ's Zeek rules write `'true'`).
ZEEK_BOOLEANS = (
    "AA", "TC", "RD", "RA", "rejected", "local_orig", "local_resp", "resumed", "established", "auth_success",
    "is_orig", "is_webmail", "success", "tls", "anonymous",
)  # fmt: skip
ZEEK_BOOLEAN_TEXT: dict[str, str | list[str]] = {"true": ["true", "T"], "false": ["false", "F"]}


def zeek_events(path: str) -> dict[str, object]:
    return {"sourcetype": _sourcetypes(f"zeek:{path}", f"zeek:{path}:json")}


def zeek_field(name: str) -> str | list[str]:
    """A Zeek field under both names it is stored by (a set: its TSV and its JSON name)."""
    return [name, f"{name}{{}}"] if name in ZEEK_SETS else name


ZEEK_MULTIVALUE = {**{name: "," for name in ZEEK_SETS}, **{f"{name}{{}}": "\n" for name in ZEEK_SETS}}

_ZEEK_ENDPOINTS = _endpoints("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")
#: Sysmon's network-connection names (SigmaHQ's `network_connection` taxonomy).
_SYSMON_CONNECTION = {
    "SourceIp": "src_ip",
    "SourcePort": "src_port",
    "DestinationIp": "dst_ip",
    "DestinationPort": "dst_port",
}


def _connection(endpoints: FieldMap, protocol: str, extra: FieldMap | None = None) -> dict[str, str | list[str]]:
    """Firewall names, Sysmon's network-connection names and `Protocol` over a source's endpoint fields."""
    fields = dict(endpoints)
    fields.update({sysmon: endpoints[generic] for sysmon, generic in _SYSMON_CONNECTION.items()})
    fields["Protocol"] = protocol
    fields.update(extra or {})
    return fields


#: The W3C names SigmaHQ's proxy and webserver rules use, over Zeek's http.log (`host`, the request's Host
#: header, is stored as `extracted_host`: the events table's `host` column is the sensor).
ZEEK_HTTP: FieldMap = {
    "cs-host": EXTRACTED_DEFAULTS["host"],
    "r-dns": EXTRACTED_DEFAULTS["host"],
    "c-uri": "uri",
    "cs-uri": "uri",
    "cs-uri-stem": "uri",
    "c-useragent": "user_agent",
    "cs-user-agent": "user_agent",
    "cs-method": "method",
    "cs-referer": "referrer",
    "sc-status": "status_code",
    **_ZEEK_ENDPOINTS,
}

ZEEK = (
    EventSource(
        "zeek dns.log",
        frozenset({"dns"}),
        zeek_events("dns"),
        {"query": "query", "answer": zeek_field("answers"), "record_type": "qtype_name", **_ZEEK_ENDPOINTS},
        ZEEK_MULTIVALUE,
    ),
    EventSource("zeek http.log", frozenset({"proxy", "webserver"}), zeek_events("http"), ZEEK_HTTP, ZEEK_MULTIVALUE),
    EventSource(
        "zeek conn.log",
        frozenset({"network_connection", "firewall"}),
        zeek_events("conn"),
        _connection(_ZEEK_ENDPOINTS, "proto"),
    ),
)

#: `product: zeek` rules name Zeek's own fields; SigmaHQ's Zeek http rules also use a few proxy names.
ZEEK_OWN_NAMES: FieldMap = {
    **{name: zeek_field(name) for name in ZEEK_SETS},
    # http.log's Host header and files.log's `source` (`sourcetype`, which selects the log, stays the column)
    "host": EXTRACTED_DEFAULTS["host"],
    "source": EXTRACTED_DEFAULTS["source"],
    "c-uri": "uri",
    "c-useragent": "user_agent",
    "cs-method": "method",
    "cs-referer": "referrer",
}

# --- Suricata EVE -------------------------------------------------------------------------------------

_EVE_ENDPOINTS = _endpoints("src_ip", "src_port", "dest_ip", "dest_port")
#: `grouped` answers (EVE v2) are keyed by record type.
_RRTYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT")
_EVE_GROUPED = [f"dns.grouped.{rrtype}{{}}" for rrtype in _RRTYPES]


def eve(event_type: str | list[str]) -> dict[str, object]:
    return {"sourcetype": "suricata", "event_type": event_type}


SURICATA = (
    EventSource(
        "suricata dns",
        frozenset({"dns"}),
        eve("dns"),
        {
            # v1/v2 records name the query at the top, v3 in `queries[]`
            "query": _list("dns.rrname", "dns.queries{}.rrname"),
            "answer": _list("dns.rdata", "dns.answers{}.rdata", *_EVE_GROUPED),
            "record_type": _list("dns.rrtype", "dns.queries{}.rrtype"),
            **_EVE_ENDPOINTS,
        },
        {name: "\n" for name in ("dns.queries{}.rrname", "dns.answers{}.rdata", "dns.queries{}.rrtype", *_EVE_GROUPED)},
    ),
    EventSource(
        "suricata http",
        frozenset({"proxy", "webserver"}),
        eve("http"),
        {
            "c-uri": "http.url",
            "cs-uri": "http.url",
            "c-useragent": "http.http_user_agent",
            "cs-user-agent": "http.http_user_agent",
            "cs-host": "http.hostname",
            "r-dns": "http.hostname",
            "cs-method": "http.http_method",
            "cs-referer": "http.http_refer",
            "sc-status": "http.status",
            **_EVE_ENDPOINTS,
        },
    ),
    EventSource(
        "suricata flow",
        frozenset({"network_connection", "firewall"}),
        eve(["flow", "netflow"]),
        _connection(_EVE_ENDPOINTS, "proto"),
    ),
)

# --- ECS ----------------------------------------------------------------------------------------------

_ECS_SOURCETYPES = _sourcetypes("ecs", "ecs:csv")
_ECS_ENDPOINTS = _endpoints("source.ip", "source.port", "destination.ip", "destination.port")

ECS = (
    EventSource(
        "ecs dns",
        frozenset({"dns"}),
        {"sourcetype": _ECS_SOURCETYPES, "dns.question.name|exists": True},
        {
            "query": "dns.question.name",
            # JSON arrays are flattened as `answers{}.data`; a CSV export names the column `dns.answers.data`
            "answer": _list("dns.answers{}.data", "dns.answers.data"),
            "record_type": "dns.question.type",
            **_ECS_ENDPOINTS,
        },
        {"dns.answers{}.data": "\n"},
    ),
    EventSource(
        "ecs http",
        frozenset({"proxy", "webserver"}),
        {"sourcetype": _ECS_SOURCETYPES, "url.original|exists": True},
        {
            "c-uri": "url.original",
            "cs-uri": "url.original",
            "cs-uri-stem": "url.path",
            "c-uri-query": "url.query",
            "cs-uri-query": "url.query",
            "c-uri-extension": "url.extension",
            "c-useragent": "user_agent.original",
            "cs-user-agent": "user_agent.original",
            "cs-host": "url.domain",
            "r-dns": "url.domain",
            "cs-method": "http.request.method",
            "cs-referer": "http.request.referrer",
            "sc-status": "http.response.status_code",
            **_ECS_ENDPOINTS,
        },
    ),
    EventSource(
        "ecs network",
        frozenset({"network_connection", "firewall"}),
        {"sourcetype": _ECS_SOURCETYPES, "destination.ip|exists": True},
        _connection(_ECS_ENDPOINTS, "network.transport", {"action": "event.action"}),
    ),
)

# --- OCSF ---------------------------------------------------------------------------------------------

_OCSF_SOURCETYPES = _sourcetypes("ocsf", "ocsf:csv")
_OCSF_ENDPOINTS = _endpoints("src_endpoint.ip", "src_endpoint.port", "dst_endpoint.ip", "dst_endpoint.port")


def ocsf_class(class_uid: int) -> dict[str, object]:
    return {"sourcetype": _OCSF_SOURCETYPES, "class_uid": class_uid}


OCSF = (
    EventSource(
        "ocsf DNS Activity (4003)",
        frozenset({"dns"}),
        ocsf_class(4003),
        {
            "query": "query.hostname",
            "answer": _list("answers{}.rdata", "answers.rdata"),
            "record_type": "query.type",
            **_OCSF_ENDPOINTS,
        },
        {"answers{}.rdata": "\n"},
    ),
    EventSource(
        "ocsf HTTP Activity (4002)",
        frozenset({"proxy", "webserver"}),
        ocsf_class(4002),
        {
            "c-uri": "http_request.url.url_string",
            "cs-uri": "http_request.url.url_string",
            "cs-uri-stem": "http_request.url.path",
            "c-uri-query": "http_request.url.query_string",
            "cs-uri-query": "http_request.url.query_string",
            "c-useragent": "http_request.user_agent",
            "cs-user-agent": "http_request.user_agent",
            "cs-host": "http_request.url.hostname",
            "r-dns": "http_request.url.hostname",
            "cs-method": "http_request.http_method",
            "cs-referer": "http_request.referrer",
            "sc-status": "http_response.code",
            **_OCSF_ENDPOINTS,
        },
    ),
    EventSource(
        "ocsf Network Activity (4001)",
        frozenset({"network_connection", "firewall"}),
        ocsf_class(4001),
        _connection(_OCSF_ENDPOINTS, "connection_info.protocol_name", {"action": "action"}),
    ),
)


def _names(fields: FieldMap) -> dict[str | None, str | list[str]]:
    """A field map as `FieldMappingTransformation` takes it."""
    return {name: target for name, target in fields.items()}


def _identifier(family: str, source: EventSource, job: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in source.name.lower())
    return f"tunnelhunt_{family}_{job}_{slug}"


def select_prefix(family: str) -> str:
    """The identifier prefix of a family's items that select events (`LogsourceMapping.selects`)."""
    return f"tunnelhunt_{family}_select_"


def _category_items(family: str, source: EventSource) -> list[ProcessingItem]:
    """Select, check and rename for the rules of the source's categories (select first: a refused rule's
    error is reported only for mappings that selected events for it)."""

    def conditions() -> list[RuleProcessingCondition]:  # a condition belongs to one item's pipeline
        return [LogsourceCondition(category=category) for category in sorted(source.categories)]

    return [
        ProcessingItem(
            identifier=_identifier(family, source, "select"),
            transformation=AddConditionTransformation(dict(source.events)),  # type: ignore[arg-type]
            rule_conditions=conditions(),
            rule_condition_linking=any,
        ),
        ProcessingItem(
            identifier=_identifier(family, source, "fields"),
            transformation=RequireMappedFields(source.name, select_prefix(family), known=frozenset(source.fields)),
            rule_conditions=conditions(),
            rule_condition_linking=any,
        ),
        ProcessingItem(
            identifier=_identifier(family, source, "names"),
            transformation=FieldMappingTransformation(_names(source.fields)),
            rule_conditions=conditions(),
            rule_condition_linking=any,
        ),
    ]


def _multivalue(sources: Iterable[EventSource], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    found: dict[str, str] = dict(extra or {})
    for source in sources:
        found.update(source.multivalue)
    return found


def source_pipeline(
    family: str, sources: Iterable[EventSource], title: str, extra: Iterable[ProcessingItem] = ()
) -> ProcessingPipeline:
    """One format's pipeline: each source's items for its categories, its multivalue fields, `extra` items."""
    sources = tuple(sources)
    items = [
        ProcessingItem(
            identifier=f"tunnelhunt_{family}_multivalue",
            transformation=SetStateTransformation(MULTIVALUE_STATE, _multivalue(sources)),
        )
    ]
    for source in sources:
        items.extend(_category_items(family, source))
    items.extend(extra)
    return ProcessingPipeline(name=title, priority=10, items=items)


def _zeek_product_items() -> list[ProcessingItem]:
    """`product: zeek` rules: the service's log, Zeek's own names (never a default field's)."""
    return [
        *[
            ProcessingItem(
                identifier=f"tunnelhunt_zeek_select_service_{path}",
                transformation=AddConditionTransformation(zeek_events(path)),  # type: ignore[arg-type]
                rule_conditions=[LogsourceCondition(product="zeek", service=path)],
            )
            for path in ZEEK_LOGS
        ],
        ProcessingItem(
            identifier="tunnelhunt_zeek_fields_product",
            transformation=RequireMappedFields("Zeek", select_prefix("zeek"), refused=DEFAULT_FIELD_NAMES),
            rule_conditions=[LogsourceCondition(product="zeek")],
        ),
        ProcessingItem(
            identifier="tunnelhunt_zeek_booleans_product",
            transformation=MapStringTransformation(ZEEK_BOOLEAN_TEXT),
            rule_conditions=[LogsourceCondition(product="zeek")],
            field_name_conditions=[IncludeFieldCondition(fields=list(ZEEK_BOOLEANS))],
        ),
        ProcessingItem(
            identifier="tunnelhunt_zeek_names_product",
            transformation=FieldMappingTransformation(_names(ZEEK_OWN_NAMES)),
            rule_conditions=[LogsourceCondition(product="zeek")],
        ),
    ]


def zeek_pipeline() -> ProcessingPipeline:
    """Zeek's logs for the generic categories, and `product: zeek` rules by service (the log's path)."""
    return source_pipeline("zeek", ZEEK, "Zeek logs", _zeek_product_items())


def suricata_pipeline() -> ProcessingPipeline:
    return source_pipeline("suricata", SURICATA, "Suricata EVE")


def ecs_pipeline() -> ProcessingPipeline:
    return source_pipeline("ecs", ECS, "Elastic Common Schema")


def ocsf_pipeline() -> ProcessingPipeline:
    return source_pipeline("ocsf", OCSF, "OCSF 1.x")


#: Every generic category some format here serves.
CATEGORIES = frozenset(c for family in (ZEEK, SURICATA, ECS, OCSF) for source in family for c in source.categories)
