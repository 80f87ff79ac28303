#!/usr/bin/env python3
"""Automation builder, output: the home's automations with the valid candidates added (and the
ones they replace disabled) as automations.json, plus a short change note (automations.md)."""
import json
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
validated = {v["id"]: v for v in state.get("validated") or []}
candidates = [c for c in state.get("candidates") or [] if validated.get(c["automation"]["id"], {}).get("valid")]
if not candidates:
    H.log("no valid candidate to write")
    sys.exit(3)
existing = H.load_automations()
replaced = {c["automation"]["replaces"]: c["automation"]["id"] for c in candidates if c["automation"].get("replaces")}
result = []
for a in existing:
    a = dict(a)
    if a["id"] in replaced:
        a["enabled"] = False
        a["replaced_by"] = replaced[a["id"]]
    result.append(a)
for c in candidates:
    a = dict(c["automation"])
    a["source"] = {"builder": "automation_builder", "pattern": c["pattern"], "why": c["why"],
                   "saving_eur_year": c["saving_eur_year"], "warnings": validated[a["id"]]["warnings"]}
    result.append(a)
window = state.get("window") or {}
doc = {"generated_from": {"readings": window, "inventory": "data/devices.csv"}, "automations": result}
lines = ["# Automation changes", "",
         f"From the meter data of {window.get('from', '?')} .. {window.get('to', '?')}: "
         f"{len(candidates)} automation(s) added, {len(replaced)} disabled, "
         f"about {sum(c['saving_eur_year'] for c in candidates)} EUR a year.", ""]
for c in candidates:
    v = validated[c["automation"]["id"]]
    lines.append(f"- **added** `{c['automation']['id']}` on `{c['automation']['device_id']}`: {c['why']} "
                 f"({c['saving_eur_year']} EUR a year)" + (f"; warning: {'; '.join(v['warnings'])}" if v["warnings"] else ""))
for old, new in replaced.items():
    lines.append(f"- **disabled** `{old}`, replaced by `{new}`")
for v in validated.values():
    if not v["valid"]:
        lines.append(f"- **not added** `{v['id']}`: {'; '.join(v['problems'])}")
artifacts = [a for a in (H.write_artifact("automations.json", json.dumps(doc, indent=2) + "\n"),
                         H.write_artifact("automations.md", "\n".join(lines) + "\n")) if a]
H.log(f"write_automations: {len(result)} automations ({len(candidates)} new, {len(replaced)} disabled)")
H.emit({"automations": {"added": [c["automation"]["id"] for c in candidates], "disabled": sorted(replaced),
                        "total": len(result), "saving_eur_year": sum(c["saving_eur_year"] for c in candidates),
                        "artifacts": artifacts}})
