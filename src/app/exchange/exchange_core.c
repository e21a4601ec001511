/* The simulated exchange's core (see exchange.h): requests and sessions, the book kept in
 * exchange_store, reports numbered by the report log. No sockets: tests drive it directly. */
#include "app/exchange/exchange.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_json.h"
#include "broker/broker_pack.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "net/gw_proto.h"

#define MAX_SESSIONS 256
#define SESSION_ID_MAX 256

typedef struct {
    unsigned char id[SESSION_ID_MAX];
    size_t id_len;
    char login_id[BROKER_ACCOUNT_MAX];
    int64_t feed_subs;
    int64_t last_seen_ms;
} xsession;

typedef struct {
    char code[BROKER_SYMBOL_MAX];
    price_t saved;
} saved_price;

/* A report of this step: written to the log, published after the commit. Its msgpack (the log
 * row's body and the published frame, encoded once) is at off in the core's out_bytes. */
typedef struct {
    broker_report r;
    size_t off, len;
} out_report;

/* A position changed in the open transaction, written once before it commits. */
typedef struct {
    char account[BROKER_ACCOUNT_MAX];
    char symbol[BROKER_SYMBOL_MAX];
} dirty_position;

struct xcore {
    exchange_store *xs;
    dirty_position *dirty; /* positions to write before the commit (a burst moves one many times) */
    size_t n_dirty, cap_dirty;
    broker b;
    xcore_sinks sinks;
    out_report *outbox;
    size_t n_out, cap_out;
    msgpack_sbuffer out_bytes; /* the outbox's reports in msgpack, one after another */
    msgpack_sbuffer reply;     /* a msgpack reply being packed */
    mp_reader rd;              /* msgpack requests */
    bool failed;
    int64_t instance;
    xsession sessions[MAX_SESSIONS];
    size_t n_sessions;
    saved_price *prices;
    size_t n_prices, cap_prices;
    bool replay_over;      /* a replayed market reached its file's end: health says so */
    uint64_t replay_ticks; /* ticks it played */
    bool batch; /* a group commit is open (xcore_batch_begin) */
    bool held;  /* the reply of the request just handled waits for the batch's commit */
};

/* Begins the transaction of this step if none is open yet. */
static bool tx(xcore *x) {
    if (x->failed) return false;
    if (xstore_in_tx(x->xs)) return true;
    if (xstore_begin(x->xs)) return true;
    log_error("cannot begin a transaction on the book: %s", xstore_error(x->xs));
    x->failed = true;
    return false;
}

/* Writes each position the transaction changed, as it stands now. */
static void write_positions(xcore *x) {
    for (size_t i = 0; i < x->n_dirty && !x->failed; i++) {
        const dirty_position *d = &x->dirty[i];
        sim_position_row row;
        if (!sim_broker_position_row(&x->b, d->account, d->symbol, &row)) continue;
        if (!xstore_put_position(x->xs, &row)) {
            log_error("cannot write the position of %s in %s: %s", d->account, d->symbol, xstore_error(x->xs));
            break; /* the transaction is marked failed: the commit below rolls it back and stops */
        }
    }
    x->n_dirty = 0;
}

/* Commits what the step changed, then publishes its reports. */
static void finish(xcore *x) {
    if (xstore_in_tx(x->xs)) write_positions(x);
    x->n_dirty = 0;
    if (xstore_in_tx(x->xs) && !xstore_commit(x->xs)) {
        log_error("cannot save the book: %s; stopping (the book on disk is restored at the next start)",
                  xstore_error(x->xs));
        x->failed = true;
    }
    if (!x->failed)
        for (size_t i = 0; i < x->n_out; i++)
            if (x->sinks.publish_report)
                x->sinks.publish_report(x->sinks.ctx, &x->outbox[i].r, x->out_bytes.data + x->outbox[i].off,
                                        x->outbox[i].len);
    x->n_out = 0;
    msgpack_sbuffer_clear(&x->out_bytes);
}

static void on_tick(void *ctx, const broker_tick *t) {
    xcore *x = ctx;
    if (x->sinks.publish_tick) x->sinks.publish_tick(x->sinks.ctx, t);
}

static void on_report(void *ctx, const broker_report *r) {
    xcore *x = ctx;
    if (!tx(x)) return;
    if (!buf_grow((void **)&x->outbox, &x->cap_out, x->n_out + 1, sizeof *x->outbox)) {
        log_error("out of memory for a report");
        x->failed = true;
        xstore_rollback(x->xs);
        return;
    }
    out_report *o = &x->outbox[x->n_out];
    o->r = *r;
    o->r.seq = xstore_last_seq(x->xs) + 1;
    /* encoded once: these bytes are the log row's body and, after the commit, what is published */
    o->off = x->out_bytes.size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &x->out_bytes, msgpack_sbuffer_write);
    if (!bp_pack_report(&pk, &o->r)) {
        log_error("out of memory for report %llu", (unsigned long long)o->r.seq);
        x->out_bytes.size = o->off;
        x->failed = true;
        xstore_rollback(x->xs);
        return;
    }
    o->len = x->out_bytes.size - o->off;
    if (!xstore_add_report(x->xs, &o->r, x->out_bytes.data + o->off, o->len)) {
        log_error("cannot write report %llu: %s", (unsigned long long)o->r.seq, xstore_error(x->xs));
        x->out_bytes.size = o->off;
        return; /* the transaction is marked failed: finish() stops the exchange */
    }
    x->n_out++;
    if (r->fill_qty > 0)
        log_info("fill %s: order %s %s %lld %s at %lld (%lld/%lld filled) account %s", r->fill_id, r->order_serial,
                 r->side == SIDE_BUY ? "bought" : "sold", (long long)r->fill_qty, r->symbol, (long long)r->fill_price,
                 (long long)r->filled_qty, (long long)r->qty, r->account);
    else if (r->status == BROKER_ST_REJECTED)
        log_info("order %s (client id %s) rejected: %s", r->order_serial, r->client_order_id[0] ? r->client_order_id : "-",
                 r->reason);
    else if (r->status == BROKER_ST_ACCEPTED)
        log_info("order %s (client id %s) accepted: %s %lld %s account %s", r->order_serial,
                 r->client_order_id[0] ? r->client_order_id : "-", r->side == SIDE_BUY ? "buy" : "sell",
                 (long long)r->qty, r->symbol, r->account);
    else if (r->status == BROKER_ST_CANCELLED || r->status == BROKER_ST_EXPIRED)
        log_info("order %s %s: %s", r->order_serial, broker_status_name(r->status), r->reason);
}

static void j_order(void *ctx, const sim_order_row *o) {
    xcore *x = ctx;
    if (tx(x) && !xstore_put_order(x->xs, o, clock_wall_us()))
        log_error("cannot write order %s: %s", o->info.order_serial, xstore_error(x->xs));
}

/* A changed position is written when the transaction commits (finish): in a burst of fills one
 * position moves with each, and only its last state is worth a row update. */
static void j_position(void *ctx, const sim_position_row *p) {
    xcore *x = ctx;
    if (!tx(x)) return;
    for (size_t i = 0; i < x->n_dirty; i++)
        if (!strcmp(x->dirty[i].account, p->pos.account) && !strcmp(x->dirty[i].symbol, p->pos.symbol)) return;
    if (!buf_grow((void **)&x->dirty, &x->cap_dirty, x->n_dirty + 1, sizeof *x->dirty)) {
        log_error("out of memory for a changed position");
        x->failed = true;
        xstore_rollback(x->xs);
        return;
    }
    dirty_position *d = &x->dirty[x->n_dirty++];
    snprintf(d->account, sizeof d->account, "%s", p->pos.account);
    snprintf(d->symbol, sizeof d->symbol, "%s", p->pos.symbol);
}

static void j_product(void *ctx, const broker_product *p) {
    xcore *x = ctx;
    if (tx(x) && !xstore_put_product(x->xs, p)) log_error("cannot write product %s: %s", p->code, xstore_error(x->xs));
}

static saved_price *price_slot(xcore *x, const char *code) {
    for (size_t i = 0; i < x->n_prices; i++)
        if (!strcmp(x->prices[i].code, code)) return &x->prices[i];
    if (!buf_grow((void **)&x->prices, &x->cap_prices, x->n_prices + 1, sizeof *x->prices)) return NULL;
    saved_price *p = &x->prices[x->n_prices++];
    snprintf(p->code, sizeof p->code, "%s", code);
    p->saved = 0;
    return p;
}

void xcore_save_prices(xcore *x) {
    if (x->failed) return;
    size_t n = broker_list_products(&x->b, NULL, 0);
    broker_product *list = calloc(n ? n : 1, sizeof *list);
    if (!list) return;
    n = broker_list_products(&x->b, list, n);
    for (size_t i = 0; i < n; i++) {
        price_t last = sim_broker_last_price(&x->b, list[i].code);
        saved_price *sp = price_slot(x, list[i].code);
        if (!sp || sp->saved == last) continue;
        if (tx(x) && xstore_set_last_price(x->xs, list[i].code, last)) sp->saved = last;
    }
    free(list);
    finish(x);
}

xcore *xcore_new(exchange_store *store, const sim_config *cfg_in, const xcore_sinks *sinks, char *err, size_t errlen) {
    xcore *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->xs = store;
    if (sinks) x->sinks = *sinks;
    msgpack_sbuffer_init(&x->out_bytes);
    msgpack_sbuffer_init(&x->reply);
    mp_reader_init(&x->rd);
    x->instance = clock_wall_us();
    sim_config cfg;
    if (cfg_in) cfg = *cfg_in;
    else sim_config_default(&cfg);
    memset(&cfg.feed, 0, sizeof cfg.feed); /* the process drives the market itself */
    if (!sim_broker_new(&cfg, &x->b)) {
        snprintf(err, errlen, "out of memory");
        free(x);
        return NULL;
    }
    if (!xstore_restore(store, &x->b, err, errlen)) {
        xcore_free(x);
        return NULL;
    }
    /* the exchange's own session on the simulator: clients log in to the exchange */
    char lerr[160];
    if (!broker_login(&x->b, cfg.login_id ? cfg.login_id : SIM_DEFAULT_LOGIN,
                      cfg.password ? cfg.password : SIM_DEFAULT_PASSWORD, lerr, sizeof lerr)) {
        snprintf(err, errlen, "%s", lerr);
        xcore_free(x);
        return NULL;
    }
    char serr[32];
    if (!broker_subscribe(&x->b, "*", serr, sizeof serr)) { /* every trade is published */
        snprintf(err, errlen, "%s", serr);
        xcore_free(x);
        return NULL;
    }
    /* what the book starts with: the products and accounts, saved once */
    size_t np = broker_list_products(&x->b, NULL, 0), na = broker_list_accounts(&x->b, NULL, 0);
    broker_product *prods = calloc(np ? np : 1, sizeof *prods);
    broker_account *accs = calloc(na ? na : 1, sizeof *accs);
    bool ok = prods && accs && xstore_begin(store);
    if (ok) {
        np = broker_list_products(&x->b, prods, np);
        na = broker_list_accounts(&x->b, accs, na);
        for (size_t i = 0; i < np && ok; i++) {
            ok = xstore_put_product(store, &prods[i]);
            saved_price *sp = price_slot(x, prods[i].code);
            if (sp) sp->saved = sim_broker_last_price(&x->b, prods[i].code);
        }
        for (size_t i = 0; i < na && ok; i++) ok = xstore_ensure_account(store, accs[i].account);
        ok = xstore_commit(store) && ok;
    }
    free(prods);
    free(accs);
    if (!ok) {
        snprintf(err, errlen, "cannot save the products and accounts: %s", xstore_error(store));
        xcore_free(x);
        return NULL;
    }
    broker_callbacks cb = {.ctx = x, .on_tick = on_tick, .on_report = on_report};
    broker_set_callbacks(&x->b, &cb);
    sim_journal j = {.ctx = x, .order = j_order, .position = j_position, .product = j_product};
    sim_broker_set_journal(&x->b, &j);
    return x;
}

void xcore_free(xcore *x) {
    if (!x) return;
    if (x->xs && xstore_in_tx(x->xs)) xstore_rollback(x->xs);
    broker_destroy(&x->b);
    free(x->outbox);
    free(x->dirty);
    msgpack_sbuffer_destroy(&x->out_bytes);
    msgpack_sbuffer_destroy(&x->reply);
    mp_reader_destroy(&x->rd);
    free(x->prices);
    free(x);
}

bool xcore_failed(const xcore *x) { return x->failed; }
broker *xcore_broker(xcore *x) { return &x->b; }

int64_t xcore_relayed_subscribers(const xcore *x) {
    int64_t n = 0;
    for (size_t i = 0; i < x->n_sessions; i++) n += x->sessions[i].feed_subs;
    return n;
}

void xcore_market_tick(xcore *x, const broker_tick *t) {
    if (x->failed) return;
    sim_broker_market_tick(&x->b, t);
    finish(x);
}

void xcore_replay_over(xcore *x, uint64_t ticks) {
    x->replay_over = true;
    x->replay_ticks = ticks;
}

void xcore_match_at_last(xcore *x, int64_t ts_us) {
    if (x->failed) return;
    size_t open = 0;
    sim_broker_order_count(&x->b, &open);
    if (!open) return;
    sim_broker_match_at_last(&x->b, ts_us);
    finish(x);
}

/* ---- sessions ---- */

static xsession *session_find(xcore *x, const void *id, size_t len) {
    for (size_t i = 0; i < x->n_sessions; i++)
        if (x->sessions[i].id_len == len && !memcmp(x->sessions[i].id, id, len)) return &x->sessions[i];
    return NULL;
}

static xsession *session_open(xcore *x, const void *id, size_t len) {
    xsession *s = session_find(x, id, len);
    if (s) return s;
    if (x->n_sessions == MAX_SESSIONS) { /* the longest idle goes */
        size_t old = 0;
        for (size_t i = 1; i < x->n_sessions; i++)
            if (x->sessions[i].last_seen_ms < x->sessions[old].last_seen_ms) old = i;
        x->sessions[old] = x->sessions[--x->n_sessions];
    }
    s = &x->sessions[x->n_sessions++];
    memset(s, 0, sizeof *s);
    memcpy(s->id, id, len);
    s->id_len = len;
    return s;
}

static void session_close(xcore *x, xsession *s) {
    size_t i = (size_t)(s - x->sessions);
    x->sessions[i] = x->sessions[--x->n_sessions];
}

/* ---- replies ---- */

static json_t *accounts_json(xcore *x, bool with_cash) {
    size_t n = broker_list_accounts(&x->b, NULL, 0);
    broker_account *acc = calloc(n ? n : 1, sizeof *acc);
    json_t *list = json_array();
    if (!acc) return list;
    n = broker_list_accounts(&x->b, acc, n);
    for (size_t i = 0; i < n; i++) {
        json_t *a = bj_from_account(&acc[i]);
        int64_t cash = XSTORE_START_CASH;
        if (with_cash) {
            if (xstore_in_tx(x->xs)) write_positions(x); /* the cash counts this batch's fills */
            xstore_cash(x->xs, acc[i].account, &cash);
            json_object_set_new(a, "cash", json_integer((json_int_t)cash));
        }
        json_array_append_new(list, a);
    }
    free(acc);
    return list;
}

static json_t *products_json(xcore *x) {
    size_t n = broker_list_products(&x->b, NULL, 0);
    broker_product *p = calloc(n ? n : 1, sizeof *p);
    json_t *list = json_array();
    if (!p) return list;
    n = broker_list_products(&x->b, p, n);
    for (size_t i = 0; i < n; i++) json_array_append_new(list, bj_from_product(&p[i]));
    free(p);
    return list;
}

static json_t *op_health(xcore *x, xsession *s) {
    size_t open = 0, orders = sim_broker_order_count(&x->b, &open);
    json_t *d = json_pack("{s:s,s:I,s:I,s:I,s:b,s:I,s:I}", "status", "running", "epoch", (json_int_t)xstore_epoch(x->xs),
                          "last_seq", (json_int_t)xstore_last_seq(x->xs), "instance", (json_int_t)x->instance,
                          "logged_in", s != NULL, "orders", (json_int_t)orders, "open_orders", (json_int_t)open);
    /* only once a replay ended: a gateway and aftm run announce it from here */
    if (d && x->replay_over) {
        json_object_set_new(d, "replay_over", json_true());
        json_object_set_new(d, "replay_ticks", json_integer((json_int_t)x->replay_ticks));
    }
    return gw_ok(d);
}

static json_t *op_login(xcore *x, const void *sid, size_t sid_len, json_t *params) {
    const char *id = json_string_value(json_object_get(params, "login_id"));
    const char *pw = json_string_value(json_object_get(params, "password"));
    char err[BROKER_MSG_MAX];
    if (!broker_login(&x->b, id ? id : "", pw ? pw : "", err, sizeof err)) {
        log_warn("%s", err);
        return gw_err("LOGIN_REFUSED", "%s", err);
    }
    xsession *s = session_open(x, sid, sid_len);
    snprintf(s->login_id, sizeof s->login_id, "%s", id);
    s->last_seen_ms = clock_mono_ms();
    log_info("client logged in as %s (%zu session(s))", id, x->n_sessions);
    json_t *d = json_object();
    json_object_set_new(d, "accounts", accounts_json(x, false));
    json_object_set_new(d, "products", products_json(x));
    json_object_set_new(d, "last_seq", json_integer((json_int_t)xstore_last_seq(x->xs)));
    json_object_set_new(d, "epoch", json_integer((json_int_t)xstore_epoch(x->xs)));
    json_object_set_new(d, "instance", json_integer((json_int_t)x->instance));
    return gw_ok(d);
}

#define ORDER_NOT_SAVED "the exchange could not save the order; it is not placed"

/* The one send_order, whatever the request's encoding: the order placed (or refused, idempotent
 * by client order id), committed now or with the rest of its batch. false when the exchange could
 * not save it: then res must not be told. */
static bool place_order(xcore *x, const broker_order_req *req, broker_send_result *res) {
    broker_send_order(&x->b, req, res);
    if (x->batch) x->held = true; /* committed, and answered, with the rest of the batch */
    else finish(x);
    return !x->failed;
}

static json_t *op_send_order(xcore *x, json_t *params) {
    broker_order_req req;
    char err[160];
    if (!bj_to_order_req(json_object_get(params, "order"), &req, err, sizeof err))
        return gw_err("INVALID_ORDER", "%s", err);
    broker_send_result res;
    if (!place_order(x, &req, &res)) return gw_err("INTERNAL_ERROR", ORDER_NOT_SAVED);
    return gw_ok(json_pack("{s:o}", "result", bj_from_send_result(&res)));
}

static json_t *op_cancel(xcore *x, json_t *params) {
    const char *cid = json_string_value(json_object_get(params, "client_order_id"));
    if (!cid || !*cid) return gw_err("MISSING_CLIENT_ORDER_ID", "client_order_id is required");
    char err[BROKER_MSG_MAX] = "";
    bool ok = broker_cancel_order(&x->b, cid, err, sizeof err);
    finish(x);
    if (x->failed) return gw_err("INTERNAL_ERROR", "the exchange could not save the cancel");
    if (!ok) return gw_err("CANCEL_REJECTED", "%s", err);
    return gw_ok(json_pack("{s:b,s:s}", "cancelled", 1, "client_order_id", cid));
}

static json_t *op_order_status(xcore *x, json_t *params) {
    const char *cid = json_string_value(json_object_get(params, "client_order_id"));
    if (!cid || !*cid) return gw_err("MISSING_CLIENT_ORDER_ID", "client_order_id is required");
    broker_order_info o;
    if (!broker_order_status(&x->b, cid, &o)) return gw_ok(json_pack("{s:b}", "found", 0));
    return gw_ok(json_pack("{s:b,s:o}", "found", 1, "order", bj_from_order_info(&o)));
}

static json_t *op_positions(xcore *x, json_t *params) {
    const char *account = json_string_value(json_object_get(params, "account"));
    if (!account || !*account) return gw_err("MISSING_ACCOUNT", "account is required");
    char err[BROKER_MSG_MAX] = "";
    long n = broker_query_positions(&x->b, account, NULL, 0, err, sizeof err);
    if (n < 0) return gw_err("POSITION_QUERY_ERROR", "%s", err);
    broker_position *all = calloc(n ? (size_t)n : 1, sizeof *all);
    if (!all) return gw_err("INTERNAL_ERROR", "out of memory");
    n = broker_query_positions(&x->b, account, all, (size_t)n, err, sizeof err);
    json_t *list = json_array();
    for (long i = 0; i < n; i++) json_array_append_new(list, bj_from_position(&all[i]));
    free(all);
    return gw_ok(json_pack("{s:o}", "positions", list));
}

static json_t *op_get_reports(xcore *x, json_t *params) {
    json_t *v = json_object_get(params, "since_seq");
    json_int_t since = 0, limit = EXCHANGE_MAX_REPORTS_REPLY;
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return gw_err("INVALID_PARAMETER", "since_seq must be an integer >= 0");
        since = json_integer_value(v);
    }
    v = json_object_get(params, "limit");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > EXCHANGE_MAX_REPORTS_REPLY)
            return gw_err("INVALID_PARAMETER", "limit must be an integer from 1 to %d", EXCHANGE_MAX_REPORTS_REPLY);
        limit = json_integer_value(v);
    }
    broker_report *buf = calloc((size_t)limit, sizeof *buf);
    if (!buf) return gw_err("INTERNAL_ERROR", "out of memory");
    bool more = false;
    long n = xstore_reports_since(x->xs, (uint64_t)since, buf, (size_t)limit, &more);
    if (n < 0) {
        free(buf);
        return gw_err("INTERNAL_ERROR", "cannot read the report log: %s", xstore_error(x->xs));
    }
    json_t *list = json_array();
    for (long i = 0; i < n; i++) json_array_append_new(list, bj_from_report(&buf[i]));
    free(buf);
    json_t *d = json_object();
    json_object_set_new(d, "reports", list);
    json_object_set_new(d, "first_seq", json_integer((json_int_t)xstore_first_seq(x->xs)));
    json_object_set_new(d, "last_seq", json_integer((json_int_t)xstore_last_seq(x->xs)));
    json_object_set_new(d, "more", json_boolean(more));
    json_object_set_new(d, "epoch", json_integer((json_int_t)xstore_epoch(x->xs)));
    return gw_ok(d);
}

static json_t *dispatch(xcore *x, const void *sid, size_t sid_len, const char *req, size_t len, json_t **id_out) {
    if (x->failed) return gw_err("INTERNAL_ERROR", "the exchange is stopping: it could not save its book");
    json_error_t jerr;
    json_t *root = json_loadb(req, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return gw_err("INVALID_JSON", "a request is a JSON object");
    }
    json_t *id = json_object_get(root, "id");
    if (id) *id_out = json_incref(id);
    const char *op = json_string_value(json_object_get(root, "operation"));
    json_t *params = json_object_get(root, "parameters");
    json_t *empty = NULL;
    if (!json_is_object(params)) params = empty = json_object();
    xsession *s = session_find(x, sid, sid_len);
    if (s) s->last_seen_ms = clock_mono_ms();
    /* in a batch, anything but an order sees (and may answer from) only what is committed */
    if (x->batch && (!op || strcmp(op, "send_order"))) finish(x);
    json_t *reply;
    if (!op) reply = gw_err("UNKNOWN_OPERATION", "operation is required");
    else if (!strcmp(op, "health")) reply = op_health(x, s);
    else if (!strcmp(op, "login")) reply = op_login(x, sid, sid_len, params);
    else if (!s) reply = gw_err("NOT_LOGGED_IN", "log in first (login_id, password)");
    else if (!strcmp(op, "logout")) {
        session_close(x, s);
        reply = gw_ok(NULL);
    } else if (!strcmp(op, "list_accounts")) reply = gw_ok(json_pack("{s:o}", "accounts", accounts_json(x, true)));
    else if (!strcmp(op, "list_products")) reply = gw_ok(json_pack("{s:o}", "products", products_json(x)));
    else if (!strcmp(op, "subscribe")) {
        const char *sym = json_string_value(json_object_get(params, "symbol"));
        char err[BROKER_MSG_MAX] = "";
        bool ok = sym && broker_subscribe(&x->b, sym, err, sizeof err);
        finish(x);
        reply = ok ? gw_ok(NULL) : gw_err("SUBSCRIBE_FAILED", "%s", sym ? err : "symbol is required");
    } else if (!strcmp(op, "send_order")) reply = op_send_order(x, params);
    else if (!strcmp(op, "cancel_order")) reply = op_cancel(x, params);
    else if (!strcmp(op, "order_status")) reply = op_order_status(x, params);
    else if (!strcmp(op, "query_positions")) reply = op_positions(x, params);
    else if (!strcmp(op, "get_reports")) reply = op_get_reports(x, params);
    else if (!strcmp(op, "feed_subscribers")) {
        json_t *c = json_object_get(params, "count");
        if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 1000000)
            reply = gw_err("INVALID_PARAMETER", "count must be an integer from 0 to 1000000");
        else {
            s->feed_subs = json_integer_value(c);
            reply = gw_ok(NULL);
        }
    } else reply = gw_err("UNKNOWN_OPERATION", "unknown operation: %s", op);
    json_decref(empty);
    json_decref(root);
    return reply;
}

void xcore_batch_begin(xcore *x) { x->batch = true; }
bool xcore_held(const xcore *x) { return x->held; }

bool xcore_batch_end(xcore *x) {
    x->batch = false;
    x->held = false;
    finish(x);
    return !x->failed;
}

/* A msgpack request (exchange.h): send_order only, answered in msgpack; the same checks and the
 * same place_order as the JSON operation. The reply is packed into x->reply; false when it could
 * not be (out of memory). */
static bool dispatch_packed(xcore *x, const void *sid, size_t sid_len, const char *req, size_t len) {
    msgpack_sbuffer_clear(&x->reply);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &x->reply, msgpack_sbuffer_write);
    msgpack_object m;
    if (!mp_read(&x->rd, req, len, &m))
        return bp_pack_send_reply_err(&pk, NULL, "INVALID_MSGPACK", "a msgpack request is one complete map");
    const msgpack_object *id = mp_get(&m, "id");
    if (x->failed)
        return bp_pack_send_reply_err(&pk, id, "INTERNAL_ERROR", "the exchange is stopping: it could not save its book");
    xsession *s = session_find(x, sid, sid_len);
    if (s) s->last_seen_ms = clock_mono_ms();
    const msgpack_object *op = mp_get(&m, "operation");
    if (!op || op->type != MSGPACK_OBJECT_STR)
        return bp_pack_send_reply_err(&pk, id, "UNKNOWN_OPERATION", "operation is required");
    if (!mp_str_is(op, "send_order"))
        return bp_pack_send_reply_err(&pk, id, "UNKNOWN_OPERATION",
                                      "a msgpack request is a send_order; every other operation is JSON");
    if (!s) return bp_pack_send_reply_err(&pk, id, "NOT_LOGGED_IN", "log in first (login_id, password)");
    broker_order_req order;
    char err[160];
    if (!bp_to_order_req(mp_get(&m, "order"), &order, err, sizeof err))
        return bp_pack_send_reply_err(&pk, id, "INVALID_ORDER", err);
    broker_send_result res;
    if (!place_order(x, &order, &res)) return bp_pack_send_reply_err(&pk, id, "INTERNAL_ERROR", ORDER_NOT_SAVED);
    return bp_pack_send_reply_ok(&pk, id, &res);
}

char *xcore_handle(xcore *x, const void *session, size_t session_len, const char *req, size_t len, size_t *out_len) {
    x->held = false;
    if (session_len > SESSION_ID_MAX) session_len = SESSION_ID_MAX;
    if (req && mp_is_map(req, len)) {
        bool packed = dispatch_packed(x, session, session_len, req, len);
        char *out = packed ? malloc(x->reply.size + 1) : NULL; /* NULL: unanswered, as JSON's out of memory */
        if (out) {
            memcpy(out, x->reply.data, x->reply.size);
            out[x->reply.size] = '\0';
        }
        if (out_len) *out_len = out ? x->reply.size : 0;
        return out;
    }
    json_t *id = NULL;
    json_t *reply = dispatch(x, session, session_len, req ? req : "", req ? len : 0, &id);
    if (reply && id) json_object_set(reply, "id", id);
    json_decref(id);
    char *text = reply ? json_dumps(reply, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(reply);
    if (!text)
        text = strdup("{\"success\":false,\"error_code\":\"INTERNAL_ERROR\",\"error_message\":\"out of memory\"}");
    if (out_len) *out_len = text ? strlen(text) : 0;
    return text;
}
