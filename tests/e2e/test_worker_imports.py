"""Worker processes import only the installed program (issue 19, item 2): an analyst runs tunnelhunt
from a collected evidence folder, and a module file lying there must never run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import formats as F
from tests.support.measured import run_tunnelhunt
from tunnelhunt.cli.exit_codes import ExitCode


@pytest.mark.parametrize("module", ["concurrent"])
def test_a_module_in_the_working_directory_is_not_imported_by_workers(tmp_path: Path, module: str) -> None:
    marker = tmp_path / "imported-from-cwd"
    (tmp_path / f"{module}.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    inputs = [tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"]
    F.write_windows_json(inputs[0])
    F.write_zeek_json(inputs[1])  # another format: the inputs make several work units
    F.write_windows_json(inputs[2])
    run = run_tunnelhunt("hunt", *map(str, inputs), "--workers", "2", "--output", "jsonl", cwd=tmp_path)
    assert not marker.exists()
    assert run.code == ExitCode.OK, run.stderr
    assert "ngrok" in run.stdout
