#!/usr/bin/env python3
"""The developer turns the approved proposal into a change plan (Markdown artifact): the automation
to add, what it replaces, the checks it passed, what it is worth, the steps to roll it out and back.
A question gets the DS team's answer instead of a change."""
import hashlib
import json
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
proposal = state.get("proposal") or {}
check = state.get("device_check") or {}
team = state.get("team_report") or {}
health = state.get("health") or {}
request = state.get("request") or {}
auto = proposal.get("automation")
tariff = state.get("tariff") or H.TARIFF

lines = [f"# Change plan: {auto['alias'] if auto else 'answer, no change'}", "",
         f"> {request.get('message', '')}", "",
         f"Request from the {request.get('source', 'state')}; intent **{proposal.get('intent')}**, risk "
         f"**{proposal.get('risk')}** ({proposal.get('risk_reason')}). Daemon health: {health.get('status', 'unknown')}.", ""]
saving = None
if auto:
    change_id = hashlib.sha256(json.dumps(auto, sort_keys=True).encode()).hexdigest()[:10]
    if auto["action"]["service"] == "start_charging":
        b = H.behavior(H.load_readings(), 90, tariff)
        saving = round(b["ev"]["peak_kwh_year"] * (tariff["peak_eur"] - tariff["offpeak_eur"]))
        why = f"{b['ev']['peak_kwh_year']} kWh a year move from the peak to the off-peak price"
    elif auto["action"]["service"] == "turn_off":
        devices = H.load_devices()
        d = H.device_by_id(devices, auto["device_id"]) or {}
        start, end = H.hhmm(auto["trigger"]["at"])[0], H.hhmm(auto.get("until", "07:00"))[0]
        off = (end - start) % 24
        kwh = d.get("standby_w", 0) * off * 365 / 1000
        saving = round(kwh * tariff["offpeak_eur"])
        why = f"{d.get('standby_w', 0)} W standby for {off} h a night is {kwh:.0f} kWh a year"
    else:
        why = "see the DS team's findings"
    lines += ["## Change", "", f"Change `{change_id}`: add this automation"
              + (f" and disable `{auto['replaces']}`" if auto.get("replaces") else "") + ".", "",
              "```json", json.dumps(auto, indent=2), "```", "",
              "## Checks", ""]
    for rule, ok in (check.get("rules") or {}).items():
        lines.append(f"- [{'x' if ok else ' '}] {rule.replace('_', ' ')}")
    power = check.get("power") or {}
    if power.get("total_kw") is not None:
        lines.append(f"- peak load at {power['hour']}: {power['total_kw']} kW of {power['budget_kw']} kW "
                     f"({power['headroom_kw']} kW headroom)")
    lines += ["", "## Worth", "", f"About **{saving} EUR a year**: {why}." if saving is not None else why, "",
              "## Steps", ""]
    steps = []
    for w in check.get("warnings") or []:
        if "update it first" in w:
            steps.append(f"Update the firmware of `{auto['device_id']}` ({w.split(' (')[0]}); wait for it to report back.")
    if auto.get("replaces"):
        steps.append(f"Disable `{auto['replaces']}` (keep it, for the rollback).")
    steps.append(f"Add `{auto['id']}` enabled, {auto['days']}, trigger at {auto['trigger']['at']}.")
    steps.append("Watch the next three nights on the dashboard: the load at that hour and the device's reports.")
    lines += [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    lines += ["", "## Rollback", "", f"Delete `{auto['id']}`"
              + (f" and enable `{auto['replaces']}` again." if auto.get("replaces") else ".")]
else:
    change_id = None
    steps = []
    lines += ["## Answer", "", "Nothing changes in the home; the DS team answered the question.", ""]
if team:
    lines += ["", "## DS team", "", team.get("headline", ""), "", team.get("markdown", "")]
name = H.write_artifact("change_plan.md", "\n".join(lines).rstrip() + "\n")
H.log(f"developer_deploy: {'change ' + change_id if change_id else 'answer only'}, {len(steps)} step(s)")
H.emit({"deployment": {
    "status": "ready_to_apply" if auto else "answered",
    "change_id": change_id,
    "automation_id": auto["id"] if auto else None,
    "steps": len(steps),
    "est_saving_eur_year": saving,
    "artifact": name,
}})
