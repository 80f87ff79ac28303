#!/usr/bin/env python3
"""Reads a year of hourly meter readings, checks them (gaps, duplicates, implausible or mismatched
totals) and hands on the daily totals."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
hours = H.load_readings()
check = H.integrity(hours)
days = H.by_day(hours)
complete = [d for d in days if d.hours == 24]
issues = (check["missing_hours"] > 0) + len(check["implausible"]) + len(check["mismatched"]) \
    + check["duplicates"] + check["out_of_order"] + (check["negative"] > 0)
H.log(f"read {check['rows']} hourly readings ({check['first']} .. {check['last']}) for "
      f"{state.get('home', 'home')}: {check['missing_hours']} hours missing, "
      f"{len(check['implausible'])} implausible, {len(check['mismatched'])} mismatched")
H.emit({
    "dataset": {
        "file": "data/energy_readings.csv",
        "sha256": H.fingerprint(H.READINGS_FILE),
        "days": len(days),
        "complete_days": len(complete),
        "issues": issues,
        **check,
    },
    "first_day": days[0].date.isoformat(),
    "as_of": complete[-1].date.isoformat(),
    "daily_kwh": [round(d.total, 1) for d in days],
})
