"""The status pages with 10,000 schedules and 1,000,000 runs; run by scripts/bench-pages.

Usage: bench_pages.py SCHEDULERD WORK_DIR [SCHEDULES [RUNS]]

1. Writes SCHEDULES schedule files (daily crons spread over the day, a tenth every 5 minutes) and
   starts the daemon once, so that it stores them.
2. Adds RUNS finished runs to its SQLite file directly, spread evenly over the schedules and over the
   last 100 days (so about a hundredth of them are "today"), ids made as the daemon makes them (the
   time of their start, in the ULID layout); 95% succeeded, 4% failed, 1% timed out, each with
   three node records.
3. Starts the daemon again, logs in through the form, and asks each page 50 times in a row (after 5
   unmeasured asks), timing each answer to its last byte.
"""
import http.client
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ASKS, WARMUP = 50, 5


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sortable_id(prefix, ms, rng):
    chars = []
    t = ms
    for _ in range(10):
        chars.append(ALPHABET[t & 31])
        t >>= 5
    head = "".join(reversed(chars))
    return f"{prefix}_{head}" + "".join(rng.choice(ALPHABET) for _ in range(16))


class Daemon:
    def __init__(self, binary, data, schedules, log):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        env.update(SCHEDULERD_TOKEN="bench-token", SCHEDULERD_LOG_LEVEL="warning")
        self.process = subprocess.Popen(
            [binary, "--data-dir", data, "--listen", f"127.0.0.1:{self.port}", "--schedules", schedules],
            env=env, stdout=log, stderr=log)
        started = time.monotonic()
        while True:
            try:
                if self.get("/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None:
                sys.exit(f"schedulerd exited with {self.process.returncode}; see {log.name}")
            if time.monotonic() - started > 600:
                sys.exit("schedulerd was not ready within 10 minutes")
            time.sleep(0.02)
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("GET", path, headers=headers or {})
            answer = connection.getresponse()
            return answer.status, answer.read(), answer
        finally:
            connection.close()

    def ask(self, path, headers):
        """One request on the kept-alive connection; the status and the body."""
        self.connection.request("GET", path, headers=headers)
        answer = self.connection.getresponse()
        return answer.status, answer.read()

    def log_in(self):
        status, body, answer = self.get("/login")
        pair = re.search(r"schedulerd_login=([^;]+)", answer.getheader("Set-Cookie")).group(1)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        form = urllib.parse.urlencode({"csrf": pair, "token": "bench-token", "next": "/"})
        connection.request("POST", "/login", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"schedulerd_login={pair}"})
        answer = connection.getresponse()
        answer.read()
        cookies = answer.msg.get_all("Set-Cookie")
        session = next(c.split(";")[0] for c in cookies if c.startswith("schedulerd_session="))
        connection.close()
        return session

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=120)


def write_schedules(root, count):
    os.makedirs(os.path.join(root, "workflows"), exist_ok=True)
    with open(os.path.join(root, "workflows", "tick.yaml"), "w") as f:
        f.write("name: tick\nentry: mark\nnodes:\n  mark:\n    set: {ticked: true}\n")
    for i in range(count):
        cron = "*/5 * * * *" if i % 10 == 0 else f"{i % 60} {i // 60 % 24} * * *"
        with open(os.path.join(root, f"s{i:05d}.yaml"), "w") as f:
            f.write(f'cron: "{cron}"\nworkflow: tick\n')


def add_runs(database, total, rng):
    connection = sqlite3.connect(database)
    schedules = [row[0] for row in connection.execute("SELECT id FROM schedule ORDER BY name")]
    now_ms = int(time.time() * 1000)
    span_ms = 100 * 86_400_000
    nodes = ('[{"attempt":1,"duration_ms":12.5,"kind":"script","node":"collect","started_at":"%s","status":"succeeded",'
             '"step":1,"workflow":"tick"},{"attempt":1,"duration_ms":0.1,"kind":"route","node":"check","started_at":"%s",'
             '"status":"succeeded","step":2,"workflow":"tick"},{"attempt":1,"duration_ms":30.0,"kind":"script",'
             '"node":"report","started_at":"%s","status":"succeeded","step":3,"workflow":"tick"}]')
    rows = []
    per = total // len(schedules)
    for index, schedule in enumerate(schedules):
        for k in range(per):
            started = now_ms - span_ms + (k * span_ms) // per + (index * 7919) % 60_000
            if started > now_ms - 60_000:
                started = now_ms - 60_000 - k
            roll = rng.random()
            state, error = ("succeeded", None) if roll < 0.95 else (
                ("failed", "node report failed: exit code 1") if roll < 0.99 else ("timed_out", "the run timed out after 2m"))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started / 1000))
            rows.append((
                sortable_id("run", started, rng), schedule, "tick", "cron", started, f"k{k}", state, started,
                started, started + 50, "{}", '{"ticked":true}', error, nodes % (stamp, stamp, stamp)))
        if len(rows) >= 100_000:
            insert(connection, rows)
            rows = []
    insert(connection, rows)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = connection.execute("SELECT count(*) FROM run").fetchone()[0]
    connection.close()
    return count


def insert(connection, rows):
    connection.executemany(
        """INSERT INTO run (id, schedule_id, workflow, trigger, nominal_time_ms, dedupe_key, state, queued_at_ms,
        started_at_ms, finished_at_ms, input_json, output_json, error, nodes_json)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
    connection.commit()


def measure(daemon, path, headers):
    for _ in range(WARMUP):
        status, _ = daemon.ask(path, headers)
        if status != 200:
            sys.exit(f"GET {path} answered {status}")
    times, size = [], 0
    for _ in range(ASKS):
        started = time.perf_counter()
        status, body = daemon.ask(path, headers)
        times.append((time.perf_counter() - started) * 1000)
        size = len(body)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], size


def main():
    binary, work = sys.argv[1:3]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    total = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
    rng = random.Random(7)
    log = open(os.path.join(work, "schedulerd.log"), "a")
    schedules, data = os.path.join(work, "schedules"), os.path.join(work, "data")
    write_schedules(schedules, count)
    daemon = Daemon(binary, data, schedules, log)
    daemon.stop()
    started = time.monotonic()
    stored = add_runs(os.path.join(data, "schedulerd.sqlite"), total, rng)
    print(f"{count:,} schedules; {stored:,} runs added in {time.monotonic() - started:.0f} s.")
    print()

    daemon = Daemon(binary, data, schedules, log)
    session = {"Cookie": daemon.log_in()}
    bearer = {"Authorization": "Bearer bench-token"}
    middle = f"s{count // 2:05d}"
    pages = [
        ("`/healthz` (the floor)", "/healthz", {}),
        ("overview `/`", "/", session),
        (f"schedules `/schedules` (first 50 of {count:,}, 20 runs each)", "/schedules", session),
        ("schedules, the last page", f"/schedules?page={(count + 49) // 50}", session),
        ("schedules filtered by name (`?q=s09`)", "/schedules?q=s09", session),
        ("a schedule `/schedules/{middle}` (50 runs, chart)", f"/schedules/{middle}", session),
        ("a schedule, its oldest runs (`?before=`)", None, session),
        ("a run `/runs/{id}`", None, session),
        (f"API peer: `GET /api/v1/schedules` (all {count:,} as JSON)", "/api/v1/schedules", bearer),
    ]
    connection = sqlite3.connect(os.path.join(data, "schedulerd.sqlite"))
    schedule_id = connection.execute("SELECT id FROM schedule WHERE name = ?", (middle,)).fetchone()[0]
    oldest = connection.execute(
        "SELECT id FROM run WHERE schedule_id = ? ORDER BY id LIMIT 1 OFFSET 50", (schedule_id,)).fetchone()[0]
    run_id = connection.execute("SELECT id FROM run WHERE schedule_id = ? ORDER BY id DESC LIMIT 1",
                                (schedule_id,)).fetchone()[0]
    connection.close()
    results = []
    floor = None
    for name, path, headers in pages:
        if path is None:
            path = f"/schedules/{middle}?before={oldest}" if "oldest" in name else f"/runs/{run_id}"
        median, p95, size = measure(daemon, path, headers)
        floor = floor or median
        results.append((name, median, p95, size))
    daemon.stop()
    print(f"Each page asked {ASKS} times in a row on one kept-alive connection, after {WARMUP} unmeasured asks.")
    print()
    print("| page | median | p95 | x /healthz | size |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, median, p95, size in results:
        print(f"| {name} | {median:.2f} ms | {p95:.2f} ms | {median / floor:.0f}x | {size / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
