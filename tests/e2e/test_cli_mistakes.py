"""A user's mistakes are never a silent exit 0: each is one clear line and a documented exit code.

Every test runs the command line as a user would (typer's runner: arguments in, exit code and output out).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import process_event
from tunnelhunt.cli.app import app
from tunnelhunt.cli.exit_codes import ExitCode

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _log(tmp_path: Path) -> Path:
    log = tmp_path / "events.log"
    log.write_text(process_event("ngrok.exe http 80", computer="wks-7.corp", time="2026-11-20T09:15:00Z") + "\n")
    return log


def test_a_content_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    log = _log(tmp_path)
    for option in ("--detections", "--macros", "--sigma"):
        code, _, err = invoke("hunt", str(log), option, str(tmp_path / "nope"))
        assert code == ExitCode.ERROR, option
        assert f"error: {tmp_path / 'nope'}: no such file or directory" in err, option


def test_a_filter_macro_no_detection_calls_is_refused_with_the_nearest_name(tmp_path: Path) -> None:
    log = _log(tmp_path)
    macro = tmp_path / "allow.yml"  # "window_" for "windows_": the allow-list would silently not apply
    macro.write_text('name: window_ngrok_reverse_proxy_usage_filter\ndefinition: search NOT dest="wks-7.corp"\n')
    code, out, err = invoke("hunt", str(log), "--macros", str(macro), "-o", "jsonl")
    assert code == ExitCode.ERROR and out == ""
    assert "macro 'window_ngrok_reverse_proxy_usage_filter' is the filter of no detection" in err
    assert "did you mean 'windows_ngrok_reverse_proxy_usage_filter'?" in err
    # the right name, given as a single file, applies: the host is tuned out
    macro.write_text('name: windows_ngrok_reverse_proxy_usage_filter\ndefinition: search NOT dest="wks-7.corp"\n')
    code, out, _ = invoke("hunt", str(log), "--macros", str(macro), "-o", "jsonl")
    assert code == ExitCode.OK
    assert "Windows Ngrok Reverse Proxy Usage" not in out
    code, out, _ = invoke("hunt", str(log), "-o", "jsonl")  # near miss: without the macro it is found
    assert "Windows Ngrok Reverse Proxy Usage" in out


def test_a_detection_that_does_not_parse_fails_the_hunt(tmp_path: Path) -> None:
    log = _log(tmp_path)
    bad = tmp_path / "bad.yml"
    bad.write_text("name: [unclosed\n")
    code, out, err = invoke("hunt", str(log), "--detections", str(bad), "-o", "jsonl")
    assert code == ExitCode.DETECTION_FAILED
    assert f"content error: {bad}" in err
    assert "Windows Ngrok Reverse Proxy Usage" in out  # the shipped detections still ran


def test_run_and_watch_refuse_paths_that_cannot_exist(tmp_path: Path) -> None:
    db = str(tmp_path / "h.duckdb")
    code, _, err = invoke("run", "--at", "2026-11-20T10:00:00", "--db", db, "/nonexistent/path")
    assert code == ExitCode.ERROR and "/nonexistent/path: no such file or directory" in err
    code, _, err = invoke("watch", "/nonexistent/path", "--db", db, "--interval", "0.05")
    assert code == ExitCode.ERROR and "/nonexistent/path: no such file or directory" in err
    assert "watching" not in err


def test_watch_waits_for_a_file_in_a_folder_that_exists_and_says_so(tmp_path: Path) -> None:
    later = tmp_path / "app.log.1"  # a rotated name that does not exist yet
    code, _, err = invoke(
        "watch", str(later), "--db", str(tmp_path / "h.duckdb"), "--interval", "0.05",
        "--clock-start", "2026-11-20T10:00:00", "--until", "2026-11-20T10:00:00",
    )  # fmt: skip
    assert code == ExitCode.OK, err
    assert f"warning: {later} does not exist yet: followed once it appears" in err


def _refusing_url() -> str:
    """An address where nothing listens: every connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_sink_that_refuses_every_connection_fails_the_run(tmp_path: Path) -> None:
    log = _log(tmp_path)
    sink = ["--sink", f"hec:{_refusing_url()}", "--hec-token", "t0k", "--spool", str(tmp_path / "spool")]
    code, _, err = invoke("run", "--at", "2026-11-20T10:00:00", "--db", str(tmp_path / "r.duckdb"), "--retries", "1",
                          str(log), *sink)  # fmt: skip
    assert code == ExitCode.DELIVERY_FAILED, err
    assert "delivery error:" in err and "spooled" in err
    code, _, err = invoke("hunt", str(log), "-o", "jsonl", *sink)
    assert code == ExitCode.DELIVERY_FAILED, err
    assert "delivery error:" in err


def test_files_of_no_known_format_in_a_folder_are_skipped_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "dataset"
    folder.mkdir()
    _log(folder)
    (folder / "SOURCE.md").write_text("# Where these logs come from\n\nA lab.\n")
    (folder / "truth.json").write_text(json.dumps({"planted": [1, 2, 3]}, indent=2))
    report = tmp_path / "report.json"
    code, out, err = invoke("hunt", str(folder), "-o", "jsonl", "--report", str(report))
    assert code == ExitCode.OK, err
    assert "skipped 2 file(s) of no known format" in err
    assert "Windows Ngrok Reverse Proxy Usage" in out
    totals = json.loads(report.read_text())["totals"]
    assert (totals["files"], totals["files_skipped"], totals["files_failed"]) == (3, 2, 0)
    # named on its own, the same file is an error
    code, _, err = invoke("hunt", str(folder / "SOURCE.md"), "-o", "jsonl")
    assert code == ExitCode.FILE_UNREADABLE and "format not recognised" in err
