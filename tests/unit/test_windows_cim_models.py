"""Registry, Authentication, Change, Services and WFP traffic from Windows events, as Splunk's Windows and
Sysmon add-ons map them. Events are written from Microsoft's event documentation (field names and values
as each event's XML shows them); the real EVTX samples' counts are checked in tests/e2e/test_windows_models_real.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from tests.helpers import NS
from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.readers.sources import Source
from tunnelhunt.readers.sysmon_xml import SysmonXmlReader
from tunnelhunt.store.events import EVENTS_TABLE

SYSMON = ("Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational")
SECURITY = ("Microsoft-Windows-Security-Auditing", "Security")
SCM = ("Service Control Manager", "System")
RDP = (
    "Microsoft-Windows-TerminalServices-RemoteConnectionManager",
    "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
)


def event(source: tuple[str, str], event_id: int, data: dict[str, str], user_data: bool = False) -> str:
    """One event as XmlWinEventLog holds it; 1149 keeps its fields in UserData/EventXML, not EventData."""
    provider, channel = source
    items = "".join(f"<Data Name='{k}'>{escape(v)}</Data>" for k, v in data.items())
    if user_data:
        body = "<UserData><EventXML xmlns='Event_NS'>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in data.items())
        body += "</EventXML></UserData>"
    else:
        body = f"<EventData>{items}</EventData>"
    return (
        f"<Event xmlns='{NS}'><System><Provider Name='{provider}'/><EventID>{event_id}</EventID>"
        f"<TimeCreated SystemTime='2026-11-20T10:00:00.0000000Z'/><EventRecordID>1</EventRecordID>"
        f"<Channel>{channel}</Channel><Computer>dc01.contoso.local</Computer><Security/></System>{body}</Event>"
    )


def mapped(tmp_path: Path, *events: str) -> dict[str, list[dict[str, Any]]]:
    path = tmp_path / "events.log"
    path.write_text("\n".join(events) + "\n")
    normalizer = Normalizer()
    tables: dict[str, list[dict[str, Any]]] = {}
    for batch in SysmonXmlReader().read(Source(path)):
        result = normalizer.normalize(batch)
        assert not result.quarantined
        for name, table in result.tables.items():
            if name != EVENTS_TABLE:  # every record is also a raw event; these tests look at the data models
                tables.setdefault(name, []).extend(table.to_pylist())
    return tables


def one(tmp_path: Path, table: str, xml: str) -> dict[str, Any]:
    tables = mapped(tmp_path, xml)
    assert list(tables) == [table]
    (row,) = tables[table]
    return row


# --- Endpoint.Registry -------------------------------------------------------------------------------------


def test_sysmon_13_set_value_on_portproxy(tmp_path: Path) -> None:
    row = one(tmp_path, "endpoint_registry", event(SYSMON, 13, {
        "EventType": "SetValue", "ProcessGuid": "{a}", "ProcessId": "3008",
        "Image": "C:\\Windows\\system32\\netsh.exe",
        "TargetObject": "HKLM\\System\\CurrentControlSet\\Services\\PortProxy\\v4tov4\\tcp\\0.0.0.0/8001",
        "Details": "127.0.0.1/3389", "User": "CONTOSO\\alice"}))  # fmt: skip
    assert row["action"] == "modified"
    assert row["registry_path"].endswith("PortProxy\\v4tov4\\tcp\\0.0.0.0/8001")
    assert row["registry_key_name"] == row["registry_value_name"] == "0.0.0.0/8001"
    assert row["registry_value_data"] == "127.0.0.1/3389"
    assert row["registry_hive"] == "HKEY_LOCAL_MACHINE"
    assert (row["dest"], row["user"], row["process_id"]) == ("dc01.contoso.local", "CONTOSO\\alice", "3008")
    assert row["vendor_product"] == "Microsoft Sysmon"


def test_sysmon_13_dword_details_become_the_hex_the_add_on_extracts(tmp_path: Path) -> None:
    row = one(tmp_path, "endpoint_registry", event(SYSMON, 13, {
        "EventType": "SetValue", "TargetObject": "HKU\\S-1-5-21-1\\Software\\Policies\\x\\DisableX",
        "Details": "DWORD (0x00000001)"}))  # fmt: skip
    assert (row["registry_value_data"], row["registry_value_type"]) == ("0x00000001", "REG_DWORD")
    assert row["registry_value_text"] == "DWORD (0x00000001)"
    assert row["registry_hive"] == "HKEY_USERS"


@pytest.mark.parametrize(
    ("event_id", "event_type", "action", "value_name"),
    [(12, "CreateKey", "created", None), (12, "DeleteKey", "deleted", None), (12, "DeleteValue", "deleted", "v"),
     (14, "RenameKey", "modified", None)],
)  # fmt: skip
def test_sysmon_12_and_14_key_events(
    tmp_path: Path, event_id: int, event_type: str, action: str, value_name: str | None
) -> None:
    row = one(tmp_path, "endpoint_registry", event(SYSMON, event_id, {
        "EventType": event_type, "TargetObject": "HKLM\\SOFTWARE\\Acme\\v"}))  # fmt: skip
    assert (row["action"], row["registry_key_name"], row["registry_value_name"]) == (action, "v", value_name)


def test_security_4657_kernel_path_becomes_the_sysmon_form(tmp_path: Path) -> None:
    row = one(tmp_path, "endpoint_registry", event(SECURITY, 4657, {
        "SubjectUserSid": "S-1-5-21-1", "SubjectUserName": "dadmin", "SubjectDomainName": "CONTOSO",
        "ObjectName": "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services\\PortProxy\\v4tov4\\tcp",
        "ObjectValueName": "0.0.0.0/8001", "OperationType": "%%1904", "NewValueType": "%%1873",
        "NewValue": "127.0.0.1/3389", "ProcessId": "0xce4",
        "ProcessName": "C:\\Windows\\System32\\netsh.exe"}))  # fmt: skip
    assert row["registry_path"] == "HKLM\\SYSTEM\\ControlSet001\\Services\\PortProxy\\v4tov4\\tcp\\0.0.0.0/8001"
    assert (row["action"], row["registry_value_name"], row["registry_value_data"]) == (
        "created", "0.0.0.0/8001", "127.0.0.1/3389")  # fmt: skip
    assert (row["process_id"], row["user"], row["registry_hive"]) == ("3300", "CONTOSO\\dadmin", "HKEY_LOCAL_MACHINE")


# --- Authentication --------------------------------------------------------------------------------------


def logon(event_id: int, **data: str) -> str:
    base = {"SubjectUserSid": "S-1-5-18", "SubjectUserName": "DC01$", "SubjectDomainName": "CONTOSO",
            "TargetUserSid": "S-1-5-21-1-500", "TargetUserName": "Administrator", "TargetDomainName": "CONTOSO",
            "LogonType": "10", "AuthenticationPackageName": "Negotiate", "WorkstationName": "WKS7",
            "IpAddress": "10.0.0.5", "IpPort": "50311"}  # fmt: skip
    base.update(data)
    return event(SECURITY, event_id, base)


def test_4624_rdp_logon(tmp_path: Path) -> None:
    row = one(tmp_path, "authentication_authentication", logon(4624))
    assert (row["action"], row["app"], row["Logon_Type"]) == ("success", "win:remote", "10")
    assert (row["src"], row["dest"], row["user"], row["user_id"]) == (
        "10.0.0.5", "dc01.contoso.local", "Administrator", "S-1-5-21-1-500")  # fmt: skip
    assert (row["signature_id"], row["signature"]) == ("4624", "An account was successfully logged on")
    assert (row["src_user"], row["dest_nt_domain"], row["authentication_method"]) == ("DC01$", "CONTOSO", "Negotiate")


def test_4624_local_logon_without_address_takes_the_workstation(tmp_path: Path) -> None:
    row = one(tmp_path, "authentication_authentication", logon(4624, LogonType="2", IpAddress="-"))
    assert (row["app"], row["src"], row["Logon_Type"]) == ("win:local", "WKS7", "2")


def test_4625_failure_with_v4_mapped_address(tmp_path: Path) -> None:
    row = one(tmp_path, "authentication_authentication", logon(
        4625, LogonType="3", IpAddress="::ffff:10.0.0.9", Status="0xc000006d", SubStatus="0xc000006a"))  # fmt: skip
    assert (row["action"], row["src"], row["reason"], row["app"]) == ("failure", "10.0.0.9", "0xc000006a", "win:remote")


@pytest.mark.parametrize(("status", "action"), [("0x0", "success"), ("0xc0000064", "failure")])
def test_4776_ntlm_validation(tmp_path: Path, status: str, action: str) -> None:
    row = one(tmp_path, "authentication_authentication", event(SECURITY, 4776, {
        "PackageName": "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0", "TargetUserName": "dadmin",
        "Workstation": "WIN81", "Status": status}))  # fmt: skip
    assert (row["action"], row["user"], row["src"], row["authentication_method"]) == (action, "dadmin", "WIN81", "NTLM")


def test_4768_kerberos_tgt(tmp_path: Path) -> None:
    row = one(tmp_path, "authentication_authentication", event(SECURITY, 4768, {
        "TargetUserName": "dadmin", "TargetDomainName": "CONTOSO.LOCAL", "TargetSid": "S-1-5-21-1-1104",
        "ServiceName": "krbtgt", "Status": "0x0", "IpAddress": "::ffff:10.0.0.12", "IpPort": "49273"}))  # fmt: skip
    assert (row["action"], row["src"], row["authentication_method"], row["user_id"]) == (
        "success", "10.0.0.12", "Kerberos", "S-1-5-21-1-1104")  # fmt: skip


def test_rdp_1149_user_data(tmp_path: Path) -> None:
    row = one(tmp_path, "authentication_authentication", event(RDP, 1149, {
        "Param1": "admin01", "Param2": "example", "Param3": "127.0.0.1"}, user_data=True))  # fmt: skip
    assert (row["action"], row["user"], row["src"], row["dest"], row["signature_id"]) == (
        "success", "admin01", "127.0.0.1", "dc01.contoso.local", "1149")  # fmt: skip
    assert row["Logon_Type"] == "10"


def test_other_rdp_events_stay_unmapped(tmp_path: Path) -> None:
    assert mapped(tmp_path, event(RDP, 261, {"listenerName": "RDP-Tcp"}, user_data=True)) == {}


# --- Change ----------------------------------------------------------------------------------------------


def test_account_created_locked_out_and_added_to_a_group(tmp_path: Path) -> None:
    subject = {"SubjectUserSid": "S-1-5-21-1-500", "SubjectUserName": "Administrator", "SubjectDomainName": "CONTOSO"}
    tables = mapped(
        tmp_path,
        event(SECURITY, 4720, {"TargetUserName": "svc_backup", "TargetDomainName": "CONTOSO",
                               "TargetSid": "S-1-5-21-1-1105", **subject}),
        event(SECURITY, 4740, {"TargetUserName": "jsmith", "TargetDomainName": "WKS7",
                               "TargetSid": "S-1-5-21-1-1106", **subject}),
        event(SECURITY, 4732, {"MemberName": "-", "MemberSid": "S-1-5-21-1-1105", "TargetUserName": "Administrators",
                               "TargetDomainName": "Builtin", "TargetSid": "S-1-5-32-544", **subject}),
        event(SECURITY, 4672, {"SubjectUserName": "x"}),  # special privileges: no data model
    )  # fmt: skip
    assert list(tables) == ["change_all_changes"]
    created, locked, added = tables["change_all_changes"]
    assert (created["action"], created["user"], created["result_id"], created["object_category"]) == (
        "created", "svc_backup", "4720", "user")  # fmt: skip
    assert (created["src_user"], created["result"], created["change_type"]) == (
        "Administrator", "A user account was created", "AAA")  # fmt: skip
    assert (locked["action"], locked["user"], locked["result"]) == (
        "modified",
        "jsmith",
        "A user account was locked out",
    )
    assert (added["object"], added["user"], added["object_category"]) == ("Administrators", "S-1-5-21-1-1105", "group")


# --- Endpoint.Services -----------------------------------------------------------------------------------


def test_7045_service_installed(tmp_path: Path) -> None:
    row = one(tmp_path, "endpoint_services", event(SCM, 7045, {
        "ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe", "ServiceType": "user mode service",
        "StartType": "demand start", "AccountName": "LocalSystem"}))  # fmt: skip
    assert (row["service_name"], row["service_path"], row["service_exec"]) == (
        "PSEXESVC", "%SystemRoot%\\PSEXESVC.exe", "PSEXESVC.exe")  # fmt: skip
    assert (row["start_mode"], row["status"], row["user"], row["dest"]) == (
        "manual", "created", "LocalSystem", "dc01.contoso.local")  # fmt: skip


def test_7036_state_change_and_4697(tmp_path: Path) -> None:
    tables = mapped(
        tmp_path,
        event(SCM, 7036, {"param1": "IP Helper", "param2": "running"}),
        event(SECURITY, 4697, {"SubjectUserName": "dadmin", "ServiceName": "AppHostSvc",
                               "ServiceFileName": "C:\\Windows\\system32\\svchost.exe -k apphost",
                               "ServiceType": "0x20", "ServiceStartType": "2", "ServiceAccount": "localSystem"}),
    )  # fmt: skip
    running, installed = tables["endpoint_services"]
    assert (running["service_name"], running["status"]) == ("IP Helper", "running")
    assert (installed["service_name"], installed["start_mode"], installed["status"]) == (
        "AppHostSvc",
        "auto",
        "created",
    )
    assert installed["service_path"] == "C:\\Windows\\system32\\svchost.exe -k apphost"


# --- Network_Traffic from the Windows Filtering Platform --------------------------------------------------


def wfp(event_id: int, direction: str, src: str, sport: str, dst: str, dport: str) -> str:
    return event(SECURITY, event_id, {
        "ProcessID": "2860", "Application": "\\device\\harddiskvolume1\\users\\u\\desktop\\plink.exe",
        "Direction": direction, "SourceAddress": src, "SourcePort": sport, "DestAddress": dst, "DestPort": dport,
        "Protocol": "6", "FilterRTID": "70853", "LayerName": "%%14611", "LayerRTID": "48"})  # fmt: skip


def test_5156_allowed_and_5157_blocked(tmp_path: Path) -> None:
    tables = mapped(
        tmp_path,
        wfp(5156, "%%14593", "127.0.0.1", "49271", "127.0.0.2", "3389"),
        wfp(5157, "%%14592", "10.0.0.7", "445", "10.0.0.99", "51000"),
        event(SECURITY, 5158, {"ProcessId": "1", "SourceAddress": "0.0.0.0", "SourcePort": "1"}),  # a bind: no flow
    )
    allowed, blocked = tables["network_traffic_all_traffic"]
    assert (allowed["action"], allowed["direction"], allowed["transport"]) == ("allowed", "outbound", "tcp")
    assert (allowed["src_ip"], allowed["src_port"], allowed["dest_ip"], allowed["dest_port"]) == (
        "127.0.0.1", "49271", "127.0.0.2", "3389")  # fmt: skip
    assert (allowed["process_name"], allowed["process_id"], allowed["dvc"]) == (
        "plink.exe",
        "2860",
        "dc01.contoso.local",
    )
    assert allowed["app"] == "\\device\\harddiskvolume1\\users\\u\\desktop\\plink.exe"
    assert (blocked["action"], blocked["direction"], blocked["src_port"]) == ("blocked", "inbound", "445")
