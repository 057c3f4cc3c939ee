"""The fuzz suite's short run (the whole set well under a minute) and every input it ever caught.

`make fuzz` runs the same strategy over thousands of inputs (`tests/fuzz/campaign.py`).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz.harness import Checker, FuzzInput, fuzz_inputs, regression_inputs

pytestmark = pytest.mark.fuzz

#: Inputs of the short run; `TUNNELHUNT_FUZZ_EXAMPLES` raises it.
EXAMPLES = int(os.environ.get("TUNNELHUNT_FUZZ_EXAMPLES", "60"))
#: A hang here is far below the campaign's 60 s: these inputs are a few kB.
TIME_LIMIT = 20.0

_checker: Checker | None = None


def _check(item: FuzzInput) -> None:
    global _checker
    _checker = _checker or Checker(time_limit=TIME_LIMIT)
    outcome = _checker.check(item)
    assert outcome.problem is None, f"{outcome.problem}: {outcome.detail}"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(fuzz_inputs())
def test_mutated_inputs_never_crash_hang_or_lose_a_record(item: FuzzInput) -> None:
    _check(item)


@pytest.mark.parametrize("item", regression_inputs(), ids=lambda item: item.digest)
def test_every_input_the_fuzzer_ever_caught_stays_fixed(item: FuzzInput) -> None:
    _check(item)
