/* The pipeline with real processes: this program publishes ticks (PUB, paced, SNDHWM 1000),
 * `aftm strategy` subscribes, evaluates the DESIGN §9 workload and pushes signals to this
 * program's PULL. Each aftm measurement is interleaved with the same measurement on the bare
 * libzmq floor (the nodes of bench/floor.c, as child processes), so both see the same machine
 * load and their ratio means something on a noisy VM:
 *   - max sustained tick rate with 0 drops, at 1 / 10 / 100 / 1,000 conditions, against the
 *     PUB -> SUB floor (the two rate searches advance in turns, trial by trial);
 *   - tick -> signal latency p50 / p99 / max at 1,000 and 10,000 ticks/s, at 1,000 and 10,000
 *     conditions, against the two-hop floor PUB -> relay -> PUSH -> PULL (alternating runs);
 *   - the strategy's peak RSS (VmHWM) at 1,000 and 10,000 conditions.
 *
 * Drops are judged by the signals: every tick has a unique `when`, which its signals carry;
 * this program runs the same workload through the same engine in process to know which ticks
 * must produce which signals. An aftm trial passes when exactly the predicted signals arrived,
 * each for the predicted tick, the last of them within 50 ms of the last publish, and the
 * publisher kept its pace. (A dropped tick that would have produced no signal and changed no
 * state is invisible this way; drops come in bursts when a queue overflows, and with 10 or more
 * conditions about half the ticks carry a signal.) After a failed trial the strategy is
 * restarted on a fresh database, so every trial starts from a known state.
 *
 * The strategy runs as `aftm strategy --wire original --rearm --quiet`: entries taken as filled
 * at once (there is no executor here to report fills) and each condition re-created after its
 * exit, so the condition count stays constant. Its conditions come from
 * `aftm condition import FILE.json --symbol TXFF5 --home DIR` (the original's conditions.json
 * format). Joining is detected with one extra condition on another symbol (ZJOIN) that fires on
 * probe ticks.
 *
 * The links are plain text (the strategy runs with --insecure) unless AFTM_BENCH_CURVE=1: then
 * this program's PUB and PULL are CURVE servers with the gateway's and the executor's keys of
 * one key set made for the run, which every strategy home gets a copy of, and the strategy
 * runs as it does by default, with CURVE: the cost of CURVE on the tick -> signal latency.
 * AFTM_BENCH_LATENCY_ONLY=1 measures the latency at 1,000 conditions only; AFTM_BENCH_KEY
 * names the results' prefix (default "pipeline").
 *
 * Usage: pipeline AFTM_BINARY [RESULTS_FILE|-] [TRIAL_SECONDS] [LATENCY_SECONDS] */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "domain/strategy.h"
#include "net/curve.h"
#include "zbench.h"

#define JOIN_SYMBOL "ZJOIN"

static const char *g_aftm;
static FILE *g_out;

static int run_quiet(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- the model: the same workload in process, to predict the signals --------------------- */

typedef struct {
    strategy_engine *e;
    int64_t next_id;
    uint32_t buy, sell; /* signals of the current tick */
} model;

static void model_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    (void)price;
    model *m = ctx;
    if (ev & COND_ENTRY) (*(c->side == SIDE_BUY ? &m->buy : &m->sell))++;
    if (ev & (COND_EXIT_TP | COND_EXIT_SL)) {
        (*(c->side == SIDE_BUY ? &m->sell : &m->buy))++;
        condition again;
        condition_init(&again, m->next_id++, c->symbol, c->side, c->base_trigger, c->turning_point, c->quantity,
                       c->take_profit_point, c->stop_loss_point, c->is_following);
        strategy_add(m->e, &again);
    }
}

static void model_reset(model *m, int n) {
    if (m->e) strategy_free(m->e);
    m->e = strategy_new(true);
    for (int i = 0; i < n; i++) {
        condition c;
        wl_condition(&c, i, i + 1);
        strategy_add(m->e, &c);
    }
    m->next_id = n + 1;
}

/* ---- CURVE (AFTM_BENCH_CURVE=1) ------------------------------------------------------------ */

static bool g_curve;
static char g_keys_home[64]; /* holds keys/: copied into every strategy home */
static curve_pair g_gw_pair, g_ex_pair;
static const char *g_key = "pipeline";

static bool curve_setup(void) {
    snprintf(g_keys_home, sizeof g_keys_home, "/tmp/aftm-bench-keys.XXXXXX");
    char err[512];
    if (!mkdtemp(g_keys_home) || !curve_keys_ensure(g_keys_home, false, NULL, err, sizeof err) ||
        !curve_pair_load(g_keys_home, ROLE_GATEWAY, &g_gw_pair, err, sizeof err) ||
        !curve_pair_load(g_keys_home, ROLE_EXECUTOR, &g_ex_pair, err, sizeof err)) {
        fprintf(stderr, "pipeline: cannot make the CURVE keys: %s\n", err);
        return false;
    }
    static curve_pair relay; /* the floor's relay: CURVE on both hops too, as a strategy */
    if (!curve_pair_load(g_keys_home, ROLE_STRATEGY, &relay, err, sizeof err)) return false;
    zb_relay_public = relay.public_key;
    zb_relay_secret = relay.secret_key;
    zb_relay_sub_server = g_gw_pair.public_key;
    zb_relay_push_server = g_ex_pair.public_key;
    return true;
}

/* A bound socket as zb_socket makes it, a CURVE server with pair's secret key when g_curve. */
static void *bench_server(void *ctx, int type, const char *endpoint, const curve_pair *pair) {
    if (!g_curve) return zb_socket(ctx, type, endpoint, true);
    void *s = zmq_socket(ctx, type);
    int one = 1;
    zb_setint(s, ZMQ_LINGER, 0);
    zb_setint(s, type == ZMQ_PUB ? ZMQ_SNDHWM : ZMQ_RCVHWM, HWM);
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, pair->secret_key, CURVE_KEY_Z85) != 0 || zmq_bind(s, endpoint) != 0) {
        fprintf(stderr, "pipeline: CURVE server on %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        exit(1);
    }
    return s;
}

/* ---- the strategy process ----------------------------------------------------------------- */

typedef struct {
    int nconds;
    char home[256];
    char ep_tick[64], ep_sig[64];
    pid_t pid;
    int restarts;
} strat_proc;

static bool strat_start(strat_proc *sp) {
    snprintf(sp->home, sizeof sp->home, "/tmp/aftm-bench-pipeline.XXXXXX");
    if (!mkdtemp(sp->home)) return false;
    char conds[300], join[300], log[300];
    snprintf(conds, sizeof conds, "%s/conditions.json", sp->home);
    snprintf(join, sizeof join, "%s/join.json", sp->home);
    snprintf(log, sizeof log, "%s/bench.log", sp->home);
    if (!wl_write_json(conds, sp->nconds, 0xbe4c0001u)) return false;
    FILE *f = fopen(join, "w");
    if (!f) return false;
    /* BUY trigger 100, order 101, TP 102: probe ticks 100, 101, 102 give an entry and an exit */
    fputs("[{\"condition_id\": \"be4c0002-0000-4000-8000-000000000000\", \"action\": \"BUY\", "
          "\"trigger_price\": 100, \"quantity\": 1, \"turning_point\": 1, \"take_profit_point\": 1, "
          "\"stop_loss_point\": 1, \"take_profit_price\": 102, \"stop_loss_price\": 100, \"order_price\": 101, "
          "\"is_following\": false, \"is_trigger\": false, \"is_ordered\": false, \"is_exited\": false}]\n",
          f);
    fclose(f);
    if (g_curve && run_quiet("cp -rp '%s/keys' '%s/keys'", g_keys_home, sp->home) != 0) return false;
    if (run_quiet("'%s' condition import '%s' --symbol %s --home '%s' >>'%s' 2>&1", g_aftm, conds, WL_SYMBOL, sp->home,
                  log) != 0 ||
        run_quiet("'%s' condition import '%s' --symbol %s --home '%s' >>'%s' 2>&1", g_aftm, join, JOIN_SYMBOL, sp->home,
                  log) != 0) {
        fprintf(stderr, "pipeline: aftm condition import failed (see %s)\n", log);
        return false;
    }
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        char slog[300];
        snprintf(slog, sizeof slog, "%s/strategy.log", sp->home);
        int fd = open(slog, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(g_aftm, "aftm", "strategy", "--tick-endpoint", sp->ep_tick, "--signal-endpoint", sp->ep_sig, "--home",
              sp->home, "--wire", "original", "--rearm", "--quiet", g_curve ? NULL : "--insecure", (char *)NULL);
        _exit(127);
    }
    sp->pid = pid;
    return true;
}

static void strat_stop(strat_proc *sp, bool keep_home) {
    if (sp->pid > 0) {
        kill(sp->pid, SIGTERM);
        bool gone = false;
        for (int i = 0; i < 300 && !gone; i++) {
            gone = waitpid(sp->pid, NULL, WNOHANG) == sp->pid;
            if (!gone) sleep_ms(10);
        }
        if (!gone) {
            kill(sp->pid, SIGKILL);
            waitpid(sp->pid, NULL, 0);
        }
        sp->pid = 0;
    }
    if (!keep_home && sp->home[0]) run_quiet("rm -rf '%s'", sp->home);
}

/* ---- one bench session: publisher, collector, strategy, model ----------------------------- */

typedef struct {
    void *ctx, *pub, *pull;
    zb_collector col;
    zb_publisher p, probe;
    strat_proc sp;
    model m;
    uint64_t t; /* next tick of the price path */
    zb_floor_sub fsub;     /* PUB -> SUB floor */
    zb_floor_relay frelay; /* two-hop floor, pushing to the same PULL */
    zb_publisher fp;       /* its publisher */
} session;

/* Probe ticks until a ZJOIN signal comes back: the strategy is subscribed and connected. */
static bool join(session *s) {
    static const price_t probe[] = {100, 101, 102};
    for (int i = 0; i < 1000; i++) {
        zb_publish_tick(&s->probe, probe[i % 3]);
        sleep_ms(10);
        size_t n = atomic_load(&s->col.n);
        for (size_t k = 0; k < n; k++)
            if (s->col.v[k].src == ZB_SRC_OTHER) {
                sleep_ms(50);
                return true;
            }
        int status;
        if (waitpid(s->sp.pid, &status, WNOHANG) == s->sp.pid) {
            fprintf(stderr, "pipeline: aftm strategy exited early (status %d); the end of its log:\n", status);
            run_quiet("tail -5 '%s/strategy.log' >&2", s->sp.home);
            s->sp.pid = 0;
            return false;
        }
    }
    fprintf(stderr, "pipeline: aftm strategy never answered the probe ticks\n");
    return false;
}

static bool session_restart(session *s) {
    for (int attempt = 0; attempt < 3; attempt++) { /* a transient failure is retried */
        strat_stop(&s->sp, false);
        atomic_store(&s->col.n, 0);
        if (!strat_start(&s->sp)) continue;
        s->sp.restarts++;
        if (!join(s)) continue;
        model_reset(&s->m, s->sp.nconds);
        s->t = 0;
        atomic_store(&s->col.n, 0);
        return true;
    }
    return false;
}

typedef struct {
    bool pass, paced, drained, exact;
    uint64_t sent, expected, received, unexpected, missing, misplaced;
    double drain_ms, achieved;
    zb_lat lat;
    size_t collected; /* signals in the collector after the run */
} run_result;

static int cmp_when(const void *key, const void *elem) {
    double k = *(const double *)key, e = *(const double *)elem;
    return (k > e) - (k < e);
}

/* Publishes n ticks at rate, then checks what came back against the model. */
static run_result run_ticks(session *s, double rate, uint64_t n) {
    run_result r;
    memset(&r, 0, sizeof r);
    uint32_t *exp_b = calloc(n, sizeof *exp_b), *exp_s = calloc(n, sizeof *exp_s);
    uint32_t *got_b = calloc(n, sizeof *got_b), *got_s = calloc(n, sizeof *got_s);
    double *whens = calloc(n, sizeof *whens);
    if (!exp_b || !exp_s || !got_b || !got_s || !whens) exit(1);
    for (uint64_t i = 0; i < n; i++) {
        s->m.buy = s->m.sell = 0;
        strategy_on_tick(s->m.e, WL_SYMBOL, wl_price(s->t + i), model_event, &s->m);
        exp_b[i] = s->m.buy;
        exp_s[i] = s->m.sell;
        r.expected += s->m.buy + s->m.sell;
    }
    atomic_store(&s->col.n, 0);
    zb_paced_result pr = zb_publish_paced(&s->p, rate, n, s->t, whens);
    s->t += n;
    r.sent = n;
    r.achieved = pr.achieved;
    r.paced = pr.achieved >= 0.97 * rate;
    /* wait for the predicted signals: the verdict at 50 ms, the count up to 1 s */
    int64_t deadline = pr.last_ns + 1000000000;
    int64_t done_at = -1;
    for (;;) {
        size_t k = atomic_load(&s->col.n), mine = 0;
        for (size_t i = 0; i < k; i++) mine += s->col.v[i].src == ZB_SRC_WORKLOAD;
        if (mine >= r.expected) {
            int64_t last = pr.first_ns;
            for (size_t i = 0; i < k; i++)
                if (s->col.v[i].src == ZB_SRC_WORKLOAD && s->col.v[i].mono > last) last = s->col.v[i].mono;
            done_at = last;
            break;
        }
        if (now_ns(CLOCK_MONOTONIC) > deadline) break;
        sleep_ms(2);
    }
    sleep_ms(30); /* anything extra */
    size_t k = atomic_load(&s->col.n);
    for (size_t i = 0; i < k; i++) {
        const zb_sig *g = &s->col.v[i];
        if (g->src != ZB_SRC_WORKLOAD) continue;
        r.received++;
        const double *hit = bsearch(&g->when, whens, n, sizeof *whens, cmp_when);
        if (!hit) {
            r.unexpected++;
            continue;
        }
        size_t j = (size_t)(hit - whens);
        (g->side == WIRE_BUY ? got_b : got_s)[j]++;
    }
    r.exact = r.unexpected == 0;
    for (uint64_t i = 0; i < n; i++) {
        if (got_b[i] != exp_b[i] || got_s[i] != exp_s[i]) {
            r.exact = false;
            r.misplaced++;
        }
        if (got_b[i] < exp_b[i]) r.missing += exp_b[i] - got_b[i];
        if (got_s[i] < exp_s[i]) r.missing += exp_s[i] - got_s[i];
    }
    r.drain_ms = done_at >= 0 ? (double)(done_at - pr.last_ns) / 1e6 : -1;
    r.drained = done_at >= 0 && r.drain_ms <= 50;
    r.pass = r.exact && r.drained && r.paced;
    r.lat = zb_latency(&s->col, 0, k, ZB_SRC_WORKLOAD);
    r.collected = k;
    free(exp_b);
    free(exp_s);
    free(got_b);
    free(got_s);
    free(whens);
    return r;
}

/* The floor's relay run: n ticks at rate through PUB -> relay -> PUSH -> PULL; latencies are
 * appended to *v. Returns the number of signals that did not come back. */
static uint64_t floor_relay_run(session *s, double rate, uint64_t n, double **v, size_t *nv) {
    atomic_store(&s->col.n, 0);
    zb_publish_paced(&s->fp, rate, n, 0, NULL);
    int64_t until = now_ns(CLOCK_MONOTONIC) + 500000000;
    size_t k;
    for (;;) {
        k = atomic_load(&s->col.n);
        size_t mine = 0;
        for (size_t i = 0; i < k; i++) mine += s->col.v[i].src == ZB_SRC_FLOOR;
        if (mine >= n || now_ns(CLOCK_MONOTONIC) > until) break;
        sleep_ms(5);
    }
    size_t before = *nv;
    zb_latency_collect(&s->col, 0, k, ZB_SRC_FLOOR, v, nv);
    return n > *nv - before ? n - (*nv - before) : 0;
}

static bool session_open(session *s, int nconds) {
    memset(s, 0, sizeof *s);
    snprintf(s->sp.ep_tick, sizeof s->sp.ep_tick, "tcp://127.0.0.1:%d", zb_free_port());
    snprintf(s->sp.ep_sig, sizeof s->sp.ep_sig, "tcp://127.0.0.1:%d", zb_free_port());
    s->sp.nconds = nconds;
    /* the floor's children first: this process has no context and no other thread yet */
    zb_floor_sub_fork(&s->fsub);
    zb_floor_relay_fork(&s->frelay, s->sp.ep_sig);
    s->ctx = zmq_ctx_new();
    s->pub = bench_server(s->ctx, ZMQ_PUB, s->sp.ep_tick, &g_gw_pair);
    s->pull = bench_server(s->ctx, ZMQ_PULL, s->sp.ep_sig, &g_ex_pair);
    zb_collector_start(&s->col, s->pull, 2000000);
    s->p = (zb_publisher){s->pub, WL_SYMBOL, 0};
    s->probe = (zb_publisher){s->pub, JOIN_SYMBOL, 0};
    if (!zb_floor_sub_join(&s->fsub, s->ctx)) {
        fprintf(stderr, "pipeline: the floor subscriber never joined\n");
        return false;
    }
    s->frelay.pub = bench_server(s->ctx, ZMQ_PUB, s->frelay.ep, &g_gw_pair);
    s->fp = (zb_publisher){s->frelay.pub, ZB_FLOOR_SYMBOL, 0};
    bool joined = false;
    for (int i = 0; i < 500 && !joined; i++) {
        zb_publish_tick(&s->fp, WL_P0);
        sleep_ms(10);
        size_t k = atomic_load(&s->col.n);
        for (size_t j = 0; j < k; j++) joined |= s->col.v[j].src == ZB_SRC_FLOOR;
    }
    if (!joined) {
        fprintf(stderr, "pipeline: the floor relay never joined\n");
        return false;
    }
    s->sp.restarts = -1;
    if (!session_restart(s)) return false;
    /* warm-up: three periods at 1,000 ticks/s (the first exits are also written to the database) */
    run_result w = run_ticks(s, 1000, WL_PERIOD * 3);
    if (!w.exact) {
        fprintf(stderr, "pipeline: warm-up at %d conditions: %llu signals expected, %llu received, %llu unexpected; "
                        "see %s/strategy.log\n",
                nconds, (unsigned long long)w.expected, (unsigned long long)w.received,
                (unsigned long long)w.unexpected, s->sp.home);
        return false;
    }
    return true;
}

static void session_close(session *s, bool keep_home) {
    strat_stop(&s->sp, keep_home);
    if (s->fsub.pub) zb_floor_sub_close(&s->fsub);
    if (s->frelay.pub) {
        for (int i = 0; i < 5; i++) zb_send2(s->frelay.pub, "QUIT", "", 0);
        sleep_ms(20);
        zmq_close(s->frelay.pub);
    }
    zb_collector_stop(&s->col);
    zmq_close(s->pub);
    zmq_close(s->pull);
    zmq_ctx_term(s->ctx);
    zb_floor_sub_reap(&s->fsub); /* each gets QUIT above; killed if it does not go */
    zb_reap(s->frelay.pid);
    if (s->m.e) strategy_free(s->m.e);
}

static bool g_broken; /* the strategy could not be restarted: stop this search */

static double g_cpu_per_tick; /* CPU µs per tick of the last trial's receiving process */

/* µs of CPU per tick between two readings of zb_proc_cpu_us; -1 if either is unknown. */
static double cpu_per_tick(int64_t before, int64_t after, double ticks) {
    return before < 0 || after < 0 || ticks <= 0 ? -1 : (double)(after - before) / ticks;
}

static bool trial(session *s, double rate, double secs) {
    if (g_broken) return false;
    int64_t cpu0 = zb_proc_cpu_us(s->sp.pid);
    run_result r = run_ticks(s, rate, (uint64_t)(rate * secs));
    g_cpu_per_tick = cpu_per_tick(cpu0, zb_proc_cpu_us(s->sp.pid), (double)r.sent);
    printf("  %6d conditions %8.0f ticks/s: %llu ticks, signals %llu of %llu, %llu tick(s) with other signals than "
           "predicted, drained %+.1f ms, publisher %.0f/s: %s\n",
           s->sp.nconds, rate, (unsigned long long)r.sent, (unsigned long long)r.received,
           (unsigned long long)r.expected, (unsigned long long)r.misplaced, r.drain_ms, r.achieved,
           r.pass ? "pass" : "FAIL");
    if (!r.pass && !session_restart(s)) {
        fprintf(stderr, "pipeline: could not restart aftm strategy (see %s/strategy.log)\n", s->sp.home);
        g_broken = true;
    }
    sleep_ms(100);
    return r.pass;
}

static bool floor_trial(session *s, double rate, double secs, const char *label) {
    int64_t cpu0 = zb_proc_cpu_us(s->fsub.pid);
    bool ok = zb_floor_sub_trial(&s->fsub, rate, secs, label);
    g_cpu_per_tick = cpu_per_tick(cpu0, zb_proc_cpu_us(s->fsub.pid), rate * secs);
    return ok;
}

/* What bounds the rate: the CPU each receiver spends per tick (all its threads: ZeroMQ's I/O
 * thread, the loop, and for aftm the signals it sends and its database writer), both at the
 * same rate, aftm's maximum, one trial each. */
static void cpu_at(session *s, double rate, double secs, double *aftm_us, double *floor_us) {
    *aftm_us = *floor_us = -1;
    if (rate <= 0 || g_broken) return;
    floor_trial(s, rate, secs, "  floor, CPU per tick");
    *floor_us = g_cpu_per_tick;
    trial(s, rate, secs);
    *aftm_us = g_cpu_per_tick;
    printf("  CPU per tick at %.0f ticks/s: aftm strategy %.2f us, floor subscriber %.2f us\n", rate, *aftm_us,
           *floor_us);
}

/* The aftm search and the floor search advance in turns, one trial each. */
static void paired_search(session *s, double secs, double *aftm_max, double *floor_max) {
    zb_search a, f;
    zb_search_init(&a, 20000, 3);
    zb_search_init(&f, 20000, 3);
    double rate;
    char label[32];
    snprintf(label, sizeof label, "  floor, %5d conditions' turn", s->sp.nconds);
    while ((zb_search_next(&a) > 0 || zb_search_next(&f) > 0) && !g_broken) {
        if ((rate = zb_search_next(&f)) > 0) zb_search_report(&f, floor_trial(s, rate, secs, label));
        if ((rate = zb_search_next(&a)) > 0) zb_search_report(&a, trial(s, rate, secs));
    }
    *aftm_max = a.pass;
    *floor_max = f.pass;
}

/* Latency at each rate: three alternating rounds of floor relay and aftm, samples pooled. */
static void latency_runs(session *s, double secs) {
    static const double rates[] = {1000, 10000};
    for (int i = 0; i < 2; i++) {
        double rate = rates[i], *fv = NULL, *av = NULL;
        size_t fn = 0, an = 0;
        uint64_t flost = 0, missing = 0, unexpected = 0;
        bool exact = true;
        uint64_t n = (uint64_t)(rate * secs / 3);
        for (int round = 0; round < 3; round++) {
            flost += floor_relay_run(s, rate, n, &fv, &fn);
            sleep_ms(50);
            run_result r = run_ticks(s, rate, n);
            zb_latency_collect(&s->col, 0, r.collected, ZB_SRC_WORKLOAD, &av, &an);
            missing += r.missing;
            unexpected += r.unexpected;
            if (!r.exact) {
                exact = false;
                session_restart(s);
            }
            sleep_ms(50);
        }
        zb_lat fl = zb_latency_of(fv, fn), al = zb_latency_of(av, an);
        printf("%s: %d conditions at %.0f ticks/s: tick->signal p50 %.0f us, p99 %.0f us, max %.0f us "
               "(%zu signals; %llu missing, %llu unexpected); floor two hops p50 %.0f us, p99 %.0f us, max %.0f us "
               "(%llu lost)\n",
               g_key, s->sp.nconds, rate, al.p50, al.p99, al.max, al.n, (unsigned long long)missing,
               (unsigned long long)unexpected, fl.p50, fl.p99, fl.max, (unsigned long long)flost);
        if (g_out) {
            char kl[64], kf[64];
            snprintf(kl, sizeof kl, "%s.lat", g_key);
            snprintf(kf, sizeof kf, "%s.floor_lat", g_key);
            const char *k = kl;
            int c = s->sp.nconds;
            fprintf(g_out, "%s.%d.%.0f.p50 %.1f\n%s.%d.%.0f.p99 %.1f\n%s.%d.%.0f.max %.1f\n%s.%d.%.0f.exact %d\n", k, c,
                    rate, al.p50, k, c, rate, al.p99, k, c, rate, al.max, k, c, rate, exact);
            k = kf;
            fprintf(g_out, "%s.%d.%.0f.p50 %.1f\n%s.%d.%.0f.p99 %.1f\n%s.%d.%.0f.max %.1f\n", k, c, rate, fl.p50, k, c,
                    rate, fl.p99, k, c, rate, fl.max);
        }
        free(fv);
        free(av);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: pipeline AFTM_BINARY [RESULTS_FILE|-] [TRIAL_SECONDS] [LATENCY_SECONDS]\n");
        return 2;
    }
    g_aftm = argv[1];
    g_out = argc > 2 && strcmp(argv[2], "-") ? fopen(argv[2], "a") : NULL;
    double trial_secs = argc > 3 ? atof(argv[3]) : 1.0;
    double lat_secs = argc > 4 ? atof(argv[4]) : 3.0;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *env = getenv("AFTM_BENCH_CURVE");
    g_curve = env && !strcmp(env, "1");
    bool latency_only = (env = getenv("AFTM_BENCH_LATENCY_ONLY")) && !strcmp(env, "1");
    if ((env = getenv("AFTM_BENCH_KEY")) && *env) g_key = env;
    if (g_curve && !curve_setup()) return 1;

    const char *missing = NULL;
    if (run_quiet("'%s' strategy --help >/dev/null 2>&1", g_aftm) != 0) missing = "aftm strategy";
    else if (run_quiet("'%s' condition import --help >/dev/null 2>&1", g_aftm) != 0) missing = "aftm condition import";
    if (missing) {
        printf("pipeline: not available (%s missing)\n", missing);
        if (g_out) fprintf(g_out, "pipeline.available 0\npipeline.missing %s\n", missing);
        return 0;
    }
    if (g_out) fprintf(g_out, "pipeline.available 1\n");

    session s;
    /* latency and memory first, on fresh processes */
    static const int lat_counts[] = {1000, 10000};
    for (int i = 0; i < (latency_only ? 1 : 2); i++) {
        if (!session_open(&s, lat_counts[i])) {
            session_close(&s, true);
            if (g_out) fprintf(g_out, "pipeline.failed %d\n", lat_counts[i]);
            continue;
        }
        latency_runs(&s, lat_secs);
        long hwm = zb_proc_status_kb(s.sp.pid, "VmHWM"), rss = zb_proc_status_kb(s.sp.pid, "VmRSS");
        printf("pipeline: aftm strategy with %d conditions: VmHWM %ld kB, VmRSS %ld kB\n", lat_counts[i], hwm, rss);
        if (g_out) fprintf(g_out, "pipeline.rss.%d.hwm_kb %ld\npipeline.rss.%d.rss_kb %ld\n", lat_counts[i], hwm, lat_counts[i], rss);
        session_close(&s, false);
    }

    static const int counts[] = {1, 10, 100, 1000};
    for (int i = 0; i < (latency_only ? 0 : 4); i++) {
        printf("pipeline: max sustained rate, 0 drops, %d condition(s) (trials of %.1fs)\n", counts[i], trial_secs);
        if (!session_open(&s, counts[i])) {
            session_close(&s, true);
            if (g_out) fprintf(g_out, "pipeline.failed %d\n", counts[i]);
            continue;
        }
        g_broken = false;
        double max, floor_max;
        paired_search(&s, trial_secs, &max, &floor_max);
        if (g_broken) {
            printf("pipeline: %d condition(s): search abandoned, aftm strategy could not be restarted\n", counts[i]);
            if (g_out) fprintf(g_out, "pipeline.failed %d\n", counts[i]);
            session_close(&s, true);
            continue;
        }
        double cpu_aftm, cpu_floor;
        cpu_at(&s, max, trial_secs, &cpu_aftm, &cpu_floor);
        if (g_out && cpu_aftm >= 0 && cpu_floor >= 0)
            fprintf(g_out, "pipeline.cpu.%d %.2f\npipeline.floor_cpu.%d %.2f\n", counts[i], cpu_aftm, counts[i], cpu_floor);
        printf("pipeline: %d condition(s): max sustained %.0f ticks/s (%d restart(s) of aftm strategy); "
               "PUB->SUB floor in the same minutes: %.0f msgs/s\n",
               counts[i], max, s.sp.restarts, floor_max);
        if (g_out) fprintf(g_out, "pipeline.max.%d %.0f\npipeline.floor_max.%d %.0f\n", counts[i], max, counts[i], floor_max);
        session_close(&s, false);
    }
    if (g_out) fclose(g_out);
    if (g_curve) run_quiet("rm -rf '%s'", g_keys_home);
    return 0;
}
