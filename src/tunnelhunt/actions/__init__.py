"""Actions: one function per command, composing the stages and returning a typed result.

`cli/` only parses options, calls one action and renders its result; a web page or an API calls the
same actions. Hunts and scheduled runs share one sequence (`pipeline.py`): detections → behaviour
analytics → risk events → incident rules.

- `hunt.py`: `hunt(HuntOptions) -> HuntResult` (ingest, then one pass over all time).
- `schedule.py`: `run_at(ScheduleOptions, at)` and `watch(...)`.
- `review.py`: `risk()` and `findings()` over a kept database.
- `test.py`, `compile.py`, `validate.py`: the content commands.
- `common.py`: opening the store, loading content, mappings and rules; `OptionError`, `StoreError`.

To add a command: an options dataclass and one function here returning a result dataclass, raising
`TunnelhuntError` subclasses (with a `Location`) for what the user can fix; then a thin `cli/<name>.py`
named in `cli/commands.py: COMMANDS`. Actions never print; progress goes through callbacks.
"""
