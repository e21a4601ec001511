/* The executor's JSON requests to the gateway and its reading of the replies and reports
 * (see executor_proto.h). Key order and values are the wire format: do not reorder. */
#include "app/executor/executor_proto.h"

#include "core/str.h"
#include "net/gw_proto.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* {"operation": op, "parameters": params} (params consumed). */
static json_t *request(const char *op, json_t *params) {
    return params ? json_pack("{s:s,s:o}", "operation", op, "parameters", params) : NULL;
}

json_t *exproto_send_order_request(const order *o) {
    /* a condition's order: market, IOC, the position opened or closed as the broker sees fit; one
     * by hand may be a limit, resting (ROD) or IOC */
    broker_order_req req = {.side = o->side, .qty = o->qty, .type = BROKER_MARKET, .tif = BROKER_IOC,
                            .open_close = BROKER_AUTO};
    if (o->limit_price > 0) {
        req.type = BROKER_LIMIT;
        req.price = o->limit_price;
        req.tif = o->rests ? BROKER_ROD : BROKER_IOC;
    }
    str_copy(req.client_order_id, sizeof req.client_order_id, o->client_order_id);
    str_copy(req.account, sizeof req.account, o->account);
    str_copy(req.symbol, sizeof req.symbol, o->symbol);
    str_copy(req.note, sizeof req.note, "aftm");
    return request("send_order", gw_send_order_params(&req));
}

json_t *exproto_get_reports_request(long long since_seq) {
    return request("get_reports", gw_reports_params(since_seq > 0 ? (uint64_t)since_seq : 0));
}

json_t *exproto_order_status_request(const char *client_order_id) {
    return request("order_status", gw_order_status_params(client_order_id));
}

void exproto_parse_send_reply(const json_t *reply, exproto_send_reply *out) {
    memset(out, 0, sizeof *out);
    json_t *data = json_object_get(reply, "data");
    out->serial = json_string_value(json_object_get(data, "order_serial"));
    if (!json_is_true(json_object_get(reply, "success"))) {
        const char *msg = json_string_value(json_object_get(reply, "error_message"));
        const char *code = json_string_value(json_object_get(reply, "error_code"));
        snprintf(out->reason, sizeof out->reason, "%s (%s)", msg ? msg : "refused", code ? code : "?");
    } else if (!json_is_true(json_object_get(data, "is_send_order"))) {
        const char *msg = json_string_value(json_object_get(data, "error_message"));
        snprintf(out->reason, sizeof out->reason, "%s", msg && *msg ? msg : "the broker did not accept the order");
    } else {
        out->accepted = true;
        out->duplicate = json_is_true(json_object_get(data, "duplicate"));
    }
}

json_t *exproto_reports_of(const json_t *reply) {
    json_t *list = json_object_get(json_object_get(reply, "data"), "reports");
    return json_is_array(list) ? list : NULL;
}

bool exproto_status_not_found(const json_t *reply) {
    return json_is_true(json_object_get(reply, "success")) &&
           json_is_false(json_object_get(json_object_get(reply, "data"), "found"));
}

void exproto_reports_page(const json_t *reply, long long *last_seq, bool *more) {
    json_t *data = json_object_get(reply, "data");
    json_t *last = json_object_get(data, "last_seq");
    *last_seq = json_is_integer(last) ? json_integer_value(last) : -1;
    *more = json_is_true(json_object_get(data, "more"));
}

bool exproto_parse_status(const json_t *reply, exproto_status *out) {
    memset(out, 0, sizeof *out);
    json_t *data = json_object_get(reply, "data");
    if (!json_is_true(json_object_get(reply, "success")) || !json_is_true(json_object_get(data, "found")))
        return false;
    const char *st = json_string_value(json_object_get(data, "status"));
    json_t *filled = json_object_get(data, "filled_qty");
    if (!st || !order_status_parse(st, &out->status) || !json_is_integer(filled)) return false;
    out->filled_qty = json_integer_value(filled);
    const char *reason = json_string_value(json_object_get(data, "reason"));
    snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
    return out->filled_qty >= 0 && out->filled_qty <= ORDER_QTY_MAX;
}

/* An optional integer field in [lo, hi]: absent or null gives fallback. */
static bool int_in(const json_t *rep, const char *key, long long lo, long long hi, long long fallback, long long *out,
                   char *why, size_t whylen) {
    json_t *v = json_object_get(rep, key);
    if (!v || json_is_null(v)) {
        *out = fallback;
        return true;
    }
    if (!json_is_integer(v)) {
        snprintf(why, whylen, "%s is not an integer", key);
        return false;
    }
    *out = json_integer_value(v);
    if (*out < lo || *out > hi) {
        snprintf(why, whylen, "%s %lld is out of range %lld..%lld", key, *out, lo, hi);
        return false;
    }
    return true;
}

static bool id_fits(const char *s, const char *what, char *why, size_t whylen) {
    if (!s || strlen(s) < ORDER_ID_MAX) return true;
    snprintf(why, whylen, "%s is longer than %d characters", what, ORDER_ID_MAX - 1);
    return false;
}

bool exproto_parse_report(const json_t *rep, exproto_report *out, char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    out->client_order_id = json_string_value(json_object_get(rep, "client_order_id"));
    out->status_text = json_string_value(json_object_get(rep, "status"));
    out->reason = json_string_value(json_object_get(rep, "reason"));
    out->serial = json_string_value(json_object_get(rep, "order_serial"));
    out->fill_id = json_string_value(json_object_get(rep, "fill_id"));
    out->cum_qty = -1;
    if (!out->client_order_id || !*out->client_order_id) {
        snprintf(why, whylen, "no client order id");
        return false;
    }
    if (!out->status_text || !order_status_parse(out->status_text, &out->status)) {
        snprintf(why, whylen, "unknown status '%.40s'", out->status_text ? out->status_text : "(none)");
        return false;
    }
    long long seq, qty, cum;
    if (!int_in(rep, "seq", 1, INT64_MAX, 0, &seq, why, whylen) ||
        !int_in(rep, "fill_qty", 0, ORDER_QTY_MAX, 0, &qty, why, whylen) ||
        !int_in(rep, "filled_qty", 0, ORDER_QTY_MAX, -1, &cum, why, whylen) ||
        !id_fits(out->client_order_id, "client_order_id", why, whylen) ||
        !id_fits(out->fill_id, "fill_id", why, whylen) || !id_fits(out->serial, "order_serial", why, whylen))
        return false;
    out->seq = seq;
    out->fill_qty = qty;
    out->cum_qty = cum;
    if (qty > 0) {
        json_t *p = json_object_get(rep, "fill_price");
        double price = json_is_number(p) ? json_number_value(p) : NAN;
        if (!isfinite(price) || price < 1 || price > (double)ORDER_PRICE_MAX) {
            snprintf(why, whylen, "fill price %g is out of range 1..%lld", price, (long long)ORDER_PRICE_MAX);
            return false;
        }
        out->fill_price = (price_t)llround(price);
    }
    return true;
}
