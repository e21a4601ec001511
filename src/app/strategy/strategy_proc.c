/* aftm strategy: SUB ticks, evaluate the conditions, PUSH signals.
 *
 * The loop blocks in zmq_poll. State changes are collected per tick and handed to a writer
 * thread, which commits them in one transaction: at once when a signal went out, else at most
 * every FLUSH_MS; the loop itself never waits on the database. A signal's id is derived from its condition and stage,
 * so if the process dies between sending and writing, the replayed signal is recognised by
 * the executor as the same one. Conditions added, cancelled or settled by other processes are
 * picked up by watching the database's data_version every RELOAD_MS. The outcome of an entry
 * is learned at once from the gateway's execution reports (the executor also records it in
 * the database, which is what a restarted strategy reads). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "core/exit_codes.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "domain/strategy.h"
#include "net/lifecycle.h"
#include "app/strategy/state_writer.h"
#include "net/zsock.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "wire/codec.h"

#define FLUSH_MS 50
#define RELOAD_MS 200
#define DRAIN_MAX 4096
#define MAX_TICK_PRICE 1e12

typedef struct {
    char buf[WIRE_BUF_MAX];
    size_t len;
    char desc[160];
} pending_signal;

typedef struct {
    /* config */
    bool original_wire, rearm;
    /* runtime */
    void *zctx, *sub, *push, *reports;
    sqlite3 *db;
    condition_store *cs;
    strategy_engine *engine;
    wire_decoder dec;
    state_change *dirty; /* changes not yet handed to the writer */
    size_t ndirty, dirty_cap;
    state_writer *writer;
    int64_t *settled; /* exited here, maybe not yet written: never re-added from the database */
    size_t nsettled, settled_cap;
    pending_signal *pending;
    size_t npending, pending_cap;
    uint64_t seq;
    int64_t next_rearm_id; /* negative ids: in-memory re-created conditions, never stored */
    double tick_when;
    bool sent_signal;
    long long data_version;
    uint64_t ticks, bad_ticks, signals;
} strat;

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
            "  --report-endpoint  the gateway's execution reports, to learn when an entry is filled\n"
            "                     (default tcp://127.0.0.1:5558; env ZMQ_HOST, AFTM_REPORT_PORT)\n"
            "  --home             data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --wire original    send the original's 4-key TradingSignal (for the original's\n"
            "                     executor); entries are then taken as filled at once, as there\n"
            "                     is no fill feedback\n"
            "  --rearm            re-create each condition in memory after its exit (benchmarks and\n"
            "                     soak tests; the copies are not stored)\n"
            "  --quiet            log warnings and errors only\n");
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t n = *cap ? *cap * 2 : 256;
    while (n < need) n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p) return false;
    *arr = p;
    *cap = n;
    return true;
}

static void mark_dirty(strat *s, const condition *c, const char *note) {
    if (c->id <= 0) return; /* re-created copies live in memory only */
    if (!grow((void **)&s->dirty, &s->dirty_cap, s->ndirty + 1, sizeof *s->dirty)) {
        log_error("out of memory recording a state change of condition %lld", (long long)c->id);
        return;
    }
    state_change *d = &s->dirty[s->ndirty++];
    d->c = *c;
    d->has_note = note != NULL;
    if (note) snprintf(d->note, sizeof d->note, "%s", note);
}

/* Hands the collected changes to the writer thread; the tick loop never waits on disk. */
static void flush_dirty(strat *s) {
    if (!s->ndirty) return;
    if (!state_writer_submit(s->writer, s->dirty, s->ndirty, s->seq)) {
        log_error("out of memory handing %zu condition update(s) to the writer; kept", s->ndirty);
        return;
    }
    s->ndirty = 0;
}

/* Sends what is queued, oldest first; stops at the first one the socket cannot take. */
static void send_pending(strat *s) {
    size_t i = 0;
    for (; i < s->npending; i++) {
        if (zmq_send(s->push, s->pending[i].buf, s->pending[i].len, ZMQ_DONTWAIT) < 0) break;
        log_info("signal sent late: %s", s->pending[i].desc);
    }
    if (i) {
        memmove(s->pending, s->pending + i, (s->npending - i) * sizeof *s->pending);
        s->npending -= i;
    }
}

static void emit_signal(strat *s, const condition *c, unsigned ev, price_t price, const char *symbol) {
    bool exit = ev & (COND_EXIT_TP | COND_EXIT_SL);
    wire_signal sig;
    memset(&sig, 0, sizeof sig);
    sig.when = s->tick_when;
    sig.side = (exit ? side_opposite(c->side) : c->side) == SIDE_BUY ? WIRE_BUY : WIRE_SELL;
    snprintf(sig.commodity_id, sizeof sig.commodity_id, "%s", symbol);
    sig.has_ext = !s->original_wire;
    if (c->id > 0) snprintf(sig.signal_id, sizeof sig.signal_id, "%lld.%c", (long long)c->id, exit ? 'X' : 'E');
    else snprintf(sig.signal_id, sizeof sig.signal_id, "m%d_%lld.%c", (int)getpid(), (long long)-c->id, exit ? 'X' : 'E');
    sig.condition_id = c->id;
    sig.quantity = exit && c->filled_qty > 0 ? c->filled_qty : c->quantity;
    sig.seq = ++s->seq;
    sig.price = price;
    pending_signal p;
    p.len = wire_encode_signal(&sig, sig.has_ext, p.buf, sizeof p.buf);
    char whose[48];
    if (c->id > 0) snprintf(whose, sizeof whose, "condition %lld", (long long)c->id);
    else snprintf(whose, sizeof whose, "a re-armed copy, not stored");
    snprintf(p.desc, sizeof p.desc, "%s %s %s %lld lot(s) at %lld, %s (%s)", sig.signal_id,
             side_name(sig.side == WIRE_BUY ? SIDE_BUY : SIDE_SELL), symbol, (long long)sig.quantity,
             (long long)price, exit ? (ev & COND_EXIT_TP ? "exit: take profit" : "exit: stop loss") : "entry", whose);
    s->signals++;
    s->sent_signal = true;
    if (s->npending == 0 && zmq_send(s->push, p.buf, p.len, ZMQ_DONTWAIT) == (int)p.len) {
        log_info("signal %s", p.desc);
        return;
    }
    /* No executor connected, or its queue is full: keep the signal and retry; the executor
     * judges its age when it finally arrives. */
    if (!grow((void **)&s->pending, &s->pending_cap, s->npending + 1, sizeof *s->pending)) {
        log_error("out of memory: signal %s could not be queued", p.desc);
        return;
    }
    s->pending[s->npending++] = p;
    log_warn("executor not reachable; signal %s queued (%zu waiting)", p.desc, s->npending);
}

typedef struct {
    strat *s;
    const char *symbol;
} tick_ctx;

static void on_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    tick_ctx *t = ctx;
    strat *s = t->s;
    if (ev & COND_TRIGGERED) log_info("condition %lld triggered at %lld", (long long)c->id, (long long)price);
    if (ev & COND_SIGNAL_MASK) emit_signal(s, c, ev, price, t->symbol);
    const char *note = (ev & COND_EXIT_TP) ? "exited: take profit" : (ev & COND_EXIT_SL) ? "exited: stop loss" : NULL;
    mark_dirty(s, c, note);
    if ((ev & (COND_EXIT_TP | COND_EXIT_SL)) && c->id > 0 &&
        grow((void **)&s->settled, &s->settled_cap, s->nsettled + 1, sizeof *s->settled))
        s->settled[s->nsettled++] = c->id;
    if (s->rearm && (ev & (COND_EXIT_TP | COND_EXIT_SL))) {
        condition again;
        condition_init(&again, --s->next_rearm_id, c->symbol, c->side, c->base_trigger, c->turning_point,
                       c->quantity, c->take_profit_point, c->stop_loss_point, c->is_following);
        /* added after this tick's walk: the engine does not visit it until the next tick */
        strategy_add(s->engine, &again);
    }
}

static void handle_tick(strat *s, const wire_tick *t) {
    if (!isfinite(t->match_price) || t->match_price <= 0 || t->match_price > MAX_TICK_PRICE) {
        if (s->bad_ticks++ % 1000 == 0)
            log_warn("ignored a tick of %s with a bad price %g (%llu so far)", t->commodity_id, t->match_price,
                     (unsigned long long)s->bad_ticks);
        return;
    }
    s->ticks++;
    s->tick_when = t->when;
    tick_ctx ctx = {s, t->commodity_id};
    /* the original truncates prices with int() */
    strategy_on_tick(s->engine, t->commodity_id, (price_t)trunc(t->match_price), on_event, &ctx);
}

/* An entry's order is "aftm-<condition id>.E": a fill or a refusal settles the entry. */
static void on_report(strat *s, const char *body, size_t len) {
    json_t *rep = json_loadb(body, len, 0, NULL);
    const char *coid = json_string_value(json_object_get(rep, "client_order_id"));
    const char *status = json_string_value(json_object_get(rep, "status"));
    long long id = 0;
    char tail[4] = "";
    int pid = 0;
    /* stored conditions: aftm-<id>.E; re-created copies: aftm-m<pid>_<n>.E (condition id -n) */
    bool ours = coid && sscanf(coid, "aftm-%lld.%3s", &id, tail) == 2 && id > 0;
    if (!ours && coid && sscanf(coid, "aftm-m%d_%lld.%3s", &pid, &id, tail) == 3 && pid == (int)getpid() && id > 0) {
        id = -id;
        ours = true;
    }
    if (ours && status && !strcmp(tail, "E")) {
        const condition *c = strategy_find(s->engine, id);
        long long filled = json_integer_value(json_object_get(rep, "filled_qty"));
        if (c && c->entry == ENTRY_PENDING) {
            if (!strcmp(status, "filled") || (filled > 0 && (!strcmp(status, "cancelled") || !strcmp(status, "expired")))) {
                log_info("condition %lld: entry filled (%lld lot(s)); watching take profit and stop loss", id,
                         filled > 0 ? filled : (long long)c->quantity);
                double fill_price = json_number_value(json_object_get(rep, "avg_fill_price"));
                char symbol[CONDITION_SYMBOL_MAX];
                snprintf(symbol, sizeof symbol, "%s", c->symbol);
                tick_ctx ctx = {s, symbol};
                /* the fill's own tick may already be past take profit or stop loss */
                if (fill_price > 0)
                    strategy_entry_filled_at(s->engine, id, filled > 0 ? filled : c->quantity, (price_t)trunc(fill_price),
                                             on_event, &ctx);
                else strategy_entry_filled(s->engine, id, filled > 0 ? filled : c->quantity);
            } else if (!strcmp(status, "rejected") || !strcmp(status, "cancelled") || !strcmp(status, "expired")) {
                strategy_entry_rejected(s->engine, id);
                log_warn("condition %lld: entry %s; no exit will follow", id, status);
            }
        }
    }
    json_decref(rep);
}

static void drain_reports(strat *s) {
    char topic[16], body[4096];
    for (int i = 0; i < 256; i++) {
        size_t tlen;
        bool truncated;
        int n = zsock_recv_2(s->reports, topic, sizeof topic, body, sizeof body, &tlen, &truncated);
        if (n < 0) return;
        if (!truncated) on_report(s, body, (size_t)n);
    }
}

static void drain_ticks(strat *s) {
    char topic[16], body[2048];
    for (int i = 0; i < DRAIN_MAX; i++) {
        size_t tlen;
        bool truncated;
        int n = zsock_recv_2(s->sub, topic, sizeof topic, body, sizeof body, &tlen, &truncated);
        if (n < 0) return;
        if (truncated) {
            log_warn("skipped an oversized message on the tick socket");
            continue;
        }
        if (tlen && !(tlen == 4 && !memcmp(topic, "TICK", 4))) continue; /* another topic */
        wire_msg m;
        wire_kind k = wire_decode(&s->dec, body, (size_t)n, &m);
        if (k == WIRE_TICK) handle_tick(s, &m.u.tick);
        else if (k == WIRE_ERROR) log_warn("skipped an undecodable tick message: %s (%s)", m.error, m.error_class);
        else log_warn("received a non-TickEvent message; skipped");
    }
}

/* Conditions in the database are the truth for what is active: add new ones, drop those
 * cancelled or settled elsewhere, apply entry outcomes written by the executor. */
typedef struct {
    strat *s;
    int64_t *ids;
    size_t n, cap;
} sync_ctx;

static void sync_row(void *ctx, const condition_record *r) {
    sync_ctx *y = ctx;
    strat *s = y->s;
    if (grow((void **)&y->ids, &y->cap, y->n + 1, sizeof *y->ids)) y->ids[y->n++] = r->c.id;
    const condition *live = strategy_find(s->engine, r->c.id);
    for (size_t i = 0; !live && i < s->nsettled; i++)
        if (s->settled[i] == r->c.id) return; /* exited here; the writer has not caught up */
    if (!live) {
        if (strategy_add(s->engine, &r->c))
            log_info("condition %lld loaded: %s %s trigger %lld (%s)", (long long)r->c.id, side_name(r->c.side),
                     r->c.symbol, (long long)r->c.trigger_price, entry_state_name(r->c.entry));
        return;
    }
    if (live->entry == ENTRY_PENDING && r->c.entry == ENTRY_FILLED) {
        strategy_entry_filled(s->engine, r->c.id, r->c.filled_qty);
        log_info("condition %lld: entry filled (%lld lot(s)); watching take profit and stop loss", (long long)r->c.id,
                 (long long)r->c.filled_qty);
    }
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int64_t *ids;
    size_t n, cap;
} id_list;

static void collect_id(void *ctx, const condition *c) {
    id_list *l = ctx;
    if (c->id > 0 && grow((void **)&l->ids, &l->cap, l->n + 1, sizeof *l->ids)) l->ids[l->n++] = c->id;
}

static void sync_conditions(strat *s) {
    flush_dirty(s);
    sync_ctx y = {s, NULL, 0, 0};
    if (cstore_list(s->cs, false, sync_row, &y) < 0) {
        log_warn("cannot read conditions: %s", sqlite3_errmsg(s->db));
        free(y.ids);
        return;
    }
    if (y.n) qsort(y.ids, y.n, sizeof *y.ids, cmp_id);
    /* an exit the database shows as settled no longer needs guarding */
    size_t keep = 0;
    for (size_t i = 0; i < s->nsettled; i++)
        if (y.n && bsearch(&s->settled[i], y.ids, y.n, sizeof *y.ids, cmp_id)) s->settled[keep++] = s->settled[i];
    s->nsettled = keep;
    id_list live = {NULL, 0, 0};
    strategy_foreach(s->engine, collect_id, &live);
    for (size_t i = 0; i < live.n; i++) {
        if (y.n && bsearch(&live.ids[i], y.ids, y.n, sizeof *y.ids, cmp_id)) continue;
        condition_record r;
        bool known = cstore_get(s->cs, live.ids[i], &r);
        strategy_remove(s->engine, live.ids[i]);
        log_info("condition %lld removed: %s%s%s", (long long)live.ids[i], known ? r.status : "deleted",
                 known && r.note[0] ? ", " : "", known ? r.note : "");
    }
    free(live.ids);
    free(y.ids);
}

static int parse_args(int argc, char **argv, endpoints *ep, const char **home, strat *s, bool *quiet) {
    static const struct option opts[] = {{"tick-endpoint", 1, 0, 't'}, {"signal-endpoint", 1, 0, 's'},
                                         {"home", 1, 0, 'h'},          {"wire", 1, 0, 'w'},
                                         {"rearm", 0, 0, 'r'},         {"quiet", 0, 0, 'q'},
                                         {"report-endpoint", 1, 0, 'R'},
                                         {"help", 0, 0, 'H'},          {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't': snprintf(ep->tick, sizeof ep->tick, "%s", optarg); break;
        case 's': snprintf(ep->signal, sizeof ep->signal, "%s", optarg); break;
        case 'R': snprintf(ep->report, sizeof ep->report, "%s", optarg); break;
        case 'h': *home = optarg; break;
        case 'w':
            if (!strcmp(optarg, "original")) s->original_wire = true;
            else if (strcmp(optarg, "aftm")) {
                fprintf(stderr, "aftm strategy: --wire must be aftm or original, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'r': s->rearm = true; break;
        case 'q': *quiet = true; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm strategy: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

static void strat_close(strat *s) {
    if (s->writer) {
        flush_dirty(s);
        state_writer_stop(s->writer);
    }
    cstore_close(s->cs);
    db_close(s->db);
    strategy_free(s->engine);
    wire_decoder_destroy(&s->dec);
    if (s->sub) zmq_close(s->sub);
    if (s->push) zmq_close(s->push);
    if (s->reports) zmq_close(s->reports);
    if (s->zctx) zmq_ctx_term(s->zctx);
    free(s->dirty);
    free(s->settled);
    free(s->pending);
}

int cmd_strategy(int argc, char **argv) {
    endpoints ep;
    endpoints_from_env(&ep);
    const char *home_flag = NULL;
    bool quiet = false;
    strat s;
    memset(&s, 0, sizeof s);
    int rc = parse_args(argc, argv, &ep, &home_flag, &s, &quiet);
    if (rc >= 0) return rc;
    log_set_name("strategy");
    log_set_quiet(quiet);
    lifecycle_install();
    wire_decoder_init(&s.dec);

    char err[512], home[AFTM_PATH_MAX];
    rc = EXIT_RUNTIME;
    if (!home_resolve(home_flag, home, sizeof home, err, sizeof err) || !(s.db = db_open(home, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    if (!(s.cs = cstore_open(s.db)) || !(s.engine = strategy_new(s.original_wire))) {
        log_error("cannot set up the condition store or the engine");
        goto out;
    }
    if (!(s.writer = state_writer_start(home, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    long long seq = 0;
    if (db_meta_get_int(s.db, "strategy_seq", &seq)) s.seq = (uint64_t)seq;
    s.data_version = db_data_version(s.db);
    sync_conditions(&s);
    s.zctx = zmq_ctx_new();
    if (!(s.sub = zsock_new(s.zctx, ZMQ_SUB, err, sizeof err)) || !(s.push = zsock_new(s.zctx, ZMQ_PUSH, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    /* A deep receive queue absorbs scheduling stalls of this process: the I/O thread keeps
     * taking ticks off the wire while the loop is descheduled (about 3 MB at most). */
    zsock_set_int(s.sub, ZMQ_RCVHWM, 20000);
    if (!zsock_connect(s.sub, ep.tick, err, sizeof err) || !zsock_connect(s.push, ep.signal, err, sizeof err)) {
        log_error("%s", err);
        goto out;
    }
    zmq_setsockopt(s.sub, ZMQ_SUBSCRIBE, "", 0);
    if (!s.original_wire) {
        if (!(s.reports = zsock_new(s.zctx, ZMQ_SUB, err, sizeof err)) || !zsock_connect(s.reports, ep.report, err, sizeof err)) {
            log_error("%s", err);
            goto out;
        }
        zmq_setsockopt(s.reports, ZMQ_SUBSCRIBE, "REPORT", 6);
    }
    log_info("started: %zu active condition(s), ticks from %s, signals to %s%s", strategy_count(s.engine), ep.tick,
             ep.signal, s.original_wire ? " (original wire format)" : "");
    if (strategy_count(s.engine) == 0) log_warn("no active conditions yet; add some with 'aftm condition add'");

    int64_t last_flush = clock_mono_ms(), last_sync = last_flush;
    while (!lifecycle_stopping()) {
        int64_t now = clock_mono_ms();
        long timeout = RELOAD_MS - (now - last_sync);
        if (s.ndirty) timeout = timeout < FLUSH_MS - (now - last_flush) ? timeout : FLUSH_MS - (now - last_flush);
        if (s.npending) timeout = timeout < 10 ? timeout : 10;
        if (timeout < 0) timeout = 0;
        zmq_pollitem_t items[] = {{s.sub, 0, ZMQ_POLLIN, 0}, {s.reports, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, s.reports ? 2 : 1, timeout);
        if (n < 0 && zmq_errno() != EINTR) {
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (s.npending) send_pending(&s);
        if (n > 0 && s.reports && (items[1].revents & ZMQ_POLLIN)) drain_reports(&s);
        if (n > 0 && (items[0].revents & ZMQ_POLLIN)) drain_ticks(&s);
        now = clock_mono_ms();
        if (s.sent_signal || (s.ndirty && now - last_flush >= FLUSH_MS)) {
            flush_dirty(&s);
            s.sent_signal = false;
            last_flush = now;
        }
        if (now - last_sync >= RELOAD_MS) {
            long long v = db_data_version(s.db);
            if (v != s.data_version) {
                s.data_version = v;
                sync_conditions(&s);
            }
            last_sync = now;
        }
    }
    log_info("stopping: %llu ticks, %llu signals, %llu bad ticks, %zu signal(s) never delivered",
             (unsigned long long)s.ticks, (unsigned long long)s.signals, (unsigned long long)s.bad_ticks, s.npending);
    rc = EXIT_OK;
out:
    strat_close(&s);
    return rc;
}
