"""Synthetic logs in every format tunnelhunt reads, each with ngrok activity among benign records.

Every writer uses its own host name (`<format>-host`), so a test can tell from the findings which
format's ngrok activity was found. Writers return how many records they wrote.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from tests.support.evtx_writer import windows_event, write_evtx

T0 = datetime(2026, 11, 18, 9, 0, 0, tzinfo=UTC)
SYSMON = ("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon")
SECURITY = ("Security", "Microsoft-Windows-Security-Auditing")
NGROK_IMAGE = r"C:\Users\jdoe\Downloads\ngrok.exe"
NGROK_COMMAND = r"C:\Users\jdoe\Downloads\ngrok.exe tcp 3389"
NGROK_DOMAIN = "x7f2.ngrok.io"
BENIGN_IMAGES = (r"C:\Windows\System32\svchost.exe", r"C:\Program Files\Mozilla Firefox\firefox.exe")


def stamp(seconds: int, digits: int = 7) -> str:
    """An ISO-8601 UTC time `seconds` after T0, with `digits` fractional digits and a Z."""
    moment = T0 + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "0" * digits + "Z"


def host(fmt: str) -> str:
    return f"{fmt}-host"


# --- Windows event shapes ------------------------------------------------------------------------


@dataclass(frozen=True)
class WinEvent:
    """A flattened Windows event: System fields plus EventData by name."""

    event_id: int
    channel: str
    provider: str
    time: str
    computer: str
    data: dict[str, str]


def process_create(computer: str, seconds: int, image: str, command: str, pid: int = 4242) -> WinEvent:
    data = {
        "ProcessGuid": f"{{6f2f1a43-0000-0000-{pid:04x}-000000000a00}}",
        "ProcessId": str(pid),
        "Image": image,
        "CommandLine": command,
        "OriginalFileName": image.rsplit("\\", 1)[-1],
        "User": "LAB\\jdoe",
        "IntegrityLevel": "Medium",
        "ParentImage": r"C:\Windows\System32\cmd.exe",
        "ParentCommandLine": "cmd.exe",
        "ParentProcessId": "4000",
    }
    return WinEvent(1, *SYSMON, stamp(seconds), computer, data)


def dns_query(computer: str, seconds: int, name: str) -> WinEvent:
    data = {"ProcessId": "4242", "QueryName": name, "QueryStatus": "0", "QueryResults": "::ffff:3.134.73.173;"}
    return WinEvent(22, *SYSMON, stamp(seconds), computer, data)


def network_connect(computer: str, seconds: int, image: str, destination: str, ip: str) -> WinEvent:
    data = {
        "ProcessGuid": "{6f2f1a43-0000-0000-1092-000000000a00}",
        "ProcessId": "4242",
        "Image": image,
        "User": "LAB\\jdoe",
        "Protocol": "tcp",
        "Initiated": "true",
        "SourceIsIpv6": "false",
        "SourceIp": "10.0.0.7",
        "SourceHostname": computer,
        "SourcePort": "50123",
        "DestinationIsIpv6": "false",
        "DestinationIp": ip,
        "DestinationHostname": destination,
        "DestinationPort": "443",
    }
    return WinEvent(3, *SYSMON, stamp(seconds), computer, data)


def file_create(computer: str, seconds: int, image: str, target: str) -> WinEvent:
    data = {
        "ProcessGuid": "{6f2f1a43-0000-0000-1092-000000000a00}",
        "ProcessId": "4242",
        "Image": image,
        "TargetFilename": target,
        "CreationUtcTime": "2026-11-18 09:00:00.000",
        "User": "LAB\\jdoe",
    }
    return WinEvent(11, *SYSMON, stamp(seconds), computer, data)


def security_4688(computer: str, seconds: int, image: str, command: str, pid: str = "0x1d18") -> WinEvent:
    data = {
        "SubjectUserSid": "S-1-5-21-1-2-3-1104",
        "SubjectUserName": "jdoe",
        "SubjectDomainName": "LAB",
        "NewProcessId": pid,
        "NewProcessName": image,
        "TokenElevationType": "%%1936",
        "ProcessId": "0x11c0",
        "CommandLine": command,
        "TargetUserSid": "S-1-0-0",
        "TargetUserName": "-",
        "TargetDomainName": "-",
        "ParentProcessName": r"C:\Windows\explorer.exe",
        "MandatoryLabel": "S-1-16-8192",
    }
    return WinEvent(4688, *SECURITY, stamp(seconds), computer, data)


def windows_scenario(computer: str, benign: int) -> list[WinEvent]:
    """ngrok run, its DNS lookup, agent connection, config file, a 4688, and `benign` ordinary events."""
    events = [
        process_create(computer, 10, NGROK_IMAGE, NGROK_COMMAND),
        dns_query(computer, 11, NGROK_DOMAIN),
        network_connect(computer, 12, NGROK_IMAGE, "connect.ngrok-agent.com", "3.134.73.173"),
        file_create(computer, 13, NGROK_IMAGE, r"C:\Users\jdoe\AppData\Local\ngrok\ngrok.yml"),
        security_4688(computer, 14, NGROK_IMAGE, NGROK_COMMAND),
    ]
    for index in range(benign):
        image = BENIGN_IMAGES[index % len(BENIGN_IMAGES)]
        if index % 3 == 0:
            events.append(process_create(computer, 100 + index, image, f'"{image}" --job {index}', 5000 + index))
        elif index % 3 == 1:
            events.append(dns_query(computer, 100 + index, f"host{index}.example.com"))
        else:
            events.append(network_connect(computer, 100 + index, image, "www.example.com", "93.184.216.34"))
    return events


def event_xml(event: WinEvent, record_id: int, namespace: bool = True) -> str:
    """One-line event XML as Splunk's XmlWinEventLog (or Sysmon for Linux, without namespace) holds it."""
    ns = " xmlns='http://schemas.microsoft.com/win/2004/08/events/event'" if namespace else ""
    data = "".join(f"<Data Name={quoteattr(k)}>{escape(v)}</Data>" for k, v in event.data.items())
    return (
        f"<Event{ns}><System><Provider Name={quoteattr(event.provider)}/><EventID>{event.event_id}</EventID>"
        f"<TimeCreated SystemTime={quoteattr(event.time)}/><EventRecordID>{record_id}</EventRecordID>"
        f"<Channel>{escape(event.channel)}</Channel><Computer>{escape(event.computer)}</Computer>"
        f"<Security UserID='S-1-5-18'/></System><EventData>{data}</EventData></Event>"
    )


def flat_json(event: WinEvent) -> dict[str, object]:
    """The flattened JSON of Security-Datasets: EventID as a number, Hostname, SourceName."""
    return {
        "SourceName": event.provider,
        "Channel": event.channel,
        "Hostname": event.computer,
        "TimeCreated": event.time.replace("0000000Z", "000Z"),
        "@timestamp": event.time.replace("0000000Z", "000Z"),
        "EventID": event.event_id,
        **event.data,
    }


# --- writers, one per format ----------------------------------------------------------------------


def write_xml(path: Path, benign: int = 20) -> int:
    events = windows_scenario(host("xml"), benign)
    path.write_text("\n".join(event_xml(e, i) for i, e in enumerate(events, 1)) + "\n", encoding="utf-8")
    return len(events)


def write_evtx_file(path: Path, benign: int = 60) -> int:
    events = windows_scenario(host("evtx"), benign)
    elements = [
        windows_event(e.event_id, e.time, e.computer, e.channel, e.provider, e.data, i, "S-1-5-18")
        for i, e in enumerate(events, 1)
    ]
    write_evtx(path, elements, per_chunk=25)
    return len(events)


def write_windows_json(path: Path, benign: int = 20) -> int:
    events = windows_scenario(host("winjson"), benign)
    path.write_text("".join(json.dumps(flat_json(e)) + "\n" for e in events), encoding="utf-8")
    return len(events)


def write_windows_json_document(path: Path, benign: int = 20) -> int:
    """The same events as one pretty-printed JSON array (an export, not JSON lines)."""
    events = windows_scenario(host("winjsondoc"), benign)
    path.write_text(json.dumps([flat_json(e) for e in events], indent=2) + "\n", encoding="utf-8")
    return len(events)


def write_windows_csv(path: Path, benign: int = 20) -> int:
    events = windows_scenario(host("wincsv"), benign)
    rows = [flat_json(e) for e in events]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, columns)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def linux_event(event_id: int, seconds: int, data: dict[str, str], computer: str) -> WinEvent:
    return WinEvent(event_id, "Linux-Sysmon/Operational", "Linux-Sysmon", stamp(seconds, 9), computer, data)


def write_sysmon_linux(path: Path, benign: int = 20) -> int:
    """Syslog lines with Sysmon for Linux XML, plus other programs' lines (read, unmapped)."""
    computer = host("linux")
    ngrok = "/usr/local/bin/ngrok"
    events = [
        linux_event(
            1, 10, {"ProcessId": "900", "Image": ngrok, "CommandLine": "ngrok tcp 22", "User": "root"}, computer
        ),
        linux_event(
            3,
            11,
            {
                "ProcessId": "900",
                "Image": ngrok,
                "User": "root",
                "Protocol": "tcp",
                "Initiated": "true",
                "SourceIp": "10.0.0.9",
                "SourcePort": "40000",
                "DestinationIp": "3.134.73.173",
                "DestinationHostname": "connect.ngrok-agent.com",
                "DestinationPort": "443",
            },
            computer,
        ),
        linux_event(
            11, 12, {"ProcessId": "900", "Image": ngrok, "TargetFilename": "/root/.config/ngrok/ngrok.yml"}, computer
        ),
    ]
    for index in range(benign):
        events.append(
            linux_event(
                1,
                100 + index,
                {"ProcessId": str(1000 + index), "Image": "/usr/bin/ls", "CommandLine": "ls -la"},
                computer,
            )
        )
    lines = []
    for index, event in enumerate(events, 1):
        lines.append(f"Nov 18 09:00:{index % 60:02d} {computer} sysmon: {event_xml(event, index, namespace=False)}")
        if index % 7 == 0:
            lines.append(f"Nov 18 09:00:{index % 60:02d} {computer} sshd[77]: Accepted publickey for root")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


ZEEK_FIELDS = (
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "trans_id",
    "rtt",
    "query",
    "qclass",
    "qclass_name",
    "qtype",
    "qtype_name",
    "rcode",
    "rcode_name",
    "AA",
    "TC",
    "RD",
    "RA",
    "Z",
    "answers",
    "TTLs",
    "rejected",
)


def _zeek_rows(benign: int, src: str) -> list[dict[str, object]]:
    base = T0.timestamp()
    rows: list[dict[str, object]] = [
        {
            "ts": base + 20,
            "uid": "CngrokQ1",
            "id.orig_h": src,
            "query": NGROK_DOMAIN,
            "qtype_name": "A",
            "rcode": 0,
            "rcode_name": "NOERROR",
            "answers": ["3.134.73.173", "3.20.27.198"],
            "TTLs": [60.0, 60.0],
        },
        {"ts": base + 21, "uid": "CnearMiss", "id.orig_h": src, "query": "ngrok.io.example.net", "qtype_name": "A"},
    ]
    for index in range(benign):
        rows.append(
            {
                "ts": base + 100 + index,
                "uid": f"C{index:08d}",
                "id.orig_h": src,
                "query": f"www{index}.example.org",
                "qtype_name": "AAAA",
                "rcode": 0,
                "rcode_name": "NOERROR",
                "answers": [],
                "TTLs": [],
            }
        )
    for row in rows:
        row.update({"id.orig_p": 53000, "id.resp_h": "10.0.0.1", "id.resp_p": 53, "proto": "udp", "trans_id": 4242})
    return rows


def write_zeek_tsv(path: Path, benign: int = 30) -> int:
    rows = _zeek_rows(benign, host("zeek"))

    def cell(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, list):
            return ",".join(str(v) for v in value) if value else "(empty)"
        return f"{value:.6f}" if isinstance(value, float) else str(value)

    header = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tdns",
        "#open\t2026-11-18-09-00-00",
        "#fields\t" + "\t".join(ZEEK_FIELDS),
        "#types\t" + "\t".join("string" for _ in ZEEK_FIELDS),
    ]
    body = ["\t".join(cell(row.get(f)) for f in ZEEK_FIELDS) for row in rows]
    path.write_text("\n".join([*header, *body, "#close\t2026-11-18-10-00-00"]) + "\n", encoding="utf-8")
    return len(rows)


def write_zeek_json(path: Path, benign: int = 30) -> int:
    rows = _zeek_rows(benign, host("zeekjson"))
    for row in rows:
        row["_path"] = "dns"
        row["ts"] = datetime.fromtimestamp(float(row["ts"]), UTC).isoformat().replace("+00:00", "Z")  # type: ignore[arg-type]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return len(rows)


def write_suricata(path: Path, benign: int = 20) -> int:
    """EVE JSON: a v1 query and answer, a v2 answer with `grouped`, a v3 response, flows, benign DNS."""
    client = host("suricata")

    def event(seconds: int, dns: dict[str, object], src: str = client, dest: str = "10.0.0.1", sp: int = 53001) -> str:
        stamp_ = (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000000+0000")
        return json.dumps(
            {
                "timestamp": stamp_,
                "flow_id": 1,
                "event_type": "dns",
                "src_ip": src,
                "src_port": sp,
                "dest_ip": dest,
                "dest_port": 53,
                "proto": "UDP",
                "dns": dns,
            }
        )

    lines = [
        event(30, {"type": "query", "id": 1, "rrname": NGROK_DOMAIN, "rrtype": "A", "tx_id": 0}),
        json.dumps(
            {
                "timestamp": "2026-11-18T09:00:30.500000+0000",
                "event_type": "dns",
                "src_ip": "10.0.0.1",
                "src_port": 53,
                "dest_ip": client,
                "dest_port": 53001,
                "proto": "UDP",
                "dns": {
                    "type": "answer",
                    "id": 1,
                    "rcode": "NOERROR",
                    "rrname": NGROK_DOMAIN,
                    "rrtype": "A",
                    "ttl": 60,
                    "rdata": "3.134.73.173",
                },
            }
        ),
        event(
            31,
            {
                "version": 2,
                "type": "answer",
                "id": 2,
                "rrname": "tunnel.us.ngrok.com",
                "rrtype": "A",
                "rcode": "NOERROR",
                "grouped": {"A": ["3.20.27.198"], "CNAME": ["tunnel.us.ngrok.com.herokudns.com"]},
            },
        ),
        event(
            32,
            {
                "version": 3,
                "type": "response",
                "id": 3,
                "rcode": "NOERROR",
                "queries": [{"rrname": "abc.ngrok.io", "rrtype": "A"}],
                "answers": [{"rrname": "abc.ngrok.io", "rrtype": "A", "ttl": 30, "rdata": "3.134.73.173"}],
            },
        ),
        json.dumps(
            {
                "timestamp": "2026-11-18T09:00:33.000000+0000",
                "event_type": "flow",
                "src_ip": client,
                "dest_ip": "10.0.0.1",
                "proto": "UDP",
                "app_proto": "dns",
                "flow": {"pkts_toserver": 1},
            }
        ),
    ]
    for index in range(benign):
        lines.append(
            event(
                100 + index,
                {"type": "query", "id": 100 + index, "rrname": f"cdn{index}.example.net", "rrtype": "A", "tx_id": 0},
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def _ecs_process(seconds: int, name: str, executable: str, command: str, hostname: str) -> dict[str, object]:
    return {
        "@timestamp": stamp(seconds, 3),
        "agent": {"type": "winlogbeat"},
        "ecs": {"version": "8.11.0"},
        "event": {"category": ["process"], "type": ["start", "process_start"], "code": "1"},
        "host": {"name": hostname},
        "user": {"name": "jdoe", "domain": "LAB"},
        "process": {
            "name": name,
            "executable": executable,
            "command_line": command,
            "pid": 4242,
            "entity_id": "{6f2f1a43-0000-0000-4242-000000000a00}",
            "parent": {"name": "cmd.exe", "executable": r"C:\Windows\System32\cmd.exe", "pid": 4000},
        },
    }


def _ecs_dns(seconds: int, name: str, hostname: str) -> dict[str, object]:
    return {
        "@timestamp": stamp(seconds, 3),
        "agent": {"type": "winlogbeat"},
        "event": {"category": ["network"], "type": ["connection", "protocol", "info"], "code": "22"},
        "host": {"name": hostname},
        "dns": {
            "question": {"name": name, "type": "A"},
            "answers": [{"data": "3.134.73.173", "type": "A"}],
            "resolved_ip": ["3.134.73.173"],
        },
    }


def write_ecs(path: Path, benign: int = 20) -> int:
    hostname = host("ecs")
    records = [
        _ecs_process(10, "ngrok.exe", NGROK_IMAGE, NGROK_COMMAND, hostname),
        _ecs_dns(11, NGROK_DOMAIN, hostname),
    ]
    for index in range(benign):
        records.append(_ecs_process(100 + index, "svchost.exe", BENIGN_IMAGES[0], "svchost.exe -k netsvcs", hostname))
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return len(records)


def write_ecs_csv(path: Path, benign: int = 20) -> int:
    hostname = host("ecscsv")
    columns = [
        "@timestamp",
        "event.category",
        "event.type",
        "host.name",
        "process.name",
        "process.executable",
        "process.command_line",
        "process.pid",
        "process.parent.name",
    ]
    rows = [[stamp(10, 3), "process", "start", hostname, "ngrok.exe", NGROK_IMAGE, NGROK_COMMAND, "4242", "cmd.exe"]]
    for index in range(benign):
        rows.append(
            [
                stamp(100 + index, 3),
                "process",
                "start",
                hostname,
                "notepad.exe",
                r"C:\Windows\notepad.exe",
                f"notepad.exe file{index}.txt",
                str(6000 + index),
                "explorer.exe",
            ]
        )
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows(rows)
    return len(rows)


def write_ocsf(path: Path, benign: int = 20) -> int:
    hostname = host("ocsf")
    ms = int(T0.timestamp() * 1000)
    product = {"product": {"vendor_name": "Acme", "name": "Sensor"}}
    records: list[dict[str, object]] = [
        {
            "class_uid": 1007,
            "category_uid": 1,
            "activity_id": 1,
            "time": ms + 10_000,
            "metadata": product,
            "device": {"hostname": hostname},
            "actor": {"user": {"name": "jdoe", "domain": "LAB"}},
            "process": {
                "name": "ngrok.exe",
                "pid": 4242,
                "cmd_line": NGROK_COMMAND,
                "file": {"path": NGROK_IMAGE},
                "parent_process": {"name": "cmd.exe", "pid": 4000},
            },
        },
        {
            "class_uid": 4003,
            "category_uid": 4,
            "activity_id": 1,
            "time": ms + 11_000,
            "metadata": product,
            "device": {"hostname": hostname},
            "src_endpoint": {"ip": "10.0.0.8"},
            "query": {"hostname": NGROK_DOMAIN, "type": "A"},
            "answers": [{"rdata": "3.134.73.173"}],
        },
    ]
    for index in range(benign):
        records.append(
            {
                "class_uid": 1007,
                "category_uid": 1,
                "activity_id": 1,
                "time": ms + 100_000 + index,
                "metadata": product,
                "device": {"hostname": hostname},
                "process": {"name": "bash", "pid": 7000 + index, "cmd_line": "bash -c true"},
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return len(records)


CUSTOM_MAPPING = """\
name: acme_edr
match: [kind, proc]
nodes:
  - node: Endpoint.Processes
    when: {kind: [proc_start, exec]}
    time: at
    fields:
      process: proc.cmd
      process_name: {basename: proc.path}
      process_path: proc.path
      dest: machine
      user: who
      vendor_product: {value: ACME EDR}
  - node: Network_Resolution.DNS
    when: {kind: dns}
    time: at
    fields:
      query: lookup
      answer: replies
      src: machine
      vendor_product: {value: ACME EDR}
"""


def write_custom(path: Path, benign: int = 20) -> int:
    machine = host("custom")
    epoch = int(T0.timestamp())
    records: list[dict[str, object]] = [
        {
            "kind": "proc_start",
            "at": epoch + 10,
            "machine": machine,
            "who": "LAB\\jdoe",
            "proc": {"path": NGROK_IMAGE, "cmd": "ngrok.exe http 8080"},
        },
        {
            "kind": "dns",
            "at": epoch + 11,
            "machine": machine,
            "proc": {},
            "lookup": NGROK_DOMAIN,
            "replies": ["3.134.73.173"],
        },
        {"kind": "heartbeat", "at": epoch + 12, "machine": machine, "proc": {}},
    ]
    for index in range(benign):
        records.append(
            {
                "kind": "exec",
                "at": epoch + 100 + index,
                "machine": machine,
                "who": "LAB\\svc",
                "proc": {"path": r"C:\Windows\System32\whoami.exe", "cmd": "whoami /all"},
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return len(records)


# --- compression ------------------------------------------------------------------------------------


def gzip_file(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    target.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    return target


def bzip2_file(path: Path) -> Path:
    target = path.with_name(path.name + ".bz2")
    target.write_bytes(bz2.compress(path.read_bytes()))
    path.unlink()
    return target


def xz_file(path: Path) -> Path:
    target = path.with_name(path.name + ".xz")
    target.write_bytes(lzma.compress(path.read_bytes()))
    path.unlink()
    return target


def zip_files(archive: Path, paths: list[Path]) -> Path:
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for path in paths:
            out.write(path, f"exports/{path.name}")
            path.unlink()
    return archive


Writer = Callable[[Path, int], int]

#: (file name, writer, expected host in findings, detection that must fire for it)
MIXED: tuple[tuple[str, Writer, str], ...] = (
    ("sysmon.xml", write_xml, "xml"),
    ("Sysmon.evtx", write_evtx_file, "evtx"),
    ("security.json", write_windows_json, "winjson"),
    ("events.csv", write_windows_csv, "wincsv"),
    ("syslog", write_sysmon_linux, "linux"),
    ("dns.log", write_zeek_tsv, "zeek"),
    ("dns.json", write_zeek_json, "zeekjson"),
    ("eve.json", write_suricata, "suricata"),
    ("winlogbeat.ndjson", write_ecs, "ecs"),
    ("processes.csv", write_ecs_csv, "ecscsv"),
    ("ocsf.jsonl", write_ocsf, "ocsf"),
    ("acme.jsonl", write_custom, "custom"),
)
