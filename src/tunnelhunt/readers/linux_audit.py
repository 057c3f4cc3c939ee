"""Linux auditd logs (`/var/log/audit/audit.log`) as Splunk's `linux:audit` source type.

Each line is `[node=HOST ]type=TYPE msg=audit(EPOCH:SERIAL): key=value ...`: `type`, `msg` (the
`audit(EPOCH:SERIAL)` stamp) and every key become fields. Values are decoded as `ausearch -i` does:
double or single quotes removed, and a value auditd wrote unquoted as a hex string (it does so for
untrusted strings holding spaces, quotes or control characters: `proctitle`, EXECVE arguments, `comm`,
`exe`, `cwd`, `name`...) turned back into text (NULs between `proctitle` arguments become spaces).
User-space records (`USER_LOGIN`, `USER_CMD`...) carry their own `msg='op=... acct=... res=...'`:
those inner pairs are fields too. Fields after the enriched format's GS separator (`AUID="root"`)
are kept by name. A line that does not start like an audit record is quarantined with its line number.
No data model takes these records: they are kept whole in the raw-event store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tunnelhunt.readers.base import START, OffsetKind, Position, RawBatch, Reader
from tunnelhunt.readers.line_records import parsed_lines
from tunnelhunt.readers.sniffing import AUDIT_HEADER as _HEADER
from tunnelhunt.readers.sniffing import linux_audit, linux_audit_fits
from tunnelhunt.readers.sources import Source

SOURCETYPE = "linux:audit"
_PAIR = re.compile(r"""([A-Za-z_][\w-]*(?:\[\d+\])?)=("[^"]*"|'[^']*'|[^\s"']*)""")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
#: Fields auditd writes as hex when their text is not plain (audit_log_untrustedstring and friends).
_UNTRUSTED = frozenset({"proctitle", "comm", "exe", "cwd", "name", "path", "key", "data", "cmd", "acct", "ocomm"})
_EXECVE_ARG = re.compile(r"^a\d+(?:\[\d+\])?$")
_GROUP_SEPARATOR = "\x1d"


def _decode(record_type: str, key: str, raw: str) -> str:
    """A value as text: quotes removed, unquoted hex of an untrusted string decoded."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    hexed = key in _UNTRUSTED or (record_type == "EXECVE" and _EXECVE_ARG.match(key) is not None)
    if hexed and _HEX.match(raw):
        text = bytes.fromhex(raw).decode("utf-8", "replace")
        return text.replace("\x00", " ").strip() if key == "proctitle" else text
    return raw


def _add(row: dict[str, str | None], key: str, value: str) -> None:
    """A repeated key becomes a multivalue field (values joined by newline)."""
    existing = row.get(key)
    row[key] = value if existing is None else f"{existing}\n{value}"


def parse_audit_line(line: str) -> dict[str, str | None]:
    """The fields of one audit record; raises ValueError with a reason when it is not one."""
    header = _HEADER.match(line)
    if header is None:
        raise ValueError("not an auditd record (expected 'type=... msg=audit(EPOCH:SERIAL): ...')")
    record_type = header.group("type")
    row: dict[str, str | None] = {}
    if header.group("node"):
        row["node"] = header.group("node")
    row["type"] = record_type
    row["msg"] = header.group("msg")
    body, _, enriched = line[header.end() :].partition(_GROUP_SEPARATOR)
    for text in (body, enriched):
        for key, raw in _PAIR.findall(text):
            if key == "msg" and raw.startswith("'"):
                for inner_key, inner_raw in _PAIR.findall(raw[1:-1]):
                    _add(row, inner_key, _decode(record_type, inner_key, inner_raw))
                continue
            _add(row, key, _decode(record_type, key, raw))
    return row


class LinuxAuditReader(Reader):
    """Reads auditd logs; `_offset` is the line number."""

    format_name = "linux-audit"
    offset_kind: OffsetKind = "line"
    sourcetype = SOURCETYPE

    def sniff(self, head: bytes) -> bool:
        return linux_audit(head)

    def fits(self, head: bytes) -> bool:
        return linux_audit_fits(head)

    def fingerprint_region(self, head: bytes) -> bytes:
        return head

    def read(self, source: Source, start: Position = START, final: bool = True) -> Iterator[RawBatch]:
        return parsed_lines(source, start, final, self.sourcetype, parse_audit_line)
