/* The executor's logic (see executor_core.h): signals to stored orders, reports to the books.
 *
 * Never twice: the client order id is derived from the signal id and this database's instance
 * id, and the order row is committed before the order leaves. A signal whose order exists is not
 * sent again (the strategy resends a signal until it sees its order row: a resend is a no-op);
 * a retry after a timeout reuses the same client order id, which the gateway answers with the
 * first order, looked up then with order_status.
 *
 * Never lost: a report's effects and the report counter move in one transaction, so a report
 * that could not be stored is fetched again from the gateway (catch-up); an answer to an order
 * that could not be stored is kept and applied again; an open order the broker shows further
 * along than the books is caught up from the gateway's report log. Every number from the wire
 * is checked against sane bounds before it can reach the books.
 *
 * Group commit: what is read together (signals, answers, reports) is written in one
 * transaction, and nothing of it leaves, is acknowledged or counted before that commits; when
 * it fails, the in-memory state (open orders, counters, the report counter) is put back.
 *
 * The core is one struct (executor_internal.h) in files of one concern each:
 *   executor_core.c       its life (new, free, start), polling, the account, the open-order counts
 *   executor_batch.c      group commit and what waits for the commit
 *   executor_signals.c    signals, refusals, exits never opening a position, exits held
 *   executor_send.c       sending orders, the gateway's answers, orders in flight
 *   executor_reports.c    execution reports, orders aftm did not place, catch-up, entry feedback
 *   executor_reconcile.c  open orders settled with the gateway
 *   executor_manual.c     orders by hand, flatten, cancel, the kill switch
 *   executor_marks.c      last prices, P&L, marking to market */
#include "app/executor/executor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "domain/order.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/held_exits.h"
#include "store/order_store.h"
#include "store/session_store.h"
#include "store/trading_state.h"

/* ---- orders in flight, for the risk limits ------------------------------------------------ */

/* Lots an order may still fill: what the position limit and the reduce-only test count. */
static int64_t open_remaining(const order *o) {
    if (!order_is_open(o->status)) return 0;
    return o->qty > o->filled_qty ? o->qty - o->filled_qty : 0;
}

/* Moves the product's pending lots by what changed between before (NULL: a new order) and
 * after. */
void xc_pending_move(executor_core *x, const order *before, const order *after) {
    int64_t delta = open_remaining(after) - (before ? open_remaining(before) : 0);
    risk_product *p = delta ? risk_product_get(&x->risk, after->symbol) : NULL;
    if (!p) return;
    int64_t *slot = after->side == SIDE_BUY ? &p->pending_buy : &p->pending_sell;
    *slot += delta;
    if (*slot < 0) *slot = 0;
}

static void count_open(void *ctx, const order_record *r) {
    executor_core *x = ctx;
    x->risk.open_orders++;
    xc_pending_move(x, NULL, &r->o);
}

/* Open orders and pending lots from the database: at start, and after a transaction that
 * failed (the in-memory counts may have moved with it). */
void xc_reload_open(executor_core *x) {
    x->risk.open_orders = 0;
    for (int i = 0; i < x->risk.nproducts; i++) x->risk.products[i].pending_buy = x->risk.products[i].pending_sell = 0;
    if (ostore_each_open(x->os, count_open, x) < 0)
        log_warn("cannot count the open orders: %s", db_error(x->db));
}

/* ---- the account and the time of day ------------------------------------------------------ */

bool exc_account(executor_core *x, char *out, size_t cap) {
    if (x->cfg.account[0]) {
        snprintf(out, cap, "%s", x->cfg.account);
        return true;
    }
    return session_order_account(x->db, out, cap);
}

void xc_local_time(int64_t now_ms, int *minute, int *weekday) {
    time_t t = (time_t)(now_ms / 1000) + 8 * 3600; /* Asia/Taipei, UTC+8 all year */
    struct tm tm;
    gmtime_r(&t, &tm);
    *minute = tm.tm_hour * 60 + tm.tm_min;
    *weekday = tm.tm_wday;
}

/* ---- life -------------------------------------------------------------------------------- */

executor_core *exc_new(sqlite3 *db, const executor_config *cfg, const executor_io *io, char *err, size_t errlen) {
    if ((!io->send_order && !io->submit_order) || !io->gateway_call || cfg->attempts < 1) {
        snprintf(err, errlen, "the executor needs an order sink, a gateway call and at least one attempt");
        return NULL;
    }
    executor_core *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->cfg = *cfg;
    x->io = *io;
    x->db = db;
    wire_decoder_init(&x->dec);
    mp_reader_init(&x->reader);
    risk_state_init(&x->risk);
    if (!(x->cs = cstore_open(db)) || !(x->os = ostore_open(db))) {
        snprintf(err, errlen, "cannot prepare the stores: %s", sqlite3_errmsg(db));
        exc_free(x);
        return NULL;
    }
    if (!db_instance_id(db, x->instance, sizeof x->instance)) {
        snprintf(err, errlen, "the database has no instance id (it names this database's client order ids)");
        exc_free(x);
        return NULL;
    }
    db_meta_get_int(db, "executor_report_seq", &x->report_seq);
    x->gw_last_seq = -1;
    x->data_version = db_data_version(db);
    return x;
}

void exc_free(executor_core *x) {
    if (!x) return;
    if (x->batch) ostore_rollback(x->os);
    free(x->held);
    while (x->nfl) xc_flight_remove(x, &x->fl[x->nfl - 1]);
    free(x->fl);
    free(x->flix);
    free(x->def);
    ostore_close(x->os);
    cstore_close(x->cs);
    wire_decoder_destroy(&x->dec);
    mp_reader_destroy(&x->reader);
    free(x->held_exits);
    free(x);
}

void exc_start(executor_core *x) {
    xc_reload_open(x);
    exc_load_kill_switch(x);
    /* every run says which trading state it starts in, active included */
    trading_state ts;
    char line[320];
    if (tstate_get(x->db, &ts)) {
        tstate_describe(&ts, line, sizeof line);
        log_info("trading state at start: %s", line);
    }
    xc_refresh_pnl(x);
    exc_reconcile(x);
    /* exits held when the executor stopped: decided on the books as reconciled now */
    if (hexit_each(x->db, xc_load_held_exit, x) < 0)
        log_error("cannot read the held exits: %s; read again at the next start", sqlite3_errmsg(x->db));
    xc_settle_held_exits(x);
    xc_finish_taken(x);
    exc_take_manual(x);
    x->data_version = db_data_version(x->db);
}

void exc_poll_state(executor_core *x) {
    exc_mark_to_market(x);
    long long v = db_data_version(x->db);
    if (v != x->data_version) {
        x->data_version = v;
        exc_load_kill_switch(x);
        exc_take_manual(x);
    }
    xc_settle_held_exits(x); /* and, past its deadline, asks the broker */
}

int64_t exc_open_orders(const executor_core *x) { return x->risk.open_orders; }
long long exc_report_seq(const executor_core *x) { return x->report_seq; }
bool exc_kill_switch_on(const executor_core *x) { return x->risk.kill_switch; }
executor_stats exc_stats(const executor_core *x) { return x->st; }
