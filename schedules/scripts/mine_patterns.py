#!/usr/bin/env python3
"""Automation builder, patterns: finds what an automation could fix in the household's meter data —
standby at night, the car charging at peak price, climate control while away, laundry running into
quiet hours — each with its evidence."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
tariff = state.get("tariff") or H.TARIFF
window = int(state.get("window_days", 90))
hours = H.load_readings()
b = H.behavior(hours, window, tariff)
recent = H.last_days(hours, window)

patterns = []
for circuit in ("laundry", "kitchen"):
    watts = b["standby_w"][circuit]
    if watts >= 10:
        # The latest evening hour at which the circuit was really in use: switching off before it
        # would cut a running appliance.
        busy = [h.time.hour for h in recent if h.circuits[circuit] > 0.3 and h.time.hour >= 18]
        patterns.append({"id": f"standby_{circuit}", "kind": "standby", "circuit": circuit, "watts": watts,
                         "last_use_hour": max(busy) if busy else None,
                         "evidence": f"{circuit} circuit draws {watts} W between 02:00 and 05:00 on a typical night",
                         "kwh_year": round(watts * 8.76)})
if b["ev"]["peak_kwh_year"] > 0:
    patterns.append({"id": "ev_peak_charging", "kind": "peak_load", "circuit": "ev",
                     "kwh_year_at_peak": b["ev"]["peak_kwh_year"], "start_hours": b["ev"]["start_hours"],
                     "evidence": (f"{b['ev']['sessions']} sessions in {window} days start at "
                                  f"{', '.join(h + ':00' for h in b['ev']['start_hours'])}, at the peak price")})
for away in b["away"]:
    if away["ac_kwh"] + away["heat_pump_kwh"] > 20:
        patterns.append({"id": "climate_while_away", "kind": "away_waste", "circuit": "ac",
                         "period": f"{away['start']}..{away['end']}", "kwh": away["ac_kwh"] + away["heat_pump_kwh"],
                         "evidence": f"no cooking for {away['days']} days, yet {away['ac_kwh']} kWh of cooling"})
if b["laundry"]["ending_in_quiet_hours"]:
    patterns.append({"id": "laundry_into_quiet_hours", "kind": "quiet_hours", "circuit": "laundry",
                     "runs": b["laundry"]["ending_in_quiet_hours"], "of": b["laundry"]["sessions"],
                     "evidence": (f"{b['laundry']['ending_in_quiet_hours']} of {b['laundry']['sessions']} laundry runs "
                                  f"still going after {H.QUIET_HOURS['from']}:00")})
H.log(f"mine_patterns: {len(patterns)} pattern(s): {', '.join(p['id'] for p in patterns)}")
H.emit({"patterns": patterns, "window": b["window"]})
