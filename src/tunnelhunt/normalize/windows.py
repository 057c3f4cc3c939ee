"""Windows events (Sysmon and Security channels) → CIM, as Splunk's Sysmon and Windows add-ons map them.

The node mappings read the flattened event: System fields (`EventID`, `Computer`, `Channel`,
`Provider`, `TimeCreated`, `UserID`) and EventData fields by their `Name`. Every transport that
yields that shape shares them: event XML, Sysmon for Linux syslog, EVTX (JSON rendered by the
`evtx` parser), flattened JSON exports (Security-Datasets, NXLog-style) and CSV exports. Only
where each raw column comes from differs (`sources`).
"""

from __future__ import annotations

from collections.abc import Mapping

from tunnelhunt.cim import ALL_CHANGES, ALL_TRAFFIC, AUTHENTICATION, DNS, FILESYSTEM, PROCESSES, REGISTRY, SERVICES
from tunnelhunt.normalize.mapping import NodeMapping, SourceMapping, basename, channel_source, event_time, sql_string

SYSMON_CHANNEL = "Microsoft-Windows-Sysmon/Operational"
LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"
_IS_SYSMON = (
    f"(Channel IN ('{SYSMON_CHANNEL}', '{LINUX_SYSMON_CHANNEL}')"
    " OR Provider IN ('Microsoft-Windows-Sysmon', 'Linux-Sysmon'))"
)
_IS_SECURITY = "(Channel = 'Security' OR Provider = 'Microsoft-Windows-Security-Auditing')"
_TIME = event_time("TimeCreated")
_SYSMON_VENDOR = (
    f"CASE WHEN Provider = 'Linux-Sysmon' OR Channel = '{LINUX_SYSMON_CHANNEL}'"
    " THEN 'Sysmon for Linux' ELSE 'Microsoft Sysmon' END"
)


def _present(column: str) -> str:
    """The value unless it is empty or Sysmon's `-` placeholder."""
    return f"nullif(nullif({column}, '-'), '')"


SYSMON_PROCESS_CREATE = NodeMapping(
    node=PROCESSES,
    where=f"{_IS_SYSMON} AND EventID = '1'",
    time=_TIME,
    fields={
        "action": "'allowed'",
        "dest": "Computer",
        "original_file_name": "OriginalFileName",
        "parent_process": "ParentCommandLine",
        "parent_process_exec": basename("ParentImage"),
        "parent_process_guid": "ParentProcessGuid",
        "parent_process_id": "ParentProcessId",
        "parent_process_name": basename("ParentImage"),
        "parent_process_path": "ParentImage",
        "process": "CommandLine",
        "process_current_directory": "CurrentDirectory",
        "process_exec": basename("Image"),
        "process_guid": "ProcessGuid",
        "process_hash": "Hashes",
        "process_id": "ProcessId",
        "process_integrity_level": "lower(IntegrityLevel)",
        "process_name": basename("Image"),
        "process_path": "Image",
        "user": '"User"',
        "user_id": "UserID",
        "vendor_product": _SYSMON_VENDOR,
    },
)

SYSMON_NETWORK_CONNECT = NodeMapping(
    node=ALL_TRAFFIC,
    where=f"{_IS_SYSMON} AND EventID = '3'",
    time=_TIME,
    fields={
        "action": "'allowed'",
        "app": basename("Image"),
        "dest": f"coalesce({_present('DestinationHostname')}, DestinationIp)",
        "dest_ip": "DestinationIp",
        "dest_port": "DestinationPort",
        "direction": "CASE lower(Initiated) WHEN 'true' THEN 'outbound' WHEN 'false' THEN 'inbound' END",
        "dvc": "Computer",
        "process_exec": basename("Image"),
        "process_guid": "ProcessGuid",
        "process_id": "ProcessId",
        "process_name": basename("Image"),
        "process_path": "Image",
        "protocol": "'ip'",
        "protocol_version": "CASE lower(DestinationIsIpv6) WHEN 'true' THEN 'ipv6' WHEN 'false' THEN 'ipv4' END",
        "src": f"coalesce({_present('SourceHostname')}, SourceIp)",
        "src_ip": "SourceIp",
        "src_port": "SourcePort",
        "transport": "lower(Protocol)",
        "user": '"User"',
        "user_id": "UserID",
        "vendor_product": _SYSMON_VENDOR,
    },
)

SYSMON_FILE_CREATE = NodeMapping(
    node=FILESYSTEM,
    where=f"{_IS_SYSMON} AND EventID = '11'",
    time=_TIME,
    fields={
        "action": "'created'",
        "dest": "Computer",
        "file_create_time": "CreationUtcTime",
        "file_name": basename("TargetFilename"),
        "file_path": "TargetFilename",
        "process_exec": basename("Image"),
        "process_guid": "ProcessGuid",
        "process_id": "ProcessId",
        "process_name": basename("Image"),
        "process_path": "Image",
        "user": '"User"',
        "user_id": "UserID",
        "vendor_product": _SYSMON_VENDOR,
    },
)

#: QueryResults holds `type:  5 cname;` entries and `::ffff:a.b.c.d;` addresses; each becomes one answer.
_ANSWERS = (
    r"list_filter(list_transform(string_split(coalesce(QueryResults, ''), ';'),"
    r" LAMBDA a : trim(regexp_replace(a, '^\s*type:\s*\d+\s+', ''))),"
    r" LAMBDA a : a <> '' AND a <> '-')"
)

SYSMON_DNS_QUERY = NodeMapping(
    node=DNS,
    where=f"{_IS_SYSMON} AND EventID = '22'",
    time=_TIME,
    fields={
        "answer": _ANSWERS,
        "answer_count": "CAST(len(" + _ANSWERS + ") AS VARCHAR)",
        "message_type": "'Query'",
        "query": "QueryName",
        "reply_code_id": "QueryStatus",
        "src": "Computer",
        "vendor_product": _SYSMON_VENDOR,
    },
)


def _hex_to_decimal(column: str) -> str:
    """`0x1d18` → `7448`, as the Windows add-on converts process ids of Security events."""
    return f"CAST(TRY_CAST({column} AS BIGINT) AS VARCHAR)"


_SECURITY_USER = (
    "CASE WHEN nullif(nullif(TargetUserName, '-'), '') IS NOT NULL"
    " THEN concat_ws('\\', nullif(nullif(TargetDomainName, '-'), ''), TargetUserName)"
    " ELSE concat_ws('\\', nullif(nullif(SubjectDomainName, '-'), ''), nullif(SubjectUserName, '')) END"
)
_INTEGRITY = (
    "CASE upper(MandatoryLabel) WHEN 'S-1-16-0' THEN 'untrusted' WHEN 'S-1-16-4096' THEN 'low'"
    " WHEN 'S-1-16-8192' THEN 'medium' WHEN 'S-1-16-8448' THEN 'medium'"
    " WHEN 'S-1-16-12288' THEN 'high' WHEN 'S-1-16-16384' THEN 'system' END"
)

SECURITY_PROCESS_CREATE = NodeMapping(
    node=PROCESSES,
    where=f"{_IS_SECURITY} AND EventID = '4688'",
    time=_TIME,
    fields={
        "action": "'allowed'",
        "dest": "Computer",
        "parent_process_exec": basename("ParentProcessName"),
        "parent_process_id": _hex_to_decimal("ProcessId"),
        "parent_process_name": basename("ParentProcessName"),
        "parent_process_path": "ParentProcessName",
        "process": "CommandLine",
        "process_exec": basename("NewProcessName"),
        "process_id": _hex_to_decimal("NewProcessId"),
        "process_integrity_level": _INTEGRITY,
        "process_name": basename("NewProcessName"),
        "process_path": "NewProcessName",
        "user": _SECURITY_USER,
        "user_id": "coalesce(nullif(TargetUserSid, 'S-1-0-0'), SubjectUserSid)",
        "vendor_product": "'Microsoft Windows'",
    },
)


def _case(column: str, values: dict[str, str], default: str = "NULL") -> str:
    """A lookup table as SQL: `CASE column WHEN 'k' THEN 'v' ... END` (keys and values as literals)."""
    whens = " ".join(f"WHEN {sql_string(k)} THEN {sql_string(v)}" for k, v in values.items())
    return f"CASE {column} {whens} ELSE {default} END"


def _event_ids(*ids: int) -> str:
    return "EventID IN (" + ", ".join(f"'{i}'" for i in ids) + ")"


def _address(column: str) -> str:
    """An IP address as the Windows add-on reports it: `-` and empty are none, `::ffff:` v4-mapped is v4."""
    return f"regexp_replace({_present(column)}, '^::ffff:(\\d+\\.\\d+\\.\\d+\\.\\d+)$', '\\1')"


def _qualified(domain: str, name: str) -> str:
    """`DOMAIN\\name` when both are present, `name` alone otherwise (NULL when the name is absent)."""
    return f"CASE WHEN {_present(name)} IS NOT NULL THEN concat_ws('\\', {_present(domain)}, {name}) END"


# --- Endpoint.Registry: Sysmon 12/13/14 and Security 4657 ---------------------------------------------------

#: The hive, as its abbreviation opens Sysmon's `TargetObject` (`HKLM\System\...`).
_HIVE = (
    "CASE upper(split_part({path}, '\\', 1)) WHEN 'HKLM' THEN 'HKEY_LOCAL_MACHINE' WHEN 'HKU' THEN 'HKEY_USERS'"
    " WHEN 'HKCU' THEN 'HKEY_CURRENT_USER' WHEN 'HKCR' THEN 'HKEY_CLASSES_ROOT' WHEN 'HKCC' THEN 'HKEY_CURRENT_CONFIG'"
    " END"
)
#: Sysmon's `Details` of a number (`DWORD (0x00000001)`): the add-on's `registry_value_data` is the hex inside.
_SYSMON_NUMBER = r"'^(DWORD|QWORD) \((0x[0-9A-Fa-f]+)\)$'"


def _last_component(path: str) -> str:
    return rf"nullif(regexp_extract({path}, '[^\\]+$'), '')"


SYSMON_REGISTRY = NodeMapping(
    node=REGISTRY,
    where=f"{_IS_SYSMON} AND {_event_ids(12, 13, 14)}",
    time=_TIME,
    fields={
        "action": _case(
            "EventType",
            {
                "CreateKey": "created",
                "CreateValue": "created",
                "DeleteKey": "deleted",
                "DeleteValue": "deleted",
                "SetValue": "modified",
                "RenameKey": "modified",
            },
        ),  # fmt: skip
        "dest": "Computer",
        "process_guid": "ProcessGuid",
        "process_id": "ProcessId",
        "registry_hive": _HIVE.format(path="TargetObject"),
        "registry_key_name": _last_component("TargetObject"),
        "registry_path": "TargetObject",
        "registry_value_data": f"CASE WHEN regexp_matches(Details, {_SYSMON_NUMBER})"
        f" THEN regexp_extract(Details, {_SYSMON_NUMBER}, 2) ELSE {_present('Details')} END",
        "registry_value_name": f"CASE WHEN EventType IN ('SetValue', 'DeleteValue', 'CreateValue')"
        f" THEN {_last_component('TargetObject')} END",
        "registry_value_text": _present("Details"),
        "registry_value_type": f"CASE WHEN regexp_matches(Details, {_SYSMON_NUMBER})"
        f" THEN 'REG_' || regexp_extract(Details, {_SYSMON_NUMBER}, 1)"
        " WHEN Details = 'Binary Data' THEN 'REG_BINARY' END",
        "status": "'success'",
        "user": '"User"',
        "vendor_product": _SYSMON_VENDOR,
    },
)

#: 4657's `ObjectName` is the kernel path (`\REGISTRY\MACHINE\SYSTEM\...`); Sysmon and the add-ons write `HKLM\...`.
_KERNEL_KEY = (
    r"regexp_replace(regexp_replace(ObjectName, '^\\REGISTRY\\MACHINE(\\|$)', 'HKLM\1', 'i'),"
    r" '^\\REGISTRY\\USER(\\|$)', 'HKU\1', 'i')"
)
_4657_PATH = (
    f"CASE WHEN {_present('ObjectValueName')} IS NULL THEN {_KERNEL_KEY}"
    f" ELSE {_KERNEL_KEY} || '\\' || ObjectValueName END"
)

SECURITY_REGISTRY = NodeMapping(
    node=REGISTRY,
    where=f"{_IS_SECURITY} AND EventID = '4657'",
    time=_TIME,
    fields={
        # OperationType: %%1904 new value created, %%1905 existing value modified, %%1906 value deleted
        "action": _case("OperationType", {"%%1904": "created", "%%1905": "modified", "%%1906": "deleted"}),
        "dest": "Computer",
        "process_id": _hex_to_decimal("ProcessId"),
        "registry_hive": _HIVE.format(path=_KERNEL_KEY),
        "registry_key_name": _last_component(_4657_PATH),
        "registry_path": _4657_PATH,
        "registry_value_data": _present("NewValue"),
        "registry_value_name": _present("ObjectValueName"),
        "registry_value_text": _present("NewValue"),
        "status": "'success'",
        "user": _qualified("SubjectDomainName", "SubjectUserName"),
        "vendor_product": "'Microsoft Windows'",
    },
)

# --- Authentication: Security logons, explicit credentials, Kerberos, NTLM; RDP's 1149 ------------------------

_AUTH_SIGNATURES = {
    "4624": "An account was successfully logged on",
    "4625": "An account failed to log on",
    "4634": "An account was logged off",
    "4648": "A logon was attempted using explicit credentials",
    "4768": "A Kerberos authentication ticket (TGT) was requested",
    "4769": "A Kerberos service ticket was requested",
    "4771": "Kerberos pre-authentication failed",
    "4776": "The computer attempted to validate the credentials for an account",
}
#: Logon types that arrive over the network (network, cleartext, new credentials, remote interactive).
_REMOTE_LOGON_TYPES = "('3', '8', '9', '10')"
#: Kerberos and NTLM results carry a status; 0x0 is success.
_STATUS_OK = "lower(coalesce(Status, '0x0')) IN ('0x0', '0')"

SECURITY_AUTHENTICATION = NodeMapping(
    node=AUTHENTICATION,
    where=f"{_IS_SECURITY} AND {_event_ids(*map(int, _AUTH_SIGNATURES))}",
    time=_TIME,
    fields={
        "action": "CASE WHEN EventID IN ('4625', '4771') THEN 'failure'"
        f" WHEN EventID IN ('4768', '4769', '4776') AND NOT ({_STATUS_OK}) THEN 'failure' ELSE 'success' END",
        "app": f"CASE WHEN EventID IN ('4768', '4769', '4771', '4776') OR LogonType IN {_REMOTE_LOGON_TYPES}"
        " OR EventID = '4648' THEN 'win:remote' ELSE 'win:local' END",
        "authentication_method": "CASE WHEN EventID IN ('4768', '4769', '4771') THEN 'Kerberos'"
        " WHEN EventID = '4776' THEN 'NTLM' ELSE nullif(trim(AuthenticationPackageName), '-') END",
        "dest": "CASE WHEN EventID = '4648' THEN coalesce(nullif(nullif(TargetServerName, 'localhost'), '-'), Computer)"
        " ELSE Computer END",
        "dest_nt_domain": _present("TargetDomainName"),
        "reason": "CASE WHEN EventID IN ('4625', '4771', '4768', '4769', '4776')"
        " THEN nullif(coalesce(SubStatus, Status), '0x0') END",
        "signature": _case("EventID", _AUTH_SIGNATURES),
        "signature_id": "EventID",
        "src": f"coalesce({_address('IpAddress')}, {_present('WorkstationName')}, {_present('Workstation')})",
        "src_nt_domain": _present("SubjectDomainName"),
        "src_user": _present("SubjectUserName"),
        "src_user_id": _present("SubjectUserSid"),
        "user": "CASE WHEN EventID = '4776' THEN TargetUserName ELSE"
        " coalesce(nullif(nullif(TargetUserName, '-'), ''), nullif(nullif(SubjectUserName, '-'), '')) END",
        "user_id": "coalesce(nullif(TargetUserSid, 'S-1-0-0'), TargetSid)",
        "vendor_product": "'Microsoft Windows'",
        "Logon_Type": _present("LogonType"),
    },
)

RDP_PROVIDER = "Microsoft-Windows-TerminalServices-RemoteConnectionManager"
RDP_CHANNEL = f"{RDP_PROVIDER}/Operational"

#: 1149 "Remote Desktop Services: User authentication succeeded": Param1 user, Param2 domain, Param3 source.
RDP_AUTHENTICATION = NodeMapping(
    node=AUTHENTICATION,
    where=f"(Channel = '{RDP_CHANNEL}' OR Provider = '{RDP_PROVIDER}') AND EventID = '1149'",
    time=_TIME,
    fields={
        "action": "'success'",
        "app": "'win:remote'",
        "authentication_method": "'RDP'",
        "dest": "Computer",
        "dest_nt_domain": _present("Param2"),
        "signature": "'Remote Desktop Services: User authentication succeeded'",
        "signature_id": "EventID",
        "src": _address("Param3"),
        "user": _present("Param1"),
        "vendor_product": "'Microsoft Windows'",
        "Logon_Type": "'10'",
    },
)

# --- Change: account and group management ----------------------------------------------------------------------

_ACCOUNT_CHANGES = {  # EventID: (message, action, object category)
    "4720": ("A user account was created", "created", "user"),
    "4722": ("A user account was enabled", "modified", "user"),
    "4723": ("An attempt was made to change an account's password", "modified", "user"),
    "4724": ("An attempt was made to reset an account's password", "modified", "user"),
    "4725": ("A user account was disabled", "modified", "user"),
    "4726": ("A user account was deleted", "deleted", "user"),
    "4738": ("A user account was changed", "modified", "user"),
    "4740": ("A user account was locked out", "modified", "user"),
    "4767": ("A user account was unlocked", "modified", "user"),
    "4781": ("The name of an account was changed", "modified", "user"),
    "4794": (
        "An attempt was made to set the Directory Services Restore Mode administrator password",
        "modified",
        "user",
    ),
    "4727": ("A security-enabled global group was created", "created", "group"),
    "4728": ("A member was added to a security-enabled global group", "modified", "group"),
    "4729": ("A member was removed from a security-enabled global group", "modified", "group"),
    "4730": ("A security-enabled global group was deleted", "deleted", "group"),
    "4731": ("A security-enabled local group was created", "created", "group"),
    "4732": ("A member was added to a security-enabled local group", "modified", "group"),
    "4733": ("A member was removed from a security-enabled local group", "modified", "group"),
    "4734": ("A security-enabled local group was deleted", "deleted", "group"),
    "4735": ("A security-enabled local group was changed", "modified", "group"),
    "4737": ("A security-enabled global group was changed", "modified", "group"),
    "4754": ("A security-enabled universal group was created", "created", "group"),
    "4755": ("A security-enabled universal group was changed", "modified", "group"),
    "4756": ("A member was added to a security-enabled universal group", "modified", "group"),
    "4757": ("A member was removed from a security-enabled universal group", "modified", "group"),
    "4758": ("A security-enabled universal group was deleted", "deleted", "group"),
}
_MEMBER_EVENTS = "('4728', '4729', '4732', '4733', '4756', '4757')"

SECURITY_ACCOUNT_CHANGE = NodeMapping(
    node=ALL_CHANGES,
    where=f"{_IS_SECURITY} AND {_event_ids(*map(int, _ACCOUNT_CHANGES))}",
    time=_TIME,
    fields={
        "action": _case("EventID", {k: v[1] for k, v in _ACCOUNT_CHANGES.items()}),
        "change_type": "'AAA'",
        "dest": "Computer",
        "dest_nt_domain": _present("TargetDomainName"),
        "object": _present("TargetUserName"),
        "object_category": _case("EventID", {k: v[2] for k, v in _ACCOUNT_CHANGES.items()}),
        "object_id": _present("TargetSid"),
        "result": _case("EventID", {k: v[0] for k, v in _ACCOUNT_CHANGES.items()}),
        "result_id": "EventID",
        "src_nt_domain": _present("SubjectDomainName"),
        "src_user": _present("SubjectUserName"),
        "src_user_id": _present("SubjectUserSid"),
        "status": "'success'",
        # the account changed; for membership changes the member (a DN, or only a SID for local accounts)
        "user": f"CASE WHEN EventID IN {_MEMBER_EVENTS}"
        f" THEN coalesce({_present('MemberName')}, {_present('MemberSid')}) ELSE {_present('TargetUserName')} END",
        "user_id": f"CASE WHEN EventID IN {_MEMBER_EVENTS}"
        f" THEN {_present('MemberSid')} ELSE {_present('TargetSid')} END",
        "vendor_product": "'Microsoft Windows'",
    },
)

# --- Endpoint.Services: System 7045 / 7036 and Security 4697 ---------------------------------------------------

_IS_SCM = "(Provider IN ('Service Control Manager', 'Microsoft-Windows-Service Control Manager') OR Channel = 'System')"
_START_TEXT = {"auto start": "auto", "demand start": "manual", "disabled": "disabled", "boot start": "boot",
               "system start": "system"}  # fmt: skip
_START_CODE = {"0": "boot", "1": "system", "2": "auto", "3": "manual", "4": "disabled"}

SYSTEM_SERVICE = NodeMapping(
    node=SERVICES,
    where=f"{_IS_SCM} AND {_event_ids(7045, 7036)}",
    time=_TIME,
    fields={
        "dest": "Computer",
        "service": "coalesce(ServiceName, Param1)",
        "service_name": "coalesce(ServiceName, Param1)",
        "service_path": _present("ImagePath"),
        "service_exec": basename("ImagePath"),
        "start_mode": _case("lower(StartType)", _START_TEXT),
        # 7045 is an installation; 7036 says which state the service entered
        "status": "CASE WHEN EventID = '7045' THEN 'created' ELSE lower(Param2) END",
        "user": _present("AccountName"),
        "vendor_product": "'Microsoft Windows'",
    },
)

SECURITY_SERVICE = NodeMapping(
    node=SERVICES,
    where=f"{_IS_SECURITY} AND EventID = '4697'",
    time=_TIME,
    fields={
        "dest": "Computer",
        "service": "ServiceName",
        "service_name": "ServiceName",
        "service_path": _present("ServiceFileName"),
        "service_exec": basename("ServiceFileName"),
        "start_mode": _case("ServiceStartType", _START_CODE),
        "status": "'created'",
        "user": _present("ServiceAccount"),
        "vendor_product": "'Microsoft Windows'",
    },
)

# --- Network_Traffic: Windows Filtering Platform 5156 (allowed) / 5157 (blocked) -------------------------------

_WFP_DIRECTION = {"%%14592": "inbound", "%%14593": "outbound", "Inbound": "inbound", "Outbound": "outbound"}
_IANA_PROTOCOL = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmp"}

SECURITY_CONNECTION = NodeMapping(
    node=ALL_TRAFFIC,
    where=f"{_IS_SECURITY} AND {_event_ids(5156, 5157)}",
    time=_TIME,
    fields={
        "action": "CASE EventID WHEN '5156' THEN 'allowed' ELSE 'blocked' END",
        "app": "Application",
        "dest": _address("DestAddress"),
        "dest_ip": _address("DestAddress"),
        "dest_port": "DestPort",
        "direction": _case("Direction", _WFP_DIRECTION),
        "dvc": "Computer",
        "process_exec": basename("Application"),
        "process_id": "ProcessId",
        "process_name": basename("Application"),
        "process_path": "Application",
        "protocol": "'ip'",
        "protocol_version": "CASE WHEN contains(SourceAddress, ':') THEN 'ipv6' ELSE 'ipv4' END",
        "rule": "FilterRTID",
        "src": _address("SourceAddress"),
        "src_ip": _address("SourceAddress"),
        "src_port": "SourcePort",
        "transport": _case("Protocol", _IANA_PROTOCOL),
        "vendor_product": "'Microsoft Windows'",
    },
)

NODES = (
    SYSMON_PROCESS_CREATE,
    SYSMON_NETWORK_CONNECT,
    SYSMON_FILE_CREATE,
    SYSMON_DNS_QUERY,
    SECURITY_PROCESS_CREATE,
    SYSMON_REGISTRY,
    SECURITY_REGISTRY,
    SECURITY_AUTHENTICATION,
    RDP_AUTHENTICATION,
    SECURITY_ACCOUNT_CHANGE,
    SYSTEM_SERVICE,
    SECURITY_SERVICE,
    SECURITY_CONNECTION,
)
SYSTEM_COLUMNS = ("EventID", "Channel", "Provider", "Computer", "TimeCreated", "UserID")
EVENT_DATA_COLUMNS = (
    "User",
    "Image",
    "CommandLine",
    "CurrentDirectory",
    "OriginalFileName",
    "ParentImage",
    "ParentCommandLine",
    "ParentProcessGuid",
    "ParentProcessId",
    "ProcessGuid",
    "ProcessId",
    "Hashes",
    "IntegrityLevel",
    "QueryName",
    "QueryStatus",
    "QueryResults",
    "TargetFilename",
    "CreationUtcTime",
    "Protocol",
    "Initiated",
    "SourceIp",
    "SourceHostname",
    "SourcePort",
    "DestinationIp",
    "DestinationHostname",
    "DestinationPort",
    "DestinationIsIpv6",
    "NewProcessId",
    "NewProcessName",
    "ParentProcessName",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "TargetUserSid",
    "TargetUserName",
    "TargetDomainName",
    "MandatoryLabel",
    # registry (Sysmon 12/13/14, Security 4657)
    "EventType",
    "TargetObject",
    "Details",
    "ObjectName",
    "ObjectValueName",
    "OperationType",
    "NewValue",
    # authentication and account management
    "LogonType",
    "IpAddress",
    "WorkstationName",
    "Workstation",
    "AuthenticationPackageName",
    "TargetServerName",
    "Status",
    "SubStatus",
    "TargetSid",
    "MemberName",
    "MemberSid",
    # RDP 1149 (UserData) and the System log's 7036 (param1: service, param2: state)
    "Param1",
    "Param2",
    "Param3",
    # services
    "ServiceName",
    "ImagePath",
    "StartType",
    "AccountName",
    "ServiceFileName",
    "ServiceStartType",
    "ServiceAccount",
    # Windows Filtering Platform
    "Application",
    "Direction",
    "SourceAddress",
    "DestAddress",
    "DestPort",
    "FilterRTID",
)
RAW_COLUMNS = SYSTEM_COLUMNS + EVENT_DATA_COLUMNS

#: EventData names Windows spells differently by event (WFP's `ProcessID`, the System log's `param1`; 1149's
#: UserData `Param1`): one raw column each, since SQL names are case-insensitive.
_SPELLINGS = {
    "ProcessId": ("ProcessId", "ProcessID"),
    "Param1": ("Param1", "param1"),
    "Param2": ("Param2", "param2"),
    "Param3": ("Param3", "param3"),
}

#: Splunk's default fields of a Windows event, as Splunk_TA_windows sets them (`raw_profiles.py` gives
#: the events table the same): host is the event's Computer, source its channel.
_HOST = "Computer"
_SOURCE = channel_source("XmlWinEventLog:", "Channel")


def _windows(sourcetype: str, sources: Mapping[str, tuple[str, ...]], source: str = _SOURCE) -> SourceMapping:
    """Every Windows transport: the same nodes and default fields, raw columns from `sources`."""
    return SourceMapping(sourcetype, RAW_COLUMNS, NODES, sources, host=_HOST, source=source)


#: Event XML and Sysmon for Linux: the reader already flattens to these column names.
WINDOWS_EVENT = _windows("XmlWinEventLog", _SPELLINGS)
SYSMON_LINUX = _windows("sysmon:linux", _SPELLINGS, channel_source("Syslog:", "Channel"))

#: EVTX records as the `evtx` parser renders them: {"Event": {"System": {...}, "EventData": {...}}}.
_EVTX_SYSTEM = {
    "EventID": ('$.Event.System.EventID."#text"', "$.Event.System.EventID"),
    "Channel": ("$.Event.System.Channel",),
    "Provider": ('$.Event.System.Provider."#attributes".Name',),
    "Computer": ("$.Event.System.Computer",),
    "TimeCreated": ('$.Event.System.TimeCreated."#attributes".SystemTime',),
    "UserID": ('$.Event.System.Security."#attributes".UserID',),
}
WINDOWS_EVTX = _windows(
    "WinEventLog:evtx",
    {
        **_EVTX_SYSTEM,
        **{
            name: tuple(f'$.Event.EventData."{n}"' for n in _SPELLINGS.get(name, (name,)))
            + ((f'$.Event.UserData.EventXML."{name}"',) if name.startswith("Param") else ())
            for name in EVENT_DATA_COLUMNS
        },
    },
)

#: Flattened exports (Security-Datasets, NXLog): one object per event, EventData names at top level.
_FLAT_ALTERNATIVES = {
    "Computer": ("Computer", "Hostname", "host"),
    "Provider": ("Provider", "SourceName", "ProviderName"),
    "TimeCreated": ("TimeCreated", "SystemTime", "@timestamp", "EventTime", "TimeGenerated"),
    "UserID": ("UserID", "UserId", "SecurityID"),
}
WINDOWS_JSON = _windows(
    "WinEventLog:json",
    {name: tuple(f'$."{c}"' for c in choices) for name, choices in {**_SPELLINGS, **_FLAT_ALTERNATIVES}.items()},
)
WINDOWS_CSV = _windows("WinEventLog:csv", {**_SPELLINGS, **_FLAT_ALTERNATIVES})

MAPPINGS = (WINDOWS_EVENT, SYSMON_LINUX, WINDOWS_EVTX, WINDOWS_JSON, WINDOWS_CSV)
