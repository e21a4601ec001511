/* The executor core's orders by hand (store/manual_requests.h): 'aftm order send', 'aftm
 * flatten' and 'aftm order cancel', taken from the database and placed through the same path as a
 * signal's order (stored first, risk rules, sent); and the kill switch as 'aftm halt' and 'aftm
 * resume' leave it in the trading state.
 *
 * Not here: writing the requests (the CLI), sending (executor_send.c). */
#include "app/executor/executor_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"
#include "domain/order.h"
#include "domain/position.h"
#include "net/gw_proto.h"
#include "store/db.h"
#include "store/manual_requests.h"
#include "store/order_store.h"
#include "store/trading_state.h"

/* ---- orders by hand ---------------------------------------------------------------------- */

#define MANUAL_PREFIX "manual-"

/* One order by hand, placed as any order is (stored first under a client order id of this
 * database, the risk rules, then sent), marked by its signal id (no condition): "manual-<request
 * id>" for 'aftm order send', "flatten-<request id>-<product>" for 'aftm flatten', whose orders
 * carry risk_request.flatten (they pass in every trading state). Returns false when the order
 * could not be stored (the request stays taken and is tried again); *coid and result say what
 * happened otherwise. An order already stored under signal_id (the executor stopped between
 * storing it and finishing the request) is only reported. */
static bool place_by_hand(executor_core *x, const char *signal_id, const char *account, const char *symbol,
                          side_t side, int64_t qty, price_t limit_price, bool rests, bool flatten, char *coid,
                          char *result, size_t cap) {
    order_record r;
    memset(&r, 0, sizeof r);
    coid[0] = 0;
    if (ostore_get_by_signal(x->os, signal_id, &r)) {
        snprintf(coid, ORDER_ID_MAX, "%s", r.o.client_order_id);
        snprintf(result, cap, "%s", r.o.status == ORDER_REJECTED ? r.o.reason : "placed");
        return true;
    }
    if (!gw_coid_from_signal(coid, ORDER_ID_MAX, x->instance, signal_id) ||
        !order_init(&r.o, coid, signal_id, 0, account, symbol, side, qty)) {
        coid[0] = 0;
        snprintf(result, cap, "not a valid order (quantity or product)");
        return true;
    }
    r.o.limit_price = limit_price > 0 ? limit_price : 0;
    r.o.rests = r.o.limit_price > 0 && rests;
    int64_t now_ms = xc_now_us(x) / 1000;
    price_t *last = xc_price_slot(x, r.o.symbol, false);
    risk_request req = {.symbol = r.o.symbol, .side = side, .qty = r.o.qty, .now_ms = now_ms, .signal_ms = now_ms,
                        .duplicate = false, .closes_holding = flatten, .flatten = flatten};
    req.last_price = last ? *last : 0;
    /* a market order by hand: at the last price; a limit: at its limit (the price band checks it) */
    req.ref_price = r.o.limit_price > 0 ? r.o.limit_price : req.last_price;
    r.ref_price = req.ref_price;
    r.signal_when = xc_now_s(x);
    xc_local_time(now_ms, &req.minute_of_day, &req.weekday);
    char why[RISK_REASON_MAX];
    risk_verdict v = risk_check(&x->cfg.limits, &x->risk, &req, why, sizeof why);
    if (v != RISK_OK) {
        snprintf(result, cap, "risk %s: %s", risk_rule_code(v), why);
        xc_record_refusal(x, &r, result);
        return true;
    }
    if (!ostore_insert(x->os, &r)) {
        log_error("cannot store order %s by hand (%s); tried again", coid, db_error(x->db));
        return false;
    }
    risk_record_order(&x->risk, now_ms);
    xc_pending_move(x, NULL, &r.o);
    x->st.orders++;
    db_journal(x->db, "executor", flatten ? "flatten_order" : "manual_order", coid, signal_id);
    snprintf(result, cap, "placed");
    char how[48] = "market";
    if (r.o.limit_price > 0)
        snprintf(how, sizeof how, "limit %lld %s", (long long)r.o.limit_price, r.o.rests ? "ROD" : "IOC");
    log_info("order %s: %s %lld %s %s by hand (%s)", coid, side == SIDE_BUY ? "buy" : "sell", (long long)r.o.qty,
             r.o.symbol, how, signal_id);
    xc_send_order(x, &r);
    return true;
}

static void place_manual(executor_core *x, const manual_request *q) {
    char signal_id[32], coid[ORDER_ID_MAX], result[sizeof q->result];
    snprintf(signal_id, sizeof signal_id, MANUAL_PREFIX "%lld", (long long)q->id);
    if (place_by_hand(x, signal_id, q->account, q->symbol, q->side, q->qty, q->limit_price, q->rests, false, coid,
                      result, sizeof result))
        mreq_finish(x->db, q->id, coid, result);
}

/* ---- flatten ------------------------------------------------------------------------------ */

#define FLATTEN_MAX 64

typedef struct {
    const manual_request *q;
    struct {
        char symbol[ORDER_SYMBOL_MAX];
        int64_t net;
    } open[FLATTEN_MAX];
    int n;
} flatten_ctx;

static void note_open(void *ctx, const position *p, price_t last) {
    (void)last;
    flatten_ctx *c = ctx;
    if (!p->net_qty || strcmp(p->account, c->q->account) || (c->q->target[0] && strcmp(p->symbol, c->q->target)) ||
        c->n == FLATTEN_MAX)
        return;
    snprintf(c->open[c->n].symbol, sizeof c->open[c->n].symbol, "%s", p->symbol);
    c->open[c->n].net = p->net_qty;
    c->n++;
}

/* 'aftm flatten': one market order per open position of the account (or of target), against
 * the whole net, in any trading state. The result names each order (or the refusal). */
static void flatten_all(executor_core *x, const manual_request *in) {
    manual_request req = *in, *q = &req;
    /* written without an account (no session's order account): the one this executor runs for */
    char account[64] = "";
    if (!q->account[0] && !exc_account(x, account, sizeof account)) {
        mreq_finish(x->db, q->id, "", "no order account selected (select one, or pass --account to the executor)");
        return;
    }
    if (!q->account[0]) str_copy(q->account, sizeof q->account, account);
    flatten_ctx c;
    memset(&c, 0, sizeof c);
    c.q = q;
    if (ostore_each_position(x->os, note_open, &c) < 0) {
        log_error("cannot read the books to flatten (request %lld): %s; tried again", (long long)q->id,
                  db_error(x->db));
        return;
    }
    char result[sizeof q->result] = "", one[256], coid[ORDER_ID_MAX];
    size_t used = 0;
    for (int i = 0; i < c.n; i++) {
        char signal_id[64], res[RISK_REASON_MAX + 32];
        snprintf(signal_id, sizeof signal_id, "flatten-%lld-%s", (long long)q->id, c.open[i].symbol);
        int64_t net = c.open[i].net;
        if (!place_by_hand(x, signal_id, q->account, c.open[i].symbol, net > 0 ? SIDE_SELL : SIDE_BUY,
                           net > 0 ? net : -net, 0, false, true, coid, res, sizeof res))
            return; /* left taken: done again (orders already stored are only reported) */
        snprintf(one, sizeof one, "%s%s %+lld: %s %.60s", used ? "; " : "", c.open[i].symbol, (long long)-net,
                 coid[0] ? coid : "-", res);
        if (used + strlen(one) < sizeof result) used += (size_t)snprintf(result + used, sizeof result - used, "%s", one);
    }
    if (!c.n) snprintf(result, sizeof result, "nothing to flatten: no open position%s%.32s", q->target[0] ? " in " : "",
                       q->target);
    log_warn("flatten (request %lld): %s", (long long)q->id, result);
    mreq_finish(x->db, q->id, "", result);
}

/* ---- cancel ------------------------------------------------------------------------------- */

/* 'aftm order cancel ID': an open order of the books is cancelled through the gateway's
 * cancel_order (in any trading state); the books follow the broker's report of it. */
static void cancel_by_hand(executor_core *x, const manual_request *q) {
    order_record r;
    char result[sizeof q->result], err[256] = "";
    if (!ostore_get(x->os, q->target, &r)) snprintf(result, sizeof result, "no order %s in the books", q->target);
    else if (!order_is_open(r.o.status))
        snprintf(result, sizeof result, "order %s is already %s; nothing to cancel", q->target,
                 order_status_name(r.o.status));
    else {
        json_t *req = json_pack("{s:s,s:o}", "operation", "cancel_order", "parameters", gw_cancel_params(q->target));
        json_t *reply = req ? x->io.gateway_call(x->io.ctx, req, err, sizeof err) : NULL;
        json_decref(req);
        if (!reply) snprintf(result, sizeof result, "the gateway did not answer: %.120s", err[0] ? err : "no reason");
        else if (!gw_reply_ok(reply)) {
            const char *m = json_string_value(json_object_get(reply, "message"));
            json_t *d = gw_reply_data(reply);
            if (!m && d) m = json_string_value(json_object_get(d, "error_message"));
            snprintf(result, sizeof result, "the broker refused the cancel: %.120s", m ? m : "no reason given");
        } else
            snprintf(result, sizeof result, "cancel sent");
        json_decref(reply);
        db_journal(x->db, "executor", "cancel_order", q->target, result);
        /* the broker's answer is booked now, not at the next reconciliation */
        if (reply) xc_settle_with_gateway(x, q->target);
    }
    log_warn("cancel %s (request %lld): %s", q->target, (long long)q->id, result);
    mreq_finish(x->db, q->id, q->target, result);
}

static void take_request(executor_core *x, const manual_request *q) {
    if (q->kind == MREQ_FLATTEN) flatten_all(x, q);
    else if (q->kind == MREQ_CANCEL) cancel_by_hand(x, q);
    else place_manual(x, q);
}

void exc_take_manual(executor_core *x) {
    manual_request q;
    for (int i = 0; i < 64 && mreq_next_pending(x->db, &q); i++)
        if (mreq_move(x->db, q.id, MREQ_PENDING, MREQ_TAKEN)) take_request(x, &q);
}

/* At start: requests taken by an executor that stopped before finishing them. */
void xc_finish_taken(executor_core *x) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db, "SELECT id FROM manual_requests WHERE state='taken' ORDER BY id LIMIT 64", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    int64_t ids[64];
    int n = 0;
    while (n < 64 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    manual_request q;
    for (int i = 0; i < n; i++)
        if (mreq_get(x->db, ids[i], &q)) take_request(x, &q);
}

/* ---- kill switch ------------------------------------------------------------------------- */

void exc_load_kill_switch(executor_core *x) {
    trading_state ts;
    if (!tstate_get(x->db, &ts)) return; /* read again at the next change */
    tstate_kind was = x->risk.halted ? TSTATE_HALTED : x->risk.kill_switch ? TSTATE_REDUCING : TSTATE_ACTIVE;
    if (ts.kind == was && (was == TSTATE_ACTIVE || !strcmp(ts.reason, x->risk.kill_reason))) return;
    if (ts.kind == TSTATE_HALTED) {
        risk_halt(&x->risk, ts.reason);
        log_warn("trading state HALTED (%s): nothing is sent but cancels and 'aftm flatten'", ts.reason);
    } else if (ts.kind == TSTATE_REDUCING) {
        risk_reset_kill_switch(&x->risk);
        risk_trip_kill_switch(&x->risk, ts.reason);
        log_warn("trading state REDUCING, kill switch ON (%s): new entries refused, exits allowed", ts.reason);
    } else {
        risk_reset_kill_switch(&x->risk);
        log_info("trading state ACTIVE: kill switch cleared, trading resumed");
    }
}
