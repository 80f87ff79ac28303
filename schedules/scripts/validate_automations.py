#!/usr/bin/env python3
"""Automation builder, validation: every candidate against the home's rules — the device, quiet
hours, the power budget, and clashes with the automations the home runs (or the other candidates)."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
candidates = state.get("candidates") or []
devices = H.load_devices()
catalog = H.load_firmware()
now = H.inventory_as_of(devices)
existing = H.load_automations()
hours = H.load_readings()
replaced = {c["automation"].get("replaces") for c in candidates}
running = [a for a in existing if a["id"] not in replaced]
validated = []
for c in candidates:
    auto = c["automation"]
    others = running + [o["automation"] for o in candidates if o is not c]
    rules = [H.rule_device(auto, devices, catalog, now), H.rule_quiet_hours(auto, devices),
             H.rule_power_budget(auto, devices, running, hours), H.rule_conflicts(auto, others)]
    failed = [r for r in rules if not r["ok"]]
    validated.append({
        "id": auto["id"], "device_id": auto["device_id"], "valid": not failed,
        "problems": [f"{r['rule']}: {r['detail']}" for r in failed],
        "warnings": [w for r in rules for w in r.get("warnings", [])],
        "saving_eur_year": c["saving_eur_year"],
    })
valid = [v for v in validated if v["valid"]]
H.log(f"validate_automations: {len(valid)} of {len(validated)} valid; refused: "
      + (", ".join(v["id"] for v in validated if not v["valid"]) or "none"))
H.emit({"validated": validated, "valid_count": len(valid), "invalid_count": len(validated) - len(valid)})
