"""Line blocks: bounded lines, blank lines dropped, exact resume positions, any encoding."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

from tunnelhunt.readers.base import START, Position
from tunnelhunt.readers.lines import LineBlock, Utf8Stream, line_blocks
from tunnelhunt.readers.sources import Source


def _blocks(data: bytes, start: Position = START, final: bool = True, **kw: int) -> list[LineBlock]:
    return list(line_blocks(Utf8Stream(io.BufferedReader(io.BytesIO(data))), "f", start, final, **kw))  # type: ignore[arg-type]


def _lines(blocks: list[LineBlock]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for block in blocks:
        out.extend(zip(block.numbers.to_pylist(), block.lines.to_pylist(), strict=True))
    return out


def test_lines_are_numbered_blank_lines_dropped_and_crlf_stripped() -> None:
    blocks = _blocks(b"a\r\n\n  \nb\nc")
    assert _lines(blocks) == [(1, "a"), (4, "b"), (5, "c")]
    assert blocks[-1].end == Position(len(b"a\r\n\n  \nb\nc"), 5)


def test_small_blocks_give_the_same_lines_and_positions_on_line_boundaries() -> None:
    data = b"".join(f"record {i}\n".encode() for i in range(1, 200))
    blocks = _blocks(data, block_bytes=64)
    assert _lines(blocks) == [(i, f"record {i}") for i in range(1, 200)]
    for block in blocks:
        assert data[: block.end.offset].count(b"\n") == block.end.line
        assert block.end.offset == 0 or data[block.end.offset - 1 : block.end.offset] == b"\n"


def test_resuming_from_a_position_continues_numbering() -> None:
    data = b"one\ntwo\nthree\n"
    first = _blocks(data[:8])
    assert first[-1].end == Position(8, 2)
    assert _lines(_blocks(data, start=first[-1].end)) == [(3, "three")]


def test_unterminated_last_line_is_left_for_the_next_read_when_not_final() -> None:
    blocks = _blocks(b"done\nhalf-writ", final=False)
    assert _lines(blocks) == [(1, "done")]
    assert blocks[-1].end == Position(5, 1)
    assert _lines(_blocks(b"done\nhalf-written\n", start=blocks[-1].end)) == [(2, "half-written")]


def test_an_oversized_line_is_quarantined_without_losing_its_neighbours() -> None:
    data = b"before\n" + b"x" * 5000 + b"\nafter\n"
    blocks = _blocks(data, block_bytes=256, max_line=1000)
    assert _lines(blocks) == [(1, "before"), (3, "after")]
    bad = [q for b in blocks for q in b.quarantined]
    assert len(bad) == 1 and bad[0].offset == 2 and "5000 bytes" in bad[0].reason
    assert len(bad[0].excerpt) <= 241
    assert blocks[-1].end == Position(len(data), 3)


def test_an_oversized_line_inside_one_block_is_quarantined_too() -> None:
    data = b"a\n" + b"y" * 3000 + b"\nb\n"
    blocks = _blocks(data, block_bytes=1 << 20, max_line=1000)
    assert _lines(blocks) == [(1, "a"), (3, "b")]
    assert [q.offset for b in blocks for q in b.quarantined] == [2]


def test_invalid_utf8_is_replaced_not_dropped_and_nul_bytes_survive() -> None:
    lines = _lines(_blocks(b"ok\nbad \xff\xfe byte\nnul \x00 inside\n"))
    assert lines == [(1, "ok"), (2, "bad \ufffd\ufffd byte"), (3, "nul \x00 inside")]


def test_utf16_with_bom_is_transcoded_and_resumable(tmp_path: Path) -> None:
    path = tmp_path / "u16.log"
    path.write_bytes(codecs.BOM_UTF16_LE + "première\nseconde\n".encode("utf-16-le"))
    with Source(path).open() as raw:
        blocks = list(line_blocks(Utf8Stream(raw), "u16"))
    assert _lines(blocks) == [(1, "première"), (2, "seconde")]
    first_end = len("première\n".encode())
    with Source(path).open() as raw:
        again = list(line_blocks(Utf8Stream(raw), "u16", Position(first_end, 1)))
    assert _lines(again) == [(2, "seconde")]


def test_empty_input_gives_no_lines() -> None:
    assert _lines(_blocks(b"")) == []
