"""The benign world: accounts, hosts, executables, how each kind of process behaves, DNS names and answers.

Why: the background must be varied enough that a sloppy match (substring instead of wildcard,
case-sensitive compare, path instead of file name) shows up as a false positive, so it mimics a small
Windows estate: five workstations and three servers, browsers, Office, developer tools, Defender,
services. Data only; `world.py` brings it to life.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunnelhunt.generate.sysmon.events import xml_bytes

_DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"
#: short name → (Windows account name, SID, kind). Kind decides LogonId and session.
ACCOUNTS: dict[str, tuple[str, str, str]] = {
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
WELL_KNOWN_LOGON = {"system": 0x3E7, "local": 0x3E5, "network": 0x3E4}

#: (short host name, IPv4, role, interactive user, extra service account or "", activity weight)
HOSTS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("wks-001", "10.20.1.11", "wks", "alice", "", 16),
    ("wks-003", "10.20.1.13", "wks", "carol", "", 14),
    ("wks-017", "10.20.1.27", "wks", "bob", "", 15),
    ("wks-042", "10.20.1.52", "wks", "dave", "", 14),
    ("wks-058", "10.20.1.68", "wks", "erin", "", 13),
    ("srv-db-01", "10.20.10.21", "db", "frank", "sql", 10),
    ("srv-web-01", "10.20.10.31", "web", "frank", "apppool", 10),
    ("srv-file-01", "10.20.10.41", "file", "frank", "", 8),
)
DOMAIN_SUFFIX = ".corp.example.com"

WIN = ("10.0.22621.4317 (WinBuild.160101.0800)", "Microsoft® Windows® Operating System", "Microsoft Corporation")
_DEFENDER_DIR = "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0"
_TEAMS_DIR = "C:\\Program Files\\WindowsApps\\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe"
NO_VERSION = ("-", "-", "-", "-", "-")  # Go binaries such as ngrok carry no version resource

#: key → (path, FileVersion, Description, Product, Company, OriginalFileName); `{home}` is the user profile.
IMAGES: dict[str, tuple[str, ...]] = {
    "explorer": ("C:\\Windows\\explorer.exe", WIN[0], "Windows Explorer", *WIN[1:], "EXPLORER.EXE"),
    "wininit": (
        "C:\\Windows\\System32\\wininit.exe",
        WIN[0],
        "Windows Start-Up Application",
        *WIN[1:],
        "WinInit.exe",
    ),
    "services": (
        "C:\\Windows\\System32\\services.exe",
        WIN[0],
        "Services and Controller app",
        *WIN[1:],
        "services.exe",
    ),
    "svchost": (
        "C:\\Windows\\System32\\svchost.exe",
        WIN[0],
        "Host Process for Windows Services",
        *WIN[1:],
        "svchost.exe",
    ),
    "msmpeng": (
        f"{_DEFENDER_DIR}\\MsMpEng.exe",
        "4.18.24090.11 (WinBuild.160101.0800)",
        "Antimalware Service Executable",
        *WIN[1:],
        "MsMpEng.exe",
    ),
    "mpcmdrun": (
        f"{_DEFENDER_DIR}\\MpCmdRun.exe",
        "4.18.24090.11 (WinBuild.160101.0800)",
        "Microsoft Malware Protection Command Line Utility",
        *WIN[1:],
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
        *WIN[1:],
        "PowerShell.EXE",
    ),
    "cmd": ("C:\\Windows\\System32\\cmd.exe", WIN[0], "Windows Command Processor", *WIN[1:], "Cmd.Exe"),
    "conhost": ("C:\\Windows\\System32\\conhost.exe", WIN[0], "Console Window Host", *WIN[1:], "CONHOST.EXE"),
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
    "notepad": ("C:\\Windows\\System32\\notepad.exe", WIN[0], "Notepad", *WIN[1:], "NOTEPAD.EXE"),
    "taskhostw": (
        "C:\\Windows\\System32\\taskhostw.exe",
        WIN[0],
        "Host Process for Windows Tasks",
        *WIN[1:],
        "taskhostw.exe",
    ),
    "runtimebroker": (
        "C:\\Windows\\System32\\RuntimeBroker.exe",
        WIN[0],
        "Runtime Broker",
        *WIN[1:],
        "RuntimeBroker.exe",
    ),
    "searchprotocolhost": (
        "C:\\Windows\\System32\\SearchProtocolHost.exe",
        WIN[0],
        "Microsoft Windows Search Protocol Host",
        *WIN[1:],
        "SearchProtocolHost.exe",
    ),
    "wmiprvse": ("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", WIN[0], "WMI Provider Host", *WIN[1:], "Wmiprvse.exe"),
    "mstsc": ("C:\\Windows\\System32\\mstsc.exe", WIN[0], "Remote Desktop Connection", *WIN[1:], "mstsc.exe"),
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
    "w3wp": ("C:\\Windows\\System32\\inetsrv\\w3wp.exe", WIN[0], "IIS Worker Process", *WIN[1:], "w3wp.exe"),
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
        WIN[0],
        "Microsoft® Robust File Copy for Windows",
        *WIN[1:],
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
    "nslookup": ("C:\\Windows\\System32\\nslookup.exe", WIN[0], "nslookup", *WIN[1:], "nslookup.exe"),
    "curl": (
        "C:\\Windows\\System32\\curl.exe",
        "8.9.1.0",
        "The curl executable",
        "The curl executable",
        "curl, https://curl.se/",
        "curl.exe",
    ),
    "netsh": ("C:\\Windows\\System32\\netsh.exe", WIN[0], "Network Command Shell", *WIN[1:], "netsh.exe"),
    "sc": ("C:\\Windows\\System32\\sc.exe", WIN[0], "Service Control Manager Configuration Tool", *WIN[1:], "sc.exe"),
    "net": ("C:\\Windows\\System32\\net.exe", WIN[0], "Net Command", *WIN[1:], "net.exe"),
    "netstat": ("C:\\Windows\\System32\\NETSTAT.EXE", WIN[0], "TCP/IP Netstat Command", *WIN[1:], "netstat.exe"),
    "reg": ("C:\\Windows\\System32\\reg.exe", WIN[0], "Registry Console Tool", *WIN[1:], "reg.exe"),
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
DOMAINS: dict[str, tuple[str, int]] = {
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
#: Values Windows sets all day (Sysmon 13 `TargetObject`, `Details`), escaped; `{sid}` and `{image}` are filled in.
REGISTRY_VALUES: tuple[tuple[bytes, bytes], ...] = tuple(
    (xml_bytes(path), xml_bytes(details))
    for path, details in (
        ("HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\{sid}\\\\Device\\HarddiskVolume3"
         "\\Windows\\System32\\{image}", "Binary Data"),
        ("HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist"
         "\\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count\\HRZR_PGYFRFFVBA", "Binary Data"),
        ("HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Diagnostics\\LastKnownGoodPlatformLocation",
         "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0"),
        ("HKLM\\System\\CurrentControlSet\\Services\\W32Time\\Config\\LastKnownGoodTime",
         "QWORD (0x01db3b1c-0x6a2f8e00)"),
        ("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\LastScavengeTime",
         "DWORD (0x674d2a10)"),
        ("HKLM\\System\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces"
         "\\{5d8f1c2a-3b4e-4f60-9a7b-8c9d0e1f2a3b}\\DhcpNameServer", "10.20.0.10 10.20.0.11"),
    )
)  # fmt: skip

PORT_NAMES = {
    80: "http",
    123: "ntp",
    389: "ldap",
    443: "https",
    445: "microsoft-ds",
    1433: "ms-sql-s",
    3389: "ms-wbt-server",
}

DOMAIN_GROUPS: dict[str, tuple[str, ...]] = {
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
DLLS: tuple[tuple[str, str, str, str], ...] = (
    ("C:\\Windows\\System32\\ntdll.dll", WIN[0], "NT Layer DLL", "ntdll.dll"),
    ("C:\\Windows\\System32\\kernel32.dll", WIN[0], "Windows NT BASE API Client DLL", "kernel32"),
    ("C:\\Windows\\System32\\KernelBase.dll", WIN[0], "Windows NT BASE API Client DLL", "Kernelbase.dll"),
    ("C:\\Windows\\System32\\advapi32.dll", WIN[0], "Advanced Windows 32 Base API", "advapi32.dll"),
    ("C:\\Windows\\System32\\ws2_32.dll", WIN[0], "Windows Socket 2.0 32-Bit DLL", "ws2_32.dll"),
    ("C:\\Windows\\System32\\crypt32.dll", WIN[0], "Crypto API32", "CRYPT32.DLL"),
    ("C:\\Windows\\System32\\dnsapi.dll", WIN[0], "DNS Client API DLL", "dnsapi"),
    ("C:\\Windows\\System32\\wininet.dll", WIN[0], "Internet Extensions for Win32", "wininet.dll"),
    ("C:\\Windows\\System32\\bcrypt.dll", WIN[0], "Windows Cryptographic Primitives Library", "bcrypt.dll"),
    ("C:\\Windows\\System32\\combase.dll", WIN[0], "Microsoft COM for Windows", "COMBASE.DLL"),
    ("C:\\Windows\\System32\\user32.dll", WIN[0], "Multi-User Windows USER API Client DLL", "user32"),
    ("C:\\Windows\\System32\\amsi.dll", WIN[0], "Anti-Malware Scan Interface", "amsi.dll"),
)


@dataclass(frozen=True)
class Profile:
    """How one kind of process behaves: who runs it where, what starts it, what it says and touches."""

    image: str
    runs_as: str  # "user" (the host's interactive user), or an ACCOUNTS key
    roles: frozenset[str]
    parents: tuple[str, ...]  # image keys of plausible parents
    commands: tuple[str, ...]
    weight: int = 1  # relative spawn rate; 0 = only ever running from before the window
    integrity: str = "Medium"
    domains: tuple[str, ...] = ()  # DOMAIN_GROUPS keys
    files: tuple[str, ...] = ()  # created files; `*` becomes a random token


_ALL = frozenset({"wks", "db", "web", "file"})
_WKS = frozenset({"wks"})
CHROME = '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"'
POWERSHELL = '"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"'
CMD = '"C:\\Windows\\system32\\cmd.exe"'
_EDGE = '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"'
_FIELD_TRIAL = "--field-trial-handle=1912,i,4021797284913602561,1528617253066813407,262144"

PROFILES: tuple[Profile, ...] = (
    # processes running since before the window: parents and subjects, never spawned
    Profile("wininit", "system", _ALL, (), ("wininit.exe",), 0, "System"),
    Profile("services", "system", _ALL, ("wininit",), ("C:\\Windows\\system32\\services.exe",), 0, "System"),
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile("runtimebroker", "user", _ALL, ("svchost",), ("C:\\Windows\\System32\\RuntimeBroker.exe -Embedding",), 3),
    Profile(
        "conhost",
        "user",
        _ALL,
        ("cmd", "powershell"),
        ("\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",),
        3,
    ),
    Profile(
        "chrome",
        "user",
        _WKS,
        ("explorer", "chrome"),
        (
            CHROME,
            f"{CHROME} --type=renderer --lang=en-US --renderer-client-id=12 {_FIELD_TRIAL} "
            "--time-ticks-at-unix-epoch=-1732089600000000 --launch-time-ticks=4815162342 "
            "--mojo-platform-channel-handle=3412 /prefetch:1",
            f"{CHROME} --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US "
            f"--service-sandbox-type=none {_FIELD_TRIAL} --mojo-platform-channel-handle=2112 /prefetch:11",
            f"{CHROME} --type=gpu-process --gpu-preferences=UAAAAAAAAADgAAAYAAAAAAAAAAAAAAAAAABgAAAAAAAwAAAAAAAAAAAA "
            f"{_FIELD_TRIAL} --mojo-platform-channel-handle=1904 /prefetch:2",
            f"{CHROME} --single-argument https://intranet.corp.example.com/wiki/index.php?title=Onboarding&action=view",
        ),
        9,
        "Medium",
        ("browse", "chrome"),
        (
            "{home}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data\\f_*",
            "{home}\\Downloads\\report-*.pdf",
        ),
    ),
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
    Profile(
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
