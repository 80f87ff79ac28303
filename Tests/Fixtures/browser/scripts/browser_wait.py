#!/usr/bin/env python3
"""Waits four seconds, then answers with an empty state update."""
import time

time.sleep(4)
print("{}")
