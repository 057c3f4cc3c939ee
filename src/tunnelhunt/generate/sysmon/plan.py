"""How planted activity is scripted, checked against the oracles, and placed in time.

Why: a scenario reads like what a person does (`spawn`, `dns`, `connect`, `file`, `exit` on one host,
with waits in between), and every planted event is checked against the oracles as it is planted,
so truth.json cannot disagree with the data: `expect` is the seed detections' verdict, `hits` and
`near` name the tunnel detections that must and must not find the event. A finished script is placed
at a random moment in the window and merged into the background by time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tunnelhunt.generate import oracle
from tunnelhunt.generate.oracle import basename
from tunnelhunt.generate.seed_oracle import dns_detection_matches, process_detection_matches
from tunnelhunt.generate.sysmon.catalogue import DOMAINS, IMAGES, NO_VERSION, PORT_NAMES
from tunnelhunt.generate.sysmon.events import TICKS, Proc, hashes, iso, make_image, xml_bytes
from tunnelhunt.generate.sysmon.security import device_path
from tunnelhunt.generate.sysmon.world import Host, Sysmon, answers, dns_query

#: Answers for the names the planted activity looks up ("" = NXDOMAIN, QueryStatus 9003).
NGROK_RESULTS: dict[str, str] = {
    "tunnel.us.ngrok.com": "::ffff:3.20.27.198;::ffff:3.134.73.173;",
    "tunnel.eu.ngrok.com": "::ffff:3.125.102.39;::ffff:18.192.93.86;",
    "tunnel.ap.ngrok.com": "::ffff:13.228.121.46;::ffff:52.220.199.142;",
    "tunnel.au.ngrok.com": "::ffff:13.54.113.34;",
    "tunnel.sa.ngrok.com": "::ffff:18.228.131.22;",
    "tunnel.jp.ngrok.com": "::ffff:13.112.160.83;",
    "tunnel.in.ngrok.com": "::ffff:13.232.104.17;",
    "abcd-1-2-3-4.ngrok.io": "type:  5 tunnel.us.ngrok.com;::ffff:3.20.27.198;::ffff:3.134.73.173;",
    "2.tcp.ngrok.io": "::ffff:3.134.39.220;",
    "ngrok.us.tunnel.com": "::ffff:3.20.27.198;",
    "korgn.su.lennut.com": "type:  5 tunnel.us.ngrok.com;::ffff:3.20.27.198;",
    "dns.google.com": "type:  5 dns.google;::ffff:8.8.8.8;::ffff:8.8.4.4;",
    "ngrok.com": "::ffff:3.125.209.94;::ffff:3.124.142.205;",
    "ngrok.io": "::ffff:3.125.209.94;",
    "myngrok.io": "::ffff:198.51.100.23;",
    "ngrok.io.evil.com": "",
    "notngrok.com.example.net": "",
    "ngrok.tunnel.com": "",
}
NGROK_HASH_KEY = "ngrok-v3.18.4-windows-amd64"
NGROK_HASHES = hashes(NGROK_HASH_KEY).encode()


#: One ground-truth record of a planted event: (list, detection or "" for the seeds' lists, entry).
Truth = tuple[str, str, dict[str, Any]]


@dataclass
class Planned:
    """One planted event: when, and how to render it once its turn comes in the stream."""

    ticks: int
    seq: int
    render: Callable[..., bytes]
    args: tuple[Any, ...]
    truth: list[Truth] = field(default_factory=list)
    channel: str = "sysmon"  # or "security": the Security and RDP channels, written to their own file


class Script:
    """One scenario on one host: events at times relative to its start, placed in the window later."""

    def __init__(self, plan: Planner, host: Host) -> None:
        self.plan = plan
        self.host = host
        self.world = plan.world
        self.at = 0
        self.items: list[Planned] = []
        self.home = "C:\\Users\\" + host.accounts["user"].name.rsplit("\\", 1)[-1]

    def wait(self, low: float, high: float) -> None:
        """Let some seconds pass before the next event."""
        self.at += int((low + self.plan.rng.random() * (high - low)) * TICKS)

    def _add(
        self,
        render: Callable[..., bytes],
        args: tuple[Any, ...],
        truth: list[Truth] | None = None,
        channel: str = "sysmon",
    ) -> None:
        self.items.append(Planned(self.at, 0, render, args, truth or [], channel))
        self.wait(0.05, 2.0)

    def proc(self, key: str) -> Proc:
        """A process running on the host since before the window (explorer.exe, w3wp.exe, ...)."""
        return self.host.resident_proc(key)

    def spawn(
        self,
        image: str,
        command: str,
        parent: Proc,
        account: str = "user",
        integrity: str = "Medium",
        cwd: str | None = None,
        expect: str | None = "",
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
        binary: str | None = None,
    ) -> Proc:
        """Start a process (EID 1).

        `expect` ("match", "near", "" for neither, None for whatever it is) is checked against the seed
        detection; `hits` and `near` name tunnel detections that must, and must not, find it (checked
        against the oracle). `binary` gives the file a known identity (its hashes), e.g. a renamed ngrok.
        """
        acct = self.host.accounts[account]
        if image in IMAGES:
            path, *meta = IMAGES[image]
            img, key = make_image(path.replace("{home}", self.home), meta), image
        else:
            is_ngrok = binary == "ngrok" or image.lower().endswith(("\\ngrok.exe", "\\evil.exe"))
            img = make_image(image, NO_VERSION, NGROK_HASH_KEY if is_ngrok else binary)
            key = image.rsplit("\\", 1)[-1].lower()
        directory = cwd if cwd is not None else (self.home + "\\" if acct.interactive else "C:\\Windows\\system32\\")
        proc = Proc(
            self.world.new_guid(self.host),
            self.world.new_pid(),
            img,
            acct,
            command,
            xml_bytes(command),
            xml_bytes(directory),
            integrity.encode(),
            None,
            key,
        )
        matched = process_detection_matches(img.path, command)
        _check(expect, matched, command)
        truth: list[Truth] = []
        if matched:
            truth.append(
                (
                    "process_matches",
                    "",
                    {
                        "dest": self.host.name,
                        "user": acct.name,
                        "process": command,
                        "process_name": basename(img.path),
                        "parent_process_name": basename(parent.image.path),
                    },
                )
            )
        elif expect == "near":
            truth.append(("near_misses", "", {"kind": "process", "value": command}))
        found = oracle.process_rows(img.path, command)
        if img.hashes == NGROK_HASHES and not matched and not set(found) & set(oracle.HASH_TEACHERS):
            found[oracle.HASH_PIVOT] = {}  # the ngrok binary, run in a way no command-line detection finds
        tunnels = oracle.tunnel_process_hits(img.path, command)
        _check_new(set(found) | set(tunnels), hits, near, command)
        entry = {"dest": self.host.name, "user": acct.name, "process": command, "process_name": basename(img.path)}
        truth += [("matches", name, {**entry, **extra}) for name, extra in sorted(found.items())]
        truth += [("matches", name, {**entry, "tool": tool}) for name, tool in sorted(tunnels.items())]
        truth += [("near_misses", name, {"host": self.host.name, "value": command}) for name in near]
        self._add(self.host.log.create, (proc, parent), truth)
        return proc

    def dns(
        self,
        proc: Proc,
        query: str,
        expect: str | None = "",
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
        results: str | None = None,
    ) -> None:
        """A name lookup (EID 22) with the answers given, or those listed in NGROK_RESULTS or DOMAINS."""
        name = query.lower()
        if results is None:
            results = NGROK_RESULTS[name] if name in NGROK_RESULTS else DOMAINS[name][0]
        matched = dns_detection_matches(query)
        _check(expect, matched, query)
        truth: list[Truth] = []
        if matched:
            truth.append(("dns_matches", "", {"src": self.host.name, "query": query, "answers": answers(results)}))
        elif expect == "near":
            truth.append(("near_misses", "", {"kind": "dns", "value": query}))
        found = oracle.dns_hits(query)
        cnames = oracle.cname_rows(query, answers(results))
        if cnames:
            found.add(oracle.CNAME)
        tunnels = oracle.tunnel_dns_hits(query)
        _check_new(found | set(tunnels), hits, near, query)
        entry = {"src": self.host.name, "query": query}
        truth += [("matches", name, entry) for name in sorted(found - {oracle.CNAME})]
        truth += [("matches", name, {**entry, "service": service}) for name, service in sorted(tunnels.items())]
        truth += [("matches", oracle.CNAME, {**entry, "answer": answer}) for answer in cnames]
        truth += [("near_misses", name, {"host": self.host.name, "value": query}) for name in near]
        self._add(self.host.log.dns, (proc, dns_query(query, results)), truth)

    def connect(
        self,
        proc: Proc,
        ip: str,
        port: int,
        hostname: str = "-",
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
        src_ip: str | None = None,
        miss: str | None = None,
    ) -> None:
        """An outbound TCP connection (EID 3), from the host's address or from `src_ip` (a loopback relay).

        `miss` is what a near miss's finding would show (default the host name it connects to)."""
        target = (ip.encode(), xml_bytes(hostname), port, PORT_NAMES.get(port, "-").encode())
        source = src_ip or self.host.ip
        found = oracle.network_hits(hostname) | oracle.connection_hits(source, ip, port)
        _check_new(found, hits, near, f"{hostname} {source}->{ip}:{port}")
        entry = {
            "src": self.host.name,
            "dest": hostname,
            "dest_ip": ip,
            "dest_port": str(port),
            "process_name": basename(proc.image.path),
        }
        relay = {"dvc": self.host.name, "src_ip": source, "dest_ip": ip, "dest_port": str(port),
                 "process_name": basename(proc.image.path)}  # fmt: skip
        truth: list[Truth] = [
            ("matches", name, relay if name == oracle.RDP_LOOPBACK_CONNECTION else entry) for name in sorted(found)
        ]
        truth += [("near_misses", name, {"host": self.host.name, "value": miss or hostname}) for name in near]
        if src_ip is None:
            self._add(self.host.log.network, (proc, target), truth)
        else:
            self._add(self.host.log.network_from, (proc, (src_ip.encode(), b"-"), target), truth)

    def registry(self, proc: Proc, path: str, details: str, hits: Sequence[str] = (), near: Sequence[str] = ()) -> None:
        """A registry value set (EID 13, `SetValue`): the add-on reports it as `modified`."""
        found = oracle.registry_hits(path, "modified")
        _check_new(found, hits, near, path)
        entry = {"dest": self.host.name, "user": proc.account.name, "registry_path": path,
                 "registry_value_name": path.rsplit("\\", 1)[-1], "registry_value_data": details}  # fmt: skip
        truth: list[Truth] = [("matches", name, entry) for name in sorted(found)]
        truth += [("near_misses", name, {"host": self.host.name, "value": path}) for name in near]
        self._add(self.host.log.registry, (proc, xml_bytes(path), xml_bytes(details)), truth)

    # --- the Security and Remote Desktop channels (their own file) ---------------------------------------

    def _logon_truth(
        self, event_id: int, logon_type: int, account: str, address: str, hits: Sequence[str], near: Sequence[str],
        miss: str | None,
    ) -> list[Truth]:  # fmt: skip
        found = oracle.logon_hits(event_id, logon_type, address)
        _check_new(found, hits, near, f"{event_id} type {logon_type} from {address}")
        user = self.host.accounts[account].name.rsplit("\\", 1)[-1]
        entry = {"dest": self.host.name, "user": user, "src": oracle.reported_address(address),
                 "signature_id": str(event_id)}  # fmt: skip
        truth: list[Truth] = [("matches", name, entry) for name in sorted(found)]
        return truth + [("near_misses", name, {"host": self.host.name, "value": miss or address}) for name in near]

    def logon(
        self,
        logon_type: int,
        address: str,
        account: str = "user",
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
        miss: str | None = None,
    ) -> None:
        """Security 4624 (a successful logon of `logon_type` from `address`); `miss` as in `connect`."""
        truth = self._logon_truth(4624, logon_type, account, address, hits, near, miss)
        args = (self.host.accounts[account], logon_type, address)
        self._add(self.host.security.logon, args, truth, "security")

    def rdp_authentication(
        self, address: str, account: str = "user", hits: Sequence[str] = (), near: Sequence[str] = ()
    ) -> None:
        """TerminalServices-RemoteConnectionManager 1149 (RDP user authentication succeeded) from `address`."""
        truth = self._logon_truth(1149, 10, account, address, hits, near, None)
        self._add(self.host.security.rdp_authentication, (self.host.accounts[account], address), truth, "security")

    def wfp_connection(
        self,
        proc: Proc,
        source: str,
        dest: str,
        port: int,
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
        miss: str | None = None,
    ) -> None:
        """Security 5156 (the Windows Filtering Platform permitted an outbound connection) made by `proc`."""
        found = oracle.connection_hits(source, dest, port)
        _check_new(found, hits, near, f"5156 {source}->{dest}:{port}")
        entry = {"dvc": self.host.name, "src_ip": source, "dest_ip": dest, "dest_port": str(port),
                 "process_name": basename(proc.image.path)}  # fmt: skip
        truth: list[Truth] = [("matches", name, entry) for name in sorted(found)]
        truth += [("near_misses", name, {"host": self.host.name, "value": miss or dest}) for name in near]
        args = (proc.pid, device_path(proc.image.path), source, dest, port)
        self._add(self.host.security.connection, args, truth, "security")

    def file(self, proc: Proc, path: str, hits: Sequence[str] = (), near: Sequence[str] = ()) -> None:
        """A file written to disk (EID 11)."""
        found = oracle.file_hits(path)
        _check_new(found, hits, near, path)
        entry = {"dest": self.host.name, "file_path": path}
        truth: list[Truth] = [("matches", name, entry) for name in sorted(found)]
        truth += [("near_misses", name, {"host": self.host.name, "value": path}) for name in near]
        self._add(self.host.log.file, (proc, xml_bytes(path)), truth)

    def loads(self, proc: Proc, count: int = 3) -> None:
        """DLLs a freshly started process maps (EID 7)."""
        for dll in self.world.dll_images[:count]:
            self._add(self.host.log.image_load, (proc, dll))

    def exit(self, proc: Proc) -> None:
        """The process ends (EID 5)."""
        self._add(self.host.log.terminate, (proc,))


def _check(expect: str | None, matched: bool, value: str) -> None:
    """Guard the catalogue: a planted match must match, a near miss must not (None: no expectation)."""
    if expect is None:
        return
    if (expect == "match") != matched or (expect == "near" and matched):
        raise AssertionError(f"planted value {value!r}: expected {expect or 'background'}, detection says {matched}")


def _check_new(found: set[str], hits: Sequence[str], near: Sequence[str], value: str) -> None:
    """Guard the tunnel scenarios: each named hit must be found, each named near miss must not."""
    missing = set(hits) - found
    wrong = set(near) & found
    if missing or wrong:
        raise AssertionError(
            f"planted value {value!r}: not found by {sorted(missing)}, wrongly found by {sorted(wrong)}"
        )


class Planner:
    """Collects scripted scenarios and places each at a random moment inside the time window."""

    def __init__(self, world: Sysmon, rng: random.Random, start: int, span: int) -> None:
        self.world = world
        self.rng = rng
        self.start = start
        self.span = span
        self.events: list[Planned] = []

    def script(self, host: str) -> Script:
        """Begin a scenario on a host, by short name."""
        return Script(self, self.world.by_name[host])

    def place(self, script: Script) -> None:
        """Put a finished scenario into the window, squeezing it if the window is shorter than it."""
        length = max(script.at, 1)
        scale = min(1.0, (self.span * 0.9) / length)
        offset = self.start + int(self.rng.random() * max(self.span - length * scale, 1))
        for item in script.items:
            item.ticks = offset + int(item.ticks * scale)
            item.seq = len(self.events)
            self.events.append(item)

    def truth(self) -> dict[str, Any]:
        """The ground truth, each list in event order, every match stamped with its event's time.

        The seeds' lists keep their original shape; `detections` holds, for every tunnel detection,
        the events it must find (`matches`) and the planted look-alikes it must not (`near_misses`);
        `tunnels` the same per tunnelling variant (`positives`, `near_misses`).
        """
        truth = empty_truth()
        for item in sorted(self.events, key=lambda planned: (planned.ticks, planned.seq)):
            for kind, name, entry in item.truth:
                file_record(truth, kind, name, entry if kind == "near_misses" else {**entry, "time": iso(item.ticks)})
        return truth


def empty_truth() -> dict[str, Any]:
    """truth.json's lists before any record: the seeds' lists, `detections` and `tunnels`."""
    return {
        "process_matches": [],
        "dns_matches": [],
        "near_misses": [],
        "detections": {name: {"matches": [], "near_misses": []} for name in oracle.ALL_DETECTIONS},
        "tunnels": {name: {"positives": [], "near_misses": []} for name in oracle.TUNNEL_VARIANTS},
    }


def file_record(truth: dict[str, Any], kind: str, name: str, entry: dict[str, Any]) -> None:
    """File one record (`matches` or `near_misses`) under its seed list, detection or tunnelling variant."""
    if not name:
        truth[kind].append(entry)
    elif name in oracle.TUNNEL_VARIANTS:
        truth["tunnels"][name]["positives" if kind == "matches" else "near_misses"].append(entry)
    else:
        truth["detections"][name][kind].append(entry)
