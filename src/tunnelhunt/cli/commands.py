"""Which module declares which command, so that a run imports only the module of the command it runs.

Why: every command's module (and what each imports: tables, renderers, their options) cost a small hunt's
start-up (issue 20). `tunnelhunt hunt ...` imports `cli/hunt.py` only; anything else (`--help`, no
command, an option first, a mistyped name) imports them all, so the help lists every command and click
suggests the nearest name as before. A new command goes in `COMMANDS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

#: Command name → its module under `tunnelhunt.cli`, in the order the help lists them.
COMMANDS = {
    "compile": "compile", "detections": "detections", "events": "events", "findings": "findings",
    "generate": "generate", "hunt": "hunt", "report": "report", "risk": "risk", "run": "run",
    "search": "search", "serve": "serve", "test": "test", "validate": "validate", "watch": "watch",
}  # fmt: skip


def register(argv: Sequence[str] | None = None) -> None:
    """Import the module of the command `argv` starts with, or every command's module (argv None, or not
    starting with a command's name); each module registers its command on `cli.common.app`."""
    first = argv[0] if argv else None
    names = [first] if first in COMMANDS else list(COMMANDS)
    for name in names:
        importlib.import_module(f"tunnelhunt.cli.{COMMANDS[name]}")
