"""The daemon's memory and start-up, run by scripts/bench-memory; prints markdown.

  python bench_memory.py SCHEDULERD SHIPPED_SCHEDULES WORK_DIR

Cases, each a fresh daemon (release build, MLflow off, log level warning):
  1. idle with the shipped schedules: resident memory 5 s after /readyz answers 200 (idle cases split
     into the process's own memory and the pages of its program and libraries);
  2. idle with 10,000 schedules that are not due: start to /readyz 200, resident memory 5 s after;
  3. a burst: the same 10,000 schedules all due in one second: peak resident memory (VmHWM) once
     every run has ended, and resident memory after;
  4. the data directory of case 3 with 1,000,000 more finished runs in it (copies of the burst's):
     start to /readyz 200, resident memory 5 s and 30 s after.
Peers for context: adnanh/webhook with one hook, and `mlflow server` (its whole process tree), idle.
"""
import datetime
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

SCHEDULES = 10_000
EXTRA_RUNS = 1_000_000


def free_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status(url):
    try:
        return urllib.request.urlopen(url, timeout=1).status
    except urllib.error.HTTPError as error:
        return error.code
    except Exception:
        return None


def kib(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def tree_rss_kib(pid):
    """Resident memory of a process and all its descendants."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += kib(current, "VmRSS")
            with open(f"/proc/{current}/task/{current}/children") as f:
                pending.extend(int(child) for child in f.read().split())
        except FileNotFoundError:
            pass
    return total


def mb(kib_value):
    return f"{kib_value / 1024:.1f} MB"


def resident(pid):
    """VmRSS, split into the process's own memory (RssAnon) and the pages of its program and libraries
    it maps (RssFile: clean, shared with the page cache, the kernel's to reclaim)."""
    return (f"{mb(kib(pid, 'VmRSS'))} ({mb(kib(pid, 'RssAnon'))} own, "
            f"{mb(kib(pid, 'RssFile') + kib(pid, 'RssShmem'))} program and libraries)")


class Daemon:
    def __init__(self, binary, data, schedules, log):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        env.update(SCHEDULERD_TOKEN="bench", SCHEDULERD_LOG_LEVEL="warning")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [binary, "--data-dir", data, "--listen", f"127.0.0.1:{self.port}", "--schedules", schedules],
            env=env, stdout=log, stderr=log)
        while status(f"http://127.0.0.1:{self.port}/readyz") != 200:
            if self.process.poll() is not None:
                sys.exit(f"schedulerd exited with {self.process.returncode}; see {log.name}")
            if time.monotonic() - self.started > 600:
                sys.exit("schedulerd was not ready within 10 minutes")
            time.sleep(0.005)
        self.ready_ms = (time.monotonic() - self.started) * 1000

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)


def schedules_dir(root, cron):
    """A schedules directory with one workflow and SCHEDULES schedule files of `cron`."""
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "workflows"))
    with open(os.path.join(root, "workflows", "tick.yaml"), "w") as f:
        f.write("name: tick\nentry: mark\nnodes:\n  mark:\n    set: {ticked: true}\n")
    for i in range(SCHEDULES):
        with open(os.path.join(root, f"s{i:05d}.yaml"), "w") as f:
            f.write(f'cron: "{cron}"\nworkflow: tick\noverlap: allow\n')
    return root


def count_ended(database):
    connection = sqlite3.connect(database)
    try:
        return connection.execute(
            "SELECT count(*) FROM run WHERE state IN ('succeeded', 'failed', 'skipped', 'interrupted')"
        ).fetchone()[0]
    finally:
        connection.close()


def add_runs(database, copies):
    """Adds `copies` finished copies of every run in the database (new ids and dedupe keys)."""
    connection = sqlite3.connect(database)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(run)")]
    values = []
    for column in columns:
        if column == "id":
            values.append("run.id || '-' || n.i")
        elif column == "dedupe_key":
            values.append("coalesce(run.dedupe_key, run.id) || '#' || n.i")
        else:
            values.append("run." + column)
    connection.execute(
        f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies})
        INSERT INTO run ({", ".join(columns)}) SELECT {", ".join(values)} FROM run, n""")
    connection.commit()
    total = connection.execute("SELECT count(*) FROM run").fetchone()[0]
    connection.close()
    return total


def main():
    binary, shipped, work = sys.argv[1:4]
    log = open(os.path.join(work, "schedulerd.log"), "a")
    rows = []

    # 1. The shipped schedules.
    daemon = Daemon(binary, os.path.join(work, "data-shipped"), shipped, log)
    time.sleep(5)
    rows.append(("idle, the shipped schedules", f"{daemon.ready_ms:.0f} ms", resident(daemon.process.pid)))
    daemon.stop()

    # 2. 10,000 schedules, none due.
    quiet = schedules_dir(os.path.join(work, "schedules-quiet"), "0 0 1 1 *")
    daemon = Daemon(binary, os.path.join(work, "data-quiet"), quiet, log)
    time.sleep(5)
    rows.append((f"idle, {SCHEDULES:,} schedules loaded", f"{daemon.ready_ms:.0f} ms", resident(daemon.process.pid)))
    daemon.stop()

    # 3. The same 10,000 schedules due in one second, 20 s from now.
    due = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=20)
    burst = schedules_dir(
        os.path.join(work, "schedules-burst"), f"{due.second} {due.minute} {due.hour} {due.day} {due.month} *")
    data = os.path.join(work, "data-burst")
    daemon = Daemon(binary, data, burst, log)
    database = os.path.join(data, "schedulerd.sqlite")
    deadline = time.monotonic() + 300
    while count_ended(database) < SCHEDULES and time.monotonic() < deadline:
        time.sleep(0.2)
    ended = count_ended(database)
    peak = kib(daemon.process.pid, "VmHWM")
    time.sleep(5)
    rows.append((f"a burst: {SCHEDULES:,} due in one second, at the peak ({ended:,} runs ended)",
                 f"{daemon.ready_ms:.0f} ms", mb(peak)))
    rows.append(("the same, 5 s after the burst", "", resident(daemon.process.pid)))
    daemon.stop()

    # 4. A million more finished runs in the store.
    started = time.monotonic()
    total = add_runs(database, EXTRA_RUNS // max(1, ended))
    added_s = time.monotonic() - started
    daemon = Daemon(binary, data, burst, log)
    time.sleep(5)
    after5 = resident(daemon.process.pid)
    time.sleep(25)
    rows.append((f"idle, {SCHEDULES:,} schedules and {total:,} runs in the store, 5 s after ready",
                 f"{daemon.ready_ms:.0f} ms", after5))
    rows.append(("the same, 30 s after ready", "", resident(daemon.process.pid)))
    daemon.stop()

    # Peers, idle.
    peers = []
    if shutil.which("webhook"):
        hooks = os.path.join(work, "hooks.json")
        with open(hooks, "w") as f:
            f.write('[{"id": "hook", "execute-command": "/bin/true"}]')
        port = free_port()
        peer = subprocess.Popen(["webhook", "-hooks", hooks, "-ip", "127.0.0.1", "-port", str(port)],
                                stdout=log, stderr=log)
        while status(f"http://127.0.0.1:{port}/hooks/hook") is None:
            time.sleep(0.05)
        time.sleep(5)
        peers.append(("adnanh/webhook, one hook", resident(peer.pid)))
        peer.terminate()
        peer.wait()
    mlflow = os.environ.get("MLFLOW_BIN")
    if mlflow:
        port = free_port()
        store = os.path.join(work, "mlflow")
        os.makedirs(store, exist_ok=True)
        peer = subprocess.Popen(
            [mlflow, "server", "--host", "127.0.0.1", "--port", str(port), "--backend-store-uri",
             f"sqlite:///{store}/mlflow.db", "--default-artifact-root", f"{store}/artifacts"],
            stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 180
        while status(f"http://127.0.0.1:{port}/health") != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(5)
        peers.append(("`mlflow server`, its whole process tree", mb(tree_rss_kib(peer.pid))))
        os.killpg(peer.pid, signal.SIGTERM)
        peer.wait()

    print("| case | start to /readyz 200 | resident memory |")
    print("| --- | ---: | ---: |")
    for case, ready, memory in rows:
        print(f"| {case} | {ready} | {memory} |")
    print()
    print(f"The million runs were added in {added_s:.0f} s (copies of the burst's, finished).")
    if peers:
        print()
        print("| peer, idle | resident memory |")
        print("| --- | ---: |")
        for name, memory in peers:
            print(f"| {name} | {memory} |")


if __name__ == "__main__":
    main()
