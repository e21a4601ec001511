/* The session's supervisor: gateway (logged in), then strategy and executor. */
#include "usecase/uc_host.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "core/clock.h"
#include "core/log.h"
#include "net/gateway_client.h"
#include "app/launch/supervisor.h"
#include "app/launch/topology.h"
#include "store/db.h"

#define MAX_NOTICES 16
#define RENEW_EVERY_MS 60000
#define CHECK_EVERY_MS 2000

struct uc_host {
    uc_ctx *c;
    char owner[16];
    supervisor sup;
    sup_child *xc, *gw, *ex, *st; /* exchange, gateway, executor, strategy */
    int lock_fd;
    char account[96];
    long long seen_req;
    char notices[MAX_NOTICES][320];
    int n_notices;
    int64_t last_renew_ms, last_check_ms;
    gateway_client *probe;
    bool stopped_once;
};

static void notice(uc_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(uc_host *h, const char *fmt, ...) {
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (h->c->face != UC_FACE_MENU) log_info("%s", line);
    if (h->n_notices == MAX_NOTICES) {
        memmove(h->notices[0], h->notices[1], sizeof h->notices[0] * (MAX_NOTICES - 1));
        h->n_notices--;
    }
    snprintf(h->notices[h->n_notices++], sizeof h->notices[0], "%s", line);
}

int uc_host_notices(uc_host *h, char (*out)[320], int cap) {
    int n = h->n_notices < cap ? h->n_notices : cap;
    for (int i = 0; i < n; i++) snprintf(out[i], sizeof out[i], "%s", h->notices[i]);
    h->n_notices = 0;
    return n;
}

uc_host *uc_host_new(uc_ctx *c, const char *owner) {
    uc_host *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->c = c;
    h->lock_fd = -1;
    snprintf(h->owner, sizeof h->owner, "%s", owner);
    sup_init(&h->sup);
    h->sup.quiet = true;
    h->seen_req = host_request_last(c->db);
    return h;
}

bool uc_host_gateway_alive(const uc_host *h) { return h->gw && sup_child_alive(h->gw); }
bool uc_host_trading(const uc_host *h) {
    return (h->ex && sup_child_alive(h->ex)) || (h->st && sup_child_alive(h->st)) ||
           (h->ex && h->ex->state == CHILD_BACKOFF) || (h->st && h->st->state == CHILD_BACKOFF);
}
bool uc_host_owns_anything(const uc_host *h) {
    for (int i = 0; i < h->sup.n; i++)
        if (h->sup.children[i].pid > 0 || h->sup.children[i].state == CHILD_BACKOFF) return true;
    return false;
}

/* ---- helpers ---- */

static void log_path(const uc_host *h, const char *name, char *out, size_t cap) {
    snprintf(out, cap, "%s/logs/%s.log", h->c->home, name);
}

static off_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* The message of the last error line (else the last line) written to path after offset. */
static void last_log_message(const char *path, off_t offset, char *out, size_t cap) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (offset > 0) fseeko(f, offset, SEEK_SET);
    char line[1024], last[1024] = "", last_err[1024] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        snprintf(last, sizeof last, "%s", line);
        if (strstr(line, " ERROR ")) snprintf(last_err, sizeof last_err, "%s", line);
    }
    fclose(f);
    const char *pick = last_err[0] ? last_err : last;
    const char *levels[] = {" ERROR ", " WARN  ", " INFO  ", " WARN ", " INFO "};
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        const char *p = strstr(pick, levels[i]);
        if (p) {
            pick = p + strlen(levels[i]);
            break;
        }
    }
    while (*pick == ' ') pick++;
    snprintf(out, cap, "%s", pick);
}

static void release_lock(uc_host *h) {
    if (h->lock_fd >= 0) close(h->lock_fd);
    h->lock_fd = -1;
}

static bool probe_health(uc_host *h, int timeout_ms) {
    if (!h->c->zctx) h->c->zctx = zmq_ctx_new();
    if (!h->probe && h->c->zctx) h->probe = gwc_new(h->c->zctx, h->c->ep.order, timeout_ms);
    if (!h->probe) return false;
    char err[128];
    json_t *reply = gwc_call(h->probe, "health_check", NULL, err, sizeof err);
    const char *status = json_string_value(json_object_get(json_object_get(reply, "data"), "status"));
    bool ok = reply && json_is_true(json_object_get(reply, "success")) && status && !strcmp(status, "healthy");
    json_decref(reply);
    return ok;
}

static void reset_sup(uc_host *h) {
    sup_free(&h->sup);
    sup_detach_db(&h->sup);
    sup_init(&h->sup);
    h->sup.quiet = true;
    h->xc = h->gw = h->ex = h->st = NULL;
    gwc_free(h->probe);
    h->probe = NULL;
}

/* ---- login ---- */

/* The home lock and the system's ports; false (with r) when another aftm holds the home or a
 * port is taken. market receives the exchange's market endpoint. */
static bool claim_home(uc_host *h, char *market, size_t cap, uc_result *r) {
    uc_ctx *c = h->c;
    char holder[32] = "";
    if (h->lock_fd < 0) h->lock_fd = sup_take_home_lock(c->home, holder, sizeof holder);
    if (h->lock_fd == -2) {
        h->lock_fd = -1;
        uc_set(r, UC_FAILED,
               "Login failed: another aftm (pid %s) is already running the trading system on %s. Stop it first "
               "(aftm stop --all), or use another data directory.",
               holder, c->home);
        return false;
    }
    char err[512];
    if (!exchange_market_endpoint(c->ep.exchange, market, cap, err, sizeof err) ||
        !topology_ports_free(&c->ep, market, err, sizeof err)) {
        release_lock(h);
        uc_set(r, UC_FAILED, "Login failed: %s.", err);
        return false;
    }
    return true;
}

/* Starts the simulated exchange and waits for its health answer; false (with r) otherwise. */
static bool start_exchange(uc_host *h, const topo_argv *argv, uc_result *r) {
    h->xc = sup_add(&h->sup, "exchange", argv->argv);
    if (h->xc) log_path(h, "exchange", h->xc->log_path, sizeof h->xc->log_path);
    if (!h->xc || !sup_start(&h->sup, h->xc) ||
        !sup_wait_healthy(&h->sup, h->xc, h->c->ep.exchange, "health", 10000)) {
        char why[200];
        snprintf(why, sizeof why, "%s", h->xc && h->xc->last_error[0] ? h->xc->last_error : "no answer within 10 s");
        sup_stop_all(&h->sup, 3000);
        reset_sup(h);
        release_lock(h);
        uc_set(r, UC_FAILED, "Login failed: the simulated exchange did not start (%s).", why);
        return false;
    }
    sup_mark_ready(&h->sup, h->xc);
    return true;
}

/* Starts the gateway, which logs in to the exchange, and waits until it answers its health check
 * or exits (a refused login). Its log offset at start goes to offset, for the broker's reason. */
static bool gateway_logged_in(uc_host *h, off_t *offset) {
    log_path(h, "gateway", h->gw->log_path, sizeof h->gw->log_path);
    h->gw->wait_ready = true;
    *offset = file_size(h->gw->log_path);
    h->sup.restart = false; /* a gateway that exits during login has answered */
    bool ok = sup_start(&h->sup, h->gw);
    int64_t deadline = clock_mono_ms() + UC_HOST_LOGIN_WAIT_MS;
    bool healthy = false;
    while (ok && !healthy && clock_mono_ms() < deadline) {
        sup_poll(&h->sup);
        if (h->gw->pid == 0) break;
        healthy = probe_health(h, 300);
        if (!healthy) {
            sup_poll(&h->sup);
            if (h->gw->pid == 0) break;
            clock_sleep_ms(50);
        }
    }
    h->sup.restart = true;
    return healthy;
}

/* After a failed login: stops what started and says why, in the broker's words when it refused. */
static void explain_failed_login(uc_host *h, off_t offset, uc_result *r) {
    char why[400];
    bool exited = h->gw->pid == 0;
    int code = h->gw->exit_code;
    char last_error[sizeof h->gw->last_error];
    snprintf(last_error, sizeof last_error, "%s", h->gw->last_error);
    sup_stop_all(&h->sup, 3000);
    last_log_message(h->gw->log_path, offset, why, sizeof why);
    char path[sizeof h->gw->log_path];
    snprintf(path, sizeof path, "%s", h->gw->log_path);
    reset_sup(h);
    release_lock(h);
    if (exited && code == SUP_EXIT_REFUSED)
        uc_set(r, UC_FAILED, "Login failed: %s", why[0] ? why : "the broker refused the account or password.");
    else if (exited)
        uc_set(r, UC_FAILED, "Login failed: the gateway %s%s%s (log: %s).", last_error, why[0] ? ": " : "", why, path);
    else
        uc_set(r, UC_FAILED, "Login failed: the gateway did not answer its health check within %d s (log: %s).",
               UC_HOST_LOGIN_WAIT_MS / 1000, path);
}

bool uc_host_login(uc_host *h, const char *account, const char *password, uc_result *r) {
    uc_ctx *c = h->c;
    if (uc_host_gateway_alive(h)) {
        uc_set(r, UC_PRECONDITION, "Already logged in as %s.", h->account);
        return false;
    }
    char dir[AFTM_PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/logs", c->home);
    mkdir(dir, 0700);
    char market[AFTM_ENDPOINT_MAX];
    if (!claim_home(h, market, sizeof market, r)) return false;

    reset_sup(h);
    sup_attach_db(&h->sup, c->db, h->owner);
    session_info prev;
    if (!session_load(c->db, &prev)) memset(&prev, 0, sizeof prev);
    /* the simulated exchange makes the market and keeps the book; the gateway, logged in to
     * it, is the broker session */
    const char *symbol = c->sim.symbol;
    if (!symbol && !c->sim.ticks && !strcmp(prev.account, account) && prev.item_code[0])
        symbol = prev.item_code; /* the market of the item kept from last time */
    const topology topo = {.home = c->home, .ep = &c->ep, .market = market, .ticks = c->sim.ticks,
                           .speed = c->sim.speed, .seed = c->sim.seed, .rate = c->sim.rate, .symbol = symbol,
                           .gateway_login = account};
    topo_argv xargv, gwargv;
    topology_exchange(&topo, &xargv);
    topology_gateway(&topo, &gwargv);
    if (!start_exchange(h, &xargv, r)) return false;
    h->gw = sup_add(&h->sup, "gateway", gwargv.argv);
    if (!h->gw || !sup_setenv(h->gw, "AFTM_PASSWORD", password)) {
        reset_sup(h);
        release_lock(h);
        uc_set(r, UC_FAILED, "Login failed: out of memory.");
        return false;
    }
    off_t offset;
    if (!gateway_logged_in(h, &offset)) {
        explain_failed_login(h, offset, r);
        return false;
    }
    sup_mark_ready(&h->sup, h->gw);
    snprintf(h->account, sizeof h->account, "%s", account);
    session_login(c->db, account, "sim", clock_wall_s(), NULL);
    h->last_renew_ms = h->last_check_ms = clock_mono_ms();
    h->stopped_once = false;
    uc_set(r, UC_OK, "Logged in as %s on the simulated exchange (gateway pid %d, orders on %s).", account,
           (int)h->gw->pid, c->ep.order);
    return true;
}

/* ---- trading ---- */

static void fill_proc(uc_proc *p, const sup_child *c, const char *name) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    if (!c) {
        snprintf(p->state, sizeof p->state, "stopped");
        return;
    }
    static const char *names[] = {"stopped", "starting", "running", "restarting", "crashed"};
    snprintf(p->state, sizeof p->state, "%s", names[c->state]);
    p->pid = (int)c->pid;
    p->uptime_s = c->pid > 0 ? clock_wall_s() - c->started_wall : 0;
    p->restarts = c->restarts;
    snprintf(p->last_error, sizeof p->last_error, "%s", c->last_error);
}

static void add_trading_children(uc_host *h) {
    uc_ctx *c = h->c;
    const topology topo = {.home = c->home, .ep = &c->ep}; /* the executor takes the session's account */
    topo_argv ex_argv, st_argv;
    if (!h->ex) {
        topology_executor(&topo, &ex_argv);
        h->ex = sup_add(&h->sup, "executor", ex_argv.argv);
        if (h->ex) {
            log_path(h, "executor", h->ex->log_path, sizeof h->ex->log_path);
            h->ex->settle_ms = UC_HOST_SETTLE_MS;
        }
    }
    if (!h->st) {
        topology_strategy(&topo, &st_argv);
        h->st = sup_add(&h->sup, "strategy", st_argv.argv);
        if (h->st) {
            log_path(h, "strategy", h->st->log_path, sizeof h->st->log_path);
            h->st->settle_ms = UC_HOST_SETTLE_MS;
        }
    }
}

bool uc_host_start_trading(uc_host *h, uc_prereqs *p, uc_start_report *rep, uc_result *r) {
    uc_ctx *c = h->c;
    memset(rep, 0, sizeof *rep);
    uc_check_prereqs(c, p);
    if (p->logged_in && uc_host_gateway_alive(h) && h->ex && h->st && sup_child_alive(h->ex) &&
        sup_child_alive(h->st)) {
        rep->already_running = true;
        rep->ok = true;
        fill_proc(&rep->gateway, h->gw, "gateway");
        fill_proc(&rep->executor, h->ex, "executor");
        fill_proc(&rep->strategy, h->st, "strategy");
        uc_set(r, UC_OK, "The trading system is already running.");
        return true;
    }
    if (uc_start_refused(c, p, r)) return false;
    if (!uc_host_gateway_alive(h)) {
        uc_set(r, UC_FAILED, "The broker session (gateway) is not running: log in again (%s).",
               uc_hint(c, HINT_LOGIN));
        return false;
    }
    bool gw_ok = probe_health(h, 1000);
    if (gw_ok) sup_mark_ready(&h->sup, h->gw);
    fill_proc(&rep->gateway, h->gw, "gateway");
    if (!gw_ok) snprintf(rep->gateway.state, sizeof rep->gateway.state, "not answering");
    if (!gw_ok) {
        snprintf(rep->error, sizeof rep->error, "the gateway does not answer its health check");
        uc_set(r, UC_FAILED, "Cannot start: the gateway (broker session) does not answer its health check.");
        return false;
    }
    char err[512];
    if (!(h->ex && h->ex->pid > 0) && !sup_port_free(c->ep.signal, "signals", err, sizeof err)) {
        snprintf(rep->error, sizeof rep->error, "%s", err);
        uc_set(r, UC_FAILED, "Cannot start the executor: %s.", err);
        return false;
    }
    add_trading_children(h);
    if (!h->ex || !h->st) {
        uc_set(r, UC_FAILED, "Cannot start: out of memory.");
        return false;
    }
    off_t ex_off = file_size(h->ex->log_path), st_off = file_size(h->st->log_path);
    h->sup.restart = false; /* an exit while settling is a failure to start, reported now */
    if (!sup_child_alive(h->ex)) h->ex->restarts = 0, sup_start(&h->sup, h->ex);
    if (!sup_child_alive(h->st)) h->st->restarts = 0, sup_start(&h->sup, h->st);
    int64_t deadline = clock_mono_ms() + UC_HOST_SETTLE_MS + 2000;
    while (clock_mono_ms() < deadline &&
           (h->ex->state == CHILD_STARTING || h->st->state == CHILD_STARTING)) {
        clock_sleep_ms(50);
        sup_poll(&h->sup);
    }
    h->sup.restart = true;
    fill_proc(&rep->executor, h->ex, "executor");
    fill_proc(&rep->strategy, h->st, "strategy");
    rep->ok = h->ex->state == CHILD_RUNNING && h->st->state == CHILD_RUNNING;
    if (rep->ok) {
        h->last_renew_ms = clock_mono_ms();
        session_renew(c->db, clock_wall_s());
        uc_set(r, UC_OK, "All system components have been started.");
        return true;
    }
    sup_child *bad = h->ex->state != CHILD_RUNNING ? h->ex : h->st;
    char why[300];
    last_log_message(bad->log_path, bad == h->ex ? ex_off : st_off, why, sizeof why);
    snprintf(rep->error, sizeof rep->error, "the %s %s%s%s", bad->name,
             bad->last_error[0] ? bad->last_error : "did not start", why[0] ? ": " : "", why);
    sup_child *both[2] = {h->st, h->ex};
    sup_stop(&h->sup, both, 2, 3000);
    fill_proc(&rep->executor, h->ex, "executor");
    fill_proc(&rep->strategy, h->st, "strategy");
    if (h->ex == bad) snprintf(rep->executor.state, sizeof rep->executor.state, "crashed");
    else snprintf(rep->strategy.state, sizeof rep->strategy.state, "crashed");
    uc_set(r, UC_FAILED, "Failed to start all system components: %s (log: %s).", rep->error, bad->log_path);
    return false;
}

bool uc_host_stop_trading(uc_host *h) {
    sup_child *list[2];
    int n = 0;
    bool was = uc_host_trading(h);
    if (h->st) list[n++] = h->st; /* the strategy first: no new signals while the executor drains */
    if (h->ex) list[n++] = h->ex;
    if (n) sup_stop(&h->sup, list, n, 5000);
    return was;
}

void uc_host_stop_all(uc_host *h, bool logout) {
    bool had_gateway = h->gw != NULL;
    if (h->sup.n) sup_stop_all(&h->sup, 5000);
    reset_sup(h); /* wipes the password */
    release_lock(h);
    if (logout && had_gateway) session_logout(h->c->db);
    h->account[0] = '\0';
}

void uc_host_free(uc_host *h) {
    if (!h) return;
    if (!h->stopped_once && uc_host_owns_anything(h)) uc_host_stop_all(h, true);
    h->stopped_once = true;
    reset_sup(h);
    release_lock(h);
    free(h);
}

/* ---- supervision ---- */

static void serve_request(uc_host *h, long long seq, const char *req) {
    char result[600];
    if (!strcmp(req, "stop_trading")) {
        bool was = uc_host_stop_trading(h);
        snprintf(result, sizeof result, was ? "Stopped the strategy and the executor." : "Nothing was trading.");
        notice(h, "%s (asked from another shell)", was ? "The trading system was stopped" : "A stop was asked");
    } else if (!strcmp(req, "stop_all") || !strcmp(req, "logout")) {
        bool was = uc_host_owns_anything(h);
        uc_host_stop_all(h, true);
        snprintf(result, sizeof result, was ? "Stopped the strategy, the executor and the gateway; logged out."
                                            : "Nothing was running.");
        if (was) notice(h, "Logged out from another shell: the trading system and the gateway are stopped.");
    } else if (!strcmp(req, "start_trading")) {
        uc_prereqs p;
        uc_start_report rep;
        uc_result r;
        uc_host_start_trading(h, &p, &rep, &r);
        json_t *j = json_pack("{s:i,s:s,s:b,s:b,s:b,s:b,s:b,s:b,s:s,s:s,s:s,s:i,s:i,s:i}", "status", (int)r.st, "message",
                              r.msg, "logged_in", p.logged_in, "item_registered", p.item_registered,
                              "account_selected", p.account_selected, "has_conditions", p.has_conditions, "ok",
                              rep.ok, "already_running", rep.already_running, "gateway", rep.gateway.state, "executor",
                              rep.executor.state, "strategy", rep.strategy.state, "executor_pid", rep.executor.pid,
                              "strategy_pid", rep.strategy.pid, "gateway_pid", rep.gateway.pid);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        snprintf(result, sizeof result, "%s", s ? s : "{}");
        free(s);
        json_decref(j);
        if (rep.ok && !rep.already_running) notice(h, "The trading system was started from another shell.");
    } else {
        snprintf(result, sizeof result, "Unknown request '%s'.", req);
    }
    host_request_finish(h->c->db, seq, result);
}

void uc_host_poll(uc_host *h) {
    uc_ctx *c = h->c;
    long long seq;
    char req[64];
    if (h->sup.db && host_request_next(c->db, h->seen_req, &seq, req, sizeof req)) {
        h->seen_req = seq;
        serve_request(h, seq, req);
    }
    if (!h->sup.n) return;
    child_state before[4];
    for (int i = 0; i < h->sup.n; i++) before[i] = h->sup.children[i].state;
    sup_poll(&h->sup);
    for (int i = 0; i < h->sup.n; i++) {
        sup_child *ch = &h->sup.children[i];
        if (ch->state == before[i]) continue;
        if (ch->state == CHILD_BACKOFF)
            notice(h, "The %s stopped unexpectedly (%s); restarting it.", ch->name, ch->last_error);
        else if (ch->state == CHILD_FAILED)
            notice(h, "The %s stopped unexpectedly (%s) and is not restarted.", ch->name, ch->last_error);
        else if (before[i] == CHILD_BACKOFF && sup_child_alive(ch))
            notice(h, "The %s was restarted (restart #%d).", ch->name, ch->restarts);
    }
    if (h->gw && h->gw->state == CHILD_STARTING && probe_health(h, 300)) sup_mark_ready(&h->sup, h->gw);
    if (h->gw && h->gw->state == CHILD_FAILED) {
        /* No broker session any more: nothing may trade on it. */
        bool trading = uc_host_trading(h);
        char why[160];
        snprintf(why, sizeof why, "%s", h->gw->last_error);
        uc_host_stop_all(h, true);
        notice(h, "The broker session ended: the gateway %s.%s Log in again (%s).", why,
               trading ? " Trading was stopped." : "", uc_hint(c, HINT_LOGIN));
        return;
    }
    int64_t now = clock_mono_ms();
    if (uc_host_trading(h) && now - h->last_renew_ms >= RENEW_EVERY_MS) {
        session_renew(c->db, clock_wall_s()); /* trading is using the session */
        h->last_renew_ms = now;
    }
    if (h->gw && now - h->last_check_ms >= CHECK_EVERY_MS) {
        h->last_check_ms = now;
        session_info s;
        if (session_load(c->db, &s) && session_state_at(&s, clock_wall_s()) == SESSION_EXPIRED) {
            uc_host_stop_all(h, false); /* the row stays as it is: everyone reads "expired" */
            notice(h, "The session of %s expired: the gateway is stopped. Log in again (%s).", s.account,
                   uc_hint(c, HINT_LOGIN));
        }
    }
}

/* ---- the background session of 'aftm login' ---- */

extern char **environ;

/* The environment of the background session: this one's, with the password added (and any
 * inherited AFTM_PASSWORD left out). NULL when out of memory; *pw is the entry to wipe after. */
static char **session_environment(const char *password, char **pw, size_t *pwlen) {
    size_t ne = 0;
    while (environ[ne]) ne++;
    char **envp = calloc(ne + 2, sizeof *envp);
    *pwlen = strlen(password) + sizeof "AFTM_PASSWORD=";
    *pw = malloc(*pwlen);
    if (!envp || !*pw) {
        free(envp);
        free(*pw);
        *pw = NULL;
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "AFTM_PASSWORD=", 14) != 0) envp[k++] = environ[i];
    snprintf(*pw, *pwlen, "AFTM_PASSWORD=%s", password);
    envp[k++] = *pw;
    envp[k] = NULL;
    return envp;
}

/* Reads the session's one-line JSON answer from fd, waiting up to the login's time. */
static json_t *read_session_answer(int fd) {
    char buf[2048];
    size_t got = 0;
    int64_t deadline = clock_mono_ms() + UC_HOST_LOGIN_WAIT_MS + 10000;
    while (got < sizeof buf - 1 && !memchr(buf, '\n', got)) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) break;
        struct pollfd pfd = {fd, POLLIN, 0};
        int pn = poll(&pfd, 1, (int)left);
        if (pn < 0 && errno == EINTR) continue;
        if (pn <= 0) break;
        ssize_t m = read(fd, buf + got, sizeof buf - 1 - got);
        if (m <= 0) break;
        got += (size_t)m;
    }
    buf[got] = '\0';
    json_error_t jerr;
    return json_loads(buf, JSON_DISABLE_EOF_CHECK, &jerr);
}

bool uc_host_spawn_login(uc_ctx *c, const char *account, const char *password, uc_result *r) {
    char dir[AFTM_PATH_MAX + 8], logfile[AFTM_PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/logs", c->home);
    mkdir(dir, 0700);
    snprintf(logfile, sizeof logfile, "%s/session.log", dir);
    int fds[2];
    if (pipe(fds) != 0) {
        uc_set(r, UC_FAILED, "Login failed: cannot create a pipe: %s.", strerror(errno));
        return false;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    int logfd = open(logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* Everything the child needs is built before the fork. */
    char fdtext[16];
    snprintf(fdtext, sizeof fdtext, "%d", fds[1]);
    const char *argv[SUP_MAX_ARGS] = {sup_self_path(), "session-host", "--account", account, "--status-fd", fdtext,
                                      "--home", c->home};
    int n = 8;
    if (c->sim.ticks) argv[n++] = "--ticks", argv[n++] = c->sim.ticks;
    if (c->sim.speed) argv[n++] = "--speed", argv[n++] = c->sim.speed;
    if (c->sim.seed) argv[n++] = "--seed", argv[n++] = c->sim.seed;
    if (c->sim.rate) argv[n++] = "--rate", argv[n++] = c->sim.rate;
    if (c->sim.symbol) argv[n++] = "--symbol", argv[n++] = c->sim.symbol;
    argv[n] = NULL;
    char *pw;
    size_t pwlen;
    char **envp = session_environment(password, &pw, &pwlen);
    pid_t pid = -1;
    if (envp) {
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid == 0) {
            setsid(); /* its own session: closing this terminal does not end it */
            if (logfd >= 0) dup2(logfd, STDOUT_FILENO), dup2(logfd, STDERR_FILENO);
            if (nullfd >= 0) dup2(nullfd, STDIN_FILENO);
            const char **args = argv;
            char *const *exec_argv;
            memcpy(&exec_argv, &args, sizeof exec_argv); /* execve's argv is not const, but it is not written */
            execve(argv[0], exec_argv, envp);
            _exit(127);
        }
        memset(pw, 0, pwlen);
        free(pw);
        free(envp);
    }
    close(fds[1]);
    if (logfd >= 0) close(logfd);
    if (nullfd >= 0) close(nullfd);
    if (pid < 0) {
        close(fds[0]);
        if (!envp) uc_set(r, UC_FAILED, "Login failed: out of memory.");
        else uc_set(r, UC_FAILED, "Login failed: cannot start the background session: %s.", strerror(errno));
        return false;
    }
    json_t *j = read_session_answer(fds[0]);
    close(fds[0]);
    if (!j) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == 0) kill(pid, SIGTERM);
        uc_set(r, UC_FAILED, "Login failed: the background session did not answer (log: %s).", logfile);
        return false;
    }
    bool ok = json_is_true(json_object_get(j, "ok"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    uc_set(r, ok ? UC_OK : (uc_status)json_integer_value(json_object_get(j, "status")), "%s", msg ? msg : "");
    json_decref(j);
    if (!ok) waitpid(pid, NULL, WNOHANG);
    return ok;
}

int uc_host_daemon(uc_ctx *c, const char *account, int status_fd) {
    if (status_fd >= 0) fcntl(status_fd, F_SETFD, FD_CLOEXEC); /* not inherited by the gateway */
    char password[UC_PASSWORD_MAX + 2] = "";
    char *env = getenv("AFTM_PASSWORD");
    if (env) {
        snprintf(password, sizeof password, "%s", env);
        memset(env, 0, strlen(env)); /* also gone from /proc/<pid>/environ */
    }
    unsetenv("AFTM_PASSWORD");
    log_set_name("session");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);

    uc_host *h = c->host = uc_host_new(c, "login");
    uc_result r;
    bool ok = h && uc_host_login(h, account, password, &r);
    memset(password, 0, sizeof password);
    if (!h) uc_set(&r, UC_FAILED, "Login failed: out of memory.");
    json_t *j = json_pack("{s:b,s:i,s:s}", "ok", ok, "status", (int)r.st, "message", r.msg);
    char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (status_fd >= 0) {
        if (line) {
            (void)!write(status_fd, line, strlen(line));
            (void)!write(status_fd, "\n", 1);
        }
        close(status_fd);
    }
    free(line);
    log_msg(ok ? LOG_INFO : LOG_ERROR, "%s", r.msg);
    if (!ok) return 1;
    while (uc_host_owns_anything(h)) {
        struct timespec ts = {0, 250 * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig > 0) {
            log_info("signal %d: stopping the trading system and the gateway", sig);
            uc_host_stop_all(h, true);
            break;
        }
        uc_host_poll(h);
        char notes[MAX_NOTICES][320];
        uc_host_notices(h, notes, MAX_NOTICES); /* already logged */
    }
    log_info("session of %s ended", account);
    return 0;
}
