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
# command start. Pinned so that tests see the server they were written against.
MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
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
}
