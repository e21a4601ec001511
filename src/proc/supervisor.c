#include "proc/supervisor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000

const char *child_state_name(child_state st) {
    static const char *names[] = {"stopped", "starting", "running", "restarting", "failed"};
    return names[st];
}

const char *sup_self_path(void) {
    static char path[1024];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0) snprintf(path, sizeof path, "aftm");
        else path[n] = '\0';
    }
    return path;
}

void sup_init(supervisor *s) {
    memset(s, 0, sizeof *s);
    s->restart = true;
}

sup_child *sup_add(supervisor *s, const char *name, const char *const *argv) {
    if (s->n == (int)(sizeof s->children / sizeof s->children[0])) return NULL;
    sup_child *c = &s->children[s->n++];
    memset(c, 0, sizeof *c);
    c->name = name;
    c->argv[c->argc++] = strdup(sup_self_path());
    for (int i = 0; argv[i] && c->argc < SUP_MAX_ARGS - 1; i++) c->argv[c->argc++] = strdup(argv[i]);
    c->argv[c->argc] = NULL;
    c->backoff_ms = BACKOFF_MIN_MS;
    return c;
}

bool sup_start(supervisor *s, sup_child *c) {
    (void)s;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(c->last_error, sizeof c->last_error, "fork failed: %s", strerror(errno));
        c->state = CHILD_FAILED;
        return false;
    }
    if (pid == 0) {
        /* Own process group: a Ctrl+C at the terminal reaches the supervisor only, which then
         * stops the children in order. If the supervisor dies, the children stop too. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(c->argv[0], c->argv);
        fprintf(stderr, "cannot start %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->state = CHILD_RUNNING;
    c->started_ms = clock_mono_ms();
    return true;
}

static void describe_exit(int status, char *out, size_t cap) {
    if (WIFEXITED(status)) snprintf(out, cap, "exited with code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else snprintf(out, cap, "ended");
}

void sup_poll(supervisor *s) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < s->n; i++) {
            sup_child *c = &s->children[i];
            if (c->pid != pid) continue;
            c->pid = 0;
            describe_exit(status, c->last_error, sizeof c->last_error);
            if (!s->restart) {
                c->state = CHILD_FAILED;
                log_error("%s %s", c->name, c->last_error);
                break;
            }
            /* a child that ran a while gets a fresh backoff */
            if (clock_mono_ms() - c->started_ms > 30000) c->backoff_ms = BACKOFF_MIN_MS;
            c->state = CHILD_BACKOFF;
            c->restart_at_ms = clock_mono_ms() + c->backoff_ms;
            log_error("%s %s; restarting in %.1f s", c->name, c->last_error, c->backoff_ms / 1000.0);
            c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        }
    }
    int64_t now = clock_mono_ms();
    for (int i = 0; i < s->n; i++) {
        sup_child *c = &s->children[i];
        if (c->state == CHILD_BACKOFF && now >= c->restart_at_ms) {
            c->restarts++;
            if (sup_start(s, c)) log_warn("%s restarted (restart #%d)", c->name, c->restarts);
        }
    }
}

void sup_stop_all(supervisor *s, int grace_ms) {
    for (int i = s->n - 1; i >= 0; i--)
        if (s->children[i].pid > 0) kill(s->children[i].pid, SIGTERM);
    int64_t deadline = clock_mono_ms() + grace_ms;
    for (;;) {
        bool alive = false;
        for (int i = 0; i < s->n; i++) {
            sup_child *c = &s->children[i];
            if (c->pid <= 0) continue;
            int status;
            pid_t r = waitpid(c->pid, &status, WNOHANG);
            if (r == c->pid || (r < 0 && errno == ECHILD)) {
                c->pid = 0;
                c->state = CHILD_STOPPED;
                if (r == c->pid || r > 0) describe_exit(status, c->last_error, sizeof c->last_error);
            } else {
                alive = true;
            }
        }
        if (!alive) break;
        if (clock_mono_ms() >= deadline) {
            for (int i = 0; i < s->n; i++)
                if (s->children[i].pid > 0) {
                    log_warn("%s did not stop in time; killing it", s->children[i].name);
                    kill(s->children[i].pid, SIGKILL);
                    waitpid(s->children[i].pid, NULL, 0);
                    s->children[i].pid = 0;
                    s->children[i].state = CHILD_STOPPED;
                }
            break;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL); /* shutdown only, not a hot loop */
    }
    for (int i = 0; i < s->n; i++)
        if (s->children[i].state == CHILD_BACKOFF) s->children[i].state = CHILD_STOPPED;
}

void sup_free(supervisor *s) {
    for (int i = 0; i < s->n; i++)
        for (int j = 0; j < s->children[i].argc; j++) free(s->children[i].argv[j]);
    s->n = 0;
}

bool sup_port_free(const char *endpoint, const char *what, char *err, size_t errlen) {
    if (strncmp(endpoint, "tcp://", 6) != 0) return true;
    const char *hostport = endpoint + 6, *colon = strrchr(hostport, ':');
    if (!colon) return true;
    char host[128];
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    int port = atoi(colon + 1);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (!strcmp(host, "*") || !strcmp(host, "0.0.0.0")) sa.sin_addr.s_addr = htonl(INADDR_ANY);
    else if (!strcmp(host, "localhost")) sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) return true; /* let the bind itself judge */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return true;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    int e = errno;
    close(fd);
    if (!ok)
        snprintf(err, errlen, "port %d (%s, %s) is %s; is another aftm running? Stop it first or choose other ports",
                 port, what, endpoint, e == EADDRINUSE ? "already in use" : strerror(e));
    return ok;
}
