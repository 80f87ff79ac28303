#!/usr/bin/env python3
"""The Architect reads the user's message (the webhook payload's `message`, else the state's), works
out what is asked (explain something, shift a load, switch something off), which device it is
about, and proposes a change with its risk and a question for the DS team."""
import re
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
body = H.payload(state)
message, source = None, "state"
if isinstance(body, dict):
    for key in ("message", "text", "prompt"):
        if isinstance(body.get(key), str) and body[key].strip():
            message, source = body[key].strip(), "webhook"
            break
elif isinstance(body, str) and body.strip():
    message, source = body.strip(), "webhook"
if not message:
    message = str(state.get("message") or "").strip()
if not message:
    H.log("no message: send {\"message\": \"...\"} to the webhook or set message in the state")
    sys.exit(3)
text = " " + message.lower() + " "

KINDS = [  # (kind, pattern), most specific first
    ("ev_charger", r"\b(car|wallbox|ev|charg\w*)\b"),
    ("dishwasher", r"\bdish ?washer\b"),
    ("washer", r"\b(washer|washing machine)\b"),
    ("dryer", r"\b(dryer|tumble)\b"),
    ("freezer", r"\bfreezer\b"),
    ("fridge", r"\b(fridge|refrigerator)\b"),
    ("heater", r"\bbackup heater\b"),
    ("heat_pump", r"\b(heat pump|heating)\b"),
    ("ac", r"\b(ac|air ?con\w*|cooling)\b"),
    ("camera", r"\bcamera\b"),
    ("light", r"\blights?\b"),
    ("plug", r"\bplug\b"),
]
devices = H.load_devices()
named = [d for d in devices if re.search(r"\b" + re.escape(d["id"]) + r"\b", text) or d["name"].lower() in text]
kinds = [k for k, pattern in KINDS if re.search(pattern, text)]
target = named[0] if named else next((d for k in kinds for d in devices if d["kind"] == k), None)

if re.search(r"\b(turn|switch|shut|power)\s+(\w+\s+){0,3}off\b|\b(disable|unplug)\b", text):
    intent = "turn_off"
elif re.search(r"\b(at night|overnight|off.peak|later|shift|delay|instead|cheaper|move)\b|\b(at|from|after) \d", text):
    intent = "shift"
else:
    intent = "explain"

at = None
m = re.search(r"\b(?:at|from|after)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b", text)
if m:
    hour = int(m.group(1)) % 12 + (12 if m.group(3) == "pm" else 0) if m.group(3) else int(m.group(1))
    if 0 <= hour < 24:
        at = f"{hour:02d}:{int(m.group(2) or 0):02d}"

if re.search(r"\b(firmware|offline|battery|update|device|sensor|silent|broken)\b", text):
    topic = "device"
elif intent == "shift" or re.search(r"\b(habit|routine|evening|peak|when|schedule)\b", text):
    topic = "behavioral"
else:
    topic = "energy"

automation = None
if intent != "explain" and target:
    kind = target["kind"]
    if intent == "shift":
        at = at or f"{H.TARIFF['offpeak_from'] + 1:02d}:00"
        service = {"ev_charger": "start_charging", "washer": "start_program", "dryer": "start_program",
                   "dishwasher": "start_program"}.get(kind, "turn_on")
        action = {"service": service}
        if kind == "ev_charger":
            action["power_kw"] = target["rated_w"] / 1000
    else:
        at = at or "23:00"
        action = {"service": "turn_off"}
    replaced = next((a["id"] for a in H.load_automations()
                     if a["device_id"] == target["id"] and a["trigger"]["type"] == "device"), None)
    automation = {"id": f"{target['id'].replace('-', '_')}_{intent}_{at.replace(':', '')}",
                  "alias": f"{target['name']}: {action['service'].replace('_', ' ')} at {at}",
                  "device_id": target["id"], "trigger": {"type": "time", "at": at}, "action": action,
                  "days": "daily", "enabled": True}
    if intent == "turn_off":
        automation["until"] = f"{H.QUIET_HOURS['until']:02d}:00"
    if replaced and intent == "shift":
        automation["replaces"] = replaced

if intent == "explain":
    risk, reason = "low", "a question: nothing in the home changes"
elif target is None:
    risk, reason = "medium", f"no device in the inventory matches {message!r}"
elif target["kind"] in H.CRITICAL_KINDS:
    risk, reason = "high", f"{target['name']} is a critical device ({target['kind']}); it must not be switched by automation"
elif intent == "shift" and target["kind"] in H.NOISY_KINDS and H.is_quiet(H.hhmm(at)[0]):
    risk, reason = "medium", f"the {target['kind']} would run in quiet hours"
elif intent == "shift" and target["kind"] in H.FLEXIBLE_KINDS:
    risk, reason = "low", f"moves a flexible load ({target['kind']}) to {at}; nothing is switched off"
elif intent == "turn_off" and target["kind"] in ("plug", "light"):
    risk, reason = "low", f"switches a {target['kind']} off from {at} to {automation['until']}"
else:
    risk, reason = "medium", f"changes how the {target['kind']} runs"

proposal = {
    "intent": intent,
    "device_id": target["id"] if target else None,
    "device_name": target["name"] if target else None,
    "device_kind": target["kind"] if target else None,
    "automation": automation,
    "risk": risk,
    "risk_reason": reason,
}
H.log(f"architect: {intent} ({topic}) about {proposal['device_id'] or 'no device'}, risk {risk}: {reason}")
H.emit({
    "request": {"message": message, "source": source,
                "delivery_id": (state.get("trigger") or {}).get("delivery_id") if isinstance(state.get("trigger"), dict) else None},
    "intent": intent,
    "topic": topic,
    "question": message,
    "proposal": proposal,
})
