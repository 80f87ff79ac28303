#!/usr/bin/env python3
"""Diagnostic, summary: one verdict from the daemon's health, the data checks and the sandbox probe,
with the reasons, written as diagnostic.json."""
import json
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
health = state.get("health")
data = state.get("data_check") or {}
box = state.get("sandbox") or {}
findings = []


def add(area, level, detail):
    findings.append({"area": area, "level": level, "detail": detail})


if isinstance(health, dict) and health.get("status") == "ok":
    add("daemon", "ok", "GET /healthz answered ok")
else:
    add("daemon", "error", f"GET /healthz did not answer ok: {health!r}")
for c in data.get("checks", []):
    if not c["ok"]:
        add("data", c["level"], f"{c['check']}: {c['detail']}")
if data.get("status") == "ok":
    add("data", "ok", f"{len(data.get('checks', []))} checks passed")
net = box.get("network") if isinstance(box.get("network"), dict) else {}
fs = box.get("filesystem") if isinstance(box.get("filesystem"), dict) else {}
usr = box.get("user") if isinstance(box.get("user"), dict) else {}
if net.get("internet"):
    add("sandbox", "warning", "a script under the quick policy reached 1.1.1.1:53: the network is not cut off "
                              "(is bubblewrap usable on this host?)")
else:
    add("sandbox", "ok", f"no internet from a script (interfaces: {', '.join(net.get('interfaces', [])) or 'none'})")
if usr.get("uid") == 0:
    add("sandbox", "warning", "scripts run as root")
if fs.get("data_writable"):
    add("sandbox", "warning", f"scripts can write the sample data in {fs.get('data_dir')}")
if fs and not fs.get("root_read_only"):
    add("sandbox", "info", "the root file system is writable (no bubblewrap isolation)")
levels = [f["level"] for f in findings]
status = "failed" if "error" in levels else ("degraded" if "warning" in levels else "ok")
report = {"status": status, "findings": findings,
          "sandbox": {"uid": usr.get("uid"), "isolated_network": net.get("isolated"), "root_read_only": fs.get("root_read_only"),
                      "limits": box.get("limits"), "kernel": box.get("kernel")},
          "data_files": data.get("files")}
name = H.write_artifact("diagnostic.json", json.dumps(report, indent=2, sort_keys=True) + "\n")
H.log(f"diagnostic: {status}; " + "; ".join(f"{f['area']} {f['level']}" for f in findings if f["level"] != "ok"))
H.emit({"diagnosis": {"status": status, "problems": [f for f in findings if f["level"] in ("error", "warning")],
                      "checked": len(findings), "artifact": name}})
