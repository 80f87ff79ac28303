#!/usr/bin/env python3
"""Dashboard tile: the day against its baseline, hour by hour, in kWh and EUR."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
H.need(state, "period")
period = state["period"]
tariff = state.get("tariff") or H.TARIFF
hours = H.load_readings()
day = [h for h in hours if h.time.date().isoformat() == period["day"]]
base_days = set(period["baseline_days"])
base = [h for h in hours if h.time.date().isoformat() in base_days]
hourly = [0.0] * 24
for h in day:
    hourly[h.time.hour] = h.total
baseline_hourly = [round(H.median([h.total for h in base if h.time.hour == k]), 2) for k in range(24)]
total = sum(hourly)
base_total = sum(baseline_hourly)
delta = (total - base_total) / base_total if base_total else 0.0
diff = [round(a - b, 2) for a, b in zip(hourly, baseline_hourly)]
worst = max(range(24), key=lambda k: diff[k])
H.log(f"tile_today: {period['day']} {total:.1f} kWh vs baseline {base_total:.1f} ({delta:+.0%})")
H.emit({"tile_today": {
    "day": period["day"],
    "kwh": round(total, 1),
    "baseline_kwh": round(base_total, 1),
    "delta_pct": round(delta * 100, 1),
    "cost_eur": round(H.cost(day, tariff), 2),
    "peak_hour": f"{hourly.index(max(hourly)):02d}:00",
    "peak_kwh": round(max(hourly), 2),
    "most_above_baseline": {"hour": f"{worst:02d}:00", "kwh": diff[worst]},
    "hourly": [round(v, 2) for v in hourly],
    "baseline_hourly": baseline_hourly,
    "outdoor_c": round(sum(h.outdoor for h in day) / len(day), 1),
    "status": "high" if delta > 0.25 else ("low" if delta < -0.25 else "normal"),
}})
