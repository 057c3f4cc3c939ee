"""Normalise raw records into CIM data-model rows: one declarative mapping per source type.

A mapping (`mapping.py`: `SourceMapping` of `NodeMapping`s) is data: per CIM node a SQL predicate and one
SQL expression per field, evaluated by DuckDB over a whole Arrow batch (`normalizer.py`), so there is no
Python per record. Each record lands in one node, in "unmapped", or in quarantine (no valid time).

- Built-in families: `windows.py` (every Windows transport), `zeek.py`, `suricata.py`, `ecs.py`, `ocsf.py`.
- `custom.py`: the user's `--mapping` YAML files, compiled into the same `SourceMapping`.
- `registry.py`: which mapping normalises which source type (`BUILT_IN`).

To add a mapping: write a `SourceMapping` whose `sourcetype` is the one the reader puts on its batches,
with disjoint `where` predicates and fields `cim.py` declares, add it to its family's `MAPPINGS`, and
the family to `registry.BUILT_IN`. A new node or field goes in `cim.py`. See docs/extending.md.
"""
