/* The executor's requests to the gateway and its reading of the replies and reports (see
 * executor_proto.h). Key order and values are the wire format: do not reorder. */
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

void exproto_order_req(const order *o, broker_order_req *out) {
    /* a condition's order: market, IOC, the position opened or closed as the broker sees fit; one
     * by hand may be a limit, resting (ROD) or IOC */
    *out = (broker_order_req){.side = o->side, .qty = o->qty, .type = BROKER_MARKET, .tif = BROKER_IOC,
                              .open_close = BROKER_AUTO};
    if (o->limit_price > 0) {
        out->type = BROKER_LIMIT;
        out->price = o->limit_price;
        out->tif = o->rests ? BROKER_ROD : BROKER_IOC;
    }
    str_copy(out->client_order_id, sizeof out->client_order_id, o->client_order_id);
    str_copy(out->account, sizeof out->account, o->account);
    str_copy(out->symbol, sizeof out->symbol, o->symbol);
    str_copy(out->note, sizeof out->note, "aftm");
}

json_t *exproto_send_order_request(const broker_order_req *req) { return request("send_order", gw_send_order_params(req)); }

json_t *exproto_get_reports_request(long long since_seq) {
    return request("get_reports", gw_reports_params(since_seq > 0 ? (uint64_t)since_seq : 0));
}

json_t *exproto_order_status_request(const char *client_order_id) {
    return request("order_status", gw_order_status_params(client_order_id));
}

/* A string field as text (for messages): at most cap-1 bytes, "" when absent or not a string. */
static void field_text(const gw_fields *f, const char *key, char *out, size_t cap) {
    gwf_value v = gw_field(f, key);
    if (v.type != GWF_STR) {
        out[0] = '\0';
        return;
    }
    snprintf(out, cap, "%.*s", (int)(v.len < cap ? v.len : cap - 1), v.s);
}

void exproto_parse_send_reply(const gw_fields *reply, exproto_send_reply *out) {
    memset(out, 0, sizeof *out);
    gw_fields data = gw_field_object(reply, "data");
    if (gw_fields_ok(&data)) gw_field_str(&data, "order_serial", out->serial, sizeof out->serial);
    if (!gw_field_true(reply, "success")) {
        char msg[ORDER_REASON_MAX], code[48];
        field_text(reply, "error_message", msg, sizeof msg);
        field_text(reply, "error_code", code, sizeof code);
        /* truncated to the reason's size, as any reason */
        int n = snprintf(out->reason, sizeof out->reason, "%s", msg[0] ? msg : "refused");
        if (n >= 0 && (size_t)n < sizeof out->reason)
            snprintf(out->reason + n, sizeof out->reason - (size_t)n, " (%s)", code[0] ? code : "?");
    } else if (!gw_field_true(&data, "is_send_order")) {
        char msg[ORDER_REASON_MAX];
        field_text(&data, "error_message", msg, sizeof msg);
        snprintf(out->reason, sizeof out->reason, "%s", msg[0] ? msg : "the broker did not accept the order");
    } else {
        out->accepted = true;
        out->duplicate = gw_field_true(&data, "duplicate");
    }
}

bool exproto_read_send_reply(mp_reader *r, const char *body, size_t len, exproto_send_reply *out) {
    memset(out, 0, sizeof *out);
    if (mp_is_map(body, len)) {
        msgpack_object root;
        if (!mp_read(r, body, len, &root)) return false;
        gw_fields f = gw_fields_of_map(&root);
        exproto_parse_send_reply(&f, out);
        return true;
    }
    json_t *j = json_loadb(body, len, 0, NULL);
    bool ok = json_is_object(j);
    if (ok) {
        gw_fields f = gw_fields_of_json(j);
        exproto_parse_send_reply(&f, out);
    }
    json_decref(j);
    return ok;
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
static bool int_in(const gw_fields *rep, const char *key, long long lo, long long hi, long long fallback,
                   long long *out, char *why, size_t whylen) {
    gwf_value v = gw_field(rep, key);
    if (v.type == GWF_ABSENT || v.type == GWF_NULL) {
        *out = fallback;
        return true;
    }
    if (v.type != GWF_INT) {
        snprintf(why, whylen, "%s is not an integer", key);
        return false;
    }
    *out = v.i;
    if (*out < lo || *out > hi) {
        snprintf(why, whylen, "%s %lld is out of range %lld..%lld", key, *out, lo, hi);
        return false;
    }
    return true;
}

/* An optional string field copied into buf (cap bytes): *out points to it, NULL when absent or
 * not a string. Longer than cap-1: truncated when truncate, else false with why. */
static bool take_str(const gw_fields *rep, const char *key, char *buf, size_t cap, bool truncate, const char **out,
                     char *why, size_t whylen) {
    gwf_value v = gw_field(rep, key);
    *out = NULL;
    if (v.type != GWF_STR) return true;
    size_t n = v.len;
    if (memchr(v.s, '\0', n)) n = strlen(v.s); /* as a C string reads it */
    if (n >= cap) {
        if (!truncate) {
            snprintf(why, whylen, "%s is longer than %zu characters", key, cap - 1);
            return false;
        }
        n = cap - 1;
    }
    memcpy(buf, v.s, n);
    buf[n] = '\0';
    *out = buf;
    return true;
}

/* The order a report is about (for one placed outside aftm). */
static void read_order(const gw_fields *rep, exproto_report *out) {
    int64_t qty;
    gwf_value q = gw_field(rep, "qty");
    qty = q.type == GWF_INT ? q.i : -1;
    out->has_order = gw_field_str(rep, "account", out->account, sizeof out->account) &&
                     gw_field_str(rep, "symbol", out->symbol, sizeof out->symbol) && qty > 0 && qty <= ORDER_QTY_MAX &&
                     (gw_field_is(rep, "side", "buy") || gw_field_is(rep, "side", "sell"));
    if (!out->has_order) return;
    out->side = gw_field_is(rep, "side", "buy") ? SIDE_BUY : SIDE_SELL;
    out->qty = qty;
}

bool exproto_parse_report(const gw_fields *rep, exproto_report *out, char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    out->cum_qty = -1;
    if (!take_str(rep, "client_order_id", out->text.coid, sizeof out->text.coid, false, &out->client_order_id, why,
                  whylen))
        return false;
    take_str(rep, "status", out->text.status, sizeof out->text.status, true, &out->status_text, why, whylen);
    take_str(rep, "reason", out->text.reason, sizeof out->text.reason, true, &out->reason, why, whylen);
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
        !take_str(rep, "fill_id", out->text.fill_id, sizeof out->text.fill_id, false, &out->fill_id, why, whylen) ||
        !take_str(rep, "order_serial", out->text.serial, sizeof out->text.serial, false, &out->serial, why, whylen))
        return false;
    out->seq = seq;
    out->fill_qty = qty;
    out->cum_qty = cum;
    if (qty > 0) {
        gwf_value p = gw_field(rep, "fill_price");
        double price = p.type == GWF_INT || p.type == GWF_REAL ? p.d : NAN;
        if (!isfinite(price) || price < 1 || price > (double)ORDER_PRICE_MAX) {
            snprintf(why, whylen, "fill price %g is out of range 1..%lld", price, (long long)ORDER_PRICE_MAX);
            return false;
        }
        out->fill_price = (price_t)llround(price);
    }
    read_order(rep, out);
    return true;
}
