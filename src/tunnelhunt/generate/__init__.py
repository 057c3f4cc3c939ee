"""Synthetic data with a known answer, so detections can be tested and demonstrated without real logs.

Layout: `sysmon/` writes the Windows Sysmon log and truth.json (see its docstring for one module per
subject), `unix.py` its Linux and macOS companions, `jsonl.py` the JSON lines form of the Windows log.
The ground truth never comes from running detections: `seed_oracle.py` reads the two seed detections'
SPL by hand, `oracle.py` holds regular expressions written from each tunnel detection's intent.
The same seed and size always give the same bytes, so any change to the stream of random draws (one
more draw, or draws in another order) changes every later event; tests compare with the truth, not
with fixed bytes.

To add one more event kind (a Sysmon EventID):
1. `sysmon/events.py`: its field names in `EVENT_FIELDS` (Sysmon's order and version), its template in
   `EventLog.__init__` (constants inlined) and one renderer method filling the remaining slots.
2. `sysmon/plan.py`: a `Script` method that checks the value against the oracle and records the truth,
   then `self._add(self.host.log.<renderer>, args, truth)`; `sysmon/world.py` if background events of
   that kind should appear too (a `bg_*` method and a weight in `background_table`).
3. The reader and normaliser must already map it (readers/, normalize/windows.py), or it lands in
   `unmapped`.

To add one more scenario: write a function `(plan: Planner) -> None` in `sysmon/scenarios.py` that
opens `plan.script(host)`, spawns processes, looks names up and connects, naming for each planted
value the detections that must find it (`hits`) and must not (`near`), then `plan.place(s)`; list it
in `_FIXED_SCENARIOS` (every dataset) or call it from `plan_scenarios` in proportion to the size.
Keep the fixed scenarios under `MIN_EVENTS // 2` events. An oracle disagreeing with `hits`/`near`
stops generation with an AssertionError, so a planted value cannot silently be wrong.
"""

from tunnelhunt.generate.sysmon.scenarios import MIN_EVENTS
from tunnelhunt.generate.sysmon.writer import GeneratedDataset, generate_sysmon

__all__ = ["MIN_EVENTS", "GeneratedDataset", "generate_sysmon"]
