"""Help in words: every option's value named (`FILE`, `TIME`, `FORMAT`), not typed (`<Path>`, `<bool>`).

typer shows a parameter's Python type unless it has a metavar; this gives each one a metavar from its
long name (or its type), lists an option's choices, and puts the exit codes under every command's help.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer

from tunnelhunt.cli.commands import register
from tunnelhunt.cli.exit_codes import HELP
from tunnelhunt.cli.values import convert_quickly

#: The value each option takes, by its long name.
METAVARS = {
    "--db": "FILE", "--out": "FILE", "--risk": "FILE", "--report": "FILE", "--quarantine": "FILE",
    "--rules": "FILE", "--junit": "FILE", "--mapping": "FILE", "--detections": "PATH", "--macros": "PATH",
    "--sigma": "PATH", "--lake": "DIR", "--spool": "DIR", "--in": "PATH", "--format": "FORMAT",
    "--at": "TIME", "--since": "TIME", "--until": "TIME", "--earliest": "TIME", "--latest": "TIME",
    "--clock-start": "TIME", "--sink": "SPEC", "--hec-token": "TOKEN", "--hec-index": "INDEX", "--tz": "ZONE",
    "--object": "ENTITY", "--engine": "ENGINE", "--spark-master": "URL", "--include": "GLOB", "--exclude": "GLOB",
    "--dialect": "DIALECT", "--interval": "SECONDS", "--clock-speed": "FACTOR", "--min-score": "SCORE",
    "--sigma-regression": "DIR", "--seed": "N", "--events": "N", "--html": "FILE", "--host": "ADDRESS",
    "--port": "PORT", "--token": "TOKEN",
}  # fmt: skip
_BY_TYPE = {"int": "N", "float": "NUMBER", "Path": "PATH", "str": "TEXT"}


def _words(param: Any) -> None:
    if isinstance(param, typer.core.TyperArgument):
        name = (param.name or "value").upper()
        param.metavar = param.metavar or (name.removesuffix("S") if param.nargs != 1 else name)  # [PATH]...
        param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]  # the name says it all
        return
    if getattr(param, "is_flag", False):
        param.metavar = ""
        return
    if param.type_descriptor.is_choice:
        return  # typer lists the choices: <table|jsonl|csv>
    long = next((o for o in param.opts if o.startswith("--")), "")
    param.metavar = METAVARS.get(long) or _BY_TYPE.get(param.bare_type().removeprefix("list[").rstrip("]"), "VALUE")


def command(argv: Sequence[str] | None = None) -> Any:
    """The `tunnelhunt` click command with every parameter named in words and exit codes in every help,
    its plain values converted without pydantic (`values.py`): with every command, or only the one `argv`
    runs (`commands.register`)."""
    from tunnelhunt.cli.common import app

    register(argv)

    group = typer.main.get_command(app)
    help_names = group.context_settings.get("help_option_names", ["--help"])
    for sub in [group, *getattr(group, "commands", {}).values()]:
        sub.epilog = sub.epilog or HELP
        for param in sub.params:
            _words(param)
        convert_quickly(sub, help_names)
    return group
