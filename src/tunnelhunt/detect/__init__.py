"""Detection stage: compiled searches and behaviour analytics run over a query engine.

- `runner.py`: compile a detection (macros → SPL → SQL) and run it on a `QueryEngine` (`DetectionRun`).
- `spark.py`: the Spark engine over a Parquet lake (same compiled SQL, Spark dialect).
- `behaviour.py`: analytics that keep state across runs, each registered by its `analytic` kind.
- `dns_state.py`, `agent_hashes.py`: the state those analytics keep in the store.

To add a query engine: a class with `run(compiled) -> pyarrow.Table` that loads the lookups the search
names and renders `compiled.sql(<dialect>)` (see `SparkEngine`). To add a behaviour analytic: write a
function `(context, analytic) -> pyarrow.Table`, register it under its kind with `analytic("kind")` in
`behaviour.py`, and ship a YAML in `content/behaviours/`. `pipeline.py` runs both kinds in order.
"""
