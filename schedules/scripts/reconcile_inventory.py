#!/usr/bin/env python3
"""Discovery, reconcile: joins the scan, firmware and presence results into one status per device
and a prioritised action list, and writes both (inventory_status.csv, discovery.md)."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
H.need(state, "inventory", "firmware", "presence")
inv, fw, pres = state["inventory"], state["firmware"], state["presence"]
devices = H.load_devices()
old = {o["id"]: o for o in H.old_appliances(devices, H.by_day(H.load_readings()))}
outdated = {o["id"]: o for o in fw["outdated"]}
silent = {s["id"]: s for s in pres["silent"]}
low = {b["id"]: b for b in pres["low_battery"]}
dupes = {d["id"] for d in inv["duplicates"]}
new = {n["id"] for n in inv["new"]}

actions = []


def act(priority, device_id, what, why):
    actions.append({"priority": priority, "device_id": device_id, "action": what, "why": why})


for d in inv["duplicates"]:
    act(1, d["id"], "give each device its own id", f"{len(d['devices'])} devices share it: {'; '.join(d['devices'])}")
for o in fw["outdated"]:
    if o["security"]:
        act(1, o["id"], f"update firmware {o['installed']} -> {o['latest']}",
            f"security fix available for {o.get('available_for_days', '?')} days: {o['note']}")
for s in pres["silent"]:
    act(1 if s["critical"] else 2, s["id"], "check power and radio",
        f"silent for {s['hours_silent'] / 24:.1f} days (last seen {s['last_seen']})")
for b in pres["low_battery"]:
    if b["id"] not in silent:
        act(1 if b["critical"] else 2, b["id"], "replace the battery", f"battery at {b['battery_pct']} %")
for n in inv["new"]:
    act(2, n["id"], "name it and put it in a room" if n["unassigned"] else "confirm it belongs here",
        f"joined on {n['first_seen']}")
for o in fw["outdated"]:
    if not o["security"]:
        act(3, o["id"], f"update firmware {o['installed']} -> {o['latest']}", "maintenance release")
for o in old.values():
    act(3, o["id"], f"plan a replacement (saves about {o['saving_kwh_year']} kWh a year)",
        f"from {o['installed']}, about {o['kwh_year']} kWh a year ({o['estimate']})")
actions.sort(key=lambda a: (a["priority"], a["device_id"]))

rows = ["id,name,room,kind,protocol,status,firmware,firmware_latest,last_seen,battery_pct,issues"]
healthy = 0
for d in devices:
    issues = []
    if d["id"] in dupes:
        issues.append("duplicate id")
    if d["id"] in silent:
        issues.append("silent")
    if d["id"] in low:
        issues.append("low battery")
    if d["id"] in outdated:
        issues.append("security update" if outdated[d["id"]]["security"] else "firmware update")
    if d["id"] in new:
        issues.append("new")
    if d["id"] in old:
        issues.append("old appliance")
    status = "ok" if not issues else ("attention" if set(issues) <= {"new", "firmware update", "old appliance"} else "problem")
    healthy += status == "ok"
    rows.append(",".join([d["id"], d["name"], d["room"], d["kind"], d["protocol"], status, d["firmware"],
                          outdated.get(d["id"], {}).get("latest", d["firmware"]), d["last_seen"],
                          "" if d["battery_pct"] is None else str(d["battery_pct"]), "; ".join(issues)]))
lines = [f"# Device discovery, {inv['as_of']}", "",
         f"{inv['devices']} devices ({inv['unique_ids']} distinct ids, {inv['connected']} connected), "
         f"{pres['reporting']} of {pres['connected']} connected devices reporting, "
         f"{len(fw['outdated'])} behind on firmware ({len(fw['security_updates'])} security), {healthy} without any issue.",
         "", "| priority | device | action | why |", "|---:|---|---|---|"]
for a in actions:
    lines.append(f"| {a['priority']} | `{a['device_id']}` | {a['action']} | {a['why']} |")


def tally(counts):
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


lines += ["", f"By kind: {tally(inv['by_kind'])}.", f"By room: {tally(inv['by_room'])}.",
          f"By protocol: {tally(inv['by_protocol'])}."]
artifacts = [a for a in (H.write_artifact("inventory_status.csv", "\n".join(rows) + "\n"),
                         H.write_artifact("discovery.md", "\n".join(lines) + "\n")) if a]
urgent = [a for a in actions if a["priority"] == 1]
H.log(f"reconcile: {len(actions)} actions ({len(urgent)} urgent), {healthy} healthy devices")
H.emit({"discovery": {
    "healthy": healthy,
    "devices": inv["devices"],
    "actions": len(actions),
    "urgent": len(urgent),
    "top_actions": actions[:8],
    "artifacts": artifacts,
}})
