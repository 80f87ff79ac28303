#!/usr/bin/env python3
"""Discovery, presence branch: which devices stopped reporting (mains-powered after 24 h,
battery-powered after 72 h) and which batteries are running out."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

H.read_state()
devices = H.load_devices()
now = H.inventory_as_of(devices)
stale = H.stale_devices(devices, now)
batteries = H.low_batteries(devices)
connected = [d for d in devices if d["protocol"] != "none"]
H.log(f"check_presence: {len(connected) - len(stale)} of {len(connected)} connected devices reporting; "
      f"{len(stale)} silent, {len(batteries)} low batteries")
H.emit({"presence": {
    "as_of": H.stamp(now),
    "connected": len(connected),
    "reporting": len(connected) - len(stale),
    "silent": stale,
    "low_battery": batteries,
    "silent_critical": [s["id"] for s in stale if s["critical"]],
}})
