/* The executor core's signals: each one refused (stored with its reason), skipped, held or
 * stored and sent. An exit closes at most what its condition and the account still hold, so it
 * never opens or flips a position; an exit whose entry's fill is not booked yet is held (stored,
 * acknowledged) and decided once the fill is booked, or on what the broker says of the entry.
 *
 * Not here: the risk rules (domain/risk.c), sending (executor_send.c), orders by hand
 * (executor_manual.c). */
#include "app/executor/executor_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "domain/order.h"
#include "domain/position.h"
#include "net/gw_proto.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/held_exits.h"
#include "store/order_store.h"
#include "store/session_store.h"

/* ---- refusals ---------------------------------------------------------------------------- */

/* Stores a refused signal as a rejected order, so it shows in 'aftm orders' with its reason (and
 * the strategy sees its signal acknowledged). */
void xc_record_refusal(executor_core *x, order_record *r, const char *reason) {
    snprintf(r->o.reason, sizeof r->o.reason, "%s", reason);
    r->o.status = ORDER_REJECTED;
    bool in_batch = x->batch, stored = in_batch || ostore_begin(x->os);
    if (stored) {
        stored = ostore_insert(x->os, r) && db_journal(x->db, "executor", "refused", r->o.client_order_id, reason);
        if (stored) xc_entry_feedback(x, r);
        if (in_batch) {
            if (!stored) x->batch_failed = true; /* the whole batch is rolled back */
        } else if (!stored || !ostore_commit(x->os)) {
            ostore_rollback(x->os);
            stored = false;
        }
    }
    if (!stored) {
        /* not acknowledged: the strategy sends it again */
        log_error("signal %s refused (%s), but the refusal cannot be stored now (%s)", r->o.signal_id, reason,
                  db_error(x->db));
        return;
    }
    x->st.refused++;
    log_warn("signal %s refused: %s", r->o.signal_id, reason);
    xc_acknowledge(x, r);
    if (r->is_exit) log_error("an EXIT was refused: the position in %s stays open", r->o.symbol);
}

/* ---- exits never open a position ------------------------------------------------------- */

/* The entry an exit closes, as the books show it. */
typedef struct {
    bool open;      /* the entry order is still open in the books */
    int64_t filled; /* lots it filled that the exit may close */
    char coid[ORDER_ID_MAX];
} exit_entry;

/* What an exit may close: at most what its condition holds (its entry's fills) and what the
 * account still holds for it (the net position less what the other conditions hold), so an
 * exit never opens or flips a position, whatever was done by hand in between. The other
 * conditions are taken out because on a netting account a buy and a sell condition can hold
 * +1 and -1 with the account flat: each exit still closes its own lot. 0 with why: nothing
 * left to close; -1: the books could not be read. *attributed: the entry is in the books, so the
 * size is the condition's own (the risk rules then take it as an exit whatever the net). */
static int64_t exit_size(executor_core *x, const order *o, const char *signal_id, bool *attributed,
                         exit_entry *ent, char *why, size_t whylen) {
    *attributed = false;
    memset(ent, 0, sizeof *ent);
    char entry_id[ORDER_ID_MAX];
    snprintf(entry_id, sizeof entry_id, "%s", signal_id);
    entry_id[strlen(entry_id) - 1] = 'E'; /* an exit's id ends in ".X" (gw_is_exit) */
    side_t held = o->side == SIDE_BUY ? SIDE_SELL : SIDE_BUY;
    /* no entry in the books (the original's signals, an exit leg of something aftm did not
     * enter): nothing to attribute; the risk rules' own reduce-only test decides */
    order_record entry;
    if (!ostore_get_by_signal(x->os, entry_id, &entry)) return o->qty;
    *attributed = true;
    int64_t holds = entry.o.side == held ? entry.o.filled_qty : 0;
    ent->open = order_is_open(entry.o.status);
    ent->filled = holds;
    snprintf(ent->coid, sizeof ent->coid, "%s", entry.o.client_order_id);
    position p;
    int64_t others;
    if (!ostore_position_get(x->os, o->account, o->symbol, &p) ||
        !ostore_conditions_hold(x->os, o->account, o->symbol, entry_id, &others))
        return -1;
    int64_t mine = held == SIDE_BUY ? p.net_qty - others : others - p.net_qty;
    if (mine < 0) mine = 0;
    int64_t qty = o->qty < holds ? o->qty : holds;
    if (mine < qty) qty = mine;
    if (qty < o->qty)
        snprintf(why, whylen, "the condition holds %lld lot(s); the account holds %+lld %s, of which the other "
                 "conditions hold %+lld", (long long)holds, (long long)p.net_qty, o->symbol, (long long)others);
    return qty;
}

/* An exit with nothing left to close: not sent; its order row (rejected, with the reason)
 * acknowledges the signal and the condition ends as closed by hand. */
static void skip_exit(executor_core *x, order_record *r, const char *why) {
    snprintf(r->o.reason, sizeof r->o.reason, "closed by hand: %.100s", why);
    r->o.status = ORDER_REJECTED;
    char note[160];
    snprintf(note, sizeof note, "closed by hand: the exit found no position left to close");
    /* inside a batch of signals, in its transaction (rolled back whole if this fails) */
    bool in_batch = x->batch, stored = in_batch || ostore_begin(x->os);
    if (stored) {
        stored = ostore_insert(x->os, r) && db_journal(x->db, "executor", "exit_skipped", r->o.client_order_id, why) &&
                 (r->o.condition_id <= 0 || cstore_set_closed(x->cs, r->o.condition_id, xc_order_round(&r->o), note));
        if (in_batch) {
            if (!stored) x->batch_failed = true;
        } else if (!stored || !ostore_commit(x->os)) {
            ostore_rollback(x->os);
            stored = false;
        }
    }
    if (!stored) {
        /* not acknowledged: the strategy sends it again */
        log_error("exit %s has nothing to close, but that cannot be stored now (%s)", r->o.signal_id,
                  db_error(x->db));
        return;
    }
    log_warn("exit %s skipped: %s; condition %lld closed by hand", r->o.signal_id, why, (long long)r->o.condition_id);
    xc_acknowledge(x, r);
}

/* ---- exits held until their entry is booked ------------------------------------------------ */

/* How long an exit waits for its entry's fill to arrive on the report stream before the broker
 * is asked about the entry; then, while the broker shows the entry open and unfilled, how often
 * it is asked again. */
#define HOLD_MS 3000
#define HOLD_AGAIN_MS 15000

/* What may happen to an exit whose entry is not booked as filled: a signal just received is held
 * (stored, acknowledged); a held one decided again stays held; after the broker was asked, it is
 * decided on what the books now say, and stays held only while the entry is open with nothing
 * filled (sending would find nothing to close, skipping would leave the fill to come unmanaged). */
typedef enum { HOLD_NEW, HOLD_AGAIN, HOLD_FINAL } hold_mode;

static held_exit *held_exit_find(executor_core *x, const char *signal_id) {
    for (size_t i = 0; i < x->nheld_exits; i++)
        if (!strcmp(x->held_exits[i].sig.signal_id, signal_id)) return &x->held_exits[i];
    return NULL;
}

static bool held_exit_add(executor_core *x, const wire_signal *sig, int64_t due_ms) {
    if (held_exit_find(x, sig->signal_id)) return true;
    if (!buf_grow((void **)&x->held_exits, &x->held_exits_cap, x->nheld_exits + 1, sizeof *x->held_exits)) return false;
    x->held_exits[x->nheld_exits].sig = *sig;
    x->held_exits[x->nheld_exits].due_ms = due_ms;
    x->nheld_exits++;
    return true;
}

/* Stores the exit as received (that acknowledges it) and keeps it in memory. False when it
 * could not be stored: then it is not acknowledged, and the strategy sends it again. */
static bool hold_exit(executor_core *x, const wire_signal *sig, const order_record *r, const exit_entry *entry) {
    char body[HELD_EXIT_BODY_MAX];
    size_t len = wire_encode_signal(sig, true, body, sizeof body);
    if (!len || !hexit_put(x->db, sig->signal_id, body, len, xc_now_s(x))) {
        log_error("exit %s waits for its entry's fill, but cannot be stored now (%s); not acknowledged",
                  sig->signal_id, sqlite3_errmsg(x->db));
        return false;
    }
    if (!held_exit_add(x, sig, xc_now_us(x) / 1000 + HOLD_MS)) {
        log_error("exit %s: out of memory holding it; decided again at the next start", sig->signal_id);
        return false;
    }
    db_journal(x->db, "executor", "exit_held", r->o.client_order_id, entry->coid);
    log_warn("exit %s held: its entry %s is not booked as filled yet (%lld lot(s) so far); decided when its fill "
             "is booked, or after asking the broker in %d s", sig->signal_id, entry->coid, (long long)entry->filled,
             HOLD_MS / 1000);
    return true;
}

/* ---- signals ----------------------------------------------------------------------------- */

/* Room for "aftm-<instance>-" in front of a signal id. */
#define COID_PREFIX_LEN (5 + DB_INSTANCE_ID_LEN + 1)

/* One signal: refused, skipped, held (an exit whose entry is not booked yet; see hold_mode) or
 * stored and sent. */
static void take_signal(executor_core *x, const wire_signal *sig, hold_mode mode) {
    /* inside a batch that failed already: not stored, not acknowledged (the strategy sends it
     * again; a held exit is decided again later) */
    if (x->batch && !xc_batch_writable(x)) return;
    order_record r;
    memset(&r, 0, sizeof r);
    char signal_id[ORDER_ID_MAX - COID_PREFIX_LEN];
    if (sig->has_ext && strlen(sig->signal_id) >= sizeof signal_id) {
        log_warn("signal id '%.80s' is longer than %zu characters; dropped", sig->signal_id, sizeof signal_id - 1);
        return;
    }
    if (sig->has_ext) memcpy(signal_id, sig->signal_id, strlen(sig->signal_id) + 1);
    else /* the original's signal has no id: one per message received */
        snprintf(signal_id, sizeof signal_id, "orig-%lld-%llu", (long long)llround(sig->when * 1e6),
                 (unsigned long long)++x->orig_counter);
    char coid[ORDER_ID_MAX];
    if (!gw_coid_from_signal(coid, sizeof coid, x->instance, signal_id)) {
        log_warn("signal id '%.80s' does not make a client order id (printable, no spaces); dropped", signal_id);
        return;
    }
    r.is_exit = gw_is_exit(signal_id);
    r.ref_price = sig->price;
    r.signal_when = sig->when;

    order_record existing;
    if (ostore_get_by_signal(x->os, signal_id, &existing)) {
        if (existing.o.status == ORDER_NEW) {
            log_warn("signal %s arrived again and its order never left; sending it now", signal_id);
            xc_send_order(x, &existing);
        } else {
            /* the strategy resends until it sees the order row: this is the acknowledgement */
            log_info("signal %s arrived again: its order %s is already %s; not sent twice", signal_id,
                     existing.o.client_order_id, order_status_name(existing.o.status));
            /* a restarted strategy may have lost what it knew of this entry: tell it again */
            xc_entry_feedback(x, &existing);
        }
        xc_acknowledge(x, &existing);
        return;
    }
    char account[64] = "";
    bool have_account = exc_account(x, account, sizeof account);
    side_t side = sig->side == WIRE_BUY ? SIDE_BUY : SIDE_SELL;
    if (!order_init(&r.o, coid, signal_id, sig->condition_id, have_account ? account : "-", sig->commodity_id, side,
                    sig->quantity)) {
        log_warn("signal %s is not a valid order (quantity %lld, 1..%lld); dropped", signal_id,
                 (long long)sig->quantity, (long long)ORDER_QTY_MAX);
        return;
    }
    if (mode == HOLD_NEW && held_exit_find(x, signal_id)) {
        /* held already: this resend is acknowledged again, and waits with the first */
        xc_acknowledge(x, &r);
        return;
    }
    if (!have_account) {
        char why[256];
        /* an expired session blocks new entries, and says so */
        if (!session_entry_blocked(x->db, xc_now_s(x), why, sizeof why))
            snprintf(why, sizeof why, "no order account selected (select one, or pass --account)");
        xc_record_refusal(x, &r, why);
        return;
    }
    bool sized_exit = false;
    if (r.is_exit) {
        char why[256] = "";
        exit_entry entry;
        int64_t qty = exit_size(x, &r.o, signal_id, &sized_exit, &entry, why, sizeof why);
        if (qty < 0) {
            /* not acknowledged: the strategy sends it again (a held one is decided again later) */
            log_error("cannot read the books to size exit %s (%s); not sent now", signal_id, db_error(x->db));
            return;
        }
        /* The strategy follows the report stream too and may start the exit before the entry's
         * fill is booked here: sized now, the exit would find nothing to close and leave the
         * position unmanaged. It waits for the fill (or the broker's word) instead. */
        bool wait = entry.open && qty < r.o.qty && (mode != HOLD_FINAL || entry.filled == 0);
        if (wait) {
            if (mode == HOLD_NEW && hold_exit(x, sig, &r, &entry)) xc_acknowledge(x, &r);
            return;
        }
        if (qty == 0) {
            skip_exit(x, &r, why);
            return;
        }
        if (qty < r.o.qty) {
            log_warn("exit %s sized down from %lld to %lld lot(s): %s", signal_id, (long long)r.o.qty,
                     (long long)qty, why);
            r.o.qty = qty;
        }
    }
    int64_t now_ms = xc_now_us(x) / 1000;
    risk_request req = {.symbol = r.o.symbol, .side = side, .qty = r.o.qty, .ref_price = sig->price,
                        .signal_ms = (int64_t)llround(sig->when * 1000), .now_ms = now_ms, .duplicate = false,
                        .closes_holding = sized_exit};
    price_t *last = xc_price_slot(x, r.o.symbol, false);
    req.last_price = last ? *last : 0;
    /* A signal without a price (the original's) is a market order at the last price. */
    if (req.ref_price <= 0) req.ref_price = req.last_price;
    xc_local_time(now_ms, &req.minute_of_day, &req.weekday);
    char reason[RISK_REASON_MAX + 32], why[RISK_REASON_MAX];
    risk_verdict v = risk_check(&x->cfg.limits, &x->risk, &req, why, sizeof why);
    if (v != RISK_OK) {
        snprintf(reason, sizeof reason, "risk %s: %s", risk_rule_code(v), why);
        xc_record_refusal(x, &r, reason);
        return;
    }
    /* is_exit stays what the signal says (a condition's exit); reducing the net position is
     * what the risk rules look at, and only that is logged here */
    bool reduces = risk_is_exit(&x->risk, &req);
    /* stored before it leaves: a crash from here on cannot produce a second order */
    if (!ostore_insert(x->os, &r)) {
        log_error("cannot store order %s (%s); not sent (the strategy sends the signal again)", coid,
                  db_error(x->db));
        if (x->batch) x->batch_failed = true; /* the whole batch is rolled back */
        return;
    }
    risk_record_order(&x->risk, now_ms);
    xc_pending_move(x, NULL, &r.o);
    x->st.orders++;
    xc_acknowledge(x, &r);
    log_info("order %s: %s %lld %s for signal %s%s", coid, side == SIDE_BUY ? "buy" : "sell", (long long)r.o.qty,
             r.o.symbol, signal_id, r.is_exit ? " (exit)" : reduces ? " (entry; reduces the net position)" : " (entry)");
    xc_send_order(x, &r);
}

void exc_on_signal(executor_core *x, const wire_signal *sig) {
    x->st.signals++;
    if (x->batch) x->batch_signals++;
    take_signal(x, sig, HOLD_NEW);
}

/* Decides again on each held exit: once its entry's fill is booked (or the entry ended), it is
 * sized and sent (or skipped) as any exit; past its deadline, the entry is first settled with
 * the broker (its status, then the gateway's report log), and the exit decided on that. An exit
 * leaves the hold once its order row (sent, refused or skipped) is stored. */
void xc_settle_held_exits(executor_core *x) {
    if (!x->nheld_exits || x->held_exits_busy) return;
    x->held_exits_busy = true;
    for (size_t i = 0; i < x->nheld_exits;) {
        wire_signal sig = x->held_exits[i].sig;
        order_record r;
        bool decided = ostore_get_by_signal(x->os, sig.signal_id, &r);
        hold_mode mode = HOLD_AGAIN;
        if (!decided) {
            int64_t now = xc_now_us(x) / 1000;
            if (now >= x->held_exits[i].due_ms) {
                char entry_id[WIRE_SIGNAL_ID_MAX];
                snprintf(entry_id, sizeof entry_id, "%s", sig.signal_id);
                entry_id[strlen(entry_id) - 1] = 'E';
                order_record entry;
                if (ostore_get_by_signal(x->os, entry_id, &entry) && order_is_open(entry.o.status)) {
                    log_warn("exit %s: no fill of its entry %s booked after %d s; asking the broker", sig.signal_id,
                             entry.o.client_order_id, HOLD_MS / 1000);
                    exc_catch_up(x);
                    xc_settle_with_gateway(x, entry.o.client_order_id);
                }
                mode = HOLD_FINAL;
                x->held_exits[i].due_ms = now + HOLD_AGAIN_MS;
            }
            take_signal(x, &sig, mode);
            decided = ostore_get_by_signal(x->os, sig.signal_id, &r);
        }
        if (!decided) {
            if (mode == HOLD_FINAL)
                log_error("exit %s still waits: the broker shows its entry open with nothing filled; asked again in "
                          "%d s", sig.signal_id, HOLD_AGAIN_MS / 1000);
            i++;
            continue;
        }
        if (!hexit_remove(x->db, sig.signal_id)) {
            i++; /* the row goes next time; its order row already answers for it */
            continue;
        }
        log_info("held exit %s decided: order %s %s", sig.signal_id, r.o.client_order_id,
                 order_status_name(r.o.status));
        memmove(&x->held_exits[i], &x->held_exits[i + 1], (x->nheld_exits - i - 1) * sizeof *x->held_exits);
        x->nheld_exits--;
    }
    x->held_exits_busy = false;
}

void xc_load_held_exit(void *ctx, const held_exit_row *row) {
    executor_core *x = ctx;
    wire_msg m;
    if (wire_decode(&x->dec, row->body, row->len, &m) != WIRE_SIGNAL || !m.u.signal.has_ext ||
        strcmp(m.u.signal.signal_id, row->signal_id)) {
        log_error("held exit %s is not a signal aftm stored; left in the database for a look", row->signal_id);
        return;
    }
    if (!held_exit_add(x, &m.u.signal, xc_now_us(x) / 1000 + HOLD_MS))
        log_error("held exit %s: out of memory; decided at the next start", row->signal_id);
    else log_warn("exit %s was held when the executor stopped; deciding on it again", row->signal_id);
}

void exc_on_signal_message(executor_core *x, const void *body, size_t len) {
    wire_msg m;
    wire_kind k = wire_decode(&x->dec, body, len, &m);
    if (k == WIRE_SIGNAL) exc_on_signal(x, &m.u.signal);
    else if (k == WIRE_ERROR) log_warn("failed to decode a signal message: %s (%s); skipped", m.error, m.error_class);
    else log_warn("received a message that is not a TradingSignal; skipped");
}
