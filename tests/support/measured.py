"""Run `tunnelhunt` in a child process and measure it: exit code, output, peak RSS, time-out.

The peak comes from `getrusage(RUSAGE_CHILDREN)` taken in a fresh wrapper process whose only child
is the command, so what the test process ran before (a Spark JVM, say) never counts. The child's
address space is capped too, so a regression fails with a MemoryError instead of taking the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROJECT_SRC = Path(__file__).resolve().parents[2] / "src"

_WRAPPER = """
import json, resource, subprocess, sys
limit, timeout = int(sys.argv[1]), float(sys.argv[2])
def cap():
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    done = subprocess.run(sys.argv[3:], capture_output=True, preexec_fn=cap, timeout=timeout)
    code, out, err, hung = done.returncode, done.stdout, done.stderr, False
except subprocess.TimeoutExpired as exc:
    code, out, err, hung = None, exc.stdout or b"", exc.stderr or b"", True
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": code, "peak": peak, "hung": hung,
                  "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace")}))
"""


def _entry_point() -> Path:
    """A copy of the console script pip installs: run as a file, so the import path starts with its
    folder, not the working directory (as for an analyst typing `tunnelhunt`)."""
    folder = Path(tempfile.gettempdir()) / f"tunnelhunt-entry-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    script = folder / "tunnelhunt"
    script.write_text(
        'import sys\nfrom tunnelhunt.cli.app import main\nif __name__ == "__main__":\n    sys.exit(main())\n'
    )
    return script


@dataclass(frozen=True)
class Measured:
    code: int | None
    peak_bytes: int
    hung: bool
    stdout: str
    stderr: str


def run_tunnelhunt(
    *args: str, cwd: Path, timeout: float = 120.0, address_limit: int = 4 << 30, env: dict[str, str] | None = None
) -> Measured:
    """`tunnelhunt ARGS` run from `cwd`, measured (see the module docstring)."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [environment.get("PYTHONPATH"), str(PROJECT_SRC)]))
    command = [sys.executable, str(_entry_point()), *args]
    wrapper = [sys.executable, "-c", _WRAPPER, str(address_limit), str(timeout), *command]
    done = subprocess.run(wrapper, capture_output=True, text=True, cwd=cwd, env=environment, timeout=timeout + 30)
    result = json.loads(done.stdout)
    return Measured(result["code"], result["peak"], result["hung"], result["stdout"], result["stderr"])
