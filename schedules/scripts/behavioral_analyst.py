#!/usr/bin/env python3
"""DS team, behavioural analyst: the household's routines in the meter data (when the car charges,
when the laundry runs, the evening peak, days away) and what they cost."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
question = str(state.get("question") or "").lower()
tariff = state.get("tariff") or H.TARIFF
spread = tariff["peak_eur"] - tariff["offpeak_eur"]
hours = H.load_readings()
b = H.behavior(hours, int(state.get("window_days", 90)), tariff)
ev, laundry = b["ev"], b["laundry"]


def about(*words):
    return any(w in question for w in words)


findings = []
if ev["sessions"]:
    share = ev["peak_kwh_year"] / max(1, ev["kwh_year"])
    findings.append({
        "title": "The car charges in the evening peak",
        "detail": (f"{ev['sessions']} charging sessions in {b['window']['days']} days ({ev['per_week']}/week, "
                   f"{ev['kwh_per_session']} kWh each), started at {', '.join(h + ':00' for h in ev['start_hours'])}; "
                   f"{share:.0%} of the car's {ev['kwh_year']} kWh a year is bought at the peak price. Starting at "
                   f"{tariff['offpeak_from'] + 1:02d}:00 instead still leaves it full by 07:00."),
        "circuit": "ev", "device_kind": "ev_charger",
        "impact_kwh_year": 0, "impact_eur_year": round(ev["peak_kwh_year"] * spread),
        "severity": "high" if ev["peak_kwh_year"] * spread > 100 else "medium",
        "focus": about("car", "ev", "charg", "wallbox"),
    })
findings.append({
    "title": f"Evening peak at {b['evening_peak']['hour']}",
    "detail": (f"The home draws {b['evening_peak']['kwh']:.1f} kWh in its busiest hour on average; "
               f"{b['peak_tariff_share']:.0%} of all energy is bought between {tariff['offpeak_until']:02d}:00 and "
               f"{tariff['offpeak_from']:02d}:00. Weekdays use {b['daily_non_ev_kwh']['weekday']} kWh/day without "
               f"the car, weekends {b['daily_non_ev_kwh']['weekend']}."),
    "circuit": "all", "impact_kwh_year": 0, "impact_eur_year": 0, "severity": "low",
    "focus": about("peak", "evening", "when"),
})
if laundry["ending_in_quiet_hours"]:
    findings.append({
        "title": "Laundry runs into quiet hours",
        "detail": (f"{laundry['ending_in_quiet_hours']} of {laundry['sessions']} laundry runs (washer, then dryer) "
                   f"were still going after {H.QUIET_HOURS['from']}:00; weekday loads start at "
                   f"{', '.join(h + ':00' for h, n in laundry['start_hours'].items() if int(h) >= 17)}. "
                   f"Starting before 18:00, or on weekend mornings, keeps the dryer out of quiet hours."),
        "circuit": "laundry", "device_kind": "dryer", "impact_kwh_year": 0, "impact_eur_year": 0,
        "severity": "medium", "focus": about("laundry", "dryer", "washer", "quiet", "noise"),
    })
for away in b["away"]:
    if away["ac_kwh"] > 20 or away["heat_pump_kwh"] > 50:
        waste = away["ac_kwh"] + away["heat_pump_kwh"]
        used = " and ".join(f"the {name} used {kwh:.0f} kWh" for name, kwh in
                            (("AC", away["ac_kwh"]), ("heat pump", away["heat_pump_kwh"])) if kwh > 0)
        findings.append({
            "title": "Climate control ran while nobody was home",
            "detail": (f"No cooking from {away['start']} to {away['end']} ({away['days']} days away), yet {used}. "
                       f"An away mode that follows "
                       f"the front door and presence would have saved most of it."),
            "circuit": "ac" if away["ac_kwh"] >= away["heat_pump_kwh"] else "heat_pump", "device_kind": "ac",
            "impact_kwh_year": round(waste), "impact_eur_year": round(waste * tariff["peak_eur"]),
            "severity": "medium", "focus": about("away", "holiday", "vacation", "ac", "cool"),
        })
H.log(f"behavioral_analyst: {len(findings)} findings over {b['window']['from']} .. {b['window']['to']}")
H.emit({
    "specialist": "behavioral_analyst",
    "findings": findings,
    "metrics": {"window": b["window"], "evening_peak": b["evening_peak"], "peak_tariff_share": b["peak_tariff_share"],
                "ev_sessions_per_week": ev["per_week"], "laundry_sessions_per_week": laundry["per_week"],
                "away_days": sum(a["days"] for a in b["away"])},
})
