#!/usr/bin/env bash
# The README's example, run for real: prints each command (as "$ tunnelhunt ...") and its output.
# tests/e2e/test_readme.py runs this and checks that the lines README.md shows (counts, detection and
# entity names) are what it prints, so the README cannot go stale.
#
#   scripts/readme_example.sh [DIR]   run in DIR (default: a new temporary directory, left in place)
#
# TUNNELHUNT is the command to call (default: `tunnelhunt` on the PATH, e.g. after
# `source .venv/bin/activate`); the test sets it to "<python> -m tunnelhunt.cli.app".
set -euo pipefail
cd "${1:-$(mktemp -d)}"
export COLUMNS=100  # rich fits tables to the terminal width: a fixed width gives the same table every time
run() {
    printf '$ tunnelhunt %s\n' "$*"
    ${TUNNELHUNT:-tunnelhunt} "$@" 2>&1
}
run generate demo --events 2000 --seed 7
run hunt demo/windows-sysmon.log demo/linux-sysmon.log demo/macos-endpoint.ndjson --db demo.duckdb -o csv --out results.csv
run risk --db demo.duckdb --limit 3
