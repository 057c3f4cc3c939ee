"""Readers: decode one log format safely and yield raw records in Arrow batches with provenance."""
