#!/usr/bin/env python3
"""DS team, summary: ranks the specialist's findings (the direct answer and those about the question
first, then by severity and by what they are worth a year) and writes the team's report into the
state."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
specialist = state.get("specialist")
findings = state.get("findings") or []
if not specialist:
    H.log("no specialist answered; select_specialist must lead to one")
    sys.exit(3)
rank = {"high": 0, "medium": 1, "low": 2}
# A finding that answers the question directly comes first, then those about it.
ordered = sorted(findings, key=lambda f: (not f.get("answer"), not f.get("focus"), rank.get(f.get("severity"), 3),
                                          -f.get("impact_eur_year", 0)))
worth = sum(f.get("impact_eur_year", 0) for f in findings)
on_topic = sum(1 for f in findings if f.get("focus"))
if not findings:
    headline = f"{specialist} found nothing worth reporting"
else:
    top = ordered[0]
    headline = (f"{specialist}: {len(findings)} finding(s), {on_topic} about the question; first: {top['title']}"
                + (f" (about {top['impact_eur_year']} EUR a year)" if top.get("impact_eur_year") else ""))
confidence = "high" if on_topic else ("medium" if findings else "low")
lines = [f"### {specialist.replace('_', ' ').capitalize()}", "", f"> {state.get('question') or '(no question)'}", ""]
named = (state.get("focus_detail") or {}).get("devices") or []
for d in named:
    lines.append(f"- {d['status']}")
if named:
    lines.append("")
for f in ordered[:6]:
    money = f" — about {f['impact_eur_year']} EUR a year" if f.get("impact_eur_year") else ""
    lines.append(f"- **{f['title']}** ({f.get('severity', '?')}){money}: {f['detail']}")
H.log(headline)
H.emit({
    "report": {
        "question": state.get("question"),
        "topic": state.get("topic") or None,
        "specialist": specialist,
        "headline": headline,
        "confidence": confidence,
        "findings": ordered[:6],
        "findings_total": len(findings),
        "worth_eur_year": worth,
        "metrics": state.get("metrics") or {},
        "focus_detail": state.get("focus_detail") or {},
        "markdown": "\n".join(lines) + "\n",
    }
})
