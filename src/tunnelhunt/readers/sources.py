"""Inputs as readers see them: files found by walking directories, with compression peeled off.

A `Source` is one logical input: a plain file, a gzip/bzip2/xz file (read decompressed), or one
member of a zip archive (named `archive.zip!member`). Readers only ever see the decompressed
bytes, so offsets, fingerprints and sniffing all work on what the log actually says.
"""

from __future__ import annotations

import bz2
import fnmatch
import lzma
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: Bytes of (decompressed) input used to choose a reader and to fingerprint it.
HEAD_BYTES = 64 * 1024
#: Archive layers peeled off at most (a .zip holding .gz files is two).
MAX_LAYERS = 3
#: Decompressed bytes read per step: at most this much before a damaged spot is lost.
SALVAGE_STEP = 64 * 1024

_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: What a damaged input raises while it is opened, sniffed or read: corrupt or truncated compression,
#: zip CRC errors, encrypted or unsupported-method members (RuntimeError, NotImplementedError), JSON
#: nested too deep (RecursionError). Each ends that input only; the run goes on.
DAMAGED_INPUT = (
    OSError,
    EOFError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    RuntimeError,
)


def compression_of(head: bytes) -> str | None:
    """The compression a stream starts with, from its magic bytes (not its name)."""
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


class _Gunzip:
    """gzip members one after another, as `gzip -dc` reads them: bytes after the last member that do
    not start another one are trailing garbage, ignored (Python's GzipFile fails the whole file on
    them). Each step inflates at most what was asked for, so a gzip bomb never sits in memory whole."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._inflater = zlib.decompressobj(wbits=31)
        self._input = b""
        self._pending = b""
        self._ended = False
        self._error: BaseException | None = None

    def _fill(self, size: int) -> None:
        while len(self._pending) < size and not self._ended:
            if self._inflater.eof:
                rest = self._inflater.unused_data + self._input
                while len(rest) < 2 and (more := self._stream.read(SALVAGE_STEP)):
                    rest += more
                if not rest.startswith(b"\x1f\x8b"):
                    self._ended = True  # the end, or trailing garbage
                    return
                self._inflater, self._input = zlib.decompressobj(wbits=31), rest
            if not self._input:
                self._input = self._stream.read(SALVAGE_STEP)
                if not self._input:
                    raise EOFError("compressed file ended before the end-of-stream marker was reached")
            wanted = max(size - len(self._pending), SALVAGE_STEP)
            self._pending += self._inflater.decompress(self._input, wanted)
            self._input = self._inflater.unconsumed_tail

    def _take(self, size: int, keep: bool) -> bytes:
        if self._error is not None:
            raise self._error
        try:
            self._fill(size)
        except DAMAGED_INPUT as exc:
            if not self._pending:
                raise
            self._error = exc  # what came before the damage is still returned
        data = self._pending[:size]
        if not keep:
            self._pending = self._pending[size:]
        return data

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while chunk := self._take(1 << 20, keep=False):
                parts.append(chunk)
            return b"".join(parts)
        return self._take(size, keep=False)

    def peek(self, size: int = 1) -> bytes:
        return self._take(max(size, 1), keep=True)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()


def _decompress(stream: BinaryIO, kind: str) -> BinaryIO:
    if kind == "gzip":
        return _Gunzip(stream)  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.BZ2File(stream, mode="rb")  # type: ignore[return-value]
    return lzma.LZMAFile(stream, mode="rb")  # type: ignore[return-value]


def _peek(stream: BinaryIO, size: int = 8) -> tuple[bytes, BinaryIO]:
    """Look at the first bytes of a stream without losing them."""
    if hasattr(stream, "peek"):
        return stream.peek(size)[:size], stream
    buffered = _BufferedHead(stream)
    return buffered.peek(size), buffered  # type: ignore[return-value]


class _BufferedHead:
    """Minimal read-only wrapper giving `peek` to streams that lack it (zip members)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._head = b""

    def peek(self, size: int) -> bytes:
        if len(self._head) < size:
            self._head += self._stream.read(size - len(self._head))
        return self._head[:size]

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._stream.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += self._stream.read(size - len(data))
            return data
        return self._stream.read(size)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()


class _Layers:
    """The innermost stream of a stack of decompressors; closing it closes every layer.

    Reads from a compressed stream go in small steps, so when the stream turns out to be damaged
    the bytes decompressed before the damage are still returned (the error comes on the next read).
    """

    def __init__(self, layers: list[BinaryIO]) -> None:
        self._layers = layers
        self._top = layers[-1]
        self._error: BaseException | None = None
        #: True for an uncompressed file on disk: seeking is O(1) and offsets are file offsets.
        self.is_plain_file = len(layers) == 1

    def __getattr__(self, name: str) -> object:
        return getattr(self._top, name)

    def read(self, size: int = -1) -> bytes:
        if self.is_plain_file:
            return self._top.read(size)
        if self._error is not None:
            raise self._error
        if size is None or size < 0:
            return self._top.read()
        parts: list[bytes] = []
        got = 0
        while got < size:
            try:
                chunk = self._top.read(min(SALVAGE_STEP, size - got))
            except DAMAGED_INPUT as exc:
                if not parts:
                    raise
                self._error = exc
                break
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def close(self) -> None:
        for layer in reversed(self._layers):
            layer.close()

    def __enter__(self) -> _Layers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Source:
    """One logical input: a file on disk, optionally one member of a zip archive inside it."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """How reports and checkpoints name this input: always valid UTF-8 (a byte of a file name that
        is not UTF-8 shows as `\\xe9`, so the name can be stored, printed and written as JSON)."""
        return printable_name(f"{self.path}!{self.member}" if self.member else str(self.path))

    @property
    def size(self) -> int | None:
        """Bytes on disk (the archive's compressed size for a member); None when unknown."""
        try:
            if self.member:
                with zipfile.ZipFile(self.path) as archive:
                    return archive.getinfo(self.member).compress_size
            return self.path.stat().st_size
        except (OSError, KeyError, zipfile.BadZipFile):
            return None

    @property
    def expanded_size(self) -> int | None:
        """The bytes a reader gets from this input, when known before reading it: a plain file's size, or
        a zip member's declared size when the member holds no further compression (zipfile yields no more
        than that). None for a gzip, bzip2 or xz layer, whose size only reading it tells: the size on disk
        says nothing of it (a 3.4 MB zip member held 106 MB of JSON lines)."""
        if not self.member:
            return None if self.compressed else self.size
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
                if compression_of(stream.read(8)) is not None:
                    return None
                return archive.getinfo(self.member).file_size
        except (*DAMAGED_INPUT, KeyError):
            return None

    def open(self) -> BinaryIO:
        """The decompressed bytes of this input (gzip, bzip2 and xz layers removed, by magic)."""
        layers: list[BinaryIO] = []
        if self.member:
            archive = zipfile.ZipFile(self.path)
            layers.append(archive)  # type: ignore[arg-type]
            layers.append(archive.open(self.member))  # type: ignore[arg-type]
        else:
            layers.append(self.path.open("rb"))
        try:
            for _ in range(MAX_LAYERS):
                head, stream = _peek(layers[-1])
                if stream is not layers[-1]:
                    layers.append(stream)
                kind = compression_of(head)
                if kind is None:
                    break
                layers.append(_decompress(stream, kind))
        except BaseException:  # damaged compression: close what was opened, then report it as before
            _Layers(layers).close()
            raise
        return _Layers(layers)  # type: ignore[return-value]

    def head(self, size: int = HEAD_BYTES) -> bytes:
        with self.open() as stream:
            return _read_up_to(stream, size)

    @property
    def compressed(self) -> bool:
        if self.member:
            return True
        try:
            with self.path.open("rb") as stream:
                return compression_of(stream.read(8)) is not None
        except OSError:
            return False

    @contextmanager
    def local_file(self) -> Iterator[Path]:
        """A plain file holding this input's bytes, for parsers that need random access (EVTX)."""
        if not self.compressed:
            yield self.path
            return
        with tempfile.NamedTemporaryFile(prefix="tunnelhunt-", suffix=".tmp", delete=False) as tmp:
            try:
                with self.open() as stream:
                    shutil.copyfileobj(stream, tmp, 1 << 20)
                tmp.close()
                yield Path(tmp.name)
            finally:
                os.unlink(tmp.name)


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Read `size` bytes or until EOF (decompressors may return short reads)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


@dataclass(frozen=True)
class MissingSource:
    """A named input that does not exist or cannot be listed (reported, the others still read)."""

    name: str
    reason: str


def _matches(relative: str, patterns: Iterable[str]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(relative, p) or fnmatch.fnmatch(name, p) for p in patterns)


def printable_name(name: str) -> str:
    """A path as valid UTF-8 text: bytes that were not UTF-8 (surrogate-escaped) shown as `\\xNN`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _walk_dir(root: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> Iterator[Path]:
    """Entries below `root` in a stable order, hidden entries and symlinked directories skipped."""
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for filename in sorted(files):
            if filename.startswith("."):
                continue
            path = Path(directory) / filename
            relative = path.relative_to(root).as_posix()
            if include and not _matches(relative, include):
                continue
            if exclude and _matches(relative, exclude):
                continue
            yield path


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device")):
        if test(mode):
            return kind
    return "a block device" if stat.S_ISBLK(mode) else "not a regular file"


def _expand(path: Path) -> Iterator[Source | MissingSource]:
    """A file, or each member of a zip archive (detected by content)."""
    try:
        with path.open("rb") as stream:
            magic = stream.read(4)
    except OSError as exc:
        yield MissingSource(printable_name(str(path)), f"cannot open: {exc.strerror or exc}")
        return
    if not magic.startswith(_ZIP_MAGIC):
        yield Source(path)
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        yield MissingSource(printable_name(str(path)), f"unreadable zip archive: {exc}")
        return
    for member in sorted(members):
        if not member.rsplit("/", 1)[-1].startswith("."):
            yield Source(path, member)


class _Seen:
    """Files already taken in this discovery, by device and inode: a file named twice, inside a named
    folder and named itself, or reached through a hard or symbolic link is read once."""

    def __init__(self) -> None:
        self._files: set[tuple[int, int]] = set()

    def check(self, path: Path) -> MissingSource | bool:
        """True for a regular file seen for the first time, False for one seen before; a reason when
        it is no regular file (a FIFO would block the read forever) or cannot be looked at."""
        try:
            info = path.stat()
        except OSError as exc:
            return MissingSource(printable_name(str(path)), f"cannot open: {exc.strerror or exc}")
        key = (info.st_dev, info.st_ino)
        if key in self._files:
            return False
        self._files.add(key)
        if not stat.S_ISREG(info.st_mode):
            return MissingSource(printable_name(str(path)), f"skipped: {_kind(info.st_mode)}, not a regular file")
        return True


def discover(
    paths: Iterable[Path], include: Iterable[str] = (), exclude: Iterable[str] = ()
) -> Iterator[Source | MissingSource]:
    """Every input below `paths`: files named directly always, files in directories through the globs.

    `include`/`exclude` are shell globs matched against the path relative to the directory walked
    and against the file name (`*.json`, `zeek/*`, `*.evtx`).
    """
    inc, exc = tuple(include), tuple(exclude)
    seen = _Seen()
    for path in paths:
        if path.is_dir():
            found: Iterable[Path] = _walk_dir(path, inc, exc)
        elif path.exists() or path.is_symlink():
            found = (path,)
        else:
            yield MissingSource(printable_name(str(path)), "no such file or directory")
            continue
        for item in found:
            verdict = seen.check(item)
            if isinstance(verdict, MissingSource):
                yield verdict
            elif verdict:
                yield from _expand(item)
