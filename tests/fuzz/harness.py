"""Fuzzing every reader and the format detector with inputs mutated from the project's own samples.

One input is a seed file (each format `tests/support/formats.py` writes) changed by a few mutations:
bit flips, deletions, truncation, hostile tokens inserted (deep nesting, huge epochs, foreign event
XML, byte-order marks, control characters, format magic), lines spliced in from another format;
optionally compressed (gzip, zip) and optionally forced onto a named reader. Each input is ingested
whole (`ingest`), and `check` says what went wrong, if anything: an exception escaping, a run over
the time limit, a peak RSS over the memory limit, or per-file accounting that does not add up.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import signal
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.support import formats as F
from tunnelhunt.ingest.run import ingest
from tunnelhunt.normalize.normalizer import Normalizer
from tunnelhunt.readers.detect import format_names
from tunnelhunt.store.duckdb_store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fuzz"

#: Seeds: (writer, file suffix); small record counts keep one input around a tenth of a second.
SEED_WRITERS: dict[str, tuple[Callable[..., int], str]] = {
    "xml": (F.write_xml, ".xml"),
    "evtx": (F.write_evtx_file, ".evtx"),
    "windows-json": (F.write_windows_json, ".json"),
    "windows-json-document": (F.write_windows_json_document, ".json"),
    "windows-csv": (F.write_windows_csv, ".csv"),
    "sysmon-linux": (F.write_sysmon_linux, ".log"),
    "zeek-tsv": (F.write_zeek_tsv, ".log"),
    "zeek-json": (F.write_zeek_json, ".json"),
    "suricata": (F.write_suricata, ".json"),
    "ecs": (F.write_ecs, ".json"),
    "ecs-csv": (F.write_ecs_csv, ".csv"),
    "ocsf": (F.write_ocsf, ".json"),
}

HOSTILE: tuple[bytes, ...] = (
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b"[" * 5000,
    b"<Event><System><Provider Name='Linux-Sysmon'/><EventID>1</EventID></System></Event>",
    b"Nov 18 09:00:00 h sysmon: <Event><System><Provider Name='Linux-Sysmon'/></System></Event>\n",
    b"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1</EventID>",
    b'<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]>',
    b"9200000000000000",
    b"99999999999999999999999",
    b"-1e309",
    b"1e400",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff\xfe\x00",
    b"\x80\xc3(",
    b"\x1b]0;owned\x07\x1b[2J",
    b"[bold red]FAKE[/] [/x]",
    b"=cmd|' /C calc'!A0",
    b'"',
    b'"""',
    b",,,,,,,,,,",
    b"\r",
    b"\n\n\n",
    b"\t" * 50,
    b"#separator \\x09\n",
    b"#set_separator\t\n",
    b"#fields\t" + b"\t".join(b"f%d" % i for i in range(2000)) + b"\n",
    b"#empty_field\t\n#unset_field\t\n",
    b"ElfFile\x00" + b"\xff" * 120,
    b"ElfChnk\x00" + b"\xff" * 120,
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
    b"PK\x03\x04",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b'{"EventID": 1, "Channel": "Security", "TimeCreated": "9999-99-99T99:99:99Z"}\n',
    b'{"_path": "dns", "ts": 1e308, "uid": "C", "id.orig_h": "1.2.3.4"}\n',
    b'{"event_type": "dns", "timestamp": "+292278994-08-17T07:12:55Z"}\n',
    b'{"class_uid": 1007, "time": -9223372036854775808}\n',
    b"x" * 70_000,
)


@cache
def seeds() -> dict[str, tuple[bytes, str]]:
    """Each format's sample, as bytes with its file suffix (written once per process)."""
    found: dict[str, tuple[bytes, str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (writer, suffix) in SEED_WRITERS.items():
            path = Path(folder) / f"seed{suffix}"
            writer(path, benign=3 if name != "evtx" else 6)
            found[name] = (path.read_bytes(), suffix)
    return found


Mutation = tuple[Any, ...]


def _mutation() -> st.SearchStrategy[Mutation]:
    position = st.integers(min_value=0, max_value=1 << 20)
    return st.one_of(
        st.tuples(st.just("flip"), position, st.integers(0, 255)),
        st.tuples(st.just("insert"), position, st.sampled_from(HOSTILE)),
        st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("delete"), position, st.integers(1, 4096)),
        st.tuples(st.just("truncate"), position),
        st.tuples(st.just("splice"), position, st.sampled_from(sorted(SEED_WRITERS)), position),
        st.tuples(st.just("repeat"), position, st.integers(1, 4096), st.integers(2, 50)),
    )


def _line_start(data: bytes, at: int) -> int:
    at = at % (len(data) + 1)
    return data.rfind(b"\n", 0, at) + 1


def mutate(data: bytes, mutation: Mutation) -> bytes:
    kind, at = mutation[0], mutation[1] % (len(data) + 1)
    if kind == "flip":
        return data[:at] + bytes([mutation[2]]) + data[at + 1 :] if data else data
    if kind == "insert":
        return data[:at] + mutation[2] + data[at:]
    if kind == "delete":
        return data[:at] + data[at + mutation[2] :]
    if kind == "truncate":
        return data[:at]
    if kind == "splice":  # one foreign line (another format's record) among this file's lines
        other = seeds()[mutation[2]][0]
        begin = _line_start(other, mutation[3])
        end = other.find(b"\n", begin)
        line = other[begin : end + 1 if end >= 0 else len(other)]
        start = _line_start(data, at)
        return data[:start] + line + (b"" if line.endswith(b"\n") else b"\n") + data[start:]
    if kind == "repeat":
        part = data[at : at + mutation[2]]
        return data[:at] + part * mutation[3] + data[at:]
    raise ValueError(kind)


@dataclass(frozen=True)
class FuzzInput:
    """A mutated sample: the bytes to write, the file suffix, and a reader to force (or None)."""

    data: bytes
    suffix: str
    forced: str | None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data + (self.forced or "").encode()).hexdigest()[:16]


def _compress(data: bytes, how: str | None, suffix: str) -> tuple[bytes, str]:
    if how == "gzip":
        return gzip.compress(data, mtime=0), suffix + ".gz"
    if how == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"member{suffix}", data)
        return buffer.getvalue(), ".zip"
    return data, suffix


@st.composite
def fuzz_inputs(draw: st.DrawFn) -> FuzzInput:
    name = draw(st.sampled_from(sorted(SEED_WRITERS)))
    data, suffix = seeds()[name]
    for mutation in draw(st.lists(_mutation(), min_size=1, max_size=6)):
        data = mutate(data, mutation)
    data, suffix = _compress(data, draw(st.sampled_from([None, None, None, None, "gzip", "zip"])), suffix)
    forced = draw(st.one_of(st.none(), st.none(), st.none(), st.sampled_from(format_names())))
    return FuzzInput(data, suffix, forced)


@dataclass
class Outcome:
    """What one input did: the problem found (None when fine), its detail, time and peak RSS."""

    problem: str | None
    detail: str
    seconds: float
    peak_bytes: int


class _Hung(BaseException):
    """Raised by the alarm in the ingest that ran past its time (a BaseException: nothing catches it)."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def ring(*_args: object) -> None:
        raise _Hung

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _reset_peak() -> None:
    """Reset this process's peak RSS (VmHWM), so each input's own peak is measured."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Checker:
    """Ingests inputs one after another with one normaliser (as a follower does), each into a fresh store."""

    def __init__(self, time_limit: float = 60.0, memory_limit: int = 2 << 30) -> None:
        self.time_limit = time_limit
        self.memory_limit = memory_limit
        self.normalizer = Normalizer()
        self.folder = Path(tempfile.mkdtemp(prefix="tunnelhunt-fuzz-"))

    def check(self, item: FuzzInput) -> Outcome:
        path = self.folder / f"input{item.suffix}"
        path.write_bytes(item.data)
        _reset_peak()
        began = time.monotonic()
        problem, detail = None, ""
        try:
            with _time_limit(self.time_limit):
                report = ingest([path], Store(), item.forced, normalizer=self.normalizer, workers=1)
            unbalanced = [f for f in report.files if not f.balanced]
            if unbalanced:
                problem, detail = "accounting", repr(unbalanced[0])
        except _Hung:
            problem, detail = "hang", f"over {self.time_limit} s"
            self.normalizer = Normalizer()  # the interrupted one may be mid-query
        except Exception:  # noqa: BLE001 (counting what escapes is the point)
            problem, detail = "exception", traceback.format_exc(limit=12)
        finally:
            path.unlink(missing_ok=True)
        seconds = time.monotonic() - began
        peak = _peak()
        if problem is None and peak > self.memory_limit:
            problem, detail = "memory", f"peak RSS {peak >> 20} MB"
        return Outcome(problem, detail, seconds, peak)


def keep_regression(item: FuzzInput, outcome: Outcome) -> Path:
    """Keep an input that found a problem under tests/fixtures/fuzz (forced reader in the name)."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    forced = f".forced-{item.forced}" if item.forced else ""
    path = FIXTURES / f"{item.digest}{forced}{item.suffix}"
    path.write_bytes(item.data)
    path.with_name(path.name + ".why").write_text(f"{outcome.problem}: {outcome.detail}\n")
    return path


def regression_inputs() -> list[FuzzInput]:
    """Every kept input, to be checked again in the normal suite."""
    found = []
    for path in sorted(FIXTURES.glob("*")):
        if path.name.endswith(".why"):
            continue
        stem, _, suffix = path.name.partition(".")
        forced = None
        if suffix.startswith("forced-"):
            forced, _, suffix = suffix.removeprefix("forced-").partition(".")
        found.append(FuzzInput(path.read_bytes(), "." + suffix, forced))
    return found
