"""A cache of compiled content on disk: what compiling an SPL detection or converting a Sigma rule gave.

Why: every run compiled the same shipped detections again (the SPL compiler and sqlglot imported for it)
and converted thousands of Sigma rules again (tens of seconds with SigmaHQ's Windows rules). An entry is
found by a key that hashes everything its output depends on: the content's text, the compiler's own
sources (`code_fingerprint`), the versions of the libraries that convert and render, the options. A
changed rule, macro, lookup definition, compiler or library gives another key, so the entry is never
stale; nothing is ever invalidated, only not found.

Safety: the directory may be writable by someone else, so entries are JSON (never pickle) and a caller
checks an entry's shape before using it; an entry that does not parse is ignored (and written again by
the caller). Writes are atomic (a temporary file renamed over the entry), so a reader never sees half of
one. The cache is best effort: a directory that cannot be written makes a run slower, never fail.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

#: Overrides the cache directory (the `--cache-dir` option sets it for one run).
CACHE_ENV = "TUNNELHUNT_CACHE_DIR"
#: Bumped when the layout of an entry changes.
FORMAT = "1"
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def default_cache_dir() -> Path:
    """`$TUNNELHUNT_CACHE_DIR`, else `$XDG_CACHE_HOME/tunnelhunt`, else `~/.cache/tunnelhunt`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tunnelhunt"


def digest(*parts: str | bytes) -> str:
    """sha256 of the parts, each length-prefixed (so `("ab", "c")` and `("a", "bc")` differ)."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def library_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


@functools.cache
def code_fingerprint(*libraries: str) -> str:
    """tunnelhunt's own sources (every module of the package, so any change to a compiler, a semantics
    rule or a mapping is seen) and the versions of `libraries`."""
    versions = [f"{name}={library_version(name)}" for name in libraries]
    return digest(FORMAT, library_version("tunnelhunt"), *versions, _sources())


@functools.cache
def _sources() -> str:
    """Every module of the package, read and hashed once however many fingerprints a run asks for."""
    parts: list[str | bytes] = []
    for path in sorted(_PACKAGE_ROOT.rglob("*.py")):
        parts.extend((str(path.relative_to(_PACKAGE_ROOT)), path.read_bytes()))
    return digest(*parts)


@dataclass(frozen=True)
class ContentCache:
    """Entries of one `kind` (a folder) by key: `root/kind/ke/key.json`."""

    root: Path

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        """The entry's JSON value, or None when there is none or it does not parse."""
        try:
            return json.loads(self._path(kind, key).read_bytes())
        except (OSError, ValueError):
            return None

    def put(self, kind: str, key: str, value: Any) -> None:
        """Write an entry atomically; a directory that cannot be written is skipped silently."""
        path = self._path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "wb") as out:  # `dumps`: json.dump encodes in Python, 10x slower
                    out.write(json.dumps(value, separators=(",", ":")).encode("utf-8"))
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except (OSError, TypeError, ValueError):
            return


def open_cache(directory: Path | None = None, enabled: bool = True) -> ContentCache | None:
    """The cache a run uses: None with `--no-cache`, else `directory` or the default one, when it is private.

    A cached search is SQL the run executes: a directory someone else can write (not the user's, or
    writable by its group or everyone) is not used, as ssh refuses such a key folder. One is created
    readable by the user only."""
    if not enabled:
        return None
    root = directory or default_cache_dir()
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = root.stat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return ContentCache(root)


def dump_expression(expression: Any) -> dict[str, Any] | None:
    """A sqlglot expression as JSON data for `load_expression` (None for a tree it cannot hold: one with
    comments, metadata or annotated types, or values other than JSON scalars).

    Loading many trees creates a million small objects: call it under `no_collection()`.

    Post-order operations, so loading builds each node once with all its arguments (sqlglot's `serde`
    builds empty nodes and sets each argument after, and imports each node's module by name: 6 µs a
    node, most of a warm Sigma load). Both walks use a stack: SigmaHQ predicates nest 4,000 deep.
    - an int: a node, `shapes[n]` = (class, argument keys, typed); its arguments are the last values
      built, after them its annotated type when `typed`
    - `[value]`: a scalar; `{"a": n}`: a list of the last n values; `{"d": name}`: a `DataType.Type`"""
    from sqlglot import exp

    shapes: dict[tuple[str, tuple[str, ...], int], int] = {}
    ops: list[Any] = []
    stack: list[tuple[Any, bool]] = [(expression, False)]
    while stack:
        value, done = stack.pop()
        if isinstance(value, exp.Expr):
            arguments = [(k, v) for k, v in value.args.items() if v is not None]
            if done:
                shape = (_class_name(type(value), exp), tuple(k for k, _ in arguments), int(value._type is not None))
                ops.append(shapes.setdefault(shape, len(shapes)))
                continue
            if value.comments or value._meta:
                return None
            stack.append((value, True))
            if value._type is not None:  # its annotated type, built after its arguments
                stack.append((value._type, False))
            stack.extend((v, False) for _, v in reversed(arguments))
        elif type(value) is list:
            if done:
                ops.append({"a": len(value)})
                continue
            stack.append((value, True))
            stack.extend((v, False) for v in reversed(value))
        elif isinstance(value, exp.DType):
            ops.append({"d": value.value})
        elif value is None or type(value) in (str, int, float, bool):
            ops.append([value])
        else:
            return None
    return {"shapes": [[name, list(keys), typed] for name, keys, typed in shapes], "ops": ops}


def load_expression(data: Any) -> Any | None:
    """The sqlglot expression `dump_expression` wrote, or None when the data is not one.

    The directory may be someone else's: only sqlglot's own node classes are ever built (no name is
    imported or called), each checked against `sqlglot.expressions`, and any malformed data is None."""
    from sqlglot import exp

    try:
        known = _node_classes(exp)
        shapes = [(known[name], tuple(keys), typed == 1) for name, keys, typed in data["shapes"]]
        if not all(isinstance(k, str) for _, keys, _ in shapes for k in keys):
            return None
        stack: list[Any] = []
        for op in data["ops"]:
            if type(op) is int:
                node_class, keys, typed = shapes[op]
                annotated = stack.pop() if typed else None
                if typed and not isinstance(annotated, exp.DataType):
                    return None
                values = stack[len(stack) - len(keys) :] if keys else []
                if len(values) != len(keys):
                    return None
                del stack[len(stack) - len(keys) :]
                node = node_class(**dict(zip(keys, values, strict=True)))
                node._type = annotated
                stack.append(node)
            elif type(op) is list and len(op) == 1 and (op[0] is None or type(op[0]) in (str, int, float, bool)):
                stack.append(op[0])
            elif type(op) is dict and type(op.get("a")) is int and 0 <= op["a"] <= len(stack):
                values = stack[len(stack) - op["a"] :] if op["a"] else []
                del stack[len(stack) - op["a"] :]
                stack.append(values)
            elif type(op) is dict and "d" in op:
                stack.append(exp.DType(op["d"]))
            else:
                return None
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return stack[0] if len(stack) == 1 and isinstance(stack[0], exp.Expr) else None


def _class_name(node_class: type, exp: Any) -> str:
    return node_class.__name__ if getattr(exp, node_class.__name__, None) is node_class else ""


@functools.cache
def _node_classes(exp: Any) -> dict[str, type]:
    """sqlglot's node classes by name (only those `sqlglot.expressions` exports under their own name)."""
    found = {}
    for name in dir(exp):
        node = getattr(exp, name)
        if isinstance(node, type) and issubclass(node, exp.Expr) and node.__name__ == name:
            found[name] = node
    return found
