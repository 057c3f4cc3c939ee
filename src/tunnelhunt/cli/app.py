"""Entry point: registers every command module on the shared typer app."""

from __future__ import annotations

import sys

from tunnelhunt.cli import (  # noqa: F401  (each module registers its command)
    compile,
    findings,
    generate,
    hunt,
    risk,
    run,
    test,
    validate,
    watch,
)
from tunnelhunt.cli.common import app, stderr
from tunnelhunt.cli.exit_codes import ExitCode


def main() -> None:
    """Entry point: typer's own errors keep their codes; anything unexpected is one line, not a traceback."""
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # last line of defence: no traceback reaches the user
        stderr.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}")
        sys.exit(int(ExitCode.ERROR))


if __name__ == "__main__":
    main()
