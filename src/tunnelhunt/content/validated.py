"""Content files validated once: the model a YAML file gave, kept in the content cache (`content/cache.py`).

Why: every run parsed the same shipped YAML and validated it with pydantic again, building the models'
validators first (PyYAML's import, the parse and the validators were a tenth of a small hunt's start,
issue 20). An entry is found by the file's bytes, the model's name and `code_fingerprint` (tunnelhunt's
sources, pydantic's and PyYAML's versions): a changed file, model or library gives another key.

An entry is written only after the file validated, and only when it gives back, on reading, a model equal
to the validated one (same classes, field values of the same types, the same extra keys and the same
fields set): anything the encoding below cannot hold exactly (a mapping with non-text keys, a value of
another type) is simply not cached. Reading builds instances with `model_construct` of the model classes
the root model names in its fields only (no name is imported or called), and an entry of any other shape
is ignored and written again from the file. Errors are never cached: a file that fails fails as before.
"""

from __future__ import annotations

import datetime as dt
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from tunnelhunt.content.cache import ContentCache, code_fingerprint, digest

KIND = "model"
M = TypeVar("M", bound=BaseModel)
_SCALARS = (str, int, float, bool, type(None))


def cached_model(path: Path, model: type[M], cache: ContentCache | None, load: Callable[[Path], M]) -> M:
    """`load(path)` (parse and validate, raising as it does), or the model it gave before from `cache`."""
    if cache is None:
        return load(path)
    try:
        key = digest(
            code_fingerprint("pydantic", "pyyaml"), f"{model.__module__}.{model.__qualname__}", path.read_bytes()
        )
    except OSError:
        return load(path)  # it reports the file
    classes = model_classes(model)
    found = decode(cache.get(KIND, key), classes)
    if isinstance(found, model):
        return found
    instance = load(path)
    entry = encode(instance)
    if entry is not None and _same(decode(json.loads(json.dumps(entry)), classes), instance):
        cache.put(KIND, key, entry)
    return instance


def model_classes(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The model and every model class its fields can hold (through lists, dicts and unions), by name."""
    found: dict[str, type[BaseModel]] = {}
    pending: list[Any] = [model]
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if kind.__qualname__ not in found:
                found[kind.__qualname__] = kind
                pending.extend(f.annotation for f in kind.model_fields.values())
        else:
            pending.extend(typing.get_args(kind))
    return found


def encode(value: Any) -> Any | None:
    """JSON data of a validated model (None when some value is of a type the encoding does not hold)."""
    try:
        return _encode(value)
    except _Unheld:
        return None


class _Unheld(Exception):
    """A value the encoding does not hold."""


def _encode(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, BaseModel):
        kind = type(value)
        if set(value.__dict__) != set(kind.model_fields) or value.__pydantic_private__:
            raise _Unheld  # state beyond the fields (a loader's own attribute)
        return {
            "m": kind.__qualname__,
            "f": {name: _encode(value.__dict__[name]) for name in kind.model_fields},
            "x": {name: _encode(item) for name, item in (value.__pydantic_extra__ or {}).items()},
            "s": sorted(value.model_fields_set),
        }
    if type(value) is list:
        return {"l": [_encode(item) for item in value]}
    if type(value) is dict and all(type(key) is str for key in value):
        return {"d": {key: _encode(item) for key, item in value.items()}}
    if type(value) is dt.date:
        return {"date": value.isoformat()}
    if type(value) is dt.datetime:
        return {"datetime": value.isoformat()}
    raise _Unheld


def decode(data: Any, classes: dict[str, type[BaseModel]]) -> Any:
    """The value `encode` wrote; raises nothing: data of another shape gives `_BAD` somewhere inside, and a
    model holding `_BAD` is not returned (the caller sees a value that is not its model)."""
    try:
        return _decode(data, classes)
    except (KeyError, TypeError, ValueError, AttributeError):
        return _BAD


class _Bad:
    """Marks data that is not an entry."""


_BAD = _Bad()


def _decode(data: Any, classes: dict[str, type[BaseModel]]) -> Any:
    if type(data) in _SCALARS:
        return data
    if type(data) is not dict or len(data) not in (1, 4):
        raise ValueError("not an entry")
    if "l" in data and type(data["l"]) is list:
        return [_decode(item, classes) for item in data["l"]]
    if "d" in data and type(data["d"]) is dict:
        return {str(k): _decode(v, classes) for k, v in data["d"].items()}
    if "date" in data:
        return dt.date.fromisoformat(data["date"])
    if "datetime" in data:
        return dt.datetime.fromisoformat(data["datetime"])
    kind = classes[data["m"]]
    fields, extras = data["f"], data["x"]
    if set(fields) != set(kind.model_fields) or not isinstance(extras, dict) or set(extras) & set(fields):
        raise ValueError("not this model's fields")
    values = {name: _decode(v, classes) for name, v in fields.items()}
    values.update((str(name), _decode(v, classes)) for name, v in extras.items())
    fields_set = {str(name) for name in data["s"]}
    return kind.model_construct(_fields_set=fields_set, **values)


def _same(decoded: Any, instance: BaseModel) -> bool:
    """Equal models (pydantic compares class, field values and extras) with equal fields set, all through."""
    if type(decoded) is not type(instance) or decoded != instance:
        return False
    return _fields_sets(decoded) == _fields_sets(instance)


def _fields_sets(value: Any) -> list[Any]:
    """Every model's fields set and every value's exact type, in order: `==` sees 1 == 1.0 == True."""
    out: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        out.append(type(item))
        if isinstance(item, BaseModel):
            out.append(sorted(item.model_fields_set))
            stack.extend(item.__dict__.values())
            stack.extend((item.__pydantic_extra__ or {}).values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return out
