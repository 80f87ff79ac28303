#!/usr/bin/env python3
"""Collects the household's behaviour from the meter data: the daily load profile, car charging and
laundry sessions, night-time standby per circuit and the days nobody was home."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
window = int(state.get("window_days", 90))
tariff = state.get("tariff") or H.TARIFF
hours = H.load_readings()
b = H.behavior(hours, window, tariff)
H.log(f"behaviour over {b['window']['from']} .. {b['window']['to']}: {b['ev']['sessions']} charging sessions, "
      f"{b['laundry']['sessions']} laundry runs, {len(b['away'])} away period(s), evening peak {b['evening_peak']['hour']}")
H.emit({"behavior": b, "tariff": tariff})
