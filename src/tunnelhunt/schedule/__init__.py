"""Scheduled and continuous hunting: cron ticks, search windows, risk rules and delivery to sinks."""
