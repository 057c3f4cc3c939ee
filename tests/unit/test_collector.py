"""`collector.no_collection`: the collector paused inside, and left as it was after."""

from __future__ import annotations

import gc

import pytest

from tunnelhunt.collector import no_collection


def test_the_collector_is_paused_inside_and_enabled_again_after() -> None:
    assert gc.isenabled()
    with no_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_enables_it_and_a_paused_collector_stays_paused() -> None:
    with pytest.raises(ImportError), no_collection():
        raise ImportError("no such module")
    assert gc.isenabled()
    gc.disable()
    try:
        with no_collection():
            pass
        assert not gc.isenabled()  # a caller's own pause is not undone
    finally:
        gc.enable()
