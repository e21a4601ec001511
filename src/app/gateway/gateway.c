/* aftm gateway: the broker session. Publishes ticks (the original's TickEvent bytes), serves
 * the order port (the original's JSON protocol, plus optional extensions) and publishes
 * execution reports with sequence numbers.
 *
 * One thread, one loop: zmq_poll on the order socket and a signal pipe, with a timeout up to
 * the broker's next due work (the simulator's next tick); no sleeps, no busy polling. */
#include "app/gateway/gateway.h"
#include "net/lifecycle.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "broker/sim_broker.h"
#include "app/gateway/sim_remote.h"
#include "app/gateway/fix_broker.h"
#include "core/exit_codes.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/parse.h"
#include "broker/tick_source.h"
#include "wire/codec.h"

/* =========================================================================================
 * The core: protocol and reports, no sockets.
 * ========================================================================================= */

typedef struct {
    uint64_t seq;
    broker_report r;
} kept_report;

struct gateway_core {
    broker *b;
    gateway_sinks sinks;
    kept_report *ring;
    size_t keep, count, head; /* head: index of the oldest */
    uint64_t last_seq;
    uint64_t orders;
    int64_t epoch_us;
    bool no_reply; /* the request being handled must go unanswered (see gateway_core_handle) */
};

char *gateway_json_dumps(const json_t *value) {
    /* Without JSON_COMPACT jansson separates with ", " and ": ", as Python does by default.
     * 16 significant digits print times (POSIX seconds with microseconds) and prices the way
     * Python's repr does (1750152615.123456, 22150.0) instead of %.17g's 1750152615.1234560xx. */
    return json_dumps(value, JSON_ENSURE_ASCII | JSON_ENCODE_ANY | JSON_REAL_PRECISION(16));
}

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *report_json(uint64_t seq, const broker_report *r) {
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "client_order_id", str_or_null(r->client_order_id));
    json_object_set_new(o, "order_serial", str_or_null(r->order_serial));
    json_object_set_new(o, "account", json_string(r->account));
    json_object_set_new(o, "symbol", json_string(r->symbol));
    json_object_set_new(o, "side", json_string(r->side == SIDE_BUY ? "buy" : "sell"));
    json_object_set_new(o, "qty", json_integer(r->qty));
    json_object_set_new(o, "status", json_string(broker_status_name(r->status)));
    json_object_set_new(o, "fill_id", str_or_null(r->fill_id));
    json_object_set_new(o, "fill_qty", json_integer(r->fill_qty));
    json_object_set_new(o, "fill_price", r->fill_qty > 0 ? json_integer(r->fill_price) : json_null());
    json_object_set_new(o, "filled_qty", json_integer(r->filled_qty));
    json_object_set_new(o, "avg_fill_price", r->filled_qty > 0
                                                 ? json_real((double)r->filled_notional / (double)r->filled_qty)
                                                 : json_null());
    json_object_set_new(o, "reason", str_or_null(r->reason));
    json_object_set_new(o, "time", json_real((double)r->ts_us / 1e6));
    return o;
}

static void on_tick(void *ctx, const broker_tick *t) {
    gateway_core *g = ctx;
    if (g->sinks.publish_tick) g->sinks.publish_tick(g->sinks.ctx, t);
}

static void on_report(void *ctx, const broker_report *r) {
    gateway_core *g = ctx;
    /* a broker with its own report log numbers the reports (the same numbers across restarts of
     * the gateway); else the gateway does, from 1 at each start */
    uint64_t seq = r->seq ? r->seq : g->last_seq + 1;
    if (r->seq && r->seq <= g->last_seq) return; /* told before */
    g->last_seq = seq;
    size_t slot;
    if (g->count < g->keep) {
        slot = (g->head + g->count) % g->keep;
        g->count++;
    } else {
        slot = g->head;
        g->head = (g->head + 1) % g->keep;
    }
    g->ring[slot].seq = seq;
    g->ring[slot].r = *r;

    if (r->fill_qty > 0)
        log_info("fill %s: order %s %s %lld %s at %lld (%lld/%lld filled) account %s", r->fill_id, r->order_serial,
                 r->side == SIDE_BUY ? "bought" : "sold", (long long)r->fill_qty, r->symbol, (long long)r->fill_price,
                 (long long)r->filled_qty, (long long)r->qty, r->account);
    else if (r->status == BROKER_ST_CANCELLED || r->status == BROKER_ST_EXPIRED)
        log_info("order %s %s: %s", r->order_serial, broker_status_name(r->status), r->reason);

    if (!g->sinks.publish_report) return;
    json_t *j = report_json(seq, r);
    char *text = j ? gateway_json_dumps(j) : NULL;
    if (text) g->sinks.publish_report(g->sinks.ctx, text, strlen(text));
    else log_error("report %llu could not be encoded", (unsigned long long)seq);
    free(text);
    json_decref(j);
}

static void on_connection(void *ctx, broker_conn_state st, const char *msg) {
    (void)ctx;
    if (st == BROKER_CONNECTED) log_info("broker connected: %s", msg ? msg : "");
    else log_warn("broker disconnected: %s", msg ? msg : "");
}

gateway_core *gateway_core_new(broker *b, const gateway_sinks *sinks, size_t keep) {
    gateway_core *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->b = b;
    if (sinks) g->sinks = *sinks;
    g->keep = keep ? keep : GATEWAY_KEEP_REPORTS;
    g->ring = calloc(g->keep, sizeof *g->ring);
    if (!g->ring) {
        free(g);
        return NULL;
    }
    g->epoch_us = clock_wall_us();
    broker_callbacks cb = {.ctx = g, .on_tick = on_tick, .on_report = on_report, .on_connection = on_connection};
    broker_set_callbacks(b, &cb);
    return g;
}

void gateway_core_free(gateway_core *g) {
    if (!g) return;
    broker_set_callbacks(g->b, NULL);
    free(g->ring);
    free(g);
}

uint64_t gateway_core_last_seq(const gateway_core *g) { return g->last_seq; }
uint64_t gateway_core_orders(const gateway_core *g) { return g->orders; }

/* ---- replies ---------------------------------------------------------------------------- */

static json_t *ok_reply(json_t *data) { return json_pack("{s:b,s:o}", "success", 1, "data", data); }

static json_t *err_reply(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *err_reply(const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:b,s:s,s:s}", "success", 0, "error_message", msg, "error_code", code);
}

/* How Python would print a value in an f-string (for "Unknown operation: <op>"). */
static void python_str(const json_t *v, char *out, size_t cap) {
    if (!v || json_is_null(v)) snprintf(out, cap, "None");
    else if (json_is_string(v)) snprintf(out, cap, "%s", json_string_value(v));
    else if (json_is_true(v)) snprintf(out, cap, "True");
    else if (json_is_false(v)) snprintf(out, cap, "False");
    else if (json_is_integer(v)) snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    else {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        snprintf(out, cap, "%s", t ? t : "?");
        free(t);
    }
}

/* ---- send_order ------------------------------------------------------------------------- */

/* The original's parameter order, used for the "Missing required fields" message. */
static const char *const ORDER_FIELDS_IN_ORDER[] = {"order_account", "item_code", "side",      "order_type",
                                                    "price",         "quantity",  "open_close", "note",
                                                    "day_trade",     "time_in_force"};

static bool get_text(json_t *params, const char *key, char *out, size_t cap, char *err, size_t errlen) {
    json_t *v = json_object_get(params, key);
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s must be a string", key);
        return false;
    }
    const char *s = json_string_value(v);
    if (strlen(s) >= cap) {
        snprintf(err, errlen, "%s is too long (at most %zu characters)", key, cap - 1);
        return false;
    }
    snprintf(out, cap, "%s", s);
    return true;
}

/* A JSON number, or a string holding one (Python's float() accepts both). */
static bool get_number(json_t *v, double *out) {
    if (json_is_integer(v)) *out = (double)json_integer_value(v);
    else if (json_is_real(v)) *out = json_real_value(v);
    else if (json_is_string(v)) return parse_double(json_string_value(v), out);
    else return false;
    return isfinite(*out);
}

static json_t *order_reply(const broker_send_result *res, bool extended) {
    json_t *data = json_object();
    json_object_set_new(data, "is_send_order", json_boolean(res->is_send_order));
    json_object_set_new(data, "note", json_string(res->note));
    json_object_set_new(data, "order_serial", json_string(res->order_serial));
    json_object_set_new(data, "error_code", json_string(res->error_code));
    json_object_set_new(data, "error_message", json_string(res->error_message));
    if (extended) { /* only for clients that sent a client_order_id: the original's stay exact */
        json_object_set_new(data, "client_order_id", json_string(res->client_order_id));
        json_object_set_new(data, "status", json_string(broker_status_name(res->status)));
        json_object_set_new(data, "duplicate", json_boolean(res->duplicate));
    }
    return ok_reply(data);
}

static bool valid_client_id(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= BROKER_ID_MAX) return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) return false;
    return true;
}

static json_t *op_send_order(gateway_core *g, json_t *params) {
    char missing[256] = "";
    for (size_t i = 0; i < sizeof ORDER_FIELDS_IN_ORDER / sizeof *ORDER_FIELDS_IN_ORDER; i++) {
        if (json_object_get(params, ORDER_FIELDS_IN_ORDER[i])) continue;
        size_t n = strlen(missing);
        snprintf(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", ORDER_FIELDS_IN_ORDER[i]);
    }
    if (missing[0]) return err_reply("INVALID_ORDER", "Missing required fields: %s", missing);

    broker_order_req req;
    memset(&req, 0, sizeof req);
    char err[256];
    char text[64];
    if (!get_text(params, "order_account", req.account, sizeof req.account, err, sizeof err) ||
        !get_text(params, "item_code", req.symbol, sizeof req.symbol, err, sizeof err))
        return err_reply("ORDER_EXECUTION_ERROR", "%s", err);
    for (char *p = req.symbol; *p; p++) *p = (char)toupper((unsigned char)*p);

    json_t *side = json_object_get(params, "side");
    const char *sv = json_string_value(side);
    if (sv && !strcmp(sv, "buy")) req.side = SIDE_BUY;
    else if (sv && !strcmp(sv, "sell")) req.side = SIDE_SELL;
    else {
        python_str(side, text, sizeof text);
        return err_reply("ORDER_EXECUTION_ERROR", "'%s' is not a valid OrderOperation", text);
    }
    json_t *v = json_object_get(params, "order_type");
    if (!broker_order_type_parse(json_string_value(v), &req.type)) {
        python_str(v, text, sizeof text);
        return err_reply("ORDER_EXECUTION_ERROR", "'%s' is not a valid OrderTypeEnum", text);
    }
    v = json_object_get(params, "open_close");
    if (!broker_open_close_parse(json_string_value(v), &req.open_close)) {
        python_str(v, text, sizeof text);
        return err_reply("ORDER_EXECUTION_ERROR", "'%s' is not a valid OpenClose", text);
    }
    v = json_object_get(params, "day_trade");
    const char *dt = json_string_value(v);
    if (dt && (!strcmp(dt, "Y") || !strcmp(dt, "N"))) req.day_trade = dt[0] == 'Y';
    else {
        python_str(v, text, sizeof text);
        return err_reply("ORDER_EXECUTION_ERROR", "'%s' is not a valid DayTrade", text);
    }
    v = json_object_get(params, "time_in_force");
    if (!broker_tif_parse(json_string_value(v), &req.tif)) {
        python_str(v, text, sizeof text);
        return err_reply("ORDER_EXECUTION_ERROR", "'%s' is not a valid TimeInForce", text);
    }
    double price;
    if (!get_number(json_object_get(params, "price"), &price) || price < 0)
        return err_reply("ORDER_EXECUTION_ERROR", "price must be a number >= 0");
    if (req.type == BROKER_LIMIT) {
        if (price > 1e12 || fabs(price - nearbyint(price)) > 1e-9)
            return err_reply("ORDER_EXECUTION_ERROR", "price must be a whole number of points, got %g", price);
        req.price = (price_t)llround(price);
    }
    double qty;
    v = json_object_get(params, "quantity");
    if (!get_number(v, &qty) || json_is_string(v) || fabs(qty - nearbyint(qty)) > 1e-9 || fabs(qty) > 1e9)
        return err_reply("ORDER_EXECUTION_ERROR", "quantity must be a whole number");
    req.qty = (int64_t)llround(qty);
    v = json_object_get(params, "note");
    if (json_is_string(v)) snprintf(req.note, sizeof req.note, "%s", json_string_value(v));
    else if (!json_is_null(v)) return err_reply("ORDER_EXECUTION_ERROR", "note must be a string");

    bool extended = false;
    v = json_object_get(params, "client_order_id");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || !valid_client_id(json_string_value(v)))
            return err_reply("INVALID_ORDER", "client_order_id must be 1-%d printable characters without spaces",
                             BROKER_ID_MAX - 1);
        snprintf(req.client_order_id, sizeof req.client_order_id, "%s", json_string_value(v));
        extended = true;
    }

    broker_send_result res;
    broker_send_order(g->b, &req, &res);
    g->orders++;
    const char *cid = req.client_order_id[0] ? req.client_order_id : "-";
    if (res.unknown) {
        /* The link to the broker failed after the order left: whether the broker has it is
         * unknown. Refusing it would be a lie if it was placed; no answer is what the client
         * already reads as "outcome unknown" (it settles it by client order id later). */
        log_warn("order (client id %s): %s; its outcome is unknown, the request is left unanswered", cid,
                 res.error_message);
        g->no_reply = true;
        return NULL;
    }
    if (res.duplicate)
        log_info("order %s (client id %s) repeated: answered with the existing order (%s), not placed again",
                 res.order_serial, cid, broker_status_name(res.status));
    else if (res.is_send_order) {
        char kind[48];
        if (req.type == BROKER_LIMIT) snprintf(kind, sizeof kind, "Limit %lld", (long long)req.price);
        else snprintf(kind, sizeof kind, "%s", broker_order_type_name(req.type));
        log_info("order %s (client id %s) accepted: %s %lld %s %s %s account %s", res.order_serial, cid,
                 req.side == SIDE_BUY ? "buy" : "sell", (long long)req.qty, req.symbol, kind, broker_tif_name(req.tif),
                 req.account);
    }
    else
        log_warn("order %s (client id %s) rejected: %s %lld %s: %s (%s)", res.order_serial[0] ? res.order_serial : "-",
                 cid, req.side == SIDE_BUY ? "buy" : "sell", (long long)req.qty, req.symbol, res.error_message,
                 res.error_code);
    return order_reply(&res, extended);
}

/* ---- the other operations --------------------------------------------------------------- */

static json_t *position_json(const broker_position *p) {
    /* The original's PositionDto field names, plus net_qty. */
    json_t *o = json_object();
    json_object_set_new(o, "investor_account", json_string(p->account));
    json_object_set_new(o, "product_id", json_string(p->symbol));
    json_object_set_new(o, "product_kind", json_integer(1));
    json_object_set_new(o, "yesterday_long", json_integer(0));
    json_object_set_new(o, "yesterday_short", json_integer(0));
    json_object_set_new(o, "today_order_long", json_integer(p->today_order_long));
    json_object_set_new(o, "today_order_short", json_integer(p->today_order_short));
    json_object_set_new(o, "today_filled_long", json_integer(p->today_filled_long));
    json_object_set_new(o, "today_filled_short", json_integer(p->today_filled_short));
    json_object_set_new(o, "today_closed", json_integer(p->today_closed));
    json_object_set_new(o, "current_long", json_integer(p->current_long));
    json_object_set_new(o, "current_short", json_integer(p->current_short));
    json_object_set_new(o, "reference_price", json_real((double)p->reference_price));
    json_object_set_new(o, "avg_cost_long", json_real(p->net_qty > 0 ? p->avg_cost : 0.0));
    json_object_set_new(o, "avg_cost_short", json_real(p->net_qty < 0 ? p->avg_cost : 0.0));
    json_object_set_new(o, "unrealized_pl", json_real((double)p->unrealized_pl));
    json_object_set_new(o, "currency", json_string("TWD"));
    json_object_set_new(o, "realized_pl", json_real((double)p->realized_pl));
    json_object_set_new(o, "net_qty", json_integer(p->net_qty));
    return o;
}

static json_t *op_get_positions(gateway_core *g, json_t *params) {
    const char *account = json_string_value(json_object_get(params, "account"));
    if (!account || !*account) return err_reply("MISSING_ACCOUNT", "Account parameter is required");
    broker_position buf[64];
    char err[BROKER_MSG_MAX] = "";
    long n = broker_query_positions(g->b, account, buf, 64, err, sizeof err);
    if (n < 0) return err_reply("POSITION_QUERY_ERROR", "%s", err);
    broker_position *all = buf;
    if (n > 64) {
        all = calloc((size_t)n, sizeof *all);
        if (!all) return err_reply("INTERNAL_ERROR", "Internal server error");
        n = broker_query_positions(g->b, account, all, (size_t)n, err, sizeof err);
    }
    json_t *list = json_array();
    for (long i = 0; i < n; i++) json_array_append_new(list, position_json(&all[i]));
    if (all != buf) free(all);
    return ok_reply(json_pack("{s:o}", "positions", list));
}

static json_t *op_health(gateway_core *g) {
    bool up = broker_is_connected(g->b);
    json_t *d = json_pack("{s:s,s:b,s:I,s:b}", "status", up ? "healthy" : "unhealthy", "exchange_connected", up,
                          "timestamp", (json_int_t)(clock_wall_us() / 1000000), "server_running", 1);
    /* FIX: the session's state in words (logged on / connecting / logon refused: why) */
    if (d && !strcmp(g->b->ops->name, "fix")) json_object_set_new(d, "broker_state", json_string(fix_broker_state(g->b)));
    return ok_reply(d);
}

static json_t *op_order_status(gateway_core *g, json_t *params) {
    const char *cid = json_string_value(json_object_get(params, "client_order_id"));
    if (!cid || !*cid) return err_reply("MISSING_CLIENT_ORDER_ID", "client_order_id is required");
    broker_order_info o;
    if (!broker_order_status(g->b, cid, &o)) {
        /* not found, or the broker could not be asked: never say "not found" for the latter */
        if (!broker_is_connected(g->b))
            return err_reply("BROKER_DISCONNECTED", "broker connection lost: cannot ask for order %s now", cid);
        return ok_reply(json_pack("{s:b,s:s}", "found", 0, "client_order_id", cid));
    }
    json_t *d = json_object();
    json_object_set_new(d, "found", json_true());
    json_object_set_new(d, "client_order_id", str_or_null(o.client_order_id));
    json_object_set_new(d, "order_serial", json_string(o.order_serial));
    json_object_set_new(d, "account", json_string(o.account));
    json_object_set_new(d, "symbol", json_string(o.symbol));
    json_object_set_new(d, "side", json_string(o.side == SIDE_BUY ? "buy" : "sell"));
    json_object_set_new(d, "qty", json_integer(o.qty));
    json_object_set_new(d, "order_type", json_string(broker_order_type_name(o.type)));
    json_object_set_new(d, "price", json_integer(o.price));
    json_object_set_new(d, "time_in_force", json_string(broker_tif_name(o.tif)));
    json_object_set_new(d, "status", json_string(broker_status_name(o.status)));
    json_object_set_new(d, "filled_qty", json_integer(o.filled_qty));
    json_object_set_new(d, "avg_fill_price",
                        o.filled_qty > 0 ? json_real((double)o.filled_notional / (double)o.filled_qty) : json_null());
    json_object_set_new(d, "reason", str_or_null(o.reason));
    return ok_reply(d);
}

static json_t *op_cancel_order(gateway_core *g, json_t *params) {
    const char *cid = json_string_value(json_object_get(params, "client_order_id"));
    if (!cid || !*cid) return err_reply("MISSING_CLIENT_ORDER_ID", "client_order_id is required");
    char err[BROKER_MSG_MAX] = "";
    if (!broker_cancel_order(g->b, cid, err, sizeof err)) {
        log_warn("cancel %s refused: %s", cid, err);
        return err_reply("CANCEL_REJECTED", "%s", err);
    }
    return ok_reply(json_pack("{s:b,s:s,s:s}", "cancelled", 1, "client_order_id", cid, "status", "cancelled"));
}

/* get_reports from a broker that keeps its own report log (the simulated exchange process):
 * the same numbers whichever gateway asks, before or after a restart. */
static json_t *reports_from_broker(gateway_core *g, uint64_t since) {
    broker_report *buf = calloc(GATEWAY_MAX_REPORTS_REPLY, sizeof *buf);
    if (!buf) return err_reply("INTERNAL_ERROR", "Internal server error");
    broker_report_page page;
    char err[BROKER_MSG_MAX + 96] = "";
    long n = broker_get_reports(g->b, since, buf, GATEWAY_MAX_REPORTS_REPLY, &page, err, sizeof err);
    if (n < 0) {
        free(buf);
        return err_reply("BROKER_DISCONNECTED", "%s", err);
    }
    json_t *list = json_array();
    for (long i = 0; i < n; i++) json_array_append_new(list, report_json(buf[i].seq, &buf[i]));
    free(buf);
    json_t *d = json_object();
    json_object_set_new(d, "reports", list);
    json_object_set_new(d, "first_seq", json_integer((json_int_t)page.first_seq));
    json_object_set_new(d, "last_seq", json_integer((json_int_t)page.last_seq));
    json_object_set_new(d, "more", json_boolean(page.more));
    json_object_set_new(d, "truncated", json_boolean(since + 1 < page.first_seq && page.last_seq > since));
    json_object_set_new(d, "epoch", json_integer((json_int_t)page.epoch));
    return ok_reply(d);
}

static json_t *op_get_reports(gateway_core *g, json_t *params) {
    json_t *v = json_object_get(params, "since_seq");
    json_int_t since = 0;
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return err_reply("INVALID_PARAMETER", "since_seq must be an integer >= 0");
        since = json_integer_value(v);
    }
    if (broker_has_report_log(g->b)) return reports_from_broker(g, (uint64_t)since);
    uint64_t first = g->count ? g->ring[g->head].seq : g->last_seq + 1;
    json_t *list = json_array();
    size_t n = 0;
    bool more = false;
    for (size_t k = 0; k < g->count; k++) {
        const kept_report *kr = &g->ring[(g->head + k) % g->keep];
        if (kr->seq <= (uint64_t)since) continue;
        if (n == GATEWAY_MAX_REPORTS_REPLY) {
            more = true;
            break;
        }
        json_array_append_new(list, report_json(kr->seq, &kr->r));
        n++;
    }
    json_t *d = json_object();
    json_object_set_new(d, "reports", list);
    json_object_set_new(d, "first_seq", json_integer((json_int_t)first));
    json_object_set_new(d, "last_seq", json_integer((json_int_t)g->last_seq));
    json_object_set_new(d, "more", json_boolean(more));
    /* true when some reports after since_seq are no longer kept */
    json_object_set_new(d, "truncated", json_boolean((uint64_t)since + 1 < first && g->last_seq > (uint64_t)since));
    json_object_set_new(d, "epoch", json_integer((json_int_t)g->epoch_us));
    return ok_reply(d);
}

static json_t *op_list_accounts(gateway_core *g) {
    size_t n = broker_list_accounts(g->b, NULL, 0);
    broker_account *acc = calloc(n ? n : 1, sizeof *acc);
    if (!acc) return err_reply("INTERNAL_ERROR", "Internal server error");
    n = broker_list_accounts(g->b, acc, n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, json_string(acc[i].account));
    free(acc);
    return ok_reply(json_pack("{s:o}", "accounts", list));
}

static json_t *op_list_products(gateway_core *g) {
    size_t n = broker_list_products(g->b, NULL, 0);
    broker_product *p = calloc(n ? n : 1, sizeof *p);
    if (!p) return err_reply("INTERNAL_ERROR", "Internal server error");
    n = broker_list_products(g->b, p, n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "code", p[i].code, "name", p[i].name,
                                              "delivery_month", p[i].delivery_month, "market", p[i].market,
                                              "reference_price", (json_int_t)p[i].reference_price, "max_price",
                                              (json_int_t)p[i].max_price, "min_price", (json_int_t)p[i].min_price));
    free(p);
    return ok_reply(json_pack("{s:o}", "products", list));
}

static json_t *dispatch(gateway_core *g, const char *req, size_t len) {
    json_error_t jerr;
    json_t *root = json_loadb(req, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return err_reply("INVALID_JSON", "Invalid JSON format");
    json_t *reply;
    if (!json_is_object(root)) {
        reply = err_reply("PROCESSING_ERROR", "Request must be a JSON object");
    } else {
        json_t *opv = json_object_get(root, "operation");
        json_t *params = json_object_get(root, "parameters");
        json_t *empty = NULL;
        if (!json_is_object(params)) params = empty = json_object();
        const char *op = json_string_value(opv);
        if (!op) op = "";
        if (!strcmp(op, "send_order")) reply = op_send_order(g, params);
        else if (!strcmp(op, "get_positions")) reply = op_get_positions(g, params);
        else if (!strcmp(op, "health_check")) reply = op_health(g);
        else if (!strcmp(op, "order_status")) reply = op_order_status(g, params);
        else if (!strcmp(op, "cancel_order")) reply = op_cancel_order(g, params);
        else if (!strcmp(op, "get_reports")) reply = op_get_reports(g, params);
        else if (!strcmp(op, "list_accounts")) reply = op_list_accounts(g);
        else if (!strcmp(op, "list_products")) reply = op_list_products(g);
        else {
            char text[200];
            python_str(opv, text, sizeof text);
            reply = err_reply("UNKNOWN_OPERATION", "Unknown operation: %s", text);
        }
        json_decref(empty);
    }
    json_decref(root);
    return reply;
}

char *gateway_core_handle(gateway_core *g, const char *req, size_t req_len, size_t *len) {
    g->no_reply = false;
    json_t *reply = dispatch(g, req ? req : "", req ? req_len : 0);
    if (g->no_reply) {
        json_decref(reply);
        if (len) *len = 0;
        return NULL;
    }
    char *text = reply ? gateway_json_dumps(reply) : NULL;
    json_decref(reply);
    if (!text) text = strdup("{\"success\": false, \"error_message\": \"Internal server error\", "
                             "\"error_code\": \"INTERNAL_ERROR\"}");
    if (len) *len = text ? strlen(text) : 0;
    return text;
}

/* =========================================================================================
 * The process: sockets, signals, the loop.
 * ========================================================================================= */

typedef struct {
    void *tick_pub;
    void *report_pub;
    uint64_t ticks, reports;
} gw_io;

/* The simulator's feed, held back until enough subscribers have connected to the tick port
 * (--wait-subscribers), so that a replay is not published to nobody. */
typedef struct {
    tick_source *src;
    bool held;
} gw_feed;

static int64_t gw_feed_due(void *ctx) {
    gw_feed *f = ctx;
    return f->held ? -1 : tick_source_due_in_ms(f->src, clock_mono_ns());
}

static int gw_feed_next(void *ctx, broker_tick *out) {
    gw_feed *f = ctx;
    return f->held ? 0 : tick_source_next(f->src, clock_mono_ns(), out);
}

/* Reads the subscription messages the tick XPUB receives; returns how many subscribed. */
static int drain_subscriptions(void *xpub) {
    int subs = 0;
    for (;;) {
        char buf[256];
        int n = zmq_recv(xpub, buf, sizeof buf, ZMQ_DONTWAIT);
        if (n < 0) break;
        if (n > 0 && buf[0] == 1) subs++;
    }
    return subs;
}

static void publish_tick(void *ctx, const broker_tick *t) {
    gw_io *io = ctx;
    wire_tick wt;
    memset(&wt, 0, sizeof wt);
    wt.when = clock_wall_s();
    size_t i = 0;
    for (; t->symbol[i] && i < sizeof wt.commodity_id - 1; i++)
        wt.commodity_id[i] = (char)toupper((unsigned char)t->symbol[i]);
    wt.commodity_id[i] = '\0';
    wt.match_price = (double)t->price;
    char buf[WIRE_BUF_MAX];
    size_t n = wire_encode_tick(&wt, buf, sizeof buf);
    if (!n) return;
    if (zmq_send(io->tick_pub, "TICK", 4, ZMQ_SNDMORE | ZMQ_DONTWAIT) != 4) return;
    zmq_send(io->tick_pub, buf, n, ZMQ_DONTWAIT);
    io->ticks++;
}

static void publish_report(void *ctx, const char *json, size_t len) {
    gw_io *io = ctx;
    if (zmq_send(io->report_pub, "REPORT", 6, ZMQ_SNDMORE | ZMQ_DONTWAIT) != 6) return;
    zmq_send(io->report_pub, json, len, ZMQ_DONTWAIT);
    io->reports++;
}

/* One request on the ROUTER: [identity][envelope...][empty][body] from REQ, or
 * [identity][body] from a DEALER that sends no delimiter. The reply goes back with the same
 * envelope, as REP would do. Returns false when nothing was waiting. */
#define MAX_FRAMES 16
static bool serve_one(void *router, gateway_core *core) {
    zmq_msg_t frames[MAX_FRAMES];
    int n = 0, more = 1;
    bool got = false;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, router, got ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        got = true;
        more = zmq_msg_more(&m);
        if (n < MAX_FRAMES) frames[n++] = m; /* frames beyond the limit are dropped */
        else zmq_msg_close(&m);
    }
    if (!got) return false;
    int delim = -1;
    for (int i = 1; i < n; i++)
        if (zmq_msg_size(&frames[i]) == 0) {
            delim = i;
            break;
        }
    int body = delim >= 0 ? delim + 1 : 1;
    int env_end = delim >= 0 ? delim : 0; /* last envelope frame index */
    const char *req = "";
    size_t req_len = 0;
    if (body < n) {
        req = zmq_msg_data(&frames[body]);
        req_len = zmq_msg_size(&frames[body]);
    }
    size_t rlen = 0;
    char *reply = gateway_core_handle(core, req, req_len, &rlen);
    if (n > 0 && reply) {
        bool ok = true;
        for (int i = 0; i <= env_end && i < n && ok; i++)
            ok = zmq_send(router, zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i]), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
        if (ok) zmq_send(router, reply, rlen, ZMQ_DONTWAIT);
    }
    free(reply);
    for (int i = 0; i < n; i++) zmq_msg_close(&frames[i]);
    return true;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm gateway [--broker sim] [--exchange-endpoint E] [--exchange-market-endpoint E]\n"
            "                    [--exchange-timeout-ms N] [--symbol S] [--tick-endpoint E]\n"
            "                    [--order-endpoint E] [--report-endpoint E] [--insecure] [--home DIR]\n"
            "       aftm gateway --broker sim-local [--seed N] [--rate R] [--symbol S]\n"
            "                    [--ticks FILE [--speed X]] [--wait-subscribers N] [endpoints as above]\n"
            "                    [--login ACCOUNT] [--quiet]\n"
            "       aftm gateway --broker fix --fix-config FILE [--market-data FILE|walk] [--seed N]\n"
            "                    [--rate R] [--symbol S] [--speed X] [endpoints as above] [--login ID]\n\n"
            "The broker session: publishes ticks, accepts orders (JSON, the original's protocol),\n"
            "publishes execution reports.\n\n"
            "  --broker B           broker adapter (default sim):\n"
            "                       sim        the simulated exchange process ('aftm exchange'), reached\n"
            "                                  over ZeroMQ; it makes the market and keeps the book, so a\n"
            "                                  gateway restart loses nothing and report seqs go on\n"
            "                       sim-local  the simulator inside this process (one process, for tests\n"
            "                                  and demos; its book and report seqs end with the process)\n"
            "                       fix        a FIX 4.4 broker (QuickFIX initiator); FILE is QuickFIX's\n"
            "                                  settings plus an [AFTM] section (see README, 'FIX')\n"
            "  --fix-config FILE    fix: the settings file\n"
            "  --market-data M      fix: where ticks come from, as the session carries none: a tick\n"
            "                       file replay (FILE, with --speed) or 'walk', the simulator's random\n"
            "                       walk (--seed, --rate, --symbol; the default)\n"
            "  --exchange-endpoint E        sim: the exchange's requests (default tcp://127.0.0.1:5559;\n"
            "                               ZMQ_HOST, AFTM_EXCHANGE_PORT)\n"
            "  --exchange-market-endpoint E sim: the exchange's ticks and reports (default\n"
            "                               AFTM_EXCHANGE_MARKET_PORT, else the exchange port + 10)\n"
            "  --exchange-timeout-ms N      sim: wait this long for each answer of the exchange; no answer\n"
            "                               = broker connection lost until it answers again (default 1000)\n"
            "  With sim the market is the exchange's: --seed, --rate, --ticks, --speed and\n"
            "  --wait-subscribers are 'aftm exchange' options; --symbol S relays only S's ticks.\n"
            "  The options below up to --symbol are sim-local's:\n"
            "  --seed N             random-walk seed, integer >= 0 (default: from the clock, logged)\n"
            "  --rate R             random-walk ticks per second, 0 < R <= 1000000 (default 10)\n"
            "  --symbol S           product of the random walk (default TXFF5); with --ticks, publish\n"
            "                       every replayed tick under S instead of the file's own symbols\n"
            "  --ticks FILE         replay a tick file (CSV datetime,symbol,price,volume or TAIFEX's\n"
            "                       daily tick CSV) instead of the random walk\n"
            "  --speed X            replay at X times real time by the file's timestamps; 0 = as fast\n"
            "                       as possible (default 1)\n"
            "  --tick-endpoint E    PUB for ticks (default tcp://127.0.0.1:5555; ZMQ_HOST, ZMQ_TICK_PORT)\n"
            "  --order-endpoint E   order requests (default tcp://127.0.0.1:5557; DLL_GATEWAY_HOST,\n"
            "                       DLL_GATEWAY_PORT)\n"
            "  --report-endpoint E  PUB for execution reports (default tcp://127.0.0.1:5558;\n"
            "                       AFTM_REPORT_PORT)\n"
            "  --insecure           allow binding non-loopback addresses without authentication\n"
            "  --home DIR           data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --wait-subscribers N hold the tick feed until N subscriptions have reached the tick port\n"
            "                       (e.g. 2 for a strategy and an executor), so none misses the start\n"
            "                       of a replay (default 0: start at once)\n"
            "  --quiet              log only warnings and errors\n"
            "  --login ACCOUNT      log in to the broker as ACCOUNT with the password in the environment\n"
            "                       variable AFTM_PASSWORD (never on the command line); a refused login\n"
            "                       exits with code 3 and the broker's reason (default: the simulator's\n"
            "                       own login)\n"
            "  --help               this text\n\n"
            "The simulated exchange logs in as %s, order accounts SIM-0001 and SIM-0002.\n"
            "Market orders fill at the next tick's price of their product. With sim, an exchange that\n"
            "stops answering is a lost broker connection: health_check says unhealthy, orders are\n"
            "refused with BROKER_DISCONNECTED (an order in flight when it went is left unanswered: its\n"
            "outcome is unknown until the exchange is back), and the gateway logs in again as soon as\n"
            "it answers. SIGINT/SIGTERM stop it.\n",
            SIM_DEFAULT_LOGIN);
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "aftm gateway: %s\n(aftm gateway --help for the options)\n", msg);
    return EXIT_USAGE;
}

typedef struct {
    const char *broker;
    market_flags m; /* --seed --rate --ticks --speed --symbol */
    endpoints ep;
    bool insecure, quiet;
    const char *home;
    int64_t wait_subs;
    const char *login; /* --login: the account; the password comes from AFTM_PASSWORD */
    bool local;        /* --broker sim-local, or fix (the market is made here too) */
    bool fix;          /* --broker fix */
    const char *fix_config;
    char exchange[AFTM_ENDPOINT_MAX], exchange_market[AFTM_ENDPOINT_MAX];
    int64_t exchange_timeout_ms;
    bool have_exchange_opts, have_wait;
} gw_opts;

static int parse_args(int argc, char **argv, gw_opts *o) {
    static const struct option opts[] = {
        {"broker", 1, 0, 'b'},          {"seed", 1, 0, 's'},          {"rate", 1, 0, 'r'},
        {"ticks", 1, 0, 't'},           {"speed", 1, 0, 'x'},         {"symbol", 1, 0, 'y'},
        {"tick-endpoint", 1, 0, 'T'},   {"order-endpoint", 1, 0, 'O'}, {"report-endpoint", 1, 0, 'R'},
        {"insecure", 0, 0, 'i'},        {"home", 1, 0, 'h'},          {"quiet", 0, 0, 'q'},
        {"wait-subscribers", 1, 0, 'w'}, {"help", 0, 0, 'H'},         {"login", 1, 0, 'L'},
        {"exchange-endpoint", 1, 0, 'E'}, {"exchange-market-endpoint", 1, 0, 'M'},
        {"exchange-timeout-ms", 1, 0, 'X'}, {"fix-config", 1, 0, 'F'}, {"market-data", 1, 0, 'D'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->broker = "sim";
    market_flags_init(&o->m);
    endpoints_from_env(&o->ep);
    snprintf(o->exchange, sizeof o->exchange, "%s", o->ep.exchange);
    o->exchange_timeout_ms = 1000;
    int c;
    char err[256];
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->broker = optarg; break;
        case 's':
        case 'r':
        case 't':
        case 'x':
        case 'y':
            if (!market_flags_set(&o->m, c, optarg, err, sizeof err)) return bad_usage("%s", err);
            break;
        case 'T': snprintf(o->ep.tick, sizeof o->ep.tick, "%s", optarg); break;
        case 'O': snprintf(o->ep.order, sizeof o->ep.order, "%s", optarg); break;
        case 'R': snprintf(o->ep.report, sizeof o->ep.report, "%s", optarg); break;
        case 'i': o->insecure = true; break;
        case 'h': o->home = optarg; break;
        case 'q': o->quiet = true; break;
        case 'L':
            if (!*optarg || strlen(optarg) >= 96) return bad_usage("--login must be an account of 1-95 characters");
            o->login = optarg;
            break;
        case 'w':
            if (!parse_int_range(optarg, 0, 1000, &o->wait_subs))
                return bad_usage("--wait-subscribers must be an integer from 0 to 1000, got '%s'", optarg);
            o->have_wait = true;
            break;
        case 'E':
            if (!*optarg || strlen(optarg) >= sizeof o->exchange) return bad_usage("--exchange-endpoint is empty or too long");
            snprintf(o->exchange, sizeof o->exchange, "%s", optarg);
            o->have_exchange_opts = true;
            break;
        case 'M':
            if (!*optarg || strlen(optarg) >= sizeof o->exchange_market)
                return bad_usage("--exchange-market-endpoint is empty or too long");
            snprintf(o->exchange_market, sizeof o->exchange_market, "%s", optarg);
            o->have_exchange_opts = true;
            break;
        case 'X':
            if (!parse_int_range(optarg, 10, 600000, &o->exchange_timeout_ms))
                return bad_usage("--exchange-timeout-ms must be an integer from 10 to 600000, got '%s'", optarg);
            o->have_exchange_opts = true;
            break;
        case 'H': usage(stdout); return EXIT_OK;
        case 'F': o->fix_config = optarg; break;
        case 'D':
            /* the FIX session carries no market data: a tick file, or the simulator's walk */
            if (strcmp(optarg, "walk") != 0 && !market_flags_set(&o->m, 't', optarg, err, sizeof err))
                return bad_usage("%s", err);
            break;
        case ':': return bad_usage("%s needs a value", argv[optind - 1]);
        default: return bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return bad_usage("unexpected argument '%s'", argv[optind]);
    if (!strcmp(o->broker, "sim-local")) o->local = true;
    else if (!strcmp(o->broker, "fix")) o->local = o->fix = true;
    else if (strcmp(o->broker, "sim") != 0)
        return bad_usage("unknown broker '%s' (available: sim, sim-local, fix)", o->broker);
    if (o->fix != (o->fix_config != NULL))
        return bad_usage(o->fix ? "--broker fix needs --fix-config FILE" : "--fix-config goes with --broker fix");
    if (!o->local && (o->m.ticks || o->m.have_seed || o->m.have_rate || o->m.have_speed || o->have_wait))
        return bad_usage("--seed, --rate, --ticks, --speed and --wait-subscribers make the market, which is the "
                         "exchange's with --broker sim: give them to 'aftm exchange' (or use --broker sim-local)");
    if (o->local && o->have_exchange_opts)
        return bad_usage("--exchange-endpoint, --exchange-market-endpoint and --exchange-timeout-ms apply to "
                         "--broker sim, not %s", o->broker);
    if (!o->local && !o->exchange_market[0]) {
        if (!exchange_market_endpoint(o->exchange, o->exchange_market, sizeof o->exchange_market, err, sizeof err))
            return bad_usage("%s", err);
    }
    if (!market_flags_check(&o->m, err, sizeof err)) return bad_usage("%s", err);
    if (!strcmp(o->ep.tick, o->ep.order) || !strcmp(o->ep.tick, o->ep.report) || !strcmp(o->ep.order, o->ep.report))
        return bad_usage("the tick, order and report endpoints must all differ");
    return -1; /* go on */
}

static bool bind_socket(void *ctx, int type, const char *what, const char *endpoint, bool insecure, void **out) {
    char err[512];
    if (!endpoint_bind_allowed(endpoint, insecure, err, sizeof err)) {
        log_error("%s: %s", what, err);
        return false;
    }
    void *s = zmq_socket(ctx, type);
    if (!s) {
        log_error("%s: cannot create a socket: %s", what, zmq_strerror(zmq_errno()));
        return false;
    }
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    /* Bytes from a peer announce a frame size; without a cap, garbage on the port makes libzmq
     * try to allocate whatever size it reads (and abort when it cannot). Requests are small;
     * PUB sockets only receive subscriptions. */
    int64_t maxmsg = type == ZMQ_ROUTER ? GATEWAY_MAX_REQUEST : 4096;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (type == ZMQ_PUB || type == ZMQ_XPUB) {
        int hwm = 1000;
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    }
    if (type == ZMQ_XPUB) { /* a PUB that also tells who subscribes: every subscription, not just new topics */
        int verbose = 1;
        zmq_setsockopt(s, ZMQ_XPUB_VERBOSE, &verbose, sizeof verbose);
    }
    *out = s;
    if (zmq_bind(s, endpoint) != 0) {
        int e = zmq_errno();
        if (e == EADDRINUSE)
            log_error("%s: cannot bind %s: the address is already in use (another gateway running?)", what, endpoint);
        else
            log_error("%s: cannot bind %s: %s", what, endpoint, zmq_strerror(e));
        return false;
    }
    return true;
}

int cmd_gateway(int argc, char **argv) {
    gw_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    /* --login: the password is taken out of the environment at once and kept in memory only. */
    char password[256] = "";
    if (o.login) {
        char *pw = getenv("AFTM_PASSWORD");
        if (!pw || !*pw) return bad_usage("--login needs the password in the environment variable AFTM_PASSWORD");
        snprintf(password, sizeof password, "%s", pw);
        memset(pw, 0, strlen(pw)); /* also gone from /proc/<pid>/environ */
        unsetenv("AFTM_PASSWORD");
    }
    log_set_name("gateway");
    if (o.quiet) log_set_quiet(1);

    char home[AFTM_PATH_MAX], err[512];
    /* Refuse unsafe binds before doing anything else. */
    const char *eps[3] = {o.ep.tick, o.ep.order, o.ep.report};
    for (int i = 0; i < 3; i++)
        if (!endpoint_bind_allowed(eps[i], o.insecure, err, sizeof err)) {
            fprintf(stderr, "aftm gateway: %s\n", err);
            return EXIT_USAGE;
        }
    if (!home_resolve(o.home, home, sizeof home, err, sizeof err)) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    /* From here on SIGINT/SIGTERM only ask the loop to stop. */
    int sig_fd = lifecycle_install_wakeup();
    if (sig_fd < 0) {
        log_error("cannot create the signal pipe: %s", strerror(errno));
        return EXIT_RUNTIME;
    }

    int exit_code = EXIT_RUNTIME;
    gw_feed feed = {0};
    broker b = {0};
    gateway_core *core = NULL;
    void *zctx = NULL;
    gw_io io = {0};
    void *router = NULL;

    zctx = zmq_ctx_new();
    if (!zctx) {
        log_error("cannot create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
        goto done;
    }
    int64_t now = clock_mono_ns();
    if (!o.local) {
        /* the simulated exchange process: a client of it */
        sim_remote_config rcfg = {.endpoint = o.exchange,
                                  .market_endpoint = o.exchange_market,
                                  .timeout_ms = (int)o.exchange_timeout_ms,
                                  .zctx = zctx};
        if (!sim_remote_new(&rcfg, &b, err, sizeof err)) {
            log_error("%s", err);
            goto done;
        }
    } else if (o.m.ticks) {
        feed.src = tick_source_replay(o.m.ticks, o.m.speed, o.m.have_symbol ? o.m.symbol : NULL, now, err, sizeof err);
        if (!feed.src) {
            log_error("cannot replay %s: %s", o.m.ticks, err);
            goto done;
        }
    } else {
        if (!o.m.have_seed) o.m.seed = (uint64_t)clock_wall_us() ^ ((uint64_t)getpid() << 32);
        feed.src = tick_source_random_walk(o.m.symbol, o.m.seed, o.m.rate, 0, now);
        if (!feed.src) {
            log_error("cannot start the random walk");
            goto done;
        }
    }
    if (o.fix) {
        feed.held = o.wait_subs > 0;
        fix_broker_config fcfg = {.config_path = o.fix_config,
                                  .home = home,
                                  .feed = {.ctx = &feed, .due_in_ms = gw_feed_due, .next = gw_feed_next}};
        if (!fix_broker_new(&fcfg, &b, err, sizeof err)) {
            log_error("%s", err);
            exit_code = EXIT_USAGE;
            goto done;
        }
    } else if (o.local) {
        feed.held = o.wait_subs > 0;
        sim_config cfg;
        sim_config_default(&cfg);
        cfg.feed = (sim_feed){.ctx = &feed, .due_in_ms = gw_feed_due, .next = gw_feed_next};
        if (!sim_broker_new(&cfg, &b)) {
            log_error("out of memory");
            goto done;
        }
    }
    if (!bind_socket(zctx, ZMQ_XPUB, "ticks", o.ep.tick, o.insecure, &io.tick_pub) ||
        !bind_socket(zctx, ZMQ_PUB, "reports", o.ep.report, o.insecure, &io.report_pub) ||
        !bind_socket(zctx, ZMQ_ROUTER, "orders", o.ep.order, o.insecure, &router))
        goto done;

    gateway_sinks sinks = {.ctx = &io, .publish_tick = publish_tick, .publish_report = publish_report};
    core = gateway_core_new(&b, &sinks, 0);
    if (!core) {
        log_error("out of memory");
        goto done;
    }
    /* The gateway is the broker session: it logs in as --login with AFTM_PASSWORD, else with
     * the simulator's own credentials. */
    if (o.fix) {
        /* the FIX session logs on by itself in the background (and again after every drop);
         * --login adds Username/Password to its Logon */
        bool started = broker_login(&b, o.login ? o.login : "", o.login ? password : "", err, sizeof err);
        memset(password, 0, sizeof password);
        if (!started) {
            log_error("%s", err);
            goto done;
        }
    } else if (o.login) {
        bool logged = broker_login(&b, o.login, password, err, sizeof err);
        memset(password, 0, sizeof password);
        if (!logged) {
            log_error("%s", err); /* the last line: the menu and 'aftm login' show it */
            /* refused, unless the exchange process never answered (then: a failure to retry) */
            exit_code = !o.local && !sim_remote_reached(&b) ? EXIT_RUNTIME : EXIT_REFUSED;
            goto done;
        }
        log_info("logged in to the broker as %s", o.login);
    } else if (!broker_login(&b, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD, err, sizeof err)) {
        log_error("broker login failed: %s", err);
        goto done;
    }
    const char *sub = (o.m.ticks || !o.local) && !o.m.have_symbol ? "*" : o.m.symbol;
    if (!broker_subscribe(&b, sub, err, sizeof err)) {
        log_error("cannot subscribe to %s: %s", sub, err);
        goto done;
    }

    if (o.fix)
        log_info("gateway ready (broker fix: %s; market data %s): ticks on %s, orders on %s, reports on %s", o.fix_config,
                 o.m.ticks ? o.m.ticks : "the simulator's random walk", o.ep.tick, o.ep.order, o.ep.report);
    else if (!o.local)
        log_info("gateway ready (broker sim: the exchange at %s, market %s): ticks on %s, orders on %s, reports on %s",
                 o.exchange, o.exchange_market, o.ep.tick, o.ep.order, o.ep.report);
    else if (o.m.ticks)
        log_info("gateway ready (broker sim): replaying %s at %s; ticks on %s, orders on %s, reports on %s", o.m.ticks,
                 o.m.speed > 0 ? "the file's pace" : "full speed", o.ep.tick, o.ep.order, o.ep.report);
    else
        log_info("gateway ready (broker sim): %s random walk, seed %llu, %g ticks/s; ticks on %s, orders on %s, "
                 "reports on %s",
                 o.m.symbol, (unsigned long long)o.m.seed, o.m.rate, o.ep.tick, o.ep.order, o.ep.report);
    if (o.m.ticks && o.m.speed > 0 && o.m.speed != 1) log_info("replay speed: %g x real time", o.m.speed);
    if (feed.held) log_info("holding the tick feed until %lld subscriber(s) connect", (long long)o.wait_subs);

    bool stop = false, replay_end_logged = false;
    int64_t subscribers = 0;
    while (!stop) {
        int64_t t = broker_next_timeout_ms(&b);
        long timeout = t < 0 ? -1 : (t > 60000 ? 60000 : (long)t);
        zmq_pollitem_t items[8] = {
            {router, 0, ZMQ_POLLIN, 0},
            {NULL, sig_fd, ZMQ_POLLIN, 0},
            {io.tick_pub, 0, ZMQ_POLLIN, 0}, /* subscriptions */
        };
        int nitems = 3;
        int bfd = broker_poll_fd(&b);
        if (bfd >= 0) items[nitems++] = (zmq_pollitem_t){NULL, bfd, ZMQ_POLLIN, 0};
        void *bsocks[4];
        size_t nb = broker_poll_sockets(&b, bsocks, 4);
        for (size_t k = 0; k < nb; k++) items[nitems++] = (zmq_pollitem_t){bsocks[k], 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(items, nitems, timeout);
        if (n < 0) {
            if (zmq_errno() == EINTR) continue;
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            log_info("signal %d: stopping", lifecycle_take_signal());
            stop = true;
            break;
        }
        if (items[2].revents & ZMQ_POLLIN) {
            subscribers += drain_subscriptions(io.tick_pub);
            broker_feed_subscribers(&b, subscribers); /* the exchange may hold its market for them */
            if (feed.held && subscribers >= o.wait_subs) {
                feed.held = false;
                tick_source_restart_clock(feed.src, clock_mono_ns());
                log_info("%lld subscriber(s) on the tick port: starting the feed", (long long)subscribers);
            }
        }
        if (items[0].revents & ZMQ_POLLIN)
            for (int k = 0; k < 256 && serve_one(router, core); k++) {
            }
        broker_service(&b);
        if (o.local && o.m.ticks && !replay_end_logged && tick_source_due_in_ms(feed.src, clock_mono_ns()) < 0) {
            replay_end_logged = true;
            const char *e = tick_source_error(feed.src);
            if (e[0]) log_error("replay of %s stopped: %s", o.m.ticks, e);
            log_info("replay finished: %llu ticks, %zu malformed rows skipped; still serving orders",
                     (unsigned long long)tick_source_count(feed.src), tick_source_bad_rows(feed.src));
        }
    }
    exit_code = stop ? EXIT_OK : EXIT_RUNTIME;
    log_info("gateway stopped: %llu ticks published, %llu orders, %llu reports", (unsigned long long)io.ticks,
             (unsigned long long)gateway_core_orders(core), (unsigned long long)io.reports);

done:
    memset(password, 0, sizeof password);
    gateway_core_free(core);
    if (b.ops && broker_is_connected(&b)) broker_logout(&b);
    if (router) zmq_close(router);
    if (io.tick_pub) zmq_close(io.tick_pub);
    if (io.report_pub) zmq_close(io.report_pub);
    broker_destroy(&b); /* before the context: the remote adapter's sockets live in it */
    if (zctx) zmq_ctx_term(zctx);
    tick_source_free(feed.src);
    lifecycle_restore();
    return exit_code;
}
