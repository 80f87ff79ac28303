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

int csb_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd, int stdin_fd,
              int stdout_fd, int stderr_fd, const csb_limits *limits, pid_t *pid, char *error, size_t error_length) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        snprintf(error, error_length, "pipe: %s", strerror(errno));
        return errno;
    }
    pid_t child = fork();
    if (child < 0) {
        int saved = errno;
        close(report[0]);
        close(report[1]);
        snprintf(error, error_length, "fork: %s", strerror(saved));
        return saved;
    }
    if (child == 0) {
        // The child: only async-signal-safe calls until exec.
        setsid();
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++) {
            if (s == SIGKILL || s == SIGSTOP) continue;
            signal(s, SIG_DFL);
        }
        int step = 0;  // what failed, for the parent's message: 0 exec, 1 descriptors, 2 user, 3 directory
        step = 1;
        if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) goto failed;
        close_from(3, report[1]);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        set_limit(RLIMIT_CPU, limits->cpu_seconds);
        set_limit(RLIMIT_AS, limits->address_space);
        set_limit(RLIMIT_NOFILE, limits->open_files);
        set_limit(RLIMIT_NPROC, limits->processes);
        set_limit(RLIMIT_FSIZE, limits->file_size);
        step = 2;
        if (limits->gid >= 0 && (setgroups(0, NULL) != 0 || setgid((gid_t)limits->gid) != 0)) goto failed;
        if (limits->uid >= 0 && setuid((uid_t)limits->uid) != 0) goto failed;
        step = 3;
        if (cwd && chdir(cwd) != 0) goto failed;
        step = 0;
        execve(path, argv, envp);
    failed: {
        int report_code[2] = {step, errno};
        ssize_t ignored = write(report[1], report_code, sizeof(report_code));
        (void)ignored;
        _exit(127);
    }
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

int csb_wait(pid_t pid, int *status, struct rusage *usage) {
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
    // Nothing left in the group, zombies included: nothing to reap, no /proc scan.
    if (kill(-group, 0) != 0 && errno == ESRCH) return 0;
    pid_t self = getpid();
    int reaped = 0;
    for (int round = 0; round < 40; round++) {
        int remaining = 0;
        DIR *proc = opendir("/proc");
        if (!proc) return reaped;
        struct dirent *entry;
        while ((entry = readdir(proc)) != NULL) {
            char *end;
            long pid = strtol(entry->d_name, &end, 10);
            if (*end != 0 || pid <= 0) continue;
            pid_t parent, pgrp;
            if (read_stat((pid_t)pid, &parent, &pgrp) != 0 || parent != self || pgrp != group) continue;
            int status;
            if (waitpid((pid_t)pid, &status, WNOHANG) == (pid_t)pid) reaped++;
            else remaining++;
        }
        closedir(proc);
        if (remaining == 0) break;
        usleep(5000);
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
