"""A served database (hunted from the hostile sample) and a test client on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.web_data import hunted_db
from tunnelhunt.actions.common import load
from tunnelhunt.store.duckdb_store import Store
from tunnelhunt.web.app import create_app


@pytest.fixture(scope="module")
def served_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hunted_db(tmp_path_factory.mktemp("served"))


@pytest.fixture
def store(served_db: Path) -> Iterator[Store]:
    with Store(served_db) as opened:
        yield opened


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store, load()), base_url="http://127.0.0.1:8465") as test_client:
        yield test_client
