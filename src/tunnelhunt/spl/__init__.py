"""SPL compiler: macros → tokens → AST → one dialect-neutral sqlglot query.

`compile_search()` (`compiler.py`) returns a `CompiledSearch`: a chain of CTE stages as a sqlglot
expression plus its output columns, rendered with `.sql("duckdb")` or `.sql("spark")`. Anything not
supported raises `UnsupportedError` naming the token and its position, so a search is never half-run.

- `macros.py` (expansion), `tokens.py`, `parser.py` (+ `search_expr.py`, `parse_transforms.py`,
  `evalexpr.py`) → `ast.py`.
- `compiler.py` + `builder.py` (stages), `evaluate.py` and `functions.py` (eval), `aggregates.py`,
  `semantics.py` (Splunk's matching rules), `regex.py`, `values.py` (kinds), `lookups.py`.
- `timemod.py` (spans, relative times in a search), `timemodifiers.py` (`--at`, `--since`, schedules).

To add a command: an `ast.Command` dataclass, a parse function registered in `parser._COMMANDS`, and a
`Compiler` method registered in `compiler._HANDLERS`. An eval function: a builder decorated with
`@function("name")` in `functions.py`. An aggregate: its name in `parser.AGGREGATES` and a branch in
`aggregates.aggregate`. Follow Splunk's documented semantics and test the near misses (docs/spl.md,
docs/spl-semantics.md, docs/extending.md).
"""
