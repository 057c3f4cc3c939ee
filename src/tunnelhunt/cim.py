"""The one declaration of the CIM data models tunnelhunt stores and searches.

Readers, normalisers, the store, the SPL compiler (field checks) and `validate` all read this
registry, so a field is named, typed and marked multivalue in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

if TYPE_CHECKING:
    from sqlglot import exp

FieldType = Literal["string", "int", "timestamp"]
#: Each logical field type as a sqlglot type name: DuckDB and Spark DDL are rendered from it.
SQL_TYPES: dict[str, str] = {"string": "VARCHAR", "int": "BIGINT", "timestamp": "TIMESTAMP"}
_ARROW = {"string": pa.string(), "int": pa.int64(), "timestamp": pa.timestamp("us")}
#: DuckDB's names of the same types, written out: the store creates its tables on every run, and rendering
#: them imported sqlglot (a fifth of a second) into every command. `sql_type` renders every other dialect,
#: and a test pins these to sqlglot's own rendering.
_DUCKDB_TYPES = {"string": "TEXT", "int": "BIGINT", "timestamp": "TIMESTAMP"}


def column_type(kind: str, multivalue: bool = False) -> exp.DataType:
    """The sqlglot type of a field (a multivalue field is an array of its type)."""
    from sqlglot import exp

    scalar = exp.DataType.build(SQL_TYPES[kind])
    return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[scalar], nested=True) if multivalue else scalar


def sql_type(kind: str, multivalue: bool, dialect: str) -> str:
    """A field's column type in a dialect's DDL (`VARCHAR[]` in DuckDB, `ARRAY<STRING>` in Spark)."""
    if dialect == "duckdb":
        return _DUCKDB_TYPES[kind] + ("[]" if multivalue else "")
    return column_type(kind, multivalue).sql(dialect)


def arrow_type(kind: str, multivalue: bool = False) -> pa.DataType:
    scalar = _ARROW[kind]
    return pa.list_(scalar) if multivalue else scalar


#: Columns every node table carries besides its CIM fields: event time, provenance (`_source` the file,
#: `_offset` the record's place in it) and Splunk's default fields, which every data-model event has in
#: Splunk (`| tstats ... by host`): `host`, `source`, `sourcetype`, `index` (see `normalize/mapping.py`).
PROVENANCE_FIELDS: tuple[tuple[str, FieldType], ...] = (
    ("_time", "timestamp"),
    ("_source", "string"),
    ("_offset", "int"),
    ("sourcetype", "string"),
    ("host", "string"),
    ("source", "string"),
    ("index", "string"),
)
#: Splunk's default fields (searched without the node prefix, as `host`, not `Processes.host`).
DEFAULT_FIELDS = ("_time", "host", "source", "sourcetype", "index")


@dataclass(frozen=True)
class Field:
    """One data-model field: its CIM name, storage type and whether it holds several values."""

    name: str
    type: FieldType = "string"
    multivalue: bool = False


@dataclass(frozen=True)
class Node:
    """A data-model dataset such as `Endpoint.Processes`: the unit a `tstats` search runs over."""

    datamodel: str
    name: str
    fields: tuple[Field, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.datamodel}.{self.name}"

    @property
    def table(self) -> str:
        """The store table for this node, e.g. `endpoint_processes`."""
        return f"{self.datamodel}_{self.name}".lower()

    def field(self, name: str) -> Field | None:
        for field in self.fields:
            if field.name == name:
                return field
        return None

    @property
    def all_columns(self) -> tuple[tuple[str, FieldType, bool], ...]:
        """(name, type, multivalue) for provenance columns followed by CIM fields."""
        return tuple((n, t, False) for n, t in PROVENANCE_FIELDS) + tuple(
            (f.name, f.type, f.multivalue) for f in self.fields
        )


def _fields(*names: str, multivalue: tuple[str, ...] = (), ints: tuple[str, ...] = ()) -> tuple[Field, ...]:
    return tuple(Field(n, "int" if n in ints else "string", n in multivalue) for n in names)


PROCESSES = Node(
    "Endpoint",
    "Processes",
    _fields(
        "action",
        "cpu_load_percent",
        "dest",
        "mem_used",
        "original_file_name",
        "os",
        "parent_process",
        "parent_process_exec",
        "parent_process_guid",
        "parent_process_id",
        "parent_process_name",
        "parent_process_path",
        "process",
        "process_current_directory",
        "process_exec",
        "process_guid",
        "process_hash",
        "process_id",
        "process_integrity_level",
        "process_name",
        "process_path",
        "user",
        "user_id",
        "vendor_product",
        # further Splunk CIM fields of Endpoint.Processes (asset and identity enrichment included)
        "dest_bunit",
        "dest_category",
        "dest_is_expected",
        "dest_priority",
        "dest_requires_av",
        "dest_should_timesync",
        "dest_should_update",
        "parent_process_hash",
        "parent_user",
        "tag",
        "user_bunit",
        "user_category",
        "user_priority",
        "cim_entity_zone",
        multivalue=("dest_category", "parent_process_hash", "tag", "user_category"),
    ),
)

FILESYSTEM = Node(
    "Endpoint",
    "Filesystem",
    _fields(
        "action",
        "dest",
        "file_access_time",
        "file_create_time",
        "file_hash",
        "file_modify_time",
        "file_name",
        "file_path",
        "file_acl",
        "file_size",
        "process_exec",
        "process_guid",
        "process_id",
        "process_name",
        "user",
        "user_id",
        "vendor_product",
        # further Splunk CIM fields of Endpoint.Filesystem
        "dest_bunit",
        "dest_category",
        "dest_priority",
        "dest_requires_av",
        "dest_should_timesync",
        "dest_should_update",
        "process_path",
        "tag",
        "user_bunit",
        "user_category",
        "user_priority",
        "cim_entity_zone",
        multivalue=("dest_category", "tag", "user_category"),
    ),
)

#: Endpoint.Registry (Splunk CIM).
REGISTRY = Node(
    "Endpoint",
    "Registry",
    _fields(
        "action",
        "dest",
        "dest_bunit",
        "dest_category",
        "dest_priority",
        "dest_requires_av",
        "dest_should_timesync",
        "dest_should_update",
        "process_guid",
        "process_id",
        "registry_hive",
        "registry_key_name",
        "registry_path",
        "registry_value_data",
        "registry_value_name",
        "registry_value_text",
        "registry_value_type",
        "status",
        "tag",
        "user",
        "user_bunit",
        "user_category",
        "user_priority",
        "vendor_product",
        "cim_entity_zone",
        multivalue=("dest_category", "tag", "user_category"),
    ),
)

#: Endpoint.Services (Splunk CIM).
SERVICES = Node(
    "Endpoint",
    "Services",
    _fields(
        "description",
        "dest",
        "dest_bunit",
        "dest_category",
        "dest_is_expected",
        "dest_priority",
        "dest_requires_av",
        "dest_should_timesync",
        "dest_should_update",
        "process_guid",
        "process_id",
        "service",
        "service_dll",
        "service_dll_hash",
        "service_dll_path",
        "service_dll_signature_exists",
        "service_dll_signature_verified",
        "service_exec",
        "service_hash",
        "service_id",
        "service_name",
        "service_path",
        "service_signature_exists",
        "service_signature_verified",
        "start_mode",
        "status",
        "tag",
        "user",
        "user_bunit",
        "user_category",
        "user_priority",
        "vendor_product",
        "cim_entity_zone",
        multivalue=("dest_category", "service_dll_hash", "service_hash", "tag", "user_category"),
    ),
)

DNS = Node(
    "Network_Resolution",
    "DNS",
    _fields(
        "answer",
        "answer_count",
        "dest",
        "dest_port",
        "duration",
        "message_type",
        "name",
        "query",
        "query_count",
        "query_type",
        "record_type",
        "reply_code",
        "reply_code_id",
        "response_time",
        "src",
        "src_port",
        "transaction_id",
        "transport",
        "ttl",
        "vendor_product",
        # further Splunk CIM fields of Network_Resolution.DNS
        "additional_answer_count",
        "authority_answer_count",
        "dest_bunit",
        "dest_category",
        "dest_priority",
        "src_bunit",
        "src_category",
        "src_priority",
        "tag",
        "cim_entity_zone",
        multivalue=("answer", "query_type", "record_type", "ttl", "dest_category", "src_category", "tag"),
    ),
)

ALL_TRAFFIC = Node(
    "Network_Traffic",
    "All_Traffic",
    _fields(
        "action",
        "app",
        "bytes",
        "bytes_in",
        "bytes_out",
        "dest",
        "dest_ip",
        "dest_port",
        "direction",
        "dvc",
        "process_exec",
        "process_guid",
        "process_id",
        "process_name",
        "process_path",
        "protocol",
        "src",
        "src_ip",
        "src_port",
        "transport",
        "user",
        "user_id",
        "vendor_product",
        # further Splunk CIM fields of Network_Traffic.All_Traffic
        "channel",
        "dest_bunit",
        "dest_category",
        "dest_interface",
        "dest_mac",
        "dest_priority",
        "dest_translated_ip",
        "dest_translated_port",
        "dest_zone",
        "duration",
        "dvc_bunit",
        "dvc_category",
        "dvc_ip",
        "dvc_mac",
        "dvc_priority",
        "dvc_zone",
        "flow_id",
        "icmp_code",
        "icmp_type",
        "packets",
        "packets_in",
        "packets_out",
        "protocol_version",
        "response_time",
        "rule",
        "session_id",
        "src_bunit",
        "src_category",
        "src_interface",
        "src_mac",
        "src_priority",
        "src_translated_ip",
        "src_translated_port",
        "src_zone",
        "ssid",
        "tag",
        "tcp_flag",
        "tos",
        "ttl",
        "user_bunit",
        "user_category",
        "user_priority",
        "vendor_account",
        "vlan",
        "wifi",
        "cim_entity_zone",
        multivalue=("dest_category", "dvc_category", "src_category", "tag", "user_category"),
    ),
)

#: Web.Web (Splunk CIM): proxy and web server requests.
WEB = Node(
    "Web",
    "Web",
    _fields(
        "action",
        "app",
        "bytes",
        "bytes_in",
        "bytes_out",
        "cached",
        "category",
        "cookie",
        "dest",
        "dest_bunit",
        "dest_category",
        "dest_port",
        "dest_priority",
        "duration",
        "error_code",
        "http_content_type",
        "http_method",
        "http_referrer",
        "http_referrer_domain",
        "http_user_agent",
        "http_user_agent_length",
        "response_time",
        "site",
        "src",
        "src_bunit",
        "src_category",
        "src_priority",
        "status",
        "storage_name",
        "tag",
        "uri_path",
        "uri_query",
        "url",
        "url_domain",
        "url_length",
        "user",
        "user_bunit",
        "user_category",
        "user_priority",
        "vendor_product",
        "cim_entity_zone",
        multivalue=("dest_category", "src_category", "tag", "user_category"),
    ),
)

#: Authentication.Authentication (Splunk CIM). `Logon_Type` is not a CIM field: it is the name Splunk's
#: Windows add-on gives the Security log's `LogonType`, kept on the node so a tstats search can tell an
#: RDP logon (10) from a network (3) or local (2) one.
AUTHENTICATION = Node(
    "Authentication",
    "Authentication",
    _fields(
        "action",
        "app",
        "authentication_method",
        "authentication_service",
        "dest",
        "dest_nt_domain",
        "duration",
        "reason",
        "response_time",
        "signature",
        "signature_id",
        "src",
        "src_nt_domain",
        "src_user",
        "src_user_id",
        "user",
        "user_agent",
        "user_id",
        "user_role",
        "user_type",
        "vendor_account",
        "vendor_product",
        "Logon_Type",
        # asset and identity enrichment
        "dest_bunit",
        "dest_category",
        "dest_priority",
        "src_bunit",
        "src_category",
        "src_priority",
        "src_user_bunit",
        "src_user_category",
        "src_user_priority",
        "src_user_role",
        "src_user_type",
        "tag",
        "user_bunit",
        "user_category",
        "user_priority",
        "cim_entity_zone",
        multivalue=("dest_category", "src_category", "src_user_category", "tag", "user_category"),
    ),
)

#: Change.All_Changes (Splunk CIM) with the fields of its Account_Management child (`src_user`,
#: `*_nt_domain`): account and group changes land here, as ESCU searches `datamodel=Change` for them.
ALL_CHANGES = Node(
    "Change",
    "All_Changes",
    _fields(
        "action",
        "change_type",
        "command",
        "dest",
        "dvc",
        "object",
        "object_attrs",
        "object_category",
        "object_id",
        "object_path",
        "result",
        "result_id",
        "src",
        "status",
        "user",
        "user_id",
        "vendor_product",
        # Account_Management
        "dest_nt_domain",
        "src_nt_domain",
        "src_user",
        "src_user_id",
        # asset and identity enrichment
        "dest_bunit",
        "dest_category",
        "dest_priority",
        "src_bunit",
        "src_category",
        "src_priority",
        "tag",
        "user_bunit",
        "user_category",
        "user_priority",
        "cim_entity_zone",
        multivalue=("dest_category", "object_attrs", "src_category", "tag", "user_category"),
    ),
)

NODES: tuple[Node, ...] = (
    PROCESSES,
    FILESYSTEM,
    DNS,
    ALL_TRAFFIC,
    REGISTRY,
    SERVICES,
    WEB,
    AUTHENTICATION,
    ALL_CHANGES,
)

#: Root dataset of each data model, used when a search names only the model (`datamodel=Network_Resolution`).
ROOT_NODES: dict[str, Node] = {
    "Endpoint": PROCESSES,  # Endpoint has no root dataset of its own; Processes is its main one
    "Network_Resolution": DNS,
    "Network_Traffic": ALL_TRAFFIC,
    "Web": WEB,
    "Authentication": AUTHENTICATION,
    "Change": ALL_CHANGES,
}


class UnknownNodeError(KeyError):
    """A search named a data model or node tunnelhunt does not declare."""


def find_node(datamodel: str, node: str | None = None) -> Node:
    """Resolve `datamodel=X[.Y]` (case-insensitive, as Splunk resolves names) to a declared node."""
    if node is None and "." in datamodel:
        datamodel, node = datamodel.split(".", 1)
    for candidate in NODES:
        if candidate.datamodel.lower() != datamodel.lower():
            continue
        if node is None:
            root = ROOT_NODES.get(candidate.datamodel)
            if root is not None:
                return root
        elif candidate.name.lower() == node.lower():
            return candidate
    wanted = f"{datamodel}.{node}" if node else datamodel
    raise UnknownNodeError(wanted)


def node_by_table(table: str) -> Node:
    for candidate in NODES:
        if candidate.table == table:
            return candidate
    raise UnknownNodeError(table)
