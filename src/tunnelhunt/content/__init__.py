"""Detection content as data: ESCU detection YAML, macros, lookups and user filter overrides."""
