"""How each built-in format that has a module of its own is recognised from an input's head.

Apart from the readers because every input is sniffed against every format, while a format's reader
module (lxml for XML, the evtx parser, ...) is imported only when an input of that format is read
(`lazy.py`, issue 20). Each reader's `sniff` and `fits` are these functions: one definition of each.
"""

from __future__ import annotations

import re

from tunnelhunt.readers.lines import head_lines

#: The first bytes of an EVTX file.
EVTX_MAGIC = b"ElfFile\x00"
#: Where a Windows event element starts.
EVENT_START = re.compile(rb"<Event[\s>]")
WINDOWS_EVENT_NS = b"schemas.microsoft.com/win/2004/08/events"
#: A Sysmon for Linux line: a bare `<Event>` (no Windows namespace) that starts the line or follows a
#: syslog prefix, which holds no quote, brace, comma, tab or tag. So the same text inside a JSON value,
#: a CSV cell or a Windows event's data never makes its file look like Sysmon for Linux.
_SYSMON_LINUX_LINE = re.compile(rb"^[^\"'{},<\t\n]{0,200}<Event>[^\n]*Linux-Sysmon", re.MULTILINE)
#: The header of an auditd record.
AUDIT_HEADER = re.compile(r"^(?:node=(?P<node>\S+) )?type=(?P<type>\S+) msg=(?P<msg>audit\(\d+(?:\.\d+)?:\d+\)):\s?")


def evtx(head: bytes) -> bool:
    return head.startswith(EVTX_MAGIC)


def windows_xml(head: bytes) -> bool:
    """Windows event XML from its first line on (or on most of its first lines): an `<Event` inside
    a JSON value or a CSV cell does not make its file XML."""
    if not (EVENT_START.search(head[:4096]) and WINDOWS_EVENT_NS in head):
        return False
    lines = head_lines(head)
    tags = sum(1 for line in lines if line.startswith(b"<"))
    return bool(lines) and (lines[0].startswith(b"<") or 2 * tags > len(lines))


def sysmon_linux(head: bytes) -> bool:
    return _SYSMON_LINUX_LINE.search(head) is not None


def sysmon_linux_fits(head: bytes) -> bool:
    return b"<Event" in head or not head.strip()


def zeek(head: bytes) -> bool:
    return head.startswith(b"#separator") and b"#fields" in head


def zeek_fits(head: bytes) -> bool:
    return head.startswith(b"#separator") or not head.strip()


def linux_audit(head: bytes) -> bool:
    """Most of the first lines (the last one left out: the head's size may cut it) are auditd records."""
    lines = [line for line in head.split(b"\n")[:20] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last may be cut short by the head's size
    text = [line.decode("utf-8", "replace") for line in lines]
    return bool(text) and sum(1 for line in text if AUDIT_HEADER.match(line)) * 2 > len(text)


def linux_audit_fits(head: bytes) -> bool:
    return head.lstrip().startswith((b"type=", b"node=")) or not head.strip()
