#!/usr/bin/env python3
"""DS team, energy analyst: where the year's energy went, what the weather explains, the episodes
and drifts it does not, and the permanent base load. Looks closer at the dates, months and circuits
the question names."""
import datetime as dt
import re
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
question = str(state.get("question") or "")
q = question.lower()
tariff = state.get("tariff") or H.TARIFF
hours = H.load_readings()
days = H.by_day(hours)
model = H.fit_model(days)
found = [e for e in H.episodes(days, model, float(state.get("z_threshold", 3.5))) if e["direction"] == "high"]
drift = H.drifts(days)
total = sum(d.total for d in days)
avg_price = H.cost(hours, tariff) / total
shares = {c: sum(d.circuits[c] for d in days) / total for c in H.CIRCUITS}

CAUSES = {
    "heat_pump": "at these temperatures the heat pump alone cannot use that much: the electric backup heater "
                 "was probably stuck on",
    "ac": "the AC ran day and night, as if nobody had switched it off",
    "fridge": "a fridge's compressor running ever longer points to a worn door seal or a failing compressor",
}

findings = []
for e in found:
    findings.append({
        "title": f"{e['circuit']} used {e['circuit_change_kwh']:.0f} kWh more than usual, {e['start']} .. {e['end']}",
        "detail": (f"{e['kwh']:.0f} kWh without the car against {e['expected_kwh']:.0f} kWh expected for the weather "
                   f"(mean {e['mean_outdoor_c']} °C, z up to {e['max_z']}); "
                   f"{CAUSES.get(e['circuit'], 'the circuit breakdown shows where it went')}."),
        "circuit": e["circuit"], "impact_kwh_year": round(e["excess_kwh"]),
        "impact_eur_year": round(e["excess_kwh"] * avg_price),
        "severity": "high" if e["excess_kwh"] > 150 else "medium",
        "focus": e["circuit"].replace("_", " ") in q or e["start"][:7] in q,
    })
for d in drift:
    findings.append({
        "title": f"{d['circuit']} draws {d['ratio']}x its usual energy since {d['since']}",
        "detail": (f"{d['recent_kwh_per_day']} kWh/day over the last 30 days against {d['before_kwh_per_day']} in the "
                   f"90 days before; {CAUSES.get(d['circuit'], 'worth a look at the appliances on it')}."),
        "circuit": d["circuit"], "impact_kwh_year": d["extra_kwh_per_year"],
        "impact_eur_year": round(d["extra_kwh_per_year"] * avg_price), "severity": "high",
        "focus": d["circuit"] in q,
    })
heat_kwh = shares["heat_pump"] * total
heating = {
    "title": f"Heating is {shares['heat_pump']:.0%} of the year's electricity",
    "detail": (f"The weather model (R² {model['r2']}) puts a day at 0 °C at {model['heating_kwh_day_at_0c']} kWh of "
               f"heating. One degree less indoors saves about 6 % of heating energy, "
               f"{heat_kwh * 0.06:.0f} kWh a year here."),
    "circuit": "heat_pump", "impact_kwh_year": round(heat_kwh * 0.06),
    "impact_eur_year": round(heat_kwh * 0.06 * avg_price), "severity": "medium",
    "focus": any(w in q for w in ("heat", "winter", "weather", "cold")),
}
findings.append(heating)
night = [h.total - h.circuits["ev"] - h.circuits["heat_pump"] - h.circuits["ac"]
         for h in hours if 2 <= h.time.hour <= 4]
base_w = H.median(night) * 1000
if base_w > 150:
    extra = (base_w - 150) * 8.76
    findings.append({
        "title": f"Base load of {base_w:.0f} W around the clock",
        "detail": (f"Between 02:00 and 05:00, without heating, cooling and the car, the home still draws {base_w:.0f} W "
                   f"(fridge, freezer, network, standby). Each 10 W less saves {87.6 * avg_price:.0f} EUR a year; "
                   f"getting to 150 W would save {extra:.0f} kWh."),
        "circuit": "other", "impact_kwh_year": round(extra), "impact_eur_year": round(extra * avg_price),
        "severity": "medium", "focus": any(w in q for w in ("standby", "base", "night", "always")),
    })

# A closer look at what the question names.
focus = {}
window = sorted(re.findall(r"\d{4}-\d{2}-\d{2}", question))
FULL = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december")
month = next((i for i, m in enumerate(FULL) if re.search(r"\b(" + m + "|" + m[:3] + r")\b", q)), None)
if window:
    start, end = dt.date.fromisoformat(window[0]), dt.date.fromisoformat(window[-1])
elif month is not None:
    start = dt.date(days[0].date.year, month + 1, 1)
    end = (dt.date(start.year + (month == 11), (month + 1) % 12 + 1, 1) - dt.timedelta(days=1))
else:
    start = end = None
if start:
    chosen = [d for d in days if start <= d.date <= end]
    if chosen:
        before = [d for d in days if start - dt.timedelta(days=28) <= d.date < start]
        focus["window"] = {
            "from": start.isoformat(), "to": end.isoformat(), "days": len(chosen),
            "kwh": round(sum(d.total for d in chosen), 1),
            "expected_kwh": round(sum(H.predict(model, d) + d.circuits["ev"] for d in chosen), 1),
            "mean_outdoor_c": round(sum(d.tmean for d in chosen) / len(chosen), 1),
            "kwh_per_day_by_circuit": {c: round(sum(d.circuits[c] for d in chosen) / len(chosen), 2) for c in H.CIRCUITS},
            "kwh_per_day_by_circuit_4_weeks_before": (
                {c: round(sum(d.circuits[c] for d in before) / len(before), 2) for c in H.CIRCUITS} if before else {}),
        }
if "window" in focus:
    w = focus["window"]
    per_day = w["kwh"] / w["days"]
    year_per_day = total / len(days)
    ranked = sorted(w["kwh_per_day_by_circuit"].items(), key=lambda kv: -kv[1])
    gap = (w["kwh"] - w["expected_kwh"]) / w["expected_kwh"] if w["expected_kwh"] else 0.0
    label = w["from"] if w["from"] == w["to"] else f"{w['from']} .. {w['to']}"
    findings.append({
        "title": f"{label}: {per_day:.1f} kWh a day, {per_day / year_per_day - 1:+.0%} against the year's average",
        "detail": (f"{w['kwh']:.0f} kWh at {w['mean_outdoor_c']} °C on average; "
                   + ", ".join(f"{c} {v:.1f} kWh/day" for c, v in ranked[:3])
                   + (f". The weather explains it: the model expected {w['expected_kwh']:.0f} kWh ({gap * 100:+.1f} %)."
                      if abs(gap) <= 0.1 else
                      f". That is {gap * 100:+.0f} % against the {w['expected_kwh']:.0f} kWh the weather model expected: "
                      f"look at the anomaly episodes of that time.")),
        "circuit": ranked[0][0], "impact_kwh_year": 0,
        "impact_eur_year": 0, "severity": "medium" if abs(gap) > 0.1 else "low", "focus": True, "answer": True,
    })
    if ranked[0][0] == "heat_pump":
        heating["focus"] = True
names = {"heat pump": "heat_pump", "heating": "heat_pump", "heater": "heat_pump", "air con": "ac", "cooling": "ac",
         " ac": "ac", "car": "ev", " ev": "ev", "fridge": "fridge", "laundry": "laundry", "dryer": "laundry",
         "kitchen": "kitchen", "cooking": "kitchen"}
circuits = sorted({c for w, c in names.items() if w in " " + q})
if circuits:
    months = H.by_month(days)
    focus["monthly_kwh"] = {c: [round(months[m][c]) for m in months] for c in circuits}
    for f in findings:
        f["focus"] = f["focus"] or f["circuit"] in circuits

H.log(f"energy_analyst: {len(findings)} findings; focus {sorted(focus) or 'none'}")
H.emit({
    "specialist": "energy_analyst",
    "findings": findings,
    "focus_detail": focus,
    "metrics": {
        "total_kwh": round(total), "cost_eur": round(total * avg_price), "avg_price_eur": round(avg_price, 3),
        "share_by_circuit": {c: round(v, 3) for c, v in sorted(shares.items(), key=lambda kv: -kv[1])},
        "model": {k: v for k, v in model.items() if not k.startswith("_")},
        "base_load_w": round(base_w),
    },
})
