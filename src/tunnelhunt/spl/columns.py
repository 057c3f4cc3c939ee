"""The kinds of values and the columns of results: what a caller of a compiled search reads about its output,
kept apart from the SQL conversions (`values.py`) so that running a compiled search needs no sqlglot."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    STR = "string"
    INT = "int"
    NUM = "number"
    TIME = "time"
    MV = "multivalue"
    BOOL = "boolean"
    NULL = "null"

    @property
    def numeric(self) -> bool:
        return self in (Kind.INT, Kind.NUM)


@dataclass(frozen=True)
class Column:
    """A field of the results at some point of the pipeline."""

    name: str
    kind: Kind = Kind.STR

    @property
    def multivalue(self) -> bool:
        return self.kind is Kind.MV

    @property
    def is_time(self) -> bool:
        return self.kind is Kind.TIME
