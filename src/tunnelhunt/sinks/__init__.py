"""Sinks: where findings and risk events go (terminal table, JSON lines, CSV)."""
