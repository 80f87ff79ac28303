#!/usr/bin/env python3
"""Diagnostic, data: every sample data file is there and parses; the readings are complete and
plausible, and how old the newest one is; the inventory has unique ids; the automations point at
devices that exist."""
import datetime as dt
import os
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
checks = []


def check(name, ok, detail, level="error"):
    checks.append({"check": name, "ok": bool(ok), "level": "ok" if ok else level, "detail": detail})


files = {}
for path in (H.READINGS_FILE, H.DEVICES_FILE, H.FIRMWARE_FILE, H.AUTOMATIONS_FILE):
    name = os.path.basename(path)
    present = os.path.isfile(path) and os.access(path, os.R_OK)
    files[name] = {"bytes": os.path.getsize(path), "sha256": H.fingerprint(path)} if present else None
    check(f"file {name}", present, f"{files[name]['bytes']} bytes" if present else f"{path} missing or unreadable")

try:
    hours = H.load_readings()
    report = H.integrity(hours)
    check("readings complete", report["missing_hours"] == 0,
          f"{report['rows']} of {report['expected_rows']} hours; gaps: "
          + (", ".join(f"{g['missing_hours']} h after {g['after']}" for g in report["gaps"]) or "none"), "warning")
    check("readings plausible", not report["implausible"] and not report["mismatched"] and not report["negative"],
          f"{len(report['implausible'])} implausible, {len(report['mismatched'])} mismatched, "
          f"{report['negative']} negative", "warning")
    check("readings ordered", report["duplicates"] == 0 and report["out_of_order"] == 0,
          f"{report['duplicates']} duplicates, {report['out_of_order']} out of order")
    age = (dt.datetime.now() - hours[-1].time).total_seconds() / 86400
    check("readings fresh", age < 2, f"newest reading {report['last']}, {age:.0f} days old"
          + (" (sample data: a fixed year)" if age >= 2 else ""), "info")
except (OSError, ValueError, SystemExit) as e:
    check("readings parse", False, str(e))
try:
    devices = H.load_devices()
    dupes = H.duplicate_ids(devices)
    check("device ids unique", not dupes, f"{len(devices)} devices; duplicated: "
          + (", ".join(d["id"] for d in dupes) or "none"), "warning")
    ids = {d["id"] for d in devices}
    dangling = [a["id"] for a in H.load_automations() if a["device_id"] not in ids]
    check("automations resolve", not dangling, "every automation's device exists" if not dangling
          else f"unknown device in {', '.join(dangling)}")
    catalog = H.load_firmware()
    missing = sorted({d["model"] for d in devices if d["firmware"] and d["model"] not in catalog})
    check("firmware catalog covers models", not missing, "all models known" if not missing
          else f"not in the catalog: {', '.join(missing)}", "warning")
except (OSError, ValueError, KeyError) as e:
    check("inventory parse", False, str(e))

errors = [c for c in checks if c["level"] == "error"]
warnings = [c for c in checks if c["level"] == "warning"]
H.log(f"check_data: {len(checks)} checks, {len(errors)} errors, {len(warnings)} warnings")
H.emit({"data_check": {"status": "failed" if errors else ("warning" if warnings else "ok"),
                       "checks": checks, "files": files}})
