"""Synthetic data with a known answer, so detections can be tested and demonstrated without real logs."""

from tunnelhunt.generate.sysmon import MIN_EVENTS, GeneratedDataset, generate_sysmon

__all__ = ["MIN_EVENTS", "GeneratedDataset", "generate_sysmon"]
