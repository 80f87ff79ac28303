#!/usr/bin/env python3
"""Diagnostic, sandbox: reports what a workflow script can see and do — its user, its environment
(names only), its limits, whether the root file system is read-only, whether the network is
reachable, whether the sample data is writable. Never fails: every probe is caught."""
import os
import resource
import socket
import sys

sys.dont_write_bytecode = True
import homelib as H  # noqa: E402

H.read_state()
info = {}


def probe(name, fn):
    try:
        info[name] = fn()
    except Exception as e:  # a probe that fails is itself the answer
        info[name] = f"error: {type(e).__name__}: {e}"


def user():
    out = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "pid": os.getpid()}
    try:
        import pwd
        out["name"] = pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, ImportError):
        out["name"] = None
    return out


def status_fields():
    wanted = ("NoNewPrivs", "Seccomp", "CapEff", "CapBnd")
    with open("/proc/self/status") as f:
        return {k: v.strip() for k, v in (line.split(":", 1) for line in f if ":" in line) if k in wanted}


def limits():
    names = {"address_space": resource.RLIMIT_AS, "cpu_s": resource.RLIMIT_CPU, "open_files": resource.RLIMIT_NOFILE,
             "processes": resource.RLIMIT_NPROC, "file_size": resource.RLIMIT_FSIZE}
    return {k: (None if resource.getrlimit(v)[0] == resource.RLIM_INFINITY else resource.getrlimit(v)[0])
            for k, v in names.items()}


def network():
    interfaces = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
    reach = {}
    for host, port in (("1.1.1.1", 53), ("127.0.0.1", 9)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(0.5)
        try:
            s.connect((host, port))
            reach[f"{host}:{port}"] = "connected"
        except OSError as e:
            reach[f"{host}:{port}"] = type(e).__name__ + (f" ({e.errno})" if e.errno else "")
        finally:
            s.close()
    return {"interfaces": interfaces, "probes": reach,
            "internet": reach["1.1.1.1:53"] == "connected",
            "isolated": interfaces == ["lo"] or not interfaces}


def filesystem():
    work = os.getcwd()
    test = os.path.join(work, ".probe")
    with open(test, "w") as f:
        f.write("x")
    os.remove(test)
    return {"cwd": work, "cwd_writable": True, "root_read_only": bool(os.statvfs("/").f_flag & os.ST_RDONLY),
            "data_dir": H.DATA, "data_readable": os.access(H.READINGS_FILE, os.R_OK),
            "data_writable": os.access(H.DATA, os.W_OK), "tmp": os.environ.get("TMPDIR")}


probe("user", user)
probe("kernel", status_fields)
probe("limits", limits)
probe("network", network)
probe("filesystem", filesystem)
probe("environment", lambda: sorted(os.environ))
probe("python", lambda: sys.version.split()[0])
probe("hostname", socket.gethostname)
net = info["network"] if isinstance(info["network"], dict) else {}
fs = info["filesystem"] if isinstance(info["filesystem"], dict) else {}
H.log(f"check_sandbox: uid {info['user'].get('uid') if isinstance(info['user'], dict) else '?'}, "
      f"network {'isolated' if net.get('isolated') else 'shared'}, internet {'reachable' if net.get('internet') else 'off'}, "
      f"root {'read-only' if fs.get('root_read_only') else 'writable'}")
H.emit({"sandbox": info})
