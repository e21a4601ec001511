/* The gateway's order-port protocol (see gw_proto.h). */
#include "net/gw_proto.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_json.h"
#include "core/parse.h"
#include "core/str.h"

/* ---- the client order id scheme ---------------------------------------------------------- */

bool gw_coid_valid(const char *s) {
    if (!s) return false;
    size_t n = strlen(s);
    if (n == 0 || n >= BROKER_ID_MAX) return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f) return false;
    return true;
}

bool gw_signal_id_make(char *out, size_t cap, int64_t condition_id, int pid, gw_leg leg) {
    return gw_signal_id_make_round(out, cap, condition_id, pid, 0, leg);
}

bool gw_signal_id_make_round(char *out, size_t cap, int64_t condition_id, int pid, int64_t round, gw_leg leg) {
    if (cap) out[0] = '\0';
    if (!cap || (leg != GW_LEG_ENTRY && leg != GW_LEG_EXIT) || condition_id == 0 || condition_id == INT64_MIN ||
        (condition_id < 0 && pid <= 0) || round < 0 || (round > 0 && condition_id < 0))
        return false;
    int n = condition_id < 0 ? snprintf(out, cap, "m%d_%" PRId64 ".%c", pid, -condition_id, (char)leg)
            : round > 0      ? snprintf(out, cap, "%" PRId64 "r%" PRId64 ".%c", condition_id, round, (char)leg)
                             : snprintf(out, cap, "%" PRId64 ".%c", condition_id, (char)leg);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* An instance id: 1 to GW_INSTANCE_MAX letters or digits. */
static size_t instance_len(const char *s) {
    size_t n = 0;
    while (n <= GW_INSTANCE_MAX && isalnum((unsigned char)s[n])) n++;
    return n <= GW_INSTANCE_MAX ? n : 0;
}

bool gw_coid_from_signal(char *out, size_t cap, const char *instance, const char *signal_id) {
    if (cap) out[0] = '\0';
    if (!cap || !signal_id || !*signal_id || !instance || !instance_len(instance) || instance[instance_len(instance)])
        return false;
    int n = snprintf(out, cap, GW_COID_PREFIX "%s-%s", instance, signal_id);
    if (n < 0 || (size_t)n >= cap || !gw_coid_valid(out)) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* A positive decimal without sign or leading zeros; *end past it. */
static bool read_positive(const char *s, const char **end, int64_t *out) {
    if (*s < '1' || *s > '9') return false;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - (*s - '0')) / 10) return false;
        v = v * 10 + (*s - '0');
    }
    *end = s;
    *out = v;
    return true;
}

bool gw_coid_parse(const char *coid, gw_coid *out) {
    memset(out, 0, sizeof *out);
    size_t plen = strlen(GW_COID_PREFIX);
    if (!coid || strncmp(coid, GW_COID_PREFIX, plen) != 0) return false;
    const char *p = coid + plen;
    gw_coid c = {0};
    size_t ilen = instance_len(p);
    if (!ilen || p[ilen] != '-') return false;
    memcpy(c.instance, p, ilen);
    p += ilen + 1;
    int64_t v;
    if (*p == 'm') {
        int64_t pid;
        if (!read_positive(p + 1, &p, &pid) || pid > INT32_MAX || *p != '_') return false;
        if (!read_positive(p + 1, &p, &v)) return false;
        c.pid = (int)pid;
        c.condition_id = -v;
    } else {
        if (!read_positive(p, &p, &v)) return false;
        c.condition_id = v;
        if (*p == 'r' && !read_positive(p + 1, &p, &c.round)) return false;
    }
    if (p[0] != '.' || (p[1] != GW_LEG_ENTRY && p[1] != GW_LEG_EXIT) || p[2] != '\0') return false;
    c.leg = (gw_leg)p[1];
    *out = c;
    return true;
}

bool gw_is_exit(const char *id) {
    size_t n = id ? strlen(id) : 0;
    return n > 2 && !strcmp(id + n - 2, ".X");
}

/* ---- replies ---------------------------------------------------------------------------- */

json_t *gw_ok(json_t *data) { return json_pack("{s:b,s:o}", "success", 1, "data", data ? data : json_object()); }

json_t *gw_err(const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:b,s:s,s:s}", "success", 0, "error_message", msg, "error_code", code);
}

bool gw_reply_ok(const json_t *j) { return json_is_true(json_object_get(j, "success")); }
json_t *gw_reply_data(const json_t *j) { return json_object_get(j, "data"); }
const char *gw_reply_code(const json_t *j) {
    const char *c = json_string_value(json_object_get(j, "error_code"));
    return c ? c : "ERROR";
}
const char *gw_reply_message(const json_t *j) {
    const char *m = json_string_value(json_object_get(j, "error_message"));
    return m ? m : "refused";
}

char *gw_dumps(const json_t *value) {
    /* Without JSON_COMPACT jansson separates with ", " and ": ", as Python does by default.
     * 16 significant digits print times (POSIX seconds with microseconds) and prices the way
     * Python's repr does (1750152615.123456, 22150.0) instead of %.17g's 1750152615.1234560xx. */
    return json_dumps(value, JSON_ENSURE_ASCII | JSON_ENCODE_ANY | JSON_REAL_PRECISION(16));
}

/* ---- reading helpers -------------------------------------------------------------------- */

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* A string, or null for "" (the fields str_or_null writes). */
static bool get_opt_str(const json_t *j, const char *key, char *out, size_t cap) {
    const json_t *v = json_object_get(j, key);
    if (json_is_null(v)) {
        out[0] = '\0';
        return true;
    }
    if (!json_is_string(v)) return false;
    str_copy(out, cap, json_string_value(v));
    return true;
}

static bool get_str(const json_t *j, const char *key, char *out, size_t cap) {
    const json_t *v = json_object_get(j, key);
    if (!json_is_string(v)) return false;
    str_copy(out, cap, json_string_value(v));
    return true;
}

static bool get_int(const json_t *j, const char *key, int64_t *out) {
    const json_t *v = json_object_get(j, key);
    if (!json_is_integer(v)) return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

static bool get_side(const json_t *j, side_t *out) {
    const char *s = json_string_value(json_object_get(j, "side"));
    if (s && !strcmp(s, "buy")) *out = SIDE_BUY;
    else if (s && !strcmp(s, "sell")) *out = SIDE_SELL;
    else return false;
    return true;
}

static bool get_status(const json_t *j, broker_status *out) {
    return broker_status_parse(json_string_value(json_object_get(j, "status")), out);
}

/* avg_fill_price (a real, or null when nothing filled) back to the notional. */
static bool get_notional(const json_t *j, int64_t filled, int64_t *out) {
    const json_t *v = json_object_get(j, "avg_fill_price");
    if (json_is_null(v) || !v) {
        *out = 0;
        return filled == 0;
    }
    if (!json_is_number(v)) return false;
    double n = json_number_value(v) * (double)filled;
    if (!isfinite(n) || fabs(n) > 9e15) return false;
    *out = (int64_t)llround(n);
    return true;
}

static json_t *avg_price(int64_t notional, int64_t filled) {
    return filled > 0 ? json_real((double)notional / (double)filled) : json_null();
}

static const char *wire_side(side_t s) { return s == SIDE_BUY ? "buy" : "sell"; }

/* ---- send_order ------------------------------------------------------------------------- */

json_t *gw_send_order_params(const broker_order_req *req) {
    json_t *p = json_object();
    if (!p) return NULL;
    json_object_set_new(p, "order_account", json_string(req->account));
    json_object_set_new(p, "item_code", json_string(req->symbol));
    json_object_set_new(p, "side", json_string(wire_side(req->side)));
    json_object_set_new(p, "order_type", json_string(broker_order_type_name(req->type)));
    json_object_set_new(p, "price", json_real(req->type == BROKER_LIMIT ? (double)req->price : 0.0));
    json_object_set_new(p, "quantity", json_integer(req->qty));
    json_object_set_new(p, "open_close", json_string(broker_open_close_name(req->open_close)));
    json_object_set_new(p, "note", json_string(req->note));
    json_object_set_new(p, "day_trade", json_string(req->day_trade ? "Y" : "N"));
    json_object_set_new(p, "time_in_force", json_string(broker_tif_name(req->tif)));
    if (req->client_order_id[0]) json_object_set_new(p, "client_order_id", json_string(req->client_order_id));
    return p;
}

/* The original's parameter order, used for the "Missing required fields" message. */
static const char *const ORDER_FIELDS_IN_ORDER[] = {"order_account", "item_code", "side",      "order_type",
                                                    "price",         "quantity",  "open_close", "note",
                                                    "day_trade",     "time_in_force"};

static bool get_text(const json_t *params, const char *key, char *out, size_t cap, char *err, size_t errlen) {
    const json_t *v = json_object_get(params, key);
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
static bool get_number(const json_t *v, double *out) {
    if (json_is_integer(v)) *out = (double)json_integer_value(v);
    else if (json_is_real(v)) *out = json_real_value(v);
    else if (json_is_string(v)) return parse_double(json_string_value(v), out);
    else return false;
    return isfinite(*out);
}

/* How Python would print a value in an f-string (for "'x' is not a valid ..."). */
void gw_python_str(const json_t *v, char *out, size_t cap) {
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

static bool not_valid(const json_t *v, const char *what, json_t **reply) {
    char text[64];
    gw_python_str(v, text, sizeof text);
    *reply = gw_err("ORDER_EXECUTION_ERROR", "'%s' is not a valid %s", text, what);
    return false;
}

bool gw_send_order_parse(const json_t *params, broker_order_req *req, bool *extended, json_t **reply) {
    memset(req, 0, sizeof *req);
    *extended = false;
    *reply = NULL;
    char missing[256] = "";
    for (size_t i = 0; i < sizeof ORDER_FIELDS_IN_ORDER / sizeof *ORDER_FIELDS_IN_ORDER; i++) {
        if (json_object_get(params, ORDER_FIELDS_IN_ORDER[i])) continue;
        size_t n = strlen(missing);
        snprintf(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", ORDER_FIELDS_IN_ORDER[i]);
    }
    if (missing[0]) {
        *reply = gw_err("INVALID_ORDER", "Missing required fields: %s", missing);
        return false;
    }
    char err[256];
    if (!get_text(params, "order_account", req->account, sizeof req->account, err, sizeof err) ||
        !get_text(params, "item_code", req->symbol, sizeof req->symbol, err, sizeof err)) {
        *reply = gw_err("ORDER_EXECUTION_ERROR", "%s", err);
        return false;
    }
    for (char *p = req->symbol; *p; p++) *p = (char)toupper((unsigned char)*p);

    const json_t *v = json_object_get(params, "side");
    const char *sv = json_string_value(v);
    if (sv && !strcmp(sv, "buy")) req->side = SIDE_BUY;
    else if (sv && !strcmp(sv, "sell")) req->side = SIDE_SELL;
    else return not_valid(v, "OrderOperation", reply);
    v = json_object_get(params, "order_type");
    if (!broker_order_type_parse(json_string_value(v), &req->type)) return not_valid(v, "OrderTypeEnum", reply);
    v = json_object_get(params, "open_close");
    if (!broker_open_close_parse(json_string_value(v), &req->open_close)) return not_valid(v, "OpenClose", reply);
    v = json_object_get(params, "day_trade");
    const char *dt = json_string_value(v);
    if (dt && (!strcmp(dt, "Y") || !strcmp(dt, "N"))) req->day_trade = dt[0] == 'Y';
    else return not_valid(v, "DayTrade", reply);
    v = json_object_get(params, "time_in_force");
    if (!broker_tif_parse(json_string_value(v), &req->tif)) return not_valid(v, "TimeInForce", reply);
    double price;
    if (!get_number(json_object_get(params, "price"), &price) || price < 0) {
        *reply = gw_err("ORDER_EXECUTION_ERROR", "price must be a number >= 0");
        return false;
    }
    if (req->type == BROKER_LIMIT) {
        if (price > 1e12 || fabs(price - nearbyint(price)) > 1e-9) {
            *reply = gw_err("ORDER_EXECUTION_ERROR", "price must be a whole number of points, got %g", price);
            return false;
        }
        req->price = (price_t)llround(price);
    }
    double qty;
    v = json_object_get(params, "quantity");
    if (!get_number(v, &qty) || json_is_string(v) || fabs(qty - nearbyint(qty)) > 1e-9 || fabs(qty) > 1e9) {
        *reply = gw_err("ORDER_EXECUTION_ERROR", "quantity must be a whole number");
        return false;
    }
    req->qty = (int64_t)llround(qty);
    v = json_object_get(params, "note");
    if (json_is_string(v)) snprintf(req->note, sizeof req->note, "%s", json_string_value(v));
    else if (!json_is_null(v)) {
        *reply = gw_err("ORDER_EXECUTION_ERROR", "note must be a string");
        return false;
    }
    v = json_object_get(params, "client_order_id");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || !gw_coid_valid(json_string_value(v))) {
            *reply = gw_err("INVALID_ORDER", "client_order_id must be 1-%d printable characters without spaces",
                            BROKER_ID_MAX - 1);
            return false;
        }
        snprintf(req->client_order_id, sizeof req->client_order_id, "%s", json_string_value(v));
        *extended = true;
    }
    return true;
}

json_t *gw_send_result_json(const broker_send_result *res, bool extended) {
    json_t *data = json_object();
    if (!data) return NULL;
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
    return data;
}

bool gw_send_result_parse(const json_t *data, broker_send_result *out) {
    memset(out, 0, sizeof *out);
    broker_send_result r;
    memset(&r, 0, sizeof r);
    const json_t *sent = json_object_get(data, "is_send_order");
    if (!json_is_boolean(sent) || !get_str(data, "note", r.note, sizeof r.note) ||
        !get_str(data, "order_serial", r.order_serial, sizeof r.order_serial) ||
        !get_str(data, "error_code", r.error_code, sizeof r.error_code) ||
        !get_str(data, "error_message", r.error_message, sizeof r.error_message))
        return false;
    r.is_send_order = json_is_true(sent);
    r.status = r.is_send_order ? BROKER_ST_ACCEPTED : BROKER_ST_REJECTED;
    if (json_object_get(data, "client_order_id")) { /* the extension */
        const json_t *dup = json_object_get(data, "duplicate");
        if (!get_str(data, "client_order_id", r.client_order_id, sizeof r.client_order_id) || !get_status(data, &r.status) ||
            !json_is_boolean(dup))
            return false;
        r.duplicate = json_is_true(dup);
    }
    memcpy(out, &r, sizeof r); /* with its zeroed padding: callers may compare bytes */
    return true;
}

/* ---- order_status, cancel_order ---------------------------------------------------------- */

json_t *gw_order_status_params(const char *cid) { return json_pack("{s:s}", "client_order_id", cid ? cid : ""); }
json_t *gw_cancel_params(const char *cid) { return json_pack("{s:s}", "client_order_id", cid ? cid : ""); }

json_t *gw_cancel_json(const char *cid) {
    return json_pack("{s:b,s:s,s:s}", "cancelled", 1, "client_order_id", cid ? cid : "", "status", "cancelled");
}

json_t *gw_order_status_json(const broker_order_info *o) {
    json_t *d = json_object();
    if (!d) return NULL;
    json_object_set_new(d, "found", json_true());
    json_object_set_new(d, "client_order_id", str_or_null(o->client_order_id));
    json_object_set_new(d, "order_serial", json_string(o->order_serial));
    json_object_set_new(d, "account", json_string(o->account));
    json_object_set_new(d, "symbol", json_string(o->symbol));
    json_object_set_new(d, "side", json_string(wire_side(o->side)));
    json_object_set_new(d, "qty", json_integer(o->qty));
    json_object_set_new(d, "order_type", json_string(broker_order_type_name(o->type)));
    json_object_set_new(d, "price", json_integer(o->price));
    json_object_set_new(d, "time_in_force", json_string(broker_tif_name(o->tif)));
    json_object_set_new(d, "status", json_string(broker_status_name(o->status)));
    json_object_set_new(d, "filled_qty", json_integer(o->filled_qty));
    json_object_set_new(d, "avg_fill_price", avg_price(o->filled_notional, o->filled_qty));
    json_object_set_new(d, "reason", str_or_null(o->reason));
    return d;
}

bool gw_order_status_parse(const json_t *d, broker_order_info *out) {
    memset(out, 0, sizeof *out);
    broker_order_info o;
    memset(&o, 0, sizeof o);
    if (!json_is_true(json_object_get(d, "found"))) return false;
    const char *type = json_string_value(json_object_get(d, "order_type"));
    const char *tif = json_string_value(json_object_get(d, "time_in_force"));
    bool ok = get_opt_str(d, "client_order_id", o.client_order_id, sizeof o.client_order_id) &&
              get_str(d, "order_serial", o.order_serial, sizeof o.order_serial) &&
              get_str(d, "account", o.account, sizeof o.account) && get_str(d, "symbol", o.symbol, sizeof o.symbol) &&
              get_side(d, &o.side) && get_int(d, "qty", &o.qty) && broker_order_type_parse(type, &o.type) &&
              get_int(d, "price", &o.price) && broker_tif_parse(tif, &o.tif) && get_status(d, &o.status) &&
              get_int(d, "filled_qty", &o.filled_qty) && get_notional(d, o.filled_qty, &o.filled_notional) &&
              get_opt_str(d, "reason", o.reason, sizeof o.reason);
    if (ok) memcpy(out, &o, sizeof o);
    return ok;
}

/* ---- execution reports ------------------------------------------------------------------- */

json_t *gw_report_json(uint64_t seq, const broker_report *r) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "client_order_id", str_or_null(r->client_order_id));
    json_object_set_new(o, "order_serial", str_or_null(r->order_serial));
    json_object_set_new(o, "account", json_string(r->account));
    json_object_set_new(o, "symbol", json_string(r->symbol));
    json_object_set_new(o, "side", json_string(wire_side(r->side)));
    json_object_set_new(o, "qty", json_integer(r->qty));
    json_object_set_new(o, "status", json_string(broker_status_name(r->status)));
    json_object_set_new(o, "fill_id", str_or_null(r->fill_id));
    json_object_set_new(o, "fill_qty", json_integer(r->fill_qty));
    json_object_set_new(o, "fill_price", r->fill_qty > 0 ? json_integer(r->fill_price) : json_null());
    json_object_set_new(o, "filled_qty", json_integer(r->filled_qty));
    json_object_set_new(o, "avg_fill_price", avg_price(r->filled_notional, r->filled_qty));
    json_object_set_new(o, "reason", str_or_null(r->reason));
    json_object_set_new(o, "time", json_real((double)r->ts_us / 1e6));
    return o;
}

bool gw_report_parse(const json_t *j, broker_report *out) {
    memset(out, 0, sizeof *out);
    broker_report r;
    memset(&r, 0, sizeof r);
    int64_t seq;
    const json_t *fp = json_object_get(j, "fill_price"), *t = json_object_get(j, "time");
    bool ok = json_is_object(j) && get_int(j, "seq", &seq) && seq >= 0 &&
              get_opt_str(j, "client_order_id", r.client_order_id, sizeof r.client_order_id) &&
              get_opt_str(j, "order_serial", r.order_serial, sizeof r.order_serial) &&
              get_str(j, "account", r.account, sizeof r.account) && get_str(j, "symbol", r.symbol, sizeof r.symbol) &&
              get_side(j, &r.side) && get_int(j, "qty", &r.qty) && get_status(j, &r.status) &&
              get_opt_str(j, "fill_id", r.fill_id, sizeof r.fill_id) && get_int(j, "fill_qty", &r.fill_qty) &&
              get_int(j, "filled_qty", &r.filled_qty) && get_notional(j, r.filled_qty, &r.filled_notional) &&
              get_opt_str(j, "reason", r.reason, sizeof r.reason) && json_is_number(t);
    if (ok && r.fill_qty > 0) ok = json_is_integer(fp) && (r.fill_price = (price_t)json_integer_value(fp), true);
    else if (ok) ok = json_is_null(fp);
    if (!ok) return false;
    r.seq = (uint64_t)seq;
    r.ts_us = (int64_t)llround(json_number_value(t) * 1e6);
    memcpy(out, &r, sizeof r); /* with its zeroed padding: callers may compare bytes */
    return true;
}

json_t *gw_reports_params(uint64_t since_seq) { return json_pack("{s:I}", "since_seq", (json_int_t)since_seq); }

json_t *gw_reports_json(json_t *reports, const gw_report_page *page) {
    json_t *d = json_object();
    if (!d) {
        json_decref(reports);
        return NULL;
    }
    json_object_set_new(d, "reports", reports ? reports : json_array());
    json_object_set_new(d, "first_seq", json_integer((json_int_t)page->first_seq));
    json_object_set_new(d, "last_seq", json_integer((json_int_t)page->last_seq));
    json_object_set_new(d, "more", json_boolean(page->more));
    json_object_set_new(d, "truncated", json_boolean(page->truncated));
    json_object_set_new(d, "epoch", json_integer((json_int_t)page->epoch));
    return d;
}

const json_t *gw_reports_parse(const json_t *d, gw_report_page *page) {
    memset(page, 0, sizeof *page);
    int64_t first, last, epoch;
    const json_t *more = json_object_get(d, "more"), *trunc = json_object_get(d, "truncated");
    const json_t *list = json_object_get(d, "reports");
    if (!json_is_array(list) || !get_int(d, "first_seq", &first) || !get_int(d, "last_seq", &last) ||
        !get_int(d, "epoch", &epoch) || !json_is_boolean(more) || !json_is_boolean(trunc) || first < 0 || last < 0)
        return NULL;
    page->first_seq = (uint64_t)first;
    page->last_seq = (uint64_t)last;
    page->more = json_is_true(more);
    page->truncated = json_is_true(trunc);
    page->epoch = epoch;
    return list;
}

/* ---- positions --------------------------------------------------------------------------- */

json_t *gw_positions_params(const char *account) { return json_pack("{s:s}", "account", account ? account : ""); }

json_t *gw_position_json(const broker_position *p) {
    /* The original's PositionDto field names, plus net_qty. */
    json_t *o = json_object();
    if (!o) return NULL;
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

static bool get_num_int(const json_t *j, const char *key, int64_t *out) {
    const json_t *v = json_object_get(j, key);
    if (!json_is_number(v)) return false;
    double d = json_number_value(v);
    if (!isfinite(d) || fabs(d) > 9e18) return false;
    *out = (int64_t)llround(d);
    return true;
}

bool gw_position_parse(const json_t *j, broker_position *out) {
    memset(out, 0, sizeof *out);
    broker_position p;
    memset(&p, 0, sizeof p);
    const json_t *al = json_object_get(j, "avg_cost_long"), *as = json_object_get(j, "avg_cost_short");
    bool ok = json_is_object(j) && get_str(j, "investor_account", p.account, sizeof p.account) &&
              get_str(j, "product_id", p.symbol, sizeof p.symbol) && get_int(j, "net_qty", &p.net_qty) &&
              get_int(j, "current_long", &p.current_long) && get_int(j, "current_short", &p.current_short) &&
              get_int(j, "today_filled_long", &p.today_filled_long) &&
              get_int(j, "today_filled_short", &p.today_filled_short) &&
              get_int(j, "today_order_long", &p.today_order_long) &&
              get_int(j, "today_order_short", &p.today_order_short) && get_int(j, "today_closed", &p.today_closed) &&
              get_num_int(j, "reference_price", &p.reference_price) && get_num_int(j, "realized_pl", &p.realized_pl) &&
              get_num_int(j, "unrealized_pl", &p.unrealized_pl) && json_is_number(al) && json_is_number(as);
    if (!ok) return false;
    p.avg_cost = p.net_qty > 0 ? json_number_value(al) : p.net_qty < 0 ? json_number_value(as) : 0.0;
    memcpy(out, &p, sizeof p);
    return true;
}
