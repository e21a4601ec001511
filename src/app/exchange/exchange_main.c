/* aftm exchange: the process around the core (exchange.h). Arguments, the market feed, the
 * sockets and the loop.
 *
 * One thread, one loop blocking in zmq_poll on the request ROUTER, the market XPUB (for its
 * subscriptions) and a signal pipe, with a timeout up to the next due tick or the next save
 * of the last prices; no sleeps. */
#include "app/exchange/exchange_main.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "app/exchange/exchange.h"
#include "broker/tick_source.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/exit_codes.h"
#include "core/usage.h"
#include "core/log.h"
#include "core/parse.h"
#include "net/gw_proto.h"
#include "net/lifecycle.h"
#include "net/market_feed.h"
#include "net/report_batch.h"
#include "net/router.h"
#include "net/secure.h"
#include "net/zsock.h"

#define SAVE_EVERY_MS 1000 /* the last prices and the replay position, at most this often */

typedef struct {
    void *pub;
    uint64_t ticks;
    report_batch reports; /* the reports committed together leave together (net/report_batch.h) */
} x_io;

/* "TICK:<SYMBOL>" and the tick in the market feed's msgpack (net/market_feed.h). */
static void publish_tick(void *ctx, const broker_tick *t) {
    x_io *io = ctx;
    char topic[ZSOCK_TOPIC_MAX], body[MARKET_FEED_MAX];
    int tn = snprintf(topic, sizeof topic, "TICK:%s", t->symbol);
    size_t n = market_feed_encode(t, body, sizeof body);
    if (!n || tn <= 0 || (size_t)tn >= sizeof topic) {
        log_warn("a tick of %s could not be encoded; not published", t->symbol);
        return;
    }
    report_batch_flush(&io->reports, io->pub); /* the reports before it, as they happened */
    if (zsock_send_topic(io->pub, topic, body, n)) io->ticks++;
}

/* Replies held until their batch is committed (group commit). */
typedef struct {
    router_pending *to;
    char *text;
    size_t len;
} held_reply;

typedef struct {
    xcore *core;
    held_reply *held;
    size_t n, cap;
} x_batch;

/* The request port's handler: the ROUTER's identity of the connection names its session. An
 * order's reply is held until its batch is committed. */
static char *serve_request(void *ctx, const void *peer, size_t peer_len, const char *req, size_t req_len,
                           size_t *reply_len) {
    x_batch *b = ctx;
    char *text = xcore_handle(b->core, peer, peer_len, req, req_len, reply_len);
    if (!text || !xcore_held(b->core)) return text;
    router_pending *to = router_defer();
    if (!to || !buf_grow((void **)&b->held, &b->cap, b->n + 1, sizeof *b->held)) {
        /* out of memory: unanswered, the gateway settles it by id */
        router_pending_free(to);
        free(text);
        return NULL;
    }
    b->held[b->n++] = (held_reply){to, text, *reply_len};
    return NULL;
}

/* Serves what waits on the request port (up to max) as one batch: one commit, then the
 * reports, then the replies. */
static void serve_batch(void *router, x_batch *b, int max) {
    xcore_batch_begin(b->core);
    for (int k = 0; k < max && router_serve_one(router, serve_request, b) && !xcore_failed(b->core); k++) {
    }
    bool ok = xcore_batch_end(b->core);
    for (size_t i = 0; i < b->n; i++) {
        if (ok) router_reply(router, b->held[i].to, b->held[i].text, b->held[i].len);
        else router_pending_free(b->held[i].to); /* not durable: never acknowledged */
        free(b->held[i].text);
    }
    b->n = 0;
}

/* The report's msgpack (the bytes its row in the report log holds), sent with the others of its
 * commit in one "REPORT" message: at the next tick, or once the loop has served what came. */
static void publish_report(void *ctx, const broker_report *r, const void *body, size_t len) {
    x_io *io = ctx;
    if (!report_batch_add(&io->reports, io->pub, body, len))
        log_warn("report %llu could not be queued for the market; gateways fetch it by number", (unsigned long long)r->seq);
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm exchange [--home DIR] [--endpoint E] [--market-endpoint E]\n"
            "                     [--seed N] [--rate R] | [--ticks FILE [--speed X]] [--symbol S]\n"
            "                     [--wait-subscribers N] [--feed-resume KEY] [--insecure] [--quiet]\n\n"
            "The simulated exchange: makes or replays the market, matches orders against it, and keeps\n"
            "its book (orders, fills, positions, cash, the report log) in DIR/exchange.db, so that it\n"
            "survives its own restart. Gateways reach it with 'aftm gateway --broker sim'.\n\n"
            "  --home DIR           data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --endpoint E         requests over ROUTER: JSON, send_order also msgpack (default\n"
            "                       tcp://127.0.0.1:5559; ZMQ_HOST, AFTM_EXCHANGE_PORT)\n"
            "  --market-endpoint E  PUB for ticks (\"TICK:<SYMBOL>\") and execution reports (\"REPORT\"),\n"
            "                       both msgpack\n"
            "                       (default: AFTM_EXCHANGE_MARKET_PORT on the same host, else the\n"
            "                       request port + %d)\n"
            "  --seed N             random-walk seed, integer >= 0 (default: from the clock, logged)\n"
            "  --rate R             random-walk steps per second, each a tick of every listed product,\n"
            "                       0 < R <= 1000000 (default 10)\n"
            "  --symbol S           product of the random walk (default TXFF5); with --ticks, publish\n"
            "                       every replayed tick under S instead of the file's own symbols\n"
            "  --ticks FILE         replay a tick file (CSV datetime,symbol,price,volume or TAIFEX's\n"
            "                       daily tick CSV) instead of the random walk\n"
            "  --speed X            replay at X times real time; 0 = as fast as possible (default 1)\n"
            "  --wait-subscribers N hold the market until N subscribers are there: subscriptions to\n"
            "                       \"TICK:\" on the market port, plus those each gateway reports for\n"
            "                       the ticks it relays (default 0: start at once)\n"
            "  --feed-resume KEY    a replay goes on where the last exchange with the same KEY and file\n"
            "                       stopped (aftm run passes its own id: a restart resumes, a new run\n"
            "                       starts over); without it a replay starts from the file's beginning\n"
            "  --insecure           plain text, no CURVE (loopback only, with a warning; default: CURVE\n"
            "                       with the keys under --home)\n"
            "  --quiet              log only warnings and errors\n"
            "  --help               this text\n\n"
            "Requests are JSON {\"operation\", \"parameters\", \"id\"} (REQ or DEALER): health, login,\n"
            "logout, list_accounts, list_products, subscribe, send_order, cancel_order, order_status,\n"
            "query_positions, get_reports {since_seq}, feed_subscribers; all but health and login need\n"
            "a login on the same connection. send_order is also taken as a msgpack map\n"
            "{\"operation\": \"send_order\", \"id\", \"order\"} with the JSON's field names, and answered\n"
            "in msgpack (the gateway sends its orders so). Execution reports are msgpack maps with\n"
            "the JSON's field names, on the market PUB (those of one commit in one message, one\n"
            "after another) and in the report log (get_reports answers in JSON). Every report has\n"
            "a seq from the report log in exchange.db: strictly increasing and kept across\n"
            "restarts, of the exchange and of its gateways. A change of the book is committed\n"
            "before its report or reply leaves.\n\n"
            "A random walk restarted goes on from the last price it had. Orders resting when the\n"
            "exchange stopped rest again after its restart. Clients log in as %s (password\n"
            "%s); order accounts SIM-0001 and SIM-0002. SIGINT/SIGTERM stop it.\n",
            EXCHANGE_MARKET_PORT_OFFSET, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD);
}

typedef struct {
    market_flags m; /* --seed --rate --ticks --speed --symbol */
    const char *home, *resume_key;
    char endpoint[AFTM_ENDPOINT_MAX], market[AFTM_ENDPOINT_MAX];
    bool insecure, quiet;
    int64_t wait_subs;
} x_opts;

static int parse_args(int argc, char **argv, x_opts *o) {
    static const struct option opts[] = {
        {"home", 1, 0, 'h'},      {"endpoint", 1, 0, 'e'},         {"market-endpoint", 1, 0, 'm'},
        {"seed", 1, 0, 's'},      {"rate", 1, 0, 'r'},             {"ticks", 1, 0, 't'},
        {"speed", 1, 0, 'x'},     {"symbol", 1, 0, 'y'},           {"wait-subscribers", 1, 0, 'w'},
        {"quiet", 0, 0, 'q'},     {"insecure", 0, 0, 'i'},         {"feed-resume", 1, 0, 'k'},
        {"help", 0, 0, 'H'},      {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    market_flags_init(&o->m);
    endpoints ep;
    endpoints_from_env(&ep);
    snprintf(o->endpoint, sizeof o->endpoint, "%s", ep.exchange);
    int c;
    char err[256];
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'h': o->home = optarg; break;
        case 'e':
            if (!*optarg || strlen(optarg) >= sizeof o->endpoint) return usage_error("exchange", "--endpoint is empty or too long");
            snprintf(o->endpoint, sizeof o->endpoint, "%s", optarg);
            break;
        case 'm':
            if (!*optarg || strlen(optarg) >= sizeof o->market) return usage_error("exchange", "--market-endpoint is empty or too long");
            snprintf(o->market, sizeof o->market, "%s", optarg);
            break;
        case 's':
        case 'r':
        case 't':
        case 'x':
        case 'y':
            if (!market_flags_set(&o->m, c, optarg, err, sizeof err)) return usage_error("exchange", "%s", err);
            break;
        case 'w':
            if (!parse_int_range(optarg, 0, 1000, &o->wait_subs))
                return usage_error("exchange", "--wait-subscribers must be an integer from 0 to 1000, got '%s'", optarg);
            break;
        case 'k':
            if (!*optarg || strlen(optarg) > 64) return usage_error("exchange", "--feed-resume must be 1-64 characters");
            o->resume_key = optarg;
            break;
        case 'q': o->quiet = true; break;
        case 'i': o->insecure = true; break;
        case 'H': usage(stdout); return EXIT_OK;
        case ':': return usage_error("exchange", "%s needs a value", argv[optind - 1]);
        default: return usage_error("exchange", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usage_error("exchange", "unexpected argument '%s'", argv[optind]);
    if (!market_flags_check(&o->m, err, sizeof err)) return usage_error("exchange", "%s", err);
    if (!o->market[0] && !exchange_market_endpoint(o->endpoint, o->market, sizeof o->market, err, sizeof err))
        return usage_error("exchange", "%s", err);
    if (!strcmp(o->market, o->endpoint)) return usage_error("exchange", "the request and market endpoints must differ");
    const char *eps[2] = {o->endpoint, o->market};
    for (int i = 0; i < 2; i++)
        if (!net_bind_check(eps[i], o->insecure, err, sizeof err)) return usage_error("exchange", "%s", err);
    return -1;
}

/* Every product the exchange lists (and so a user can register) has a market: the walk moves
 * them all together, TX and MTX of each month at the walk's price, so a condition or an order
 * on any of them trades. Without this only the walk's own symbol moved, and a registered
 * product without ticks left its conditions waiting and its market orders unfilled forever. */
static void walk_listed_products(xcore *core, tick_source *src, const char *walk_symbol) {
    size_t n = broker_list_products(xcore_broker(core), NULL, 0);
    broker_product *p = calloc(n ? n : 1, sizeof *p);
    const char **codes = calloc(n ? n : 1, sizeof *codes);
    if (p && codes) {
        n = broker_list_products(xcore_broker(core), p, n);
        char names[256] = "";
        for (size_t i = 0; i < n; i++) {
            codes[i] = p[i].code;
            size_t len = strlen(names);
            if (strcmp(p[i].code, walk_symbol) && len < sizeof names - BROKER_SYMBOL_MAX - 4)
                snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", p[i].code);
        }
        if (!tick_source_walk_together(src, codes, n)) log_warn("market: out of memory; only %s moves", walk_symbol);
        else if (names[0]) log_info("market: %s move together with %s (every listed product has a market)", names, walk_symbol);
    } else {
        log_warn("market: out of memory; only %s moves", walk_symbol);
    }
    free(codes);
    free(p);
}

/* The tick feed, started (or resumed) as the options and the book say. */
static tick_source *open_feed(const x_opts *o, xcore *core, exchange_store *xs, char *feed_key, size_t key_cap) {
    char err[512];
    int64_t now = clock_mono_ns();
    feed_key[0] = '\0';
    if (o->m.ticks) {
        tick_source *src = tick_source_replay(o->m.ticks, o->m.speed, o->m.have_symbol ? o->m.symbol : NULL, now, err, sizeof err);
        if (!src) {
            log_error("cannot replay %s: %s", o->m.ticks, err);
            return NULL;
        }
        if (o->resume_key) {
            snprintf(feed_key, key_cap, "%s|%s|%s", o->resume_key, o->m.ticks, o->m.have_symbol ? o->m.symbol : "");
            char saved[600] = "", count[32] = "";
            if (xstore_meta_get(xs, "feed_key", saved, sizeof saved) && !strcmp(saved, feed_key) &&
                xstore_meta_get(xs, "feed_count", count, sizeof count)) {
                uint64_t skip = strtoull(count, NULL, 10), n = 0;
                broker_tick t;
                while (n < skip && tick_source_next(src, INT64_MAX / 4, &t) == 1) n++;
                tick_source_restart_clock(src, clock_mono_ns());
                log_info("replay resumed after %llu ticks already played", (unsigned long long)n);
            }
        }
        return src;
    }
    uint64_t seed = o->m.have_seed ? o->m.seed : (uint64_t)clock_wall_us() ^ ((uint64_t)getpid() << 32);
    price_t start = sim_broker_last_price(xcore_broker(core), o->m.symbol);
    tick_source *src = tick_source_random_walk(o->m.symbol, seed, o->m.rate, start > 0 ? start : 0, now);
    if (!src) {
        log_error("cannot start the random walk");
        return NULL;
    }
    walk_listed_products(core, src, o->m.symbol);
    if (start > 0)
        log_info("market: %s random walk going on from its last price %lld, seed %llu, %g ticks/s", o->m.symbol,
                 (long long)start, (unsigned long long)seed, o->m.rate);
    else
        log_info("market: %s random walk, seed %llu, %g ticks/s", o->m.symbol, (unsigned long long)seed, o->m.rate);
    return src;
}

static void save_feed_position(exchange_store *xs, const char *feed_key, tick_source *src) {
    if (!feed_key[0] || !src) return;
    char count[32];
    snprintf(count, sizeof count, "%llu", (unsigned long long)tick_source_count(src));
    if (xstore_begin(xs)) {
        /* the position counts from the file's start, as the skip on resume does */
        xstore_meta_set(xs, "feed_key", feed_key);
        xstore_meta_set(xs, "feed_count", count);
        xstore_commit(xs);
    }
}

int cmd_exchange(int argc, char **argv) {
    x_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    log_set_name("exchange");
    if (o.quiet) log_set_quiet(1);
    char home[AFTM_PATH_MAX], err[512];
    if (!home_resolve(o.home, home, sizeof home, err, sizeof err) ||
        !net_secure_init(home, ROLE_EXCHANGE, o.insecure, err, sizeof err)) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    int sig_fd = lifecycle_install_wakeup();
    if (sig_fd < 0) {
        log_error("cannot create the signal pipe: %s", strerror(errno));
        return EXIT_RUNTIME;
    }

    int exit_code = EXIT_RUNTIME;
    exchange_store *xs = NULL;
    xcore *core = NULL;
    x_batch batch = {0};
    tick_source *src = NULL;
    void *zctx = NULL, *router = NULL;
    x_io io = {0};
    char feed_key[600] = "";
    uint64_t saved_count = 0;

    zctx = zmq_ctx_new();
    if (!zctx) {
        log_error("cannot create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
        goto done;
    }
    /* bind first: a second exchange on the same ports stops here, before touching the book */
    router_bind_opts req_opts = {.max_msg = EXCHANGE_MAX_REQUEST, .sndhwm = ORDER_QUEUE_HWM, .insecure = o.insecure, .link = LINK_EXCHANGE};
    router_bind_opts pub_opts = {.max_msg = 4096, .sndhwm = 100000, .insecure = o.insecure, .link = LINK_MARKET};
    if (!(router = router_bind(zctx, ZMQ_ROUTER, o.endpoint, &req_opts, err, sizeof err))) {
        log_error("requests: %s", err);
        goto done;
    }
    if (!(io.pub = router_bind(zctx, ZMQ_XPUB, o.market, &pub_opts, err, sizeof err))) {
        log_error("market: %s", err);
        goto done;
    }
    if (!(xs = xstore_open(home, err, sizeof err))) {
        log_error("%s", err);
        goto done;
    }
    sim_config cfg;
    sim_config_default(&cfg);
    xcore_sinks sinks = {.ctx = &io, .publish_tick = publish_tick, .publish_report = publish_report};
    if (!(core = xcore_new(xs, &cfg, &sinks, err, sizeof err))) {
        log_error("cannot restore the book from %s/%s: %s", home, XSTORE_FILE, err);
        goto done;
    }
    batch.core = core;
    size_t open_orders = 0, orders = sim_broker_order_count(xcore_broker(core), &open_orders);
    log_info("book %s/%s: %zu orders (%zu resting), %llu fills, report seq %llu", home, XSTORE_FILE, orders, open_orders,
             (unsigned long long)xstore_count(xs, "fills"), (unsigned long long)xstore_last_seq(xs));
    if (!(src = open_feed(&o, core, xs, feed_key, sizeof feed_key))) goto done;
    saved_count = tick_source_count(src);
    bool held = o.wait_subs > 0;
    log_info("exchange ready: requests on %s, market on %s", o.endpoint, o.market);
    if (o.m.ticks) log_info("market: replaying %s at %s", o.m.ticks, o.m.speed > 0 ? "the file's pace" : "full speed");
    if (held) log_info("holding the market until %lld subscriber(s) are there", (long long)o.wait_subs);

    bool stop = false, replay_end_logged = false;
    int64_t direct_subs = 0, next_save = -1, last_ts_us = 0;
    while (!stop && !xcore_failed(core)) {
        int64_t now_ms = clock_mono_ms();
        int64_t t = held ? -1 : tick_source_due_in_ms(src, clock_mono_ns());
        if (next_save >= 0) {
            int64_t s = next_save > now_ms ? next_save - now_ms : 0;
            if (t < 0 || s < t) t = s;
        }
        long timeout = t < 0 ? -1 : (t > 60000 ? 60000 : (long)t);
        zmq_pollitem_t items[3] = {
            {router, 0, ZMQ_POLLIN, 0}, {io.pub, 0, ZMQ_POLLIN, 0}, {NULL, sig_fd, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, 3, timeout);
        if (n < 0) {
            if (zmq_errno() == EINTR) continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (items[2].revents & ZMQ_POLLIN) {
            log_info("signal %d: stopping", lifecycle_take_signal());
            stop = true;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            /* a subscription to "TICK:" or "TICK:<symbol>" counts as a subscriber of the feed (a
             * gateway subscribes to "TICK" and tells its own subscribers instead) */
            direct_subs += router_drain_subscriptions(io.pub, "TICK:");
        }
        if (items[0].revents & ZMQ_POLLIN) serve_batch(router, &batch, 256);
        report_batch_flush(&io.reports, io.pub);
        if (held) {
            int64_t subs = direct_subs + xcore_relayed_subscribers(core);
            if (subs >= o.wait_subs) {
                held = false;
                tick_source_restart_clock(src, clock_mono_ns());
                log_info("%lld subscriber(s) to the market: starting it", (long long)subs);
            }
        }
        if (!held) {
            broker_tick tk;
            for (int k = 0; k < 4096 && !xcore_failed(core) && tick_source_next(src, clock_mono_ns(), &tk) == 1; k++) {
                xcore_market_tick(core, &tk);
                last_ts_us = tk.ts_us;
            }
            if (tick_source_count(src) != saved_count && next_save < 0) next_save = clock_mono_ms() + SAVE_EVERY_MS;
        }
        if (next_save >= 0 && clock_mono_ms() >= next_save) {
            xcore_save_prices(core);
            save_feed_position(xs, feed_key, src);
            saved_count = tick_source_count(src);
            next_save = -1;
        }
        if (o.m.ticks && !replay_end_logged && tick_source_due_in_ms(src, clock_mono_ns()) < 0) {
            replay_end_logged = true;
            const char *e = tick_source_error(src);
            if (e[0]) log_error("replay of %s stopped: %s", o.m.ticks, e);
            log_info("replay finished: %llu ticks, %zu malformed rows skipped; the market stays at its last "
                     "prices: orders still fill there",
                     (unsigned long long)tick_source_count(src), tick_source_bad_rows(src));
            xcore_replay_over(core, tick_source_count(src));
        }
        /* A replay (at full speed above all) can end before the orders its last ticks caused
         * arrive: the market does not vanish, it stays at its last prices, and what is open or
         * comes in is matched there, as one more trade at that price would. */
        if (replay_end_logged && !xcore_failed(core)) xcore_match_at_last(core, last_ts_us ? last_ts_us : clock_wall_us());
        report_batch_flush(&io.reports, io.pub);
    }
    report_batch_flush(&io.reports, io.pub);
    if (!xcore_failed(core)) {
        xcore_save_prices(core);
        save_feed_position(xs, feed_key, src);
    }
    exit_code = stop && !xcore_failed(core) ? EXIT_OK : EXIT_RUNTIME;
    log_info("exchange stopped: %llu ticks, %llu reports published; report seq %llu", (unsigned long long)io.ticks,
             (unsigned long long)io.reports.sent, (unsigned long long)xstore_last_seq(xs));

done:
    free(batch.held);
    xcore_free(core);
    xstore_close(xs);
    tick_source_free(src);
    if (router) zmq_close(router);
    report_batch_free(&io.reports);
    if (io.pub) zmq_close(io.pub);
    if (zctx) zmq_ctx_term(zctx);
    lifecycle_restore();
    return exit_code;
}
