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
run() {  # prints the command as you would type it (arguments with spaces or backticks in single quotes)
    printf '$ tunnelhunt'
    for arg in "$@"; do
        if [[ "$arg" =~ [[:space:]\`\|\$] ]]; then printf " '%s'" "$arg"; else printf ' %s' "$arg"; fi
    done
    printf '\n'
    ${TUNNELHUNT:-tunnelhunt} "$@" 2>&1
}
run generate demo --events 2000 --seed 7
run hunt demo/windows-sysmon.log demo/windows-security.log demo/linux-sysmon.log demo/macos-endpoint.ndjson --db demo.duckdb -o csv --out results.csv
run risk --db demo.duckdb --limit 3
run search --db demo.duckdb '`sysmon` EventCode=1 plink -R | stats count by host, process_name' --limit 3
# a risk event's id is stable (it derives from the result that raised it): drill into one of a host's
id=$(${TUNNELHUNT:-tunnelhunt} risk --db demo.duckdb --events --object wks-001.corp.example.com -o jsonl --limit 1000 \
    | python3 -c 'import json, sys
rows = [json.loads(line) for line in sys.stdin]
print(min(r["risk_event_id"] for r in rows if "Windows Ngrok Reverse Proxy Usage" in r["search_name"])[:12])')
run events "$id" --db demo.duckdb --limit 2
