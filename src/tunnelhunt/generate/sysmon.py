"""A deterministic, realistic Sysmon dataset with known ngrok activity planted in it.

Why: the two ngrok detections need data whose right answer is known. The file looks like Splunk's
attack_data replays (`XmlWinEventLog`, one `<Event>` per line, real Sysmon field layout), the benign
background is varied enough that a sloppy match (substring instead of wildcard, case-sensitive
compare, path instead of file name) shows up as a false positive, and `truth.json` lists exactly the
planted events each detection must find and the near misses it must not.

Speed: every static string (paths, command lines, metadata, host names) is XML-escaped and encoded
once up front, and each event is a single bytes `%` substitution into a per-host, per-EventID template.
Lines go to disk in chunks from a second thread through a bounded queue, so memory stays flat whatever
the event count and disk time overlaps generation.

Planted events are small scripted scenarios (a user downloads ngrok and starts it, a web shell exposes
RDP, ...) placed at random moments and merged into the background stream by time. Each one is checked
against the detections' own logic while it is planted, so truth.json cannot disagree with the data.
"""

from __future__ import annotations

import hashlib
import json
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from tunnelhunt.generate import oracle
from tunnelhunt.generate.oracle import (
    AGENT_HOSTS,
    CNAME,
    CONFIG_FILE,
    DOWNLOADS,
    ENDPOINTS,
    GRAMMAR,
    HASH_PIVOT,
    NETWORK,
    OTHER_CLIENTS,
    OTHER_DNS,
    OVER_SSH,
    REMOTE,
)
from tunnelhunt.generate.unix import write_unix

LOG_NAME = "windows-sysmon.log"
TRUTH_NAME = "truth.json"
#: End of the default time range: a fixed instant, so the default output never depends on the clock.
ANCHOR = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
#: Smallest dataset accepted: the fixed set of planted events plus some background around it.
MIN_EVENTS = 500

_TICKS = 10_000_000  # Windows time resolution: 100 ns ticks per second
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK_LINES = 4096
_EXTRA_RUN_EVERY = 10_000  # one more ngrok scenario per this many events
_EXTRA_MISS_EVERY = 20_000  # one more near miss per this many events
_MAX_SPAWNED = 60  # live short-lived processes kept per host
_UNIX_SHARE = 20  # the Linux and macOS files each hold about events / this many background events
_NEVER = 1 << 62  # a tick later than any event

# --------------------------------------------------------------------------------------------------
# XML layout
# --------------------------------------------------------------------------------------------------

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def xml_escape(text: str) -> str:
    """Escape text for element content and single- or double-quoted attribute values alike."""
    return text.translate(_ESCAPES)


def _x(text: str) -> bytes:
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


# --------------------------------------------------------------------------------------------------
# Catalogue: hosts, accounts, executables, background behaviour, DNS names
# --------------------------------------------------------------------------------------------------

_DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"
#: short name → (Windows account name, SID, kind). Kind decides LogonId and session.
_ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "alice": ("CORP\\alice", f"{_DOMAIN_SID}-1104", "user"),
    "bob": ("CORP\\bob", f"{_DOMAIN_SID}-1105", "user"),
    "carol": ("CORP\\carol", f"{_DOMAIN_SID}-1106", "user"),
    "dave": ("CORP\\dave", f"{_DOMAIN_SID}-1107", "user"),
    "erin": ("CORP\\erin", f"{_DOMAIN_SID}-1108", "user"),
    "frank": ("CORP\\frank", f"{_DOMAIN_SID}-1109", "admin"),
    "sql": ("CORP\\svc_sql", f"{_DOMAIN_SID}-1201", "service"),
    "apppool": (
        "IIS APPPOOL\\DefaultAppPool",
        "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415",
        "service",
    ),
    "system": ("NT AUTHORITY\\SYSTEM", "S-1-5-18", "system"),
    "local": ("NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19", "system"),
    "network": ("NT AUTHORITY\\NETWORK SERVICE", "S-1-5-20", "system"),
}
_WELL_KNOWN_LOGON = {"system": 0x3E7, "local": 0x3E5, "network": 0x3E4}

#: (short host name, IPv4, role, interactive user, extra service account or "", activity weight)
_HOSTS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("wks-001", "10.20.1.11", "wks", "alice", "", 16),
    ("wks-003", "10.20.1.13", "wks", "carol", "", 14),
    ("wks-017", "10.20.1.27", "wks", "bob", "", 15),
    ("wks-042", "10.20.1.52", "wks", "dave", "", 14),
    ("wks-058", "10.20.1.68", "wks", "erin", "", 13),
    ("srv-db-01", "10.20.10.21", "db", "frank", "sql", 10),
    ("srv-web-01", "10.20.10.31", "web", "frank", "apppool", 10),
    ("srv-file-01", "10.20.10.41", "file", "frank", "", 8),
)
_DOMAIN_SUFFIX = ".corp.example.com"

_WIN = ("10.0.22621.4317 (WinBuild.160101.0800)", "Microsoft® Windows® Operating System", "Microsoft Corporation")
_DEFENDER_DIR = "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0"
_TEAMS_DIR = "C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe"
_NO_VERSION = ("-", "-", "-", "-", "-")  # Go binaries such as ngrok carry no version resource

#: key → (path, FileVersion, Description, Product, Company, OriginalFileName); `{home}` is the user profile.
_IMAGES: dict[str, tuple[str, ...]] = {
    "explorer": ("C:\\Windows\\explorer.exe", _WIN[0], "Windows Explorer", *_WIN[1:], "EXPLORER.EXE"),
    "wininit": (
        "C:\\Windows\\System32\\wininit.exe",
        _WIN[0],
        "Windows Start-Up Application",
        *_WIN[1:],
        "WinInit.exe",
    ),
    "services": (
        "C:\\Windows\\System32\\services.exe",
        _WIN[0],
        "Services and Controller app",
        *_WIN[1:],
        "services.exe",
    ),
    "svchost": (
        "C:\\Windows\\System32\\svchost.exe",
        _WIN[0],
        "Host Process for Windows Services",
        *_WIN[1:],
        "svchost.exe",
    ),
    "msmpeng": (
        f"{_DEFENDER_DIR}\\MsMpEng.exe",
        "4.18.24090.11 (WinBuild.160101.0800)",
        "Antimalware Service Executable",
        *_WIN[1:],
        "MsMpEng.exe",
    ),
    "mpcmdrun": (
        f"{_DEFENDER_DIR}\\MpCmdRun.exe",
        "4.18.24090.11 (WinBuild.160101.0800)",
        "Microsoft Malware Protection Command Line Utility",
        *_WIN[1:],
        "MpCmdRun.exe",
    ),
    "chrome": (
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        "131.0.6778.86",
        "Google Chrome",
        "Google Chrome",
        "Google LLC",
        "chrome.exe",
    ),
    "msedge": (
        "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
        "131.0.2903.70",
        "Microsoft Edge",
        "Microsoft Edge",
        "Microsoft Corporation",
        "msedge.exe",
    ),
    "teams": (
        f"{_TEAMS_DIR}\\ms-teams.exe",
        "24295.605.3225.8804",
        "Microsoft Teams",
        "Microsoft Teams",
        "Microsoft Corporation",
        "ms-teams.exe",
    ),
    "outlook": (
        "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
        "16.0.18129.20158",
        "Microsoft Outlook",
        "Microsoft Outlook",
        "Microsoft Corporation",
        "Outlook.exe",
    ),
    "onedrive": (
        "{home}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe",
        "24.211.1020.0001",
        "Microsoft OneDrive",
        "Microsoft OneDrive",
        "Microsoft Corporation",
        "OneDrive.exe",
    ),
    "powershell": (
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "10.0.22621.3672 (WinBuild.160101.0800)",
        "Windows PowerShell",
        *_WIN[1:],
        "PowerShell.EXE",
    ),
    "cmd": ("C:\\Windows\\System32\\cmd.exe", _WIN[0], "Windows Command Processor", *_WIN[1:], "Cmd.Exe"),
    "conhost": ("C:\\Windows\\System32\\conhost.exe", _WIN[0], "Console Window Host", *_WIN[1:], "CONHOST.EXE"),
    "git": (
        "C:\\Program Files\\Git\\cmd\\git.exe",
        "2.47.0.windows.2",
        "Git for Windows",
        "Git",
        "The Git Development Community",
        "git.exe",
    ),
    "python": (
        "{home}\\AppData\\Local\\Programs\\Python\\Python312\\python.exe",
        "3.12.7",
        "Python",
        "Python",
        "Python Software Foundation",
        "python.exe",
    ),
    "code": (
        "{home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
        "1.95.3",
        "Visual Studio Code",
        "Visual Studio Code",
        "Microsoft Corporation",
        "electron.exe",
    ),
    "notepad": ("C:\\Windows\\System32\\notepad.exe", _WIN[0], "Notepad", *_WIN[1:], "NOTEPAD.EXE"),
    "taskhostw": (
        "C:\\Windows\\System32\\taskhostw.exe",
        _WIN[0],
        "Host Process for Windows Tasks",
        *_WIN[1:],
        "taskhostw.exe",
    ),
    "runtimebroker": (
        "C:\\Windows\\System32\\RuntimeBroker.exe",
        _WIN[0],
        "Runtime Broker",
        *_WIN[1:],
        "RuntimeBroker.exe",
    ),
    "searchprotocolhost": (
        "C:\\Windows\\System32\\SearchProtocolHost.exe",
        _WIN[0],
        "Microsoft Windows Search Protocol Host",
        *_WIN[1:],
        "SearchProtocolHost.exe",
    ),
    "wmiprvse": ("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", _WIN[0], "WMI Provider Host", *_WIN[1:], "Wmiprvse.exe"),
    "mstsc": ("C:\\Windows\\System32\\mstsc.exe", _WIN[0], "Remote Desktop Connection", *_WIN[1:], "mstsc.exe"),
    "sqlservr": (
        "C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe",
        "2022.0160.4145.04 ((SQL22_RTM_QFE-CU).240906-1822)",
        "SQL Server Windows NT - 64 Bit",
        "Microsoft SQL Server",
        "Microsoft Corporation",
        "sqlservr.exe",
    ),
    "sqlcmd": (
        "C:\\Program Files\\Microsoft SQL Server\\Client SDK\\ODBC\\170\\Tools\\Binn\\SQLCMD.EXE",
        "2019.0170.0018.01",
        "T-SQL execution command line utility",
        "Microsoft SQL Server",
        "Microsoft Corporation",
        "sqlcmd.exe",
    ),
    "w3wp": ("C:\\Windows\\System32\\inetsrv\\w3wp.exe", _WIN[0], "IIS Worker Process", *_WIN[1:], "w3wp.exe"),
    "csc": (
        "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe",
        "4.8.9037.0 built by: NET481REL1",
        "Visual C# Command Line Compiler",
        "Microsoft® .NET Framework",
        "Microsoft Corporation",
        "csc.exe",
    ),
    "robocopy": (
        "C:\\Windows\\System32\\Robocopy.exe",
        _WIN[0],
        "Microsoft® Robust File Copy for Windows",
        *_WIN[1:],
        "robocopy.exe",
    ),
    "ssh": (
        "C:\\Windows\\System32\\OpenSSH\\ssh.exe",
        "9.5.4.1",
        "OpenSSH SSH client",
        "OpenSSH for Windows",
        "Microsoft Corporation",
        "ssh.exe",
    ),
    "nslookup": ("C:\\Windows\\System32\\nslookup.exe", _WIN[0], "nslookup", *_WIN[1:], "nslookup.exe"),
    "curl": (
        "C:\\Windows\\System32\\curl.exe",
        "8.9.1.0",
        "The curl executable",
        "The curl executable",
        "curl, https://curl.se/",
        "curl.exe",
    ),
    "netsh": ("C:\\Windows\\System32\\netsh.exe", _WIN[0], "Network Command Shell", *_WIN[1:], "netsh.exe"),
    "netstat": ("C:\\Windows\\System32\\NETSTAT.EXE", _WIN[0], "TCP/IP Netstat Command", *_WIN[1:], "netstat.exe"),
    "reg": ("C:\\Windows\\System32\\reg.exe", _WIN[0], "Registry Console Tool", *_WIN[1:], "reg.exe"),
    "node": (
        "C:\\Program Files\\nodejs\\node.exe",
        "20.18.0",
        "Node.js JavaScript Runtime",
        "Node.js",
        "Node.js",
        "node.exe",
    ),
}

#: name → (QueryResults as Sysmon writes them, "" for NXDOMAIN; destination port for connections)
_DOMAINS: dict[str, tuple[str, int]] = {
    "www.google.com": ("::ffff:142.250.185.68;", 443),
    "accounts.google.com": ("::ffff:142.250.186.45;", 443),
    "clients2.google.com": ("type:  5 clients.l.google.com;::ffff:142.250.186.46;", 443),
    "update.googleapis.com": ("::ffff:142.250.185.99;", 443),
    "www.bing.com": (
        "type:  5 www-www.bing.com.trafficmanager.net;type:  5 www.bing.com.edgekey.net;"
        "type:  5 e86303.dscx.akamaiedge.net;::ffff:23.45.179.18;::ffff:23.45.179.41;",
        443,
    ),
    "www.example.com": ("::ffff:93.184.216.34;", 443),
    "en.wikipedia.org": ("type:  5 dyna.wikimedia.org;::ffff:185.15.59.224;", 443),
    "github.com": ("::ffff:140.82.121.4;", 443),
    "api.github.com": ("::ffff:140.82.121.6;", 443),
    "pypi.org": ("::ffff:151.101.0.223;::ffff:151.101.64.223;::ffff:151.101.128.223;", 443),
    "files.pythonhosted.org": ("type:  5 dualstack.r.ssl.global.fastly.net;::ffff:151.101.1.63;", 443),
    "registry.npmjs.org": ("::ffff:104.16.3.35;::ffff:104.16.2.35;", 443),
    "update.code.visualstudio.com": ("type:  5 vscode-update.azurewebsites.net;::ffff:13.107.246.45;", 443),
    "login.microsoftonline.com": (
        "type:  5 login.mso.msidentity.com;type:  5 ak.privatelink.msidentity.com;"
        "::ffff:20.190.160.20;::ffff:40.126.32.68;",
        443,
    ),
    "outlook.office365.com": (
        "type:  5 outlook.ha.office365.com;type:  5 outlook.ms-acdc.office.com;"
        "::ffff:52.97.201.226;::ffff:52.97.146.194;",
        443,
    ),
    "teams.microsoft.com": ("type:  5 teams.office.com;type:  5 s-0005.s-msedge.net;::ffff:52.113.194.132;", 443),
    "graph.microsoft.com": ("type:  5 ags.privatelink.msidentity.com;::ffff:20.190.151.70;", 443),
    "corp.sharepoint.com": ("type:  5 2203-ipv4e.clump.dprodmgd104.aa-rt.sharepoint.com;::ffff:52.104.16.1;", 443),
    "edge.microsoft.com": ("type:  5 edge-microsoft-com.dual-a-0036.a-msedge.net;::ffff:13.107.21.239;", 443),
    "ntp.msn.com": ("type:  5 assets.msn.com.edgekey.net;::ffff:23.55.161.41;", 443),
    "ctldl.windowsupdate.com": ("type:  5 wu-bg-shim.trafficmanager.net;::ffff:199.232.214.172;", 80),
    "settings-win.data.microsoft.com": (
        "type:  5 atm-settingsfe-prod-geo.trafficmanager.net;::ffff:51.104.15.252;",
        443,
    ),
    "v10.events.data.microsoft.com": ("type:  5 global.asimov.events.data.trafficmanager.net;::ffff:20.42.65.92;", 443),
    "time.windows.com": ("type:  5 twc.trafficmanager.net;::ffff:168.61.215.74;", 123),
    "wdcp.microsoft.com": ("type:  5 wdcp.microsoft.akadns.net;::ffff:20.10.31.115;", 443),
    "definitionupdates.microsoft.com": (
        "type:  5 definitionupdates.microsoft.com.edgesuite.net;::ffff:23.50.131.201;",
        443,
    ),
    "go.microsoft.com": ("type:  5 go.microsoft.com.edgekey.net;::ffff:23.218.218.138;", 443),
    "wpad.corp.example.com": ("", 80),
    "isatap.corp.example.com": ("", 80),
    "dc01.corp.example.com": ("::ffff:10.20.0.10;", 389),
    "srv-file-01.corp.example.com": ("::ffff:10.20.10.41;", 445),
    "srv-db-01.corp.example.com": ("::ffff:10.20.10.21;", 1433),
    "intranet.corp.example.com": ("type:  5 srv-web-01.corp.example.com;::ffff:10.20.10.31;", 443),
}
_PORT_NAMES = {
    80: "http",
    123: "ntp",
    389: "ldap",
    443: "https",
    445: "microsoft-ds",
    1433: "ms-sql-s",
    3389: "ms-wbt-server",
}

_DOMAIN_GROUPS: dict[str, tuple[str, ...]] = {
    "browse": (
        "www.google.com",
        "accounts.google.com",
        "www.bing.com",
        "www.example.com",
        "en.wikipedia.org",
        "github.com",
        "intranet.corp.example.com",
        "corp.sharepoint.com",
        "login.microsoftonline.com",
    ),
    "chrome": ("clients2.google.com", "update.googleapis.com"),
    "edge": ("edge.microsoft.com", "ntp.msn.com", "www.bing.com"),
    "office": (
        "login.microsoftonline.com",
        "outlook.office365.com",
        "teams.microsoft.com",
        "graph.microsoft.com",
        "corp.sharepoint.com",
    ),
    "dev": (
        "github.com",
        "api.github.com",
        "pypi.org",
        "files.pythonhosted.org",
        "registry.npmjs.org",
        "update.code.visualstudio.com",
    ),
    "windows": (
        "ctldl.windowsupdate.com",
        "settings-win.data.microsoft.com",
        "v10.events.data.microsoft.com",
        "time.windows.com",
        "wpad.corp.example.com",
        "isatap.corp.example.com",
        "dc01.corp.example.com",
    ),
    "defender": ("wdcp.microsoft.com", "definitionupdates.microsoft.com", "go.microsoft.com"),
    "internal": (
        "dc01.corp.example.com",
        "srv-file-01.corp.example.com",
        "srv-db-01.corp.example.com",
        "wpad.corp.example.com",
    ),
}

#: (path, FileVersion, Description, OriginalFileName) of DLLs seen in image-load events.
_DLLS: tuple[tuple[str, str, str, str], ...] = (
    ("C:\\Windows\\System32\\ntdll.dll", _WIN[0], "NT Layer DLL", "ntdll.dll"),
    ("C:\\Windows\\System32\\kernel32.dll", _WIN[0], "Windows NT BASE API Client DLL", "kernel32"),
    ("C:\\Windows\\System32\\KernelBase.dll", _WIN[0], "Windows NT BASE API Client DLL", "Kernelbase.dll"),
    ("C:\\Windows\\System32\\advapi32.dll", _WIN[0], "Advanced Windows 32 Base API", "advapi32.dll"),
    ("C:\\Windows\\System32\\ws2_32.dll", _WIN[0], "Windows Socket 2.0 32-Bit DLL", "ws2_32.dll"),
    ("C:\\Windows\\System32\\crypt32.dll", _WIN[0], "Crypto API32", "CRYPT32.DLL"),
    ("C:\\Windows\\System32\\dnsapi.dll", _WIN[0], "DNS Client API DLL", "dnsapi"),
    ("C:\\Windows\\System32\\wininet.dll", _WIN[0], "Internet Extensions for Win32", "wininet.dll"),
    ("C:\\Windows\\System32\\bcrypt.dll", _WIN[0], "Windows Cryptographic Primitives Library", "bcrypt.dll"),
    ("C:\\Windows\\System32\\combase.dll", _WIN[0], "Microsoft COM for Windows", "COMBASE.DLL"),
    ("C:\\Windows\\System32\\user32.dll", _WIN[0], "Multi-User Windows USER API Client DLL", "user32"),
    ("C:\\Windows\\System32\\amsi.dll", _WIN[0], "Anti-Malware Scan Interface", "amsi.dll"),
)


@dataclass(frozen=True)
class _Profile:
    """How one kind of process behaves: who runs it where, what starts it, what it says and touches."""

    image: str
    runs_as: str  # "user" (the host's interactive user), or an _ACCOUNTS key
    roles: frozenset[str]
    parents: tuple[str, ...]  # image keys of plausible parents
    commands: tuple[str, ...]
    weight: int = 1  # relative spawn rate; 0 = only ever running from before the window
    integrity: str = "Medium"
    domains: tuple[str, ...] = ()  # _DOMAIN_GROUPS keys
    files: tuple[str, ...] = ()  # created files; `*` becomes a random token


_ALL = frozenset({"wks", "db", "web", "file"})
_WKS = frozenset({"wks"})
_CHROME = '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"'
_EDGE = '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"'
_FIELD_TRIAL = "--field-trial-handle=1912,i,4021797284913602561,1528617253066813407,262144"

_PROFILES: tuple[_Profile, ...] = (
    # processes running since before the window: parents and subjects, never spawned
    _Profile("wininit", "system", _ALL, (), ("wininit.exe",), 0, "System"),
    _Profile("services", "system", _ALL, ("wininit",), ("C:\\Windows\\system32\\services.exe",), 0, "System"),
    _Profile(
        "msmpeng",
        "system",
        _ALL,
        ("services",),
        (f'"{_DEFENDER_DIR}\\MsMpEng.exe"',),
        0,
        "System",
        ("defender",),
        ("C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\*.log",),
    ),
    _Profile(
        "explorer",
        "user",
        _ALL,
        (),
        ("C:\\Windows\\Explorer.EXE",),
        0,
        "Medium",
        (),
        ("{home}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\*.lnk",),
    ),
    _Profile(
        "sqlservr",
        "sql",
        frozenset({"db"}),
        ("services",),
        ('"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe" -sMSSQLSERVER',),
        0,
        "High",
        ("internal",),
        ("D:\\MSSQL\\Log\\log_*.trc",),
    ),
    _Profile(
        "w3wp",
        "apppool",
        frozenset({"web"}),
        ("svchost",),
        (
            'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "DefaultAppPool" -v "v4.0" -l "webengine4.dll" '
            "-a \\\\.\\pipe\\iisipm5b8e1d3c-7a41-4c1e-9d3e-2f6a0c9b4e71 -h "
            '"C:\\inetpub\\temp\\apppools\\DefaultAppPool\\DefaultAppPool.config" -w "" -m 0 -t 20',
        ),
        0,
        "High",
        ("internal",),
        ("C:\\inetpub\\logs\\LogFiles\\W3SVC1\\u_ex*.log",),
    ),
    # spawned during the window
    _Profile(
        "svchost",
        "system",
        _ALL,
        ("services",),
        (
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s gpsvc",
            "C:\\Windows\\System32\\svchost.exe -k wsappx -p -s AppXSvc",
            "C:\\Windows\\system32\\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain",
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s wuauserv",
        ),
        6,
        "System",
        ("windows",),
        ("C:\\Windows\\Prefetch\\SVCHOST.EXE-*.pf", "C:\\Windows\\Temp\\*.tmp"),
    ),
    _Profile(
        "svchost",
        "local",
        _ALL,
        ("services",),
        (
            "C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p -s lmhosts",
            "C:\\Windows\\system32\\svchost.exe -k LocalService -p -s BthAvctpSvc",
        ),
        2,
        "System",
        ("windows",),
    ),
    _Profile(
        "svchost",
        "network",
        _ALL,
        ("services",),
        (
            "C:\\Windows\\System32\\svchost.exe -k NetworkService -p -s DoSvc",
            "C:\\Windows\\system32\\svchost.exe -k NetworkService -p -s CryptSvc",
        ),
        2,
        "System",
        ("windows",),
    ),
    _Profile(
        "wmiprvse",
        "network",
        _ALL,
        ("svchost",),
        (
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
            "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding",
        ),
        2,
        "System",
    ),
    _Profile(
        "mpcmdrun",
        "system",
        _ALL,
        ("msmpeng", "svchost"),
        (
            f'"{_DEFENDER_DIR}\\MpCmdRun.exe" SignatureUpdate -ScheduleJob -RestrictPrivileges -Reinvoke',
            f'"{_DEFENDER_DIR}\\MpCmdRun.exe" -wdenable',
        ),
        1,
        "System",
        ("defender",),
    ),
    _Profile(
        "searchprotocolhost",
        "system",
        _WKS,
        ("svchost",),
        (
            '"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe5_ '
            'Global\\UsGthrCtrlFltPipeMssGthrPipe5 1 -2147483646 "Software\\Microsoft\\Windows Search" '
            '"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" '
            '"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon"',
        ),
        2,
        "System",
    ),
    _Profile(
        "powershell",
        "system",
        _ALL,
        ("svchost", "wmiprvse"),
        (
            "powershell.exe -ExecutionPolicy Restricted -Command \"Write-Host 'Final result: 1';\"",
            '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoProfile -NonInteractive '
            '-ExecutionPolicy Bypass -File "C:\\Program Files (x86)\\Microsoft Intune Management Extension'
            '\\Policies\\Scripts\\3f1c0a9e_8a2e.ps1"',
        ),
        1,
        "System",
        ("office",),
        ("C:\\Windows\\Temp\\__PSScriptPolicyTest_*.ps1",),
    ),
    _Profile(
        "taskhostw",
        "user",
        _ALL,
        ("svchost",),
        (
            "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}",
            "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly",
        ),
        2,
    ),
    _Profile("runtimebroker", "user", _ALL, ("svchost",), ("C:\\Windows\\System32\\RuntimeBroker.exe -Embedding",), 3),
    _Profile(
        "conhost",
        "user",
        _ALL,
        ("cmd", "powershell"),
        ("\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",),
        3,
    ),
    _Profile(
        "chrome",
        "user",
        _WKS,
        ("explorer", "chrome"),
        (
            _CHROME,
            f"{_CHROME} --type=renderer --lang=en-US --renderer-client-id=12 {_FIELD_TRIAL} "
            "--time-ticks-at-unix-epoch=-1732089600000000 --launch-time-ticks=4815162342 "
            "--mojo-platform-channel-handle=3412 /prefetch:1",
            f"{_CHROME} --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US "
            f"--service-sandbox-type=none {_FIELD_TRIAL} --mojo-platform-channel-handle=2112 /prefetch:11",
            f"{_CHROME} --type=gpu-process --gpu-preferences=UAAAAAAAAADgAAAYAAAAAAAAAAAAAAAAAABgAAAAAAAwAAAAAAAAAAAA "
            f"{_FIELD_TRIAL} --mojo-platform-channel-handle=1904 /prefetch:2",
            f"{_CHROME} --single-argument https://intranet.corp.example.com/wiki/index.php?title=Onboarding&action=view",
        ),
        9,
        "Medium",
        ("browse", "chrome"),
        (
            "{home}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data\\f_*",
            "{home}\\Downloads\\report-*.pdf",
        ),
    ),
    _Profile(
        "msedge",
        "user",
        _WKS,
        ("explorer", "msedge"),
        (
            f"{_EDGE} --profile-directory=Default",
            f"{_EDGE} --type=renderer --lang=en-US --js-flags=--ms-user-locale= --renderer-client-id=9 "
            "--mojo-platform-channel-handle=4120 /prefetch:1",
            f"{_EDGE} --single-argument https://corp.sharepoint.com/sites/IT/Shared%20Documents/Forms/AllItems.aspx"
            "?id=%2Fsites%2FIT&view=0",
        ),
        6,
        "Medium",
        ("browse", "edge"),
        ("{home}\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\Cache\\Cache_Data\\f_*",),
    ),
    _Profile(
        "teams",
        "user",
        _WKS,
        ("explorer", "teams"),
        (
            f'"{_TEAMS_DIR}\\ms-teams.exe" msteams:system-initiated',
            f'"{_TEAMS_DIR}\\ms-teams.exe" --type=renderer --lang=en-US'
            " --mojo-platform-channel-handle=5212 /prefetch:1",
        ),
        3,
        "Medium",
        ("office",),
        (
            "{home}\\AppData\\Local\\Packages\\MSTeams_8wekyb3d8bbwe\\LocalCache\\Microsoft\\MSTeams\\Logs\\"
            "MSTeams_*.log",
        ),
    ),
    _Profile(
        "outlook",
        "user",
        _WKS,
        ("explorer",),
        (
            '"C:\\Program Files\\Microsoft Office\\Root\\Office16\\OUTLOOK.EXE" /recycle',
            '"C:\\Program Files\\Microsoft Office\\Root\\Office16\\OUTLOOK.EXE" /eml '
            '"{home}\\Downloads\\Invoice Q3 & Q4 <final>.eml"',
        ),
        1,
        "Medium",
        ("office",),
        ("{home}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\Q7XK2M1P\\Attachment_*.pdf",),
    ),
    _Profile(
        "onedrive",
        "user",
        _WKS,
        ("explorer",),
        ('"{home}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background',),
        1,
        "Medium",
        ("office",),
        ("{home}\\OneDrive - Corp\\Documents\\~$*.docx",),
    ),
    _Profile(
        "powershell",
        "user",
        _ALL,
        ("explorer", "cmd", "code"),
        (
            '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"',
            'powershell.exe -NoProfile -Command "Get-ChildItem -Path {home}\\Documents -Recurse -Filter *.docx '
            '| Measure-Object"',
            "powershell.exe -NoLogo -Command \"Get-Content C:\\logs\\app.log -Tail 50 | Select-String 'ERROR' "
            '> {home}\\errors.txt"',
            "powershell.exe -ExecutionPolicy Bypass -File {home}\\scripts\\backup-profile.ps1",
        ),
        3,
        "Medium",
        ("dev", "internal"),
        ("{home}\\AppData\\Local\\Temp\\__PSScriptPolicyTest_*.ps1",),
    ),
    _Profile(
        "cmd",
        "user",
        _ALL,
        ("explorer", "code", "powershell"),
        (
            '"C:\\Windows\\system32\\cmd.exe"',
            'C:\\Windows\\system32\\cmd.exe /c "dir /s /b {home}\\Documents\\*.xlsx & echo done"',
            "cmd.exe /c git status && git pull --rebase",
            'C:\\Windows\\system32\\cmd.exe /d /s /c "npm.cmd run build > build.log 2>&1"',
        ),
        4,
        "Medium",
        (),
        ("{home}\\AppData\\Local\\Temp\\*.tmp",),
    ),
    _Profile(
        "git",
        "user",
        _WKS,
        ("cmd", "powershell", "code"),
        (
            "git.exe fetch --prune origin",
            '"C:\\Program Files\\Git\\cmd\\git.exe" status --porcelain',
            'git log --pretty=format:"%h %an <%ae> %s" -n 20',
            'git.exe commit -m "Fix parser: handle <empty> & quoted values"',
        ),
        3,
        "Medium",
        ("dev",),
        ("{home}\\source\\repos\\app\\.git\\objects\\pack\\tmp_pack_*",),
    ),
    _Profile(
        "python",
        "user",
        _WKS,
        ("cmd", "powershell", "code"),
        (
            "python.exe -m pip install --upgrade requests",
            '"{home}\\AppData\\Local\\Programs\\Python\\Python312\\python.exe" manage.py runserver 127.0.0.1:8000',
            'python.exe -c "import sys; print(sys.version_info >= (3, 11))"',
            "python.exe -m pytest -q tests",
        ),
        2,
        "Medium",
        ("dev",),
        ("{home}\\source\\repos\\app\\__pycache__\\module_*.cpython-312.pyc",),
    ),
    _Profile(
        "code",
        "user",
        _WKS,
        ("explorer",),
        (
            '"{home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"',
            '"{home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" --type=utility '
            "--utility-sub-type=node.mojom.NodeService --lang=en-US --service-sandbox-type=none "
            "--dns-result-order=ipv4first --inspect-port=0 --mojo-platform-channel-handle=5540 /prefetch:14",
        ),
        2,
        "Medium",
        ("dev",),
        ("{home}\\AppData\\Roaming\\Code\\logs\\*\\main.log",),
    ),
    _Profile(
        "notepad",
        "user",
        _ALL,
        ("explorer",),
        (
            '"C:\\Windows\\system32\\NOTEPAD.EXE" {home}\\Documents\\todo.txt',
            'notepad.exe "{home}\\Desktop\\meeting notes.txt"',
        ),
        1,
    ),
    _Profile(
        "mstsc",
        "user",
        _WKS,
        ("explorer",),
        (
            '"C:\\Windows\\system32\\mstsc.exe" /v:srv-file-01.corp.example.com',
            "mstsc.exe /v:srv-db-01.corp.example.com /admin",
        ),
        1,
        "Medium",
        ("internal",),
    ),
    _Profile(
        "sqlcmd",
        "sql",
        frozenset({"db"}),
        ("sqlservr",),
        (
            "sqlcmd.exe -S localhost -E -Q \"BACKUP DATABASE [Sales] TO DISK = N'D:\\Backup\\Sales.bak' "
            'WITH COMPRESSION"',
            "SQLCMD.EXE -S . -E -i C:\\Maintenance\\reindex.sql -o C:\\Maintenance\\reindex.log",
        ),
        3,
        "High",
        ("internal",),
        ("D:\\Backup\\Sales_*.bak",),
    ),
    _Profile(
        "csc",
        "apppool",
        frozenset({"web"}),
        ("w3wp",),
        (
            '"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe" /noconfig /fullpaths '
            '@"C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\root\\2f9c1d7e'
            '\\5b0a3c21\\x4kz2mqp.cmdline"',
        ),
        3,
        "High",
        (),
        (
            "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\Temporary ASP.NET Files\\root\\2f9c1d7e\\5b0a3c21"
            "\\App_Web_*.dll",
        ),
    ),
    _Profile(
        "robocopy",
        "system",
        frozenset({"file"}),
        ("svchost",),
        ("robocopy.exe D:\\Shares\\Finance \\\\backup01\\finance$ /MIR /R:2 /W:5 /LOG+:C:\\Logs\\robocopy.log",),
        3,
        "System",
        ("internal",),
        ("D:\\Shares\\Finance\\Reports\\*.xlsx",),
    ),
)

# --------------------------------------------------------------------------------------------------
# Runtime objects
# --------------------------------------------------------------------------------------------------


def _hashes(seed_text: str) -> str:
    """Sysmon's `Hashes` value with digests of the right length, stable for a given file."""
    data = seed_text.encode()
    return (
        f"SHA1={hashlib.sha1(data, usedforsecurity=False).hexdigest().upper()},"
        f"MD5={hashlib.md5(data, usedforsecurity=False).hexdigest().upper()},"
        f"SHA256={hashlib.sha256(data).hexdigest().upper()},"
        f"IMPHASH={hashlib.md5(b'imp:' + data, usedforsecurity=False).hexdigest().upper()}"
    )


class _Image(NamedTuple):
    """An executable with its raw path and pre-escaped Sysmon metadata."""

    path: str
    path_e: bytes
    fv_e: bytes
    desc_e: bytes
    product_e: bytes
    company_e: bytes
    orig_e: bytes
    hashes: bytes


def _image(path: str, meta: Sequence[str], hash_key: str | None = None) -> _Image:
    """Build an _Image; files with the same `hash_key` (one binary in several places) share hashes."""
    fv, desc, product, company, orig = (_x(value) for value in meta)
    key = hash_key or path.rsplit("\\", 1)[-1].lower()
    return _Image(path, _x(path), fv, desc, product, company, orig, _hashes(key).encode())


class _Account(NamedTuple):
    """An account as one host sees it: its logon session decides LogonGuid/LogonId/TerminalSessionId."""

    name: str
    name_e: bytes
    sid: bytes
    logon_guid: bytes
    logon_id: bytes
    session: bytes
    interactive: bool


class _Variant(NamedTuple):
    """A profile bound to one account on one host, every string already expanded and escaped."""

    key: str  # image key (`chrome`, `cmd`, ...)
    image: _Image
    account: _Account
    commands: tuple[tuple[str, bytes], ...]  # (raw, escaped)
    cwd_e: bytes
    integrity: bytes
    parents: tuple[str, ...]
    dns: tuple[tuple[bytes, bytes, bytes], ...]  # (query escaped, status, results escaped)
    connects: tuple[tuple[bytes, bytes, int, bytes], ...]  # (ip, hostname escaped, port, port name)
    files: tuple[tuple[bytes, bytes], ...]  # escaped text before and after the random token


class _Proc(NamedTuple):
    """A running process: raw values for the ground truth, escaped ones for the XML."""

    guid: bytes
    pid: bytes
    image: _Image
    account: _Account
    cmd: str
    cmd_e: bytes
    cwd_e: bytes
    integrity: bytes
    variant: _Variant | None
    key: str  # image key (`chrome`, `cmd`, ...) used to find parents


@dataclass
class _Host:
    """One computer: its identity, counters, its accounts and the processes alive on it."""

    name: str
    name_e: str
    ip: str
    role: str
    sysmon_pid: str
    threads: tuple[bytes, ...]
    guid_prefix: str
    record: int
    accounts: dict[str, _Account] = field(default_factory=dict)
    spawn_table: list[_Variant] = field(default_factory=list)
    resident: list[_Proc] = field(default_factory=list)  # running since before the window
    spawned: list[_Proc] = field(default_factory=list)  # started in the window, may exit
    net: list[_Proc] = field(default_factory=list)  # processes that resolve names and connect
    by_key: dict[str, list[_Proc]] = field(default_factory=dict)
    guid_seq: int = 0
    t1: bytes = b""  # per-EventID templates, see _host_templates
    t3: bytes = b""
    t5: bytes = b""
    t7: bytes = b""
    t11: bytes = b""
    t22: bytes = b""

    def add(self, proc: _Proc) -> None:
        """Track a process as alive, forgetting the oldest one when the pool is full."""
        self.spawned.append(proc)
        self.by_key.setdefault(proc.key, []).append(proc)
        if proc.variant is not None and proc.variant.dns:
            self.net.append(proc)
        if len(self.spawned) > _MAX_SPAWNED:
            self.remove(self.spawned[0])

    def remove(self, proc: _Proc) -> None:
        """Forget a process that exited."""
        self.spawned.remove(proc)
        self.by_key[proc.key].remove(proc)
        if proc in self.net:
            self.net.remove(proc)

    def resident_proc(self, key: str) -> _Proc:
        """A process that runs all the time (explorer, services, ...), for parents and injected events."""
        return next(proc for proc in self.resident if proc.key == key)


def _host_templates(host: _Host) -> None:
    """Inline what never changes on a host (name, Sysmon's PID, constant fields) into its templates."""
    base = {"Computer": host.name_e, "ProcessID": host.sysmon_pid, "RuleName": "-"}
    system = {**base, "UserID": "S-1-5-18"}
    host.t1 = _template(1, base)
    host.t3 = _template(
        3,
        {
            **system,
            "Protocol": "tcp",
            "Initiated": "true",
            "SourceIsIpv6": "false",
            "SourceIp": host.ip,
            "SourceHostname": host.name_e,
            "SourcePortName": "-",
            "DestinationIsIpv6": "false",
        },
    )
    host.t5 = _template(5, system)
    host.t7 = _template(7, {**system, "Signed": "true", "Signature": "Microsoft Windows", "SignatureStatus": "Valid"})
    host.t11 = _template(11, system)
    host.t22 = _template(22, system)


class _Clock:
    """Tick → (`SystemTime`, `UtcTime`) bytes, re-rendering the date part only when the second changes."""

    def __init__(self) -> None:
        self._second = -1
        self._iso = b""
        self._utc = b""

    def __call__(self, ticks: int) -> tuple[bytes, bytes]:
        second, frac = divmod(ticks, _TICKS)
        if second != self._second:
            self._second = second
            self._iso = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)).encode()
            self._utc = self._iso.replace(b"T", b" ")
        digits = b"%07d" % frac
        return self._iso + digits, self._utc + digits[:3]


def _ticks(moment: datetime) -> int:
    """A datetime (naive means UTC) as 100 ns ticks since the Unix epoch, exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 10


def _iso(ticks: int) -> str:
    """ISO 8601 UTC with microseconds: the event time as the normaliser reads `SystemTime`."""
    moment = _EPOCH + timedelta(microseconds=ticks // 10)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------------------------------
# The world: hosts, their processes, and one renderer per EventID
# --------------------------------------------------------------------------------------------------


class _Sysmon:
    """Simulated Sysmon on every host: keeps process state and renders events as XML lines."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rnd = rng.random
        self.hosts = [self._host(*spec) for spec in _HOSTS]
        self.host_table = [host for host, spec in zip(self.hosts, _HOSTS, strict=True) for _ in range(spec[5])]
        self.host_count = len(self.host_table)
        self.by_name = {host.name.split(".")[0]: host for host in self.hosts}
        self.dll_images = [_image(path, (fv, desc, *_WIN[1:], orig)) for path, fv, desc, orig in _DLLS]

    # --- setup ---------------------------------------------------------------------------------

    def _host(self, short: str, ip: str, role: str, user: str, service: str, _weight: int) -> _Host:
        rng = self.rng
        host = _Host(
            name=short + _DOMAIN_SUFFIX,
            name_e=xml_escape(short + _DOMAIN_SUFFIX),
            ip=ip,
            role=role,
            sysmon_pid=str(4 * rng.randint(400, 1200)),
            threads=tuple(str(4 * rng.randint(500, 3000)).encode() for _ in range(4)),
            guid_prefix=f"{rng.getrandbits(32):08x}",
            record=rng.randint(10_000, 900_000),
        )
        _host_templates(host)
        for key in ("system", "local", "network", user, *([service] if service else [])):
            host.accounts[key] = self._account(host, key)
        host.accounts["user"] = host.accounts[user]
        for profile in _PROFILES:
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

    def _account(self, host: _Host, key: str) -> _Account:
        name, sid, kind = _ACCOUNTS[key]
        logon_id = _WELL_KNOWN_LOGON.get(key) or self.rng.randint(0x100000, 0xFFFFFF)
        words = self.rng.getrandbits(32)
        tail = logon_id.to_bytes(4, "little").hex()  # a LogonGuid ends with its LogonId, little-endian
        guid = f"{{{host.guid_prefix}-{words >> 16:04x}-{words & 0xFFFF:04x}-0000-0020{tail}}}"
        session = b"1" if kind == "user" else (b"2" if kind == "admin" else b"0")
        return _Account(
            name, _x(name), sid.encode(), guid.encode(), f"0x{logon_id:x}".encode(), session, kind in ("user", "admin")
        )

    def _variant(self, host: _Host, profile: _Profile) -> _Variant:
        account = host.accounts[profile.runs_as]
        home = "C:\\Users\\" + account.name.rsplit("\\", 1)[-1]
        path, *meta = _IMAGES[profile.image]
        commands = tuple((cmd.replace("{home}", home), _x(cmd.replace("{home}", home))) for cmd in profile.commands)
        interactive = account.interactive
        names = dict.fromkeys(name for group in profile.domains for name in _DOMAIN_GROUPS[group])
        dns = tuple(_query(name, _DOMAINS[name][0]) for name in names)
        default_file = f"{home}\\AppData\\Local\\Temp\\*.tmp" if interactive else "C:\\Windows\\Temp\\*.tmp"
        files = tuple(_split_token(pattern.replace("{home}", home)) for pattern in profile.files or (default_file,))
        return _Variant(
            key=profile.image,
            image=_image(path.replace("{home}", home), meta),
            account=account,
            commands=commands,
            cwd_e=_x(home + "\\" if interactive else "C:\\Windows\\system32\\"),
            integrity=profile.integrity.encode(),
            parents=profile.parents,
            dns=dns,
            connects=tuple(_connect_target(name) for name in names if _DOMAINS[name][0]),
            files=files,
        )

    def _start(self, host: _Host, variant: _Variant, command: int) -> _Proc:
        raw, escaped = variant.commands[command]
        return _Proc(
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

    def new_guid(self, host: _Host) -> bytes:
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

    # --- renderers (one per EventID): values already escaped, times already rendered ---------------

    def render_create(self, stamp: bytes, utc: bytes, host: _Host, proc: _Proc, parent: _Proc) -> bytes:
        """EID 1 ProcessCreate; Security/@UserID carries the new process's user SID."""
        host.record += 1
        record = host.record
        img, acct = proc.image, proc.account
        return host.t1 % (
            stamp,
            record,
            host.threads[record & 3],
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

    def render_terminate(self, stamp: bytes, utc: bytes, host: _Host, proc: _Proc) -> bytes:
        """EID 5 ProcessTerminate."""
        host.record += 1
        record = host.record
        return host.t5 % (
            stamp,
            record,
            host.threads[record & 3],
            utc,
            proc.guid,
            proc.pid,
            proc.image.path_e,
            proc.account.name_e,
        )

    def render_network(
        self, stamp: bytes, utc: bytes, host: _Host, proc: _Proc, target: tuple[bytes, bytes, int, bytes]
    ) -> bytes:
        """EID 3 NetworkConnect, outbound TCP from an ephemeral port."""
        host.record += 1
        record = host.record
        return host.t3 % (
            stamp,
            record,
            host.threads[record & 3],
            utc,
            proc.guid,
            proc.pid,
            proc.image.path_e,
            proc.account.name_e,
            49152 + int(self.rnd() * 16000),
            *target,
        )

    def render_image_load(self, stamp: bytes, utc: bytes, host: _Host, proc: _Proc, dll: _Image) -> bytes:
        """EID 7 ImageLoaded of a signed Windows DLL."""
        host.record += 1
        record = host.record
        return host.t7 % (
            stamp,
            record,
            host.threads[record & 3],
            utc,
            proc.guid,
            proc.pid,
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

    def render_file(self, stamp: bytes, utc: bytes, host: _Host, proc: _Proc, target_e: bytes) -> bytes:
        """EID 11 FileCreate; CreationUtcTime is the event time."""
        host.record += 1
        record = host.record
        return host.t11 % (
            stamp,
            record,
            host.threads[record & 3],
            utc,
            proc.guid,
            proc.pid,
            proc.image.path_e,
            target_e,
            utc,
            proc.account.name_e,
        )

    def render_dns(
        self, stamp: bytes, utc: bytes, host: _Host, proc: _Proc, query: tuple[bytes, bytes, bytes]
    ) -> bytes:
        """EID 22 DnsQuery: (escaped QueryName, QueryStatus, escaped QueryResults)."""
        host.record += 1
        record = host.record
        return host.t22 % (
            stamp,
            record,
            host.threads[record & 3],
            utc,
            proc.guid,
            proc.pid,
            *query,
            proc.image.path_e,
            proc.account.name_e,
        )

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
        return self.render_create(stamp, utc, host, proc, parent)

    def bg_terminate(self, stamp: bytes, utc: bytes) -> bytes:
        """A process started in the window exits (or, if none is left, another starts)."""
        host = self.host_table[int(self.rnd() * self.host_count)]
        if not host.spawned:
            return self.bg_create(stamp, utc)
        proc = host.spawned[int(self.rnd() ** 2 * len(host.spawned))]  # older processes exit sooner
        host.remove(proc)
        return self.render_terminate(stamp, utc, host, proc)

    def bg_dns(self, stamp: bytes, utc: bytes) -> bytes:
        """A networked process resolves one of the names its kind of program uses."""
        rnd = self.rnd
        host = self.host_table[int(rnd() * self.host_count)]
        proc = host.net[int(rnd() * len(host.net))]
        names = proc.variant.dns  # type: ignore[union-attr]
        return self.render_dns(stamp, utc, host, proc, names[int(rnd() * len(names))])

    def bg_network(self, stamp: bytes, utc: bytes) -> bytes:
        """A networked process connects to one of the addresses its names resolve to."""
        rnd = self.rnd
        host = self.host_table[int(rnd() * self.host_count)]
        proc = host.net[int(rnd() * len(host.net))]
        targets = proc.variant.connects  # type: ignore[union-attr]
        return self.render_network(stamp, utc, host, proc, targets[int(rnd() * len(targets))])

    def _any_proc(self, host: _Host) -> _Proc:
        rnd = self.rnd
        pool = host.spawned if host.spawned and rnd() < 0.8 else host.resident
        return pool[int(rnd() * len(pool))]

    def bg_image_load(self, stamp: bytes, utc: bytes) -> bytes:
        """A process loads a system DLL."""
        host = self.host_table[int(self.rnd() * self.host_count)]
        dll = self.dll_images[int(self.rnd() * len(self.dll_images))]
        return self.render_image_load(stamp, utc, host, self._any_proc(host), dll)

    def bg_file(self, stamp: bytes, utc: bytes) -> bytes:
        """A process writes one of the files its kind of program writes."""
        host = self.host_table[int(self.rnd() * self.host_count)]
        proc = self._any_proc(host)
        files = proc.variant.files  # type: ignore[union-attr]
        before, after = files[int(self.rnd() * len(files))]
        return self.render_file(stamp, utc, host, proc, b"%s%08x%s" % (before, self.rng.getrandbits(32), after))

    def background_table(self) -> list[Callable[[bytes, bytes], bytes]]:
        """100 slots weighted like a real Sysmon mix: image loads and DNS dominate."""
        mix = (
            (self.bg_image_load, 30),
            (self.bg_dns, 20),
            (self.bg_network, 16),
            (self.bg_create, 12),
            (self.bg_terminate, 11),
            (self.bg_file, 11),
        )
        return [fn for fn, weight in mix for _ in range(weight)]


def _split_token(pattern: str) -> tuple[bytes, bytes]:
    """A file pattern as escaped text before and after its `*` (the random token goes in between)."""
    before, _, after = pattern.partition("*")
    return _x(before), _x(after)


def _query(name: str, results: str) -> tuple[bytes, bytes, bytes]:
    """QueryName, QueryStatus, QueryResults of a lookup; no results means NXDOMAIN (9003, `-`)."""
    return _x(name), b"0" if results else b"9003", _x(results or "-")


def _connect_target(name: str) -> tuple[bytes, bytes, int, bytes]:
    """The first address a name resolves to, with the port its service listens on."""
    results, port = _DOMAINS[name]
    address = next(part for part in results.split(";") if part.startswith("::ffff:"))
    return address.removeprefix("::ffff:").encode(), _x(name), port, _PORT_NAMES.get(port, "-").encode()


_TYPE_PREFIX = re.compile(r"^\s*type:\s*\d+\s+")


def answers(query_results: str) -> list[str]:
    """DNS answers as the normaliser derives them from QueryResults: CNAME targets and `::ffff:` addresses."""
    values = (_TYPE_PREFIX.sub("", part).strip() for part in query_results.split(";"))
    return [value for value in values if value and value != "-"]


# --------------------------------------------------------------------------------------------------
# Planted activity: ngrok runs and lookups the detections must find, near misses they must not
# --------------------------------------------------------------------------------------------------

_DNS_PATTERNS = ("*.ngrok.com", "*.ngrok.io", "ngrok.*.tunnel.com", "korgn.*.lennut.com")
_PROCESS_KEYWORDS = ("start", "--config", "http", "authtoken", "tcp")


def _wildcard(pattern: str) -> re.Pattern[str]:
    """Splunk `field=pattern`: case-insensitive, whole value, `*` matches any run of characters."""
    return re.compile(".*".join(re.escape(piece) for piece in pattern.split("*")), re.IGNORECASE | re.DOTALL)


_DNS_REGEXES = tuple(_wildcard(pattern) for pattern in _DNS_PATTERNS)


def dns_detection_matches(query: str) -> bool:
    """What "Ngrok Reverse Proxy on Network" asks of DNS.query; used to check the planted data."""
    return any(regex.fullmatch(query) for regex in _DNS_REGEXES)


def _basename(path: str) -> str:
    """The file name of a Windows path, as the add-on derives process_name from Image."""
    return path.replace("/", "\\").rsplit("\\", 1)[-1]


def process_detection_matches(image: str, command_line: str) -> bool:
    """What "Windows Ngrok Reverse Proxy Usage" asks of process_name and process."""
    return _basename(image).lower() == "ngrok.exe" and any(word in command_line.lower() for word in _PROCESS_KEYWORDS)


#: Answers for the names the planted activity looks up ("" = NXDOMAIN, QueryStatus 9003).
_NGROK_RESULTS: dict[str, str] = {
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
_AUTHTOKEN = "2AbCdEfGh1jKlMn0pQrStUvWxYz_5aB6cD7eF8gH9iJ0kLmN"
_NGROK_HASH_KEY = "ngrok-v3.18.4-windows-amd64"
_NGROK_HASHES = _hashes(_NGROK_HASH_KEY).encode()
_NEAR_MISS_DNS = (
    "ngrok.io.evil.com",
    "myngrok.io",
    "ngrok.io",
    "ngrok.com",
    "notngrok.com.example.net",
    "ngrok.tunnel.com",
)
_REGIONS = ("us", "eu", "ap", "au", "sa", "jp", "in")


#: One ground-truth record of a planted event: (list, detection or "" for the seeds' lists, entry).
_Truth = tuple[str, str, dict[str, Any]]


@dataclass
class _Planned:
    """One planted event: when, and how to render it once its turn comes in the stream."""

    ticks: int
    seq: int
    render: Callable[..., bytes]
    args: tuple[Any, ...]
    truth: list[_Truth] = field(default_factory=list)


class _Script:
    """One scenario on one host: events at times relative to its start, placed in the window later."""

    def __init__(self, plan: _Planner, host: _Host) -> None:
        self.plan = plan
        self.host = host
        self.world = plan.world
        self.at = 0
        self.items: list[_Planned] = []
        self.home = "C:\\Users\\" + host.accounts["user"].name.rsplit("\\", 1)[-1]

    def wait(self, low: float, high: float) -> None:
        """Let some seconds pass before the next event."""
        self.at += int((low + self.plan.rng.random() * (high - low)) * _TICKS)

    def _add(self, render: Callable[..., bytes], args: tuple[Any, ...], truth: list[_Truth] | None = None) -> None:
        self.items.append(_Planned(self.at, 0, render, (self.host, *args), truth or []))
        self.wait(0.05, 2.0)

    def proc(self, key: str) -> _Proc:
        """A process running on the host since before the window (explorer.exe, w3wp.exe, ...)."""
        return self.host.resident_proc(key)

    def spawn(
        self,
        image: str,
        command: str,
        parent: _Proc,
        account: str = "user",
        integrity: str = "Medium",
        cwd: str | None = None,
        expect: str | None = "",
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
        binary: str | None = None,
    ) -> _Proc:
        """Start a process (EID 1).

        `expect` ("match", "near", "" for neither, None for whatever it is) is checked against the seed
        detection; `hits` and `near` name tunnel detections that must, and must not, find it (checked
        against the oracle). `binary` gives the file a known identity (its hashes), e.g. a renamed ngrok.
        """
        acct = self.host.accounts[account]
        if image in _IMAGES:
            path, *meta = _IMAGES[image]
            img, key = _image(path.replace("{home}", self.home), meta), image
        else:
            is_ngrok = binary == "ngrok" or image.lower().endswith(("\\ngrok.exe", "\\evil.exe"))
            img = _image(image, _NO_VERSION, _NGROK_HASH_KEY if is_ngrok else binary)
            key = image.rsplit("\\", 1)[-1].lower()
        directory = cwd if cwd is not None else (self.home + "\\" if acct.interactive else "C:\\Windows\\system32\\")
        proc = _Proc(
            self.world.new_guid(self.host),
            self.world.new_pid(),
            img,
            acct,
            command,
            _x(command),
            _x(directory),
            integrity.encode(),
            None,
            key,
        )
        matched = process_detection_matches(img.path, command)
        _check(expect, matched, command)
        truth: list[_Truth] = []
        if matched:
            truth.append(
                (
                    "process_matches",
                    "",
                    {
                        "dest": self.host.name,
                        "user": acct.name,
                        "process": command,
                        "process_name": _basename(img.path),
                        "parent_process_name": _basename(parent.image.path),
                    },
                )
            )
        elif expect == "near":
            truth.append(("near_misses", "", {"kind": "process", "value": command}))
        found = oracle.process_hits(img.path, command)
        if img.hashes == _NGROK_HASHES and not matched and not found & set(oracle.HASH_TEACHERS):
            found.add(oracle.HASH_PIVOT)  # the ngrok binary, run in a way no command-line detection finds
        _check_new(found, hits, near, command)
        entry = {"dest": self.host.name, "user": acct.name, "process": command, "process_name": _basename(img.path)}
        truth += [("matches", name, entry) for name in sorted(found)]
        truth += [("near_misses", name, {"host": self.host.name, "value": command}) for name in near]
        self._add(self.world.render_create, (proc, parent), truth)
        return proc

    def dns(
        self,
        proc: _Proc,
        query: str,
        expect: str | None = "",
        hits: Sequence[str] = (),
        near: Sequence[str] = (),
        results: str | None = None,
    ) -> None:
        """A name lookup (EID 22) with the answers given, or those listed in _NGROK_RESULTS or _DOMAINS."""
        name = query.lower()
        if results is None:
            results = _NGROK_RESULTS[name] if name in _NGROK_RESULTS else _DOMAINS[name][0]
        matched = dns_detection_matches(query)
        _check(expect, matched, query)
        truth: list[_Truth] = []
        if matched:
            truth.append(("dns_matches", "", {"src": self.host.name, "query": query, "answers": answers(results)}))
        elif expect == "near":
            truth.append(("near_misses", "", {"kind": "dns", "value": query}))
        found = oracle.dns_hits(query)
        cnames = oracle.cname_rows(query, answers(results))
        if cnames:
            found.add(oracle.CNAME)
        _check_new(found, hits, near, query)
        entry = {"src": self.host.name, "query": query}
        truth += [("matches", name, entry) for name in sorted(found - {oracle.CNAME})]
        truth += [("matches", oracle.CNAME, {**entry, "answer": answer}) for answer in cnames]
        truth += [("near_misses", name, {"host": self.host.name, "value": query}) for name in near]
        self._add(self.world.render_dns, (proc, _query(query, results)), truth)

    def connect(
        self, proc: _Proc, ip: str, port: int, hostname: str = "-", hits: Sequence[str] = (), near: Sequence[str] = ()
    ) -> None:
        """An outbound TCP connection (EID 3)."""
        target = (ip.encode(), _x(hostname), port, _PORT_NAMES.get(port, "-").encode())
        found = oracle.network_hits(hostname)
        _check_new(found, hits, near, hostname)
        entry = {
            "src": self.host.name,
            "dest": hostname,
            "dest_port": str(port),
            "process_name": _basename(proc.image.path),
        }
        truth: list[_Truth] = [("matches", name, entry) for name in sorted(found)]
        truth += [("near_misses", name, {"host": self.host.name, "value": hostname}) for name in near]
        self._add(self.world.render_network, (proc, target), truth)

    def file(self, proc: _Proc, path: str, hits: Sequence[str] = (), near: Sequence[str] = ()) -> None:
        """A file written to disk (EID 11)."""
        found = oracle.file_hits(path)
        _check_new(found, hits, near, path)
        entry = {"dest": self.host.name, "file_path": path}
        truth: list[_Truth] = [("matches", name, entry) for name in sorted(found)]
        truth += [("near_misses", name, {"host": self.host.name, "value": path}) for name in near]
        self._add(self.world.render_file, (proc, _x(path)), truth)

    def loads(self, proc: _Proc, count: int = 3) -> None:
        """DLLs a freshly started process maps (EID 7)."""
        for dll in self.world.dll_images[:count]:
            self._add(self.world.render_image_load, (proc, dll))

    def exit(self, proc: _Proc) -> None:
        """The process ends (EID 5)."""
        self._add(self.world.render_terminate, (proc,))


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


class _Planner:
    """Collects scripted scenarios and places each at a random moment inside the time window."""

    def __init__(self, world: _Sysmon, rng: random.Random, start: int, span: int) -> None:
        self.world = world
        self.rng = rng
        self.start = start
        self.span = span
        self.events: list[_Planned] = []

    def script(self, host: str) -> _Script:
        """Begin a scenario on a host, by short name."""
        return _Script(self, self.world.by_name[host])

    def place(self, script: _Script) -> None:
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
        the events it must find (`matches`) and the planted look-alikes it must not (`near_misses`).
        """
        lists: dict[str, Any] = {"process_matches": [], "dns_matches": [], "near_misses": []}
        detections: dict[str, dict[str, list[dict[str, Any]]]] = {
            name: {"matches": [], "near_misses": []} for name in oracle.ALL_DETECTIONS
        }
        for item in sorted(self.events, key=lambda planned: (planned.ticks, planned.seq)):
            for kind, detection, entry in item.truth:
                stamped = entry if kind == "near_misses" else {**entry, "time": _iso(item.ticks)}
                if detection:
                    detections[detection][kind].append(stamped)
                else:
                    lists[kind].append(stamped)
        return {**lists, "detections": detections}


# --- the fixed scenarios ----------------------------------------------------------------------------


def _download_and_start(plan: _Planner) -> None:
    """wks-017, bob: finds ngrok in Edge, unzips it, adds an authtoken, starts all tunnels from a config."""
    s = plan.script("wks-017")
    explorer = s.proc("explorer")
    edge = s.spawn("msedge", f'"{_IMAGES["msedge"][0]}" --profile-directory=Default', explorer)
    s.dns(edge, "ngrok.com", expect="near", near=(AGENT_HOSTS, ENDPOINTS, DOWNLOADS))
    s.connect(edge, "3.125.209.94", 443, "ngrok.com")
    s.wait(20, 90)
    s.file(edge, f"{s.home}\\Downloads\\ngrok-v3-stable-windows-amd64.zip")
    s.wait(10, 60)
    s.file(explorer, f"{s.home}\\Downloads\\ngrok.exe")
    shell = s.spawn("cmd", '"C:\\Windows\\system32\\cmd.exe"', explorer)
    s.wait(5, 30)
    ngrok = f"{s.home}\\Downloads\\ngrok.exe"
    config = f"{s.home}\\AppData\\Local\\ngrok\\ngrok.yml"
    first = s.spawn(
        ngrok, f"ngrok config add-authtoken {_AUTHTOKEN}", shell, cwd=f"{s.home}\\Downloads\\", expect="match"
    )
    s.file(first, config)
    s.exit(first)
    s.wait(10, 120)
    agent = s.spawn(
        ngrok, f'"{ngrok}" start --all --config {config}', shell, cwd=f"{s.home}\\Downloads\\", expect="match"
    )
    s.loads(agent)
    s.dns(agent, "tunnel.us.ngrok.com", expect="match")
    s.connect(agent, "3.20.27.198", 443)
    s.wait(300, 1200)
    s.exit(agent)
    plan.place(s)


def _web_shell_rdp(plan: _Planner) -> None:
    """srv-web-01, IIS app pool: a web shell drops a v2 agent and exposes RDP; the agent falls back to korgn."""
    s = plan.script("srv-web-01")
    w3wp = s.proc("w3wp")
    ps = s.spawn(
        "powershell",
        'powershell.exe -NoP -W Hidden -c "Expand-Archive C:\\ProgramData\\ngrok\\n.zip '
        '-DestinationPath C:\\ProgramData\\ngrok -Force; & C:\\ProgramData\\ngrok\\n.cmd"',
        w3wp,
        account="apppool",
        integrity="High",
        cwd="C:\\Windows\\system32\\inetsrv\\",
    )
    s.file(ps, "C:\\ProgramData\\ngrok\\ngrok.exe")
    ngrok = "C:\\ProgramData\\ngrok\\ngrok.exe"
    cwd = "C:\\ProgramData\\ngrok\\"
    s.exit(s.spawn(ngrok, f"ngrok.exe authtoken {_AUTHTOKEN}", ps, "apppool", "High", cwd, expect="match"))
    agent = s.spawn(ngrok, "ngrok.exe tcp 3389", ps, "apppool", "High", cwd, expect="match")
    s.loads(agent, 5)
    s.dns(agent, "dns.google.com")
    s.connect(agent, "8.8.8.8", 443, "dns.google")
    s.dns(agent, "korgn.su.lennut.com", expect="match")
    s.dns(agent, "ngrok.us.tunnel.com", expect="match")
    s.connect(agent, "3.20.27.198", 443)
    plan.place(s)


def _developer_tunnels(plan: _Planner) -> None:
    """wks-042, dave: an upper-case run from cmd, then a shortcut run with basic auth (quotes and `&`)."""
    s = plan.script("wks-042")
    explorer = s.proc("explorer")
    shell = s.spawn("cmd", '"C:\\Windows\\system32\\cmd.exe"', explorer)
    loud = s.spawn("C:\\Tools\\NGROK.EXE", "NGROK.EXE HTTP 80", shell, cwd="C:\\Tools\\", expect="match")
    s.dns(loud, "Tunnel.EU.Ngrok.COM", expect="match")
    s.connect(loud, "3.125.102.39", 443)
    s.wait(600, 1800)
    s.exit(loud)
    agent = s.spawn(
        "C:\\Tools\\ngrok.exe",
        '"C:\\Tools\\ngrok.exe" http 8080 --basic-auth "dave:s3cr&t<1>"',
        explorer,
        cwd="C:\\Tools\\",
        expect="match",
    )
    s.dns(agent, "tunnel.eu.ngrok.com", expect="match")
    s.connect(agent, "18.192.93.86", 443)
    plan.place(s)


def _share_local_app(plan: _Planner) -> None:
    """wks-001, alice: exposes a local app from PowerShell and opens the public URL in Chrome."""
    s = plan.script("wks-001")
    explorer = s.proc("explorer")
    ps = s.spawn("powershell", '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"', explorer)
    agent = s.spawn(
        f"{s.home}\\Downloads\\ngrok.exe", "ngrok.exe http 8080", ps, cwd=f"{s.home}\\Downloads\\", expect="match"
    )
    s.dns(agent, "tunnel.us.ngrok.com", expect="match")
    s.connect(agent, "3.134.73.173", 443)
    s.dns(ps, "ngrok.tunnel.com", expect="near", near=(AGENT_HOSTS,))
    chrome = s.spawn("chrome", f"{_CHROME} https://abcd-1-2-3-4.ngrok.io/", explorer)
    s.dns(chrome, "abcd-1-2-3-4.ngrok.io", expect="match")
    s.connect(chrome, "3.20.27.198", 443, "abcd-1-2-3-4.ngrok.io")
    plan.place(s)


def _rdp_through_tunnel(plan: _Planner) -> None:
    """wks-058, erin: RDP to an ngrok TCP endpoint, a look-alike tool, a look-alike domain."""
    s = plan.script("wks-058")
    explorer = s.proc("explorer")
    rdp = s.spawn("mstsc", '"C:\\Windows\\system32\\mstsc.exe" /v:2.tcp.ngrok.io:14155', explorer)
    s.dns(rdp, "2.tcp.ngrok.io", expect="match")
    s.connect(rdp, "3.134.39.220", 14155, "2.tcp.ngrok.io")
    shell = s.spawn("cmd", '"C:\\Windows\\system32\\cmd.exe"', explorer)
    s.spawn(f"{s.home}\\Downloads\\ngrokker.exe", "ngrokker.exe http 80", shell, expect="near", hits=(GRAMMAR,))
    chrome = s.spawn("chrome", _CHROME, explorer)
    s.dns(chrome, "ngrok.io.evil.com", expect="near", near=(ENDPOINTS,))
    plan.place(s)


def _curious_user(plan: _Planner) -> None:
    """wks-003, carol: checks ngrok's version, reads notes about it, browses look-alike names."""
    s = plan.script("wks-003")
    explorer = s.proc("explorer")
    shell = s.spawn("cmd", '"C:\\Windows\\system32\\cmd.exe"', explorer)
    s.exit(
        s.spawn(
            f"{s.home}\\Downloads\\ngrok.exe",
            "ngrok.exe version",
            shell,
            cwd=f"{s.home}\\Downloads\\",
            expect="near",
            near=(GRAMMAR,),
        )
    )
    s.spawn("notepad", "notepad.exe C:\\notes\\ngrok-start.txt", explorer, expect="near", near=(GRAMMAR,))
    chrome = s.spawn("chrome", _CHROME, explorer)
    s.dns(chrome, "ngrok.io", expect="near", near=(ENDPOINTS,))
    s.dns(chrome, "myngrok.io", expect="near", near=(ENDPOINTS,))
    plan.place(s)


def _renamed_agent(plan: _Planner) -> None:
    """srv-file-01, frank: a renamed agent; the process detection misses it by name, DNS still sees it."""
    s = plan.script("srv-file-01")
    ps = s.spawn(
        "powershell",
        '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"',
        s.proc("explorer"),
        integrity="High",
    )
    evil = s.spawn(
        "C:\\tools\\ngrok.exe.bak\\evil.exe",
        "C:\\tools\\ngrok.exe.bak\\evil.exe tcp 22",
        ps,
        integrity="High",
        expect="near",
        hits=(GRAMMAR, REMOTE),
    )
    s.dns(evil, "tunnel.us.ngrok.com", expect="match")
    s.connect(evil, "3.20.27.198", 443)
    s.dns(ps, "notngrok.com.example.net", expect="near", near=(AGENT_HOSTS,))
    plan.place(s)


# --- tunnel scenarios beyond the seeds: renamed and v2 agents, services, SSH, other tunnel services -----------

_NGROK_CONNECT = "::ffff:3.20.27.198;::ffff:3.134.73.173;"
_CRL = "type:  5 crl.ngrok-agent.com.cdn.cloudflare.net;::ffff:104.18.34.11;::ffff:172.64.153.245;"
_PS = '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"'


def _renamed_v3_agent(plan: _Planner) -> None:
    """wks-042, dave: fetches ngrok with PowerShell, renames it after Edge's updater, publishes a local app."""
    s = plan.script("wks-042")
    explorer = s.proc("explorer")
    ps = s.spawn(
        "powershell",
        'powershell.exe -NoProfile -Command "Invoke-WebRequest '
        'https://bin.equinox.io/c/bNyj1mQVY4c/ngrok-v3-stable-windows-amd64.zip -OutFile $env:TEMP\\n.zip"',
        explorer,
        near=(GRAMMAR,),
    )
    s.dns(
        ps, "bin.equinox.io", hits=(DOWNLOADS,), results="type:  5 bin.equinox.io.s3.amazonaws.com;::ffff:52.217.71.4;"
    )
    s.file(ps, f"{s.home}\\AppData\\Local\\Temp\\n.zip")
    s.wait(20, 120)
    renamed = f"{s.home}\\AppData\\Local\\Temp\\MicrosoftEdgeUpdateCore.exe"
    first = s.spawn(
        renamed, f'"{renamed}" config add-authtoken {_AUTHTOKEN}', ps, hits=(GRAMMAR,), near=(REMOTE,), binary="ngrok"
    )
    s.file(first, f"{s.home}\\AppData\\Local\\ngrok\\ngrok.yml", hits=(CONFIG_FILE,))
    s.exit(first)
    s.wait(30, 300)
    agent = s.spawn(
        renamed,
        f'"{renamed}" http 3000 --url https://dave-demo.ngrok-free.app',
        ps,
        hits=(GRAMMAR,),
        near=(REMOTE,),
        binary="ngrok",
    )
    s.loads(agent, 3)
    s.dns(agent, "crl.ngrok-agent.com", hits=(DOWNLOADS,), results=_CRL)
    s.dns(agent, "connect.ngrok-agent.com", hits=(AGENT_HOSTS,), results=_NGROK_CONNECT)
    s.connect(agent, "3.20.27.198", 443, "connect.ngrok-agent.com", hits=(NETWORK,))
    chrome = s.spawn("chrome", _CHROME, explorer)
    s.dns(chrome, "dave-demo.ngrok-free.app", hits=(ENDPOINTS,), results="::ffff:3.124.67.191;")
    s.connect(chrome, "3.124.67.191", 443, "dave-demo.ngrok-free.app", near=(NETWORK,))
    s.wait(120, 600)
    s.dns(agent, "update.ngrok-agent.com", hits=(DOWNLOADS,), results="::ffff:104.18.35.11;")
    s.exit(agent)
    s.wait(600, 1200)
    s.spawn(renamed, f'"{renamed}" update', ps, hits=(HASH_PIVOT,), near=(GRAMMAR,), binary="ngrok")
    plan.place(s)


def _persistent_rdp_service(plan: _Planner) -> None:
    """srv-db-01, frank: installs ngrok as a service exposing RDP, then tries a renamed v2 agent as well."""
    s = plan.script("srv-db-01")
    ps = s.spawn("powershell", _PS, s.proc("explorer"), integrity="High")
    ngrok, config = "C:\\ProgramData\\ngrok\\ngrok.exe", "C:\\ProgramData\\ngrok\\ngrok.yml"
    s.file(ps, config, near=(CONFIG_FILE,))  # written by hand, outside the paths ngrok itself uses
    s.spawn(
        ngrok,
        f'"{ngrok}" service install --config {config}',
        ps,
        integrity="High",
        expect="match",
        hits=(GRAMMAR, REMOTE),
    )
    s.wait(5, 30)
    service = s.spawn(
        ngrok,
        f'"{ngrok}" service run --config {config}',
        s.proc("services"),
        account="system",
        integrity="System",
        cwd="C:\\Windows\\system32\\",
        expect="match",
        hits=(GRAMMAR,),
        near=(REMOTE,),
    )
    s.dns(service, "connect.us.ngrok-agent.com", hits=(AGENT_HOSTS,), results=_NGROK_CONNECT)
    s.connect(service, "3.134.73.173", 443, "connect.us.ngrok-agent.com", hits=(NETWORK,))
    s.wait(300, 900)
    v2 = "C:\\Windows\\Temp\\sqlwriter64.exe"
    s.spawn(
        v2,
        f"{v2} tcp -region=eu -authtoken {_AUTHTOKEN} 3389",
        ps,
        integrity="High",
        expect="",
        hits=(GRAMMAR, REMOTE),
        binary="ngrok",
    )
    s.dns(ps, "tunnel.eu.ngrok.com", expect="match", hits=(AGENT_HOSTS,))
    plan.place(s)


def _ngrok_over_ssh(plan: _Planner) -> None:
    """wks-001, alice: an ngrok tunnel through ngrok's SSH gateway, no ngrok binary; and ordinary SSH next to it."""
    s = plan.script("wks-001")
    ps = s.spawn("powershell", _PS, s.proc("explorer"))
    ssh = s.spawn(
        "ssh",
        "ssh -R 443:localhost:8080 v2@connect.ngrok-agent.com http",
        ps,
        hits=(OVER_SSH,),
        near=(GRAMMAR, OTHER_CLIENTS),
    )
    s.dns(ssh, "connect.ngrok-agent.com", hits=(AGENT_HOSTS,), results=_NGROK_CONNECT)
    s.connect(ssh, "3.20.27.198", 22, "connect.ngrok-agent.com", hits=(NETWORK,))
    s.wait(60, 600)
    s.spawn("ssh", "ssh -R 8080:localhost:80 jump.corp.example.com", ps, near=(OVER_SSH, OTHER_CLIENTS))
    s.spawn("ssh", "ssh admin@connect.ngrok-agent.com.example.net", ps, near=(OVER_SSH,))
    s.spawn("nslookup", "nslookup connect.ngrok-agent.com", ps, near=(OVER_SSH, GRAMMAR))
    plan.place(s)


def _endpoint_visits(plan: _Planner) -> None:
    """wks-003, carol: opens links to ngrok endpoints, RDPs to a TCP endpoint, visits ngrok's own web site."""
    s = plan.script("wks-003")
    explorer = s.proc("explorer")
    chrome = s.spawn("chrome", _CHROME, explorer)
    for name, address in (
        ("payroll-portal.ngrok-free.dev", "18.158.249.75"),
        ("shop-7f3a.ngrok.app", "3.125.209.94"),
        ("api-demo.ngrok.dev", "3.125.209.94"),
        ("party.ngrok.pizza", "3.125.209.94"),
    ):
        s.dns(chrome, name, hits=(ENDPOINTS,), results=f"::ffff:{address};")
        s.wait(5, 90)
    s.dns(
        chrome,
        "invoice-portal.contoso-billing.example",
        hits=(CNAME,),
        results="type:  5 3k9x2m7f5a.6b3c.ngrok-cname.com;::ffff:3.20.27.198;",
    )
    s.dns(
        chrome, "status.example.org", near=(CNAME,), results="type:  5 ngrok-cname.com.example.net;::ffff:192.0.2.10;"
    )
    s.dns(
        chrome,
        "dashboard.ngrok.com",
        expect="match",
        near=(AGENT_HOSTS, ENDPOINTS, DOWNLOADS),
        results="::ffff:3.125.209.94;",
    )
    s.dns(chrome, "ngrok-free.app", near=(ENDPOINTS,), results="::ffff:3.124.67.191;")
    s.dns(chrome, "ngrok-free.app.example.net", near=(ENDPOINTS,), results="")
    s.dns(chrome, "connect.ngrok-agent.com.example.net", near=(AGENT_HOSTS,), results="")
    rdp = s.spawn(
        "mstsc", '"C:\\Windows\\system32\\mstsc.exe" /v:4.tcp.us-cal-1.ngrok.io:12345', explorer, near=(GRAMMAR, REMOTE)
    )
    s.dns(rdp, "4.tcp.us-cal-1.ngrok.io", expect="match", hits=(ENDPOINTS,), results="::ffff:52.8.236.79;")
    s.connect(rdp, "52.8.236.79", 12345, "4.tcp.us-cal-1.ngrok.io", near=(NETWORK,))
    plan.place(s)


def _cloudflare_and_friends(plan: _Planner) -> None:
    """wks-058, erin: a Cloudflare quick tunnel to RDP, localtunnel, bore and localhost.run, and look-alikes."""
    s = plan.script("wks-058")
    explorer = s.proc("explorer")
    shell = s.spawn("cmd", '"C:\\Windows\\system32\\cmd.exe"', explorer)
    cloudflared = f"{s.home}\\Downloads\\cloudflared-windows-amd64.exe"
    quick = s.spawn(
        cloudflared,
        "cloudflared-windows-amd64.exe tunnel --url http://localhost:3389",
        shell,
        hits=(OTHER_CLIENTS,),
        near=(GRAMMAR, REMOTE),
    )
    s.dns(quick, "api.trycloudflare.com", hits=(OTHER_DNS,), results="::ffff:104.16.230.132;::ffff:104.16.231.132;")
    s.dns(quick, "region1.v2.argotunnel.com", hits=(OTHER_DNS,), results="::ffff:198.41.192.7;::ffff:198.41.192.27;")
    s.connect(quick, "198.41.192.7", 7844, "region1.v2.argotunnel.com", near=(NETWORK,))
    s.spawn(cloudflared, "cloudflared-windows-amd64.exe update", shell, near=(OTHER_CLIENTS, HASH_PIVOT))
    s.wait(60, 600)
    lt = s.spawn(
        "node",
        '"C:\\Program Files\\nodejs\\node.exe" '
        f'"{s.home}\\AppData\\Roaming\\npm\\node_modules\\localtunnel\\bin\\lt.js" --port 8000',
        shell,
        hits=(OTHER_CLIENTS,),
        near=(GRAMMAR,),
    )
    s.dns(lt, "localtunnel.me", hits=(OTHER_DNS,), results="::ffff:193.34.76.44;")
    s.dns(lt, "loca.lt", hits=(OTHER_DNS,), results="::ffff:193.34.76.44;")
    bore = s.spawn(
        f"{s.home}\\tools\\bore.exe",
        f"{s.home}\\tools\\bore.exe local 22 --to bore.pub",
        shell,
        hits=(OTHER_CLIENTS,),
        near=(GRAMMAR, REMOTE),
    )
    s.dns(bore, "bore.pub", hits=(OTHER_DNS,), results="::ffff:159.223.171.199;")
    ssh = s.spawn("ssh", "ssh -R 80:localhost:8080 nokey@localhost.run", shell, hits=(OTHER_CLIENTS,), near=(OVER_SSH,))
    s.dns(ssh, "localhost.run", hits=(OTHER_DNS,), results="::ffff:54.82.85.249;")
    chrome = s.spawn("chrome", _CHROME, explorer)
    for name in ("tired-owl-example-demo.trycloudflare.com", "quick-fox-7.loca.lt", "9f8e7d6c5b4a.lhr.life"):
        s.dns(chrome, name, hits=(OTHER_DNS,), results="::ffff:104.16.230.132;")
    for name in ("developers.cloudflare.com", "trycloudflare.com", "bore.pub.example.com"):
        s.dns(chrome, name, near=(OTHER_DNS,), results="::ffff:104.16.2.189;")
    plan.place(s)


def _ssh_services_and_dev_tunnels(plan: _Planner) -> None:
    """wks-001, alice: serveo and pinggy over SSH, a Microsoft dev tunnel and a VS Code tunnel."""
    s = plan.script("wks-001")
    explorer = s.proc("explorer")
    ps = s.spawn("powershell", _PS, explorer)
    serveo = s.spawn("ssh", "ssh -R 80:localhost:3000 serveo.net", ps, hits=(OTHER_CLIENTS,), near=(OVER_SSH,))
    s.dns(serveo, "serveo.net", hits=(OTHER_DNS,), results="::ffff:138.68.79.95;")
    pinggy = s.spawn("ssh", "ssh -p 443 -R0:localhost:8000 a.pinggy.io", ps, hits=(OTHER_CLIENTS,))
    s.dns(pinggy, "a.pinggy.io", hits=(OTHER_DNS,), results="::ffff:34.87.117.51;")
    devtunnel = f"{s.home}\\AppData\\Local\\Microsoft\\DevTunnels\\devtunnel.exe"
    host = s.spawn(devtunnel, f"{devtunnel} host -p 5000 --allow-anonymous", ps, hits=(OTHER_CLIENTS,))
    s.dns(
        host,
        "x7k2m9-5000.euw.devtunnels.ms",
        hits=(OTHER_DNS,),
        results="type:  5 tunnels-prod-rel-euw-v3-cluster.westeurope.cloudapp.azure.com;::ffff:20.103.221.187;",
    )
    code = f'"{s.home}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"'
    s.spawn("code", f"{code} tunnel", explorer, hits=(OTHER_CLIENTS,))
    s.spawn("code", f"{code} --list-extensions", explorer, near=(OTHER_CLIENTS,))
    chrome = s.spawn("chrome", _CHROME, explorer)
    s.dns(chrome, "rnxyz-203-0-113-9.a.free.pinggy.link", hits=(OTHER_DNS,), results="::ffff:34.87.117.51;")
    s.dns(chrome, "5b2c8d1e9f7a.serveousercontent.com", hits=(OTHER_DNS,), results="::ffff:138.68.79.95;")
    s.dns(chrome, "pinggy.io", near=(OTHER_DNS,), results="::ffff:34.87.117.51;")
    plan.place(s)


def _admin_look_alikes(plan: _Planner) -> None:
    """srv-web-01, frank: everyday admin commands that share words with tunnel command lines."""
    s = plan.script("srv-web-01")
    ps = s.spawn("powershell", _PS, s.proc("explorer"), integrity="High")
    tunnel_words = (GRAMMAR, REMOTE, OTHER_CLIENTS)
    for image, command in (
        ("python", "python.exe -m http.server 8000"),
        ("curl", "curl.exe http://intranet.corp.example.com/health"),
        ("netsh", "netsh http add urlacl url=http://+:8080/ user=Everyone"),
        ("netstat", "netstat -an -p tcp 5"),
        (
            "powershell",
            'powershell.exe New-NetFirewallRule -DisplayName "RDP" -Direction Inbound -Protocol TCP '
            "-LocalPort 3389 -Action Allow",
        ),
        (
            "reg",
            'reg add "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2'
            '\\Server" /v Enabled /t REG_DWORD /d 1 /f',
        ),
        ("git", "git.exe config --global http.proxy http://proxy.corp.example.com:8080"),
        ("ssh", "ssh -L 13389:srv-db-01.corp.example.com:3389 jump.corp.example.com"),
    ):
        s.spawn(image, command, ps, integrity="High", near=tunnel_words)
        s.wait(5, 60)
    plan.place(s)


_FIXED_SCENARIOS = (
    _download_and_start,
    _web_shell_rdp,
    _developer_tunnels,
    _share_local_app,
    _rdp_through_tunnel,
    _curious_user,
    _renamed_agent,
    _renamed_v3_agent,
    _persistent_rdp_service,
    _ngrok_over_ssh,
    _endpoint_visits,
    _cloudflare_and_friends,
    _ssh_services_and_dev_tunnels,
    _admin_look_alikes,
)

# --- scenarios added in proportion to the dataset size -----------------------------------------------


def _extra_run(plan: _Planner) -> None:
    """Another user somewhere starts ngrok from a shell: one process match and one DNS match."""
    rng = plan.rng
    s = plan.script(rng.choice(_HOSTS)[0])
    port = rng.choice((80, 443, 3000, 5000, 8000, 8080, 8443, 22, 3389))
    region = rng.choice(_REGIONS)
    path = rng.choice(
        (
            f"{s.home}\\Downloads\\ngrok.exe",
            f"{s.home}\\Downloads\\ngrok-v3-stable-windows-amd64\\ngrok.exe",
            "C:\\ngrok\\ngrok.exe",
            f"{s.home}\\AppData\\Local\\Temp\\ngrok.exe",
        )
    )
    command = rng.choice(
        (
            f"ngrok.exe http {port}",
            f"ngrok tcp {port}",
            f'"{path}" http https://localhost:{port}',
            f"ngrok.exe tcp {port} --region {region}",
            f"ngrok.exe start web --config {s.home}\\ngrok.yml",
            f'ngrok http {port} --authtoken {_AUTHTOKEN} --url "https://demo-{port}.ngrok.dev"',
        )
    )
    shell_key = rng.choice(("cmd", "powershell"))
    shell = s.spawn(shell_key, f'"{_IMAGES[shell_key][0]}"', s.proc("explorer"))
    s.wait(2, 60)
    agent = s.spawn(path, command, shell, expect="match")
    s.loads(agent, 2)
    query = f"tunnel.{region}.ngrok.com"
    s.dns(agent, query, expect="match")
    s.connect(agent, _NGROK_RESULTS[query].split(";")[0].removeprefix("::ffff:"), 443)
    s.wait(60, 900)
    s.exit(agent)
    plan.place(s)


def _extra_near_miss(plan: _Planner) -> None:
    """A look-alike name lookup in a browser somewhere; the detections must stay quiet."""
    rng = plan.rng
    host = rng.choice([spec[0] for spec in _HOSTS if spec[2] == "wks"])
    s = plan.script(host)
    chrome = s.spawn("chrome", _CHROME, s.proc("explorer"))
    s.dns(chrome, rng.choice(_NEAR_MISS_DNS), expect="near", near=(AGENT_HOSTS, ENDPOINTS))
    plan.place(s)


def _plan(world: _Sysmon, rng: random.Random, start: int, span: int, events: int) -> _Planner:
    """All planted scenarios for a dataset of `events` events."""
    plan = _Planner(world, rng, start, span)
    for scenario in _FIXED_SCENARIOS:
        scenario(plan)
    if len(plan.events) > MIN_EVENTS // 2:
        raise AssertionError("fixed scenarios outgrew MIN_EVENTS")
    for _ in range(events // _EXTRA_RUN_EVERY):
        _extra_run(plan)
    for _ in range(events // _EXTRA_MISS_EVERY):
        _extra_near_miss(plan)
    plan.events.sort(key=lambda planned: (planned.ticks, planned.seq))
    return plan


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedDataset:
    """What `generate_sysmon` wrote."""

    path: Path  # the written .log file
    events: int  # total events written
    truth_path: Path  # JSON ground truth
    linux_path: Path | None = None  # Sysmon for Linux syslog with its own planted activity
    macos_path: Path | None = None  # an EDR's ECS export from Macs


class _BackgroundWriter:
    """Writes chunks on a second thread, so disk time overlaps generation (a write releases the GIL).

    The queue is bounded, so memory stays flat; a write error is re-raised in the caller on close.
    """

    def __init__(self, out: BinaryIO, depth: int = 8) -> None:
        self._out = out
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sysmon-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._out.write(chunk)
                except BaseException as exc:  # handed back to the producer in close()
                    self._error = exc

    def write(self, chunk: bytes) -> None:
        """Queue a chunk (blocks while the queue is full)."""
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait for every queued chunk to be written; raise the first write error, if any."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _write_stream(
    out: _BackgroundWriter, world: _Sysmon, planned: list[_Planned], background: int, start: int, span: int
) -> None:
    """Background events on an even grid with jitter, planted events merged in by time, in chunks.

    The time strings are rendered inline (date part once per second): this loop runs once per event.
    """
    table = world.background_table()
    rnd = world.rnd
    slot = span // max(background, 1)
    clock = _Clock()
    queue = iter(planned)
    pending = next(queue, None)
    limit = pending.ticks if pending is not None else _NEVER
    buf: list[bytes] = []
    append = buf.append
    last_second = -1
    iso = utc = b""
    for i in range(background):
        ticks = start + i * span // background + int(rnd() * slot)
        while ticks >= limit and pending is not None:
            append(pending.render(*clock(pending.ticks), *pending.args))
            pending = next(queue, None)
            limit = pending.ticks if pending is not None else _NEVER
        second, frac = divmod(ticks, _TICKS)
        if second != last_second:
            last_second = second
            iso = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)).encode()
            utc = iso.replace(b"T", b" ")
        digits = b"%07d" % frac
        append(table[int(rnd() * 100)](iso + digits, utc + digits[:3]))
        if len(buf) >= _CHUNK_LINES:
            out.write(b"".join(buf))
            buf.clear()
    while pending is not None:
        append(pending.render(*clock(pending.ticks), *pending.args))
        pending = next(queue, None)
    out.write(b"".join(buf))


def generate_sysmon(
    out_dir: Path, events: int = 20000, seed: int = 7, end: datetime | None = None, hours: float = 6.0
) -> GeneratedDataset:
    """Write `windows-sysmon.log` (exactly `events` events), its Linux and macOS companions and `truth.json`.

    The same arguments always give byte-identical files. Time runs over `hours` ending at `end`
    (default ANCHOR; a naive datetime is UTC), in increasing order.
    """
    if events < MIN_EVENTS:
        raise ValueError(f"events must be at least {MIN_EVENTS} (the planted scenarios need room), got {events}")
    if not hours > 0:
        raise ValueError(f"hours must be positive, got {hours}")
    end_ticks = _ticks(end or ANCHOR)
    span = int(hours * 3600 * _TICKS)
    start = end_ticks - span
    rng = random.Random(seed)
    world = _Sysmon(random.Random(rng.getrandbits(64)))
    plan = _plan(world, random.Random(rng.getrandbits(64)), start, span, events)
    if len(plan.events) > events:
        raise ValueError(f"{events} events cannot hold the {len(plan.events)} planted ones")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOG_NAME
    with path.open("wb") as out:
        writer = _BackgroundWriter(out)
        try:
            _write_stream(writer, world, plan.events, events - len(plan.events), start, span)
        finally:
            writer.close()
    truth = {"seed": seed, "events": events, "start": _iso(start), "end": _iso(end_ticks), **plan.truth()}
    unix = write_unix(out_dir, random.Random(rng.getrandbits(64)), start, span, max(events // _UNIX_SHARE, 100))
    for kind, detection, entry in unix.truth:
        truth["detections"][detection][kind].append(entry)
    for lists in truth["detections"].values():
        lists["matches"].sort(key=lambda entry: entry["time"])
    truth_path = out_dir / TRUTH_NAME
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return GeneratedDataset(
        path=path, events=events, truth_path=truth_path, linux_path=unix.linux_path, macos_path=unix.macos_path
    )
