#!/usr/bin/env python3
"""Totals the readings, finds the peak hour and flags usage above the threshold."""
import json
import sys

state = json.load(sys.stdin)
readings = state.get("readings", [])
if not readings:
    print("no readings in the state", file=sys.stderr)
    sys.exit(3)
total = round(sum(r["kwh"] for r in readings), 2)
peak = max(readings, key=lambda r: r["kwh"])
json.dump(
    {
        "total_kwh": total,
        "peak_hour": peak["hour"],
        "peak_kwh": peak["kwh"],
        "anomaly": peak["kwh"] > state.get("peak_threshold_kwh", 3.0),
    },
    sys.stdout,
)
