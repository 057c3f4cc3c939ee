"""SPL compiler: macros → tokens → AST → one dialect-neutral sqlglot query."""
