"""Detection content as data: ESCU detection YAML, macros, lookups and user filter overrides.

- `loader.py`: `load_content()` layers the user's `--detections` / `--macros` directories (and a content
  folder's own `macros/`, `lookups/`) over the shipped content; later layers win.
- `models.py`: the lenient `Detection` that runs and the strict contentctl model `validation.py` applies.
- `behaviours.py`: behaviour analytics (`behaviours/*.yml`, ESCU fields, no search, an `analytic` kind).
- `lookups.py`, `services.py` (the tunnel-service catalogue in `intel/`), `files.py` (YAML, `ContentError`).
- Shipped: `detections/`, `macros/`, `behaviours/`, `intel/`, and `data/` (the tests' attack data).

To add a detection: its ESCU YAML in `detections/`, an empty `<name>_filter` macro in `macros/` and its
test data in `data/`; `tunnelhunt validate` and `tunnelhunt test` check it. Nothing registers it: files
are loaded by directory. A behaviour analytic also needs its function in `detect/behaviour.py`. Another
rule format (Sigma, planned) lives in its own package beside this one. See docs/escu-content.md.
"""
