"""The simulated estate: hosts with their accounts and live processes, and the background they produce.

Why: background events must be plausible together (a DNS lookup comes from a process that is
running and resolves that kind of name, a process starts under a parent that is alive), or a
detection could pass on data no real host would produce. `Sysmon` keeps that state; each event it
renders goes through the host's `EventLog`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tunnelhunt.generate.sysmon.catalogue import (
    ACCOUNTS,
    DLLS,
    DOMAIN_GROUPS,
    DOMAIN_SUFFIX,
    DOMAINS,
    HOSTS,
    IMAGES,
    PORT_NAMES,
    PROFILES,
    REGISTRY_VALUES,
    WELL_KNOWN_LOGON,
    WIN,
    Profile,
)
from tunnelhunt.generate.sysmon.events import Account, EventLog, Proc, Variant, make_image, xml_bytes, xml_escape
from tunnelhunt.generate.sysmon.security import SecurityBackground, SecurityLog

MAX_SPAWNED = 60  # live short-lived processes kept per host


@dataclass
class Host:
    """One computer: its identity, its event log, its accounts and the processes alive on it."""

    name: str
    ip: str
    role: str
    guid_prefix: str
    log: EventLog
    security: SecurityLog
    accounts: dict[str, Account] = field(default_factory=dict)
    spawn_table: list[Variant] = field(default_factory=list)
    resident: list[Proc] = field(default_factory=list)  # running since before the window
    spawned: list[Proc] = field(default_factory=list)  # started in the window, may exit
    net: list[Proc] = field(default_factory=list)  # processes that resolve names and connect
    by_key: dict[str, list[Proc]] = field(default_factory=dict)
    guid_seq: int = 0

    def add(self, proc: Proc) -> None:
        """Track a process as alive, forgetting the oldest one when the pool is full."""
        self.spawned.append(proc)
        self.by_key.setdefault(proc.key, []).append(proc)
        if proc.variant is not None and proc.variant.dns:
            self.net.append(proc)
        if len(self.spawned) > MAX_SPAWNED:
            self.remove(self.spawned[0])

    def remove(self, proc: Proc) -> None:
        """Forget a process that exited."""
        self.spawned.remove(proc)
        self.by_key[proc.key].remove(proc)
        if proc in self.net:
            self.net.remove(proc)

    def resident_proc(self, key: str) -> Proc:
        """A process that runs all the time (explorer, services, ...), for parents and injected events."""
        return next(proc for proc in self.resident if proc.key == key)


class Sysmon:
    """Simulated Sysmon on every host: keeps process state and renders events as XML lines."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rnd = rng.random
        self.hosts = [self._host(*spec) for spec in HOSTS]
        self.host_table = [host for host, spec in zip(self.hosts, HOSTS, strict=True) for _ in range(spec[5])]
        self.host_count = len(self.host_table)
        self.by_name = {host.name.split(".")[0]: host for host in self.hosts}
        self.dll_images = [make_image(path, (fv, desc, *WIN[1:], orig)) for path, fv, desc, orig in DLLS]

    # --- setup ---------------------------------------------------------------------------------

    def _host(self, short: str, ip: str, role: str, user: str, service: str, _weight: int) -> Host:
        rng = self.rng
        name = short + DOMAIN_SUFFIX
        sysmon_pid = str(4 * rng.randint(400, 1200))
        threads = tuple(str(4 * rng.randint(500, 3000)).encode() for _ in range(4))
        guid_prefix = f"{rng.getrandbits(32):08x}"
        log = EventLog(xml_escape(name), ip, sysmon_pid, threads, rng.randint(10_000, 900_000), self.rnd)
        security = SecurityLog(name, ip, short.upper() + "$", random.Random(rng.getrandbits(64)))
        host = Host(name=name, ip=ip, role=role, guid_prefix=guid_prefix, log=log, security=security)
        for key in ("system", "local", "network", user, *([service] if service else [])):
            host.accounts[key] = self._account(host, key)
        host.accounts["user"] = host.accounts[user]
        for profile in PROFILES:
            if role not in profile.roles or profile.runs_as not in host.accounts:
                continue
            variant = self._variant(host, profile)
            if profile.weight == 0:
                host.resident.append(self._start(host, variant, rng.randrange(len(variant.commands))))
            host.spawn_table.extend([variant] * profile.weight)
        for proc in host.resident:
            host.by_key.setdefault(proc.key, []).append(proc)
            if proc.variant is not None and proc.variant.dns:
                host.net.append(proc)
        return host

    def _account(self, host: Host, key: str) -> Account:
        name, sid, kind = ACCOUNTS[key]
        logon_id = WELL_KNOWN_LOGON.get(key) or self.rng.randint(0x100000, 0xFFFFFF)
        words = self.rng.getrandbits(32)
        tail = logon_id.to_bytes(4, "little").hex()  # a LogonGuid ends with its LogonId, little-endian
        guid = f"{{{host.guid_prefix}-{words >> 16:04x}-{words & 0xFFFF:04x}-0000-0020{tail}}}"
        session = b"1" if kind == "user" else (b"2" if kind == "admin" else b"0")
        interactive = kind in ("user", "admin")
        return Account(
            name, xml_bytes(name), sid.encode(), guid.encode(), f"0x{logon_id:x}".encode(), session, interactive
        )

    def _variant(self, host: Host, profile: Profile) -> Variant:
        account = host.accounts[profile.runs_as]
        home = "C:\\Users\\" + account.name.rsplit("\\", 1)[-1]
        path, *meta = IMAGES[profile.image]
        expanded = (cmd.replace("{home}", home) for cmd in profile.commands)
        commands = tuple((cmd, xml_bytes(cmd)) for cmd in expanded)
        interactive = account.interactive
        names = dict.fromkeys(name for group in profile.domains for name in DOMAIN_GROUPS[group])
        dns = tuple(dns_query(name, DOMAINS[name][0]) for name in names)
        default_file = f"{home}\\AppData\\Local\\Temp\\*.tmp" if interactive else "C:\\Windows\\Temp\\*.tmp"
        files = tuple(split_token(pattern.replace("{home}", home)) for pattern in profile.files or (default_file,))
        return Variant(
            key=profile.image,
            image=make_image(path.replace("{home}", home), meta),
            account=account,
            commands=commands,
            cwd_e=xml_bytes(home + "\\" if interactive else "C:\\Windows\\system32\\"),
            integrity=profile.integrity.encode(),
            parents=profile.parents,
            dns=dns,
            connects=tuple(connect_target(name) for name in names if DOMAINS[name][0]),
            files=files,
        )

    def _start(self, host: Host, variant: Variant, command: int) -> Proc:
        raw, escaped = variant.commands[command]
        return Proc(
            self.new_guid(host),
            self.new_pid(),
            variant.image,
            variant.account,
            raw,
            escaped,
            variant.cwd_e,
            variant.integrity,
            variant,
            variant.key,
        )

    def new_guid(self, host: Host) -> bytes:
        """A ProcessGuid in Sysmon's shape: machine prefix, start-time words, a per-host sequence."""
        host.guid_seq += 1
        bits = self.rng.getrandbits(48)
        return b"{%s-%04x-%04x-%04x-%012x}" % (
            host.guid_prefix.encode(),
            bits >> 32,
            (bits >> 16) & 0xFFFF,
            bits & 0xFFFF,
            host.guid_seq,
        )

    def new_pid(self) -> bytes:
        """Windows PIDs are multiples of four."""
        return b"%d" % (4 * int(300 + self.rnd() * 9000))

    # --- background: pick a host and a plausible subject, then render ------------------------------

    def bg_create(self, stamp: bytes, utc: bytes) -> bytes:
        """A process starts, under a parent that is alive (or the usual resident one)."""
        rnd = self.rnd
        host = self.host_table[int(rnd() * self.host_count)]
        table = host.spawn_table
        variant = table[int(rnd() * len(table))]
        parents = host.by_key.get(variant.parents[int(rnd() * len(variant.parents))]) if variant.parents else None
        if parents:
            parent = parents[int(rnd() * len(parents))]
        else:
            parent = host.resident_proc("explorer" if variant.account.interactive else "services")
        proc = self._start(host, variant, int(rnd() * len(variant.commands)))
        host.add(proc)
        return host.log.create(stamp, utc, proc, parent)

    def bg_terminate(self, stamp: bytes, utc: bytes) -> bytes:
        """A process started in the window exits (or, if none is left, another starts)."""
        host = self.host_table[int(self.rnd() * self.host_count)]
        if not host.spawned:
            return self.bg_create(stamp, utc)
        proc = host.spawned[int(self.rnd() ** 2 * len(host.spawned))]  # older processes exit sooner
        host.remove(proc)
        return host.log.terminate(stamp, utc, proc)

    def bg_dns(self, stamp: bytes, utc: bytes) -> bytes:
        """A networked process resolves one of the names its kind of program uses."""
        rnd = self.rnd
        host = self.host_table[int(rnd() * self.host_count)]
        proc = host.net[int(rnd() * len(host.net))]
        names = proc.variant.dns  # type: ignore[union-attr]
        return host.log.dns(stamp, utc, proc, names[int(rnd() * len(names))])

    def bg_network(self, stamp: bytes, utc: bytes) -> bytes:
        """A networked process connects to one of the addresses its names resolve to."""
        rnd = self.rnd
        host = self.host_table[int(rnd() * self.host_count)]
        proc = host.net[int(rnd() * len(host.net))]
        targets = proc.variant.connects  # type: ignore[union-attr]
        return host.log.network(stamp, utc, proc, targets[int(rnd() * len(targets))])

    def _any_proc(self, host: Host) -> Proc:
        rnd = self.rnd
        pool = host.spawned if host.spawned and rnd() < 0.8 else host.resident
        return pool[int(rnd() * len(pool))]

    def bg_image_load(self, stamp: bytes, utc: bytes) -> bytes:
        """A process loads a system DLL."""
        host = self.host_table[int(self.rnd() * self.host_count)]
        dll = self.dll_images[int(self.rnd() * len(self.dll_images))]
        return host.log.image_load(stamp, utc, self._any_proc(host), dll)

    def bg_file(self, stamp: bytes, utc: bytes) -> bytes:
        """A process writes one of the files its kind of program writes."""
        host = self.host_table[int(self.rnd() * self.host_count)]
        proc = self._any_proc(host)
        files = proc.variant.files  # type: ignore[union-attr]
        before, after = files[int(self.rnd() * len(files))]
        return host.log.file(stamp, utc, proc, b"%s%08x%s" % (before, self.rng.getrandbits(32), after))

    def bg_registry(self, stamp: bytes, utc: bytes) -> bytes:
        """A process sets one of the values Windows rewrites all day (BAM, UserAssist, Defender, time)."""
        host = self.host_table[int(self.rnd() * self.host_count)]
        proc = self._any_proc(host)
        path, details = REGISTRY_VALUES[int(self.rnd() * len(REGISTRY_VALUES))]
        target = path.replace(b"{sid}", proc.account.sid).replace(b"{image}", proc.image.path_e.split(b"\\")[-1])
        return host.log.registry(stamp, utc, proc, target, details)

    def background_table(self) -> list[Callable[[bytes, bytes], bytes]]:
        """100 slots weighted like a real Sysmon mix: image loads and DNS dominate."""
        mix = (
            (self.bg_image_load, 28),
            (self.bg_dns, 18),
            (self.bg_network, 14),
            (self.bg_create, 12),
            (self.bg_terminate, 11),
            (self.bg_file, 9),
            (self.bg_registry, 8),
        )
        return [fn for fn, weight in mix for _ in range(weight)]

    def security_background(self, rng: random.Random) -> SecurityBackground:
        """The Security log's background over the same hosts, as busy as they are in Sysmon."""
        subjects = [(h.security, h.accounts["user"], h.accounts["system"], h.role != "wks") for h in self.host_table]
        return SecurityBackground(subjects, rng)


def split_token(pattern: str) -> tuple[bytes, bytes]:
    """A file pattern as escaped text before and after its `*` (the random token goes in between)."""
    before, _, after = pattern.partition("*")
    return xml_bytes(before), xml_bytes(after)


def dns_query(name: str, results: str) -> tuple[bytes, bytes, bytes]:
    """QueryName, QueryStatus, QueryResults of a lookup; no results means NXDOMAIN (9003, `-`)."""
    return xml_bytes(name), b"0" if results else b"9003", xml_bytes(results or "-")


def connect_target(name: str) -> tuple[bytes, bytes, int, bytes]:
    """The first address a name resolves to, with the port its service listens on."""
    results, port = DOMAINS[name]
    address = next(part for part in results.split(";") if part.startswith("::ffff:"))
    return address.removeprefix("::ffff:").encode(), xml_bytes(name), port, PORT_NAMES.get(port, "-").encode()


_TYPE_PREFIX = re.compile(r"^\s*type:\s*\d+\s+")


def answers(query_results: str) -> list[str]:
    """DNS answers as the normaliser derives them from QueryResults: CNAME targets and `::ffff:` addresses."""
    values = (_TYPE_PREFIX.sub("", part).strip() for part in query_results.split(";"))
    return [value for value in values if value and value != "-"]
