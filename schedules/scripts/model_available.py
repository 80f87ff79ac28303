#!/usr/bin/env python3
"""Whether the llm nodes of a workflow can run: a provider (OPENAI_BASE_URL) and a model (LLM_MODEL)
in the daemon's environment. Its policy, model_probe, lets only those two through; the key stays out
of reach. A route after this node takes the llm path when a model is available, the scripted path
otherwise."""
import json
import os

base = os.environ.get("OPENAI_BASE_URL", "").strip()
model = os.environ.get("LLM_MODEL", "").strip()
print(json.dumps({"model": {"available": bool(base and model), "name": model or None}}))
