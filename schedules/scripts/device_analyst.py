#!/usr/bin/env python3
"""DS team, device analyst: the device inventory against the firmware catalog and the meter data:
duplicated ids, silent devices, flat batteries, outdated firmware, old power-hungry appliances,
standby draw. Looks closer at the devices the question names."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
q = str(state.get("question") or "").lower()
tariff = state.get("tariff") or H.TARIFF
devices = H.load_devices()
catalog = H.load_firmware()
now = H.inventory_as_of(devices)
days = H.by_day(H.load_readings())
avg_price = (tariff["peak_eur"] * 15 + tariff["offpeak_eur"] * 9) / 24

dupes = H.duplicate_ids(devices)
stale = H.stale_devices(devices, now)
batteries = H.low_batteries(devices)
outdated, unknown = H.outdated_firmware(devices, catalog)
old = H.old_appliances(devices, days)
new = H.new_devices(devices, now)


def named(*ids):
    return any(i.lower() in q for i in ids)


findings = []
for d in dupes:
    findings.append({
        "title": f"Device id {d['id']} is used twice",
        "detail": f"{' and '.join(d['devices'])} share one id: automations and the dashboard cannot tell them apart.",
        "device_id": d["id"], "impact_kwh_year": 0, "impact_eur_year": 0, "severity": "high",
        "focus": named(d["id"], "duplicate"),
    })
security = [o for o in outdated if o["security"]]
if security:
    findings.append({
        "title": f"{len(security)} device(s) miss a security update",
        "detail": "; ".join(f"{o['name']} ({o['id']}) runs {o['installed']}, {o['latest']} {o['note']}" for o in security) + ".",
        "device_id": security[0]["id"], "impact_kwh_year": 0, "impact_eur_year": 0, "severity": "high",
        "focus": named("firmware", "update", "security", *[o["id"] for o in security]),
    })
if len(outdated) > len(security):
    rest = [o for o in outdated if not o["security"]]
    findings.append({
        "title": f"{len(rest)} more device(s) run older firmware",
        "detail": ", ".join(f"{o['id']} {o['installed']} -> {o['latest']}" for o in rest) + ".",
        "impact_kwh_year": 0, "impact_eur_year": 0, "severity": "low",
        "focus": named("firmware", "update", *[o["id"] for o in rest]),
    })
for s in stale:
    findings.append({
        "title": f"{s['name']} has been silent for {s['hours_silent'] / 24:.1f} days",
        "detail": (f"{s['id']} last reported at {s['last_seen']} ({s['power']}-powered devices report at least every "
                   f"{s['limit_h']} h)" + ("; it guards the home, so nobody notices when it fails" if s["critical"] else "")
                   + "."),
        "device_id": s["id"], "impact_kwh_year": 0, "impact_eur_year": 0,
        "severity": "high" if s["critical"] else "medium",
        "focus": named(s["id"], "offline", "silent", "stale", s["kind"]),
    })
if batteries:
    findings.append({
        "title": f"{len(batteries)} battery(ies) low",
        "detail": ", ".join(f"{b['name']} {b['battery_pct']} %" for b in batteries) + ".",
        "impact_kwh_year": 0, "impact_eur_year": 0,
        "severity": "medium" if any(b["critical"] for b in batteries) else "low",
        "focus": named("battery", *[b["id"] for b in batteries]),
    })
for o in old:
    findings.append({
        "title": f"{o['name']} from {o['installed']} uses {o['kwh_year']} kWh a year",
        "detail": (f"{o['id']} ({o['estimate']}); a new {o['kind']} needs about {o['modern_kwh_year']} kWh, so replacing it "
                   f"saves {o['saving_kwh_year']} kWh a year" + (f"; it also idles at {o['standby_w']} W" if o["standby_w"] >= 5 else "")
                   + "."),
        "device_id": o["id"], "device_kind": o["kind"], "impact_kwh_year": o["saving_kwh_year"],
        "impact_eur_year": round(o["saving_kwh_year"] * avg_price),
        "severity": "medium" if o["saving_kwh_year"] > 200 else "low",
        "focus": named(o["id"], o["kind"], "old", "replace"),
    })
if new:
    findings.append({
        "title": f"{len(new)} new device(s) joined in the last {H.NEW_WITHIN_DAYS} days",
        "detail": ", ".join(f"{n['name']} ({n['id']}, {n['room'] or 'no room yet'})" for n in new) + ".",
        "impact_kwh_year": 0, "impact_eur_year": 0, "severity": "low", "focus": named("new", *[n["id"] for n in new]),
    })
# Devices the question names, each with a one-line status.
by_model = {o["id"]: o for o in outdated}
silent = {x["id"]: x for x in stale}
focus = []
for d in devices:
    if not (d["id"] in q or d["name"].lower() in q or f" {d['kind']}" in f" {q}"):
        continue
    if not d["firmware"]:
        fw = "not connected, so no firmware to update"
    elif d["id"] in by_model:
        fw = f"firmware {d['firmware']}, behind {by_model[d['id']]['latest']}"
    else:
        fw = f"firmware {d['firmware']} (current)"
    seen = (f"silent since {d['last_seen']}" if d["id"] in silent else f"last seen {d['last_seen']}")
    focus.append({"id": d["id"], "status": f"{d['name']} ({d['id']}, {d['room'] or 'no room'}, installed "
                                           f"{d['installed']}): {fw}; {seen}"})

H.log(f"device_analyst: {len(devices)} devices, {len(findings)} findings, {len(focus)} named in the question")
H.emit({
    "specialist": "device_analyst",
    "findings": findings,
    "focus_detail": {"devices": focus},
    "metrics": {"devices": len(devices), "unique_ids": len({d["id"] for d in devices}), "silent": len(stale),
                "outdated_firmware": len(outdated), "security_updates": len(security),
                "standby_kwh_year": H.standby_kwh_year(devices), "as_of": H.stamp(now)},
})
