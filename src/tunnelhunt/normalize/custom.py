"""User mapping files: map any JSON lines or CSV export onto the CIM without writing code.

```yaml
name: acme_edr                   # format and source type name (letters, digits, _ and -)
match: [event_kind, cmd]         # optional: fields that identify this export when sniffing
nodes:
  - node: Endpoint.Processes
    when: {event_kind: [process_start, exec]}   # optional: field equals one of (case-insensitive)
    time: ts                     # ISO-8601 (any offset), epoch seconds or epoch milliseconds
    fields:
      process: cmd               # a field name (dotted for nested JSON: proc.cmdline)
      process_name: {basename: image}
      dest: host
      vendor_product: {value: ACME EDR}
```

The file is compiled into the same declarative `SourceMapping` the built-in presets use, with
field names quoted and values passed as SQL string literals: a mapping file cannot inject SQL.
Nodes are made disjoint in file order (a record goes to the first node whose `when` holds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tunnelhunt.cim import UnknownNodeError, find_node
from tunnelhunt.errors import TunnelhuntError
from tunnelhunt.normalize.mapping import (
    NodeMapping,
    SourceMapping,
    as_list,
    basename,
    col,
    dotted_sources,
    event_time,
    lower_in,
    sql_string,
)

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_FIELD = re.compile(r"^[^\x00-\x1f]{1,200}$")


class MappingError(TunnelhuntError):
    """A mapping file that cannot be used, with the file and the reason."""


class _NodeSpec(BaseModel):
    #: defer_build: the schema is built on the first `--mapping` file, not by every run that imports this module
    model_config = ConfigDict(extra="forbid", defer_build=True)

    node: str
    when: dict[str, str | list[str]] = Field(default_factory=dict)
    time: str
    fields: dict[str, str | dict[str, str]]


class _MappingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str
    match: list[str] = Field(default_factory=list)
    nodes: list[_NodeSpec] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("name must start with a letter and hold only letters, digits, _ and -")
        return value


@dataclass(frozen=True)
class CustomMapping:
    """A compiled user mapping: how to recognise its files and how to map them (JSON and CSV)."""

    name: str
    match: tuple[str, ...]
    json: SourceMapping
    csv: SourceMapping

    @property
    def csv_sourcetype(self) -> str:
        return self.csv.sourcetype


def _field_name(value: str, where: str) -> str:
    if not _FIELD.match(value):
        raise MappingError(f"{where}: {value!r} is not a usable field name")
    return value


def _expression(spec: str | dict[str, str], multivalue: bool, where: str, used: set[str]) -> str:
    if isinstance(spec, str):
        used.add(_field_name(spec, where))
        return as_list(col(spec)) if multivalue else col(spec)
    if len(spec) != 1:
        raise MappingError(f"{where}: give one of a field name, {{basename: field}} or {{value: text}}")
    (kind, argument), *_ = spec.items()
    if kind == "value":
        literal = sql_string(str(argument))
        return f"[{literal}]" if multivalue else literal
    if kind == "basename":
        used.add(_field_name(argument, where))
        return basename(col(argument))
    if kind == "list":
        used.add(_field_name(argument, where))
        return as_list(col(argument))
    raise MappingError(f"{where}: unknown transform {kind!r} (use basename, value or list)")


def compile_mapping(data: Any, origin: str = "<mapping>") -> CustomMapping:
    """Validate a parsed mapping document and compile it; raises MappingError."""
    try:
        spec = _MappingSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise MappingError(f"{origin}: {problems}") from None
    used: set[str] = set(_field_name(f, f"{origin} match") for f in spec.match)
    nodes: list[NodeMapping] = []
    earlier: list[str] = []
    for index, node_spec in enumerate(spec.nodes):
        where = f"{origin} nodes[{index}]"
        try:
            node = find_node(node_spec.node)
        except UnknownNodeError:
            raise MappingError(f"{where}: unknown data model node {node_spec.node!r}") from None
        conditions = []
        for field_name, wanted in node_spec.when.items():
            used.add(_field_name(field_name, where))
            values = [wanted] if isinstance(wanted, str) else wanted
            conditions.append(lower_in(col(field_name), *values))
        own = " AND ".join(conditions) or "TRUE"
        predicate = " AND ".join([own, *(f"NOT ({e})" for e in earlier)])
        earlier.append(own)
        fields: dict[str, str] = {}
        for cim_name, source in node_spec.fields.items():
            target = node.field(cim_name)
            if target is None:
                known = ", ".join(f.name for f in node.fields)
                raise MappingError(f"{where}: {node.qualified_name} has no field {cim_name!r} (fields: {known})")
            fields[cim_name] = _expression(source, target.multivalue, f"{where} fields.{cim_name}", used)
        used.add(_field_name(node_spec.time, where))
        nodes.append(NodeMapping(node=node, where=predicate, time=event_time(col(node_spec.time)), fields=fields))
    columns = tuple(sorted(used))
    return CustomMapping(
        name=spec.name,
        match=tuple(spec.match),
        json=SourceMapping(spec.name, columns, tuple(nodes), dotted_sources(columns)),
        csv=SourceMapping(f"{spec.name}:csv", columns, tuple(nodes)),
    )


def load_mapping(path: Path) -> CustomMapping:
    """Read and compile a YAML mapping file."""
    import yaml  # only with a mapping file (`--mapping`)

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from None
    return compile_mapping(data, str(path))
