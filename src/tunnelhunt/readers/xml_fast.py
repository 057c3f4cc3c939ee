"""A fast, exact parser for Windows events of the common (canonical) shape.

Most events have one shape: System children with quoted attributes and plain text, and EventData
holding only `<Data Name='...'>text</Data>`. For those, expat (C) checks well-formedness and two
regular expressions pull the fields, which avoids building an lxml tree and walking it in Python.
`canonical_fields` returns None for anything outside that shape (CDATA, comments, character
references, UserData, unnamed Data, carriage returns...), and the caller then uses the lxml parser,
so both paths give identical rows (tests compare them on crafted variants and real events).
"""

from __future__ import annotations

import re
import xml.parsers.expat as expat

_SYSTEM_ITEM = re.compile(r"""<(\w+)((?:\s[\w:.-]+=(?:'[^']*'|"[^"]*"))*)\s*(?:(/)>|>([^<]*)</\1>)""")
_ATTR = re.compile(r"""([\w:.-]+)=(?:'([^']*)'|"([^"]*)")""")
#: The usual EventData item, as Windows renders it: two groups (name, text), and always a closing tag.
_PLAIN_DATA_ITEM = re.compile(r"<Data Name='([^'&\t\n]+)'>([^<]*)</Data>")
_DATA_ITEM = re.compile(r"""<Data Name=(?:'([^'&\t\n]+)'|"([^"&\t\n]+)")\s*(?:/>|>([^<]*)</Data>)""")
_HEAD = re.compile(r"""<Event(?:\s+xmlns\s*=\s*(?:'[^'<]*'|"[^"<]*"))?\s*>\s*<System>""")
_TAIL = re.compile(r"\s*(?:<EventData\s*/>\s*)?(?:<RenderingInfo[\s>].*)?</Event>\s*", re.S)
#: System children read as their stripped text (the other System fields are attributes), in Windows' order;
#: the three XML parsers (this, `xml_batch`, `sysmon_xml.parse_event`) read this one list.
SYSTEM_TEXT = ("EventID", "Version", "Level", "Task", "Opcode", "Keywords", "EventRecordID", "Channel", "Computer")
_SYSTEM_TEXT = frozenset(SYSTEM_TEXT)
_SYSTEM_ATTR = {"TimeCreated": ("TimeCreated", "SystemTime")}
_SYSTEM_ATTR |= {"Provider": ("Provider", "Name"), "Execution": ("ExecutionProcessID", "ProcessID")}
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def _unescape(text: str) -> str:
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def well_formed(data: bytes) -> str | None:
    """None when expat accepts the event as a whole document, else its complaint."""
    parser = expat.ParserCreate(namespace_separator=" ")
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        return expat.errors.messages[exc.code] if exc.code else str(exc)
    return None


def canonical_fields(data: bytes) -> dict[str, str | None] | None:
    """The row `parse_event` gives for a well-formed event of the canonical shape; None for any other."""
    if b"&#" in data or b"<!" in data or b"<?" in data or b"\r" in data:
        return None  # character references, CDATA, comments, processing instructions, CR line ends
    text = data.decode("utf-8")
    head = _HEAD.match(text)
    if head is None:
        return None
    system_end = text.find("</System>", head.end())
    system = text[head.end() : system_end]
    rest = system_end + len("</System>")
    event_data = ""
    data_start = text.find("<EventData>", rest)
    if data_start >= 0:
        if text[rest:data_start].strip():
            return None
        data_end = text.find("</EventData>", data_start)
        event_data = text[data_start + len("<EventData>") : data_end]
        rest = data_end + len("</EventData>")
    if _TAIL.fullmatch(text, rest) is None:
        return None
    # Well-formedness is known, so every "<" opens or closes a tag: when the canonical matches account
    # for all of them, no element of another shape is present.
    items = _SYSTEM_ITEM.findall(system)
    if system.count("<") != sum(1 if slash else 2 for _, _, slash, _ in items):
        return None
    row = _system_fields(items, "&" in system)
    if row is None:
        return None
    data_row = _data_fields(event_data, "&" in event_data)
    if data_row is None:
        return None
    data_row.update(row)  # System fields win over EventData items of the same name, as in parse_event
    return data_row if "EventID" in data_row else None


def _system_fields(items: list[tuple[str, str, str, str]], escaped: bool) -> dict[str, str | None] | None:
    row: dict[str, str | None] = {}
    for name, attrs, _slash, value in items:
        if name in _SYSTEM_TEXT:
            row[name] = (_unescape(value) if escaped else value).strip()
        elif name == "Security":
            found = {key: single or double for key, single, double in _ATTR.findall(attrs)}
            if any("\t" in v or "\n" in v for v in found.values()):
                return None  # the XML parser normalises these to spaces: leave it to lxml
            upper, lower = found.get("UserID"), found.get("UserId")
            # parse_event reads `UserID or UserId`: an empty UserID falls through to UserId
            user = upper or lower
            row["UserID"] = _unescape(user) if user and escaped else user
        elif name in _SYSTEM_ATTR:
            column, wanted = _SYSTEM_ATTR[name]
            row[column] = None
            for key, single, double in _ATTR.findall(attrs):
                if key == wanted:
                    value = single or double
                    if "\t" in value or "\n" in value:
                        return None  # the XML parser normalises these to spaces: leave it to lxml
                    row[column] = _unescape(value) if escaped else value
    return row


def _data_fields(event_data: str, escaped: bool) -> dict[str, str | None] | None:
    """EventData items by name, the first of a repeated name winning; None when not canonical."""
    opened = event_data.count("<")
    plain = _PLAIN_DATA_ITEM.findall(event_data)
    if opened == 2 * len(plain):
        pairs: list[tuple[str, str]] = plain
    else:
        general = _DATA_ITEM.findall(event_data)
        data_tags = event_data.count("<Data")
        if opened != data_tags + event_data.count("</Data>") or len(general) != data_tags:
            return None
        pairs = [(single or double, value) for single, double, value in general]
    row: dict[str, str | None] = dict(reversed(pairs))  # reversed: the first of a repeated name wins
    if "Data" in row:
        return None  # parse_event renames an item named Data by its position: leave it to lxml
    if escaped:
        row = {name: _unescape(value) if value else value for name, value in row.items()}
    return row
