"""`make bench`: throughput against the parse-only floor, peak memory, and detections over stored events.

Not a test: figures depend on the machine and its load. They are written to a JSON file and printed.
"""
