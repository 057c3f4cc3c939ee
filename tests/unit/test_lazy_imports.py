"""Start-up imports only what the command runs (issue 20): `tunnelhunt --help` and a hunt without Sigma
rules, Spark or a lake must not import pySigma, pyspark, the web stack or the ingest of every format.

Each check runs in a fresh interpreter and looks at `sys.modules`: what is imported, not how long it took.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tunnelhunt.cli.commands import COMMANDS

SRC = Path(__file__).resolve().parents[2] / "src"

#: Never imported by `import tunnelhunt.cli.app` (the `--help` path).
HEAVY_FOR_HELP = ["pyspark", "sigma", "jinja2", "fastapi", "starlette", "uvicorn", "tldextract", "requests",
                  "duckdb", "pyarrow", "sqlglot", "pydantic", "lxml", "evtx", "tunnelhunt.actions"]  # fmt: skip
#: Never imported by the hunt action itself (no --sigma, --engine spark, --lake, web report).
HEAVY_FOR_HUNT = ["pyspark", "sigma", "jinja2", "fastapi", "starlette", "uvicorn", "tldextract", "requests",
                  "pyarrow.dataset", "pyarrow.parquet", "tunnelhunt.generate.sysmon"]  # fmt: skip


def _imported(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(SRC)}
    )
    return set(json.loads(run.stdout.splitlines()[-1]))


def _offending(modules: set[str], heavy: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy))


def test_the_command_line_imports_no_heavy_library() -> None:
    modules = _imported("import tunnelhunt.cli.app")
    assert "typer" in modules  # the check would see an import
    assert _offending(modules, HEAVY_FOR_HELP) == []


def test_a_command_imports_its_own_module_only_and_the_app_every_module() -> None:
    """`cli/commands.py`: `tunnelhunt hunt ...` imports `cli/hunt.py` and no other command's module; the help
    (no command named) and `app` (tests invoke it) import them all."""
    modules = {name: f"tunnelhunt.cli.{module}" for name, module in COMMANDS.items()}
    hunt = _imported("from tunnelhunt.cli.words import command\ncommand(['hunt', 'x.log'])")
    assert sorted(m for m in modules.values() if m in hunt) == ["tunnelhunt.cli.hunt"]
    help_ = _imported("from tunnelhunt.cli.words import command\ncommand(['--help'])")
    assert set(modules.values()) <= help_
    assert set(modules.values()) <= _imported("from tunnelhunt.cli.app import app")
    assert not set(modules.values()) & _imported("import tunnelhunt.cli.app")


def test_building_the_help_imports_no_heavy_library() -> None:
    code = "from tunnelhunt.cli.words import command\nimport tunnelhunt.cli.app\ncommand()"
    assert _offending(_imported(code), HEAVY_FOR_HELP) == []


def test_the_hunt_action_imports_no_sigma_spark_lake_or_web_stack() -> None:
    modules = _imported("import tunnelhunt.actions.hunt")
    assert "duckdb" in modules
    assert _offending(modules, HEAVY_FOR_HUNT) == []


@pytest.mark.parametrize("name", ["run_sigma", "compile_rule", "SigmaCompiler", "LEVEL_SCORES"])
def test_sigma_names_load_when_first_used(name: str) -> None:
    modules = _imported(f"import tunnelhunt.sigma as s\nassert s.{name} is not None")
    assert "sigma.rule" in modules


def test_a_hunt_without_sigma_rules_spark_or_a_lake_never_imports_them(tmp_path: Path) -> None:
    from tests.support import formats as F

    log = tmp_path / "a.json"
    F.write_windows_json(log)
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules))))\n"
        f"sys.argv = ['tunnelhunt', 'hunt', {str(log)!r}, '-o', 'jsonl']\n"
        "from tunnelhunt.cli.app import main\nmain()"
    )
    root = SRC.parent
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{SRC}:{root}", "TUNNELHUNT_CACHE_DIR": str(tmp_path / "cache")},
        check=False,
    )
    modules = set(json.loads(run.stdout.splitlines()[-1]))
    assert "ngrok" in run.stdout and "tunnelhunt.pipeline" in modules  # the hunt ran and found its events
    assert _offending(modules, ["pyspark", "sigma", "jinja2", "pyarrow.dataset", "tunnelhunt.generate.sysmon"]) == []


def test_duckdb_types_written_out_are_the_ones_sqlglot_renders() -> None:
    """`cim.sql_type` writes DuckDB's type names out so the store needs no sqlglot: they must not drift."""
    from sqlglot import exp

    from tunnelhunt.cim import SQL_TYPES, column_type, sql_type
    from tunnelhunt.store.events import create_events_sql

    for kind in SQL_TYPES:
        for multivalue in (False, True):
            assert sql_type(kind, multivalue, "duckdb") == column_type(kind, multivalue).sql("duckdb")
    assert f'"fields" {exp.DataType.build("MAP(VARCHAR, VARCHAR)").sql("duckdb")}' in create_events_sql()


def test_a_hunt_with_a_warm_cache_imports_no_spl_compiler_and_no_sqlglot(tmp_path: Path) -> None:
    """Issue 20: the shipped detections compiled once are read from the cache, not compiled again; the
    content validated once is read from the cache, not parsed (PyYAML) nor validated (no model's validator
    is built); DNS names are split without tldextract (and requests); no network sink, no process pool."""
    from tests.support import formats as F

    log = tmp_path / "a.json"
    F.write_windows_json(log)
    root = SRC.parent
    env = {"PYTHONPATH": f"{SRC}:{root}", "TUNNELHUNT_CACHE_DIR": str(tmp_path / "cache")}

    def hunt(out: Path) -> tuple[set[str], list[str]]:
        code = (
            "import atexit, json, sys\n"
            "def report():\n"
            "    from pydantic import BaseModel\n"
            "    built, pending = [], list(BaseModel.__subclasses__())\n"
            "    while pending:\n"
            "        kind = pending.pop()\n"
            "        pending.extend(kind.__subclasses__())\n"
            "        if kind.__module__.startswith('tunnelhunt.content') and kind.__pydantic_complete__:\n"
            "            built.append(kind.__qualname__)\n"
            "    print(json.dumps([sorted(sys.modules), sorted(built)]))\n"
            "atexit.register(report)\n"
            f"sys.argv = ['tunnelhunt', 'hunt', {str(log)!r}, '-o', 'jsonl', '--out', {str(out)!r}]\n"
            "from tunnelhunt.cli.app import main\nmain()"
        )
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
        modules, built = json.loads(run.stdout.splitlines()[-1])
        return set(modules), built

    compiled = ["sqlglot", "tunnelhunt.spl.compiler", "tunnelhunt.spl.parser", "tunnelhunt.spl.functions"]
    parsed = ["yaml"]
    cold, cold_built = hunt(tmp_path / "cold.jsonl")
    assert _offending(cold, compiled) != [] and _offending(cold, parsed) != []  # the check would see them
    assert "Detection" in cold_built  # and a validator built
    warm, warm_built = hunt(tmp_path / "warm.jsonl")
    assert "tunnelhunt.pipeline" in warm and "tunnelhunt.detect.zones" in warm and "tunnelhunt.cli.hunt" in warm
    assert _offending(warm, compiled + parsed + NOT_AT_RUN_TIME) == []
    assert warm_built == []
    found = (tmp_path / "warm.jsonl").read_text()
    assert "ngrok" in found and found == (tmp_path / "cold.jsonl").read_text()


#: What a warm hunt of a small file needs at no point: tldextract and requests (plain DNS names are split on
#: its bundled list without it), the HTTP client of the network sinks, the process pool's machinery, the
#: modules of the other commands (`cli/commands.py`), the sinks and their delivery (no `--sink`), rich's live
#: progress display (stderr is not a terminal) and its tables (`-o jsonl`), the reader modules of the
#: formats the hunted file (JSON lines) is not in, and their parsers (`readers/lazy.py`), typer's pydantic
#: adapters (plain option values are converted without them: `cli/values.py`) and pydantic's plugin loader
#: (imported when the first validator is built: the default incident rules build none, `rba/rules.py`).
NOT_AT_RUN_TIME = ["typer._adapters", "pydantic.plugin._loader",
                   "tldextract", "requests", "urllib3", "urllib.request", "http.client", "ssl",
                   "multiprocessing.forkserver", "concurrent.futures", "tunnelhunt.sinks.spec",
                   "tunnelhunt.sinks.outbox", "tunnelhunt.schedule", "rich.progress", "rich.live", "rich.table",
                   "tunnelhunt.cli.tables", "tunnelhunt.cli.result_tables", "lxml", "evtx",
                   "tunnelhunt.readers.sysmon_xml", "tunnelhunt.readers.evtx_file", "tunnelhunt.readers.zeek_tsv",
                   "tunnelhunt.readers.linux_audit",
                   *(f"tunnelhunt.cli.{module}" for name, module in COMMANDS.items() if name != "hunt")]  # fmt: skip


def test_a_plain_dns_name_is_split_without_tldextract() -> None:
    plain = _imported("from tunnelhunt.detect.zones import split_zone\n"
                      "assert split_zone('A.b.Example.co.uk.') == ('example.co.uk', 'a.b')")  # fmt: skip
    assert _offending(plain, ["tldextract", "requests"]) == []
    punycode = _imported("from tunnelhunt.detect.zones import split_zone\n"
                         "assert split_zone('a.xn--80ak6aa92e.com') == ('xn--80ak6aa92e.com', 'a')")  # fmt: skip
    assert "tldextract" in punycode  # the check would see it
