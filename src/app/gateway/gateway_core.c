/* The gateway's core (see gateway.h): the order port's JSON protocol, execution reports with
 * sequence numbers kept for get_reports, the broker's events turned into publications. No
 * sockets, no clock but the wall time of replies: tests drive it directly. */
#include "app/gateway/fix_broker.h"
#include "app/gateway/gateway.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"
#include "net/gw_pack.h"
#include "net/gw_proto.h"

typedef struct {
    uint64_t seq;
    broker_report r;
} kept_report;

/* An order whose broker answer comes later. */
typedef struct {
    uint64_t token;
    bool extended;
    bool packed; /* asked in msgpack: answered in msgpack */
    broker_order_req req;
} deferred_send;

struct gateway_core {
    deferred_send *ds; /* orders in flight at the broker */
    size_t nds, capds;
    uint64_t next_token, deferred;
    broker *b;
    gateway_sinks sinks;
    kept_report *ring;
    size_t keep, count, head; /* head: index of the oldest */
    uint64_t last_seq;
    uint64_t orders;
    int64_t epoch_us;
    bool no_reply; /* the request being handled must go unanswered (see gateway_core_handle) */
    gw_packer pk;  /* msgpack answers and reports */
};

char *gateway_json_dumps(const json_t *value) { return gw_dumps(value); }

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
    if (gw_pack_report(&g->pk, seq, r)) g->sinks.publish_report(g->sinks.ctx, gw_packed(&g->pk), gw_packed_len(&g->pk));
    else log_error("report %llu could not be encoded", (unsigned long long)seq);
}

static void on_connection(void *ctx, broker_conn_state st, const char *msg) {
    (void)ctx;
    if (st == BROKER_CONNECTED) log_info("broker connected: %s", msg ? msg : "");
    else log_warn("broker disconnected: %s", msg ? msg : "");
}

static void on_send_result(void *ctx, uint64_t token, const broker_send_result *res);

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
    gw_packer_init(&g->pk);
    broker_callbacks cb = {.ctx = g, .on_tick = on_tick, .on_report = on_report, .on_connection = on_connection,
                           .on_send_result = on_send_result};
    broker_set_callbacks(b, &cb);
    return g;
}

void gateway_core_free(gateway_core *g) {
    if (!g) return;
    broker_set_callbacks(g->b, NULL);
    free(g->ds);
    free(g->ring);
    gw_packer_destroy(&g->pk);
    free(g);
}

uint64_t gateway_core_last_seq(const gateway_core *g) { return g->last_seq; }
uint64_t gateway_core_deferred(const gateway_core *g) { return g->deferred; }
size_t gateway_core_in_flight(const gateway_core *g) { return g->nds; }
uint64_t gateway_core_orders(const gateway_core *g) { return g->orders; }

/* Logs the broker's answer to an order; false when its outcome is unknown (the request then
 * goes unanswered). */
static bool log_answer(const broker_order_req *req, const broker_send_result *res) {
    const char *cid = req->client_order_id[0] ? req->client_order_id : "-";
    if (res->unknown) {
        /* The link to the broker failed after the order left: whether the broker has it is
         * unknown. Refusing it would be a lie if it was placed; no answer is what the client
         * already reads as "outcome unknown" (it settles it by client order id later). */
        log_warn("order (client id %s): %s; its outcome is unknown, the request is left unanswered", cid,
                 res->error_message);
        return false;
    }
    if (res->duplicate)
        log_info("order %s (client id %s) repeated: answered with the existing order (%s), not placed again",
                 res->order_serial, cid, broker_status_name(res->status));
    else if (res->is_send_order && log_enabled(LOG_INFO)) {
        char kind[48];
        if (req->type == BROKER_LIMIT) snprintf(kind, sizeof kind, "Limit %lld", (long long)req->price);
        else snprintf(kind, sizeof kind, "%s", broker_order_type_name(req->type));
        log_info("order %s (client id %s) accepted: %s %lld %s %s %s account %s", res->order_serial, cid,
                 req->side == SIDE_BUY ? "buy" : "sell", (long long)req->qty, req->symbol, kind,
                 broker_tif_name(req->tif), req->account);
    }
    else if (!res->is_send_order)
        log_warn("order %s (client id %s) rejected: %s %lld %s: %s (%s)", res->order_serial[0] ? res->order_serial : "-",
                 cid, req->side == SIDE_BUY ? "buy" : "sell", (long long)req->qty, req->symbol, res->error_message,
                 res->error_code);
    return true;
}

/* The JSON reply to an order from the broker's answer; NULL (logged) when its outcome is unknown. */
static json_t *send_answer(const broker_order_req *req, bool extended, const broker_send_result *res) {
    return log_answer(req, res) ? gw_ok(gw_send_result_json(res, extended)) : NULL;
}

/* A copy of what g->pk holds (malloc'd), its length in *len. */
static char *packed_copy(gateway_core *g, size_t *len) {
    char *out = malloc(gw_packed_len(&g->pk));
    if (out) memcpy(out, gw_packed(&g->pk), gw_packed_len(&g->pk));
    if (len) *len = out ? gw_packed_len(&g->pk) : 0;
    return out;
}

/* Hands the order to a broker that answers later; false when it answered at once (res). */
static bool send_deferred(gateway_core *g, const broker_order_req *req, bool extended, bool packed,
                          broker_send_result *res) {
    if (!buf_grow((void **)&g->ds, &g->capds, g->nds + 1, sizeof *g->ds)) return false;
    uint64_t token = ++g->next_token;
    if (!broker_send_order_async(g->b, req, token, res)) return false;
    g->ds[g->nds++] = (deferred_send){.token = token, .extended = extended, .packed = packed, .req = *req};
    g->deferred = token;
    return true;
}

static void on_send_result(void *ctx, uint64_t token, const broker_send_result *res) {
    gateway_core *g = ctx;
    size_t i = 0;
    while (i < g->nds && g->ds[i].token != token) i++;
    if (i == g->nds) return;
    deferred_send d = g->ds[i];
    g->ds[i] = g->ds[--g->nds];
    if (d.packed) {
        bool ok = log_answer(&d.req, res) && gw_pack_send_answer(&g->pk, res);
        g->sinks.reply(g->sinks.ctx, token, ok ? gw_packed(&g->pk) : NULL, ok ? gw_packed_len(&g->pk) : 0);
        return;
    }
    json_t *reply = send_answer(&d.req, d.extended, res);
    char *text = reply ? gateway_json_dumps(reply) : NULL;
    json_decref(reply);
    g->sinks.reply(g->sinks.ctx, token, text, text ? strlen(text) : 0);
    free(text);
}

/* Places req. true when its answer comes later (under g->deferred; g->no_reply set); else
 * *res is the broker's answer now. */
static bool place(gateway_core *g, const broker_order_req *req, bool extended, bool packed, broker_send_result *res) {
    g->orders++;
    if (g->sinks.reply && broker_has_async_send(g->b)) {
        memset(res, 0, sizeof *res);
        if (send_deferred(g, req, extended, packed, res)) {
            g->no_reply = true;
            return true;
        }
        if (!res->error_code[0] && !res->unknown) broker_send_order(g->b, req, res); /* out of memory before it left */
    } else {
        broker_send_order(g->b, req, res);
    }
    return false;
}

static json_t *op_send_order(gateway_core *g, json_t *params) {
    broker_order_req req;
    bool extended;
    json_t *refusal;
    if (!gw_send_order_parse(params, &req, &extended, &refusal)) return refusal;
    broker_send_result res;
    if (place(g, &req, extended, false, &res)) return NULL;
    json_t *reply = send_answer(&req, extended, &res);
    if (!reply) g->no_reply = true;
    return reply;
}

char *gateway_core_handle_packed(gateway_core *g, const msgpack_object *root, size_t *len) {
    g->no_reply = false;
    g->deferred = 0;
    broker_order_req req;
    char code[32], msg[256];
    broker_send_result res;
    bool ok;
    if (!gw_unpack_send_order(root, &req, code, sizeof code, msg, sizeof msg)) {
        ok = gw_pack_error(&g->pk, code, msg);
    } else if (place(g, &req, true, true, &res) || !log_answer(&req, &res)) {
        if (len) *len = 0;
        return NULL;
    } else {
        ok = gw_pack_send_answer(&g->pk, &res);
    }
    if (!ok) {
        if (len) *len = 0;
        return NULL; /* out of memory: unanswered, the client settles it by client order id */
    }
    return packed_copy(g, len);
}

/* ---- the other operations --------------------------------------------------------------- */

static json_t *op_get_positions(gateway_core *g, json_t *params) {
    const char *account = json_string_value(json_object_get(params, "account"));
    if (!account || !*account) return gw_err("MISSING_ACCOUNT", "Account parameter is required");
    broker_position buf[64];
    char err[BROKER_MSG_MAX] = "";
    long n = broker_query_positions(g->b, account, buf, 64, err, sizeof err);
    if (n < 0) return gw_err("POSITION_QUERY_ERROR", "%s", err);
    broker_position *all = buf;
    if (n > 64) {
        all = calloc((size_t)n, sizeof *all);
        if (!all) return gw_err("INTERNAL_ERROR", "Internal server error");
        n = broker_query_positions(g->b, account, all, (size_t)n, err, sizeof err);
    }
    json_t *list = json_array();
    for (long i = 0; i < n; i++) json_array_append_new(list, gw_position_json(&all[i]));
    if (all != buf) free(all);
    return gw_ok(json_pack("{s:o}", "positions", list));
}

static json_t *op_health(gateway_core *g) {
    bool up = broker_is_connected(g->b);
    json_t *d = json_pack("{s:s,s:b,s:I,s:b}", "status", up ? "healthy" : "unhealthy", "exchange_connected", up,
                          "timestamp", (json_int_t)(clock_wall_us() / 1000000), "server_running", 1);
    /* FIX: the session's state in words (logged on / connecting / logon refused: why) */
    if (d && !strcmp(g->b->ops->name, "fix")) json_object_set_new(d, "broker_state", json_string(fix_broker_state(g->b)));
    return gw_ok(d);
}

static json_t *op_order_status(gateway_core *g, json_t *params) {
    const char *cid = json_string_value(json_object_get(params, "client_order_id"));
    if (!cid || !*cid) return gw_err("MISSING_CLIENT_ORDER_ID", "client_order_id is required");
    broker_order_info o;
    if (!broker_order_status(g->b, cid, &o)) {
        /* not found, or the broker could not be asked: never say "not found" for the latter */
        if (!broker_is_connected(g->b))
            return gw_err("BROKER_DISCONNECTED", "broker connection lost: cannot ask for order %s now", cid);
        return gw_ok(json_pack("{s:b,s:s}", "found", 0, "client_order_id", cid));
    }
    return gw_ok(gw_order_status_json(&o));
}

static json_t *op_cancel_order(gateway_core *g, json_t *params) {
    const char *cid = json_string_value(json_object_get(params, "client_order_id"));
    if (!cid || !*cid) return gw_err("MISSING_CLIENT_ORDER_ID", "client_order_id is required");
    char err[BROKER_MSG_MAX] = "";
    if (!broker_cancel_order(g->b, cid, err, sizeof err)) {
        log_warn("cancel %s refused: %s", cid, err);
        return gw_err("CANCEL_REJECTED", "%s", err);
    }
    return gw_ok(gw_cancel_json(cid));
}

/* get_reports from a broker that keeps its own report log (the simulated exchange process):
 * the same numbers whichever gateway asks, before or after a restart. */
static json_t *reports_from_broker(gateway_core *g, uint64_t since) {
    broker_report *buf = calloc(GATEWAY_MAX_REPORTS_REPLY, sizeof *buf);
    if (!buf) return gw_err("INTERNAL_ERROR", "Internal server error");
    broker_report_page page;
    char err[BROKER_MSG_MAX + 96] = "";
    long n = broker_get_reports(g->b, since, buf, GATEWAY_MAX_REPORTS_REPLY, &page, err, sizeof err);
    if (n < 0) {
        free(buf);
        return gw_err("BROKER_DISCONNECTED", "%s", err);
    }
    json_t *list = json_array();
    for (long i = 0; i < n; i++) json_array_append_new(list, gw_report_json(buf[i].seq, &buf[i]));
    free(buf);
    gw_report_page gp = {.first_seq = page.first_seq,
                         .last_seq = page.last_seq,
                         .more = page.more,
                         .truncated = since + 1 < page.first_seq && page.last_seq > since,
                         .epoch = page.epoch};
    return gw_ok(gw_reports_json(list, &gp));
}

static json_t *op_get_reports(gateway_core *g, json_t *params) {
    json_t *v = json_object_get(params, "since_seq");
    json_int_t since = 0;
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return gw_err("INVALID_PARAMETER", "since_seq must be an integer >= 0");
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
        json_array_append_new(list, gw_report_json(kr->seq, &kr->r));
        n++;
    }
    gw_report_page gp = {.first_seq = first,
                         .last_seq = g->last_seq,
                         .more = more,
                         /* true when some reports after since_seq are no longer kept */
                         .truncated = (uint64_t)since + 1 < first && g->last_seq > (uint64_t)since,
                         .epoch = g->epoch_us};
    return gw_ok(gw_reports_json(list, &gp));
}

static json_t *op_list_accounts(gateway_core *g) {
    size_t n = broker_list_accounts(g->b, NULL, 0);
    broker_account *acc = calloc(n ? n : 1, sizeof *acc);
    if (!acc) return gw_err("INTERNAL_ERROR", "Internal server error");
    n = broker_list_accounts(g->b, acc, n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, json_string(acc[i].account));
    free(acc);
    return gw_ok(json_pack("{s:o}", "accounts", list));
}

static json_t *op_list_products(gateway_core *g) {
    size_t n = broker_list_products(g->b, NULL, 0);
    broker_product *p = calloc(n ? n : 1, sizeof *p);
    if (!p) return gw_err("INTERNAL_ERROR", "Internal server error");
    n = broker_list_products(g->b, p, n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "code", p[i].code, "name", p[i].name,
                                              "delivery_month", p[i].delivery_month, "market", p[i].market,
                                              "reference_price", (json_int_t)p[i].reference_price, "max_price",
                                              (json_int_t)p[i].max_price, "min_price", (json_int_t)p[i].min_price));
    free(p);
    return gw_ok(json_pack("{s:o}", "products", list));
}

json_t *gateway_parse_request(const char *req, size_t req_len) {
    if (!req || req_len > GATEWAY_MAX_REQUEST) return NULL;
    return json_loadb(req, req_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
}

static json_t *dispatch(gateway_core *g, const json_t *root, size_t len) {
    if (len > GATEWAY_MAX_REQUEST)
        return gw_err("REQUEST_TOO_LARGE", "Request of %zu bytes is over the %d-byte limit; it was not read", len,
                      GATEWAY_MAX_REQUEST);
    if (!root) return gw_err("INVALID_JSON", "Invalid JSON format");
    if (!json_is_object(root)) return gw_err("PROCESSING_ERROR", "Request must be a JSON object");
    json_t *reply;
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
        gw_python_str(opv, text, sizeof text);
        reply = gw_err("UNKNOWN_OPERATION", "Unknown operation: %s", text);
    }
    json_decref(empty);
    return reply;
}

char *gateway_core_handle_parsed(gateway_core *g, const json_t *root, size_t req_len, size_t *len) {
    g->no_reply = false;
    g->deferred = 0;
    json_t *reply = dispatch(g, root, req_len);
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

char *gateway_core_handle(gateway_core *g, const char *req, size_t req_len, size_t *len) {
    if (!req) req = "", req_len = 0;
    json_t *root = gateway_parse_request(req, req_len);
    char *text = gateway_core_handle_parsed(g, root, req_len, len);
    json_decref(root);
    return text;
}
