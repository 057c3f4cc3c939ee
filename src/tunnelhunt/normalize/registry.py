"""Which mapping normalises which source type."""

from __future__ import annotations

from tunnelhunt.normalize.mapping import SourceMapping
from tunnelhunt.normalize.windows import WINDOWS_EVENT

MAPPINGS: dict[str, SourceMapping] = {mapping.sourcetype: mapping for mapping in (WINDOWS_EVENT,)}


def mapping_for(sourcetype: str) -> SourceMapping:
    try:
        return MAPPINGS[sourcetype]
    except KeyError:
        raise KeyError(f"no CIM mapping for source type {sourcetype!r}") from None
