#!/usr/bin/env python3
"""Dashboard tile: the monthly trend by circuit, the cost per month, the change against the month
before, and a projection for the month under way."""
import calendar
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
H.need(state, "period")
period = state["period"]
tariff = state.get("tariff") or H.TARIFF
hours = [h for h in H.load_readings() if h.time.date().isoformat() <= period["day"]]
days = H.by_day(hours)
months = H.by_month(days)
costs = {}
for h in hours:
    key = h.time.strftime("%Y-%m")
    costs[key] = costs.get(key, 0.0) + h.total * H.price(h.time.hour, tariff)
keys = list(months)
rows = []
for k in keys:
    m = months[k]
    year, month = int(k[:4]), int(k[5:])
    length = calendar.monthrange(year, month)[1]
    rows.append({"month": k, "label": H.MONTHS[month - 1], "kwh": round(m["total"]), "eur": round(costs[k]),
                 "days": m["days"], "complete": m["days"] == length,
                 "projected_kwh": round(m["total"] / m["days"] * length),
                 "by_circuit": {c: round(m[c]) for c in H.CIRCUITS}})
current = rows[-1]
previous = rows[-2] if len(rows) > 1 else None
change = None
if previous:
    base = previous["kwh"] if current["complete"] else previous["kwh"] / previous["days"] * current["days"]
    change = round((current["kwh"] - base) / base * 100, 1)
H.log(f"tile_monthly_trend: {len(rows)} months; {current['month']} {current['kwh']} kWh "
      f"({'complete' if current['complete'] else 'projected ' + str(current['projected_kwh'])}), "
      f"{change:+.1f} % against the month before" if change is not None else "first month")
H.emit({"tile_trend": {"months": rows, "current": current["month"], "change_pct": change,
                       "year_kwh": sum(r["kwh"] for r in rows), "year_eur": sum(r["eur"] for r in rows)}})
