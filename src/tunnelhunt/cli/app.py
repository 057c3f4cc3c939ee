"""Entry point: the command line of the command that runs (`commands.py`) on the shared typer app."""

from __future__ import annotations

import sys
from typing import Any

from tunnelhunt.collector import no_collection

with no_collection():  # the command line's modules (typer, rich): see `collector.py`
    from rich.markup import escape

    from tunnelhunt.cli.common import stderr
    from tunnelhunt.cli.exit_codes import ExitCode
    from tunnelhunt.cli.words import command
    from tunnelhunt.errors import TunnelhuntError


def __getattr__(name: str) -> Any:
    """`app` with every command registered (tests invoke it); a run registers only its own (`main`)."""
    if name == "app":
        from tunnelhunt.cli.commands import register
        from tunnelhunt.cli.common import app

        with no_collection():
            register()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: typer's own errors keep their codes; anything unexpected is one line, not a traceback."""
    try:
        with no_collection():  # the command's module and its imports
            group = command(sys.argv[1:])
        group(standalone_mode=True, prog_name="tunnelhunt")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except TunnelhuntError as exc:  # an action's typed error a command did not render itself
        stderr.print(f"[red]error:[/red] {escape(str(exc))}")
        sys.exit(int(ExitCode.ERROR))
    except Exception as exc:  # a bug: one line, not a traceback (the only broad catch, at the very edge)
        stderr.print(f"[red]internal error:[/red] {escape(f'{type(exc).__name__}: {exc}')}")
        sys.exit(int(ExitCode.ERROR))


if __name__ == "__main__":
    main()
