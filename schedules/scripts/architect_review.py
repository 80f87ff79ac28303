#!/usr/bin/env python3
"""The Architect reviews the suggestions: each automation goes through the home's rules (device,
quiet hours, power budget, conflicts), suggestions worth less than the threshold are deferred, and
what the DS team's findings back up is marked as confirmed."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
suggestions = state.get("suggestions") or []
minimum = float(state.get("min_saving_eur", 15))
team = state.get("team_report") or {}
devices = H.load_devices()
catalog = H.load_firmware()
automations = H.load_automations()
hours = H.load_readings()
now = H.inventory_as_of(devices)
kinds = {d["id"]: d["kind"] for d in devices}

confirmations = {}
for f in team.get("findings") or []:
    for key in (f.get("circuit"), f.get("device_kind"), f.get("device_id")):
        if key:
            confirmations.setdefault(key, f["title"])

decisions = []
for s in suggestions:
    decision = {"id": s["id"], "title": s["title"], "saving_eur_year": s["saving_eur_year"], "notes": []}
    kind = kinds.get(s.get("device_id"))
    circuit = {"ev_charger": "ev", "ac": "ac", "fridge": "fridge", "heat_pump": "heat_pump"}.get(kind, kind)
    backed = confirmations.get(s.get("device_id")) or confirmations.get(kind) or confirmations.get(circuit)
    if backed:
        decision["confirmed_by"] = f"{team.get('specialist')}: {backed}"
    status = "accepted"
    auto = s.get("automation")
    if auto:
        checks = [H.rule_device(auto, devices, catalog, now), H.rule_quiet_hours(auto, devices),
                  H.rule_power_budget(auto, devices, automations, hours), H.rule_conflicts(auto, automations)]
        failed = [c for c in checks if not c["ok"]]
        decision["checks"] = {c["rule"]: c["ok"] for c in checks}
        for c in checks:
            decision["notes"] += c.get("warnings", [])
        if failed:
            only_sign_off = all(c["rule"] == "device" and all("sign off" in p for p in c["problems"]) for c in failed)
            status = "needs_sign_off" if only_sign_off else "rejected"
            decision["notes"] += [c["detail"] for c in failed]
    if status == "accepted" and s["saving_eur_year"] < minimum:
        status = "deferred"
        decision["notes"].append(f"worth {s['saving_eur_year']} EUR a year, under the {minimum:g} EUR threshold")
    decision["status"] = status
    decisions.append(decision)

accepted = [d for d in decisions if d["status"] == "accepted"]
H.log(f"architect_review: {len(accepted)} accepted, "
      + ", ".join(f"{sum(1 for d in decisions if d['status'] == s)} {s}" for s in ("needs_sign_off", "deferred", "rejected")))
H.emit({
    "review": decisions,
    "accepted_count": len(accepted),
    "accepted_eur_year": sum(d["saving_eur_year"] for d in accepted),
})
