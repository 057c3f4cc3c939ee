"""`make fuzz`: thousands of mutated inputs through every reader and the format detector, with counts.

    python -m tests.fuzz.campaign --inputs 5000

Prints the inputs run, uncaught exceptions, hangs over the time limit, runs over the memory limit and
accounting mismatches; every input with a problem is kept under tests/fixtures/fuzz (it then runs in
the normal suite). Exits 1 when any problem was found.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter

from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz.harness import Checker, FuzzInput, fuzz_inputs, keep_regression


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", type=int, default=5000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--memory-limit-mb", type=int, default=2048)
    args = parser.parse_args(argv)
    # a run past the limit fails inside this process (MemoryError, counted) instead of taking the machine
    cap = (args.memory_limit_mb + 2048) << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    checker = Checker(args.time_limit, args.memory_limit_mb << 20)
    counts: Counter[str] = Counter()
    slowest = 0.0
    peak = 0
    began = time.monotonic()

    @settings(
        max_examples=args.inputs,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(fuzz_inputs())
    def run(item: FuzzInput) -> None:
        nonlocal slowest, peak
        outcome = checker.check(item)
        counts["inputs"] += 1
        slowest, peak = max(slowest, outcome.seconds), max(peak, outcome.peak_bytes)
        if outcome.problem:
            counts[outcome.problem] += 1
            kept = keep_regression(item, outcome)
            print(f"{outcome.problem}: {kept.name}: {outcome.detail.splitlines()[-1]}", file=sys.stderr)
        if counts["inputs"] % 500 == 0:
            print(f"{counts['inputs']} inputs, {time.monotonic() - began:.0f} s", file=sys.stderr)

    run()
    summary = {
        "inputs": counts["inputs"],
        "uncaught_exceptions": counts["exception"],
        f"hangs_over_{args.time_limit:g}_s": counts["hang"],
        f"runs_over_{args.memory_limit_mb}_mb": counts["memory"],
        "accounting_mismatches": counts["accounting"],
        "slowest_input_s": round(slowest, 2),
        "highest_peak_rss_mb": peak >> 20,
        "seconds": round(time.monotonic() - began),
    }
    print(json.dumps(summary, indent=2))
    problems = counts["exception"] + counts["hang"] + counts["memory"] + counts["accounting"]
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
