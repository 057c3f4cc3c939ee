"""Actions: one function per command, composing the stages and returning a typed result.

`cli/` only parses options, calls one action and renders its result; a web page or an API calls the
same actions. Hunts and scheduled runs share one sequence (`pipeline.py`): detections → behaviour
analytics → risk events → incident rules.
"""
