#!/usr/bin/env python3
"""Fits the daily load to the weather (heating and cooling degree days), finds the episodes the
weather does not explain and the circuits drifting away from their usual use, and writes a chart of
the monthly use by circuit (SVG) and the daily figures (CSV)."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
threshold = float(state.get("z_threshold", 3.5))
drift_ratio = float(state.get("drift_ratio", 1.5))
tariff = state.get("tariff") or H.TARIFF

hours = H.load_readings()
days = H.by_day(hours)
model = H.fit_model(days)
found = H.episodes(days, model, threshold)
high = [e for e in found if e["direction"] == "high"]
low = [e for e in found if e["direction"] == "low"]
high.sort(key=lambda e: -e["excess_kwh"])
drift = H.drifts(days, ratio=drift_ratio)
flagged = {}
for e in found:
    for d in days:
        if e["start"] <= d.date.isoformat() <= e["end"]:
            flagged[d.date] = e["direction"]

as_of = state.get("as_of") or days[-1].date.isoformat()
today = next((d for d in days if d.date.isoformat() == as_of), days[-1])
expected_today = H.predict(model, today) + today.circuits["ev"]

# Artifacts: the daily figures and the monthly chart.
rows = ["date,kwh,non_ev_kwh,expected_non_ev_kwh,z,outdoor_c,flag," + ",".join(H.CIRCUITS)]
for d in days:
    exp = H.predict(model, d)
    z = (H.weather_load(d) - exp) / model["sigma_kwh"]
    rows.append(",".join([d.date.isoformat(), f"{d.total:.2f}", f"{H.weather_load(d):.2f}", f"{exp:.2f}",
                          f"{z:.2f}", f"{d.tmean:.1f}", flagged.get(d.date, "")]
                         + [f"{d.circuits[c]:.2f}" for c in H.CIRCUITS]))
months = H.by_month(days)
labels = [H.MONTHS[int(k[5:]) - 1] for k in months]
series = {c: [months[k][c] for k in months] for c in H.CIRCUITS}
svg = H.svg_stacked_bars(f"Monthly electricity use by circuit, {days[0].date.year}", labels, series, "kWh")
artifacts = [a for a in (H.write_artifact("daily_usage.csv", "\n".join(rows) + "\n"),
                         H.write_artifact("monthly_usage.svg", svg)) if a]

total = sum(d.total for d in days)
money = H.cost(hours, tariff)
issues = []
if high:
    e = high[0]
    issues.append(f"{e['circuit']} drove {e['excess_kwh']:.0f} kWh above the weather model "
                  f"from {e['start']} to {e['end']}")
for d in drift:
    issues.append(f"{d['circuit']} at {d['ratio']}x its usual daily use since {d['since']}")
H.log(f"model r2={model['r2']} sigma={model['sigma_kwh']} kWh/day; {len(high)} high and {len(low)} low "
      f"episode(s), {len(drift)} drifting circuit(s); total {total:.0f} kWh")
H.emit({
    "total_kwh": round(total),
    "cost_eur": round(money),
    "avg_price_eur": round(money / total, 3),
    "model": {k: v for k, v in model.items() if not k.startswith("_")},
    "anomalies": high[:5],
    "anomaly_count": len(high),
    "low_usage": low[:5],
    "drifts": drift,
    "drift_count": len(drift),
    "today": {"date": today.date.isoformat(), "kwh": round(today.total, 1), "expected_kwh": round(expected_today, 1),
              "outdoor_c": round(today.tmean, 1),
              "z": round((H.weather_load(today) - H.predict(model, today)) / model["sigma_kwh"], 2)},
    "headline_issue": "; ".join(issues) if issues else "nothing unusual",
    "alert_level": "critical" if any(e["excess_kwh"] > 200 for e in high) else ("warning" if issues else "ok"),
    "analysis_artifacts": artifacts,
})
