"""How many SigmaHQ rules of the folders beyond Windows convert and run, and why the others do not.

    PYTHONPATH=src python scripts/measure_sigma_logsources.py ../shared/datasets/sigma/rules

For each folder (`network`, `web`, `linux`, ...): the rules, those that convert under at least one logsource
mapping (by mapping), and the reasons of the rest grouped by logsource. Converting is what running needs:
a rule that converts binds and runs over the events table (`tests/e2e/test_sigma_logsources.py` runs them).
A Markdown table goes to stdout (the one in docs/sigma.md).
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from sigma.rule import SigmaRule

from tunnelhunt.sigma.compiler import SigmaCompileError, default_compiler
from tunnelhunt.sigma.rules import load_content

FOLDERS = ("network", "web", "application", "category", "cloud", "identity", "linux", "macos")


def logsource(rule: SigmaRule) -> str:
    found = rule.logsource
    parts = [
        f"{k}: {v}"
        for k, v in (("product", found.product), ("category", found.category), ("service", found.service))
        if v
    ]
    return ", ".join(parts) or "(none)"


def reason(error: str) -> str:
    """An error without its rule-specific detail (values), so rules group by cause."""
    if "maps to no events" in error:
        return "no mapping selects its events"
    return "; ".join(re.sub(r"^[a-z-]+: ", "", part) for part in error.split("; "))


def main(root: Path) -> None:
    compiler = default_compiler()
    print("| folder | rules | convert and run | by mapping | do not convert: logsource (count, reason) |")
    print("|---|---|---|---|---|")
    for folder in FOLDERS:
        content = load_content([root / folder])
        rules = [r for r in content.rules if isinstance(r, SigmaRule)]
        mapped: Counter[str] = Counter()
        failed: dict[tuple[str, str], int] = defaultdict(int)
        converted = 0
        for rule in rules:
            try:
                names = {name for name, _ in compiler.mapped(rule)}
            except (SigmaCompileError, Exception) as exc:  # noqa: BLE001 (any refusal is a reason to count)
                failed[(logsource(rule), reason(str(exc)))] += 1
                continue
            converted += 1
            mapped.update(names)
        causes = "; ".join(f"{ls} ({n}, {why})" for (ls, why), n in sorted(failed.items(), key=lambda kv: -kv[1]))
        by_mapping = ", ".join(f"{name} {n}" for name, n in mapped.most_common())
        print(f"| `{folder}` | {len(rules)} | {converted} | {by_mapping} | {causes} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/sigma/rules"))
