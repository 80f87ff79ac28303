#!/usr/bin/env python3
"""Review, intake: takes the proposed automation from the webhook payload ({"proposal": {...}},
{"automation": {...}} or the automation itself), else the state's `proposal`, and normalises it.
A GitHub push without a proposal reviews the state's proposal and notes the push."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
body = H.payload(state)
candidate, source, push = None, "state", None
if isinstance(body, dict):
    for key in ("proposal", "automation"):
        if isinstance(body.get(key), dict):
            candidate, source = body[key], f"payload.{key}"
            break
    else:
        if "device_id" in body:
            candidate, source = body, "payload"
    if "ref" in body or "commits" in body:
        commits = body.get("commits") or []
        push = {"ref": body.get("ref"), "commits": len(commits),
                "head": (body.get("head_commit") or {}).get("id", "")[:12] or None,
                "pusher": (body.get("pusher") or {}).get("name")}
if candidate is None:
    candidate = state.get("proposal") or {}

problems, notes = [], []
proposal = dict(candidate)
devices = H.load_devices()
# Short forms: {"device": "dryer", "action": "off", "at": "23:30"}.
if "device_id" not in proposal and isinstance(proposal.get("device"), str):
    word = proposal.pop("device").strip().lower()
    match = (next((d for d in devices if d["id"] == word), None)
             or next((d for d in devices if d["name"].lower() == word), None)
             or next((d for d in devices if d["kind"] == word), None)
             or next((d for d in devices if word in d["name"].lower()), None))
    if match:
        proposal["device_id"] = match["id"]
        notes.append(f"device {word!r} is {match['id']} ({match['name']})")
    else:
        proposal["device_id"] = word
if isinstance(proposal.get("action"), str):
    word = proposal.pop("action").strip().lower()
    target = H.device_by_id(devices, proposal.get("device_id")) or {}
    service = {"off": "turn_off", "on": "turn_on", "turn_off": "turn_off", "turn_on": "turn_on"}.get(word)
    if service is None and word in ("start", "charge", "run"):
        service = "start_charging" if target.get("kind") == "ev_charger" else "start_program"
    proposal["action"] = {"service": service or word}
    # A plain appliance is switched through its smart plug.
    if service in ("turn_on", "turn_off") and target.get("protocol") == "none":
        plug = next((d for d in devices if d["kind"] == "plug" and d["name"].lower().startswith(target["kind"])), None)
        if plug:
            proposal["device_id"] = plug["id"]
            notes.append(f"{target['name']} has no radio; switched through {plug['id']} ({plug['name']})")
if "at" in proposal and "trigger" not in proposal:
    proposal["trigger"] = {"type": "time", "at": str(proposal.pop("at"))}
if "service" in proposal and "action" not in proposal:
    proposal["action"] = {"service": proposal.pop("service")}
    if "power_kw" in proposal:
        proposal["action"]["power_kw"] = proposal.pop("power_kw")
if "id" not in proposal and proposal.get("device_id") and isinstance(proposal.get("action"), dict):
    at = (proposal.get("trigger") or {}).get("at", "")
    proposal["id"] = f"{proposal['device_id']}_{proposal['action'].get('service')}_{at}".replace("-", "_").replace(":", "")
for key in ("id", "device_id"):
    if not isinstance(proposal.get(key), str) or not proposal.get(key):
        problems.append(f"{key} is missing")
if not isinstance(proposal.get("action"), dict) or not proposal["action"].get("service"):
    problems.append("action.service is missing")
trigger = proposal.get("trigger")
if not isinstance(trigger, dict) or trigger.get("type") not in ("time", "device", "presence"):
    problems.append("trigger must be {type: time|device|presence, ...}")
elif trigger["type"] == "time":
    try:
        H.hhmm(str(trigger.get("at", "")))
    except ValueError:
        problems.append(f"trigger.at {trigger.get('at')!r} is not HH:MM")
        proposal["trigger"] = {"type": "invalid"}
proposal.setdefault("days", "daily")
proposal.setdefault("enabled", True)
H.log(f"review of {proposal.get('id', '?')} on {proposal.get('device_id', '?')} from the {source}"
      + (f" (push to {push['ref']})" if push else "") + (f"; problems: {'; '.join(problems)}" if problems else ""))
H.emit({
    "proposal": proposal,
    "proposal_source": source,
    "proposal_problems": problems,
    "proposal_notes": notes,
    "push": push,
    "checks": [{"rule": "format", "ok": not problems,
                "detail": "; ".join(problems) if problems else "; ".join(["a complete automation"] + notes)}],
})
