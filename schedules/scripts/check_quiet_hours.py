#!/usr/bin/env python3
"""Review, rule: noisy appliances (washer, dryer) must not run in quiet hours (22:00-07:00)."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
result = H.rule_quiet_hours(state.get("proposal") or {}, H.load_devices())
H.log(f"quiet_hours: {'ok' if result['ok'] else 'violated'}: {result['detail']}")
H.emit({"quiet_hours": result, "checks": [{k: result[k] for k in ("rule", "ok", "detail")}]})
