/* The gateway's core (see gateway.h): the order port's JSON protocol, execution reports with
 * sequence numbers kept for get_reports, the broker's events turned into publications. No
 * sockets, no clock but the wall time of replies: tests drive it directly. */
#include "app/gateway/gateway.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"

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
    return ok_reply(json_pack("{s:s,s:b,s:I,s:b}", "status", up ? "healthy" : "unhealthy", "exchange_connected", up,
                              "timestamp", (json_int_t)(clock_wall_us() / 1000000), "server_running", 1));
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
