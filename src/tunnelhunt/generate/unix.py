"""Linux and macOS companions of the Windows dataset: the same tradecraft where there is no `.exe`.

Why: ngrok runs on Linux build servers and developers' Macs as often as on Windows, renamed or not, and
the detections must find it there. Linux hosts report through Sysmon for Linux (its event XML inside
syslog lines, as `sysmon` writes it); Macs through an EDR's ECS export (Elastic Defend style JSON lines).
Both files hold ordinary background activity around a few planted scenarios, and every planted event is
checked against the oracle as it is planted, like the Windows scenarios.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tunnelhunt.generate import oracle
from tunnelhunt.generate.oracle import CONFIG_FILE, GRAMMAR, NETWORK, OTHER_CLIENTS, OVER_SSH, REMOTE

LINUX_LOG_NAME = "linux-sysmon.log"
MACOS_LOG_NAME = "macos-endpoint.ndjson"
_TICKS = 10_000_000

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})

#: Planted events as (list, detection, entry), the shape of the Windows generator's truth.
Truth = tuple[str, str, dict[str, Any]]


@dataclass(order=True)
class _Event:
    """One line to write, in time order, with what the ground truth says about it."""

    ticks: int
    seq: int
    line: str = field(compare=False)
    truth: list[Truth] = field(default_factory=list, compare=False)


def _iso(ticks: int, digits: int = 6) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 10)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text + "000Z" if digits == 9 else text[: 20 + digits] + "Z"


def _check(found: set[str], hits: Sequence[str], near: Sequence[str], value: str) -> None:
    missing, wrong = set(hits) - found, set(near) & found
    if missing or wrong:
        raise AssertionError(f"planted {value!r}: not found by {sorted(missing)}, wrongly found by {sorted(wrong)}")


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


class _Timeline:
    """Events of one file: background on an even grid, planted scenarios at random moments."""

    def __init__(self, rng: random.Random, start: int, span: int) -> None:
        self.rng, self.start, self.span = rng, start, span
        self.events: list[_Event] = []

    def add(self, ticks: int, line: str, truth: list[Truth] | None = None) -> None:
        self.events.append(_Event(ticks, len(self.events), line, truth or []))

    def scenario_start(self, length_s: float) -> int:
        """A moment for a scenario of `length_s` seconds to fit in the window."""
        room = max(self.span - int(length_s * _TICKS), 1)
        return self.start + int(self.rng.random() * room)

    def truth(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every truth record, stamped with its event's time, in event order."""
        out = []
        for event in sorted(self.events):
            for kind, detection, entry in event.truth:
                out.append((kind, detection, entry if kind == "near_misses" else {**entry, "time": _iso(event.ticks)}))
        return out


# --------------------------------------------------------------------------------------------------
# Sysmon for Linux
# --------------------------------------------------------------------------------------------------

_LINUX_HOSTS = (("lnx-web-01", "10.40.1.11", "www-data"), ("lnx-build-03", "10.40.2.13", "jenkins"),
                ("lnx-db-02", "10.40.3.12", "postgres"))  # fmt: skip
_LINUX_FIELDS = {
    1: ("RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "FileVersion", "Description", "Product", "Company",
        "OriginalFileName", "CommandLine", "CurrentDirectory", "User", "LogonGuid", "LogonId", "TerminalSessionId",
        "IntegrityLevel", "Hashes", "ParentProcessGuid", "ParentProcessId", "ParentImage", "ParentCommandLine",
        "ParentUser"),
    3: ("RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "User", "Protocol", "Initiated", "SourceIsIpv6",
        "SourceIp", "SourceHostname", "SourcePort", "SourcePortName", "DestinationIsIpv6", "DestinationIp",
        "DestinationHostname", "DestinationPort", "DestinationPortName"),
    11: ("RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime", "User"),
}  # fmt: skip
#: (image, command, user or "" for the host's service account, cwd) of ordinary Linux activity.
_LINUX_COMMANDS = (
    ("/usr/bin/bash", "/bin/sh -c /usr/lib/sysstat/debian-sa1 1 1", "root", "/"),
    ("/usr/bin/run-parts", "run-parts --report /etc/cron.hourly", "root", "/"),
    ("/usr/bin/apt-get", "apt-get update -qq", "root", "/root"),
    ("/usr/bin/git", "git fetch --prune origin", "", "/srv/app"),
    ("/usr/bin/python3", "python3 /srv/app/manage.py migrate --noinput", "", "/srv/app"),
    ("/usr/bin/curl", "curl -fsS http://localhost:8080/healthz", "", "/"),
    ("/usr/bin/ssh", "ssh -o BatchMode=yes deploy@10.40.0.21 uptime", "", "/srv/app"),
    ("/usr/sbin/nginx", "nginx -s reload", "root", "/"),
    ("/usr/bin/tar", "tar -czf /var/backups/etc.tgz /etc", "root", "/"),
    ("/usr/bin/systemctl", "systemctl is-active postgresql", "root", "/"),
    ("/usr/bin/ss", "ss -tlnp", "root", "/root"),
    ("/usr/bin/grep", "grep -r ERROR /var/log/app", "", "/var/log"),
    ("/usr/bin/docker", "docker ps --format {{.Names}}", "root", "/root"),
    ("/usr/bin/rsync", "rsync -a /srv/app/static/ /var/www/static/", "", "/srv/app"),
)
_LINUX_FILES = ("/tmp/tmp.{token}", "/var/log/app/app.log.{token}", "/var/lib/apt/lists/partial/{token}_InRelease",
                "/srv/app/.git/objects/pack/tmp_pack_{token}")  # fmt: skip
_LINUX_DESTINATIONS = (("10.40.0.21", 22), ("10.40.3.12", 5432), ("91.189.91.83", 80), ("140.82.121.4", 443))


class _Linux:
    """Renders Sysmon for Linux events as the syslog lines `sysmon` writes."""

    def __init__(self, timeline: _Timeline) -> None:
        self.timeline = timeline
        self.rng = timeline.rng
        self.record = {host: self.rng.randint(1000, 90000) for host, _, _ in _LINUX_HOSTS}
        self.machine = {host: f"{self.rng.getrandbits(32):08x}" for host, _, _ in _LINUX_HOSTS}
        self.pid = 20000

    def _guid(self, host: str) -> str:
        """A ProcessGuid in Sysmon for Linux's shape: machine id, then time and sequence words."""
        bits = self.rng.getrandbits(64)
        return f"{{{self.machine[host]}-{bits >> 48:04x}-{(bits >> 32) & 0xFFFF:04x}-{bits & 0xFFFF:04x}-000000000000}}"

    def _line(self, ticks: int, host: str, event_id: int, values: dict[str, str]) -> str:
        self.record[host] += 1
        stamp = _iso(ticks, 9)
        utc = stamp.replace("T", " ")[:23]
        values = {"RuleName": "-", "UtcTime": utc, **values}
        data = "".join(
            f'<Data Name="{name}">{values.get(name, "-").translate(_ESCAPES)}</Data>'
            for name in _LINUX_FIELDS[event_id]
        )
        syslog = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").strftime("%b %d %H:%M:%S")
        return (
            f'{syslog} {host} sysmon: <Event><System><Provider Name="Linux-Sysmon" '
            'Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/>'
            f"<EventID>{event_id}</EventID><Version>5</Version><Level>4</Level><Task>{event_id}</Task><Opcode>0</Opcode>"
            f'<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="{stamp}"/>'
            f'<EventRecordID>{self.record[host]}</EventRecordID><Correlation/><Execution ProcessID="1021" '
            f'ThreadID="1021"/><Channel>Linux-Sysmon/Operational</Channel><Computer>{host}</Computer>'
            f'<Security UserId="0"/></System><EventData>{data}</EventData></Event>\n'
        )

    def process(
        self,
        ticks: int,
        host: str,
        image: str,
        command: str,
        user: str,
        cwd: str,
        parent: tuple[str, str] = ("/usr/bin/bash", "-bash"),
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
    ) -> tuple[str, str, str, str]:
        """EID 1; returns (guid, pid, image, user) for the process's later events."""
        self.pid += self.rng.randint(1, 40)
        guid, pid = self._guid(host), str(self.pid)
        values = {"ProcessGuid": guid, "ProcessId": pid, "Image": image, "CommandLine": command,
                  "CurrentDirectory": cwd, "User": user, "LogonGuid": self._guid(host), "LogonId": "0",
                  "TerminalSessionId": "4294967295", "IntegrityLevel": "no level", "Hashes": "-",
                  "ParentProcessGuid": self._guid(host), "ParentProcessId": str(self.pid - 1), "ParentImage": parent[0],
                  "ParentCommandLine": parent[1], "ParentUser": user}  # fmt: skip
        found = oracle.process_rows(image, command)
        tunnels = oracle.tunnel_process_hits(image, command)
        _check(set(found) | set(tunnels), hits, near, command)
        entry = {"dest": host, "user": user, "process": command, "process_name": _basename(image)}
        truth: list[Truth] = [("matches", name, {**entry, **extra}) for name, extra in sorted(found.items())]
        truth += [("matches", name, {**entry, "tool": tool}) for name, tool in sorted(tunnels.items())]
        truth += [("near_misses", name, {"host": host, "value": command}) for name in near]
        self.timeline.add(ticks, self._line(ticks, host, 1, values), truth)
        return guid, pid, image, user

    def connect(self, ticks: int, host: str, proc: tuple[str, str, str, str], ip: str, port: int) -> None:
        """EID 3: Sysmon for Linux does not resolve destination names (`-`)."""
        guid, pid, image, user = proc
        source_ip = next(address for name, address, _ in _LINUX_HOSTS if name == host)
        values = {"ProcessGuid": guid, "ProcessId": pid, "Image": image, "User": user, "Protocol": "tcp",
                  "Initiated": "true", "SourceIsIpv6": "false", "SourceIp": source_ip, "SourceHostname": "-",
                  "SourcePort": str(self.rng.randint(32768, 60999)), "DestinationIsIpv6": "false",
                  "DestinationIp": ip, "DestinationHostname": "-", "DestinationPort": str(port)}  # fmt: skip
        self.timeline.add(ticks, self._line(ticks, host, 3, values))

    def file(
        self,
        ticks: int,
        host: str,
        proc: tuple[str, str, str, str],
        path: str,
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
    ) -> None:
        """EID 11."""
        guid, pid, image, user = proc
        values = {"ProcessGuid": guid, "ProcessId": pid, "Image": image, "TargetFilename": path,
                  "CreationUtcTime": _iso(ticks).replace("T", " ")[:23], "User": user}  # fmt: skip
        found = oracle.file_hits(path)
        _check(found, hits, near, path)
        truth: list[Truth] = [("matches", name, {"dest": host, "file_path": path}) for name in sorted(found)]
        truth += [("near_misses", name, {"host": host, "value": path}) for name in near]
        self.timeline.add(ticks, self._line(ticks, host, 11, values), truth)

    def background(self, ticks: int) -> None:
        """One ordinary event, or another program's syslog line (read, and of no data model)."""
        rng = self.rng
        host, _, account = rng.choice(_LINUX_HOSTS)
        roll = rng.random()
        if roll < 0.08:
            self.timeline.add(ticks, f"{_syslog(ticks)} {host} CRON[{rng.randint(1000, 60000)}]: (root) CMD "
                                     "(command -v debian-sa1 > /dev/null && debian-sa1 1 1)\n")  # fmt: skip
            return
        image, command, user, cwd = rng.choice(_LINUX_COMMANDS)
        proc = self.process(ticks, host, image, command, user or account, cwd, ("/usr/sbin/cron", "/usr/sbin/cron -f"))
        if roll < 0.45:
            self.connect(ticks + rng.randint(1, 5000), host, proc, *rng.choice(_LINUX_DESTINATIONS))
        elif roll < 0.75:
            token = f"{rng.getrandbits(32):08x}"
            self.file(ticks + rng.randint(1, 5000), host, proc, rng.choice(_LINUX_FILES).format(token=token))


def _syslog(ticks: int) -> str:
    return datetime.strptime(_iso(ticks)[:19], "%Y-%m-%dT%H:%M:%S").strftime("%b %d %H:%M:%S")


def _linux_scenarios(linux: _Linux) -> None:
    timeline, rng = linux.timeline, linux.rng
    # lnx-build-03, jenkins: a build job fetches ngrok, hides it as a kernel thread and exposes SSH
    at = timeline.scenario_start(600)
    job = ("/usr/bin/bash", "bash -c /var/lib/jenkins/workspace/deploy/run.sh")
    host, home, user = "lnx-build-03", "/var/lib/jenkins", "jenkins"
    curl = linux.process(at, host, "/usr/bin/curl", "curl -sSLo /tmp/.cache/ng.tgz "
                         "https://bin.equinox.io/c/bNyj1mQVY4c/ngrok-v3-stable-linux-amd64.tgz", user, home, job,
                         near=(GRAMMAR,))  # fmt: skip
    linux.connect(at + 2 * _TICKS, host, curl, "52.217.71.4", 443)
    renamed = "/tmp/.cache/kworkerd"
    first = linux.process(at + 9 * _TICKS, host, renamed, f"{renamed} config add-authtoken 2Hq7xZ3bQ9kLmN8pR4sT6vW1yA",
                          user, home, job, hits=(GRAMMAR,), near=(REMOTE,))  # fmt: skip
    linux.file(at + 10 * _TICKS, host, first, f"{home}/.config/ngrok/ngrok.yml", hits=(CONFIG_FILE,))
    agent = linux.process(
        at + 15 * _TICKS, host, renamed, f"{renamed} tcp 22 --log=false", user, home, job, hits=(GRAMMAR, REMOTE)
    )
    linux.connect(at + 16 * _TICKS, host, agent, "3.134.73.173", 443)
    # lnx-web-01, ops: a v2 agent, ngrok over SSH, a Cloudflare quick tunnel, and everyday look-alikes
    at = timeline.scenario_start(1800)
    host, user, home = "lnx-web-01", "ops", "/home/ops"
    v2 = linux.process(
        at,
        host,
        "/home/ops/bin/ngrok",
        "/home/ops/bin/ngrok authtoken 2AbCdEfGh1jKlMn0pQrStUvWxYz",
        user,
        home,
        hits=(GRAMMAR,),
    )
    linux.file(at + 1 * _TICKS, host, v2, f"{home}/.ngrok2/ngrok.yml", hits=(CONFIG_FILE,))
    linux.file(at + 2 * _TICKS, host, v2, f"{home}/.ngrok2/ngrok.yml.bak", near=(CONFIG_FILE,))
    linux.process(
        at + 30 * _TICKS,
        host,
        "/home/ops/bin/ngrok",
        "/home/ops/bin/ngrok http -subdomain=shop 8080",
        user,
        home,
        hits=(GRAMMAR,),
        near=(REMOTE,),
    )
    linux.process(at + 300 * _TICKS, host, "/usr/bin/ssh", "ssh -o ExitOnForwardFailure=yes -R 0:localhost:8080 "
                  "v2@connect.eu.ngrok-agent.com http", user, home, hits=(OVER_SSH,), near=(GRAMMAR,))  # fmt: skip
    linux.process(
        at + 600 * _TICKS,
        host,
        "/usr/local/bin/cloudflared",
        "cloudflared tunnel --url http://localhost:80",
        user,
        home,
        hits=(OTHER_CLIENTS,),
        near=(GRAMMAR,),
    )
    for offset, (image, command) in enumerate((
        ("/usr/bin/python3", "python3 -m http.server 8000"), ("/usr/bin/lsof", "lsof -i tcp -n -P"),
        ("/usr/bin/curl", "curl -s http://localhost:4040/api/tunnels"), ("/usr/bin/netstat", "netstat -tlnp"),
        ("/usr/bin/ssh", "ssh -L 5432:lnx-db-02:5432 bastion.corp.example.com"),
    )):  # fmt: skip
        linux.process(
            at + (900 + 60 * offset) * _TICKS + rng.randint(0, _TICKS),
            host,
            image,
            command,
            user,
            home,
            near=(GRAMMAR, REMOTE, OVER_SSH, OTHER_CLIENTS),
        )


# --------------------------------------------------------------------------------------------------
# macOS through an EDR's ECS export
# --------------------------------------------------------------------------------------------------

_MACS = (("mbp-design-07", "lchen", "192.168.1.23"), ("mbp-eng-12", "tkowalski", "192.168.1.41"))
_MAC_COMMANDS = (
    ("/bin/zsh", "-zsh"), ("/usr/bin/git", "git pull --rebase"), ("/opt/homebrew/bin/brew", "brew update"),
    ("/usr/bin/python3", "python3 -m pytest -q"), ("/usr/bin/ssh", "ssh -T git@github.com"),
    ("/Applications/Slack.app/Contents/MacOS/Slack", "/Applications/Slack.app/Contents/MacOS/Slack"),
    ("/usr/bin/mdworker_shared",
     "/usr/bin/mdworker_shared -s mdworker -c MDSImporterWorker -m com.apple.mdworker.shared"),
)  # fmt: skip


class _Mac:
    """Renders ECS process, file and network events as an EDR exports them (one JSON object per line)."""

    def __init__(self, timeline: _Timeline) -> None:
        self.timeline = timeline
        self.rng = timeline.rng
        self.pid = 5000

    def _base(self, ticks: int, host: str, user: str, category: str, kinds: list[str]) -> dict[str, Any]:
        return {"@timestamp": _iso(ticks, 3), "agent": {"type": "endpoint"}, "ecs": {"version": "8.11.0"},
                "event": {"category": [category], "type": kinds, "module": "endpoint",
                          "dataset": f"endpoint.events.{category}"},
                "host": {"name": host, "os": {"type": "macos", "family": "macos", "version": "15.1"}},
                "user": {"name": user}}  # fmt: skip

    def process(
        self,
        ticks: int,
        host: str,
        user: str,
        executable: str,
        command: str,
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
    ) -> dict[str, Any]:
        self.pid += self.rng.randint(1, 30)
        proc = {"name": _basename(executable), "executable": executable, "pid": self.pid,
                "entity_id": f"{self.rng.getrandbits(64):016x}"}  # fmt: skip
        record = self._base(ticks, host, user, "process", ["start"])
        record["process"] = {**proc, "command_line": command, "working_directory": f"/Users/{user}",
                             "parent": {"name": "zsh", "executable": "/bin/zsh", "pid": 4990}}  # fmt: skip
        found = oracle.process_rows(executable, command)
        tunnels = oracle.tunnel_process_hits(executable, command)
        _check(set(found) | set(tunnels), hits, near, command)
        entry = {"dest": host, "user": user, "process": command, "process_name": _basename(executable)}
        truth: list[Truth] = [("matches", name, {**entry, **extra}) for name, extra in sorted(found.items())]
        truth += [("matches", name, {**entry, "tool": tool}) for name, tool in sorted(tunnels.items())]
        truth += [("near_misses", name, {"host": host, "value": command}) for name in near]
        self.timeline.add(ticks, json.dumps(record, separators=(",", ":")) + "\n", truth)
        return proc

    def file(
        self,
        ticks: int,
        host: str,
        user: str,
        proc: dict[str, Any],
        path: str,
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
    ) -> None:
        record = self._base(ticks, host, user, "file", ["creation"])
        record.update(file={"path": path, "name": _basename(path)}, process=proc)
        found = oracle.file_hits(path)
        _check(found, hits, near, path)
        truth: list[Truth] = [("matches", name, {"dest": host, "file_path": path}) for name in sorted(found)]
        truth += [("near_misses", name, {"host": host, "value": path}) for name in near]
        self.timeline.add(ticks, json.dumps(record, separators=(",", ":")) + "\n", truth)

    def connect(
        self,
        ticks: int,
        host: str,
        user: str,
        proc: dict[str, Any],
        ip: str,
        port: int,
        domain: str | None = None,
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
    ) -> None:
        source_ip = next(address for name, _, address in _MACS if name == host)
        record = self._base(ticks, host, user, "network", ["start", "connection"])
        destination: dict[str, Any] = {"ip": ip, "port": port, **({"domain": domain} if domain else {})}
        record.update(
            process=proc,
            source={"ip": source_ip, "port": self.rng.randint(49152, 65535)},
            destination=destination,
            network={"transport": "tcp", "direction": "egress"},
        )
        found = oracle.network_hits(domain or "")
        _check(found, hits, near, domain or ip)
        entry = {"src": source_ip, "dest": domain or ip, "dest_ip": ip, "dest_port": str(port),
                 "process_name": proc["name"]}  # fmt: skip
        truth: list[Truth] = [("matches", name, entry) for name in sorted(found)]
        truth += [("near_misses", name, {"host": host, "value": domain or ip}) for name in near]
        self.timeline.add(ticks, json.dumps(record, separators=(",", ":")) + "\n", truth)

    def background(self, ticks: int) -> None:
        rng = self.rng
        host, user, _ = rng.choice(_MACS)
        executable, command = rng.choice(_MAC_COMMANDS)
        proc = self.process(ticks, host, user, executable, command)
        if rng.random() < 0.3:
            self.connect(ticks + rng.randint(1, 5000), host, user, proc, "140.82.121.4", 443, "github.com")
        elif rng.random() < 0.3:
            cache = f"/Users/{user}/Library/Caches/{rng.getrandbits(32):08x}"
            self.file(ticks + rng.randint(1, 5000), host, user, proc, cache)


def _mac_scenarios(mac: _Mac) -> None:
    at = mac.timeline.scenario_start(900)
    host, user = "mbp-design-07", "lchen"
    brew = mac.process(at, host, user, "/opt/homebrew/bin/brew", "brew install ngrok/ngrok/ngrok", near=(GRAMMAR,))
    mac.connect(at + 3 * _TICKS, host, user, brew, "52.217.71.4", 443, "bin.equinox.io")
    token = "2AbCdEfGh1jKlMn0pQrStUvWxYz_5aB6cD7eF8gH9iJ0kLmN"
    first = mac.process(
        at + 60 * _TICKS, host, user, "/opt/homebrew/bin/ngrok", f"ngrok config add-authtoken {token}", hits=(GRAMMAR,)
    )
    mac.file(
        at + 61 * _TICKS,
        host,
        user,
        first,
        f"/Users/{user}/Library/Application Support/ngrok/ngrok.yml",
        hits=(CONFIG_FILE,),
    )
    agent = mac.process(at + 120 * _TICKS, host, user, "/opt/homebrew/bin/ngrok", "ngrok http 5000", hits=(GRAMMAR,))
    mac.connect(at + 121 * _TICKS, host, user, agent, "3.20.27.198", 443, "connect.ngrok-agent.com", hits=(NETWORK,))
    server = mac.process(
        at + 400 * _TICKS, host, user, "/usr/bin/python3", "python3 -m http.server 5000", near=(GRAMMAR, REMOTE)
    )
    mac.file(at + 401 * _TICKS, host, user, server, f"/Users/{user}/Downloads/ngrok.yml", near=(CONFIG_FILE,))
    mac.connect(at + 402 * _TICKS, host, user, server, "3.124.67.191", 443, "abcd.ngrok-free.app", near=(NETWORK,))


# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnixFiles:
    """What `write_unix` wrote: the two files and the truth records of their planted events."""

    linux_path: Path
    macos_path: Path
    truth: list[tuple[str, str, dict[str, Any]]]


def _write(path: Path, timeline: _Timeline) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.writelines(event.line for event in sorted(timeline.events))


def write_unix(out_dir: Path, rng: random.Random, start: int, span: int, background: int) -> UnixFiles:
    """Write the Linux and macOS files: `background` ordinary events each, plus the planted scenarios."""
    linux = _Linux(_Timeline(random.Random(rng.getrandbits(64)), start, span))
    _linux_scenarios(linux)
    mac = _Mac(_Timeline(random.Random(rng.getrandbits(64)), start, span))
    _mac_scenarios(mac)
    for source in (linux, mac):
        step = span // max(background, 1)
        for index in range(background):
            source.background(start + index * step + int(source.rng.random() * step))
    linux_path, macos_path = out_dir / LINUX_LOG_NAME, out_dir / MACOS_LOG_NAME
    _write(linux_path, linux.timeline)
    _write(macos_path, mac.timeline)
    return UnixFiles(linux_path, macos_path, linux.timeline.truth() + mac.timeline.truth())
