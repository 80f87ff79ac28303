"""Spans from inside a script that schedulerd runs, with no dependencies.

schedulerd runs every script inside a TOOL span and gives it TRACEPARENT (the W3C trace context of
that span) and SCHEDULERD_SPANS_FILE (a file in the script's folder). Each span ended here is
appended to that file as one line of OTLP JSON; after the script exits, schedulerd adds the spans
to the run's trace under the TOOL span. Outside schedulerd (no TRACEPARENT), spans cost nothing and
write nothing.

    from schedulerd_spans import span

    with span("fetch_readings", type="RETRIEVER", inputs={"room": room}) as s:
        readings = fetch(room)
        s.set_outputs({"count": len(readings)})

Spans nest by the `with` blocks they are opened in (per thread). An exception leaving a block marks
its span as failed, with the exception as an event, and goes on. `type` is one of MLflow's span
types (CHAIN, TOOL, RETRIEVER, LLM, PARSER, EMBEDDING, ...); inputs and outputs are anything JSON
can hold.
"""
import json
import os
import random
import threading
import time
import traceback
from contextlib import contextmanager

__all__ = ["span"]

_local = threading.local()
_write_lock = threading.Lock()


def _trace_context():
    parts = os.environ.get("TRACEPARENT", "").split("-")
    if len(parts) != 4 or parts[0] != "00" or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    return parts[1], parts[2]


def _any_value(value):
    """A Python value as an OTLP AnyValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return {"arrayValue": {"values": [{"stringValue": v} for v in value]}}
    return {"stringValue": json.dumps(value, default=str, sort_keys=True)}


def _attributes(mapping):
    return [{"key": str(k), "value": _any_value(v)} for k, v in mapping.items()]


class Span:
    """An open span: set its outputs and attributes, add events."""

    def __init__(self, name, trace_id, parent_id):
        self.name = name
        self.trace_id = trace_id
        self.span_id = "%016x" % random.getrandbits(64)
        self.parent_id = parent_id
        self.start = time.time_ns()
        self.attributes = {}
        self.events = []
        self.status = None

    def set_attribute(self, key, value):
        self.attributes[key] = value

    def set_inputs(self, value):
        self.attributes["mlflow.spanInputs"] = json.dumps(value, default=str, sort_keys=True)

    def set_outputs(self, value):
        self.attributes["mlflow.spanOutputs"] = json.dumps(value, default=str, sort_keys=True)

    def add_event(self, name, **attributes):
        self.events.append({"timeUnixNano": str(time.time_ns()), "name": name, "attributes": _attributes(attributes)})

    def record_error(self, error):
        message = "%s: %s" % (type(error).__name__, error)
        self.add_event("exception", **{
            "exception.type": type(error).__name__,
            "exception.message": str(error),
            "exception.stacktrace": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        })
        self.status = {"code": 2, "message": message}

    def _otlp(self):
        span = {
            "traceId": self.trace_id, "spanId": self.span_id, "parentSpanId": self.parent_id, "name": self.name,
            "kind": 1, "startTimeUnixNano": str(self.start), "endTimeUnixNano": str(time.time_ns()),
            "attributes": _attributes(self.attributes), "events": self.events,
        }
        if self.status:
            span["status"] = self.status
        return {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "schedulerd_spans"}, "spans": [span]}]}]}


class _Nothing:
    """What `span` yields outside schedulerd: every call does nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


@contextmanager
def span(name, type=None, inputs=None, **attributes):
    """Opens a span named `name` under the current one (the script's TOOL span at the top)."""
    context = _trace_context()
    path = os.environ.get("SCHEDULERD_SPANS_FILE")
    if context is None or not path:
        yield _Nothing()
        return
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    current = Span(name, context[0], stack[-1].span_id if stack else context[1])
    if type:
        current.attributes["mlflow.spanType"] = type
    if inputs is not None:
        current.set_inputs(inputs)
    current.attributes.update(attributes)
    stack.append(current)
    try:
        yield current
    except BaseException as error:
        current.record_error(error)
        raise
    finally:
        stack.pop()
        line = json.dumps(current._otlp(), separators=(",", ":")) + "\n"
        with _write_lock, open(path, "a", encoding="utf-8") as spans_file:
            spans_file.write(line)
