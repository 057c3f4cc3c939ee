"""Declarative source-type → CIM mappings.

A mapping is data: for each data-model node, a SQL predicate choosing the raw records that belong
to it and one SQL expression per CIM field. DuckDB evaluates them over a whole Arrow batch at once,
so normalisation does no per-record Python work.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunnelhunt.cim import Node


@dataclass(frozen=True)
class NodeMapping:
    """How raw records of one source type become rows of one data-model node."""

    node: Node
    where: str
    time: str
    fields: dict[str, str]


@dataclass(frozen=True)
class SourceMapping:
    """All node mappings of a source type, and the raw columns its expressions read."""

    sourcetype: str
    raw_columns: tuple[str, ...]
    nodes: tuple[NodeMapping, ...]


#: SQL helpers shared by mappings (plain string templates over a raw column expression).
def basename(column: str) -> str:
    """File name of a Windows or POSIX path, as the Splunk add-ons derive `process_name`."""
    return rf"regexp_extract({column}, '[^\\/]+$')"


def windows_system_time(column: str) -> str:
    """`TimeCreated/@SystemTime` (7 fractional digits, `Z`) as a UTC TIMESTAMP, NULL when invalid."""
    return rf"TRY_CAST(regexp_replace(regexp_replace({column}, '(\.\d{{1,6}})\d*', '\1'), '[Zz]$', '') AS TIMESTAMP)"
