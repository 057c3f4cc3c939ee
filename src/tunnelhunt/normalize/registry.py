"""Which mapping normalises which source type (built-in presets, plus the user's mapping files)."""

from __future__ import annotations

from collections.abc import Iterable

from tunnelhunt.normalize import ecs, ocsf, suricata, windows, zeek
from tunnelhunt.normalize.mapping import SourceMapping

BUILT_IN: tuple[SourceMapping, ...] = (
    *windows.MAPPINGS,
    *zeek.MAPPINGS,
    *suricata.MAPPINGS,
    *ecs.MAPPINGS,
    *ocsf.MAPPINGS,
)
MAPPINGS: dict[str, SourceMapping] = {mapping.sourcetype: mapping for mapping in BUILT_IN}


class MappingRegistry:
    """Mappings by source type; a source type without one leaves its records unmapped."""

    def __init__(self, extra: Iterable[SourceMapping] = ()) -> None:
        self._mappings = dict(MAPPINGS)
        for mapping in extra:
            if mapping.sourcetype in MAPPINGS:
                raise ValueError(f"mapping name {mapping.sourcetype!r} is taken by a built-in preset")
            self._mappings[mapping.sourcetype] = mapping

    def get(self, sourcetype: str) -> SourceMapping | None:
        return self._mappings.get(sourcetype)


def mapping_for(sourcetype: str) -> SourceMapping:
    try:
        return MAPPINGS[sourcetype]
    except KeyError:
        raise KeyError(f"no CIM mapping for source type {sourcetype!r}") from None
