#!/usr/bin/env python3
"""Sleeps far past its policy's timeout."""
import time

time.sleep(60)
print("{}")
