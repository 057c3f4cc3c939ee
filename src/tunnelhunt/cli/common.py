"""The `tunnelhunt` typer application and what every command shares.

Each command lives in its own module and registers itself on `app`; lower layers raise typed
errors and this layer turns them into one line on stderr and an exit code.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from tunnelhunt.cli.exit_codes import ExitCode

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Hunt tunnelling tools (ngrok first) in your logs.")
stderr = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrapped
#: `--output` of the commands that print rows; `check_output` validates it.
OutputOption = Annotated[str, typer.Option("--output", "-o", help="table, jsonl or csv.")]


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> typer.Exit:
    """Print one error line and return the Exit to raise."""
    stderr.print(f"[red]error:[/red] {message}")
    return typer.Exit(int(code))


OUTPUT_FORMATS = ("table", "jsonl", "csv")


def check_output(output: str) -> None:
    """Refuse an `--output` value no command can write."""
    if output not in OUTPUT_FORMATS:
        raise fail(f"--output must be table, jsonl or csv, not {output!r}")
