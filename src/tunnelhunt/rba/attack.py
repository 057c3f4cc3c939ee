"""MITRE ATT&CK techniques and tactics, offline, from the table shipped beside this module.

`attack.json` (built by `scripts/build_attack_table.py`) maps each Enterprise technique id to its name
and tactic ids. Risk events carry technique ids, names and their tactics the way Splunk ES annotates
them, and the 7-day incident rule counts distinct tactics per risk object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    tactic_ids: tuple[str, ...]
    revoked: bool = False


@dataclass(frozen=True)
class Annotation:
    """ATT&CK annotation of a detection: its techniques and the union of their tactics, in order."""

    technique_ids: tuple[str, ...]
    technique_names: tuple[str, ...]
    tactic_ids: tuple[str, ...]
    tactic_names: tuple[str, ...]
    unknown: tuple[str, ...] = ()


class AttackTable:
    """Lookup of technique ids (`T1572`, `T1003.001`) and tactic ids (`TA0011`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.source: str = data.get("source", "")
        self.tactics: dict[str, str] = dict(data["tactics"])
        self.techniques: dict[str, Technique] = {
            tid: Technique(tid, entry["name"], tuple(entry["tactics"]), bool(entry.get("revoked")))
            for tid, entry in data["techniques"].items()
        }

    def technique(self, technique_id: str) -> Technique | None:
        return self.techniques.get(technique_id.strip().upper())

    def annotate(self, technique_ids: Iterable[str]) -> Annotation:
        """Names and tactics of the given techniques; ids the table does not know are kept and listed."""
        ids: list[str] = []
        names: list[str] = []
        tactic_ids: dict[str, None] = {}
        unknown: list[str] = []
        for raw in technique_ids:
            technique = self.technique(raw)
            if technique is None:
                ids.append(raw)
                unknown.append(raw)
                continue
            ids.append(technique.id)
            names.append(technique.name)
            tactic_ids.update(dict.fromkeys(technique.tactic_ids))
        ordered = [t for t in self.tactics if t in tactic_ids]  # kill-chain order
        return Annotation(
            tuple(ids), tuple(names), tuple(ordered), tuple(self.tactics[t] for t in ordered), tuple(unknown)
        )


@lru_cache(maxsize=1)
def attack_table() -> AttackTable:
    """The shipped table, read once."""
    text = resources.files("tunnelhunt.rba").joinpath("attack.json").read_text(encoding="utf-8")
    return AttackTable(json.loads(text))
