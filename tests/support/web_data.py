"""A database hunted from the shipped Sysmon sample, with a command line that carries HTML.

Field values come from attackers: the ngrok command line here holds `<script>` and `<img onerror>`
markup, which every page must show as text."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import PROJECT

SAMPLE = PROJECT / "src" / "tunnelhunt" / "content" / "data" / "ngrok_windows_sysmon.log"
#: What the command line ends with once decoded from the XML (the log holds it entity-encoded).
PAYLOAD = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"


def hostile_sample(folder: Path) -> Path:
    """The shipped sample with PAYLOAD appended to the `ngrok.exe tcp 3389` command line."""
    text = SAMPLE.read_text(encoding="utf-8")
    encoded = PAYLOAD.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert text.count("ngrok.exe tcp 3389<") == 1
    path = folder / "hostile-sysmon.log"
    path.write_text(text.replace("ngrok.exe tcp 3389<", f"ngrok.exe tcp 3389 {encoded}<"), encoding="utf-8")
    return path


def hunted_db(folder: Path, *extra: str) -> Path:
    """Hunt the hostile sample into `folder/th.duckdb` (extra options appended), checked to succeed."""
    from tunnelhunt.cli.app import app

    db = folder / "th.duckdb"
    result = CliRunner().invoke(app, ["hunt", str(hostile_sample(folder)), "--db", str(db), *extra])
    assert result.exit_code == 0, result.output
    return db
