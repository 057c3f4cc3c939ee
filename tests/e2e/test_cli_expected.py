"""The CLI people expect: --version, -h, help in words with the exit codes, `detections`, parse errors 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tunnelhunt import __version__

PROJECT = Path(__file__).resolve().parents[2]


def tunnelhunt(*args: str) -> subprocess.CompletedProcess[str]:
    """The program as a user runs it (the entry point's `main`, words and all)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src"), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "tunnelhunt.cli.app", *args], env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def test_version_and_short_help() -> None:
    done = tunnelhunt("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"tunnelhunt {__version__}"
    short, long = tunnelhunt("hunt", "-h"), tunnelhunt("hunt", "--help")
    assert short.returncode == 0 and short.stdout == long.stdout


def test_help_names_values_in_words_lists_choices_and_exit_codes() -> None:
    for command in ("hunt", "run", "watch", "risk", "findings", "search", "events", "detections"):
        text = tunnelhunt(command, "-h").stdout
        assert "<list[Path]>" not in text and "<Path>" not in text and "<int>" not in text, command
        assert "<str>" not in text and "<float>" not in text, command
        assert "Exit codes: 0" in text and "6 a sink could not take" in text, command
    hunt = tunnelhunt("hunt", "-h").stdout
    assert "<table|jsonl|csv>" in hunt and " FILE " in hunt and " FORMAT " in hunt and "PATH" in hunt
    assert "Exit codes: 0" in tunnelhunt("-h").stdout


def test_every_option_is_described() -> None:
    from tunnelhunt.cli.app import command  # registers every command first

    group = command()
    assert len(group.commands) >= 12
    for name, sub in group.commands.items():
        for param in sub.params:
            assert getattr(param, "help", None), f"{name} {param.name} has no help"


def test_a_malformed_command_line_is_exit_2() -> None:
    done = tunnelhunt("hunt", "x.log", "-o", "xml")
    assert done.returncode == 2 and "xml" in done.stderr
    assert tunnelhunt("hunt", "--no-such-option").returncode == 2


def test_detections_lists_what_would_run_and_what_scheduling_skips() -> None:
    done = tunnelhunt("detections", "-o", "csv")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "name,source,data,schedule,enabled"
    seed = next(line for line in lines if line.startswith("Windows Ngrok Reverse Proxy Usage,"))
    assert seed == "Windows Ngrok Reverse Proxy Usage,YAML,Endpoint,0 * * * *,False"  # ships disabled: true
    assert "Ngrok Reverse Proxy on Network,YAML,Network_Resolution,0 * * * *,True" in lines
    assert any(",analytic," in line for line in lines)
    assert "1 detection(s) disabled for scheduling" in done.stderr
    table = tunnelhunt("detections").stdout
    assert "scheduled" in table and "│ no " in table


def test_make_demo_installs_the_program_alone_and_says_how_to_call_it() -> None:
    """`make -n` prints what would run: the demo's install has no dev extras, Spark or Java; test's does."""
    import shutil

    import pytest

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    demo = subprocess.run(["make", "-n", "-B", "demo"], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert "pip install --quiet -e .\n" in demo.stdout
    assert ".[dev]" not in demo.stdout and "openjdk" not in demo.stdout
    assert "The program is .venv/bin/tunnelhunt" in demo.stdout
    test = subprocess.run(["make", "-n", "-B", "test"], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert ".[dev]" in test.stdout and "openjdk-17-jre-headless" in test.stdout


#: Prints the help of the root and of every command, from one process where every command is registered.
_EVERY_HELP = """
import sys
from tunnelhunt.cli.commands import COMMANDS
from tunnelhunt.cli.words import command
group = command()
for args in ([], *([name] for name in COMMANDS)):
    print(f"=== {' '.join(args)}", flush=True)
    try:
        group.main([*args, "--help"], prog_name="tunnelhunt", standalone_mode=False)
    except SystemExit:
        pass
    sys.stdout.flush()
"""


def test_a_command_run_alone_has_the_help_it_has_beside_every_other() -> None:
    """`tunnelhunt NAME` imports only NAME's module (cli/commands.py): its help, and the root's, are the ones
    the application with every command registered prints."""
    from tunnelhunt.cli.commands import COMMANDS

    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src"), "COLUMNS": "100"}
    every = subprocess.run(
        [sys.executable, "-c", _EVERY_HELP], env=env, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    expected = dict(part.split("\n", 1) for part in every.split("=== ")[1:])
    assert set(expected) == {"", *COMMANDS}
    for name in ["", *COMMANDS]:
        alone = tunnelhunt(*([name] if name else []), "--help")
        assert alone.returncode == 0, alone.stderr
        assert alone.stdout == expected[name], name
        assert (f"Usage: tunnelhunt {name}" if name else "│ watch ") in alone.stdout  # not an empty page
