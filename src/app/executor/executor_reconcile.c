/* The executor core's reconciliation: each open order settled with the gateway. A stored order
 * never sent is sent; a sent one the broker never saw is sent again under the same id; one the
 * broker shows further along is caught up from the gateway's report log, and its final state
 * booked when no fill is missing.
 *
 * Not here: the report stream and its catch-up (executor_reports.c), sending (executor_send.c). */
#include "app/executor/executor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/executor/executor_proto.h"
#include "core/clock.h"
#include "core/log.h"
#include "domain/order.h"
#include "store/order_store.h"

/* ---- reconciliation ---------------------------------------------------------------------- */

#define RESCAN_EVERY_MS 5000

/* The order's broker view is final or further along than the books: the books apply what the
 * broker says when no fill is missing (a cancel, a reject, an expiry whose report went by); a
 * missing fill is left to the report log and said. */
static void settle_from_status(executor_core *x, const char *coid, const exproto_status *st) {
    order_record r;
    if (!ostore_get(x->os, coid, &r) || !order_is_open(r.o.status)) return;
    if (st->filled_qty != r.o.filled_qty) {
        log_error("order %s: the broker has %lld filled, the books %lld, and the report log did not say why; the "
                  "broker's book needs a look", coid, (long long)st->filled_qty, (long long)r.o.filled_qty);
        return;
    }
    if (!order_is_terminal(st->status) || st->status == ORDER_FILLED) return; /* a fill comes with its report */
    if (!ostore_begin(x->os)) return;
    order before = r.o;
    if (st->status == ORDER_REJECTED && r.o.filled_qty == 0) order_apply_rejected(&r.o, st->reason);
    else if (st->status == ORDER_EXPIRED) order_apply_expired(&r.o);
    else order_apply_cancelled(&r.o);
    if (st->reason[0] && !r.o.reason[0]) snprintf(r.o.reason, sizeof r.o.reason, "%s", st->reason);
    if (!xc_store_change(x, &before, &r, NULL) || !ostore_commit(x->os)) {
        ostore_rollback(x->os);
        xc_reload_open(x);
        return;
    }
    log_warn("order %s is %s at the broker (%s); booked so", coid, order_status_name(r.o.status),
             r.o.reason[0] ? r.o.reason : "no reason given");
}

/* Reads the gateway's whole report log for the reports of the orders in set (the counter does
 * not move: what it passed was applied or refused). */
static void rescan(executor_core *x, const coid_set *set) {
    int64_t now = xc_now_us(x) / 1000;
    if (x->last_rescan_ms && now - x->last_rescan_ms < RESCAN_EVERY_MS) return;
    x->last_rescan_ms = now;
    log_warn("%zu open order(s) are behind the broker; reading the gateway's report log for them", set->n);
    long long since = 0;
    for (int page = 0; page < 100000; page++) {
        bool more;
        long long top = xc_fetch_page(x, since, set, &more);
        if (top < 0 || !more || top <= since) break;
        since = top;
    }
}

typedef struct {
    executor_core *x;
    coid_set behind;
    exproto_status *status; /* the broker's view of each order in behind */
    size_t cap;
} recon_ctx;

static void note_behind(recon_ctx *c, const char *coid, const exproto_status *st) {
    if (c->behind.n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char(*ids)[ORDER_ID_MAX] = realloc(c->behind.ids, cap * sizeof *ids);
        if (!ids) return;
        c->behind.ids = ids;
        exproto_status *sts = realloc(c->status, cap * sizeof *sts);
        if (!sts) return;
        c->status = sts;
        c->cap = cap;
    }
    snprintf(c->behind.ids[c->behind.n], ORDER_ID_MAX, "%s", coid);
    c->status[c->behind.n] = *st;
    c->behind.n++;
}

/* Asks the gateway about one order; false when it did not answer. */
static bool ask_status(executor_core *x, const order_record *r, recon_ctx *c) {
    char err[256] = "";
    json_t *req = exproto_order_status_request(r->o.client_order_id);
    json_t *reply = x->io.gateway_call(x->io.ctx, req, err, sizeof err);
    json_decref(req);
    if (!reply) return false;
    exproto_status st;
    /* updated_at is stamped by the store from the system clock */
    if (exproto_status_not_found(reply) && r->o.status == ORDER_SENT && clock_wall_s() - r->updated_at > 2.0) {
        /* The broker never saw it: the send was lost before reaching it. Safe to send. */
        order_record copy = *r;
        log_warn("order %s never reached the broker; sending it again with the same id", r->o.client_order_id);
        xc_send_order(x, &copy);
    } else if (exproto_parse_status(reply, &st) &&
               (st.filled_qty > r->o.filled_qty || (order_is_terminal(st.status) && order_is_open(r->o.status)))) {
        note_behind(c, r->o.client_order_id, &st);
    }
    json_decref(reply);
    return true;
}

static void reconcile_one(void *ctx, const order_record *r) {
    recon_ctx *c = ctx;
    /* its answer (waited for, or kept to be stored), or its timeout, settles it */
    if (xc_flight_find(c->x, r->o.client_order_id) || xc_held_find(c->x, r->o.client_order_id)) return;
    if (r->o.status == ORDER_NEW) {
        order_record copy = *r;
        log_info("order %s was stored but never confirmed sent; sending (same id, so never twice)",
                 r->o.client_order_id);
        xc_send_order(c->x, &copy);
        return;
    }
    ask_status(c->x, r, c);
}

/* Catches up the orders in c->behind from the report log, then books the broker's final state
 * of those that stay behind. */
static void settle_behind(recon_ctx *c) {
    if (!c->behind.n) return;
    rescan(c->x, &c->behind);
    for (size_t i = 0; i < c->behind.n; i++) settle_from_status(c->x, c->behind.ids[i], &c->status[i]);
    free(c->behind.ids);
    free(c->status);
}

void xc_settle_with_gateway(executor_core *x, const char *coid) {
    order_record r;
    recon_ctx c;
    memset(&c, 0, sizeof c);
    c.x = x;
    if (ostore_get(x->os, coid, &r) && order_is_open(r.o.status)) ask_status(x, &r, &c);
    x->last_rescan_ms = 0; /* asked for this order now: not held back by an earlier rescan */
    settle_behind(&c);
}

void exc_reconcile(executor_core *x) {
    exc_catch_up(x);
    recon_ctx c;
    memset(&c, 0, sizeof c);
    c.x = x;
    ostore_each_open(x->os, reconcile_one, &c);
    settle_behind(&c);
}
