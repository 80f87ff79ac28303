#!/usr/bin/env python3
"""Presents the reviewed recommendations as a Markdown report: what to do first, what it is worth,
what the DS team said, and what was held back and why."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
H.need(state, "review")
review = state["review"]
suggestions = {s["id"]: s for s in state.get("suggestions") or []}
team = state.get("team_report") or {}
behavior = state.get("behavior") or {}
window = behavior.get("window", {})
labels = {"accepted": "Do now", "needs_sign_off": "Needs your sign-off", "deferred": "Later", "rejected": "Not like this"}

lines = [f"# Energy recommendations for {state.get('home', 'the home')}", "",
         f"Based on the meter data of {window.get('from', '?')} .. {window.get('to', '?')} and the device inventory. "
         f"{state.get('accepted_count', 0)} recommendation(s) to do now, worth about "
         f"**{state.get('accepted_eur_year', 0)} EUR a year**; everything found adds up to "
         f"{state.get('potential_eur_year', 0)} EUR.", ""]
for status in ("accepted", "needs_sign_off", "deferred", "rejected"):
    chosen = [d for d in review if d["status"] == status]
    if not chosen:
        continue
    lines += [f"## {labels[status]}", "", "| | recommendation | EUR/year | kWh/year | effort |", "|---|---|---:|---:|---|"]
    for i, d in enumerate(chosen, 1):
        s = suggestions.get(d["id"], {})
        lines.append(f"| {i} | **{d['title']}** | {d['saving_eur_year']} | {s.get('saving_kwh_year', 0)} | "
                     f"{s.get('effort', '?')} |")
    lines.append("")
    for d in chosen:
        s = suggestions.get(d["id"], {})
        lines.append(f"- **{d['title']}**: {s.get('detail', '')}")
        if s.get("automation"):
            a = s["automation"]
            when = f"at {a['trigger']['at']}" if a["trigger"].get("at") else f"on {a['trigger'].get('event')}"
            lines.append(f"  - automation `{a['id']}`: {a['action']['service']} on `{a['device_id']}` {when}"
                         + (f", replacing `{a['replaces']}`" if a.get("replaces") else ""))
        if d.get("confirmed_by"):
            lines.append(f"  - confirmed by {d['confirmed_by']}")
        for note in d.get("notes", []):
            lines.append(f"  - {note}")
    lines.append("")
if team:
    lines += ["## What the DS team said", "", team.get("headline", ""), "", team.get("markdown", "")]
text = "\n".join(lines).rstrip() + "\n"
name = H.write_artifact("recommendations.md", text)
first = next((d for d in review if d["status"] == "accepted"), None)
H.log(f"recommendations: {len(review)} reviewed; first: {first['title'] if first else 'none'}")
H.emit({"recommendations": {
    "artifact": name,
    "do_now": [d["id"] for d in review if d["status"] == "accepted"],
    "needs_sign_off": [d["id"] for d in review if d["status"] == "needs_sign_off"],
    "first": first["title"] if first else None,
    "worth_eur_year": state.get("accepted_eur_year", 0),
}})
