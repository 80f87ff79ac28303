#!/usr/bin/env python3
"""Dashboard, render: the tiles as one self-contained HTML page with inline SVG charts
(dashboard.html), and the tiles themselves as JSON (tiles.json)."""
import json
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
H.need(state, "period", "tile_today", "tile_top", "tile_trend")
today, top, trend = state["tile_today"], state["tile_top"], state["tile_trend"]
period = state["period"]
home = state.get("home", "home")

hourly = H.svg_lines(f"{today['day']} against 8 earlier {period['weekday']}s", [f"{h:02d}" for h in range(24)],
                     {"today": today["hourly"], "baseline": today["baseline_hourly"]}, "kWh/h", width=520)
consumers = H.svg_hbars("Last 30 days by circuit", [(r["circuit"], r["kwh"]) for r in top["last_30_days"] if r["kwh"] > 0],
                        "kWh", width=520)
months = trend["months"]
monthly = H.svg_stacked_bars("Monthly use by circuit", [m["label"] for m in months],
                             {c: [m["by_circuit"][c] for m in months] for c in H.CIRCUITS}, "kWh", width=1060)
color = {"high": "#d9534f", "low": "#337ab7", "normal": "#5cb85c"}[today["status"]]
cards = [
    ("Today", f"{today['kwh']} kWh", f"{today['delta_pct']:+.1f} % against {today['baseline_kwh']} kWh", color),
    ("Cost today", f"{today['cost_eur']:.2f} EUR", f"peak {today['peak_kwh']} kWh at {today['peak_hour']}", "#555"),
    ("Top consumer, 7 days", top["last_7_days"][0]["device"],
     f"{top['last_7_days'][0]['kwh']} kWh, {top['last_7_days'][0]['share']:.0%}", "#555"),
    ("This month", f"{months[-1]['kwh']} kWh",
     (f"{trend['change_pct']:+.1f} % against last month" if trend["change_pct"] is not None else "first month"), "#555"),
    ("Year", f"{trend['year_kwh']:,} kWh", f"{trend['year_eur']:,} EUR", "#555"),
]
card_html = "\n".join(
    f'<div class="card"><div class="label">{H.esc(t)}</div><div class="value" style="color:{c}">{H.esc(v)}</div>'
    f'<div class="note">{H.esc(n)}</div></div>' for t, v, n, c in cards)
rows = "\n".join(f"<tr><td>{H.esc(r['circuit'])}</td><td>{H.esc(r['device'])}</td><td>{r['kwh']}</td>"
                 f"<td>{r['eur']:.2f}</td><td>{r['share']:.0%}</td></tr>" for r in top["last_7_days"])
page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Energy dashboard — {H.esc(home)}, {H.esc(today['day'])}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #222; }}
.cards {{ display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }}
.card {{ border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 170px; }}
.label {{ font-size: 12px; color: #777; }} .value {{ font-size: 22px; font-weight: bold; }} .note {{ font-size: 12px; }}
.charts {{ display: flex; gap: 16px; flex-wrap: wrap; }}
table {{ border-collapse: collapse; margin-top: 12px; }} td, th {{ border-bottom: 1px solid #eee; padding: 3px 10px; text-align: left; }}
</style></head><body>
<h1>Energy dashboard — {H.esc(home)}</h1>
<p>{H.esc(today['day'])} ({H.esc(period['weekday'])}), {today['outdoor_c']} °C on average; status <b style="color:{color}">{H.esc(today['status'])}</b>.</p>
<div class="cards">
{card_html}
</div>
<div class="charts">
{hourly}
{consumers}
</div>
{monthly}
<h2>Last 7 days</h2>
<table><tr><th>circuit</th><th>main device</th><th>kWh</th><th>EUR</th><th>share</th></tr>
{rows}
</table>
</body></html>
"""
tiles = {"period": period, "today": today, "top": top, "trend": trend}
artifacts = [a for a in (H.write_artifact("dashboard.html", page),
                         H.write_artifact("tiles.json", json.dumps(tiles, indent=2, sort_keys=True) + "\n")) if a]
headline = (f"{today['day']}: {today['kwh']} kWh ({today['delta_pct']:+.1f} % against baseline, {today['status']}); "
            f"top consumer {top['last_7_days'][0]['circuit']}; {months[-1]['label']} {months[-1]['kwh']} kWh")
H.log(headline)
H.emit({"dashboard": {"headline": headline, "artifacts": artifacts, "cards": len(cards), "charts": 3}})
