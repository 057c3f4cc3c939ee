"""The browser session for tests/browser (see tests/support/browser.py), and page screenshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT
from tests.support.browser import chromium, missing

SCREENSHOTS = PROJECT / "build" / "screenshots"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    absent = missing()
    if absent:
        message = f"missing {', '.join(absent)}: `make install` installs Debian's chromium and chromium-driver"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def copy_screenshots(target: Path) -> None:
    """Refresh the README's copies (docs/screenshots) from the last run: `python -m tests.browser.conftest`."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(SCREENSHOTS.glob("*.png")):
        shutil.copy2(path, target / path.name)


if __name__ == "__main__":
    copy_screenshots(PROJECT / "docs" / "screenshots")
