"""Normalise raw records into CIM data-model rows: one declarative mapping per source type."""
