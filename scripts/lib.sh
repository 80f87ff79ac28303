# Shared helpers for the scripts in this folder. Source it; don't run it.

# Installs Debian packages that are missing (one apt-get run for all of them).
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        echo "error: the Swift toolchain (6.1 or later) is not on PATH; install it from the Swift project first" >&2
        exit 1
    fi
}

# The project's Python virtualenv (.venv): MLflow for the tracking server the tests and the run
# command start, and aiosmtpd for the alert tests' mail server. Pinned so that tests see the servers
# they were written against.
MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
AIOSMTPD_VERSION="${AIOSMTPD_VERSION:-1.4.6}"
ensure_mlflow() {
    local venv=".venv"
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating the Python virtualenv $venv"
        python3 -m venv "$venv" 2>/dev/null || {
            ensure_apt python3 python3-venv
            python3 -m venv "$venv"
        }
    fi
    local have
    have=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("mlflow"))' 2>/dev/null || true)
    if [ "$have" != "$MLFLOW_VERSION" ] || [ ! -x "$venv/bin/mlflow" ]; then
        echo "==> installing mlflow $MLFLOW_VERSION into $venv (a few minutes the first time)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION"
    fi
    # The SMTP server the alert tests send mail to.
    have=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("aiosmtpd"))' 2>/dev/null || true)
    if [ "$have" != "$AIOSMTPD_VERSION" ]; then
        echo "==> installing aiosmtpd $AIOSMTPD_VERSION into $venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
    fi
}

# What the browser tests drive: Debian's Chromium and its driver, and selenium in .venv (given the
# driver's path, so it never downloads one; SE_AVOID_STATS keeps it from sending statistics).
SELENIUM_VERSION="${SELENIUM_VERSION:-4.50.0}"
ensure_browser() {
    ensure_apt chromium chromium-driver fonts-dejavu-core
    local have
    have=$(.venv/bin/python -c 'from importlib.metadata import version; print(version("selenium"))' 2>/dev/null || true)
    if [ "$have" != "$SELENIUM_VERSION" ]; then
        echo "==> installing selenium $SELENIUM_VERSION into .venv"
        .venv/bin/pip install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION"
    fi
    export SE_AVOID_STATS=true
}

# Starts `mlflow server` from .venv on 127.0.0.1:$1 with a SQLite backend under $2, in its own
# session (so stop_mlflow reaches its workers), and waits for /health. Sets MLFLOW_PID.
start_mlflow() {
    local port="$1" dir="$2"
    mkdir -p "$dir"
    # WAL mode, kept in the file: MLflow's readers and its writer stop waiting for each other (in the
    # default rollback journal it answers 503 "database is locked" under concurrent trace writes).
    [ -e "$dir/mlflow.db" ] || .venv/bin/python -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode = WAL")' "$dir/mlflow.db"
    setsid .venv/bin/mlflow server --host 127.0.0.1 --port "$port" --workers "${MLFLOW_WORKERS:-2}" \
        --backend-store-uri "sqlite:///$dir/mlflow.db" --default-artifact-root "$dir/artifacts" \
        >"$dir/server.log" 2>&1 &
    MLFLOW_PID=$!
    for _ in $(seq 1 600); do
        if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$MLFLOW_PID" 2>/dev/null; then
            echo "error: mlflow server exited; see $dir/server.log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "error: mlflow server did not answer on port $port within 120 s; see $dir/server.log" >&2
    return 1
}

stop_mlflow() {
    [ -n "${MLFLOW_PID:-}" ] || return 0
    kill -TERM -- "-$MLFLOW_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$MLFLOW_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$MLFLOW_PID" 2>/dev/null || true
    MLFLOW_PID=""
}

# PostgreSQL for the tests of the PostgreSQL store: Debian's server package (the binaries are under
# /usr/lib/postgresql/<major>/bin, not on PATH).
ensure_postgres() {
    ensure_apt postgresql
    postgres_bin >/dev/null
}

# The newest installed PostgreSQL's bin folder.
postgres_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "error: no PostgreSQL server under /usr/lib/postgresql; ensure_postgres installs it" >&2
        return 1
    fi
    echo "$bin"
}

# Starts a throwaway PostgreSQL cluster in $2 on 127.0.0.1:$1 (and a Unix socket in $2 only), with
# trust authentication for the superuser role schedulerd_test, and waits until it accepts
# connections. initdb refuses to run as root, so under root the cluster belongs to the `postgres`
# system user the package creates ($2 is chowned to it, and must be reachable by it: /tmp is). Its
# durability is turned off: the cluster lives for one test run. Exports SCHEDULERD_TEST_DATABASE_URL
# (each test makes its own database through it) and sets POSTGRES_DIR for stop_postgres.
start_postgres() {
    local port="$1" dir="$2" bin
    bin=$(postgres_bin) || return 1
    local as=()
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U schedulerd_test --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || {
        echo "error: initdb failed; see $dir/initdb.log" >&2
        return 1
    }
    # One role must give a password (the others are trusted), so that a test can try a wrong one.
    sed -i '1i host all schedulerd_password 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
    POSTGRES_DIR="$dir"
    # Its data is thrown away, so nothing is flushed to disk. A new cluster makes each WAL file as
    # it first needs it, zero-filled (16 MB written per file) where a running server recycles them;
    # wal_init_zero=off spares the benchmarks, which write a few dozen MB per burst, that start-up cost.
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_init_zero=off" \
        start >/dev/null || {
        echo "error: PostgreSQL did not start on port $port; see $dir/server.log" >&2
        return 1
    }
    for _ in $(seq 1 100); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
            export SCHEDULERD_TEST_DATABASE_URL="postgres://schedulerd_test@127.0.0.1:$port/postgres?sslmode=disable"
            return 0
        fi
        sleep 0.1
    done
    echo "error: PostgreSQL on port $port does not accept connections; see $dir/server.log" >&2
    return 1
}

# Stops the cluster start_postgres started (at once: its data is thrown away) and removes its folder.
stop_postgres() {
    [ -n "${POSTGRES_DIR:-}" ] || return 0
    local bin as=()
    bin=$(postgres_bin) || return 0
    [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
    "${as[@]}" "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_DIR"
    POSTGRES_DIR=""
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs "$@" in the background and returns its exit status once it has exited. Every SIGINT or SIGTERM
# this shell gets is passed on as SIGTERM: schedulerd stops gracefully on the first (running runs
# finish) and cancels its running runs on the second. This shell never returns before the process
# has exited, so what an EXIT trap stops afterwards (MLflow) outlives it.
run_until_exit() {
    local child="" requested=0
    # Set before the process starts, so that no signal finds this shell without the trap.
    trap 'requested=$((requested + 1)); if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi' INT TERM
    "$@" &
    child=$!
    local i
    for ((i = 0; i < requested; i++)); do kill -TERM "$child" 2>/dev/null || true; done
    local status=0
    while :; do
        if wait "$child"; then status=0; else status=$?; fi
        kill -0 "$child" 2>/dev/null || break
    done
    # A wait cut short by a signal just as the process ended: collect its own status.
    if wait "$child" 2>/dev/null; then status=0; else
        local again=$?
        [ "$again" -ne 127 ] && status=$again
    fi
    trap - INT TERM
    return "$status"
}

# Builds product $1 of the Benchmarks package in release mode, its output on stderr. The Benchmarks
# package uses the project as a local dependency, and SwiftPM keeps the list of that dependency's
# source files until the Benchmarks manifest changes: a file added to Sources/ since the last build
# would be left out, and a benchmark would measure the code as it was. Touching the manifest makes it
# look again (git sees no change).
bench_build() {
    touch Benchmarks/Package.swift
    (cd Benchmarks && swift build -c release --product "$1") >&2
}
