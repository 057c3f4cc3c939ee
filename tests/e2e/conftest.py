"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def _java_available() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


@pytest.fixture(scope="module")
def spark_session() -> Iterator[Any]:
    """One local Spark session per test module. Java is needed: the Makefile installs a Java 17 runtime
    when it is missing. Locally without Java the Spark tests skip; under CI=true they fail, so CI always
    compares the two engines."""
    if not _java_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("java is missing: `make install` installs a Java 17 runtime for Spark")
        pytest.skip("java is missing (make install provides it)")
    pytest.importorskip("pyspark")
    from tunnelhunt.detect.spark import start_session

    session = start_session("local[2]", "tunnelhunt-tests")
    yield session
    session.stop()
