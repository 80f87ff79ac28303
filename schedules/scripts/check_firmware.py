#!/usr/bin/env python3
"""Discovery, firmware branch: compares every connected device's firmware with the newest release of
its model in the firmware catalog; security fixes first."""
import datetime as dt
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

H.read_state()
devices = H.load_devices()
catalog = H.load_firmware()
outdated, unknown = H.outdated_firmware(devices, catalog)
now = H.inventory_as_of(devices)
for o in outdated:
    released = dt.date.fromisoformat(catalog[o["model"]]["released"])
    o["available_for_days"] = (now.date() - released).days
with_fw = [d for d in devices if d["firmware"]]
H.log(f"check_firmware: {len(outdated)} of {len(with_fw)} devices behind, "
      f"{sum(1 for o in outdated if o['security'])} with security fixes; {len(unknown)} unknown model(s)")
H.emit({"firmware": {
    "checked": len(with_fw),
    "current": len(with_fw) - len(outdated) - len(unknown),
    "outdated": outdated,
    "security_updates": [o["id"] for o in outdated if o["security"]],
    "unknown_models": unknown,
    "catalog_as_of": H.load_json(H.FIRMWARE_FILE)["as_of"],
}})
