#!/usr/bin/env python3
"""Dashboard tile: the circuits that used most over the last 7 and 30 days, with what they cost and
the biggest device on each."""
import datetime as dt
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
H.need(state, "period")
period = state["period"]
tariff = state.get("tariff") or H.TARIFF
day = dt.date.fromisoformat(period["day"])
hours = H.load_readings()
devices = H.load_devices()
main = {}
# The device a circuit is named after, else its biggest appliance (plugs only pass power through).
for d in sorted(devices, key=lambda d: (d["kind"] != d["circuit"] and d["kind"] != "ev_charger", -d["rated_w"])):
    if d["kind"] != "plug":
        main.setdefault(d["circuit"], d["name"])


def window(n):
    start = day - dt.timedelta(days=n - 1)
    chosen = [h for h in hours if start <= h.time.date() <= day]
    total = sum(h.total for h in chosen)
    rows = []
    for c in H.CIRCUITS:
        kwh = sum(h.circuits[c] for h in chosen)
        rows.append({"circuit": c, "device": main.get(c, c), "kwh": round(kwh, 1),
                     "eur": round(H.cost(chosen, tariff, c), 2), "share": round(kwh / total, 3) if total else 0.0})
    return sorted(rows, key=lambda r: -r["kwh"])


week, month = window(7), window(30)
H.log(f"tile_top_consumers: last 7 days led by {week[0]['circuit']} ({week[0]['share']:.0%}), "
      f"last 30 days by {month[0]['circuit']} ({month[0]['share']:.0%})")
H.emit({"tile_top": {"until": period["day"], "last_7_days": week, "last_30_days": month}})
