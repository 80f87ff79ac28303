#!/usr/bin/env python3
"""Tool call: looks up the devices the Architect's proposal is about and checks the proposed
automation against the inventory and the home's rules (device known, unique and online; quiet
hours; power budget; other automations on the device)."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
proposal = state.get("proposal") or {}
devices = H.load_devices()
catalog = H.load_firmware()
now = H.inventory_as_of(devices)
automations = H.load_automations()
kind = proposal.get("device_kind")
related = [d for d in devices if d["id"] == proposal.get("device_id") or (kind and d["kind"] == kind)]
stale = {s["id"] for s in H.stale_devices(devices, now)}
outdated = {o["id"]: o for o in H.outdated_firmware(devices, catalog)[0]}
found = []
for d in related:
    found.append({
        "id": d["id"], "name": d["name"], "room": d["room"], "kind": d["kind"],
        "online": d["id"] not in stale and d["protocol"] != "none",
        "hours_silent": H.hours_since(d, now),
        "firmware": d["firmware"] or None,
        "firmware_latest": outdated[d["id"]]["latest"] if d["id"] in outdated else d["firmware"] or None,
        "security_update": bool(outdated.get(d["id"], {}).get("security")),
        "automations": [a["id"] for a in automations if a["device_id"] == d["id"]],
    })

auto = proposal.get("automation")
if auto:
    rules = [H.rule_device(auto, devices, catalog, now), H.rule_quiet_hours(auto, devices),
             H.rule_power_budget(auto, devices, automations, H.load_readings()), H.rule_conflicts(auto, automations)]
    failed = [r for r in rules if not r["ok"]]
    check = {"ok": not failed, "rules": {r["rule"]: r["ok"] for r in rules},
             "problems": [r["detail"] for r in failed],
             "warnings": [w for r in rules for w in r.get("warnings", [])],
             "power": {k: v for k, v in rules[2].items() if k in ("hour", "total_kw", "headroom_kw", "budget_kw")}}
    check["summary"] = ("; ".join(check["problems"]) if failed else
                        f"{auto['device_id']} can take the automation" +
                        (f" ({'; '.join(check['warnings'])})" if check["warnings"] else ""))
elif proposal.get("device_id") is None and proposal.get("intent") not in (None, "explain"):
    check = {"ok": False, "problems": ["no device matches the request"], "warnings": [],
             "summary": "no device matches the request"}
else:
    check = {"ok": True, "problems": [], "warnings": [], "summary": "nothing to change: the request is a question"}
H.log(f"query_devices: {len(found)} device(s) of kind {kind or '-'}; check {'ok' if check['ok'] else 'failed'}: {check['summary']}")
H.emit({"devices": found, "device_check": check})
