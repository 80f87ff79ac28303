#!/usr/bin/env python3
"""Fails the way a script meeting bad data does."""
import sys

print("reading meter 17: value -3.2 kWh is out of range", file=sys.stderr)
sys.exit(4)
