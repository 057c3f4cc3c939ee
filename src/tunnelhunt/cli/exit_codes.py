"""Process exit codes, documented in the README and in `tunnelhunt --help`; the worst condition of a run wins."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # bad arguments, unusable content or database
    USAGE = 2  # the command line itself is malformed (click's own code)
    QUARANTINED = 3  # some records could not be read and were quarantined
    FILE_UNREADABLE = 4  # a whole file could not be read (the others were processed)
    DETECTION_FAILED = 5  # a detection could not be loaded, compiled or run
    DELIVERY_FAILED = 6  # risk events or findings could not be delivered to a sink (they wait in the spool)
    INTERRUPTED = 130  # Ctrl-C


#: When several conditions hold, the first of these that does is the exit code.
PRIORITY = (ExitCode.FILE_UNREADABLE, ExitCode.DETECTION_FAILED, ExitCode.DELIVERY_FAILED, ExitCode.QUARANTINED)

#: The table `--help` shows (the README's "Exit codes" section says the same).
HELP = (
    "Exit codes: 0 all went well; 1 unusable options, content or database; 2 malformed command line; "
    "3 some records quarantined; 4 a whole file unreadable; 5 a detection could not be loaded, compiled "
    "or run; 6 a sink could not take the risk events or findings (spooled); 130 interrupted. "
    "When several apply: 4, then 5, then 6, then 3."
)


def worst(codes: set[ExitCode]) -> ExitCode:
    """The exit code of a run in which every condition of `codes` held."""
    return next((code for code in PRIORITY if code in codes), ExitCode.OK)
