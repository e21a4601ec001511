/* The strategy process's logic, socket-free (see strategy_core.h).
 *
 * State changes are collected per tick and handed to the state sink in one batch: at once
 * when a signal went out, else at most every STRATEGY_FLUSH_MS; the tick path never waits on
 * the database. A signal's id is derived from its condition and stage, so if the process dies
 * between sending and writing, the replayed signal is recognised by the executor as the same
 * one. Conditions added, cancelled or settled by other processes are picked up by watching the
 * database's data_version every STRATEGY_SYNC_MS. The outcome of an entry is learned at once
 * from the gateway's execution reports (the executor also records it in the database, which is
 * what a restarted strategy reads).
 *
 * Every signal stays in the outbox until the executor acknowledges it, and is sent again under
 * the same id every STRATEGY_RESEND_MS until then. The acknowledgement is the executor's order
 * row for the signal id (a refusal is stored as one too), read from the shared database: the
 * row is exactly what "stored" means, so it cannot say yes for a signal that was not stored; the
 * strategy already reads that database; and unlike an ack message it cannot be lost on the way
 * or by a restart of either side. A resend of a stored signal is a no-op at the executor. This
 * needs the strategy and the executor on one data directory, as the entry outcomes already do;
 * on separate ones nothing is ever acknowledged and signals are resent (harmlessly) forever. */
#include "app/strategy/strategy_core.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/gw_fields.h"
#include "net/gw_proto.h"
#include "net/signal_ack.h"
#include "core/buf.h"
#include "core/log.h"
#include "domain/strategy.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/signal_outbox.h"
#include "wire/mpmap.h"

/* A signal in the outbox: sent (sent_ms > 0) or not yet, kept until acknowledged. */
typedef struct {
    strategy_signal s;
    int64_t sent_ms; /* 0: the sink has not taken it yet */
} out_entry;

struct strategy_core {
    mp_reader reader; /* execution reports in msgpack */
    strategy_core_config cfg;
    strategy_core_sinks sinks;
    sqlite3 *db;
    condition_store *cs;
    strategy_engine *engine;
    state_change *dirty; /* changes not yet handed to the state sink */
    size_t ndirty, dirty_cap;
    int64_t *settled; /* exited here, maybe not yet written: never re-added from the database */
    size_t nsettled, settled_cap;
    signal_outbox *ob;
    out_entry *out; /* the outbox: signals not yet acknowledged, oldest first */
    size_t nout, out_cap;
    outbox_row *new_rows; /* signals for the state sink to keep */
    size_t nnew, new_cap;
    char (*acked)[OUTBOX_ID_MAX]; /* acknowledged: for the state sink to forget */
    size_t nacked, acked_cap;
    char instance[DB_INSTANCE_ID_LEN + 1];
    /* the instance id of the executor's orders, as its acknowledgements say (its database may
     * not be ours when it runs on another host); "" until one arrives */
    char executor_instance[GW_INSTANCE_MAX + 1];
    int64_t now_ms, last_ack_check;
    uint64_t resent;
    uint64_t seq;
    double tick_when;
    bool sent_signal;
    long long data_version;
    int64_t synced_rev; /* the conditions' revision read so far (-1: none yet, read them all) */
    int64_t last_flush, last_sync;
    uint64_t ticks, bad_ticks, signals;
};

/* ---- the client order id scheme ---------------------------------------------------------- */

bool strategy_parse_client_order_id(const char *coid, const char *instance, int rearm_tag, int64_t *condition_id,
                                    bool *is_exit, int64_t *round) {
    gw_coid c;
    if (!instance || !gw_coid_parse(coid, &c) || strcmp(c.instance, instance) != 0) return false;
    if (c.condition_id < 0 && c.pid != rearm_tag) return false; /* another strategy process's copy */
    *condition_id = c.condition_id;
    *is_exit = c.leg == GW_LEG_EXIT;
    if (round) *round = c.round;
    return true;
}

/* ---- condition rows for the state sink ---------------------------------------------------- */

static void mark_dirty(strategy_core *sc, const condition *c, const char *note) {
    if (c->id <= 0) return; /* re-created copies live in memory only */
    if (!buf_grow((void **)&sc->dirty, &sc->dirty_cap, sc->ndirty + 1, sizeof *sc->dirty)) {
        log_error("out of memory recording a state change of condition %lld", (long long)c->id);
        return;
    }
    state_change *d = &sc->dirty[sc->ndirty++];
    d->c = *c;
    d->has_note = note != NULL;
    if (note) snprintf(d->note, sizeof d->note, "%s", note);
}

/* Hands the collected changes (condition rows and the outbox's) over; kept for the next try
 * when the sink cannot take them. */
static void flush_dirty(strategy_core *sc) {
    if (!sc->ndirty && !sc->nnew && !sc->nacked) return;
    state_batch b = {sc->dirty, sc->ndirty, sc->seq, sc->new_rows, sc->nnew, sc->acked, sc->nacked};
    if (!sc->sinks.save_states(sc->sinks.ctx, &b)) {
        log_error("out of memory handing %zu condition update(s) to the writer; kept", sc->ndirty);
        return;
    }
    sc->ndirty = sc->nnew = sc->nacked = 0;
}

/* ---- signals ------------------------------------------------------------------------------ */

bool strategy_signal_encode(strategy_signal *s, bool original_wire) {
    s->sig.has_ext = !original_wire;
    s->len = wire_encode_signal(&s->sig, s->sig.has_ext, s->buf, sizeof s->buf);
    return s->len > 0;
}

/* ---- the outbox ------------------------------------------------------------------------- */

/* Offers one outbox entry to the sink; true when taken. */
static bool offer(strategy_core *sc, out_entry *e) {
    if (!sc->sinks.send_signal(sc->sinks.ctx, &e->s)) return false;
    bool again = e->sent_ms > 0;
    e->sent_ms = sc->now_ms > 0 ? sc->now_ms : 1;
    if (again) {
        sc->resent++;
        log_warn("signal %s not acknowledged by the executor yet; sent again", e->s.desc);
    }
    return true;
}

/* Drops entry i (acknowledged, or never to be: the original's executor has no acknowledgement). */
static void drop_entry(strategy_core *sc, size_t i, bool acked) {
    if (acked && buf_grow((void **)&sc->acked, &sc->acked_cap, sc->nacked + 1, sizeof *sc->acked))
        snprintf(sc->acked[sc->nacked++], OUTBOX_ID_MAX, "%s", sc->out[i].s.sig.signal_id);
    memmove(sc->out + i, sc->out + i + 1, (sc->nout - i - 1) * sizeof *sc->out);
    sc->nout--;
}

void strategy_core_retry_signals(strategy_core *sc, int64_t now_ms) {
    sc->now_ms = now_ms;
    for (size_t i = 0; i < sc->nout;) {
        out_entry *e = &sc->out[i];
        bool due = e->sent_ms == 0 || now_ms - e->sent_ms >= STRATEGY_RESEND_MS;
        if (!due) {
            i++;
            continue;
        }
        bool first = e->sent_ms == 0;
        if (!offer(sc, e)) break;
        if (first) log_info("signal sent late: %s", e->s.desc);
        if (sc->cfg.original_wire) drop_entry(sc, i, false);
        else i++;
    }
}

/* Asks the database which sent signals the executor has stored; those leave the outbox. */
static void check_acks(strategy_core *sc) {
    for (size_t i = 0; i < sc->nout;) {
        if (sc->out[i].sent_ms == 0) {
            i++;
            continue;
        }
        int acked = outbox_acknowledged(sc->ob, sc->out[i].s.sig.signal_id);
        if (acked < 0) return; /* the database is busy: next time */
        if (acked) drop_entry(sc, i, true);
        else i++;
    }
}

/* Keeps s in the outbox (and, for the state sink, in the database) and sends it now unless
 * older signals are still waiting for the sink. */
static void enqueue(strategy_core *sc, const strategy_signal *s) {
    bool waiting = false;
    for (size_t i = 0; i < sc->nout && !waiting; i++) waiting = sc->out[i].sent_ms == 0;
    if (!buf_grow((void **)&sc->out, &sc->out_cap, sc->nout + 1, sizeof *sc->out)) {
        log_error("out of memory: signal %s could not be queued", s->desc);
        return;
    }
    out_entry *e = &sc->out[sc->nout++];
    e->s = *s;
    e->sent_ms = 0;
    if (!sc->cfg.original_wire && buf_grow((void **)&sc->new_rows, &sc->new_cap, sc->nnew + 1, sizeof *sc->new_rows)) {
        outbox_row *r = &sc->new_rows[sc->nnew++];
        memset(r, 0, sizeof *r);
        snprintf(r->signal_id, sizeof r->signal_id, "%s", s->sig.signal_id);
        memcpy(r->body, s->buf, s->len);
        r->len = s->len;
        snprintf(r->descr, sizeof r->descr, "%s", s->desc);
    }
    if (!waiting && offer(sc, e)) {
        log_info("signal %s", s->desc);
        if (sc->cfg.original_wire) drop_entry(sc, sc->nout - 1, false);
        return;
    }
    /* No executor connected, or its queue is full: keep the signal and retry; the executor
     * judges its age when it finally arrives. */
    size_t unsent = 0;
    for (size_t i = 0; i < sc->nout; i++) unsent += sc->out[i].sent_ms == 0;
    log_warn("executor not reachable; signal %s queued (%zu waiting)", s->desc, unsent);
}

typedef struct {
    strategy_core *sc;
    int loaded;
} load_ctx;

/* A signal a previous run sent and the executor had not stored: sent again at once, unless it
 * has been stored since. */
static void load_row(void *ctx, const outbox_row *r) {
    load_ctx *l = ctx;
    strategy_core *sc = l->sc;
    if (outbox_acknowledged(sc->ob, r->signal_id) == 1) {
        if (buf_grow((void **)&sc->acked, &sc->acked_cap, sc->nacked + 1, sizeof *sc->acked))
            snprintf(sc->acked[sc->nacked++], OUTBOX_ID_MAX, "%s", r->signal_id);
        return;
    }
    if (r->len > sizeof sc->out[0].s.buf || !buf_grow((void **)&sc->out, &sc->out_cap, sc->nout + 1, sizeof *sc->out))
        return;
    out_entry *e = &sc->out[sc->nout++];
    memset(e, 0, sizeof *e);
    snprintf(e->s.sig.signal_id, sizeof e->s.sig.signal_id, "%s", r->signal_id);
    memcpy(e->s.buf, r->body, r->len);
    e->s.len = r->len;
    snprintf(e->s.desc, sizeof e->s.desc, "%s", r->descr);
    l->loaded++;
}

static void emit_signal(strategy_core *sc, const condition *c, unsigned ev, price_t price, const char *symbol) {
    bool exit = ev & (COND_EXIT_TP | COND_EXIT_SL);
    strategy_signal p;
    memset(&p, 0, sizeof p);
    wire_signal *sig = &p.sig;
    sig->when = sc->tick_when;
    sig->side = (exit ? side_opposite(c->side) : c->side) == SIDE_BUY ? WIRE_BUY : WIRE_SELL;
    snprintf(sig->commodity_id, sizeof sig->commodity_id, "%s", symbol);
    if (!gw_signal_id_make_round(sig->signal_id, sizeof sig->signal_id, c->id, sc->cfg.rearm_tag, c->round,
                                 exit ? GW_LEG_EXIT : GW_LEG_ENTRY))
        log_error("condition %lld makes no signal id (round %lld)", (long long)c->id, (long long)c->round);
    sig->condition_id = c->id;
    sig->quantity = exit && c->filled_qty > 0 ? c->filled_qty : c->quantity;
    sig->seq = ++sc->seq;
    sig->price = price;
    if (!strategy_signal_encode(&p, sc->cfg.original_wire))
        log_error("signal %s does not fit the wire buffer", sig->signal_id); /* not with aftm's sizes */
    char whose[64];
    if (c->round > 0) snprintf(whose, sizeof whose, "condition %lld, round %lld", (long long)c->id, (long long)c->round + 1);
    else snprintf(whose, sizeof whose, "condition %lld", (long long)c->id);
    snprintf(p.desc, sizeof p.desc, "%s %s %s %lld lot(s) at %lld, %s (%.48s)", sig->signal_id,
             side_name(sig->side == WIRE_BUY ? SIDE_BUY : SIDE_SELL), symbol, (long long)sig->quantity,
             (long long)price, exit ? (ev & COND_EXIT_TP ? "exit: take profit" : "exit: stop loss") : "entry", whose);
    sc->signals++;
    sc->sent_signal = true;
    enqueue(sc, &p);
}

/* ---- ticks -------------------------------------------------------------------------------- */

typedef struct {
    strategy_core *sc;
    const char *symbol;
} tick_ctx;

/* A repeating condition (or every one, with --rearm) after its exit: the same id armed again for
 * the next round, put back in the engine after this tick's walk (the engine does not visit it
 * before the next tick, as the backtest's re-arming does) and stored as that round. */
static void rearm(strategy_core *sc, const condition *c, const char *why) {
    condition again = *c;
    condition_rearm(&again);
    strategy_remove(sc->engine, c->id); /* c is not valid after this */
    char note[96];
    snprintf(note, sizeof note, "%s; armed again (round %lld)", why, (long long)again.round + 1);
    if (!strategy_add(sc->engine, &again)) {
        log_error("condition %lld: out of memory arming it again; it stays as it is in the database",
                  (long long)again.id);
        return;
    }
    log_info("condition %lld %s", (long long)again.id, note);
    mark_dirty(sc, &again, note);
}

static void on_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    tick_ctx *t = ctx;
    strategy_core *sc = t->sc;
    if (ev & COND_TRIGGERED) log_info("condition %lld triggered at %lld", (long long)c->id, (long long)price);
    if (ev & COND_SIGNAL_MASK) emit_signal(sc, c, ev, price, t->symbol);
    const char *note = (ev & COND_EXIT_TP) ? "exited: take profit" : (ev & COND_EXIT_SL) ? "exited: stop loss" : NULL;
    bool exited = ev & (COND_EXIT_TP | COND_EXIT_SL);
    if (exited && c->id > 0 && (c->repeat || sc->cfg.rearm)) {
        rearm(sc, c, note);
        return;
    }
    mark_dirty(sc, c, note);
    if (exited && c->id > 0 &&
        buf_grow((void **)&sc->settled, &sc->settled_cap, sc->nsettled + 1, sizeof *sc->settled))
        sc->settled[sc->nsettled++] = c->id;
}

void strategy_core_on_tick(strategy_core *sc, const wire_tick *t) {
    /* below one point a price truncates to 0: not a price any product trades at */
    if (!isfinite(t->match_price) || t->match_price < 1 || t->match_price > STRATEGY_MAX_TICK_PRICE) {
        if (sc->bad_ticks++ % 1000 == 0)
            log_warn("ignored a tick of %s with a bad price %g (%llu so far)", t->commodity_id, t->match_price,
                     (unsigned long long)sc->bad_ticks);
        return;
    }
    sc->ticks++;
    sc->tick_when = t->when;
    tick_ctx ctx = {sc, t->commodity_id};
    /* the original truncates prices with int() */
    strategy_on_tick(sc->engine, t->commodity_id, (price_t)trunc(t->match_price), on_event, &ctx);
}

/* ---- execution reports -------------------------------------------------------------------- */

/* An entry's fill or refusal settles the entry; exits and other orders are not the strategy's
 * business (the executor books them). */
static strategy_report_outcome on_report_fields(strategy_core *sc, const gw_fields *rep);

strategy_report_outcome strategy_core_on_report(strategy_core *sc, const char *body, size_t len) {
    strategy_report_outcome out = STRATEGY_REPORT_BAD;
    if (mp_is_map(body, len)) {
        msgpack_object map;
        if (mp_read(&sc->reader, body, len, &map)) {
            gw_fields f = gw_fields_of_map(&map);
            out = on_report_fields(sc, &f);
        }
    } else {
        json_t *j = json_loadb(body, len, 0, NULL);
        gw_fields f = gw_fields_of_json(j);
        if (j) out = on_report_fields(sc, &f);
        json_decref(j);
    }
    if (out == STRATEGY_REPORT_BAD)
        log_warn("skipped an execution report that is not a msgpack map or JSON object with a status (%zu bytes)", len);
    return out;
}

static strategy_report_outcome on_report_fields(strategy_core *sc, const gw_fields *rep) {
    char coid_buf[128], status_buf[32];
    if (!gw_fields_ok(rep) || !gw_field_str(rep, "status", status_buf, sizeof status_buf)) return STRATEGY_REPORT_BAD;
    const char *status = status_buf;
    const char *coid = gw_field_str(rep, "client_order_id", coid_buf, sizeof coid_buf) ? coid_buf : NULL;
    int64_t id, round = 0;
    bool is_exit;
    strategy_report_outcome out = STRATEGY_REPORT_IGNORED;
    const condition *c = NULL;
    if ((strategy_parse_client_order_id(coid, sc->instance, sc->cfg.rearm_tag, &id, &is_exit, &round) ||
         (sc->executor_instance[0] &&
          strategy_parse_client_order_id(coid, sc->executor_instance, sc->cfg.rearm_tag, &id, &is_exit, &round))) &&
        !is_exit)
        c = strategy_find(sc->engine, id);
    /* a report of an earlier round of a repeating condition does not touch the present one */
    if (c && c->entry == ENTRY_PENDING && c->round == round) {
        gwf_value fq = gw_field(rep, "filled_qty");
        long long filled = fq.type == GWF_INT ? fq.i : 0;
        bool ended = !strcmp(status, "cancelled") || !strcmp(status, "expired");
        if (!strcmp(status, "filled") || (filled > 0 && ended)) {
            int64_t qty = filled > 0 ? filled : c->quantity;
            log_info("condition %lld: entry filled (%lld lot(s)); watching take profit and stop loss", (long long)id,
                     (long long)qty);
            gwf_value fp = gw_field(rep, "avg_fill_price");
            double fill_price = fp.type == GWF_INT || fp.type == GWF_REAL ? fp.d : 0.0;
            char symbol[CONDITION_SYMBOL_MAX];
            snprintf(symbol, sizeof symbol, "%s", c->symbol);
            tick_ctx ctx = {sc, symbol};
            /* the fill's own tick may already be past take profit or stop loss */
            if (isfinite(fill_price) && fill_price >= 1 && fill_price <= STRATEGY_MAX_TICK_PRICE)
                strategy_entry_filled_at(sc->engine, id, qty, (price_t)trunc(fill_price), on_event, &ctx);
            else strategy_entry_filled(sc->engine, id, qty);
            out = STRATEGY_REPORT_FILLED;
        } else if (!strcmp(status, "rejected") || ended) {
            char reason_buf[256];
            const char *reason = gw_field_str(rep, "reason", reason_buf, sizeof reason_buf) ? reason_buf : NULL;
            strategy_entry_rejected(sc->engine, id);
            log_warn("condition %lld: entry %s%s%s; no exit will follow", (long long)id, status,
                     reason ? ": " : "", reason ? reason : "");
            out = STRATEGY_REPORT_REJECTED;
        }
    }
    return out;
}

/* ---- acknowledgements -------------------------------------------------------------------- */

bool strategy_core_on_ack(strategy_core *sc, const char *body, size_t len) {
    signal_ack a;
    char why[128];
    if (!signal_ack_decode(body, len, &a, why, sizeof why)) {
        log_warn("skipped an acknowledgement from the executor: %s (%zu bytes)", why, len);
        return false;
    }
    gw_coid c;
    if (gw_coid_parse(a.client_order_id, &c) && strcmp(c.instance, sc->executor_instance) != 0) {
        if (sc->executor_instance[0])
            log_warn("the executor's orders now carry instance %s (was %s): its database was made anew", c.instance,
                     sc->executor_instance);
        snprintf(sc->executor_instance, sizeof sc->executor_instance, "%s", c.instance);
    }
    for (size_t i = 0; i < sc->nout; i++)
        if (!strcmp(sc->out[i].s.sig.signal_id, a.signal_id)) {
            drop_entry(sc, i, true);
            break;
        }
    /* a refused entry ends here: no order, so no report will settle it */
    int64_t id, round = 0;
    bool is_exit;
    if (a.refused && strategy_parse_client_order_id(a.client_order_id, sc->executor_instance, sc->cfg.rearm_tag, &id,
                                                    &is_exit, &round) && !is_exit) {
        const condition *cond = strategy_find(sc->engine, id);
        if (cond && cond->entry == ENTRY_PENDING && cond->round == round) {
            strategy_entry_rejected(sc->engine, id);
            log_warn("condition %lld: entry refused by the executor: %s; no exit will follow", (long long)id, a.reason);
        }
    }
    return true;
}

/* ---- condition sync with the database ----------------------------------------------------- */

/* Conditions in the database are the truth for what is active: add new ones, drop those
 * cancelled or settled elsewhere, apply entry outcomes written by the executor. */
typedef struct {
    strategy_core *sc;
    int64_t *ids;
    size_t n, cap;
} sync_ctx;

/* One active row: loaded if new here, its entry's fill taken if the executor wrote one. */
static void apply_active_row(strategy_core *sc, const condition_record *r) {
    const condition *live = strategy_find(sc->engine, r->c.id);
    for (size_t i = 0; !live && i < sc->nsettled; i++)
        if (sc->settled[i] == r->c.id) return; /* exited here; the writer has not caught up */
    if (!live) {
        if (strategy_add(sc->engine, &r->c))
            log_info("condition %lld loaded: %s %s trigger %lld (%s)", (long long)r->c.id, side_name(r->c.side),
                     r->c.symbol, (long long)r->c.trigger_price, entry_state_name(r->c.entry));
        return;
    }
    /* the row may still show an earlier round (the writer has not caught up with the re-arming) */
    if (live->entry == ENTRY_PENDING && r->c.entry == ENTRY_FILLED && r->c.round == live->round) {
        strategy_entry_filled(sc->engine, r->c.id, r->c.filled_qty);
        log_info("condition %lld: entry filled (%lld lot(s)); watching take profit and stop loss", (long long)r->c.id,
                 (long long)r->c.filled_qty);
    }
}

/* sync_all's visitor: applies the row and notes its id. */
static void sync_row(void *ctx, const condition_record *r) {
    sync_ctx *y = ctx;
    if (buf_grow((void **)&y->ids, &y->cap, y->n + 1, sizeof *y->ids)) y->ids[y->n++] = r->c.id;
    apply_active_row(y->sc, r);
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
    if (c->id > 0 && buf_grow((void **)&l->ids, &l->cap, l->n + 1, sizeof *l->ids)) l->ids[l->n++] = c->id;
}

static void drop_settled(strategy_core *sc, int64_t id) {
    size_t keep = 0;
    for (size_t i = 0; i < sc->nsettled; i++)
        if (sc->settled[i] != id) sc->settled[keep++] = sc->settled[i];
    sc->nsettled = keep;
}

static void remove_live(strategy_core *sc, int64_t id, const condition_record *r) {
    strategy_remove(sc->engine, id);
    log_info("condition %lld removed: %s%s%s", (long long)id, r ? r->status : "deleted", r && r->note[0] ? ", " : "",
             r ? r->note : "");
}

/* Every active row: what is live and not listed goes. */
static bool sync_all(strategy_core *sc) {
    sync_ctx y = {sc, NULL, 0, 0};
    if (cstore_list(sc->cs, false, sync_row, &y) < 0) {
        free(y.ids);
        return false;
    }
    if (y.n) qsort(y.ids, y.n, sizeof *y.ids, cmp_id);
    /* an exit the database shows as settled no longer needs guarding */
    size_t keep = 0;
    for (size_t i = 0; i < sc->nsettled; i++)
        if (y.n && bsearch(&sc->settled[i], y.ids, y.n, sizeof *y.ids, cmp_id)) sc->settled[keep++] = sc->settled[i];
    sc->nsettled = keep;
    id_list live = {NULL, 0, 0};
    strategy_foreach(sc->engine, collect_id, &live);
    for (size_t i = 0; i < live.n; i++) {
        if (y.n && bsearch(&live.ids[i], y.ids, y.n, sizeof *y.ids, cmp_id)) continue;
        condition_record r;
        bool known = cstore_get(sc->cs, live.ids[i], &r);
        remove_live(sc, live.ids[i], known ? &r : NULL);
    }
    free(live.ids);
    free(y.ids);
    return true;
}

/* A row changed since the last look: active, as in sync_all; else it leaves the engine. Rows
 * are never deleted (a removed condition keeps its row with another status). */
static void sync_changed_row(void *ctx, const condition_record *r) {
    strategy_core *sc = ctx;
    if (!strcmp(r->status, "active")) {
        apply_active_row(sc, r);
        return;
    }
    drop_settled(sc, r->c.id);
    if (strategy_find(sc->engine, r->c.id)) remove_live(sc, r->c.id, r);
}

void strategy_core_sync(strategy_core *sc) {
    flush_dirty(sc);
    /* the revision first: a row changed meanwhile is read now and again next time, never lost */
    int64_t rev = -1;
    bool have_rev = cstore_revision(sc->cs, &rev);
    bool ok;
    if (have_rev && sc->synced_rev >= 0) {
        ok = cstore_list_changed(sc->cs, sc->synced_rev, sync_changed_row, sc) >= 0;
    } else {
        ok = sync_all(sc);
    }
    if (!ok) {
        log_warn("cannot read conditions: %s", sqlite3_errmsg(sc->db));
        return;
    }
    if (have_rev) sc->synced_rev = rev;
}

/* ---- time-driven work --------------------------------------------------------------------- */

void strategy_core_housekeep(strategy_core *sc, int64_t now_ms) {
    sc->now_ms = now_ms;
    if (sc->nout && now_ms - sc->last_ack_check >= STRATEGY_ACK_MS) {
        check_acks(sc);
        sc->last_ack_check = now_ms;
    }
    if (sc->sent_signal || sc->nacked || (sc->ndirty && now_ms - sc->last_flush >= STRATEGY_FLUSH_MS)) {
        flush_dirty(sc);
        sc->sent_signal = false;
        sc->last_flush = now_ms;
    }
    if (now_ms - sc->last_sync >= STRATEGY_SYNC_MS) {
        /* changes only by other connections move data_version: our own writer's included */
        long long v = db_data_version(sc->db);
        if (v != sc->data_version) {
            sc->data_version = v;
            strategy_core_sync(sc);
        }
        sc->last_sync = now_ms;
    }
}

long strategy_core_timeout_ms(const strategy_core *sc, int64_t now_ms) {
    int64_t t = STRATEGY_SYNC_MS - (now_ms - sc->last_sync);
    if (sc->ndirty && STRATEGY_FLUSH_MS - (now_ms - sc->last_flush) < t) t = STRATEGY_FLUSH_MS - (now_ms - sc->last_flush);
    if (sc->nout) {
        int64_t ack = STRATEGY_ACK_MS - (now_ms - sc->last_ack_check);
        if (ack < t) t = ack;
        for (size_t i = 0; i < sc->nout && t > STRATEGY_RETRY_MS; i++)
            if (sc->out[i].sent_ms == 0) t = STRATEGY_RETRY_MS;
    }
    return t < 0 ? 0 : (long)t;
}

/* ---- lifetime ----------------------------------------------------------------------------- */

strategy_core *strategy_core_new(sqlite3 *db, const strategy_core_config *cfg, const strategy_core_sinks *sinks,
                                 int64_t now_ms, char *err, size_t errlen) {
    if (!sinks || !sinks->send_signal || !sinks->save_states) {
        snprintf(err, errlen, "the strategy needs a signal sink and a state sink");
        return NULL;
    }
    strategy_core *sc = calloc(1, sizeof *sc);
    if (!sc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sc->cfg = *cfg;
    sc->sinks = *sinks;
    sc->db = db;
    mp_reader_init(&sc->reader);
    if (!(sc->cs = cstore_open(db)) || !(sc->ob = outbox_open(db)) || !(sc->engine = strategy_new(cfg->original_wire))) {
        snprintf(err, errlen, "cannot set up the condition store, the signal outbox or the engine");
        strategy_core_free(sc);
        return NULL;
    }
    if (!db_instance_id(db, sc->instance, sizeof sc->instance)) {
        snprintf(err, errlen, "the database has no instance id (it names this database's client order ids)");
        strategy_core_free(sc);
        return NULL;
    }
    long long seq = 0;
    if (db_meta_get_int(db, "strategy_seq", &seq)) sc->seq = (uint64_t)seq;
    sc->data_version = db_data_version(db);
    sc->synced_rev = -1;
    sc->last_flush = sc->last_sync = sc->last_ack_check = sc->now_ms = now_ms;
    if (!cfg->original_wire) { /* the original's executor never acknowledges: nothing to resend */
        load_ctx l = {sc, 0};
        if (outbox_each(sc->ob, load_row, &l) < 0) log_warn("cannot read the signal outbox: %s", sqlite3_errmsg(db));
        if (l.loaded)
            log_warn("%d signal(s) sent before and not acknowledged by the executor yet; sending them again", l.loaded);
    }
    strategy_core_sync(sc);
    return sc;
}

void strategy_core_free(strategy_core *sc) {
    if (!sc) return;
    if (sc->engine) flush_dirty(sc);
    cstore_close(sc->cs);
    strategy_free(sc->engine);
    free(sc->dirty);
    free(sc->settled);
    free(sc->out);
    free(sc->new_rows);
    free(sc->acked);
    outbox_close(sc->ob);
    mp_reader_destroy(&sc->reader);
    free(sc);
}

strategy_core_stats strategy_core_get_stats(const strategy_core *sc) {
    strategy_core_stats st = {sc->ticks, sc->bad_ticks, sc->signals, 0, sc->nout, sc->resent, strategy_count(sc->engine)};
    for (size_t i = 0; i < sc->nout; i++) st.undelivered += sc->out[i].sent_ms == 0;
    return st;
}

const condition *strategy_core_find(const strategy_core *sc, int64_t id) { return strategy_find(sc->engine, id); }
