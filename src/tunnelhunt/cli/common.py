"""The `tunnelhunt` typer application and what every command shares.

Each command lives in its own module and registers itself on `app`; lower layers raise typed
errors and this layer turns them into one line on stderr and an exit code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from tunnelhunt import __version__
from tunnelhunt.cli.exit_codes import HELP, ExitCode

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Hunt tunnelling tools (ngrok first) in your logs.",
    epilog=HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tunnelhunt {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Hunt tunnelling tools (ngrok first) in your logs."""


stderr = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrapped
#: `--output` of the commands that print rows (typer refuses any other value, exit code 2).
Output = Literal["table", "jsonl", "csv"]
SigmaOption = Annotated[list[Path] | None, typer.Option("--sigma", help="Sigma rule file or folder (repeatable).")]
OutputOption = Annotated[
    Output, typer.Option("--output", "-o", help="table (fitted to the terminal), or every column as jsonl or csv.")
]


#: Characters a terminal acts on instead of showing: C0 controls but tab and newline (ESC starts ANSI
#: and OSC sequences: colours, clear screen, window title, hyperlinks; CR and backspace overwrite),
#: DEL, C1 controls (0x9b is a one-byte CSI) and the bidirectional overrides that reorder text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(value: object) -> str:
    """Data (field values, paths, arguments, error messages) as inert terminal text: every control
    character shown as its escape (`\\x1b`), so a value cannot clear the screen or fake output."""
    return _CONTROL.sub(_visible, str(value))


def safe_markup(value: object) -> str:
    """Data to embed in a rich markup string: control characters shown, `[...]` printed literally."""
    return escape(terminal_text(value))


def plain(value: object, style: str = "") -> Text:
    """Data as a rich `Text`: never parsed as markup, control characters shown."""
    return Text(terminal_text(value), style=style)


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> typer.Exit:
    """Print one error line and return the Exit to raise (the message is data: printed literally)."""
    stderr.print(f"[red]error:[/red] {safe_markup(message)}")
    return typer.Exit(int(code))


OUTPUT_FORMATS = ("table", "jsonl", "csv")


def check_output(output: str) -> None:
    """Refuse an `--output` value no command can write."""
    if output not in OUTPUT_FORMATS:
        raise fail(f"--output must be table, jsonl or csv, not {output!r}")
