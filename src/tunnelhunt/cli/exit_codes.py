"""Process exit codes, documented in the README; the worst condition of a run wins."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # bad arguments, unusable content or database
    QUARANTINED = 3  # some records could not be read and were quarantined
    FILE_UNREADABLE = 4  # a whole file could not be read (the others were processed)
    DETECTION_FAILED = 5  # a detection could not be compiled or run
