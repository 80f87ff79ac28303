#define _GNU_SOURCE
#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <grp.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void set_limit(int resource, long long value) {
    if (value < 0) return;
    struct rlimit limit = {(rlim_t)value, (rlim_t)value};
    setrlimit(resource, &limit);
}

static void close_from(int lowest, int keep) {
    // close_range where the kernel has it; a loop otherwise.
#ifdef SYS_close_range
    if (keep > lowest) syscall(SYS_close_range, lowest, keep - 1, 0);
    if (syscall(SYS_close_range, keep + 1, ~0U, 0) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = lowest; fd < max; fd++)
        if (fd != keep) close((int)fd);
}

/// What the child needs between clone and exec: everything is prepared by the parent, so that the
/// child, which shares the parent's memory, only makes system calls.
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int stdin_fd, stdout_fd, stderr_fd;
    const csb_limits *limits;
    int report;  // the write end of the pipe the child reports a failure on (closed by exec)
} spawn_args;

/// The child, from clone to exec. It shares the parent's memory (CLONE_VM) while the parent waits
/// (CLONE_VFORK), so it calls the kernel directly where glibc's wrappers would touch process-wide
/// state: setuid and setgid through glibc signal every thread of the parent to change its
/// credentials too. No allocation, no locks: only system calls until exec or _exit.
static int spawn_child(void *context) {
    const spawn_args *a = context;
    int step = 1;  // what failed, for the parent's message: 0 exec, 1 descriptors, 2 user, 3 directory
    syscall(SYS_setsid);
    // Default handlers, then an empty signal mask (every signal was blocked across the clone): the
    // child has its own copy of the handler table (no CLONE_SIGHAND), so this changes nothing of
    // the parent's.
    for (int s = 1; s < _NSIG; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        struct sigaction fallback = {0};
        fallback.sa_handler = SIG_DFL;
        sigaction(s, &fallback, NULL);
    }
    unsigned long empty[2] = {0, 0};
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, empty, NULL, _NSIG / 8);
    if (dup2(a->stdin_fd, 0) < 0 || dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0) goto failed;
    close_from(3, a->report);
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    const csb_limits *limits = a->limits;
    set_limit(RLIMIT_CPU, limits->cpu_seconds);
    set_limit(RLIMIT_AS, limits->address_space);
    set_limit(RLIMIT_NOFILE, limits->open_files);
    set_limit(RLIMIT_NPROC, limits->processes);
    set_limit(RLIMIT_FSIZE, limits->file_size);
    step = 2;
    if (limits->gid >= 0 &&
        (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, (gid_t)limits->gid, (gid_t)limits->gid,
                                                         (gid_t)limits->gid) != 0))
        goto failed;
    if (limits->uid >= 0 &&
        syscall(SYS_setresuid, (uid_t)limits->uid, (uid_t)limits->uid, (uid_t)limits->uid) != 0)
        goto failed;
    step = 3;
    if (a->cwd && chdir(a->cwd) != 0) goto failed;
    step = 0;
    execve(a->path, a->argv, a->envp);
failed: {
    int report_code[2] = {step, errno};
    ssize_t ignored = write(a->report, report_code, sizeof(report_code));
    (void)ignored;
    _exit(127);
}
}

/// The child's stack: it runs on it from clone until exec, while the parent waits.
#define SPAWN_STACK_SIZE (256 * 1024)

int csb_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int stdin_fd,
              int stdout_fd, int stderr_fd, const csb_limits *limits, pid_t *pid, char *error, size_t error_length) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        snprintf(error, error_length, "pipe: %s", strerror(errno));
        return errno;
    }
    // A clone that shares the parent's memory and suspends the parent until the child has exec'd:
    // nothing of the parent (its page tables, gigabytes of them in a large daemon) is copied, as with
    // posix_spawn, yet the child can set limits and the user that posix_spawn's attributes cannot.
    void *stack = mmap(NULL, SPAWN_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        snprintf(error, error_length, "mmap: %s", strerror(saved));
        return saved;
    }
    spawn_args args = {path, argv, envp, cwd, stdin_fd, stdout_fd, stderr_fd, limits, report[1]};
    // Every signal blocked across the clone: a handler of the parent must never run in the child,
    // which shares its memory. The child sets default handlers, then its own empty mask.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t child = clone(spawn_child, (char *)stack + SPAWN_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    munmap(stack, SPAWN_STACK_SIZE);
    if (child < 0) {
        close(report[0]);
        close(report[1]);
        snprintf(error, error_length, "clone: %s", strerror(saved));
        return saved;
    }
    close(report[1]);
    int failure[2] = {0, 0};
    ssize_t n;
    do {
        n = read(report[0], failure, sizeof(failure));
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == sizeof(failure)) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        int code = failure[1];
        switch (failure[0]) {
        case 1: snprintf(error, error_length, "cannot set up the standard streams: %s", strerror(code)); break;
        case 2: snprintf(error, error_length, "cannot switch to the scripts' user: %s", strerror(code)); break;
        case 3:
            snprintf(error, error_length, "cannot enter the working directory %s: %s", cwd, strerror(code));
            break;
        default: snprintf(error, error_length, "cannot run %s: %s", path, strerror(code)); break;
        }
        return code;
    }
    *pid = child;
    return 0;
}

int csb_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    // pidfds are close-on-exec from the start: scripts started later do not inherit it.
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : fd;
#else
    (void)pid;
    return -ENOSYS;
#endif
}

int csb_has_exited(pid_t pid) {
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof(info));
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0) return info.si_pid == pid ? 1 : 0;
        if (errno != EINTR) return -errno;
    }
}

int csb_reap(pid_t pid, int *status, struct rusage *usage) {
    for (;;) {
        pid_t r = wait4(pid, status, 0, usage);
        if (r == pid) return 0;
        if (r < 0 && errno != EINTR) return errno;
    }
}

int csb_kill_group(pid_t group, int signal) { return kill(-group, signal) == 0 ? 0 : errno; }

int csb_exited(int status) { return WIFEXITED(status); }
int csb_exit_code(int status) { return WEXITSTATUS(status); }
int csb_signaled(int status) { return WIFSIGNALED(status); }
int csb_term_signal(int status) { return WTERMSIG(status); }

int csb_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno; }

int csb_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0 ? 0 : errno; }

/// Reads the parent pid and process group of `pid` from /proc; returns 0 on success.
static int read_stat(pid_t pid, pid_t *ppid, pid_t *pgrp) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "re");
    if (!file) return -1;
    char line[1024];
    size_t n = fread(line, 1, sizeof(line) - 1, file);
    fclose(file);
    line[n] = 0;
    char *close = strrchr(line, ')');  // the command name may contain spaces and parentheses
    if (!close) return -1;
    char state;
    int parent, group;
    if (sscanf(close + 2, "%c %d %d", &state, &parent, &group) != 3) return -1;
    *ppid = parent;
    *pgrp = group;
    return 0;
}

int csb_reap_group(pid_t group) {
    int reaped = 0;
    // Killed members take a moment to finish exiting (bubblewrap's own init outlives bwrap by a few
    // hundred microseconds): look again after 50 µs, doubling up to 5 ms, about 200 ms in all.
    useconds_t pause = 50;
    for (int round = 0; round < 48; round++) {
        // waitpid(-group) takes exactly this process's children in the group (orphans adopted as a
        // subreaper included): no scan of /proc.
        int status;
        while (waitpid(-group, &status, WNOHANG) > 0) reaped++;
        // Nothing left in the group, zombies included.
        if (kill(-group, 0) != 0 && errno == ESRCH) break;
        usleep(pause);
        pause = pause < 2500 ? pause * 2 : 5000;
    }
    return reaped;
}

static int in_groups(pid_t group, const pid_t *groups, int count) {
    for (int i = 0; i < count; i++)
        if (groups[i] == group) return 1;
    return 0;
}

int csb_signal_tree(pid_t root, int signal, int min_depth) {
    // Collect the descendants of `root` breadth-first from the parent links in /proc.
    enum { capacity = 4096 };
    static __thread pid_t tree[capacity];
    static __thread int depth[capacity];
    static __thread pid_t group[capacity];
    static __thread pid_t whole[capacity];
    int count = 0;
    tree[count] = root;
    group[count] = 0;
    depth[count++] = 0;
    for (int scanned = 0; scanned < count && count < capacity; scanned++) {
        DIR *proc = opendir("/proc");
        if (!proc) break;
        struct dirent *entry;
        while ((entry = readdir(proc)) != NULL && count < capacity) {
            char *end;
            long pid = strtol(entry->d_name, &end, 10);
            if (*end != 0 || pid <= 0) continue;
            pid_t parent, pgrp;
            if (read_stat((pid_t)pid, &parent, &pgrp) == 0 && parent == tree[scanned]) {
                tree[count] = (pid_t)pid;
                group[count] = pgrp;
                depth[count++] = depth[scanned] + 1;
            }
        }
        closedir(proc);
    }
    int signalled = 0;
    // The process group of each process at min_depth gets the signal in one kill, so no member sees
    // another die first: a shell waiting on a child would otherwise see the child end and exit before
    // its trap runs. With bubblewrap that is the session its init made (pid 1 there ignores a signal
    // it has no handler for); never the group of root or of this process.
    pid_t root_parent, root_group = 0;
    if (read_stat(root, &root_parent, &root_group) != 0) root_group = 0;
    pid_t own_group = getpgrp();
    int leaders = 0;  // groups signalled whole: each distinct group of a process at min_depth
    for (int i = 0; i < count; i++) {
        if (depth[i] != min_depth || group[i] <= 0 || group[i] == root_group || group[i] == own_group) continue;
        if (in_groups(group[i], whole, leaders)) continue;
        whole[leaders++] = group[i];
        if (kill(-group[i], signal) == 0) signalled++;
    }
    // Then, deepest first (so that a parent does not respawn what it is about to lose), every one
    // at min_depth or deeper outside those groups.
    for (int i = count - 1; i >= 0; i--)
        if (depth[i] >= min_depth && !in_groups(group[i], whole, leaders) && kill(tree[i], signal) == 0)
            signalled++;
    return signalled;
}
