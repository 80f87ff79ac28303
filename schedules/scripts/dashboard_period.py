#!/usr/bin/env python3
"""Dashboard, period: the day the dashboard shows (the state's `as_of`, else the last complete day
of readings) and its baseline (the same weekday in the eight weeks before)."""
import datetime as dt
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
hours = H.load_readings()
days = H.by_day(hours)
complete = {d.date for d in days if d.hours == 24}
last = max(complete)
wanted = state.get("as_of")
day = dt.date.fromisoformat(wanted) if wanted else last
if day not in complete:
    H.log(f"as_of {day} has no complete day of readings; the last one is {last}")
    sys.exit(3)
baseline = [day - dt.timedelta(weeks=k) for k in range(1, 9) if day - dt.timedelta(weeks=k) in complete]
H.log(f"dashboard for {day} ({day.strftime('%A')}), baseline {len(baseline)} earlier {day.strftime('%A')}s")
H.emit({"period": {
    "day": day.isoformat(),
    "weekday": day.strftime("%A"),
    "baseline_days": [d.isoformat() for d in baseline],
    "month": day.strftime("%Y-%m"),
    "last_complete_day": last.isoformat(),
}})
