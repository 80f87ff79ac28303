#!/usr/bin/env python3
"""Writes the nightly energy report (Markdown) from what collect and analyze found, with the DS
team's answer when the anomalies were sent to them."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
home = state.get("home", "home")
data = state.get("dataset") or {}
today = state.get("today") or {}
model = state.get("model") or {}
coef = model.get("coef") or {}
anomalies = state.get("anomalies") or []
drifts = state.get("drifts") or []
team = state.get("team_report")

if not today or "total_kwh" not in state:
    H.log("nothing to report: the state has no analysis (run collect and analyze first)")
    sys.exit(3)

delta = today["kwh"] - today["expected_kwh"]
lines = [
    f"# Energy report for {home}, {today['date']}",
    "",
    f"**{today['date']}**: {today['kwh']:.1f} kWh at {today['outdoor_c']:.1f} °C, "
    f"{'above' if delta >= 0 else 'below'} the expected {today['expected_kwh']:.1f} kWh by {abs(delta):.1f} kWh "
    f"(z = {today['z']:+.1f}).",
    "",
    f"**{state.get('first_day', '?')} .. {today['date']}**: {state['total_kwh']:,} kWh, about {state['cost_eur']:,} EUR at the time-of-use tariff "
    f"({state.get('avg_price_eur', 0):.3f} EUR/kWh on average). Alert level: **{state.get('alert_level', 'ok')}**.",
    "",
    "## Weather model",
    "",
    f"Daily use without the car = {coef.get('base', 0):.1f} kWh + {coef.get('heating', 0):.2f} x heating degree "
    f"hours below 18 °C weighted by the heat pump's COP + {coef.get('cooling', 0):.2f} x cooling degree hours above "
    f"22 °C + {coef.get('weekend', 0):.1f} kWh on weekends: a day at 0 °C needs about "
    f"{model.get('heating_kwh_day_at_0c', 0)} kWh of heating, a day at 30 °C about "
    f"{model.get('cooling_kwh_day_at_30c', 0)} kWh of cooling. R² = {model.get('r2', 0)}, typical error "
    f"{model.get('sigma_kwh', 0)} kWh/day, fitted on {model.get('days_used', 0)} days.",
    "",
    "## Anomalies",
    "",
]
if anomalies:
    lines += ["| from | to | days | used kWh | expected kWh | excess kWh | main circuit | max z |",
              "|---|---|---:|---:|---:|---:|---|---:|"]
    for e in anomalies:
        lines.append(f"| {e['start']} | {e['end']} | {e['days']} | {e['kwh']:.0f} | {e['expected_kwh']:.0f} | "
                     f"{e['excess_kwh']:+.0f} | {e['circuit']} ({e['circuit_change_kwh']:+.0f} kWh) | {e['max_z']} |")
else:
    lines.append("No day outside the weather model's range.")
lines += ["", "## Circuits drifting", ""]
if drifts:
    for d in drifts:
        lines.append(f"- **{d['circuit']}**: {d['recent_kwh_per_day']} kWh/day over the last 30 days against "
                     f"{d['before_kwh_per_day']} before ({d['ratio']}x, since about {d['since']}); "
                     f"{d['extra_kwh_per_year']} kWh a year extra if it stays.")
else:
    lines.append("Every steady circuit is within its usual range.")
lines += ["", "## Data quality", "",
          f"{data.get('rows', 0)} of {data.get('expected_rows', 0)} hourly readings "
          f"({data.get('first', '?')} .. {data.get('last', '?')}), sha256 {data.get('sha256', '?')}."]
for g in data.get("gaps", []):
    lines.append(f"- {g['missing_hours']} hour(s) missing after {g['after']}")
for bad in data.get("implausible", []):
    lines.append(f"- implausible meter total {bad['kwh']} kWh at {bad['at']} (the circuits are used instead)")
for bad in data.get("mismatched", []):
    lines.append(f"- meter total {bad['kwh']} kWh at {bad['at']} does not match its circuits ({bad['circuits']})")
if isinstance(team, dict):
    lines += ["", f"## DS team ({team.get('specialist', '?')})", "", f"> {team.get('question', '')}", "",
              team.get("headline", "")]
    for f in (team.get("findings") or [])[:4]:
        lines.append(f"- **{f['title']}**: {f['detail']}")
artifacts = state.get("analysis_artifacts") or []
if artifacts:
    lines += ["", "Artifacts of the analysis: " + ", ".join(f"`{a}`" for a in artifacts) + "."]
text = "\n".join(lines) + "\n"
name = H.write_artifact("energy_report.md", text)
summary = (f"{home} {today['date']}: {today['kwh']:.1f} kWh (expected {today['expected_kwh']:.1f}); "
           f"year {state['total_kwh']:,} kWh; {len(anomalies)} anomaly episode(s), {len(drifts)} drifting circuit(s)")
H.log(summary)
H.emit({"summary": summary, "report_artifact": name, "report_lines": len(lines)})
