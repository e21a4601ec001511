/* The simulated exchange. Bookkeeping only: no I/O, no threads, no global state. */
#include "broker/sim_broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/str.h"
#include "domain/matching.h"

/* ---------------------------------------------------------------- data */

typedef struct {
    broker_product p;
    price_t last;
    bool subscribed;
} sim_product;

typedef struct {
    broker_position pos; /* account, symbol and the counters; derived fields filled on query */
    sim_lot *lots;       /* open lots, oldest first (FIFO offset); all on the side of net_qty */
    size_t n_lots, cap_lots, head;
} sim_position;

typedef sim_order_row sim_order; /* n is kept up to date: index + 1 */

typedef struct {
    uint32_t order; /* 0 = empty, else order index + 1 */
    uint32_t hash;  /* of its client order id */
} cid_slot;

typedef struct {
    char login_id[BROKER_ACCOUNT_MAX];
    char password[64];
    char accounts[SIM_MAX_ACCOUNTS][BROKER_ACCOUNT_MAX];
    size_t n_accounts;
    int64_t max_order_qty;
    size_t max_ticks_per_service;
    sim_feed feed;
    bool feed_done;
    int64_t (*now_us)(void);

    broker_callbacks cb;
    sim_journal journal;
    bool logged_in;
    bool subscribed_all;

    sim_product *products;
    size_t n_products, cap_products;

    sim_order *orders; /* order i has serial SIM-%08X of i + 1 */
    size_t n_orders, cap_orders;
    size_t n_rejects; /* rejected orders in the book (SIM_MAX_KEPT_REJECTS) */

    cid_slot *cid_index; /* open addressing by client order id */
    size_t cid_cap, cid_count;

    size_t *ioc_open; /* orders that expire after the next tick of their product */
    size_t n_ioc, cap_ioc;

    sim_position *positions;
    size_t n_positions, cap_positions;

    matcher *m;
    match_fill *fills; /* fills of the tick being processed */
    size_t n_fills, cap_fills;
    uint64_t fill_seq;
} sim;

static const broker_ops sim_ops;

static const broker_product default_products[] = {
    {"TXFF5", "TAIEX Futures 2025/06", "202506", "TAIFEX", 20000, 22000, 18000},
    {"TXFG5", "TAIEX Futures 2025/07", "202507", "TAIFEX", 20000, 22000, 18000},
    {"MXFF5", "Mini-TAIEX Futures 2025/06", "202506", "TAIFEX", 20000, 22000, 18000},
    {"MXFG5", "Mini-TAIEX Futures 2025/07", "202507", "TAIFEX", 20000, 22000, 18000},
};

const broker_product *sim_default_products(size_t *n) {
    *n = sizeof default_products / sizeof default_products[0];
    return default_products;
}

void sim_config_default(sim_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->login_id = SIM_DEFAULT_LOGIN;
    cfg->password = SIM_DEFAULT_PASSWORD;
    cfg->accounts[0] = "SIM-0001";
    cfg->accounts[1] = "SIM-0002";
    cfg->n_accounts = 2;
    cfg->max_order_qty = 1000;
    cfg->max_ticks_per_service = 4096;
}

/* ---------------------------------------------------------------- lookups */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static long cid_find(const sim *s, const char *cid) {
    if (!s->cid_cap || !cid || !*cid) return -1;
    size_t mask = s->cid_cap - 1;
    uint32_t h = (uint32_t)hash_str(cid);
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        cid_slot e = s->cid_index[i];
        if (!e.order) return -1;
        if (e.hash == h && !strcmp(s->orders[e.order - 1].info.client_order_id, cid)) return (long)(e.order - 1);
    }
}

/* Growing the index moves entries by their stored hash: it never reads the orders (at tens of
 * thousands of orders, reading each one's id cost the growing insert a cache miss per order). */
static bool cid_insert(sim *s, size_t order_idx) {
    if ((s->cid_count + 1) * 2 > s->cid_cap) {
        size_t cap = s->cid_cap ? s->cid_cap * 2 : 64;
        cid_slot *t = calloc(cap, sizeof *t);
        if (!t) return false;
        for (size_t i = 0; i < s->cid_cap; i++) {
            cid_slot e = s->cid_index[i];
            if (!e.order) continue;
            size_t j = e.hash & (cap - 1);
            while (t[j].order) j = (j + 1) & (cap - 1);
            t[j] = e;
        }
        free(s->cid_index);
        s->cid_index = t;
        s->cid_cap = cap;
    }
    size_t mask = s->cid_cap - 1;
    uint32_t h = (uint32_t)hash_str(s->orders[order_idx].info.client_order_id);
    size_t j = h & mask;
    while (s->cid_index[j].order) j = (j + 1) & mask;
    s->cid_index[j] = (cid_slot){(uint32_t)(order_idx + 1), h};
    s->cid_count++;
    return true;
}

/* By client order id, else by serial SIM-XXXXXXXX. */
static long order_find(const sim *s, const char *id) {
    if (!id || !*id) return -1;
    long i = cid_find(s, id);
    if (i >= 0) return i;
    unsigned v;
    char tail;
    if (strncmp(id, "SIM-", 4) == 0 && strlen(id) == 12 && sscanf(id + 4, "%8X%c", &v, &tail) == 1 && v >= 1 &&
        v <= s->n_orders) {
        char serial[16];
        snprintf(serial, sizeof serial, "SIM-%08X", v);
        if (!strcmp(serial, id)) return (long)v - 1;
    }
    return -1;
}

static sim_product *product_find(sim *s, const char *code) {
    for (size_t i = 0; i < s->n_products; i++)
        if (!strcmp(s->products[i].p.code, code)) return &s->products[i];
    return NULL;
}

static sim_product *product_add(sim *s, const broker_product *p) {
    if (!buf_grow((void **)&s->products, &s->cap_products, s->n_products + 1, sizeof *s->products)) return NULL;
    sim_product *sp = &s->products[s->n_products++];
    memset(sp, 0, sizeof *sp);
    sp->p = *p;
    return sp;
}

static bool account_known(const sim *s, const char *account) {
    for (size_t i = 0; i < s->n_accounts; i++)
        if (!strcmp(s->accounts[i], account)) return true;
    return false;
}

static sim_position *position_get(sim *s, const char *account, const char *symbol, bool create) {
    for (size_t i = 0; i < s->n_positions; i++) {
        sim_position *p = &s->positions[i];
        if (!strcmp(p->pos.account, account) && !strcmp(p->pos.symbol, symbol)) return p;
    }
    if (!create) return NULL;
    if (!buf_grow((void **)&s->positions, &s->cap_positions, s->n_positions + 1, sizeof *s->positions)) return NULL;
    sim_position *p = &s->positions[s->n_positions++];
    memset(p, 0, sizeof *p);
    str_copy(p->pos.account, sizeof p->pos.account, account);
    str_copy(p->pos.symbol, sizeof p->pos.symbol, symbol);
    return p;
}

/* ---------------------------------------------------------------- the journal */

static void position_row(const sim_position *p, sim_position_row *row) {
    row->pos = p->pos;
    row->lots = p->lots ? p->lots + p->head : NULL;
    row->n_lots = p->n_lots - p->head;
}

static void journal_position(sim *s, const sim_position *p) {
    if (!s->journal.position) return;
    sim_position_row row;
    position_row(p, &row);
    s->journal.position(s->journal.ctx, &row);
}

static void journal_product(sim *s, const sim_product *p) {
    if (s->journal.product) s->journal.product(s->journal.ctx, &p->p);
}

/* ---------------------------------------------------------------- reports */

static void emit(sim *s, const sim_order *o, const char *fill_id, int64_t fill_qty, price_t fill_price) {
    if (s->journal.order) s->journal.order(s->journal.ctx, o);
    if (!s->cb.on_report) return;
    broker_report r;
    memset(&r, 0, sizeof r);
    const broker_order_info *i = &o->info;
    memcpy(r.client_order_id, i->client_order_id, sizeof r.client_order_id);
    memcpy(r.order_serial, i->order_serial, sizeof r.order_serial);
    memcpy(r.account, i->account, sizeof r.account);
    memcpy(r.symbol, i->symbol, sizeof r.symbol);
    r.side = i->side;
    r.qty = i->qty;
    r.status = i->status;
    str_copy(r.fill_id, sizeof r.fill_id, fill_id);
    r.fill_qty = fill_qty;
    r.fill_price = fill_price;
    r.filled_qty = i->filled_qty;
    r.filled_notional = i->filled_notional;
    memcpy(r.reason, i->reason, sizeof r.reason);
    r.ts_us = s->now_us();
    s->cb.on_report(s->cb.ctx, &r);
}

/* ---------------------------------------------------------------- positions */

static bool lots_push(sim_position *p, price_t price, int64_t qty) {
    if (p->head > 0 && p->n_lots == p->cap_lots) { /* reclaim consumed lots first */
        memmove(p->lots, p->lots + p->head, (p->n_lots - p->head) * sizeof *p->lots);
        p->n_lots -= p->head;
        p->head = 0;
    }
    if (!buf_grow((void **)&p->lots, &p->cap_lots, p->n_lots + 1, sizeof *p->lots)) return false;
    p->lots[p->n_lots++] = (sim_lot){price, qty};
    return true;
}

/* A fill of qty at price: offsets the oldest open lots of the other side first (FIFO), the rest
 * opens. Realized P&L in points x lots. */
static void position_fill(sim_position *p, side_t side, int64_t qty, price_t price) {
    broker_position *b = &p->pos;
    int64_t dir = side == SIDE_BUY ? 1 : -1;
    if (side == SIDE_BUY) b->today_filled_long += qty;
    else b->today_filled_short += qty;
    int64_t left = qty;
    while (left > 0 && b->net_qty != 0 && (b->net_qty > 0) != (dir > 0) && p->head < p->n_lots) {
        sim_lot *l = &p->lots[p->head];
        int64_t n = l->qty < left ? l->qty : left;
        /* closing a long (selling): price - cost; closing a short (buying): cost - price */
        b->realized_pl += (dir < 0 ? price - l->price : l->price - price) * n;
        l->qty -= n;
        left -= n;
        b->net_qty += dir * n;
        b->today_closed += n;
        if (l->qty == 0) p->head++;
    }
    if (p->head == p->n_lots) p->head = p->n_lots = 0;
    if (left > 0) {
        lots_push(p, price, left);
        b->net_qty += dir * left;
    }
}

static void position_view(const sim *s, const sim_position *p, broker_position *out) {
    *out = p->pos;
    int64_t open = 0, cost = 0;
    for (size_t i = p->head; i < p->n_lots; i++) {
        open += p->lots[i].qty;
        cost += p->lots[i].qty * p->lots[i].price;
    }
    out->current_long = out->net_qty > 0 ? out->net_qty : 0;
    out->current_short = out->net_qty < 0 ? -out->net_qty : 0;
    out->avg_cost = open ? (double)cost / (double)open : 0.0;
    const sim_product *sp = NULL;
    for (size_t i = 0; i < s->n_products; i++)
        if (!strcmp(s->products[i].p.code, p->pos.symbol)) sp = &s->products[i];
    out->reference_price = sp ? (sp->last ? sp->last : sp->p.reference_price) : 0;
    out->unrealized_pl = 0;
    if (open && out->reference_price)
        out->unrealized_pl = out->net_qty > 0 ? out->reference_price * open - cost : cost - out->reference_price * open;
}

/* ---------------------------------------------------------------- the interface */

static void sim_set_callbacks(void *self, const broker_callbacks *cb) {
    sim *s = self;
    if (cb) s->cb = *cb;
    else memset(&s->cb, 0, sizeof s->cb);
}

static bool sim_login(void *self, const char *id, const char *pw, char *err, size_t errlen) {
    sim *s = self;
    if (!id || strcmp(id, s->login_id) != 0) {
        snprintf(err, errlen, "login refused: unknown login id '%s'", id ? id : "");
        return false;
    }
    if (!pw || strcmp(pw, s->password) != 0) {
        snprintf(err, errlen, "login refused: wrong password for %s", id);
        return false;
    }
    bool was = s->logged_in;
    s->logged_in = true;
    if (!was && s->cb.on_connection) {
        char msg[96];
        snprintf(msg, sizeof msg, "logged in as %s (simulated exchange)", id);
        s->cb.on_connection(s->cb.ctx, BROKER_CONNECTED, msg);
    }
    return true;
}

static void sim_logout(void *self) {
    sim *s = self;
    bool was = s->logged_in;
    s->logged_in = false;
    if (was && s->cb.on_connection) s->cb.on_connection(s->cb.ctx, BROKER_DISCONNECTED, "logged out");
}

static bool sim_is_connected(void *self) { return ((sim *)self)->logged_in; }

static size_t sim_list_accounts(void *self, broker_account *out, size_t cap) {
    sim *s = self;
    for (size_t i = 0; i < s->n_accounts && i < cap; i++) {
        memset(&out[i], 0, sizeof out[i]);
        str_copy(out[i].account, sizeof out[i].account, s->accounts[i]);
        snprintf(out[i].name, sizeof out[i].name, "simulated account %zu", i + 1);
    }
    return s->n_accounts;
}

static size_t sim_list_products(void *self, broker_product *out, size_t cap) {
    sim *s = self;
    for (size_t i = 0; i < s->n_products && i < cap; i++) out[i] = s->products[i].p;
    return s->n_products;
}

static bool sim_subscribe(void *self, const char *symbol, char *err, size_t errlen) {
    sim *s = self;
    if (!symbol || !*symbol) {
        snprintf(err, errlen, "subscribe: empty product code");
        return false;
    }
    if (!strcmp(symbol, "*")) {
        s->subscribed_all = true;
        return true;
    }
    sim_product *p = product_find(s, symbol);
    if (!p) {
        broker_product np;
        memset(&np, 0, sizeof np);
        str_copy(np.code, sizeof np.code, symbol);
        snprintf(np.name, sizeof np.name, "%s (simulated)", symbol);
        str_copy(np.market, sizeof np.market, "SIM");
        p = product_add(s, &np); /* prices are set by its first tick */
        if (!p) {
            snprintf(err, errlen, "subscribe: out of memory");
            return false;
        }
        journal_product(s, p);
    }
    p->subscribed = true;
    return true;
}

static void fill_result(const sim_order *o, bool duplicate, broker_send_result *res) {
    memset(res, 0, sizeof *res);
    res->is_send_order = o->is_send_order;
    res->duplicate = duplicate;
    memcpy(res->client_order_id, o->info.client_order_id, sizeof res->client_order_id);
    memcpy(res->order_serial, o->info.order_serial, sizeof res->order_serial);
    memcpy(res->error_code, o->error_code, sizeof res->error_code);
    memcpy(res->error_message, o->error_message, sizeof res->error_message);
    memcpy(res->note, o->note, sizeof res->note);
    res->status = o->info.status;
}

/* Why the exchange refuses this order, or NULL. */
static const char *validate(sim *s, const broker_order_req *req, char *msg, size_t msglen) {
    if (!account_known(s, req->account)) {
        snprintf(msg, msglen, "unknown order account '%s'", req->account);
        return "UNKNOWN_ACCOUNT";
    }
    sim_product *p = product_find(s, req->symbol);
    if (!p) {
        snprintf(msg, msglen, "unknown product '%s'", req->symbol);
        return "UNKNOWN_PRODUCT";
    }
    if (req->side != SIDE_BUY && req->side != SIDE_SELL) {
        snprintf(msg, msglen, "invalid side");
        return "INVALID_SIDE";
    }
    if (req->qty <= 0) {
        snprintf(msg, msglen, "quantity must be positive, got %lld", (long long)req->qty);
        return "INVALID_QUANTITY";
    }
    if (req->qty > s->max_order_qty) {
        snprintf(msg, msglen, "quantity %lld exceeds the %lld lots allowed per order", (long long)req->qty,
                 (long long)s->max_order_qty);
        return "INVALID_QUANTITY";
    }
    if (req->type == BROKER_LIMIT) {
        if (req->price <= 0) {
            snprintf(msg, msglen, "limit price must be positive, got %lld", (long long)req->price);
            return "INVALID_PRICE";
        }
        if (p->p.max_price > 0 && p->p.min_price > 0 && (req->price > p->p.max_price || req->price < p->p.min_price)) {
            snprintf(msg, msglen, "limit price %lld is outside today's band %lld..%lld", (long long)req->price,
                     (long long)p->p.min_price, (long long)p->p.max_price);
            return "PRICE_OUT_OF_BAND";
        }
    } else if (req->type != BROKER_MARKET && req->type != BROKER_MARKET_PRICE) {
        snprintf(msg, msglen, "invalid order type");
        return "INVALID_ORDER_TYPE";
    }
    return NULL;
}

static bool sim_send_order(void *self, const broker_order_req *req, broker_send_result *res) {
    sim *s = self;
    long existing = cid_find(s, req->client_order_id);
    if (existing >= 0) {
        fill_result(&s->orders[existing], true, res);
        return res->is_send_order;
    }
    if (!s->logged_in) {
        broker_send_refused(req, "NOT_LOGGED_IN", "not logged in to the exchange", res);
        return false;
    }
    char msg[BROKER_MSG_MAX];
    const char *code = validate(s, req, msg, sizeof msg);
    if (code && s->n_rejects >= SIM_MAX_KEPT_REJECTS) {
        broker_send_refused(req, code, msg, res);
        return false;
    }
    if (s->n_orders >= 0xFFFFFFF0u ||
        !buf_grow((void **)&s->orders, &s->cap_orders, s->n_orders + 1, sizeof *s->orders)) {
        broker_send_refused(req, "INTERNAL_ERROR", "the exchange is out of memory", res);
        return false;
    }
    size_t idx = s->n_orders;
    sim_order *o = &s->orders[idx];
    memset(o, 0, sizeof *o);
    o->n = (uint32_t)(idx + 1);
    broker_order_info *i = &o->info;
    str_copy(i->client_order_id, sizeof i->client_order_id, req->client_order_id);
    snprintf(i->order_serial, sizeof i->order_serial, "SIM-%08X", (unsigned)(idx + 1));
    str_copy(i->account, sizeof i->account, req->account);
    str_copy(i->symbol, sizeof i->symbol, req->symbol);
    i->side = req->side;
    i->qty = req->qty;
    i->type = req->type;
    i->price = req->type == BROKER_LIMIT ? req->price : 0;
    i->tif = req->tif;
    str_copy(o->note, sizeof o->note, req->note);
    if (i->client_order_id[0] && !cid_insert(s, idx)) {
        broker_send_refused(req, "INTERNAL_ERROR", "the exchange is out of memory", res);
        return false;
    }
    s->n_orders++;

    if (!code && (i->type == BROKER_LIMIT && (i->tif == BROKER_IOC || i->tif == BROKER_FOK)) &&
        !buf_grow((void **)&s->ioc_open, &s->cap_ioc, s->n_ioc + 1, sizeof *s->ioc_open)) {
        code = "INTERNAL_ERROR";
        snprintf(msg, sizeof msg, "the exchange is out of memory");
    }
    if (!code) {
        match_order mo;
        memset(&mo, 0, sizeof mo);
        mo.order_id = (int64_t)idx;
        str_copy(mo.symbol, sizeof mo.symbol, i->symbol);
        mo.side = i->side;
        mo.kind = i->type == BROKER_LIMIT ? MATCH_LIMIT : MATCH_MARKET;
        mo.qty = i->qty;
        mo.limit_price = i->price;
        if (!matcher_submit(s->m, &mo)) {
            code = "INTERNAL_ERROR";
            snprintf(msg, sizeof msg, "the exchange could not queue the order");
        }
    }
    if (code) {
        s->n_rejects++;
        o->is_send_order = false;
        str_copy(o->error_code, sizeof o->error_code, code);
        str_copy(o->error_message, sizeof o->error_message, msg);
        str_copy(i->reason, sizeof i->reason, msg);
        i->status = BROKER_ST_REJECTED;
    } else {
        o->is_send_order = true;
        str_copy(o->error_code, sizeof o->error_code, "0");
        i->status = BROKER_ST_ACCEPTED;
        if (i->type == BROKER_LIMIT && (i->tif == BROKER_IOC || i->tif == BROKER_FOK)) s->ioc_open[s->n_ioc++] = idx;
        sim_position *p = position_get(s, i->account, i->symbol, true);
        if (p) {
            if (i->side == SIDE_BUY) p->pos.today_order_long += i->qty;
            else p->pos.today_order_short += i->qty;
            journal_position(s, p);
        }
    }
    fill_result(o, false, res);
    emit(s, o, NULL, 0, 0);
    return res->is_send_order;
}

static void ioc_forget(sim *s, size_t idx) {
    for (size_t k = 0; k < s->n_ioc; k++)
        if (s->ioc_open[k] == idx) {
            s->ioc_open[k] = s->ioc_open[--s->n_ioc];
            return;
        }
}

static bool sim_cancel_order(void *self, const char *cid, char *err, size_t errlen) {
    sim *s = self;
    long idx = order_find(s, cid);
    if (idx < 0) {
        snprintf(err, errlen, "unknown order '%s'", cid ? cid : "");
        return false;
    }
    sim_order *o = &s->orders[idx];
    if (!broker_status_open(o->info.status) || !matcher_cancel(s->m, idx)) {
        snprintf(err, errlen, "order %s is %s, not open", o->info.order_serial, broker_status_name(o->info.status));
        return false;
    }
    ioc_forget(s, (size_t)idx);
    o->info.status = BROKER_ST_CANCELLED;
    str_copy(o->info.reason, sizeof o->info.reason, "cancelled by request");
    emit(s, o, NULL, 0, 0);
    return true;
}

static bool sim_order_status(void *self, const char *cid, broker_order_info *out) {
    sim *s = self;
    long idx = order_find(s, cid);
    if (idx < 0) return false;
    *out = s->orders[idx].info;
    return true;
}

static long sim_query_positions(void *self, const char *account, broker_position *out, size_t cap, char *err,
                                size_t errlen) {
    sim *s = self;
    if (!account || !account_known(s, account)) {
        snprintf(err, errlen, "unknown order account '%s'", account ? account : "");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->n_positions; i++) {
        if (strcmp(s->positions[i].pos.account, account)) continue;
        if (n < cap) position_view(s, &s->positions[i], &out[n]);
        n++;
    }
    return (long)n;
}

static int sim_poll_fd(void *self) {
    (void)self;
    return -1;
}

static int64_t sim_next_timeout_ms(void *self) {
    sim *s = self;
    if (!s->feed.next || s->feed_done) return -1;
    return s->feed.due_in_ms ? s->feed.due_in_ms(s->feed.ctx) : 0;
}

static void sim_service(void *self) {
    sim *s = self;
    if (!s->feed.next || s->feed_done) return;
    broker b = {&sim_ops, s};
    for (size_t n = 0; n < s->max_ticks_per_service; n++) {
        broker_tick t;
        int r = s->feed.next(s->feed.ctx, &t);
        if (r < 0) s->feed_done = true;
        if (r != 1) break;
        sim_broker_market_tick(&b, &t);
    }
}

static void sim_destroy(void *self) {
    sim *s = self;
    if (!s) return;
    for (size_t i = 0; i < s->n_positions; i++) free(s->positions[i].lots);
    free(s->positions);
    free(s->products);
    free(s->orders);
    free(s->cid_index);
    free(s->ioc_open);
    free(s->fills);
    matcher_free(s->m);
    free(s);
}

static const broker_ops sim_ops = {
    .name = "sim",
    .set_callbacks = sim_set_callbacks,
    .login = sim_login,
    .logout = sim_logout,
    .is_connected = sim_is_connected,
    .list_accounts = sim_list_accounts,
    .list_products = sim_list_products,
    .subscribe = sim_subscribe,
    .send_order = sim_send_order,
    .cancel_order = sim_cancel_order,
    .order_status = sim_order_status,
    .query_positions = sim_query_positions,
    .poll_fd = sim_poll_fd,
    .next_timeout_ms = sim_next_timeout_ms,
    .service = sim_service,
    .destroy = sim_destroy,
};

/* ---------------------------------------------------------------- the market */

static void collect_fill(void *ctx, const match_fill *f) {
    sim *s = ctx;
    if (!buf_grow((void **)&s->fills, &s->cap_fills, s->n_fills + 1, sizeof *s->fills)) return; /* see below */
    s->fills[s->n_fills++] = *f;
}

static bool match_tick(sim *s, const broker_tick *t);

bool sim_broker_market_tick(broker *b, const broker_tick *t) {
    if (!b || b->ops != &sim_ops || !t || t->price <= 0 || !t->symbol[0]) return false;
    sim *s = b->self;
    sim_product *p = product_find(s, t->symbol);
    if (!p) {
        broker_product np;
        memset(&np, 0, sizeof np);
        str_copy(np.code, sizeof np.code, t->symbol);
        snprintf(np.name, sizeof np.name, "%s (simulated)", t->symbol);
        str_copy(np.market, sizeof np.market, "SIM");
        p = product_add(s, &np);
        if (!p) return false;
    }
    if (p->p.reference_price <= 0) { /* first trade of a product added on the fly */
        p->p.reference_price = t->price;
        p->p.max_price = t->price + t->price / 10;
        p->p.min_price = t->price - t->price / 10 > 0 ? t->price - t->price / 10 : 1;
        journal_product(s, p);
    }
    p->last = t->price;
    if ((s->subscribed_all || p->subscribed) && s->cb.on_tick) s->cb.on_tick(s->cb.ctx, t);
    return match_tick(s, t);
}

bool sim_broker_match_at_last(broker *b, int64_t ts_us) {
    if (!b || b->ops != &sim_ops) return false;
    sim *s = b->self;
    for (size_t i = 0; i < s->n_products; i++) {
        if (s->products[i].last <= 0) continue;
        broker_tick t;
        memset(&t, 0, sizeof t);
        str_copy(t.symbol, sizeof t.symbol, s->products[i].p.code);
        t.price = s->products[i].last;
        t.ts_us = ts_us;
        if (!match_tick(s, &t)) return false;
    }
    return true;
}

/* Matches the resting orders of t's product against the trade t (already recorded as the
 * product's last price), then expires the IOC / FOK limits of that product that it did not fill. */
static bool match_tick(sim *s, const broker_tick *t) {
    /* Match. Fills are collected first and applied after the matcher is done, so a report
     * callback never runs inside the matcher. If the fill buffer cannot grow, the orders stay
     * resting: make room first so that cannot happen mid-tick. */
    if (matcher_resting(s->m) == 0 && s->n_ioc == 0) return true;
    if (!buf_grow((void **)&s->fills, &s->cap_fills, matcher_resting(s->m), sizeof *s->fills)) return true;
    s->n_fills = 0;
    matcher_on_tick(s->m, t->symbol, t->price, t->ts_us, collect_fill, s);
    for (size_t k = 0; k < s->n_fills; k++) {
        const match_fill *f = &s->fills[k];
        sim_order *o = &s->orders[f->order_id];
        broker_order_info *i = &o->info;
        i->filled_qty += f->qty;
        i->filled_notional += f->qty * f->price;
        i->status = i->filled_qty >= i->qty ? BROKER_ST_FILLED : BROKER_ST_PARTIALLY_FILLED;
        if (i->status == BROKER_ST_FILLED) ioc_forget(s, (size_t)f->order_id);
        char fill_id[BROKER_ID_MAX];
        snprintf(fill_id, sizeof fill_id, "SIM-F%08llX", (unsigned long long)++s->fill_seq);
        sim_position *pos = position_get(s, i->account, i->symbol, true);
        if (pos) {
            position_fill(pos, i->side, f->qty, f->price);
            journal_position(s, pos);
        }
        emit(s, o, fill_id, f->qty, f->price);
    }
    s->n_fills = 0;
    /* IOC / FOK limit orders of this product had their one chance. */
    for (size_t k = 0; k < s->n_ioc;) {
        sim_order *o = &s->orders[s->ioc_open[k]];
        if (strcmp(o->info.symbol, t->symbol) != 0) {
            k++;
            continue;
        }
        matcher_cancel(s->m, (int64_t)s->ioc_open[k]);
        o->info.status = BROKER_ST_EXPIRED;
        snprintf(o->info.reason, sizeof o->info.reason, "%s limit %lld not reached by the next trade at %lld",
                 broker_tif_name(o->info.tif), (long long)o->info.price, (long long)t->price);
        s->ioc_open[k] = s->ioc_open[--s->n_ioc];
        emit(s, o, NULL, 0, 0);
    }
    return true;
}

bool sim_broker_new(const sim_config *cfg_in, broker *out) {
    sim_config def;
    if (!cfg_in) {
        sim_config_default(&def);
        cfg_in = &def;
    }
    sim *s = calloc(1, sizeof *s);
    if (!s) return false;
    str_copy(s->login_id, sizeof s->login_id, cfg_in->login_id ? cfg_in->login_id : SIM_DEFAULT_LOGIN);
    str_copy(s->password, sizeof s->password, cfg_in->password ? cfg_in->password : SIM_DEFAULT_PASSWORD);
    for (size_t i = 0; i < cfg_in->n_accounts && i < SIM_MAX_ACCOUNTS; i++)
        if (cfg_in->accounts[i] && *cfg_in->accounts[i])
            str_copy(s->accounts[s->n_accounts++], BROKER_ACCOUNT_MAX, cfg_in->accounts[i]);
    s->max_order_qty = cfg_in->max_order_qty > 0 ? cfg_in->max_order_qty : 1000;
    s->max_ticks_per_service = cfg_in->max_ticks_per_service ? cfg_in->max_ticks_per_service : 4096;
    s->feed = cfg_in->feed;
    s->now_us = cfg_in->now_us ? cfg_in->now_us : clock_wall_us;
    match_config mc = {.slippage_points = cfg_in->slippage_points};
    s->m = matcher_new(&mc);
    if (!s->m) {
        sim_destroy(s);
        return false;
    }
    size_t np = cfg_in->n_products;
    const broker_product *prods = cfg_in->products;
    if (!prods) prods = sim_default_products(&np);
    for (size_t i = 0; i < np; i++)
        if (!product_find(s, prods[i].code) && !product_add(s, &prods[i])) {
            sim_destroy(s);
            return false;
        }
    out->ops = &sim_ops;
    out->self = s;
    return true;
}

/* ---------------------------------------------------------------- keeping the book */

static sim *as_sim(const broker *b) { return b && b->ops == &sim_ops ? b->self : NULL; }

bool sim_broker_is(const broker *b) { return as_sim(b) != NULL; }

void sim_broker_set_journal(broker *b, const sim_journal *j) {
    sim *s = as_sim(b);
    if (!s) return;
    if (j) s->journal = *j;
    else memset(&s->journal, 0, sizeof s->journal);
}

bool sim_broker_restore_product(broker *b, const broker_product *p, price_t last) {
    sim *s = as_sim(b);
    if (!s || !p || !p->code[0]) return false;
    sim_product *sp = product_find(s, p->code);
    if (!sp && !(sp = product_add(s, p))) return false;
    bool subscribed = sp->subscribed;
    sp->p = *p;
    sp->subscribed = subscribed;
    if (last > 0) sp->last = last;
    return true;
}

bool sim_broker_restore_order(broker *b, const sim_order_row *row) {
    sim *s = as_sim(b);
    if (!s || !row || row->n != s->n_orders + 1 || s->n_orders >= 0xFFFFFFF0u) return false;
    if (!buf_grow((void **)&s->orders, &s->cap_orders, s->n_orders + 1, sizeof *s->orders)) return false;
    size_t idx = s->n_orders;
    sim_order *o = &s->orders[idx];
    *o = *row;
    o->info.client_order_id[sizeof o->info.client_order_id - 1] = '\0';
    if (o->info.client_order_id[0] && cid_find(s, o->info.client_order_id) >= 0) return false;
    if (o->info.client_order_id[0] && !cid_insert(s, idx)) return false;
    s->n_orders++;
    const broker_order_info *i = &o->info;
    if (i->status == BROKER_ST_REJECTED && !o->is_send_order) s->n_rejects++;
    if (!broker_status_open(i->status) || i->filled_qty >= i->qty) return true;
    bool ioc = i->type == BROKER_LIMIT && (i->tif == BROKER_IOC || i->tif == BROKER_FOK);
    if (ioc && !buf_grow((void **)&s->ioc_open, &s->cap_ioc, s->n_ioc + 1, sizeof *s->ioc_open)) return false;
    match_order mo;
    memset(&mo, 0, sizeof mo);
    mo.order_id = (int64_t)idx;
    str_copy(mo.symbol, sizeof mo.symbol, i->symbol);
    mo.side = i->side;
    mo.kind = i->type == BROKER_LIMIT ? MATCH_LIMIT : MATCH_MARKET;
    mo.qty = i->qty - i->filled_qty;
    mo.limit_price = i->price;
    if (!matcher_submit(s->m, &mo)) return false;
    if (ioc) s->ioc_open[s->n_ioc++] = idx;
    return true;
}

bool sim_broker_position_row(broker *b, const char *account, const char *symbol, sim_position_row *out) {
    sim *s = as_sim(b);
    const sim_position *p = s && account && symbol ? position_get(s, account, symbol, false) : NULL;
    if (p) position_row(p, out);
    return p != NULL;
}

bool sim_broker_restore_position(broker *b, const sim_position_row *row) {
    sim *s = as_sim(b);
    if (!s || !row || !row->pos.account[0] || !row->pos.symbol[0]) return false;
    sim_position *p = position_get(s, row->pos.account, row->pos.symbol, true);
    if (!p) return false;
    p->pos = row->pos;
    p->n_lots = p->head = 0;
    for (size_t k = 0; k < row->n_lots; k++)
        if (row->lots[k].qty > 0 && !lots_push(p, row->lots[k].price, row->lots[k].qty)) return false;
    return true;
}

void sim_broker_restore_fill_seq(broker *b, uint64_t last) {
    sim *s = as_sim(b);
    if (s && last > s->fill_seq) s->fill_seq = last;
}

price_t sim_broker_last_price(broker *b, const char *symbol) {
    sim *s = as_sim(b);
    sim_product *p = s && symbol ? product_find(s, symbol) : NULL;
    return p ? p->last : 0;
}

size_t sim_broker_order_count(broker *b, size_t *open) {
    sim *s = as_sim(b);
    if (open) *open = s ? matcher_resting(s->m) : 0;
    return s ? s->n_orders : 0;
}
