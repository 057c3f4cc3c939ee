"""Shared fixtures: the real public datasets beside the project, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def _shared_datasets() -> Path:
    """`../shared/datasets` beside the project (CI, main checkout), or beside a worktree's parent."""
    candidates = [PROJECT.parent / "shared" / "datasets", PROJECT.parents[1] / "shared" / "datasets"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED_DATASETS = _shared_datasets()


def shared_dataset(relative: str) -> Path:
    """A file or folder of ../shared/datasets; skipped when absent locally, an error under CI=true."""
    path = SHARED_DATASETS / relative
    if not path.exists():
        message = f"shared dataset missing: {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shipped_sample() -> Path:
    """The small Sysmon sample shipped with the seed detections' tests."""
    return PROJECT / "src" / "tunnelhunt" / "content" / "data" / "ngrok_windows_sysmon.log"


@pytest.fixture(autouse=True, scope="session")
def _compiled_content_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Runs (in this process and in the command lines tests start) keep compiled content in a folder of
    the test session's, never in the user's cache directory."""
    os.environ["TUNNELHUNT_CACHE_DIR"] = str(tmp_path_factory.mktemp("content-cache"))
