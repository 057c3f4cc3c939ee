"""Shared fixtures: the real public datasets beside the project, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = PROJECT.parent / "shared" / "datasets"


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
