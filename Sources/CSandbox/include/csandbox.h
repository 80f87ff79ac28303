// Process spawning for the sandbox: a clone that shares the parent's memory until exec (nothing is
// copied, whatever the daemon's size), with the child in its own session, resource limits, a clean
// signal state and only the three standard descriptors. The child makes only system calls between
// clone and exec; argv and envp are built by the caller before the call.
#ifndef SCHEDULERD_CSANDBOX_H
#define SCHEDULERD_CSANDBOX_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Limits applied with setrlimit in the child; a negative value leaves that limit as it is.
typedef struct {
    long long cpu_seconds;    // RLIMIT_CPU
    long long address_space;  // RLIMIT_AS, bytes
    long long open_files;     // RLIMIT_NOFILE
    long long processes;      // RLIMIT_NPROC (not enforced for root)
    long long file_size;      // RLIMIT_FSIZE, bytes
    long long uid;            // switch to this user (and gid, no supplementary groups) before exec; <0 keeps
    long long gid;
} csb_limits;

/// Starts `path` with `argv` and `envp` (NULL-terminated), in `cwd`, with the given descriptors as
/// stdin/stdout/stderr. The child is a session leader (its process group id is its pid) with default
/// signal handling, an empty signal mask and no core dumps. Returns 0 and the pid, or an errno
/// value (from clone, or from the child's exec) with a message in `error`.
int csb_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int stdin_fd,
              int stdout_fd, int stderr_fd, const csb_limits *limits, pid_t *pid, char *error, size_t error_length);

/// A pidfd for child `pid` (close-on-exec): readable once the child has exited. Returns the
/// descriptor, or -errno (-ENOSYS before Linux 5.3).
int csb_pidfd_open(pid_t pid);

/// Whether child `pid` has exited, without reaping it (its pid stays taken, so signals to it or to
/// its group cannot reach a newer process): 1 when it has, 0 while it runs, -errno on an error.
int csb_has_exited(pid_t pid);

/// Waits for child `pid` and reaps it, filling `status` and `usage` (CPU time, max RSS); returns 0 or
/// errno. Retries on EINTR.
int csb_reap(pid_t pid, int *status, struct rusage *usage);

/// Signals a whole process group; returns 0 or errno (ESRCH when it is already gone).
int csb_kill_group(pid_t group, int signal);

/// Makes this process the reaper of its descendants' orphans (PR_SET_CHILD_SUBREAPER), so that the
/// processes of a killed sandbox group are reaped here and stop counting against a process limit.
int csb_become_subreaper(void);

/// Reaps the zombies of process group `group` that are this process's children (orphans adopted as a
/// subreaper), waiting up to 200 ms for killed ones to finish exiting. Returns how many were reaped.
int csb_reap_group(pid_t group);

/// Signals the descendants of `root` at `min_depth` or deeper (found through /proc; root is depth 0):
/// the process group of each one at `min_depth` in one kill, then the rest deepest first.
/// With bubblewrap (outer process, then its init in the new pid namespace), depth 2 is the script:
/// it gets SIGTERM and can clean up before the namespace is torn down.
int csb_signal_tree(pid_t root, int signal, int min_depth);

/// A pipe whose ends close on exec. Returns 0 or errno.
int csb_pipe(int fds[2]);

/// Wait-status helpers, since the macros are not visible from Swift.
int csb_exited(int status);
int csb_exit_code(int status);
int csb_signaled(int status);
int csb_term_signal(int status);

#ifdef __cplusplus
}
#endif

#endif
