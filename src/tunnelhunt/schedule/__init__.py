"""Scheduled and continuous hunting: cron ticks, search windows, file following and delivery to sinks.

- `scheduler.py`: which detections are due at a tick, the unsearched part of each window, and the tick
  in one transaction (detections, behaviour analytics, risk events, incident rules via `pipeline`).
- `follow.py`: incremental ingest of growing and rotated files (`Follower.poll`).
- `watch.py`: the loop (`Watcher`): follow, run every tick that came due, deliver; the clock is injected.
- `delivery.py`: hand new items to every sink; one failing sink never stops the others.

`actions/schedule.py` composes these for `run --at` and `watch`. A new trigger (another clock, an event
from outside) calls `Scheduler.run_at(tick)` or `catch_up(now)`; it never runs detections itself. See
docs/rba-and-scheduling.md.
"""
