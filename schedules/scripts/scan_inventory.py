#!/usr/bin/env python3
"""Discovery, first pass: reads the device inventory the hub reported, counts it by kind, room and
protocol, and finds duplicated ids, new devices and devices without a room."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
devices = H.load_devices()
now = H.inventory_as_of(devices)


def count(key):
    out = {}
    for d in devices:
        out[d[key] or "(none)"] = out.get(d[key] or "(none)", 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


known = set(state.get("known_ids") or [])
dupes = H.duplicate_ids(devices)
new = H.new_devices(devices, now)
unknown_before = sorted({d["id"] for d in devices} - known) if known else []
inventory = {
    "file": "data/devices.csv",
    "sha256": H.fingerprint(H.DEVICES_FILE),
    "as_of": H.stamp(now),
    "devices": len(devices),
    "unique_ids": len({d["id"] for d in devices}),
    "connected": sum(1 for d in devices if d["protocol"] != "none"),
    "by_kind": count("kind"),
    "by_room": count("room"),
    "by_protocol": count("protocol"),
    "duplicates": dupes,
    "new": new,
    "not_in_known_ids": unknown_before,
    "without_room": [d["id"] for d in devices if not d["room"]],
}
H.log(f"scan_inventory: {len(devices)} devices ({inventory['unique_ids']} ids), {len(dupes)} duplicated id(s), "
      f"{len(new)} new, as of {inventory['as_of']}")
H.emit({"inventory": inventory})
