/* Order matching against ticks. Resting orders sit in one array in submission order; a tick
 * walks it once, fills what it reaches and compacts the rest in place (order preserved).
 *
 * Fill prices:
 *   market: the tick's price moved slippage_points against the order (never below 1 point);
 *   limit:  the tick's price, which is at or better than the limit (a buy fills when
 *           price <= limit, a sell when price >= limit). */
#include "domain/matching.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

struct matcher {
    match_config cfg;
    match_order *orders;
    size_t n, cap;
};

matcher *matcher_new(const match_config *cfg) {
    matcher *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    if (cfg) m->cfg = *cfg;
    if (m->cfg.slippage_points < 0) m->cfg.slippage_points = 0;
    return m;
}

void matcher_free(matcher *m) {
    if (!m) return;
    free(m->orders);
    free(m);
}

bool matcher_submit(matcher *m, const match_order *o) {
    if (!m || !o || o->qty <= 0 || o->symbol[0] == '\0') return false;
    if (memchr(o->symbol, '\0', sizeof o->symbol) == NULL) return false; /* unterminated */
    if (o->side != SIDE_BUY && o->side != SIDE_SELL) return false;
    if (o->kind != MATCH_MARKET && o->kind != MATCH_LIMIT) return false;
    if (o->kind == MATCH_LIMIT && o->limit_price <= 0) return false;
    if (!buf_grow((void **)&m->orders, &m->cap, m->n + 1, sizeof *m->orders)) return false;
    m->orders[m->n++] = *o;
    return true;
}

bool matcher_cancel(matcher *m, int64_t order_id) {
    if (!m) return false;
    for (size_t i = 0; i < m->n; i++) {
        if (m->orders[i].order_id != order_id) continue;
        memmove(&m->orders[i], &m->orders[i + 1], (m->n - i - 1) * sizeof *m->orders);
        m->n--;
        return true;
    }
    return false;
}

size_t matcher_resting(const matcher *m) { return m ? m->n : 0; }

/* The price a resting order fills at on this tick, or 0 when the tick does not reach it. */
static price_t fill_price(const matcher *m, const match_order *o, price_t price) {
    if (o->kind == MATCH_MARKET) {
        price_t p = o->side == SIDE_BUY ? price + m->cfg.slippage_points : price - m->cfg.slippage_points;
        return p < 1 ? 1 : p;
    }
    if (o->side == SIDE_BUY) return price <= o->limit_price ? price : 0;
    return price >= o->limit_price ? price : 0;
}

size_t matcher_on_tick(matcher *m, const char *symbol, price_t price, int64_t ts_us, match_fill_fn fn, void *ctx) {
    if (!m || !symbol || price <= 0 || m->n == 0) return 0;
    size_t filled = 0, keep = 0;
    for (size_t i = 0; i < m->n; i++) {
        match_order *o = &m->orders[i];
        price_t p = strcmp(o->symbol, symbol) == 0 ? fill_price(m, o, price) : 0;
        if (p > 0) {
            match_fill f = {.order_id = o->order_id, .qty = o->qty, .price = p, .ts_us = ts_us};
            filled++;
            if (fn) fn(ctx, &f);
            continue;
        }
        if (keep != i) m->orders[keep] = *o;
        keep++;
    }
    m->n = keep;
    return filled;
}
