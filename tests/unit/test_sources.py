"""Inputs: directory walking with globs, compression peeled off by content, zip members."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

from tunnelhunt.readers.sources import MissingSource, Source, discover


def _names(items: list[Source | MissingSource], root: Path) -> list[str]:
    return [item.name.replace(str(root) + "/", "") for item in items]


def test_walks_recursively_in_stable_order_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "z.log").write_text("z")
    (tmp_path / "a.log").write_text("a")
    (tmp_path / ".hidden.log").write_text("h")
    (tmp_path / ".git" / "config").write_text("c")
    assert _names(list(discover([tmp_path])), tmp_path) == ["a.log", "b/z.log"]


def test_include_and_exclude_globs_match_relative_path_or_name(tmp_path: Path) -> None:
    for name in ("zeek/dns.log", "zeek/conn.log", "win/a.evtx", "win/readme.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert _names(list(discover([tmp_path], include=["*.evtx", "zeek/dns*"])), tmp_path) == [
        "win/a.evtx",
        "zeek/dns.log",
    ]
    assert _names(list(discover([tmp_path], exclude=["*.md", "conn.log"])), tmp_path) == [
        "win/a.evtx",
        "zeek/dns.log",
    ]


def test_a_named_file_is_read_whatever_the_globs_and_a_missing_one_is_reported(tmp_path: Path) -> None:
    named = tmp_path / "notes.md"
    named.write_text("x")
    items = list(discover([named, tmp_path / "nope.log"], include=["*.evtx"]))
    assert isinstance(items[0], Source) and items[0].path == named
    assert isinstance(items[1], MissingSource) and "no such file" in items[1].reason


def test_gzip_bzip2_xz_are_read_decompressed_by_content_not_name(tmp_path: Path) -> None:
    payload = b"line one\nline two\n"
    (tmp_path / "a.gz").write_bytes(gzip.compress(payload))
    (tmp_path / "b.log").write_bytes(bz2.compress(payload))  # no telling extension
    (tmp_path / "c.xz").write_bytes(lzma.compress(payload))
    (tmp_path / "d.gz").write_bytes(gzip.compress(gzip.compress(payload)))  # two layers
    for item in discover([tmp_path]):
        assert isinstance(item, Source)
        with item.open() as stream:
            assert stream.read() == payload
        assert item.head(4) == b"line"


def test_zip_members_are_separate_inputs_named_archive_bang_member(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("logs/one.json", '{"a": 1}\n')
        out.writestr("logs/two.json.gz", gzip.compress(b'{"b": 2}\n'))
        out.writestr("logs/", "")
    items = list(discover([archive]))
    assert [item.name for item in items] == [f"{archive}!logs/one.json", f"{archive}!logs/two.json.gz"]
    assert [item.head() for item in items] == [b'{"a": 1}\n', b'{"b": 2}\n']  # type: ignore[union-attr]


def test_a_corrupt_zip_is_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (item,) = discover([bad])
    assert isinstance(item, MissingSource) and "zip" in item.reason


def test_local_file_spills_compressed_input_to_a_temporary_file(tmp_path: Path) -> None:
    source = tmp_path / "x.bin.gz"
    source.write_bytes(gzip.compress(b"ElfFile\x00rest"))
    item = Source(source)
    with item.local_file() as plain:
        assert plain != source and plain.read_bytes() == b"ElfFile\x00rest"
    assert not plain.exists()
    raw = tmp_path / "y.bin"
    raw.write_bytes(b"abc")
    with Source(raw).local_file() as same:
        assert same == raw
