"""Sysmon events as bytes: XML escaping, one `%` template per EventID, the subjects events describe.

Why: generation runs once per event, so every static string (paths, command lines, metadata, host
names) is escaped and encoded once up front, and each event is a single bytes `%` substitution into a
per-host, per-EventID template (`EventLog`). Times are 100 ns ticks since the Unix epoch, as Windows
keeps them, rendered by `Clock` with the date part re-rendered only when the second changes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

TICKS = 10_000_000  # Windows time resolution: 100 ns ticks per second
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def xml_escape(text: str) -> str:
    """Escape text for element content and single- or double-quoted attribute values alike."""
    return text.translate(_ESCAPES)


def xml_bytes(text: str) -> bytes:
    """Escaped and UTF-8 encoded: events are assembled as bytes, so nothing is encoded per event."""
    return text.translate(_ESCAPES).encode()


#: EventID → (Version, EventData field names in Sysmon's order).
EVENT_FIELDS: dict[int, tuple[int, tuple[str, ...]]] = {
    1: (
        5,
        (
            "RuleName",
            "UtcTime",
            "ProcessGuid",
            "ProcessId",
            "Image",
            "FileVersion",
            "Description",
            "Product",
            "Company",
            "OriginalFileName",
            "CommandLine",
            "CurrentDirectory",
            "User",
            "LogonGuid",
            "LogonId",
            "TerminalSessionId",
            "IntegrityLevel",
            "Hashes",
            "ParentProcessGuid",
            "ParentProcessId",
            "ParentImage",
            "ParentCommandLine",
            "ParentUser",
        ),
    ),
    3: (
        5,
        (
            "RuleName",
            "UtcTime",
            "ProcessGuid",
            "ProcessId",
            "Image",
            "User",
            "Protocol",
            "Initiated",
            "SourceIsIpv6",
            "SourceIp",
            "SourceHostname",
            "SourcePort",
            "SourcePortName",
            "DestinationIsIpv6",
            "DestinationIp",
            "DestinationHostname",
            "DestinationPort",
            "DestinationPortName",
        ),
    ),
    5: (3, ("RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "User")),
    7: (
        3,
        (
            "RuleName",
            "UtcTime",
            "ProcessGuid",
            "ProcessId",
            "Image",
            "ImageLoaded",
            "FileVersion",
            "Description",
            "Product",
            "Company",
            "OriginalFileName",
            "Hashes",
            "Signed",
            "Signature",
            "SignatureStatus",
            "User",
        ),
    ),
    13: (
        2,
        ("RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetObject", "Details", "User"),
    ),
    11: (2, ("RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime", "User")),
    22: (
        5,
        (
            "RuleName",
            "UtcTime",
            "ProcessGuid",
            "ProcessId",
            "QueryName",
            "QueryStatus",
            "QueryResults",
            "Image",
            "User",
        ),
    ),
}


_NUMERIC = frozenset({"SourcePort", "DestinationPort"})


def _template(event_id: int, fixed: dict[str, str]) -> bytes:
    """A `%` template for one EventID on one host, its constants (already escaped) inlined.

    Left as `%s` (`%d` for numbers), in this order: SystemTime, EventRecordID, ThreadID, UserID unless
    fixed, then each EventData value not in `fixed`.
    """
    version, names = EVENT_FIELDS[event_id]

    def slot(name: str) -> str:
        if name in fixed:
            return fixed[name].replace("%", "%%")
        return "%d" if name in _NUMERIC else "%s"

    data = "".join(f"<Data Name='{name}'>{slot(name)}</Data>" for name in names)
    return (
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/>"
        f"<EventID>{event_id}</EventID><Version>{version}</Version><Level>4</Level><Task>{event_id}</Task>"
        "<Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='%sZ'/>"
        f"<EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID='{slot('ProcessID')}' ThreadID='%s'/>"
        f"<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>{slot('Computer')}</Computer>"
        f"<Security UserID='{slot('UserID')}'/></System><EventData>{data}</EventData></Event>\n"
    ).encode()


def hashes(seed_text: str) -> str:
    """Sysmon's `Hashes` value with digests of the right length, stable for a given file."""
    data = seed_text.encode()
    return (
        f"SHA1={hashlib.sha1(data, usedforsecurity=False).hexdigest().upper()},"
        f"MD5={hashlib.md5(data, usedforsecurity=False).hexdigest().upper()},"
        f"SHA256={hashlib.sha256(data).hexdigest().upper()},"
        f"IMPHASH={hashlib.md5(b'imp:' + data, usedforsecurity=False).hexdigest().upper()}"
    )


class Image(NamedTuple):
    """An executable with its raw path and pre-escaped Sysmon metadata."""

    path: str
    path_e: bytes
    fv_e: bytes
    desc_e: bytes
    product_e: bytes
    company_e: bytes
    orig_e: bytes
    hashes: bytes


def make_image(path: str, meta: Sequence[str], hash_key: str | None = None) -> Image:
    """Build an Image; files with the same `hash_key` (one binary in several places) share hashes."""
    fv, desc, product, company, orig = (xml_bytes(value) for value in meta)
    key = hash_key or path.rsplit("\\", 1)[-1].lower()
    return Image(path, xml_bytes(path), fv, desc, product, company, orig, hashes(key).encode())


class Account(NamedTuple):
    """An account as one host sees it: its logon session decides LogonGuid/LogonId/TerminalSessionId."""

    name: str
    name_e: bytes
    sid: bytes
    logon_guid: bytes
    logon_id: bytes
    session: bytes
    interactive: bool


class Variant(NamedTuple):
    """A profile bound to one account on one host, every string already expanded and escaped."""

    key: str  # image key (`chrome`, `cmd`, ...)
    image: Image
    account: Account
    commands: tuple[tuple[str, bytes], ...]  # (raw, escaped)
    cwd_e: bytes
    integrity: bytes
    parents: tuple[str, ...]
    dns: tuple[tuple[bytes, bytes, bytes], ...]  # (query escaped, status, results escaped)
    connects: tuple[tuple[bytes, bytes, int, bytes], ...]  # (ip, hostname escaped, port, port name)
    files: tuple[tuple[bytes, bytes], ...]  # escaped text before and after the random token


class Proc(NamedTuple):
    """A running process: raw values for the ground truth, escaped ones for the XML."""

    guid: bytes
    pid: bytes
    image: Image
    account: Account
    cmd: str
    cmd_e: bytes
    cwd_e: bytes
    integrity: bytes
    variant: Variant | None
    key: str  # image key (`chrome`, `cmd`, ...) used to find parents


class Clock:
    """Tick → (`SystemTime`, `UtcTime`) bytes, re-rendering the date part only when the second changes."""

    def __init__(self) -> None:
        self._second = -1
        self._iso = b""
        self._utc = b""

    def __call__(self, ticks: int) -> tuple[bytes, bytes]:
        second, frac = divmod(ticks, TICKS)
        if second != self._second:
            self._second = second
            self._iso = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)).encode()
            self._utc = self._iso.replace(b"T", b" ")
        digits = b"%07d" % frac
        return self._iso + digits, self._utc + digits[:3]


def to_ticks(moment: datetime) -> int:
    """A datetime (naive means UTC) as 100 ns ticks since the Unix epoch, exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1) * 10


def iso(ticks: int) -> str:
    """ISO 8601 UTC with microseconds: the event time as the normaliser reads `SystemTime`."""
    moment = EPOCH + timedelta(microseconds=ticks // 10)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventLog:
    """One host's Sysmon channel: its record counter, thread ids and templates with the host's constants inlined.

    The renderers take values already escaped and times already rendered; `rnd` draws the ephemeral
    source port of each connection when it is rendered.
    """

    def __init__(
        self, name_e: str, ip: str, sysmon_pid: str, threads: tuple[bytes, ...], record: int, rnd: Callable[[], float]
    ) -> None:
        self.threads = threads
        self.record = record
        self.rnd = rnd
        base = {"Computer": name_e, "ProcessID": sysmon_pid, "RuleName": "-"}
        system = {**base, "UserID": "S-1-5-18"}
        self.t1 = _template(1, base)
        self.t3 = _template(
            3,
            {
                **system,
                "Protocol": "tcp",
                "Initiated": "true",
                "SourceIsIpv6": "false",
                "SourceIp": ip,
                "SourceHostname": name_e,
                "SourcePortName": "-",
                "DestinationIsIpv6": "false",
            },
        )
        #: a connection whose source is not the host's address (a loopback relay: 127.0.0.1 -> 127.0.0.2:3389)
        self.t3_from = _template(
            3,
            {**system, "Protocol": "tcp", "Initiated": "true", "SourceIsIpv6": "false", "SourcePortName": "-",
             "DestinationIsIpv6": "false"},
        )  # fmt: skip
        self.t5 = _template(5, system)
        signed = {"Signed": "true", "Signature": "Microsoft Windows", "SignatureStatus": "Valid"}
        self.t7 = _template(7, {**system, **signed})
        self.t11 = _template(11, system)
        self.t22 = _template(22, system)
        self.t13 = _template(13, {**system, "EventType": "SetValue"})

    def _head(self, stamp: bytes, utc: bytes, proc: Proc) -> tuple[object, ...]:
        """What every template but EID 1's starts with (time, record number, thread, UtcTime, the
        process's guid and pid); each event takes the next record number."""
        self.record += 1
        record = self.record
        return (stamp, record, self.threads[record & 3], utc, proc.guid, proc.pid)

    def create(self, stamp: bytes, utc: bytes, proc: Proc, parent: Proc) -> bytes:
        """EID 1 ProcessCreate; Security/@UserID carries the new process's user SID."""
        self.record += 1
        record = self.record
        img, acct = proc.image, proc.account
        return self.t1 % (
            stamp,
            record,
            self.threads[record & 3],
            acct.sid,
            utc,
            proc.guid,
            proc.pid,
            img.path_e,
            img.fv_e,
            img.desc_e,
            img.product_e,
            img.company_e,
            img.orig_e,
            proc.cmd_e,
            proc.cwd_e,
            acct.name_e,
            acct.logon_guid,
            acct.logon_id,
            acct.session,
            proc.integrity,
            img.hashes,
            parent.guid,
            parent.pid,
            parent.image.path_e,
            parent.cmd_e,
            parent.account.name_e,
        )

    def terminate(self, stamp: bytes, utc: bytes, proc: Proc) -> bytes:
        """EID 5 ProcessTerminate."""
        return self.t5 % (*self._head(stamp, utc, proc), proc.image.path_e, proc.account.name_e)

    def network(self, stamp: bytes, utc: bytes, proc: Proc, target: tuple[bytes, bytes, int, bytes]) -> bytes:
        """EID 3 NetworkConnect, outbound TCP from an ephemeral port."""
        return self.t3 % (
            *self._head(stamp, utc, proc),
            proc.image.path_e,
            proc.account.name_e,
            49152 + int(self.rnd() * 16000),
            *target,
        )

    def network_from(
        self, stamp: bytes, utc: bytes, proc: Proc, source: tuple[bytes, bytes], target: tuple[bytes, bytes, int, bytes]
    ) -> bytes:
        """EID 3 NetworkConnect from a given (SourceIp, SourceHostname), e.g. a loopback address."""
        return self.t3_from % (
            *self._head(stamp, utc, proc),
            proc.image.path_e,
            proc.account.name_e,
            *source,
            49152 + int(self.rnd() * 16000),
            *target,
        )

    def registry(self, stamp: bytes, utc: bytes, proc: Proc, target_e: bytes, details_e: bytes) -> bytes:
        """EID 13 RegistryEvent (Value Set): escaped TargetObject and Details."""
        return self.t13 % (*self._head(stamp, utc, proc), proc.image.path_e, target_e, details_e, proc.account.name_e)

    def image_load(self, stamp: bytes, utc: bytes, proc: Proc, dll: Image) -> bytes:
        """EID 7 ImageLoaded of a signed Windows DLL."""
        return self.t7 % (
            *self._head(stamp, utc, proc),
            proc.image.path_e,
            dll.path_e,
            dll.fv_e,
            dll.desc_e,
            dll.product_e,
            dll.company_e,
            dll.orig_e,
            dll.hashes,
            proc.account.name_e,
        )

    def file(self, stamp: bytes, utc: bytes, proc: Proc, target_e: bytes) -> bytes:
        """EID 11 FileCreate; CreationUtcTime is the event time."""
        return self.t11 % (*self._head(stamp, utc, proc), proc.image.path_e, target_e, utc, proc.account.name_e)

    def dns(self, stamp: bytes, utc: bytes, proc: Proc, query: tuple[bytes, bytes, bytes]) -> bytes:
        """EID 22 DnsQuery: (escaped QueryName, QueryStatus, escaped QueryResults)."""
        return self.t22 % (*self._head(stamp, utc, proc), *query, proc.image.path_e, proc.account.name_e)
