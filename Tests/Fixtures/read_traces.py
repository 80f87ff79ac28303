"""Reads traces back with MLflow's own Python client, for the end-to-end tests.

Usage: read_traces.py TRACKING_URI EXPERIMENT_NAME [TRACE_ID ...]
Prints one JSON object: {"experiment_id", "searched": [trace ids mlflow.search_traces found],
"traces": [...]} where each trace (from mlflow.get_trace) has its id, state, tags and spans with
name, ids, type, status, times, attributes, inputs, outputs and events. With trace ids, only those
are fetched; without, every trace the search found."""
import json
import sys

import mlflow
from mlflow import MlflowClient


def plain(value):
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def span_record(span):
    status = span.status
    return {
        "name": span.name,
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "span_type": span.span_type,
        "status": getattr(status.status_code, "value", str(status.status_code)),
        "status_message": status.description,
        "start_ns": span.start_time_ns,
        "end_ns": span.end_time_ns,
        "attributes": {k: plain(v) for k, v in (span.attributes or {}).items()},
        "inputs": plain(span.inputs),
        "outputs": plain(span.outputs),
        "events": [{"name": e.name, "attributes": {k: plain(v) for k, v in (e.attributes or {}).items()}}
                   for e in span.events],
    }


def main():
    uri, experiment_name, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
    mlflow.set_tracking_uri(uri)
    experiment = MlflowClient().get_experiment_by_name(experiment_name)
    if experiment is None:
        print(json.dumps({"error": f"no experiment named {experiment_name}"}))
        sys.exit(2)
    found = mlflow.search_traces(locations=[experiment.experiment_id], return_type="list", max_results=1000)
    searched = [t.info.trace_id for t in found]
    traces = []
    for trace_id in (wanted or searched):
        trace = mlflow.get_trace(trace_id)
        if trace is None:
            continue
        info = trace.info
        traces.append({
            "trace_id": info.trace_id,
            "state": getattr(info.state, "value", str(info.state)),
            "tags": dict(info.tags or {}),
            "spans": [span_record(s) for s in trace.data.spans],
        })
    print(json.dumps({"experiment_id": experiment.experiment_id, "searched": searched, "traces": traces}))


main()
