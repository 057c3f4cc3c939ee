"""The Windows Security and Remote Desktop channels of the estate: logons, RDP authentications, WFP connections.

Why: an RDP session carried through a tunnel shows in the Security log (4624 logon type 10 from 127.0.0.1,
5156 loopback connections to 3389) and in TerminalServices-RemoteConnectionManager (1149 from loopback),
not in Sysmon. These events go to their own file (`windows-security.log`), as the channels are collected
apart, with a background of the ordinary logons and connections every host records: console logons and
unlocks that Windows also stamps with 127.0.0.1, network logons from other hosts, RDP from the admin's
workstation, outbound connections.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tunnelhunt.generate.sysmon.catalogue import HOSTS
from tunnelhunt.generate.sysmon.events import Account, xml_bytes

SECURITY_NAME = "windows-security.log"
_SECURITY_PROVIDER = (
    "<Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>"
)
_RCM = "Microsoft-Windows-TerminalServices-RemoteConnectionManager"
_RCM_PROVIDER = f"<Provider Name='{_RCM}' Guid='{{c76baa63-ae81-421c-b425-340b4b24157f}}'/>"
#: 4624's logon process and package by logon type.
_LOGON_KIND = {2: ("User32 ", "Negotiate"), 3: ("NtLmSsp ", "NTLM"), 5: ("Advapi  ", "Negotiate"),
               7: ("User32 ", "Negotiate"), 10: ("User32 ", "Negotiate"), 11: ("User32 ", "Negotiate")}  # fmt: skip
_LAYER = "%%14611"  # ALE Connect v4


def _system(provider: str, event_id: int, version: int, channel: str, computer: bytes) -> bytes:
    """An Event's System part up to its TimeCreated: `%s` slots for SystemTime, EventRecordID, UserID."""
    return (
        (
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            f"{provider}<EventID>{event_id}</EventID><Version>{version}</Version><Level>0</Level>"
            "<Task>12544</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords>"
            "<TimeCreated SystemTime='%sZ'/><EventRecordID>%d</EventRecordID><Correlation/>"
            f"<Execution ProcessID='716' ThreadID='%s'/><Channel>{channel}</Channel><Computer>"
        ).encode()
        + computer.replace(b"%", b"%%")
        + b"</Computer><Security UserID='%s'/></System>"
    )


def _data(names: tuple[str, ...]) -> bytes:
    return (
        "<EventData>" + "".join(f"<Data Name='{name}'>%s</Data>" for name in names) + "</EventData></Event>\n"
    ).encode()


_4624 = ("SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid",
         "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType", "LogonProcessName",
         "AuthenticationPackageName", "WorkstationName", "LogonGuid", "ProcessId", "ProcessName", "IpAddress",
         "IpPort", "ImpersonationLevel", "ElevatedToken")  # fmt: skip
_5156 = ("ProcessID", "Application", "Direction", "SourceAddress", "SourcePort", "DestAddress", "DestPort",
         "Protocol", "FilterRTID", "LayerName", "LayerRTID", "RemoteUserID", "RemoteMachineID")  # fmt: skip


class SecurityLog:
    """One host's Security and RemoteConnectionManager channels: record counters and templates."""

    def __init__(self, name: str, ip: str, machine_account: str, rng: random.Random) -> None:
        computer = xml_bytes(name)
        self.ip = ip.encode()
        self.machine = xml_bytes(machine_account)
        self.threads = tuple(str(4 * rng.randint(200, 2000)).encode() for _ in range(4))
        self.record = rng.randint(100_000, 9_000_000)
        self.rcm_record = rng.randint(100, 5_000)
        self.rnd = rng.random
        self.t4624 = _system(_SECURITY_PROVIDER, 4624, 2, "Security", computer) + _data(_4624)
        self.t5156 = _system(_SECURITY_PROVIDER, 5156, 1, "Security", computer) + _data(_5156)
        self.t1149 = _system(_RCM_PROVIDER, 1149, 0, f"{_RCM}/Operational", computer) + (
            b"<UserData><EventXML xmlns='Event_NS'><Param1>%s</Param1><Param2>%s</Param2><Param3>%s</Param3>"
            b"</EventXML></UserData></Event>\n"
        )

    def _next(self) -> tuple[int, bytes]:
        self.record += 1
        return self.record, self.threads[self.record & 3]

    def logon(self, stamp: bytes, utc: bytes, account: Account, logon_type: int, address: str) -> bytes:
        """4624 An account was successfully logged on; `address` is IpAddress (`-` for none)."""
        del utc  # the Security log has no UtcTime field
        record, thread = self._next()
        domain, _, user = account.name.rpartition("\\")
        process, package = _LOGON_KIND.get(logon_type, ("Advapi  ", "Negotiate"))
        remote = logon_type in (3, 10)
        return self.t4624 % (
            stamp, record, thread, b"S-1-5-18",
            b"S-1-5-18", self.machine, b"CORP", b"0x3e7", account.sid, xml_bytes(user), xml_bytes(domain),
            b"0x%x" % (0x100000 + int(self.rnd() * 0xEFFFFF)), str(logon_type).encode(), process.encode(),
            package.encode(), b"-" if remote else self.machine.rstrip(b"$"), b"{00000000-0000-0000-0000-000000000000}",
            b"0x0" if remote else b"0x2d4", b"-" if remote else b"C:\\Windows\\System32\\svchost.exe",
            xml_bytes(address),
            b"0" if address in ("-", "127.0.0.1", "::1") else b"%d" % (49152 + int(self.rnd() * 16000)),
            b"%%1833", b"%%1842" if logon_type == 10 else b"%%1843",
        )  # fmt: skip

    def rdp_authentication(self, stamp: bytes, utc: bytes, account: Account, address: str) -> bytes:
        """1149 Remote Desktop Services: User authentication succeeded (user, domain, source address)."""
        del utc
        self.rcm_record += 1
        domain, _, user = account.name.rpartition("\\")
        return self.t1149 % (
            stamp, self.rcm_record, self.threads[self.rcm_record & 3], b"S-1-5-20",
            xml_bytes(user), xml_bytes(domain), xml_bytes(address),
        )  # fmt: skip

    def connection(
        self, stamp: bytes, utc: bytes, pid: bytes, device_path: str, source: str, dest: str, port: int
    ) -> bytes:
        """5156 The Windows Filtering Platform has permitted a connection (outbound TCP)."""
        del utc
        record, thread = self._next()
        return self.t5156 % (
            stamp, record, thread, b"S-1-5-18",
            pid, xml_bytes(device_path), b"%%14593", source.encode(), b"%d" % (49152 + int(self.rnd() * 16000)),
            dest.encode(), b"%d" % port, b"6", b"%d" % (60000 + int(self.rnd() * 9000)), _LAYER.encode(), b"48",
            b"S-1-0-0", b"S-1-0-0",
        )  # fmt: skip


def device_path(path: str) -> str:
    """An image path as WFP writes it: `\\device\\harddiskvolume3\\...`, lower case."""
    return ("\\device\\harddiskvolume3" + path.split(":", 1)[-1]).lower()


@dataclass
class _Subject:
    """What one host's background can log: its channel, accounts, and the addresses that reach it."""

    log: SecurityLog
    user: Account
    system: Account
    server: bool


class SecurityBackground:
    """The ordinary Security traffic of the estate, drawn per event like Sysmon's background."""

    def __init__(self, subjects: list[tuple[SecurityLog, Account, Account, bool]], rng: random.Random) -> None:
        self.subjects = [_Subject(*subject) for subject in subjects]
        self.rnd = rng.random
        self.peers = [ip for _, ip, *_ in HOSTS]
        self.admin_ip = next(ip for name, ip, role, *_ in HOSTS if role == "wks")

    def _subject(self) -> _Subject:
        return self.subjects[int(self.rnd() * len(self.subjects))]

    def console_logon(self, stamp: bytes, utc: bytes) -> bytes:
        """Console logons and unlocks (types 2, 7, 11): Windows records them from 127.0.0.1."""
        subject = self._subject()
        return subject.log.logon(stamp, utc, subject.user, (2, 7, 7, 11)[int(self.rnd() * 4)], "127.0.0.1")

    def network_logon(self, stamp: bytes, utc: bytes) -> bytes:
        """A network logon (type 3) from another host: file shares, management."""
        subject = self._subject()
        return subject.log.logon(stamp, utc, subject.user, 3, self.peers[int(self.rnd() * len(self.peers))])

    def service_logon(self, stamp: bytes, utc: bytes) -> bytes:
        """A service starting under SYSTEM (type 5), no address."""
        subject = self._subject()
        return subject.log.logon(stamp, utc, subject.system, 5, "-")

    def rdp_logon(self, stamp: bytes, utc: bytes) -> bytes:
        """Remote Desktop to a server from the admin's workstation: type 10 and 1149 from a real address."""
        subject = self._subject()
        if not subject.server:
            return self.network_logon(stamp, utc)
        if self.rnd() < 0.5:
            return subject.log.rdp_authentication(stamp, utc, subject.user, self.admin_ip)
        return subject.log.logon(stamp, utc, subject.user, 10, self.admin_ip)

    def connection(self, stamp: bytes, utc: bytes) -> bytes:
        """An outbound connection from the host's address: LDAP, SMB, Kerberos, HTTPS."""
        subject = self._subject()
        port = (389, 445, 88, 443, 443, 135)[int(self.rnd() * 6)]
        image = "C:\\Windows\\System32\\lsass.exe" if port in (389, 88) else "C:\\Windows\\System32\\svchost.exe"
        dest = self.peers[int(self.rnd() * len(self.peers))] if port != 443 else f"20.190.160.{int(self.rnd() * 250)}"
        return subject.log.connection(stamp, utc, b"%d" % (4 * int(150 + self.rnd() * 2000)), device_path(image),
                                      subject.log.ip.decode(), dest, port)  # fmt: skip

    def table(self) -> list[Callable[[bytes, bytes], bytes]]:
        """100 slots weighted like a Security log with logon and WFP auditing on."""
        mix = (
            (self.connection, 40),
            (self.network_logon, 25),
            (self.service_logon, 15),
            (self.console_logon, 12),
            (self.rdp_logon, 8),
        )
        return [fn for fn, weight in mix for _ in range(weight)]
