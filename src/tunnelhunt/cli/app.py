"""Entry point: registers every command module on the shared typer app."""

from __future__ import annotations

import sys

from tunnelhunt.collector import no_collection

with no_collection():  # the command line's modules (typer, rich): see `collector.py`
    from rich.markup import escape

    from tunnelhunt.cli import (  # noqa: F401  (each module registers its command)
        compile,
        detections,
        events,
        findings,
        generate,
        hunt,
        report,
        risk,
        run,
        search,
        serve,
        test,
        validate,
        watch,
    )
    from tunnelhunt.cli.common import app, stderr  # noqa: F401  (tests invoke `app`)
    from tunnelhunt.cli.exit_codes import ExitCode
    from tunnelhunt.cli.words import command
    from tunnelhunt.errors import TunnelhuntError


def main() -> None:
    """Entry point: typer's own errors keep their codes; anything unexpected is one line, not a traceback."""
    try:
        command()(standalone_mode=True, prog_name="tunnelhunt")
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
