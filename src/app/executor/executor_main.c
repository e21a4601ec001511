/* `aftm executor`: arguments, endpoints, the ZeroMQ sockets and the poll loop around the
 * executor core (executor_core.h), which makes every decision. Signals are pulled, execution
 * reports and ticks subscribed to, and the gateway's order port is the core's order sink. */
#include "app/executor/executor.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "app/executor/executor_core.h"
#include "app/executor/risk_config.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/parse.h"
#include "net/gateway_client.h"
#include "net/gw_pack.h"
#include "net/gw_proto.h"
#include "net/lifecycle.h"
#include "net/link_watch.h"
#include "net/order_link.h"
#include "net/report_batch.h"
#include "net/secure.h"
#include "net/zsock.h"
#include "store/checkpointer.h"
#include "store/db.h"
#include "store/risk_store.h"

/* Reconciliation asks the gateway about every open order, one call each: once the links have
 * been quiet for RECONCILE_MS (a burst is not held up by it: while answers and reports flow, a
 * lost one shows as a seq gap or a timeout), and at the latest every RECONCILE_MAX_MS. */
#define RECONCILE_MS 1000
#define RECONCILE_MAX_MS 10000
/* The signal port is bound before reconciling, so signals can come before the first tick: they
 * wait in the socket until a tick has come (the price band needs the last price; a signal
 * checked without it is refused for nothing), at most FIRST_TICK_WAIT_MS after start. */
#define FIRST_TICK_WAIT_MS 1000

static bool g_insecure; /* --insecure: plain-text links (net/secure.h) */
#define STATE_POLL_MS 250

typedef struct {
    void *zctx, *pull, *reports, *ticks, *acks;
    gateway_client *gw; /* requests answered one at a time (catch-up, reconciliation) */
    order_link *orders; /* orders, many in flight */
    gw_packer packer;   /* each order's request, reused */
    link_watch *report_watch, *tick_watch; /* connect again after a drop (a message over the cap) */
    sqlite3 *db;
    db_checkpointer *checkpoints; /* off the order path (store/checkpointer.h) */
    executor_core *core;
} proc;

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm executor [--signal-endpoint E] [--order-endpoint E] [--report-endpoint E]\n"
            "                     [--tick-endpoint E] [--home DIR] [--account A] [--risk FILE]\n"
            "                     [--trading-hours on|off] [--timeout-ms N] [--attempts N] [--quiet]\n\n"
            "Pulls signals, checks them against the risk limits, and sends each as one market order\n"
            "through the gateway. Orders, fills and positions are kept under --home.\n\n"
            "  --signal-endpoint  bind address for signals (default tcp://127.0.0.1:5556)\n"
            "  --ack-endpoint     bind address where stored signals are acknowledged to the strategy\n"
            "                     (default: AFTM_ACK_PORT, else the signal port + 10, same host)\n"
            "  --order-endpoint   the gateway's order port (default tcp://127.0.0.1:5557)\n"
            "  --report-endpoint  the gateway's execution reports (default tcp://127.0.0.1:5558)\n"
            "  --tick-endpoint    ticks, for the price band and P&L (default tcp://127.0.0.1:5555)\n"
            "  --account          order account (default: the session's selected account)\n"
            "  --risk             INI file with a [risk] section overriding the default limits\n"
            "  --trading-hours    on (default): refuse entries outside TAIFEX sessions; off\n"
            "                     (--risk and --trading-hours override the account's stored limits,\n"
            "                     'aftm risk show', for this run only)\n"
            "  --trading-hours-default on|off  the trading-hours rule when neither the stored limits\n"
            "                     nor this run's flags set it (aftm run sets off: the simulator)\n"
            "  --timeout-ms       wait for each gateway answer (default 2000)\n"
            "  --attempts         tries per order before leaving it to reconciliation (default 3)\n"
            "  --home             data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --insecure         plain text, no CURVE: to reach the original's gateway, or a gateway\n"
            "                     started with --insecure (loopback only, with a warning)\n"
            "  --quiet            log warnings and errors only\n");
}

/* Returns an exit code to end with, or -1 to run. */
/* Where the limits of this run come from, applied in this order once the database is open:
 * the defaults, the trading-hours default of the way it runs, the account's stored limits, then
 * this run's --risk file and --trading-hours. */
typedef struct {
    const char *risk_file, *hours, *hours_default;
} risk_sources;

static int parse_args(int argc, char **argv, executor_config *cfg, int *timeout_ms, endpoints *ep, const char **home,
                      bool *quiet, risk_sources *rs) {
    static const struct option opts[] = {
        {"signal-endpoint", 1, 0, 's'}, {"order-endpoint", 1, 0, 'o'}, {"report-endpoint", 1, 0, 'r'},
        {"tick-endpoint", 1, 0, 't'},   {"home", 1, 0, 'h'},           {"account", 1, 0, 'a'},
        {"risk", 1, 0, 'R'},            {"trading-hours", 1, 0, 'T'},  {"timeout-ms", 1, 0, 'm'},
        {"attempts", 1, 0, 'n'},        {"quiet", 0, 0, 'q'},          {"help", 0, 0, 'H'},
        {"insecure", 0, 0, 'I'},        {"ack-endpoint", 1, 0, 'K'},   {"trading-hours-default", 1, 0, 'D'},
        {0, 0, 0, 0}};
    const char *risk_file = NULL, *hours = NULL;
    int64_t v;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's': snprintf(ep->signal, sizeof ep->signal, "%s", optarg); break;
        case 'K': snprintf(ep->ack, sizeof ep->ack, "%s", optarg); break;
        case 'o': snprintf(ep->order, sizeof ep->order, "%s", optarg); break;
        case 'r': snprintf(ep->report, sizeof ep->report, "%s", optarg); break;
        case 't': snprintf(ep->tick, sizeof ep->tick, "%s", optarg); break;
        case 'h': *home = optarg; break;
        case 'a': snprintf(cfg->account, sizeof cfg->account, "%s", optarg); break;
        case 'R': risk_file = optarg; break;
        case 'T': hours = optarg; break;
        case 'D': rs->hours_default = optarg; break;
        case 'm':
            if (!parse_int_range(optarg, 10, 600000, &v)) {
                fprintf(stderr, "aftm executor: --timeout-ms must be 10..600000, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            *timeout_ms = (int)v;
            break;
        case 'n':
            if (!parse_int_range(optarg, 1, 100, &v)) {
                fprintf(stderr, "aftm executor: --attempts must be 1..100, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            cfg->attempts = (int)v;
            break;
        case 'q': *quiet = true; break;
        case 'I': g_insecure = true; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm executor: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    char err[256];
    /* the file is read now, so a bad one is bad usage; it is applied over the stored limits later */
    if (!risk_config_load(risk_file, &cfg->limits, err, sizeof err)) {
        fprintf(stderr, "aftm executor: %s\n", err);
        return EXIT_USAGE;
    }
    rs->risk_file = risk_file;
    rs->hours = hours;
    if (!ep->ack[0] && !signal_ack_endpoint(ep->signal, ep->ack, sizeof ep->ack, err, sizeof err)) {
        fprintf(stderr, "aftm executor: %s\n", err);
        return EXIT_USAGE;
    }
    const char *const flags[] = {"--trading-hours", "--trading-hours-default"};
    const char *const values[] = {hours, rs->hours_default};
    for (int i = 0; i < 2; i++)
        if (values[i] && strcmp(values[i], "on") && strcmp(values[i], "off")) {
            fprintf(stderr, "aftm executor: %s must be on or off, got '%s'\n", flags[i], values[i]);
            return EXIT_USAGE;
        }
    return -1;
}

/* The limits of this run (see risk_sources), each source said in the log. False (logged) when
 * the stored limits cannot be read or are not valid: trading on limits other than the account's
 * would be worse than not starting. */
static bool load_limits(sqlite3 *db, const risk_sources *rs, risk_limits *out) {
    risk_limits lim = risk_limits_default();
    if (rs->hours_default) lim.trading_hours = !strcmp(rs->hours_default, "on");
    char ini[4096], err[256];
    int n = rstore_ini(db, ini, sizeof ini);
    if (n < 0) {
        log_error("cannot read the stored risk limits: %s", sqlite3_errmsg(db));
        return false;
    }
    if (n > 0 && !risk_config_parse_over(ini, "the stored risk limits", &lim, NULL, err, sizeof err)) {
        log_error("%s; fix it with 'aftm risk set KEY VALUE' (see 'aftm risk show')", err);
        return false;
    }
    log_info("risk limits: %d stored with the account ('aftm risk show'), defaults for the rest", n);
    bool given[RISK_CONFIG_NKEYS];
    if (rs->risk_file) {
        if (!risk_config_load_over(rs->risk_file, &lim, given, err, sizeof err)) {
            log_error("%s", err);
            return false;
        }
        char names[512] = "";
        size_t used = 0;
        for (size_t k = 0; k < RISK_CONFIG_NKEYS; k++)
            if (given[k]) {
                char v[64];
                risk_config_format(&lim, k, v, sizeof v);
                int w = snprintf(names + used, sizeof names - used, "%s%s=%s", used ? ", " : "",
                                 risk_config_key_name(k), v);
                if (w > 0 && (size_t)w < sizeof names - used) used += (size_t)w;
            }
        log_warn("risk limits overridden for this run by --risk %s: %s", rs->risk_file, used ? names : "(no key)");
    }
    if (rs->hours) {
        lim.trading_hours = !strcmp(rs->hours, "on");
        log_info("trading hours %s for this run (--trading-hours)", rs->hours);
    }
    *out = lim;
    return true;
}

/* The core's gateway calls and its orders both go to the gateway's order port: the calls
 * one at a time, the orders on a link of their own that keeps many in flight. */
static json_t *gateway_request(void *ctx, json_t *req, char *err, size_t errlen) {
    return gwc_request(((proc *)ctx)->gw, req, err, errlen);
}

/* Orders go in msgpack (net/gw_pack.h): the gateway reads them without JSON. */
static bool submit_order(void *ctx, const char *coid, const broker_order_req *req, char *err, size_t errlen) {
    proc *p = ctx;
    if (!gw_pack_send_order(&p->packer, req)) {
        snprintf(err, errlen, "out of memory encoding the order");
        return false;
    }
    return olink_send(p->orders, coid, gw_packed(&p->packer), gw_packed_len(&p->packer), err, errlen);
}

/* The answers to orders in flight, each to the core with its client order id; those read
 * together are stored together (one commit). */
static void drain_answers(proc *p) {
    char coid[128], body[8192];
    for (int i = 0; i < 1024; i++) {
        int n = olink_recv(p->orders, coid, sizeof coid, body, sizeof body);
        if (n < 0) break;
        if (i == 0) exc_begin_batch(p->core);
        exc_on_order_reply(p->core, coid, body, (size_t)n);
    }
    exc_end_batch(p->core);
}

/* A stored signal, told to the strategy (net/signal_ack.h); lost if nobody listens, which is
 * fine: the strategy sends the signal again and is told again. */
static void publish_ack(void *ctx, const signal_ack *a) {
    proc *p = ctx;
    char body[SIGNAL_ACK_MAX];
    size_t n = signal_ack_encode(a, body, sizeof body);
    if (!n || !p->acks) return;
    zsock_send_topic(p->acks, SIGNAL_ACK_TOPIC, body, n);
}

static bool stop_requested(void *ctx) {
    (void)ctx;
    return lifecycle_stopping();
}

static void take_report(void *ctx, const char *report, size_t len) {
    exc_on_report_message(((proc *)ctx)->core, report, len);
}

/* Reads what is waiting on one socket (up to a batch: 1024 messages, or reports) and hands it
 * to the core. */
static void drain(proc *p, void *sock) {
    static char body[REPORT_MSG_MAX]; /* one thread; a report message holds several */
    char topic[ZSOCK_TOPIC_MAX];
    size_t reports = 0;
    for (int i = 0; i < 1024 && reports < 1024; i++) {
        size_t tlen;
        bool truncated;
        /* a report message is one frame, topic NUL body; a signal or a tick is not split so */
        int n = sock == p->reports ? zsock_recv_topic(sock, topic, body, sizeof body, &truncated)
                                   : zsock_recv_2(sock, topic, sizeof topic, body, sizeof body, &tlen, &truncated);
        if (n < 0) break;
        if (truncated) {
            log_warn("skipped an oversized message");
            continue;
        }
        /* signals, and reports, read together are stored together (one commit); signals are
         * sent once it is durable */
        if (i == 0 && sock != p->ticks) exc_begin_batch(p->core);
        if (sock == p->pull) {
            exc_on_signal_message(p->core, body, (size_t)n);
        } else if (sock == p->reports) {
            bool bad;
            reports += report_batch_each(body, (size_t)n, take_report, p, &bad);
            if (bad) log_warn("skipped the end of a report message that is not msgpack");
        } else {
            exc_on_tick_message(p->core, body, (size_t)n);
        }
    }
    if (sock != p->ticks) exc_end_batch(p->core);
}

/* Opens the sockets (the signal port is bound by the caller). */
static bool open_sockets(proc *p, const endpoints *ep, int timeout_ms) {
    char err[512];
    p->zctx = zmq_ctx_new();
    if (!(p->pull = zsock_new(p->zctx, ZMQ_PULL, err, sizeof err)) ||
        !(p->acks = zsock_new(p->zctx, ZMQ_PUB, err, sizeof err)) ||
        !(p->reports = zsock_new(p->zctx, ZMQ_SUB, err, sizeof err)) ||
        !(p->ticks = zsock_new(p->zctx, ZMQ_SUB, err, sizeof err))) {
        log_error("%s", err);
        return false;
    }
    zsock_set_int(p->pull, ZMQ_RCVHWM, 1000);
    zsock_set_int(p->reports, ZMQ_RCVHWM, REPORT_QUEUE_HWM); /* as deep as the gateway's side */
    if (!zsock_connect_to(p->zctx, p->reports, ep->report, ROLE_GATEWAY, err, sizeof err) ||
        !zsock_connect_to(p->zctx, p->ticks, ep->tick, ROLE_GATEWAY, err, sizeof err)) {
        log_error("%s", err);
        return false;
    }
    zmq_setsockopt(p->reports, ZMQ_SUBSCRIBE, REPORT_TOPIC, strlen(REPORT_TOPIC));
    zmq_setsockopt(p->ticks, ZMQ_SUBSCRIBE, "TICK", 4);
    if (!(p->report_watch = link_watch_new(p->zctx, p->reports, ep->report, "report", err, sizeof err)) ||
        !(p->tick_watch = link_watch_new(p->zctx, p->ticks, ep->tick, "tick", err, sizeof err))) {
        log_error("%s", err);
        return false;
    }
    if (!(p->gw = gwc_new(p->zctx, ep->order, timeout_ms))) {
        log_error("cannot open the gateway connection to %s", ep->order);
        return false;
    }
    if (!(p->orders = olink_new(p->zctx, ep->order, ROLE_GATEWAY, err, sizeof err))) {
        log_error("cannot open the order link to %s: %s", ep->order, err);
        return false;
    }
    return true;
}

static void proc_close(proc *p) {
    exc_free(p->core);
    db_checkpointer_stop(p->checkpoints);
    db_close(p->db);
    gwc_free(p->gw);
    olink_free(p->orders);
    gw_packer_destroy(&p->packer);
    link_watch_free(p->report_watch);
    link_watch_free(p->tick_watch);
    if (p->pull) zmq_close(p->pull);
    if (p->acks) zmq_close(p->acks);
    if (p->reports) zmq_close(p->reports);
    if (p->ticks) zmq_close(p->ticks);
    if (p->zctx) zmq_ctx_term(p->zctx);
}

int cmd_executor(int argc, char **argv) {
    proc p;
    memset(&p, 0, sizeof p);
    gw_packer_init(&p.packer); /* allocates nothing until the first order */
    executor_config cfg = {.attempts = 3};
    int timeout_ms = 2000;
    endpoints ep;
    endpoints_from_env(&ep);
    const char *home_flag = NULL;
    bool quiet = false;
    risk_sources rs = {NULL, NULL, NULL};
    int rc = parse_args(argc, argv, &cfg, &timeout_ms, &ep, &home_flag, &quiet, &rs);
    if (rc >= 0) return rc;
    log_set_name("executor");
    log_set_quiet(quiet);
    lifecycle_install();

    char err[512], home[AFTM_PATH_MAX];
    rc = EXIT_RUNTIME;
    cfg.timeout_ms = timeout_ms;
    executor_io io = {.ctx = &p, .submit_order = submit_order, .gateway_call = gateway_request,
                      .stopping = stop_requested, .clock_us = NULL, .acknowledge = publish_ack};
    if (!home_resolve(home_flag, home, sizeof home, err, sizeof err) ||
        !net_secure_init(home, ROLE_EXECUTOR, g_insecure, err, sizeof err) || !(p.db = db_open(home, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    if (!(p.checkpoints = db_checkpointer_start(p.db, err, sizeof err)))
        log_warn("%s; the database checkpoints on the order path instead", err);
    if (!load_limits(p.db, &rs, &cfg.limits)) goto out;
    if (!(p.core = exc_new(p.db, &cfg, &io, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    if (!open_sockets(&p, &ep, timeout_ms)) goto out;
    /* The signal port is bound first, so a strategy connects (and its first signals wait in
     * the socket) while we reconcile; none is read before what was in flight when we stopped
     * is settled. */
    if (!zsock_bind_link(p.zctx, p.pull, ep.signal, LINK_SIGNALS, g_insecure, err, sizeof err) ||
        !zsock_bind_link(p.zctx, p.acks, ep.ack, LINK_ACKS, g_insecure, err, sizeof err)) {
        log_error("%s", err);
        goto out;
    }
    exc_start(p.core);
    char account[64];
    log_info("started: signals on %s (acknowledged on %s), gateway %s, account %s, trading hours %s", ep.signal, ep.ack,
             ep.order,
             exc_account(p.core, account, sizeof account) ? account : "(none selected yet)",
             cfg.limits.trading_hours ? "on" : "off");

    int64_t last_reconcile = clock_mono_ms(), last_state = last_reconcile, last_busy = last_reconcile;
    int64_t started = last_reconcile;
    bool ticked = false;
    while (!lifecycle_stopping()) {
        int64_t hold_ms = ticked ? 0 : FIRST_TICK_WAIT_MS - (clock_mono_ms() - started);
        if (hold_ms <= 0) ticked = true;
        zmq_pollitem_t items[] = {{p.pull, 0, ticked ? ZMQ_POLLIN : 0, 0},
                                  {p.reports, 0, ZMQ_POLLIN, 0},
                                  {p.ticks, 0, ZMQ_POLLIN, 0},
                                  {olink_socket(p.orders), 0, ZMQ_POLLIN, 0},
                                  {link_watch_socket(p.report_watch), 0, ZMQ_POLLIN, 0},
                                  {link_watch_socket(p.tick_watch), 0, ZMQ_POLLIN, 0}};
        int wait = exc_next_timeout_ms(p.core);
        if (!ticked && (wait < 0 || wait > hold_ms)) wait = (int)hold_ms;
        int n = zmq_poll(items, 6, wait >= 0 && wait < STATE_POLL_MS ? wait : STATE_POLL_MS);
        if (n < 0 && zmq_errno() != EINTR) {
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        /* signals first: an order waiting behind the bookkeeping of earlier fills is latency
         * the trader pays; the risk state lags by those fills at most, as it would by the
         * network anyway */
        if (n > 0 && (items[0].revents & ZMQ_POLLIN)) drain(&p, items[0].socket);
        if (n > 0 && (items[3].revents & ZMQ_POLLIN)) drain_answers(&p);
        for (int i = 1; i < 3 && n > 0; i++)
            if (items[i].revents & ZMQ_POLLIN) drain(&p, items[i].socket);
        if (n > 0 && (items[2].revents & ZMQ_POLLIN)) ticked = true;
        /* after the reads (see net/link_watch.h) */
        if (n > 0 && (items[4].revents & ZMQ_POLLIN)) link_watch_handle(p.report_watch);
        if (n > 0 && (items[5].revents & ZMQ_POLLIN)) link_watch_handle(p.tick_watch);
        exc_service(p.core);
        int64_t now = clock_mono_ms();
        /* busy: signals, answers or reports came (ticks alone do not count) */
        if (n > 0 && ((items[0].revents | items[1].revents | items[3].revents) & ZMQ_POLLIN)) last_busy = now;
        if (now - last_state >= STATE_POLL_MS) {
            exc_poll_state(p.core);
            last_state = now;
        }
        if (now - last_reconcile >= RECONCILE_MS &&
            (now - last_busy >= RECONCILE_MS || now - last_reconcile >= RECONCILE_MAX_MS)) {
            if (exc_open_orders(p.core) > 0) exc_reconcile(p.core);
            last_reconcile = now;
        }
    }
    executor_stats s = exc_stats(p.core);
    log_info("stopping: %llu signals, %llu orders, %llu fills, %llu refused", (unsigned long long)s.signals,
             (unsigned long long)s.orders, (unsigned long long)s.fills, (unsigned long long)s.refused);
    rc = EXIT_OK;
out:
    proc_close(&p);
    return rc;
}
