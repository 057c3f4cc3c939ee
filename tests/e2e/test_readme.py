"""README.md stays true: its example is run again and compared, and every command it shows is run.

The example block (between the `readme-example` markers) is what `scripts/readme_example.sh` prints. The
test runs that script on a fresh directory and requires the README's lines, in order, among the script's
(`…` marks lines the README leaves out); durations and the risk table's time and tactic-list cells are
the only parts not compared. Every other `tunnelhunt ...` line of a README code block is then run in the
same directory and must exit 0, or the code its trailing comment names (`# exit N`).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tunnelhunt.cli.app import app

PROJECT = Path(__file__).resolve().parents[2]
README = PROJECT / "README.md"
SCRIPT = PROJECT / "scripts" / "readme_example.sh"
BEGIN, END = "<!-- readme-example: begin -->", "<!-- readme-example: end -->"
ELIDED = "…"
#: Table columns whose values change from run to run: the hunt's time, and a tactic list whose order
#: DuckDB's list_distinct does not promise.
VOLATILE_COLUMNS = ("last seen", "tactics")
#: The table column that is filled on the first line of each row only (its numbers never wrap).
ROW_KEY_COLUMN = "score"
_DURATION = re.compile(r" in \d+(\.\d+)? s\b")
_EXIT = re.compile(r"#\s*exit\s+(\d+)\b")


def code_blocks(text: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def example_block(text: str) -> list[str]:
    start, end = text.index(BEGIN), text.index(END)
    blocks = code_blocks(text[start:end])
    assert len(blocks) == 1, "the example markers must hold exactly one code block"
    return blocks[0]


@dataclass(frozen=True)
class Command:
    args: list[str]
    exit_code: int
    line: str


def other_commands(text: str) -> list[Command]:
    """`tunnelhunt ...` lines of the README's code blocks outside the example, in order."""
    start, end = text.index(BEGIN), text.index(END)
    outside = text[:start] + text[end:]
    commands = []
    for block in code_blocks(outside):
        for line in block:
            if not line.startswith("tunnelhunt ") and line != "tunnelhunt":
                continue
            expected = _EXIT.search(line)
            words = shlex.split(line, comments=True)
            commands.append(Command(words[1:], int(expected.group(1)) if expected else 0, line))
    return commands


@dataclass
class Transcript:
    plain: list[str]
    table_rows: list[tuple[str, ...]]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("│┃").split("│" if line.startswith("│") else "┃")]


def transcript(lines: list[str]) -> Transcript:
    """Plain lines (durations masked) and the tables' rows (wrapped cells joined, volatile ones dropped)."""
    plain: list[str] = []
    kept: list[tuple[str, ...]] = []
    header: list[list[str]] = []
    rows: list[list[str]] = []

    def close_table() -> None:
        if header:
            names = ["".join(parts) for parts in zip(*header, strict=True)]
            keep = [i for i, name in enumerate(names) if name not in VOLATILE_COLUMNS]
            kept.extend(tuple(row[i] for i in keep) for row in rows)

    for raw in lines:
        line = raw.rstrip()
        if line.startswith("┏"):  # a new table
            close_table()
            header, rows = [], []
        elif line.startswith("┃"):
            header.append(_cells(line))
        elif line.startswith("│"):
            names = ["".join(parts) for parts in zip(*header, strict=True)]
            cells = _cells(line)
            key = names.index(ROW_KEY_COLUMN) if ROW_KEY_COLUMN in names else None
            if key is None or cells[key] or not rows:
                rows.append([""] * len(cells))
            rows[-1] = [a + b.replace(" ", "") for a, b in zip(rows[-1], cells, strict=True)]
        elif line and line[0] in "┡└":
            continue
        elif line != ELIDED:
            plain.append(_DURATION.sub(" in _ s", line))
    close_table()
    return Transcript(plain, kept)


def missing_lines(shown: list[str], printed: list[str]) -> list[str]:
    """The README lines not found, in order, among the printed ones (empty when the README is true)."""
    missing, position = [], 0
    for line in shown:
        try:
            position = printed.index(line, position) + 1
        except ValueError:
            missing.append(line)
    return missing


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The example run by its script in a fresh directory: the directory and what the script printed."""
    workdir = tmp_path_factory.mktemp("readme")
    env = {
        **os.environ,
        "TUNNELHUNT": f"{shlex.quote(sys.executable)} -m tunnelhunt.cli.app",
        "PYTHONPATH": str(PROJECT / "src"),
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), str(workdir)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr  # set -e: every example command exited 0
    return workdir, done.stdout.splitlines()


def test_the_readme_shows_the_scripts_commands(example: tuple[Path, list[str]]) -> None:
    shown = [line for line in example_block(README.read_text()) if line.startswith("$ ")]
    printed = [line for line in example[1] if line.startswith("$ ")]
    assert shown == printed


def test_the_readme_example_output_is_what_the_script_prints(example: tuple[Path, list[str]]) -> None:
    shown, printed = transcript(example_block(README.read_text())), transcript(example[1])
    assert missing_lines(shown.plain, printed.plain) == []
    assert shown.table_rows, "the example's risk table has rows"
    assert shown.table_rows == printed.table_rows


def test_the_comparison_notices_a_changed_count_or_name() -> None:
    """The check above is not vacuous: a count or an entity that differs is reported."""
    block = example_block(README.read_text())
    summary = next(line for line in block if "risk event(s) from" in line)
    printed = transcript(block)
    changed = transcript([line.replace(summary, summary.replace(" finding(s)", "0 finding(s)")) for line in block])
    wrong = _DURATION.sub(" in _ s", summary).replace(" finding(s)", "0 finding(s)")
    assert missing_lines(changed.plain, printed.plain) == [wrong]
    renamed = transcript([line.replace("wks-017.corp", "wks-018.corp") for line in block])
    assert renamed.table_rows != printed.table_rows
    assert printed.table_rows[0][0] == "wks-017.corp.example.com"


def test_every_other_readme_command_runs_and_exits_as_shown(
    example: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    workdir = example[0]
    (workdir / "src").symlink_to(PROJECT / "src")  # commands naming shipped files are run from a checkout
    monkeypatch.chdir(workdir)
    commands = other_commands(README.read_text())
    assert len(commands) >= 5
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, command.args)
        assert result.exit_code == command.exit_code, f"{command.line}\n{result.output}"
