"""The Python peers of scripts/bench-tracing, run against the same MLflow server in the same command.

  python bench_tracing.py sdk URI SPANS      -> MLflow's Python SDK: ns per span on the caller's side
  python bench_tracing.py raw URI SPANS N    -> a raw OTLP/HTTP JSON client: spans/s MLflow ingests,
                                                traces of N spans, 50 traces per request, one request
                                                at a time (the exporter's batching)
  python bench_tracing.py traces URI            -> seconds MLflow takes for one request of 400 spans
                                                from 200 traces of 2, and for one of 400 spans from 20
                                                traces of 20, alternating, twice each
Each prints one JSON object.
"""
import json
import os
import statistics
import sys
import time

import requests


def sdk(uri, spans):
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench-python-sdk")
    inputs = {"day": "2024-01-01", "meter": "main"}
    outputs = {"kwh": 12.5, "peak_hour": 18}
    per_span = []
    batch = 100
    done = 0
    while done < spans:
        with mlflow.start_span("bench", span_type="CHAIN"):
            t0 = time.perf_counter_ns()
            for _ in range(batch):
                with mlflow.start_span("collect", span_type="CHAIN") as span:
                    span.set_attribute("node.kind", "script")
                    span.set_attribute("node.step", 3)
                    span.set_attribute("node.attempt", 1)
                    span.set_attribute("policy_name", "default")
                    span.set_inputs(inputs)
                    span.set_outputs(outputs)
            per_span.append((time.perf_counter_ns() - t0) / batch)
        done += batch
    print(json.dumps({"spans": done, "per_span_ns_p50": statistics.median(per_span)}))


def raw(uri, spans, per_trace):
    experiment = requests.get(f"{uri}/api/2.0/mlflow/experiments/get-by-name",
                              params={"experiment_name": "bench-raw"}).json().get("experiment")
    if experiment:
        experiment_id = experiment["experiment_id"]
    else:
        experiment_id = requests.post(f"{uri}/api/2.0/mlflow/experiments/create",
                                      json={"name": "bench-raw"}).json()["experiment_id"]
    session = requests.Session()
    traces = spans // per_trace
    now = time.time_ns()

    def trace(n):
        trace_id = os.urandom(16).hex()
        root = os.urandom(8).hex()
        out = []
        for i in range(1, per_trace):
            out.append({"traceId": trace_id, "spanId": os.urandom(8).hex(), "parentSpanId": root,
                        "name": f"node-{i}", "kind": 1, "startTimeUnixNano": str(now + i),
                        "endTimeUnixNano": str(now + i + 1000),
                        "attributes": [{"key": "mlflow.spanType", "value": {"stringValue": "CHAIN"}},
                                       {"key": "node.step", "value": {"intValue": str(i)}},
                                       {"key": "mlflow.spanInputs", "value": {"stringValue": json.dumps({"i": i})}},
                                       {"key": "mlflow.spanOutputs", "value": {"stringValue": '{"ok":true}'}}],
                        "status": {"code": 1}})
        out.append({"traceId": trace_id, "spanId": root, "name": "burst", "kind": 1,
                    "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 10**6),
                    "attributes": [{"key": "mlflow.spanType", "value": {"stringValue": "CHAIN"}},
                                   {"key": "mlflow.traceTag.bench", "value": {"stringValue": "throughput"}}],
                    "status": {"code": 1}})
        return out

    bodies = []
    for start in range(0, traces, 50):
        spans_in_batch = [s for n in range(start, min(traces, start + 50)) for s in trace(n)]
        bodies.append(json.dumps({"resourceSpans": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "schedulerd"}}]},
                                                     "scopeSpans": [{"scope": {"name": "raw"},
                                                                     "spans": spans_in_batch}]}]}))
    t0 = time.perf_counter()
    for body in bodies:
        response = session.post(f"{uri}/v1/traces", data=body,
                                headers={"Content-Type": "application/json",
                                         "x-mlflow-experiment-id": experiment_id})
        response.raise_for_status()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"spans": traces * per_trace, "seconds": elapsed,
                      "spans_per_second": traces * per_trace / elapsed}))


def traces_per_request(uri):
    experiment_id = requests.post(f"{uri}/api/2.0/mlflow/experiments/create",
                                  json={"name": f"bench-traces-{os.urandom(4).hex()}"}).json()["experiment_id"]
    now = time.time_ns()

    def body(traces, per_trace):
        spans = []
        for _ in range(traces):
            trace_id, root = os.urandom(16).hex(), os.urandom(8).hex()
            for i in range(1, per_trace):
                spans.append({"traceId": trace_id, "spanId": os.urandom(8).hex(), "parentSpanId": root,
                              "name": f"node-{i}", "kind": 1, "startTimeUnixNano": str(now + i),
                              "endTimeUnixNano": str(now + i + 1000),
                              "attributes": [{"key": "mlflow.spanType", "value": {"stringValue": "CHAIN"}}],
                              "status": {"code": 1}})
            spans.append({"traceId": trace_id, "spanId": root, "name": "root", "kind": 1,
                          "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 10**6),
                          "attributes": [{"key": "mlflow.spanType", "value": {"stringValue": "CHAIN"}}],
                          "status": {"code": 1}})
        return json.dumps({"resourceSpans": [{"resource": {"attributes": []},
                                              "scopeSpans": [{"scope": {"name": "raw"}, "spans": spans}]}]})

    result = {"many": [], "few": []}
    for _ in range(2):
        for key, traces, per_trace in (("many", 200, 2), ("few", 20, 20)):
            data = body(traces, per_trace)
            t0 = time.perf_counter()
            requests.post(f"{uri}/v1/traces", data=data, headers={
                "Content-Type": "application/json", "x-mlflow-experiment-id": experiment_id}).raise_for_status()
            result[key].append(time.perf_counter() - t0)
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "sdk":
        sdk(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "traces":
        traces_per_request(sys.argv[2])
    else:
        raw(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
