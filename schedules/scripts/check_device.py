#!/usr/bin/env python3
"""Review, rule: the device exists once in the inventory, reports, can be switched, is not critical
for the action, and its firmware is current (warnings otherwise)."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
devices = H.load_devices()
result = H.rule_device(state.get("proposal") or {}, devices, H.load_firmware(), H.inventory_as_of(devices))
H.log(f"device: {'ok' if result['ok'] else 'refused'}: {result['detail']}")
H.emit({"device_check": result, "checks": [{k: result[k] for k in ("rule", "ok", "detail")}]})
