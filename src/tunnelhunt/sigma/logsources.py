"""Which events a Sigma logsource means: pySigma processing pipelines, one per event family.

A rule is converted once per `LogsourceMapping` whose pipeline maps its logsource, and the predicates are
OR-ed: `process_creation` is Sysmon event 1 OR Security event 4688 (4688's names aliased: Image is
NewProcessName, ParentImage is ParentProcessName, ...). A mapping applies when one of its pipeline items
that select events (`selects`, identifiers or identifier prefixes) changed the rule; a rule no mapping
selects events for is reported, never run over every event.

To add a logsource, append a `LogsourceMapping` to `MAPPINGS` (or pass your own list to the compiler):
a pySigma `ProcessingPipeline` that adds the event conditions (`AddConditionTransformation` on `Channel`,
`EventID`, ...) and renames fields (`FieldMappingTransformation`), plus the identifiers of its selecting
items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sigma.pipelines.sysmon import sysmon_pipeline
from sigma.pipelines.windows import windows_audit_pipeline, windows_logsource_pipeline
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import AddConditionTransformation, FieldMappingTransformation

from tunnelhunt.readers.linux_audit import SOURCETYPE as LINUX_AUDIT
from tunnelhunt.sigma.netsources import (
    CATEGORIES,
    ecs_pipeline,
    ocsf_pipeline,
    select_prefix,
    suricata_pipeline,
    zeek_pipeline,
)

#: Sigma's `EventID` is the events table's hot `EventCode` column (same value, as text).
HOT_FIELDS: dict[str | None, str | list[str]] = {"EventID": "EventCode"}


def hot_columns_pipeline() -> ProcessingPipeline:
    """Read `EventID` from the indexed `EventCode` column rather than the field map (last, so after every mapping)."""
    item = ProcessingItem(
        identifier="tunnelhunt_hot_columns", transformation=FieldMappingTransformation(dict(HOT_FIELDS))
    )
    return ProcessingPipeline(name="tunnelhunt hot columns", priority=100, items=[item])


@dataclass(frozen=True)
class LogsourceMapping:
    """One family of events: the pipeline that maps a logsource to them and the items that select events."""

    name: str
    pipeline: Callable[[], ProcessingPipeline]
    selects: tuple[str, ...]
    #: Only rules of these logsource categories can map (None: any), so others skip the conversion; a None
    #: member admits rules without a category.
    categories: frozenset[str | None] | None = None
    #: Only rules of these logsource products can map (None: any); a None member admits rules without one.
    products: frozenset[str | None] | None = None

    def may_apply(self, category: str | None, product: str | None = None) -> bool:
        return (self.categories is None or category in self.categories) and (
            self.products is None or product in self.products
        )

    def applied(self, applied_ids: set[str]) -> bool:
        return any(i.startswith(prefix) for i in applied_ids for prefix in self.selects)


#: Microsoft Defender's EventData names carry spaces (`Source Name`); Sigma writes them without (`SourceName`).
WINDEFEND_FIELDS: dict[str | None, str | list[str]] = {
    name.replace(" ", ""): name
    for name in (
        "Product Name",
        "Product Version",
        "Detection ID",
        "Detection Time",
        "Threat ID",
        "Threat Name",
        "Severity ID",
        "Severity Name",
        "Category ID",
        "Category Name",
        "Status Code",
        "Status Description",
        "Source ID",
        "Source Name",
        "Process Name",
        "Detection User",
        "Origin ID",
        "Origin Name",
        "Execution ID",
        "Execution Name",
        "Type ID",
        "Type Name",
        "Pre Execution Status",
        "Action ID",
        "Action Name",
        "Error Code",
        "Error Description",
        "Post Clean Status",
        "Additional Actions ID",
        "Additional Actions String",
        "Remediation User",
        "Security intelligence Version",
        "Engine Version",
        "Scan ID",
        "Scan Type Index",
        "Scan Type",
        "Scan Parameters Index",
        "Scan Parameters",
        "Domain",
        "User",
        "SID",
        "Old Value",
        "New Value",
        "Feature Name",
        "Feature ID",
        "Signature Version",
        "Previous Signature Version",
    )
    if " " in name
}


def windefend_fields_pipeline() -> ProcessingPipeline:
    item = ProcessingItem(
        identifier="tunnelhunt_windefend_fields",
        transformation=FieldMappingTransformation(dict(WINDEFEND_FIELDS)),
        rule_conditions=[LogsourceCondition(product="windows", service="windefend")],
    )
    return ProcessingPipeline(name="Microsoft Defender field names", priority=20, items=[item])


def _sysmon_and_channels() -> ProcessingPipeline:
    return sysmon_pipeline() + windows_logsource_pipeline() + windefend_fields_pipeline()


def _security_audit() -> ProcessingPipeline:
    return windows_audit_pipeline() + windows_logsource_pipeline()


#: Sysmon for Linux (`readers/sysmon_linux.py`): the Windows Sysmon event layout in its own channel.
LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"
LINUX_SYSMON_EVENTS = {
    "process_creation": 1,
    "network_connection": 3,
    "process_termination": 5,
    "raw_access_thread": 9,
    "file_event": 11,
    "file_delete": 23,
}


def linux_sysmon_pipeline() -> ProcessingPipeline:
    """`product: linux` categories → Sysmon for Linux's channel and event id (its fields are Sysmon's)."""
    items = [
        ProcessingItem(
            identifier=f"tunnelhunt_linux_sysmon_{category}",
            transformation=AddConditionTransformation({"Channel": LINUX_SYSMON_CHANNEL, "EventID": event_id}),
            rule_conditions=[LogsourceCondition(product="linux", category=category)],
        )
        for category, event_id in LINUX_SYSMON_EVENTS.items()
    ]
    return ProcessingPipeline(name="Sysmon for Linux", priority=10, items=items)


def linux_auditd_pipeline() -> ProcessingPipeline:
    """`product: linux, service: auditd` → the auditd records (`readers/linux_audit.py`), every key of a record
    a field of its own name (`type`, `a0`, `exe`, `SYSCALL`...), as SigmaHQ's auditd rules name them; one rule
    matches one record (SYSCALL, EXECVE, PATH... are records of their own), as auditd logs them."""
    item = ProcessingItem(
        identifier="tunnelhunt_linux_auditd_select",
        transformation=AddConditionTransformation({"sourcetype": LINUX_AUDIT}),
        rule_conditions=[LogsourceCondition(product="linux", service="auditd")],
    )
    return ProcessingPipeline(name="Linux auditd", priority=10, items=[item])


#: Generic categories (`dns`, `proxy`, `webserver`, `network_connection`, `firewall`) of rules that name no
#: product, over each format that logs them (`netsources.py`).
_GENERIC: frozenset[str | None] = frozenset({None})

#: Windows: Sysmon categories and every service channel; then the Security audit counterparts (4688, 4657);
#: Linux: the Sysmon for Linux categories and auditd; Zeek (also `product: zeek` by service), Suricata EVE, ECS, OCSF.
MAPPINGS: list[LogsourceMapping] = [
    LogsourceMapping("windows", _sysmon_and_channels, ("windows_logsource_",)),
    LogsourceMapping(
        "windows-security-audit",
        _security_audit,
        ("windows_process_creation_condition", "windows_registry_"),
        frozenset({"process_creation", "registry_event", "registry_set", "registry_add"}),
    ),
    LogsourceMapping(
        "linux-sysmon",
        linux_sysmon_pipeline,
        ("tunnelhunt_linux_sysmon_",),
        frozenset(LINUX_SYSMON_EVENTS),
        frozenset({"linux"}),
    ),
    LogsourceMapping(
        "linux-auditd", linux_auditd_pipeline, ("tunnelhunt_linux_auditd_",), frozenset({None}), frozenset({"linux"})
    ),
    LogsourceMapping("zeek", zeek_pipeline, (select_prefix("zeek"),), products=frozenset({None, "zeek"})),
    LogsourceMapping("suricata", suricata_pipeline, (select_prefix("suricata"),), frozenset(CATEGORIES), _GENERIC),
    LogsourceMapping("ecs", ecs_pipeline, (select_prefix("ecs"),), frozenset(CATEGORIES), _GENERIC),
    LogsourceMapping("ocsf", ocsf_pipeline, (select_prefix("ocsf"),), frozenset(CATEGORIES), _GENERIC),
]
