"""`make bench`: throughput against the parse-only floor, peak memory, and detections over stored events.

Not a test: figures depend on the machine and its load. They are written to a JSON file and printed.
It lives beside the package, not in it: it needs a checkout (the shared datasets, `build/bench/`), so
run it from the project root as `python -m bench [--quick]`.
"""
