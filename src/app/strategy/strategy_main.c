/* aftm strategy: SUB ticks, evaluate the conditions, PUSH signals. Arguments, endpoints,
 * sockets and the poll loop only; what the process decides is strategy_core.c, and the
 * database writes happen on the state writer's thread (state_writer.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "net/link_watch.h"
#include "app/strategy/state_writer.h"
#include "app/strategy/strategy.h"
#include "app/strategy/strategy_core.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "net/lifecycle.h"
#include "net/report_batch.h"
#include "net/secure.h"
#include "net/signal_ack.h"
#include "net/zsock.h"
#include "store/db.h"
#include "wire/codec.h"

static bool g_insecure; /* --insecure: plain-text links (net/secure.h) */

#define DRAIN_TICKS 4096 /* messages per wakeup, so reports and housekeeping get their turn */
#define DRAIN_REPORTS 256

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm strategy [--tick-endpoint E] [--signal-endpoint E] [--report-endpoint E]\n"
            "                     [--home DIR]\n"
            "                     [--wire aftm|original] [--rearm] [--quiet]\n\n"
            "Subscribes to ticks, evaluates the active conditions of the database under --home, and\n"
            "pushes a signal for every entry and exit.\n\n"
            "  --tick-endpoint    where the gateway publishes ticks (default tcp://127.0.0.1:5555;\n"
            "                     env ZMQ_HOST, ZMQ_TICK_PORT)\n"
            "  --signal-endpoint  where the executor pulls signals (default tcp://127.0.0.1:5556;\n"
            "                     env ZMQ_HOST, ZMQ_SIGNAL_PORT)\n"
            "  --ack-endpoint     where the executor acknowledges stored signals (default:\n"
            "                     AFTM_ACK_PORT, else the signal port + 10, on the executor's host)\n"
            "  --report-endpoint  the gateway's execution reports, to learn when an entry is filled\n"
            "                     (default tcp://127.0.0.1:5558; env ZMQ_HOST, AFTM_REPORT_PORT)\n"
            "  --home             data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --wire original    send the original's 4-key TradingSignal (for the original's\n"
            "                     executor); entries are then taken as filled at once, as there\n"
            "                     is no fill feedback\n"
            "  --rearm            every condition repeats, as if added with --repeat: armed again\n"
            "                     after each exit under the same id (benchmarks and soak tests)\n"
            "  --insecure         plain text, no CURVE: to reach the original's gateway or executor, or\n"
            "                     processes started with --insecure (with a warning)\n"
            "  --quiet            log warnings and errors only\n");
}

/* -1: go on; else the exit code. */
static int parse_args(int argc, char **argv, endpoints *ep, const char **home, strategy_core_config *cfg, bool *quiet) {
    static const struct option opts[] = {{"tick-endpoint", 1, 0, 't'}, {"signal-endpoint", 1, 0, 's'},
                                         {"home", 1, 0, 'h'},          {"wire", 1, 0, 'w'},
                                         {"rearm", 0, 0, 'r'},         {"quiet", 0, 0, 'q'},
                                         {"report-endpoint", 1, 0, 'R'}, {"insecure", 0, 0, 'I'},
                                         {"help", 0, 0, 'H'},          {"ack-endpoint", 1, 0, 'K'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't': snprintf(ep->tick, sizeof ep->tick, "%s", optarg); break;
        case 's': snprintf(ep->signal, sizeof ep->signal, "%s", optarg); break;
        case 'K': snprintf(ep->ack, sizeof ep->ack, "%s", optarg); break;
        case 'R': snprintf(ep->report, sizeof ep->report, "%s", optarg); break;
        case 'h': *home = optarg; break;
        case 'w':
            if (!strcmp(optarg, "original")) cfg->original_wire = true;
            else if (strcmp(optarg, "aftm")) {
                fprintf(stderr, "aftm strategy: --wire must be aftm or original, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'r': cfg->rearm = true; break;
        case 'q': *quiet = true; break;
        case 'I': g_insecure = true; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm strategy: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    char err[256];
    if (!ep->ack[0] && !signal_ack_endpoint(ep->signal, ep->ack, sizeof ep->ack, err, sizeof err)) {
        fprintf(stderr, "aftm strategy: %s\n", err);
        return EXIT_USAGE;
    }
    return -1;
}

typedef struct {
    void *zctx, *sub, *push, *reports, *acks;
    link_watch *tick_watch, *report_watch; /* connect again after a drop (a message over the cap) */
    sqlite3 *db;
    state_writer *writer;
    strategy_core *core;
    wire_decoder dec;
} proc;

static bool push_signal(void *ctx, const strategy_signal *s) {
    proc *p = ctx;
    return zmq_send(p->push, s->buf, s->len, ZMQ_DONTWAIT) == (int)s->len;
}

static bool submit_states(void *ctx, const state_batch *b) {
    proc *p = ctx;
    return state_writer_submit(p->writer, b);
}

static void take_report(void *ctx, const char *report, size_t len) {
    strategy_core_on_report(((proc *)ctx)->core, report, len);
}

/* Each message holds one or more reports (net/report_batch.h). */
static void drain_reports(proc *p) {
    static char body[REPORT_MSG_MAX]; /* one thread */
    char topic[ZSOCK_TOPIC_MAX];
    for (int i = 0; i < DRAIN_REPORTS; i++) {
        bool truncated, bad;
        int n = zsock_recv_topic(p->reports, topic, body, sizeof body, &truncated);
        if (n < 0) return;
        if (truncated) continue;
        report_batch_each(body, (size_t)n, take_report, p, &bad);
    }
}

static void drain_acks(proc *p) {
    char topic[ZSOCK_TOPIC_MAX], body[2048];
    for (int i = 0; i < DRAIN_REPORTS; i++) {
        bool truncated;
        int n = zsock_recv_topic(p->acks, topic, body, sizeof body, &truncated);
        if (n < 0) return;
        if (!truncated) strategy_core_on_ack(p->core, body, (size_t)n);
    }
}

static void drain_ticks(proc *p) {
    char topic[16], body[2048];
    for (int i = 0; i < DRAIN_TICKS; i++) {
        size_t tlen;
        bool truncated;
        int n = zsock_recv_2(p->sub, topic, sizeof topic, body, sizeof body, &tlen, &truncated);
        if (n < 0) return;
        if (truncated) {
            log_warn("skipped an oversized message on the tick socket");
            continue;
        }
        if (tlen && !(tlen == 4 && !memcmp(topic, "TICK", 4))) continue; /* another topic */
        wire_msg m;
        wire_kind k = wire_decode(&p->dec, body, (size_t)n, &m);
        if (k == WIRE_TICK) strategy_core_on_tick(p->core, &m.u.tick);
        else if (k == WIRE_ERROR) log_warn("skipped an undecodable tick message: %s (%s)", m.error, m.error_class);
        else log_warn("received a non-TickEvent message; skipped");
    }
}

/* Opens the database, the writer, the core and the sockets; false (logged) on failure. */
static bool proc_open(proc *p, const char *home_flag, const endpoints *ep, const strategy_core_config *cfg) {
    char err[512], home[AFTM_PATH_MAX];
    if (!home_resolve(home_flag, home, sizeof home, err, sizeof err) ||
        !net_secure_init(home, ROLE_STRATEGY, g_insecure, err, sizeof err) || !(p->db = db_open(home, err, sizeof err)) ||
        !(p->writer = state_writer_start(home, err, sizeof err))) {
        log_error("%s", err);
        return false;
    }
    strategy_core_sinks sinks = {p, push_signal, submit_states};
    if (!(p->core = strategy_core_new(p->db, cfg, &sinks, clock_mono_ms(), err, sizeof err))) {
        log_error("%s", err);
        return false;
    }
    p->zctx = zmq_ctx_new();
    if (!(p->sub = zsock_new(p->zctx, ZMQ_SUB, err, sizeof err)) || !(p->push = zsock_new(p->zctx, ZMQ_PUSH, err, sizeof err))) {
        log_error("%s", err);
        return false;
    }
    /* A deep receive queue absorbs scheduling stalls of this process: the I/O thread keeps
     * taking ticks off the wire while the loop is descheduled (about 3 MB at most). */
    zsock_set_int(p->sub, ZMQ_RCVHWM, 20000);
    if (!zsock_connect_to(p->zctx, p->sub, ep->tick, ROLE_GATEWAY, err, sizeof err) ||
        !zsock_connect_to(p->zctx, p->push, ep->signal, ROLE_EXECUTOR, err, sizeof err)) {
        log_error("%s", err);
        return false;
    }
    zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, "", 0);
    if (!(p->tick_watch = link_watch_new(p->zctx, p->sub, ep->tick, "tick", err, sizeof err))) {
        log_error("%s", err);
        return false;
    }
    if (!cfg->original_wire) { /* the original's executor sends no fill feedback to wait for */
        if (!(p->reports = zsock_new(p->zctx, ZMQ_SUB, err, sizeof err)) || !zsock_connect_to(p->zctx, p->reports, ep->report, ROLE_GATEWAY, err, sizeof err)) {
            log_error("%s", err);
            return false;
        }
        zmq_setsockopt(p->reports, ZMQ_SUBSCRIBE, REPORT_TOPIC, strlen(REPORT_TOPIC));
        /* the executor's acknowledgements: the outbox empties even when its database is not ours */
        if (!(p->acks = zsock_new(p->zctx, ZMQ_SUB, err, sizeof err)) ||
            !zsock_connect_to(p->zctx, p->acks, ep->ack, ROLE_EXECUTOR, err, sizeof err)) {
            log_error("%s", err);
            return false;
        }
        zmq_setsockopt(p->acks, ZMQ_SUBSCRIBE, SIGNAL_ACK_TOPIC, strlen(SIGNAL_ACK_TOPIC));
        if (!(p->report_watch = link_watch_new(p->zctx, p->reports, ep->report, "report", err, sizeof err))) {
            log_error("%s", err);
            return false;
        }
    }
    return true;
}

/* The core first: it hands its last changes to the writer, which writes them before stopping. */
static void proc_close(proc *p) {
    strategy_core_free(p->core);
    state_writer_stop(p->writer);
    db_close(p->db);
    link_watch_free(p->tick_watch);
    link_watch_free(p->report_watch);
    if (p->sub) zmq_close(p->sub);
    if (p->push) zmq_close(p->push);
    if (p->reports) zmq_close(p->reports);
    if (p->acks) zmq_close(p->acks);
    if (p->zctx) zmq_ctx_term(p->zctx);
    wire_decoder_destroy(&p->dec);
}

int cmd_strategy(int argc, char **argv) {
    endpoints ep;
    endpoints_from_env(&ep);
    const char *home_flag = NULL;
    bool quiet = false;
    strategy_core_config cfg = {.original_wire = false, .rearm = false, .rearm_tag = (int)getpid()};
    int rc = parse_args(argc, argv, &ep, &home_flag, &cfg, &quiet);
    if (rc >= 0) return rc;
    log_set_name("strategy");
    log_set_quiet(quiet);
    lifecycle_install();
    proc p;
    memset(&p, 0, sizeof p);
    wire_decoder_init(&p.dec);
    if (!proc_open(&p, home_flag, &ep, &cfg)) {
        proc_close(&p);
        return EXIT_RUNTIME;
    }
    size_t n0 = strategy_core_get_stats(p.core).conditions;
    log_info("started: %zu active condition(s), ticks from %s, signals to %s%s", n0, ep.tick, ep.signal,
             cfg.original_wire ? " (original wire format)" : "");
    if (n0 == 0) log_warn("no active conditions yet; add some with 'aftm condition add'");

    while (!lifecycle_stopping()) {
        zmq_pollitem_t items[] = {{link_watch_socket(p.tick_watch), 0, ZMQ_POLLIN, 0},
                                  {p.sub, 0, ZMQ_POLLIN, 0},
                                  {p.report_watch ? link_watch_socket(p.report_watch) : NULL, 0, ZMQ_POLLIN, 0},
                                  {p.reports, 0, ZMQ_POLLIN, 0},
                                  {p.acks, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, p.reports ? 5 : 2, strategy_core_timeout_ms(p.core, clock_mono_ms()));
        if (n < 0 && zmq_errno() != EINTR) {
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        strategy_core_retry_signals(p.core, clock_mono_ms());
        if (n > 0 && p.reports && (items[3].revents & ZMQ_POLLIN)) drain_reports(&p);
        if (n > 0 && p.acks && (items[4].revents & ZMQ_POLLIN)) drain_acks(&p);
        if (n > 0 && (items[1].revents & ZMQ_POLLIN)) drain_ticks(&p);
        /* the watches come after the reads: zmq_poll has already taken the first frame of a
         * waiting message off its connection, and reconnecting before the rest is read leaves
         * libzmq half-way through a message whose connection is gone (it aborts on the assert
         * "!_more" in fq.cpp) */
        if (n > 0 && (items[0].revents & ZMQ_POLLIN)) link_watch_handle(p.tick_watch);
        if (n > 0 && p.reports && (items[2].revents & ZMQ_POLLIN)) link_watch_handle(p.report_watch);
        strategy_core_housekeep(p.core, clock_mono_ms());
    }
    strategy_core_stats st = strategy_core_get_stats(p.core);
    log_info("stopping: %llu ticks, %llu signals (%llu sent again), %llu bad ticks, %zu signal(s) not acknowledged "
             "by the executor yet (kept, sent again at the next start)",
             (unsigned long long)st.ticks, (unsigned long long)st.signals, (unsigned long long)st.resent,
             (unsigned long long)st.bad_ticks, st.unacknowledged);
    proc_close(&p);
    return EXIT_OK;
}
