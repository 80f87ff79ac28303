#!/usr/bin/env python3
"""Writes 100 KB to stdout and 10 KB to stderr, one allowed and one refused artifact."""
import json
import os

print("x" * 100_000)
os.write(2, b"e" * 10_000)
artifacts = os.environ["SCHEDULERD_ARTIFACTS"]
with open(os.path.join(artifacts, "readings.csv"), "w") as f:
    f.write("hour,kwh\n0,1.5\n")
with open(os.path.join(artifacts, "tool.exe"), "w") as f:
    f.write("not allowed")
with open(os.environ["SCHEDULERD_OUTPUT"], "w") as f:
    json.dump({"noisy": True}, f)
