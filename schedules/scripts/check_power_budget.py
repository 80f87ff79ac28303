#!/usr/bin/env python3
"""Review, rule: the household's usual peak at the start hour (95th percentile of the last 60 days,
without the device's own circuit), plus the device, plus other automations starting then, must stay
within the connection's power budget; and no other automation may drive the same device."""
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

state = H.read_state()
proposal = state.get("proposal") or {}
automations = H.load_automations()
result = H.rule_power_budget(proposal, H.load_devices(), automations, H.load_readings())
clash = H.rule_conflicts(proposal, automations)
H.log(f"power_budget: {'ok' if result['ok'] else 'over'}: {result['detail']}; conflicts: {clash['detail']}")
H.emit({"power_budget": result, "conflicts": clash,
        "checks": [{k: r[k] for k in ("rule", "ok", "detail")} for r in (result, clash)]})
