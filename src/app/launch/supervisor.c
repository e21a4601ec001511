#include "app/launch/supervisor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
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
#include <zmq.h>

#include "core/clock.h"
#include "core/log.h"
#include "net/gateway_client.h"
#include "net/secure.h"
#include "store/session_store.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000

extern char **environ;

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

bool sup_setenv(sup_child *c, const char *name, const char *value) {
    int i = 0;
    size_t nl = strlen(name);
    while (c->env[i] && !(strncmp(c->env[i], name, nl) == 0 && c->env[i][nl] == '=')) i++;
    if (i >= SUP_MAX_ENV) return false;
    size_t len = nl + strlen(value) + 2;
    char *kv = malloc(len);
    if (!kv) return false;
    snprintf(kv, len, "%s=%s", name, value);
    if (c->env[i]) {
        memset(c->env[i], 0, strlen(c->env[i]));
        free(c->env[i]);
    }
    c->env[i] = kv;
    return true;
}

bool sup_child_alive(const sup_child *c) { return c->state == CHILD_STARTING || c->state == CHILD_RUNNING; }

/* The child's environment: ours plus its own NAME=VALUE strings (which win). Built before the
 * fork: between fork and exec the child only makes async-signal-safe calls. */
static char **child_environ(const sup_child *c) {
    size_t n = 0, extra = 0;
    while (environ && environ[n]) n++;
    while (c->env[extra]) extra++;
    char **envp = calloc(n + extra + 1, sizeof *envp);
    if (!envp) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool overridden = false;
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        for (size_t j = 0; j < extra && !overridden; j++)
            overridden = strncmp(c->env[j], environ[i], nl) == 0 && c->env[j][nl] == '=';
        if (!overridden) envp[k++] = environ[i];
    }
    for (size_t j = 0; j < extra; j++) envp[k++] = c->env[j];
    envp[k] = NULL;
    return envp;
}

bool sup_start(supervisor *s, sup_child *c) {
    pid_t parent = getpid();
    char **envp = child_environ(c);
    int logfd = -1, nullfd = -1;
    if (c->log_path[0]) {
        logfd = open(c->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (logfd < 0) log_warn("cannot open %s for the %s log: %s", c->log_path, c->name, strerror(errno));
    }
    pid_t pid = envp ? fork() : -1;
    if (pid < 0) {
        snprintf(c->last_error, sizeof c->last_error, "fork failed: %s", strerror(errno));
        c->state = CHILD_FAILED;
        free(envp);
        if (logfd >= 0) close(logfd);
        if (nullfd >= 0) close(nullfd);
        sup_record(s, c);
        return false;
    }
    if (pid == 0) {
        /* Own process group: a Ctrl+C at the terminal reaches the supervisor only, which then
         * stops the children in order. If the supervisor dies, the children stop too. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        if (logfd >= 0) {
            dup2(logfd, STDOUT_FILENO);
            dup2(logfd, STDERR_FILENO);
        }
        if (nullfd >= 0) dup2(nullfd, STDIN_FILENO);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execve(c->argv[0], c->argv, envp);
        static const char msg[] = "cannot start the aftm binary\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    free(envp);
    if (logfd >= 0) close(logfd);
    if (nullfd >= 0) close(nullfd);
    c->pid = pid;
    c->state = c->settle_ms > 0 || c->wait_ready ? CHILD_STARTING : CHILD_RUNNING;
    c->started_ms = clock_mono_ms();
    c->started_wall = clock_wall_s();
    c->pid_start = sup_pid_start(pid);
    c->last_error[0] = '\0';
    sup_record(s, c);
    return true;
}

void sup_mark_ready(supervisor *s, sup_child *c) {
    if (c->state != CHILD_STARTING) return;
    c->state = CHILD_RUNNING;
    sup_record(s, c);
}

static void describe_exit(int status, char *out, size_t cap) {
    if (WIFEXITED(status)) snprintf(out, cap, "exited with code %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else snprintf(out, cap, "ended");
}

static int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return -1;
}

void sup_poll(supervisor *s) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < s->n; i++) {
            sup_child *c = &s->children[i];
            if (c->pid != pid) continue;
            c->pid = 0;
            c->exit_code = exit_code_of(status);
            char before[sizeof c->last_error];
            snprintf(before, sizeof before, "%s", c->last_error);
            describe_exit(status, c->last_error, sizeof c->last_error);
            bool quick = clock_mono_ms() - c->started_ms < SUP_QUICK_MS;
            /* the same error again, soon after the start: it would only fail the same way */
            c->quick_failures = !quick ? 0 : c->quick_failures > 0 && !strcmp(before, c->last_error) ? c->quick_failures + 1 : 1;
            bool hopeless = c->exit_code == SUP_EXIT_USAGE || c->exit_code == SUP_EXIT_REFUSED;
            if (s->restart && !hopeless && s->give_up_after > 0 && c->quick_failures >= s->give_up_after) {
                char why[sizeof c->last_error];
                snprintf(why, sizeof why, "%s", c->last_error);
                snprintf(c->last_error, sizeof c->last_error, "%.60s %d times in a row, each within %d s of its start",
                         why, c->quick_failures, SUP_QUICK_MS / 1000);
                c->state = CHILD_FAILED;
                log_error("%s %s; not restarting it again (its own error is above)", c->name, c->last_error);
                sup_record(s, c);
                break;
            }
            if (!s->restart || hopeless) {
                c->state = CHILD_FAILED;
                log_error("%s %s", c->name, c->last_error);
                sup_record(s, c);
                break;
            }
            /* a child that ran a while gets a fresh backoff */
            if (clock_mono_ms() - c->started_ms > 30000) c->backoff_ms = BACKOFF_MIN_MS;
            c->state = CHILD_BACKOFF;
            c->restart_at_ms = clock_mono_ms() + c->backoff_ms;
            log_error("%s %s; restarting in %.1f s", c->name, c->last_error, c->backoff_ms / 1000.0);
            c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
            sup_record(s, c);
        }
    }
    int64_t now = clock_mono_ms();
    for (int i = 0; i < s->n; i++) {
        sup_child *c = &s->children[i];
        if (c->state == CHILD_BACKOFF && now >= c->restart_at_ms) {
            c->restarts++;
            char why[sizeof c->last_error];
            snprintf(why, sizeof why, "%s", c->last_error);
            if (sup_start(s, c)) {
                log_warn("%s restarted (restart #%d)", c->name, c->restarts);
                snprintf(c->last_error, sizeof c->last_error, "%s", why); /* keep why it was restarted */
                sup_record(s, c);
            }
        } else if (c->state == CHILD_STARTING && !c->wait_ready && now - c->started_ms >= c->settle_ms) {
            c->state = CHILD_RUNNING;
            sup_record(s, c);
        }
    }
}

void sup_stop(supervisor *s, sup_child *const *list, int n, int grace_ms) {
    for (int i = 0; i < n; i++)
        if (list[i]->pid > 0) kill(list[i]->pid, SIGTERM);
    int64_t deadline = clock_mono_ms() + grace_ms;
    for (;;) {
        bool alive = false;
        for (int i = 0; i < n; i++) {
            sup_child *c = list[i];
            if (c->pid <= 0) continue;
            int status;
            pid_t r = waitpid(c->pid, &status, WNOHANG);
            if (r == c->pid || (r < 0 && errno == ECHILD)) {
                c->pid = 0;
                c->state = CHILD_STOPPED;
                if (r > 0) {
                    c->exit_code = exit_code_of(status);
                    /* a clean stop is not an error: keep the last real one */
                    if (c->exit_code != 0 && c->exit_code != -SIGTERM)
                        describe_exit(status, c->last_error, sizeof c->last_error);
                }
                sup_record(s, c);
            } else {
                alive = true;
            }
        }
        if (!alive) break;
        if (clock_mono_ms() >= deadline) {
            for (int i = 0; i < n; i++)
                if (list[i]->pid > 0) {
                    log_warn("%s did not stop in time; killing it", list[i]->name);
                    kill(list[i]->pid, SIGKILL);
                    waitpid(list[i]->pid, NULL, 0);
                    list[i]->pid = 0;
                    list[i]->state = CHILD_STOPPED;
                    snprintf(list[i]->last_error, sizeof list[i]->last_error, "did not stop in time; killed");
                    sup_record(s, list[i]);
                }
            break;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL); /* shutdown only, not a hot loop */
    }
    for (int i = 0; i < n; i++)
        if (list[i]->state == CHILD_BACKOFF || list[i]->state == CHILD_STARTING) {
            list[i]->state = CHILD_STOPPED;
            sup_record(s, list[i]);
        }
}

void sup_stop_all(supervisor *s, int grace_ms) {
    sup_child *list[4];
    int n = 0;
    for (int i = s->n - 1; i >= 0; i--) list[n++] = &s->children[i];
    sup_stop(s, list, n, grace_ms);
}

void sup_free(supervisor *s) {
    for (int i = 0; i < s->n; i++) {
        sup_child *c = &s->children[i];
        for (int j = 0; j < c->argc; j++) free(c->argv[j]);
        for (int j = 0; c->env[j]; j++) {
            memset(c->env[j], 0, strlen(c->env[j])); /* e.g. a password: gone from memory too */
            free(c->env[j]);
            c->env[j] = NULL;
        }
    }
    s->n = 0;
}

/* ---- the processes table ---- */

static const char *table_state(const sup_child *c) {
    switch (c->state) {
    case CHILD_STARTING: return "starting";
    case CHILD_RUNNING: return "running";
    case CHILD_BACKOFF: return "restarting";
    case CHILD_FAILED: return "crashed";
    default: return "stopped";
    }
}

void sup_record(supervisor *s, const sup_child *c) {
    if (!s || !s->db) return;
    process_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", c->name);
    r.pid = (int)c->pid;
    r.pid_start = c->pid > 0 ? c->pid_start : 0;
    snprintf(r.state, sizeof r.state, "%s", table_state(c));
    r.started_at = c->started_wall;
    r.restarts = c->restarts;
    snprintf(r.last_error, sizeof r.last_error, "%s", c->last_error);
    snprintf(r.owner, sizeof r.owner, "%s", s->owner);
    r.supervisor_pid = (int)getpid();
    r.updated_at = clock_wall_s();
    if (!proc_row_put(s->db, &r)) log_warn("cannot record the state of %s: %s", c->name, sqlite3_errmsg(s->db));
}

static void record_self(supervisor *s, const char *state) {
    process_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "supervisor");
    bool running = !strcmp(state, "running");
    r.pid = running ? (int)getpid() : 0;
    r.pid_start = running ? sup_pid_start(getpid()) : 0;
    snprintf(r.state, sizeof r.state, "%s", state);
    process_row old;
    r.started_at = running ? clock_wall_s() : (proc_row_get(s->db, "supervisor", &old) ? old.started_at : 0);
    snprintf(r.owner, sizeof r.owner, "%s", s->owner);
    r.supervisor_pid = (int)getpid();
    r.updated_at = clock_wall_s();
    proc_row_put(s->db, &r);
}

void sup_attach_db(supervisor *s, sqlite3 *db, const char *owner) {
    s->db = db;
    snprintf(s->owner, sizeof s->owner, "%s", owner ? owner : "");
    if (db) record_self(s, "running");
}

void sup_detach_db(supervisor *s) {
    if (!s->db) return;
    record_self(s, "stopped");
    s->db = NULL;
}

long long sup_pid_start(pid_t pid) {
    if (pid <= 0) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* pid (comm) state ppid ... field 22 is starttime; comm may hold spaces, so count from ')' */
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    if (!p) return 0;
    char state = 0;
    if (sscanf(strrchr(buf, ')') + 2, "%c", &state) == 1 && state == 'Z') return 0; /* a zombie is gone */
    return atoll(p + 1);
}

bool sup_pid_alive(pid_t pid, long long start) {
    if (pid <= 0) return false;
    long long now = sup_pid_start(pid);
    if (now == 0) return false;
    return start == 0 || now == start;
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

bool sup_wait_healthy(supervisor *s, sup_child *child, const char *endpoint, const char *op, int timeout_ms) {
    void *zctx = zmq_ctx_new();
    /* the exchange answers "health", the gateway "health_check": whose key the link expects */
    gateway_client *c = gwc_new_to(zctx, endpoint, 250, !strcmp(op, "health") ? ROLE_EXCHANGE : ROLE_GATEWAY);
    bool ok = false, restart = s->restart;
    int64_t deadline = clock_mono_ms() + timeout_ms;
    s->restart = false;
    while (c && !ok && clock_mono_ms() < deadline) {
        sup_poll(s);
        if (child->pid == 0) break;
        char err[128];
        json_t *reply = gwc_call(c, op, NULL, err, sizeof err);
        if (reply) {
            ok = json_is_true(json_object_get(reply, "success"));
            json_decref(reply);
        }
    }
    s->restart = restart;
    gwc_free(c);
    zmq_ctx_term(zctx);
    return ok;
}

int sup_take_home_lock(const char *home, char *holder, size_t cap) {
    char path[1200];
    snprintf(path, sizeof path, "%s/run.lock", home);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "?";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0) pid[n] = '\0';
        pid[strcspn(pid, "\r\n")] = '\0';
        snprintf(holder, cap, "%s", pid);
        close(fd);
        return -2;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) < 0) {
        /* the pid is informational only */
    }
    return fd;
}
