/* The executor core's prices and P&L: the last price of each product (from ticks and fills),
 * today's P&L and equity row from the positions at those prices (the daily loss limit trips the
 * kill switch), and the open positions marked at the last price between fills.
 *
 * Not here: booking fills (executor_reports.c), the risk rules themselves (domain/risk.c). */
#include "app/executor/executor_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "domain/order.h"
#include "domain/position.h"
#include "store/db.h"
#include "store/equity_store.h"
#include "store/order_store.h"
#include "store/trading_state.h"

/* ---- prices and P&L ---------------------------------------------------------------------- */

price_t *xc_price_slot(executor_core *x, const char *symbol, bool create) {
    for (int i = 0; i < x->nprices; i++)
        if (!strcmp(x->prices[i].symbol, symbol)) return &x->prices[i].last;
    if (!create || x->nprices == MAX_SYMBOLS) return NULL;
    snprintf(x->prices[x->nprices].symbol, sizeof x->prices[0].symbol, "%s", symbol);
    x->prices[x->nprices].last = 0;
    return &x->prices[x->nprices++].last;
}

typedef struct {
    executor_core *x;
    int64_t total;
} pnl_ctx;

/* Bounds a stored position must be within for its P&L to be computed without overflow; one
 * outside them (written by an older aftm from an absurd report) is reported, not summed. */
#define SANE_QTY (ORDER_QTY_MAX * 1000)
#define SANE_MONEY (ORDER_PRICE_MAX * ORDER_QTY_MAX * 1000)

static void add_position_pnl(void *ctx, const position *p, price_t stored_last) {
    pnl_ctx *c = ctx;
    price_t *live = xc_price_slot(c->x, p->symbol, false);
    price_t mark = live && *live > 0 ? *live : stored_last;
    risk_set_position(&c->x->risk, p->symbol, p->net_qty);
    if (p->net_qty > SANE_QTY || p->net_qty < -SANE_QTY || p->open_cost > SANE_MONEY || p->open_cost < -SANE_MONEY ||
        p->realized > SANE_MONEY || p->realized < -SANE_MONEY || mark > ORDER_PRICE_MAX || mark < 0) {
        log_error("position %s %s holds values out of range (net %lld, cost %lld, realized %lld); its P&L is not counted",
                  p->account, p->symbol, (long long)p->net_qty, (long long)p->open_cost, (long long)p->realized);
        return;
    }
    int64_t points = p->realized + (mark > 0 ? position_unrealized(p, mark) : 0), money;
    if (__builtin_mul_overflow(points, contract_multiplier(p->symbol), &money) ||
        __builtin_add_overflow(c->total, money, &c->total))
        log_error("position %s %s: P&L out of range; not counted", p->account, p->symbol);
}

/* Today's P&L is the total minus the total at the first look of the (local) day. */
static void refresh_pnl_at(executor_core *x, bool record);
void xc_refresh_pnl(executor_core *x) { refresh_pnl_at(x, x->st.fills > 0); }

static void refresh_pnl_at(executor_core *x, bool record) {
    pnl_ctx c = {x, 0};
    ostore_each_position(x->os, add_position_pnl, &c);
    int64_t wall = xc_now_us(x) / 1000000;
    time_t local = (time_t)wall + 8 * 3600; /* Asia/Taipei has no daylight saving */
    struct tm tm;
    gmtime_r(&local, &tm);
    char key[48];
    snprintf(key, sizeof key, "pnl_base_%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    long long base;
    if (!db_meta_get_int(x->db, key, &base)) {
        base = c.total;
        db_meta_set_int(x->db, key, base);
    }
    /* the equity log: today's row = starting capital + total P&L, after each fill and at each
     * marking of the open positions */
    if (record && !estore_record_pnl(x->db, wall, (long long)c.total))
        log_warn("cannot record today's equity: %s", db_error(x->db));
    if (risk_update_pnl(&x->risk, &x->cfg.limits, c.total - base)) {
        log_error("KILL SWITCH: %s; new entries are refused, exits still allowed ('aftm resume' to clear)",
                  x->risk.kill_reason);
        if (!x->risk.halted) tstate_set(x->db, TSTATE_REDUCING, x->risk.kill_reason, "executor");
    }
}

/* ---- ticks ------------------------------------------------------------------------------- */

void exc_set_last_price(executor_core *x, const char *symbol, price_t price) {
    if (price <= 0) return;
    price_t *p = xc_price_slot(x, symbol, true);
    if (p) *p = price;
}

void exc_on_tick_message(executor_core *x, const void *body, size_t len) {
    wire_msg m;
    if (wire_decode(&x->dec, body, len, &m) != WIRE_TICK) return;
    if (!isfinite(m.u.tick.match_price) || m.u.tick.match_price < 1 || m.u.tick.match_price > ORDER_PRICE_MAX) return;
    price_t *p = xc_price_slot(x, m.u.tick.commodity_id, true);
    if (p) *p = (price_t)trunc(m.u.tick.match_price);
}

/* ---- marking to market ------------------------------------------------------------------ */

#define MARK_EVERY_MS 1000
#define MARK_MAX 64

typedef struct {
    executor_core *x;
    position moved[MARK_MAX];
    price_t mark[MARK_MAX];
    int n;
} mark_ctx;

static void note_mark(void *ctx, const position *p, price_t stored) {
    mark_ctx *c = ctx;
    price_t *live = xc_price_slot(c->x, p->symbol, false);
    if (!p->net_qty || !live || *live <= 0 || *live == stored || c->n == MARK_MAX) return;
    c->moved[c->n] = *p;
    c->mark[c->n++] = *live;
}

/* Between fills, the open positions' stored last price follows the ticks (at most once a
 * second), so 'aftm positions' and 'aftm status' show unrealized P&L at the last price, and
 * today's equity row and the daily loss limit follow it too. Positions are read first and
 * written after (no write while the position statement is stepping), read again inside the
 * transaction, so a position another connection changed in between is never written back as
 * it was. */
void exc_mark_to_market(executor_core *x) {
    int64_t now = xc_now_us(x) / 1000;
    if (x->last_mark_ms && now - x->last_mark_ms < MARK_EVERY_MS) return;
    x->last_mark_ms = now;
    mark_ctx c;
    c.x = x;
    c.n = 0;
    if (ostore_each_position(x->os, note_mark, &c) < 0 || !c.n) return; /* nothing moved: no lock taken */
    if (!ostore_begin(x->os)) return;
    c.n = 0;
    if (ostore_each_position(x->os, note_mark, &c) < 0 || !c.n) {
        ostore_rollback(x->os);
        return;
    }
    bool ok = true;
    for (int i = 0; ok && i < c.n; i++) ok = ostore_position_put(x->os, &c.moved[i], c.mark[i]);
    if (!ok || !ostore_commit(x->os)) {
        ostore_rollback(x->os);
        log_warn("cannot mark the open positions at the last price: %s", db_error(x->db));
        return;
    }
    refresh_pnl_at(x, true);
}
