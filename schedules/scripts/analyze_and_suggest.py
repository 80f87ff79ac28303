#!/usr/bin/env python3
"""Turns the household's behaviour, the meter data and the device inventory into costed suggestions
(each with the automation that would carry it out, when there is one) and writes them as a CSV
artifact. Prepares the question for the DS team about the most valuable one."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
H.need(state, "behavior")
b = state["behavior"]
tariff = state.get("tariff") or H.TARIFF
spread = tariff["peak_eur"] - tariff["offpeak_eur"]
hours = H.load_readings()
days = H.by_day(hours)
total = sum(d.total for d in days)
avg_price = H.cost(hours, tariff) / total
devices = H.load_devices()
by_kind = {}
for d in devices:
    by_kind.setdefault(d["kind"], d)
plugs = {d["name"].lower(): d for d in devices if d["kind"] == "plug"}

suggestions = []


def suggest(**s):
    s["saving_eur_year"] = round(s["saving_eur_year"])
    s["saving_kwh_year"] = round(s["saving_kwh_year"])
    suggestions.append(s)


ev = b["ev"]
charger = by_kind.get("ev_charger")
if ev["sessions"] and charger:
    start = f"{tariff['offpeak_from'] + 1:02d}:00"
    minutes = round(ev["kwh_per_session"] / 11.0 * 60)
    full = f"{(tariff['offpeak_from'] + 1 + (minutes + 59) // 60) % 24:02d}:00"
    suggest(id="ev_offpeak_charging", category="behavioral", device_id=charger["id"], effort="low",
            title=f"Charge the car from {start} instead of on arrival",
            detail=((f"All of the car's {ev['kwh_year']} kWh a year are" if ev["peak_kwh_year"] >= ev["kwh_year"] else
                     f"{ev['peak_kwh_year']} of the car's {ev['kwh_year']} kWh a year are")
                    + f" charged at the peak price; "
                    f"{ev['kwh_per_session']} kWh per session take {minutes} min at 11 kW, so the car is full by {full}."),
            saving_kwh_year=0, saving_eur_year=ev["peak_kwh_year"] * spread,
            automation={"id": "ev_offpeak_charging", "alias": "Charge the car off-peak", "device_id": charger["id"],
                        "trigger": {"type": "time", "at": start}, "action": {"service": "start_charging", "power_kw": 11.0},
                        "days": "daily", "replaces": "ev_charge_on_plug", "enabled": True})
standby = b["standby_w"].get("laundry", 0)
plug = plugs.get("dryer plug")
if standby >= 5 and plug:
    off_hours = 9  # 23:00 .. 08:00
    kwh = standby * off_hours * 365 / 1000
    suggest(id="laundry_standby_off", category="device", device_id=plug["id"], effort="low",
            title="Switch the washer and dryer off at night",
            detail=(f"The laundry circuit idles at {standby} W all night (the 2011 dryer alone at 19 W); "
                    f"the dryer's smart plug can cut it from 23:00 to 08:00."),
            saving_kwh_year=kwh, saving_eur_year=kwh * tariff["offpeak_eur"],
            automation={"id": "laundry_standby_off", "alias": "Laundry standby off at night", "device_id": plug["id"],
                        "trigger": {"type": "time", "at": "23:00"}, "action": {"service": "turn_off"},
                        "until": "08:00", "days": "daily", "enabled": True})
away = [a for a in b["away"] if a["ac_kwh"] + a["heat_pump_kwh"] > 20]
ac = by_kind.get("ac")
if away and ac:
    kwh = sum(a["ac_kwh"] + a["heat_pump_kwh"] for a in away)
    suggest(id="away_mode", category="behavioral", device_id=ac["id"], effort="low",
            title="Turn climate control down when everybody is away",
            detail=(f"{sum(a['days'] for a in away)} days away ({', '.join(a['start'] + '..' + a['end'] for a in away)}) "
                    f"still used {kwh:.0f} kWh of cooling and heating."),
            saving_kwh_year=kwh, saving_eur_year=kwh * tariff["peak_eur"],
            automation={"id": "away_mode_ac", "alias": "AC off when everybody left", "device_id": ac["id"],
                        "trigger": {"type": "presence", "event": "everybody_left", "for_minutes": 30},
                        "action": {"service": "turn_off"}, "days": "daily", "enabled": True})
for drift in H.drifts(days):
    if drift["circuit"] == "fridge" and "fridge" in by_kind:
        suggest(id="fridge_service", category="device", device_id=by_kind["fridge"]["id"], effort="medium",
                title="Have the fridge checked (or replaced)",
                detail=(f"It draws {drift['ratio']}x its usual energy since {drift['since']} "
                        f"({drift['recent_kwh_per_day']} kWh/day); a worn door seal or a failing compressor."),
                saving_kwh_year=drift["extra_kwh_per_year"], saving_eur_year=drift["extra_kwh_per_year"] * avg_price,
                automation=None)
for old in H.old_appliances(devices, days):
    if old["kind"] == "freezer":
        suggest(id="replace_freezer", category="device", device_id=old["id"], effort="high",
                title=f"Replace the {old['installed']} chest freezer",
                detail=f"About {old['kwh_year']} kWh a year against {old['modern_kwh_year']} for a new one.",
                saving_kwh_year=old["saving_kwh_year"], saving_eur_year=old["saving_kwh_year"] * avg_price,
                automation=None)
heat = sum(d.circuits["heat_pump"] for d in days)
pump = by_kind.get("heat_pump")
if pump:
    suggest(id="heating_setpoint", category="energy", device_id=pump["id"], effort="low",
            title="Heat to 19.5 °C instead of 20.5 °C in the day",
            detail=f"One degree less saves about 6 % of the heat pump's {heat:.0f} kWh a year.",
            saving_kwh_year=heat * 0.06, saving_eur_year=heat * 0.06 * avg_price,
            automation={"id": "heating_day_setpoint", "alias": "Day setpoint 19.5 °C", "device_id": pump["id"],
                        "trigger": {"type": "time", "at": "06:00"}, "action": {"service": "set_temperature", "value": 19.5},
                        "days": "daily", "enabled": True})
if b["laundry"]["ending_in_quiet_hours"]:
    suggest(id="laundry_earlier", category="behavioral", device_id=by_kind.get("dryer", {}).get("id"), effort="low",
            title="Start weekday laundry before 18:00",
            detail=f"{b['laundry']['ending_in_quiet_hours']} of {b['laundry']['sessions']} runs ended in quiet hours.",
            saving_kwh_year=0, saving_eur_year=0, automation=None)

suggestions.sort(key=lambda s: -s["saving_eur_year"])
rows = ["rank,id,category,device_id,saving_kwh_year,saving_eur_year,effort,automation,title"]
for i, s in enumerate(suggestions, 1):
    rows.append(",".join([str(i), s["id"], s["category"], s["device_id"] or "", str(s["saving_kwh_year"]),
                          str(s["saving_eur_year"]), s["effort"], (s["automation"] or {}).get("id", ""),
                          '"' + s["title"].replace('"', "'") + '"']))
artifact = H.write_artifact("suggestions.csv", "\n".join(rows) + "\n")
top = suggestions[0]
topics = {"behavioral": "behavioral", "device": "device", "energy": "energy"}
question = (f"{top['title']}: {top['detail']} Is that right for this household, and what else should we know "
            f"before we do it?")
H.log(f"{len(suggestions)} suggestions worth {sum(s['saving_eur_year'] for s in suggestions)} EUR a year; "
      f"top: {top['id']} ({top['saving_eur_year']} EUR)")
H.emit({
    "suggestions": suggestions,
    "potential_eur_year": sum(s["saving_eur_year"] for s in suggestions),
    "ds_question": question,
    "ds_topic": topics[top["category"]],
    "suggestions_artifact": artifact,
})
