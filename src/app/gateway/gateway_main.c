/* aftm gateway: the process around the core (gateway.h). Arguments, the broker adapter, the
 * sockets and the loop.
 *
 * One thread, one loop: zmq_poll on the order socket and a signal pipe, with a timeout up to
 * the broker's next due work (the simulator's next tick); no sleeps, no busy polling. */
#include "app/gateway/fix_broker.h"
#include "app/gateway/gateway_main.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "app/gateway/gateway.h"
#include "app/gateway/sim_remote.h"
#include "broker/sim_broker.h"
#include "broker/tick_source.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/exit_codes.h"
#include "core/usage.h"
#include "core/log.h"
#include "core/parse.h"
#include "net/gw_proto.h"
#include "net/lifecycle.h"
#include "net/gw_pack.h"
#include "net/order_guard.h"
#include "net/report_batch.h"
#include "net/router.h"
#include "net/secure.h"
#include "net/zsock.h"
#include "wire/codec.h"
#include "wire/mpmap.h"

/* An order's answer still to come from the broker, and the envelope it goes back with. */
typedef struct {
    uint64_t token;
    router_pending *to;
} gw_waiting;

typedef struct {
    void *tick_pub;
    void *report_pub;
    void *router; /* the order port, for answers given later */
    gw_waiting *waiting;
    size_t nwaiting, capwaiting;
    uint64_t ticks;
    report_batch reports; /* the reports of one turn of the loop leave together (net/report_batch.h) */
} gw_io;

/* The simulator's feed, held back until enough subscribers have connected to the tick port
 * (--wait-subscribers), so that a replay is not published to nobody. */
typedef struct {
    tick_source *src;
    bool held;
} gw_feed;

static int64_t gw_feed_due(void *ctx) {
    gw_feed *f = ctx;
    return f->held ? -1 : tick_source_due_in_ms(f->src, clock_mono_ns());
}

static int gw_feed_next(void *ctx, broker_tick *out) {
    gw_feed *f = ctx;
    return f->held ? 0 : tick_source_next(f->src, clock_mono_ns(), out);
}


static void publish_tick(void *ctx, const broker_tick *t) {
    gw_io *io = ctx;
    wire_tick wt;
    memset(&wt, 0, sizeof wt);
    wt.when = clock_wall_s();
    size_t i = 0;
    for (; t->symbol[i] && i < sizeof wt.commodity_id - 1; i++)
        wt.commodity_id[i] = (char)toupper((unsigned char)t->symbol[i]);
    wt.commodity_id[i] = '\0';
    wt.match_price = (double)t->price;
    char buf[WIRE_BUF_MAX];
    size_t n = wire_encode_tick(&wt, buf, sizeof buf);
    if (!n) return;
    if (zmq_send(io->tick_pub, "TICK", 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) != 4) return;
    zmq_send(io->tick_pub, buf, n, ZMQ_DONTWAIT);
    io->ticks++;
}

/* Queued, and sent with the others of this turn of the loop before it waits again. */
static void publish_report(void *ctx, const char *body, size_t len) {
    gw_io *io = ctx;
    if (!report_batch_add(&io->reports, io->report_pub, body, len))
        log_warn("a report could not be queued on the report port; readers fetch it by number");
}

/* A deferred answer (gateway.h's sinks.reply) goes back to whoever asked. */
static void send_reply(void *ctx, uint64_t token, const char *body, size_t len) {
    gw_io *io = ctx;
    for (size_t i = 0; i < io->nwaiting; i++)
        if (io->waiting[i].token == token) {
            if (body) router_reply(io->router, io->waiting[i].to, body, len);
            else router_pending_free(io->waiting[i].to); /* unanswered: the client settles it */
            io->waiting[i] = io->waiting[--io->nwaiting];
            return;
        }
}

/* Keeps the envelope of the request just handled for its answer under token. */
static void wait_for_answer(gw_io *io, uint64_t token) {
    if (!buf_grow((void **)&io->waiting, &io->capwaiting, io->nwaiting + 1, sizeof *io->waiting))
        return; /* unanswered: the client settles it by client order id */
    router_pending *to = router_defer();
    if (to) io->waiting[io->nwaiting++] = (gw_waiting){token, to};
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm gateway [--broker sim] [--exchange-endpoint E] [--exchange-market-endpoint E]\n"
            "                    [--exchange-timeout-ms N] [--symbol S] [--tick-endpoint E]\n"
            "                    [--order-endpoint E] [--report-endpoint E] [--insecure] [--home DIR]\n"
            "       aftm gateway --broker sim-local [--seed N] [--rate R] [--symbol S]\n"
            "                    [--ticks FILE [--speed X]] [--wait-subscribers N] [endpoints as above]\n"
            "                    [--login ACCOUNT] [--quiet]\n"
            "       aftm gateway --broker fix --fix-config FILE [--market-data FILE|walk] [--seed N]\n"
            "                    [--rate R] [--symbol S] [--speed X] [endpoints as above] [--login ID]\n\n"
            "The broker session: publishes ticks, accepts orders (JSON, the original's protocol),\n"
            "publishes execution reports.\n\n"
            "  --broker B           broker adapter (default sim):\n"
            "                       sim        the simulated exchange process ('aftm exchange'), reached\n"
            "                                  over ZeroMQ; it makes the market and keeps the book, so a\n"
            "                                  gateway restart loses nothing and report seqs go on\n"
            "                       sim-local  the simulator inside this process (one process, for tests\n"
            "                                  and demos; its book and report seqs end with the process)\n"
            "                       fix        a FIX 4.4 broker (QuickFIX initiator); FILE is QuickFIX's\n"
            "                                  settings plus an [AFTM] section (see README, 'FIX')\n"
            "  --fix-config FILE    fix: the settings file\n"
            "  --market-data M      fix: where ticks come from, as the session carries none: a tick\n"
            "                       file replay (FILE, with --speed) or 'walk', the simulator's random\n"
            "                       walk (--seed, --rate, --symbol; the default)\n"
            "  --exchange-endpoint E        sim: the exchange's requests (default tcp://127.0.0.1:5559;\n"
            "                               ZMQ_HOST, AFTM_EXCHANGE_PORT)\n"
            "  --exchange-market-endpoint E sim: the exchange's ticks and reports (default\n"
            "                               AFTM_EXCHANGE_MARKET_PORT, else the exchange port + 10)\n"
            "  --exchange-timeout-ms N      sim: wait this long for each answer of the exchange; no answer\n"
            "                               = broker connection lost until it answers again (default 1000)\n"
            "  With sim the market is the exchange's: --seed, --rate, --ticks, --speed and\n"
            "  --wait-subscribers are 'aftm exchange' options; --symbol S relays only S's ticks.\n"
            "  The options below up to --symbol are sim-local's:\n"
            "  --seed N             random-walk seed, integer >= 0 (default: from the clock, logged)\n"
            "  --rate R             random-walk steps per second, each a tick of every listed product,\n"
            "                       0 < R <= 1000000 (default 10)\n"
            "  --symbol S           product of the random walk (default TXFF5); with --ticks, publish\n"
            "                       every replayed tick under S instead of the file's own symbols\n"
            "  --ticks FILE         replay a tick file (CSV datetime,symbol,price,volume or TAIFEX's\n"
            "                       daily tick CSV) instead of the random walk\n"
            "  --speed X            replay at X times real time by the file's timestamps; 0 = as fast\n"
            "                       as possible (default 1)\n"
            "  --tick-endpoint E    PUB for ticks (default tcp://127.0.0.1:5555; ZMQ_HOST, ZMQ_TICK_PORT)\n"
            "  --order-endpoint E   order requests (default tcp://127.0.0.1:5557; DLL_GATEWAY_HOST,\n"
            "                       DLL_GATEWAY_PORT)\n"
            "  --report-endpoint E  PUB for execution reports (default tcp://127.0.0.1:5558;\n"
            "                       AFTM_REPORT_PORT)\n"
            "  --insecure           plain text, no CURVE: for the original's executor and strategy;\n"
            "                       loopback only, with a warning (default: CURVE, keys under --home)\n"
            "  --home DIR           data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --wait-subscribers N hold the tick feed until N subscriptions have reached the tick port\n"
            "                       (e.g. 2 for a strategy and an executor), so none misses the start\n"
            "                       of a replay (default 0: start at once)\n"
            "  --quiet              log only warnings and errors\n"
            "  --login ACCOUNT      log in to the broker as ACCOUNT with the password in the environment\n"
            "                       variable AFTM_PASSWORD (never on the command line); a refused login\n"
            "                       exits with code 3 and the broker's reason (default: the simulator's\n"
            "                       own login)\n"
            "  --help               this text\n\n"
            "The simulated exchange logs in as %s, order accounts SIM-0001 and SIM-0002.\n"
            "Market orders fill at the next tick's price of their product. With sim, an exchange that\n"
            "stops answering is a lost broker connection: health_check says unhealthy, orders are\n"
            "refused with BROKER_DISCONNECTED (an order in flight when it went is left unanswered: its\n"
            "outcome is unknown until the exchange is back), and the gateway logs in again as soon as\n"
            "it answers. SIGINT/SIGTERM stop it.\n",
            SIM_DEFAULT_LOGIN);
}

typedef struct {
    const char *broker;
    market_flags m; /* --seed --rate --ticks --speed --symbol */
    endpoints ep;
    bool insecure, quiet;
    const char *home;
    int64_t wait_subs;
    const char *login; /* --login: the account; the password comes from AFTM_PASSWORD */
    bool local;        /* --broker sim-local, or fix (the market is made here too) */
    bool fix;          /* --broker fix */
    const char *fix_config;
    char exchange[AFTM_ENDPOINT_MAX], exchange_market[AFTM_ENDPOINT_MAX];
    int64_t exchange_timeout_ms;
    bool have_exchange_opts, have_wait;
} gw_opts;

static int parse_args(int argc, char **argv, gw_opts *o) {
    static const struct option opts[] = {
        {"broker", 1, 0, 'b'},          {"seed", 1, 0, 's'},          {"rate", 1, 0, 'r'},
        {"ticks", 1, 0, 't'},           {"speed", 1, 0, 'x'},         {"symbol", 1, 0, 'y'},
        {"tick-endpoint", 1, 0, 'T'},   {"order-endpoint", 1, 0, 'O'}, {"report-endpoint", 1, 0, 'R'},
        {"insecure", 0, 0, 'i'},        {"home", 1, 0, 'h'},          {"quiet", 0, 0, 'q'},
        {"wait-subscribers", 1, 0, 'w'}, {"help", 0, 0, 'H'},         {"login", 1, 0, 'L'},
        {"exchange-endpoint", 1, 0, 'E'}, {"exchange-market-endpoint", 1, 0, 'M'},
        {"exchange-timeout-ms", 1, 0, 'X'}, {"fix-config", 1, 0, 'F'}, {"market-data", 1, 0, 'D'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->broker = "sim";
    market_flags_init(&o->m);
    endpoints_from_env(&o->ep);
    snprintf(o->exchange, sizeof o->exchange, "%s", o->ep.exchange);
    o->exchange_timeout_ms = 1000;
    int c;
    char err[256];
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->broker = optarg; break;
        case 's':
        case 'r':
        case 't':
        case 'x':
        case 'y':
            if (!market_flags_set(&o->m, c, optarg, err, sizeof err)) return usage_error("gateway", "%s", err);
            break;
        case 'T': snprintf(o->ep.tick, sizeof o->ep.tick, "%s", optarg); break;
        case 'O': snprintf(o->ep.order, sizeof o->ep.order, "%s", optarg); break;
        case 'R': snprintf(o->ep.report, sizeof o->ep.report, "%s", optarg); break;
        case 'i': o->insecure = true; break;
        case 'h': o->home = optarg; break;
        case 'q': o->quiet = true; break;
        case 'L':
            if (!*optarg || strlen(optarg) >= 96) return usage_error("gateway", "--login must be an account of 1-95 characters");
            o->login = optarg;
            break;
        case 'w':
            if (!parse_int_range(optarg, 0, 1000, &o->wait_subs))
                return usage_error("gateway", "--wait-subscribers must be an integer from 0 to 1000, got '%s'", optarg);
            o->have_wait = true;
            break;
        case 'E':
            if (!*optarg || strlen(optarg) >= sizeof o->exchange) return usage_error("gateway", "--exchange-endpoint is empty or too long");
            snprintf(o->exchange, sizeof o->exchange, "%s", optarg);
            o->have_exchange_opts = true;
            break;
        case 'M':
            if (!*optarg || strlen(optarg) >= sizeof o->exchange_market)
                return usage_error("gateway", "--exchange-market-endpoint is empty or too long");
            snprintf(o->exchange_market, sizeof o->exchange_market, "%s", optarg);
            o->have_exchange_opts = true;
            break;
        case 'X':
            if (!parse_int_range(optarg, 10, 600000, &o->exchange_timeout_ms))
                return usage_error("gateway", "--exchange-timeout-ms must be an integer from 10 to 600000, got '%s'", optarg);
            o->have_exchange_opts = true;
            break;
        case 'H': usage(stdout); return EXIT_OK;
        case 'F': o->fix_config = optarg; break;
        case 'D':
            /* the FIX session carries no market data: a tick file, or the simulator's walk */
            if (strcmp(optarg, "walk") != 0 && !market_flags_set(&o->m, 't', optarg, err, sizeof err))
                return usage_error("gateway", "%s", err);
            break;
        case ':': return usage_error("gateway", "%s needs a value", argv[optind - 1]);
        default: return usage_error("gateway", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("gateway", "unexpected argument '%s'", argv[optind]);
    if (!strcmp(o->broker, "sim-local")) o->local = true;
    else if (!strcmp(o->broker, "fix")) o->local = o->fix = true;
    else if (strcmp(o->broker, "sim") != 0)
        return usage_error("gateway", "unknown broker '%s' (available: sim, sim-local, fix)", o->broker);
    if (o->fix != (o->fix_config != NULL))
        return usage_error("gateway", "%s", o->fix ? "--broker fix needs --fix-config FILE" : "--fix-config goes with --broker fix");
    if (!o->local && (o->m.ticks || o->m.have_seed || o->m.have_rate || o->m.have_speed || o->have_wait))
        return usage_error("gateway", "--seed, --rate, --ticks, --speed and --wait-subscribers make the market, which is the "
                         "exchange's with --broker sim: give them to 'aftm exchange' (or use --broker sim-local)");
    if (o->local && o->have_exchange_opts)
        return usage_error("gateway", "--exchange-endpoint, --exchange-market-endpoint and --exchange-timeout-ms apply to "
                         "--broker sim, not %s", o->broker);
    if (!o->local && !o->exchange_market[0]) {
        if (!exchange_market_endpoint(o->exchange, o->exchange_market, sizeof o->exchange_market, err, sizeof err))
            return usage_error("gateway", "%s", err);
    }
    if (!market_flags_check(&o->m, err, sizeof err)) return usage_error("gateway", "%s", err);
    if (!strcmp(o->ep.tick, o->ep.order) || !strcmp(o->ep.tick, o->ep.report) || !strcmp(o->ep.order, o->ep.report))
        return usage_error("gateway", "the tick, order and report endpoints must all differ");
    return -1; /* go on */
}

/* Everything the process holds, for the steps below and the cleanup. */
typedef struct {
    gw_opts o;
    char home[AFTM_PATH_MAX];
    char password[256]; /* --login's, from AFTM_PASSWORD; wiped once used */
    int sig_fd;
    void *zctx, *router;
    gw_io io;
    gw_feed feed;
    broker b;
    gateway_core *core;
    mp_reader reader; /* msgpack requests */
    int exit_code;
} gw_proc;

/* A send_order in msgpack (aftm's executor): the same rule, then the core; the answer and any
 * refusal in msgpack. */
static char *serve_packed(gw_proc *p, const char *req, size_t req_len, size_t *reply_len) {
    msgpack_object root;
    char code[32] = "INVALID_MSGPACK", msg[768] = "the request is not one msgpack map";
    bool ok = req_len <= GATEWAY_MAX_REQUEST && mp_read(&p->reader, req, req_len, &root);
    if (ok) {
        const msgpack_object *params = mp_get(&root, "parameters");
        char op[32] = "", account[BROKER_ACCOUNT_MAX] = "";
        mp_str(&root, "operation", op, sizeof op);
        mp_str(params, "order_account", account, sizeof account);
        ok = order_guard_allows(&p->b, router_peer_user(), op, account, code, sizeof code, msg, sizeof msg);
    }
    if (ok) return gateway_core_handle_packed(p->core, &root, reply_len);
    gw_packer pk;
    gw_packer_init(&pk);
    char *out = NULL;
    *reply_len = 0;
    if (gw_pack_error(&pk, code, msg) && (out = malloc(gw_packed_len(&pk)))) {
        memcpy(out, gw_packed(&pk), gw_packed_len(&pk));
        *reply_len = gw_packed_len(&pk);
    }
    gw_packer_destroy(&pk);
    return out;
}

/* The order port's handler: every connection gets the same protocol, no sessions; orders
 * pass the order port's rule (net/order_guard.h) first. JSON, or msgpack for send_order. */
static char *serve_request(void *ctx, const void *peer, size_t peer_len, const char *req, size_t req_len,
                           size_t *reply_len) {
    gw_proc *p = ctx;
    (void)peer, (void)peer_len;
    char *reply;
    if (mp_is_map(req, req_len)) {
        reply = serve_packed(p, req, req_len, reply_len);
    } else {
        json_t *root = gateway_parse_request(req, req_len); /* once, for the guard and the core */
        reply = order_guard_check_parsed(&p->b, router_peer_user(), root, reply_len);
        if (!reply) reply = gateway_core_handle_parsed(p->core, root, req_len, reply_len);
        else {
            json_decref(root);
            return reply;
        }
        json_decref(root);
    }
    uint64_t token = reply ? 0 : gateway_core_deferred(p->core);
    if (token) wait_for_answer(&p->io, token); /* the broker answers later: the next request now */
    return reply;
}

/* --login: the password is taken out of the environment at once and kept in memory only. */
static bool take_password(gw_proc *p) {
    if (!p->o.login) return true;
    char *pw = getenv("AFTM_PASSWORD");
    if (!pw || !*pw) return false;
    snprintf(p->password, sizeof p->password, "%s", pw);
    memset(pw, 0, strlen(pw)); /* also gone from /proc/<pid>/environ */
    unsetenv("AFTM_PASSWORD");
    return true;
}

/* The broker adapter: the exchange process (sim) or the simulator in this process with its
 * own feed (sim-local). */
static bool open_broker(gw_proc *p) {
    gw_opts *o = &p->o;
    char err[512];
    if (!o->local) {
        sim_remote_config rcfg = {.endpoint = o->exchange,
                                  .market_endpoint = o->exchange_market,
                                  .timeout_ms = (int)o->exchange_timeout_ms,
                                  .zctx = p->zctx};
        if (sim_remote_new(&rcfg, &p->b, err, sizeof err)) return true;
        log_error("%s", err);
        return false;
    }
    int64_t now = clock_mono_ns();
    if (o->m.ticks) {
        p->feed.src = tick_source_replay(o->m.ticks, o->m.speed, o->m.have_symbol ? o->m.symbol : NULL, now, err, sizeof err);
        if (!p->feed.src) {
            log_error("cannot replay %s: %s", o->m.ticks, err);
            return false;
        }
    } else {
        if (!o->m.have_seed) o->m.seed = (uint64_t)clock_wall_us() ^ ((uint64_t)getpid() << 32);
        p->feed.src = tick_source_random_walk(o->m.symbol, o->m.seed, o->m.rate, 0, now);
        if (!p->feed.src) {
            log_error("cannot start the random walk");
            return false;
        }
        /* the simulator's listed products all have a market, moving with the walk, as the
         * simulated exchange's do (a FIX counterparty lists its own) */
        size_t n = 0;
        const broker_product *listed = sim_default_products(&n);
        const char *codes[8];
        for (size_t i = 0; i < n && i < 8; i++) codes[i] = listed[i].code;
        if (!o->fix && !tick_source_walk_together(p->feed.src, codes, n < 8 ? n : 8))
            log_warn("market: out of memory; only %s moves", o->m.symbol);
    }
    p->feed.held = o->wait_subs > 0;
    if (o->fix) {
        fix_broker_config fcfg = {.config_path = o->fix_config,
                                  .home = p->home,
                                  .feed = {.ctx = &p->feed, .due_in_ms = gw_feed_due, .next = gw_feed_next}};
        if (fix_broker_new(&fcfg, &p->b, err, sizeof err)) return true;
        log_error("%s", err);
        p->exit_code = EXIT_USAGE;
        return false;
    }
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.feed = (sim_feed){.ctx = &p->feed, .due_in_ms = gw_feed_due, .next = gw_feed_next};
    if (sim_broker_new(&cfg, &p->b)) return true;
    log_error("out of memory");
    return false;
}

static bool bind_ports(gw_proc *p) {
    char err[512];
    /* requests are small; the PUB sockets only receive subscriptions */
    router_bind_opts pub_opts = {.max_msg = 4096, .sndhwm = 1000, .insecure = p->o.insecure, .link = LINK_TICKS};
    /* reports queue deep (REPORT_QUEUE_HWM): a burst of orders brings two or more each, and one
     * dropped here costs its subscriber a catch-up through get_reports */
    router_bind_opts rep_opts = {.max_msg = 4096, .sndhwm = REPORT_QUEUE_HWM, .insecure = p->o.insecure, .link = LINK_REPORTS};
    router_bind_opts req_opts = {.max_msg = GATEWAY_MAX_FRAME, .sndhwm = ORDER_QUEUE_HWM, .insecure = p->o.insecure, .link = LINK_ORDERS};
    const char *what = "ticks";
    if ((p->io.tick_pub = router_bind(p->zctx, ZMQ_XPUB, p->o.ep.tick, &pub_opts, err, sizeof err)) &&
        (what = "reports", p->io.report_pub = router_bind(p->zctx, ZMQ_PUB, p->o.ep.report, &rep_opts, err, sizeof err)) &&
        (what = "orders", p->router = router_bind(p->zctx, ZMQ_ROUTER, p->o.ep.order, &req_opts, err, sizeof err))) {
        p->io.router = p->router;
        return true;
    }
    log_error("%s: %s", what, err);
    return false;
}

/* The gateway is the broker session: it logs in as --login with AFTM_PASSWORD, else with the
 * simulator's own credentials, then subscribes to the market. */
static bool start_session(gw_proc *p) {
    gw_opts *o = &p->o;
    char err[512];
    if (o->fix) {
        /* the FIX session logs on by itself in the background (and again after every drop);
         * --login adds Username/Password to its Logon */
        bool started = broker_login(&p->b, o->login ? o->login : "", o->login ? p->password : "", err, sizeof err);
        memset(p->password, 0, sizeof p->password);
        if (!started) {
            log_error("%s", err);
            return false;
        }
    } else if (o->login) {
        bool logged = broker_login(&p->b, o->login, p->password, err, sizeof err);
        memset(p->password, 0, sizeof p->password);
        if (!logged) {
            log_error("%s", err); /* the last line: the menu and 'aftm login' show it */
            /* refused, unless the exchange process never answered (then: a failure to retry) */
            p->exit_code = !o->local && !sim_remote_reached(&p->b) ? EXIT_RUNTIME : EXIT_REFUSED;
            return false;
        }
        log_info("logged in to the broker as %s", o->login);
    } else if (!broker_login(&p->b, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD, err, sizeof err)) {
        log_error("broker login failed: %s", err);
        return false;
    }
    /* every product's ticks (the walk moves all the listed products), unless --symbol names one */
    const char *sub = (o->m.ticks || !o->local || !o->fix) && !o->m.have_symbol ? "*" : o->m.symbol;
    if (broker_subscribe(&p->b, sub, err, sizeof err)) return true;
    log_error("cannot subscribe to %s: %s", sub, err);
    return false;
}

static void log_ready(const gw_proc *p) {
    const gw_opts *o = &p->o;
    if (o->fix)
        log_info("gateway ready (broker fix: %s; market data %s): ticks on %s, orders on %s, reports on %s",
                 o->fix_config, o->m.ticks ? o->m.ticks : "the simulator's random walk", o->ep.tick, o->ep.order,
                 o->ep.report);
    else if (!o->local)
        log_info("gateway ready (broker sim: the exchange at %s, market %s): ticks on %s, orders on %s, reports on %s",
                 o->exchange, o->exchange_market, o->ep.tick, o->ep.order, o->ep.report);
    else if (o->m.ticks)
        log_info("gateway ready (broker sim): replaying %s at %s; ticks on %s, orders on %s, reports on %s", o->m.ticks,
                 o->m.speed > 0 ? "the file's pace" : "full speed", o->ep.tick, o->ep.order, o->ep.report);
    else
        log_info("gateway ready (broker sim): %s random walk, seed %llu, %g ticks/s; ticks on %s, orders on %s, "
                 "reports on %s",
                 o->m.symbol, (unsigned long long)o->m.seed, o->m.rate, o->ep.tick, o->ep.order, o->ep.report);
    if (o->m.ticks && o->m.speed > 0 && o->m.speed != 1) log_info("replay speed: %g x real time", o->m.speed);
    if (p->feed.held) log_info("holding the tick feed until %lld subscriber(s) connect", (long long)o->wait_subs);
}

/* New subscriptions on the tick port: the exchange may hold its market for them, and a held
 * local feed starts once there are enough. */
static void count_subscribers(gw_proc *p, int64_t *subscribers) {
    *subscribers += router_drain_subscriptions(p->io.tick_pub, "");
    broker_feed_subscribers(&p->b, *subscribers);
    if (p->feed.held && *subscribers >= p->o.wait_subs) {
        p->feed.held = false;
        tick_source_restart_clock(p->feed.src, clock_mono_ns());
        log_info("%lld subscriber(s) on the tick port: starting the feed", (long long)*subscribers);
    }
}

/* Until a signal (true) or a poll failure (false). */
static bool run_loop(gw_proc *p) {
    bool replay_end_logged = false;
    int64_t subscribers = 0;
    for (;;) {
        int64_t t = broker_next_timeout_ms(&p->b);
        long timeout = t < 0 ? -1 : (t > 60000 ? 60000 : (long)t);
        zmq_pollitem_t items[8] = {
            {p->router, 0, ZMQ_POLLIN, 0},
            {NULL, p->sig_fd, ZMQ_POLLIN, 0},
            {p->io.tick_pub, 0, ZMQ_POLLIN, 0}, /* subscriptions */
        };
        int nitems = 3;
        int bfd = broker_poll_fd(&p->b);
        if (bfd >= 0) items[nitems++] = (zmq_pollitem_t){NULL, bfd, ZMQ_POLLIN, 0};
        void *bsocks[4];
        size_t nb = broker_poll_sockets(&p->b, bsocks, 4);
        for (size_t k = 0; k < nb; k++) items[nitems++] = (zmq_pollitem_t){bsocks[k], 0, ZMQ_POLLIN, 0};
        report_batch_flush(&p->io.reports, p->io.report_pub);
        if (zmq_poll(items, nitems, timeout) < 0) {
            if (zmq_errno() == EINTR) continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            return false;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            log_info("signal %d: stopping", lifecycle_take_signal());
            return true;
        }
        if (items[2].revents & ZMQ_POLLIN) count_subscribers(p, &subscribers);
        if (items[0].revents & ZMQ_POLLIN) router_serve(p->router, serve_request, p, 256);
        broker_service(&p->b);
        if (p->o.local && p->o.m.ticks && !replay_end_logged &&
            tick_source_due_in_ms(p->feed.src, clock_mono_ns()) < 0) {
            replay_end_logged = true;
            const char *e = tick_source_error(p->feed.src);
            if (e[0]) log_error("replay of %s stopped: %s", p->o.m.ticks, e);
            log_info("replay finished: %llu ticks, %zu malformed rows skipped; the market stays at its last "
                     "prices: orders still fill there",
                     (unsigned long long)tick_source_count(p->feed.src), tick_source_bad_rows(p->feed.src));
        }
        /* as the exchange does: orders that come after the replay's last tick fill at its prices */
        if (replay_end_logged && !p->o.fix) sim_broker_match_at_last(&p->b, clock_wall_us());
    }
}

static int finish(gw_proc *p) {
    memset(p->password, 0, sizeof p->password);
    gateway_core_free(p->core);
    mp_reader_destroy(&p->reader);
    for (size_t i = 0; i < p->io.nwaiting; i++) router_pending_free(p->io.waiting[i].to);
    free(p->io.waiting);
    if (p->b.ops && broker_is_connected(&p->b)) broker_logout(&p->b);
    if (p->router) zmq_close(p->router);
    if (p->io.tick_pub) zmq_close(p->io.tick_pub);
    if (p->io.report_pub) report_batch_flush(&p->io.reports, p->io.report_pub);
    report_batch_free(&p->io.reports);
    if (p->io.report_pub) zmq_close(p->io.report_pub);
    broker_destroy(&p->b); /* before the context: the remote adapter's sockets live in it */
    if (p->zctx) zmq_ctx_term(p->zctx);
    tick_source_free(p->feed.src);
    lifecycle_restore();
    return p->exit_code;
}

int cmd_gateway(int argc, char **argv) {
    static gw_proc proc; /* large (the options); one gateway per process */
    gw_proc *p = &proc;
    memset(p, 0, sizeof *p);
    int rc = parse_args(argc, argv, &p->o);
    if (rc >= 0) return rc;
    if (!take_password(p)) return usage_error("gateway", "--login needs the password in the environment variable AFTM_PASSWORD");
    log_set_name("gateway");
    if (p->o.quiet) log_set_quiet(1);

    char err[512];
    /* Refuse unsafe binds before doing anything else. */
    const char *eps[3] = {p->o.ep.tick, p->o.ep.order, p->o.ep.report};
    for (int i = 0; i < 3; i++)
        if (!net_bind_check(eps[i], p->o.insecure, err, sizeof err)) {
            memset(p->password, 0, sizeof p->password);
            fprintf(stderr, "aftm gateway: %s\n", err);
            return EXIT_USAGE;
        }
    if (!home_resolve(p->o.home, p->home, sizeof p->home, err, sizeof err) ||
        !net_secure_init(p->home, ROLE_GATEWAY, p->o.insecure, err, sizeof err)) {
        memset(p->password, 0, sizeof p->password);
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    /* From here on SIGINT/SIGTERM only ask the loop to stop. */
    if ((p->sig_fd = lifecycle_install_wakeup()) < 0) {
        memset(p->password, 0, sizeof p->password);
        log_error("cannot create the signal pipe: %s", strerror(errno));
        return EXIT_RUNTIME;
    }
    p->exit_code = EXIT_RUNTIME;
    mp_reader_init(&p->reader); /* from here on every way out goes through finish */
    if (!(p->zctx = zmq_ctx_new())) {
        log_error("cannot create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
        return finish(p);
    }
    if (!open_broker(p) || !bind_ports(p)) return finish(p);
    gateway_sinks sinks = {.ctx = &p->io, .publish_tick = publish_tick, .publish_report = publish_report,
                           .reply = send_reply};
    if (!(p->core = gateway_core_new(&p->b, &sinks, 0))) {
        log_error("out of memory");
        return finish(p);
    }
    if (!start_session(p)) return finish(p);
    log_ready(p);
    p->exit_code = run_loop(p) ? EXIT_OK : EXIT_RUNTIME;
    report_batch_flush(&p->io.reports, p->io.report_pub);
    log_info("gateway stopped: %llu ticks published, %llu orders, %llu reports", (unsigned long long)p->io.ticks,
             (unsigned long long)gateway_core_orders(p->core), (unsigned long long)p->io.reports.sent);
    return finish(p);
}
