#!/usr/bin/env python3
"""Automation builder, proposals: one or more automations per pattern, on the devices of the
inventory that can carry them out, each with what it should save."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
patterns = state.get("patterns") or []
tariff = state.get("tariff") or H.TARIFF
devices = H.load_devices()
existing = H.load_automations()


def first(kind=None, name=None):
    for d in devices:
        if (kind and d["kind"] == kind) or (name and d["name"].lower() == name):
            return d
    return None


candidates = []
for p in patterns:
    if p["kind"] == "standby":
        off = f"{(p['last_use_hour'] + 1) % 24:02d}:00" if p["last_use_hour"] is not None else "23:00"
        on = "08:00"
        hours_off = (int(on[:2]) - int(off[:2])) % 24
        plugs = {"laundry": ["dryer plug", "washer plug"], "kitchen": ["kitchen plug"]}[p["circuit"]]
        for plug_name in plugs:
            plug = first(name=plug_name)
            appliance = plug_name.replace(" plug", "")
            watts = next((d["standby_w"] for d in devices if d["kind"] == appliance), p["watts"])
            if watts < 5:
                continue  # not worth a rule
            kwh = watts * hours_off * 365 / 1000
            candidates.append({
                "pattern": p["id"],
                "automation": {"id": f"{appliance}_standby_off", "alias": f"{appliance.capitalize()} off at night",
                               "device_id": plug["id"] if plug else f"plug-{appliance}",
                               "trigger": {"type": "time", "at": off}, "action": {"service": "turn_off"},
                               "until": on, "days": "daily", "enabled": True},
                "why": f"{p['evidence']}; off from {off} (after the latest use at {p['last_use_hour']}:00) to {on}",
                "saving_kwh_year": round(kwh), "saving_eur_year": round(kwh * tariff["offpeak_eur"]),
            })
    elif p["kind"] == "peak_load":
        charger = first(kind="ev_charger")
        start = f"{tariff['offpeak_from'] + 1:02d}:00"
        replaced = next((a["id"] for a in existing if a["device_id"] == (charger or {}).get("id")), None)
        candidates.append({
            "pattern": p["id"],
            "automation": {"id": "ev_offpeak_charging", "alias": "Charge the car off-peak",
                           "device_id": charger["id"] if charger else "ev-charger",
                           "trigger": {"type": "time", "at": start},
                           "action": {"service": "start_charging", "power_kw": (charger or {}).get("rated_w", 11000) / 1000},
                           "days": "daily", "enabled": True, **({"replaces": replaced} if replaced else {})},
            "why": p["evidence"],
            "saving_kwh_year": 0,
            "saving_eur_year": round(p["kwh_year_at_peak"] * (tariff["peak_eur"] - tariff["offpeak_eur"])),
        })
    elif p["kind"] == "away_waste":
        for kind in ("ac", "heat_pump"):
            target = first(kind=kind)
            service = "turn_off" if kind == "ac" else "set_temperature"
            candidates.append({
                "pattern": p["id"],
                "automation": {"id": f"away_{kind}", "alias": f"{kind.replace('_', ' ')} to away mode when everybody left",
                               "device_id": target["id"] if target else kind,
                               "trigger": {"type": "presence", "event": "everybody_left", "for_minutes": 30},
                               "action": {"service": service, **({"value": 16.0} if kind == "heat_pump" else {})},
                               "days": "daily", "enabled": True},
                "why": p["evidence"],
                "saving_kwh_year": round(p["kwh"]) if kind == "ac" else 0,
                "saving_eur_year": round(p["kwh"] * tariff["peak_eur"]) if kind == "ac" else 0,
            })
    elif p["kind"] == "quiet_hours":
        washer = first(kind="washer")
        candidates.append({
            "pattern": p["id"],
            "automation": {"id": "late_laundry_reminder", "alias": "Remind when laundry starts after 19:30",
                           "device_id": washer["id"] if washer else "washer",
                           "trigger": {"type": "device", "device_id": washer["id"] if washer else "washer",
                                       "event": "program_started", "after": "19:30"},
                           "action": {"service": "notify", "target": "phones",
                                      "message": "The dryer would still run after 22:00; start it tomorrow morning?"},
                           "days": "weekdays", "enabled": True},
            "why": p["evidence"], "saving_kwh_year": 0, "saving_eur_year": 0,
        })
H.log(f"propose_automations: {len(candidates)} candidate(s) from {len(patterns)} pattern(s)")
H.emit({"candidates": candidates})
