#!/usr/bin/env python3
"""Review, record: writes the verdict with every check (review.md) and hands it back in the state."""
import json
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
proposal = state.get("proposal") or {}
checks = state.get("checks") or []
verdict = state.get("verdict", "undecided")
warnings = (state.get("device_check") or {}).get("warnings", [])
failed = [c["rule"] for c in checks if not c["ok"]]
push = state.get("push")
lines = [f"# Review of `{proposal.get('id', '?')}`: {verdict.upper()}", "",
         state.get("verdict_note", ""), "",
         f"Proposed from the {state.get('proposal_source', 'state')}"
         + (f", on a push to {push['ref']} ({push['commits']} commit(s), head {push['head']})" if push else "") + ".", "",
         "| rule | result | detail |", "|---|---|---|"]
for c in checks:
    lines.append(f"| {c['rule'].replace('_', ' ')} | {'pass' if c['ok'] else '**fail**'} | {c['detail']} |")
if warnings:
    lines += ["", "Warnings:"] + [f"- {w}" for w in warnings]
lines += ["", "```json", json.dumps(proposal, indent=2, sort_keys=True), "```"]
name = H.write_artifact("review.md", "\n".join(lines) + "\n")
H.log(f"review {proposal.get('id', '?')}: {verdict}" + (f" ({', '.join(failed)} failed)" if failed else ""))
H.emit({"review": {"proposal_id": proposal.get("id"), "verdict": verdict, "failed": failed,
                   "passed": [c["rule"] for c in checks if c["ok"]], "warnings": warnings, "artifact": name}})
