"""Risk-based alerting: detection results become risk events on their risk objects, and incident rules
raise findings when risk adds up for an entity, as Splunk ES does.

- `risk.py`: risk events with the ES risk-index fields and stable ids (`risk_events()`).
- `attack.py` + `attack.json`: ATT&CK technique names and tactics, shipped (no download at run time).
- `rules.py`: the two incident rules (`RuleConfig`, overridable with `--rules FILE`) → findings.
- `queries.py`: the read side for `risk` and `findings`.

`pipeline.py` calls these for `hunt` and for each scheduled tick. To add an incident rule: a function
over the stored risk events in `rules.py`, its thresholds in `RuleConfig`, called from `evaluate()`;
its findings get stable ids (rule, object, tick, severity) so a re-run adds nothing. See
docs/rba-and-scheduling.md.
"""
