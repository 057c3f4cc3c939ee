"""Windows events parsed a batch at a time, in Arrow (C++), with no Python work per event.

One RE2 expression (only matched, so RE2 runs it as a fast DFA) describes the usual shape of an
event exactly as Windows and Sysmon render it: the System children in their fixed order with
single-quoted attributes, and EventData made only of `<Data Name='...'>text</Data>`. Its character
classes admit only what XML allows in text and attribute values (no `<`, `&` only in the five
predefined entities, no control characters, no CR), so an event that matches is well-formed by
construction and needs no XML parser. Everything is then vectorised: the EventData items are split
and pivoted into one column per field, entities decoded.

An event that does not match (other layouts, CDATA, comments, character references, double quotes,
UserData, an item named `Data`, invalid UTF-8...) is returned by index, and the caller parses it one
at a time with `parse_event_fast` (lxml when needed). Tests check that a batch gives the same rows
as `parse_event` on crafted variants, generated data and real events.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from tunnelhunt.readers.xml_fast import SYSTEM_TEXT

# Character classes. Text: any XML character but `<`, `&` (unless one of the predefined entities)
# and CR (parsers turn CRLF into LF). Attribute values also exclude TAB and LF (normalised to spaces
# by parsers) and the quote. System text is restricted to printable ASCII so `.strip()` is exact.
_ENTITY = r"&(?:lt|gt|amp|quot|apos);"
_BAD = r"\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x{FFFE}\x{FFFF}"
_TEXT = rf"(?:[^<&{_BAD}]|{_ENTITY})*"
_ATTR = rf"(?:[^<&'\x00-\x1f\x{{FFFE}}\x{{FFFF}}]|{_ENTITY})*"
_SYS_TEXT = r"[ -%(-;=-~]*"  # printable ASCII without `&`, `'`, `<`
_W = r"[ \t\n]*"


def _empty_end(name: str) -> str:
    """`/>`, or an end tag after nothing but whitespace (as `evtx` and wevtutil render empty elements)."""
    return rf"(?:/>|>{_W}</{name}>)"


def _text_element(name: str, optional: bool = True, attrs: str = "") -> str:
    element = rf"(?:<{name}{attrs}>(?:{_SYS_TEXT})</{name}>){_W}"
    return f"(?:{element})?" if optional else element


_CANONICAL = (
    r"(?s)^<Event xmlns='http://schemas\.microsoft\.com/win/2004/08/events/event'>"
    rf"{_W}<System>{_W}"
    rf"<Provider Name='(?:{_ATTR})'(?: Guid='{_ATTR}')?(?: EventSourceName='{_ATTR}')?"
    + _empty_end("Provider")
    + _W
    + _text_element("EventID", optional=False, attrs=rf"(?: Qualifiers='{_ATTR}')?")
    + _text_element("Version")
    + _text_element("Level")
    + _text_element("Task")
    + rf"(?:<Opcode>{_SYS_TEXT}</Opcode>{_W})?(?:<Keywords>{_SYS_TEXT}</Keywords>{_W})?"
    rf"<TimeCreated SystemTime='(?:{_ATTR})'"
    + _empty_end("TimeCreated")
    + _W
    + _text_element("EventRecordID")
    + rf"(?:<Correlation(?: ActivityID='{_ATTR}')?(?: RelatedActivityID='{_ATTR}')?{_empty_end('Correlation')}{_W})?"
    + rf"(?:<Execution ProcessID='{_ATTR}'(?: ThreadID='{_ATTR}')?{_empty_end('Execution')}{_W})?"
    + _text_element("Channel")
    + _text_element("Computer")
    + rf"(?:<Security(?: UserID='{_ATTR}')?{_empty_end('Security')}{_W})?"
    rf"</System>{_W}"
    rf"(?:<EventData>(?:(?:{_W}<Data Name='[^'<&\x00-\x1f\x{{FFFE}}\x{{FFFF}}]+'>{_TEXT}</Data>)*){_W}"
    rf"</EventData>{_W})?</Event>$"
)

_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def _unescape(values: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring(values, "&")).as_py():
        return values
    for entity, char in _ENTITIES:
        values = pc.replace_substring(values, entity, char)
    return values


#: System elements read from an attribute: element → (column, attribute pattern).
_SYSTEM_ATTRS = {
    "TimeCreated": ("TimeCreated", r" SystemTime='(?P<v>[^']*)'"),
    "Provider": ("Provider", r" Name='(?P<v>[^']*)'"),
    "Execution": ("ExecutionProcessID", r" ProcessID='(?P<v>[^']*)'"),
    "Security": ("UserID", r" UserID='(?P<v>[^']*)'"),
}
_DATA_ITEM = r"(?s)^(?P<name>[^']*)'>(?P<value>[^<]*)</Data>"


def _pivot(parents: pa.Array, names: pa.Array, values: pa.Array, name: str, everyone: pa.Array) -> pa.Array | None:
    """The column `name` over all events (NULL where absent), or None when no event has it.

    `index_in` finds the first occurrence, so a name repeated in one event keeps its first value,
    as `parse_event` does for EventData.
    """
    chosen = pc.equal(names, name)
    if not pc.any(chosen).as_py():
        return None
    return pc.take(values.filter(chosen), pc.index_in(everyone, value_set=parents.filter(chosen)))


def _tail_tokens(texts: pa.Array, separator: str) -> tuple[pa.Array, pa.Array]:
    """Each text cut at every `separator`, without the piece before the first: (pieces, owners)."""
    pieces = pc.list_slice(pc.split_pattern(texts, separator), 1)
    return pc.list_flatten(pieces), pc.list_parent_indices(pieces)


def _system_columns(head: pa.Array, everyone: pa.Array, columns: frozenset[str] | None) -> dict[str, pa.Array]:
    """System fields as parse_event reads them: stripped text of some children, one attribute of others."""
    tokens, parents = _tail_tokens(head, "<")  # `EventID>1`, `/EventID>`, `Provider Name='x' Guid='y'/>`…
    tag_part, text = _pair(tokens, ">")
    tags = pc.list_element(pc.split_pattern(tag_part, " ", max_splits=1), 0)
    out: dict[str, pa.Array] = {}
    for tag in SYSTEM_TEXT:
        if columns is None or tag in columns:
            column = _pivot(parents, tags, pc.utf8_trim(text, " "), tag, everyone)
            if column is not None:
                out[tag] = column
    for tag, (column_name, pattern) in _SYSTEM_ATTRS.items():
        if columns is not None and column_name not in columns:
            continue
        chosen = pc.equal(tags, tag)
        if not pc.any(chosen).as_py():
            continue
        found = pc.extract_regex(tag_part.filter(chosen), pattern)  # NULL when the attribute is absent
        nothing = pa.nulls(len(found), pa.string())
        attrs = _unescape(pc.if_else(pc.is_valid(found), found.field("v"), nothing))
        if tag == "Security":  # parse_event reads `UserID or UserId`: an empty UserID is NULL here
            attrs = pc.if_else(pc.equal(attrs, ""), nothing, attrs)
        out[column_name] = pc.take(attrs, pc.index_in(everyone, value_set=parents.filter(chosen)))
    return out


def _pair(texts: pa.Array, separator: str) -> tuple[pa.Array, pa.Array]:
    """Text before and after the first `separator`, for texts known to contain it."""
    parts = pc.split_pattern(texts, separator, max_splits=1)
    return pc.list_element(parts, 0), pc.list_element(parts, 1)


def parse_batch(events: list[bytes], columns: frozenset[str] | None = None) -> tuple[pa.Table, list[int]]:
    """Rows of the canonical events (in order, without the others) and the indices of the others.

    `columns` limits the fields built (all fields found when None). The table has one row per
    canonical event and an `_index` column giving its position in `events`.
    """
    count = len(events)
    everyone = pa.array(range(count), pa.int64())
    try:
        texts = pa.array(events, pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:  # some event is not valid UTF-8: let the one-at-a-time parser say which
        return pa.table({"_index": pa.array([], pa.int64())}), list(range(count))
    canonical = pc.match_substring_regex(texts, _CANONICAL)
    texts = pc.if_else(canonical, texts, pa.nulls(count, pa.string()))
    head = pc.list_element(pc.split_pattern(texts, "</System>", max_splits=1), 0)
    items, parents = _tail_tokens(texts, "<Data Name='")
    parsed = pc.extract_regex(items, _DATA_ITEM)
    parents = parents.filter(pc.is_valid(parsed))
    parsed = parsed.filter(pc.is_valid(parsed))
    names, values = parsed.field("name"), parsed.field("value")
    rejected = parents.filter(pc.equal(names, "Data"))  # parse_event renames those by position
    keep = pc.and_(canonical, pc.invert(pc.is_in(everyone, value_set=rejected)))
    fallback = pc.indices_nonzero(pc.invert(keep)).to_pylist()

    columns_out: dict[str, pa.Array] = {"_index": everyone}
    columns_out.update(_system_columns(head, everyone, columns))
    wanted = pc.unique(names).to_pylist() if columns is None else sorted(columns)
    for name in wanted:
        if name in columns_out:
            continue  # System fields win over EventData items of the same name, as in parse_event
        column = _pivot(parents, names, values, name, everyone)
        if column is not None:
            columns_out[name] = _unescape(column)
    if columns is not None:
        for name in columns:
            columns_out.setdefault(name, pa.nulls(count, pa.string()))
    table = pa.table(columns_out).filter(keep)
    return table, fallback
