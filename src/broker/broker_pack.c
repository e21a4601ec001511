/* Broker structs <-> msgpack maps (see broker_pack.h). */
#include "broker/broker_pack.h"

#include <stdio.h>
#include <string.h>

#include "broker/broker_json.h" /* broker_status_parse */

/* ---- packing ---- */


static const char *wire_side(side_t s) { return s == SIDE_BUY ? "buy" : "sell"; }

/* ---- reading: each false when the field is missing, of another type or does not fit ---- */

#define ENUM_MAX 24 /* the longest wire name of an enum ("partially_filled") fits */

static bool get_side(const msgpack_object *o, const char *key, side_t *out) {
    char s[ENUM_MAX];
    if (!mp_str(o, key, s, sizeof s)) return false;
    if (!strcmp(s, "buy")) *out = SIDE_BUY;
    else if (!strcmp(s, "sell")) *out = SIDE_SELL;
    else return false;
    return true;
}

static bool get_status(const msgpack_object *o, const char *key, broker_status *out) {
    char s[ENUM_MAX];
    return mp_str(o, key, s, sizeof s) && broker_status_parse(s, out);
}

static bool get_type(const msgpack_object *o, const char *key, broker_order_type *out) {
    char s[ENUM_MAX];
    return mp_str(o, key, s, sizeof s) && broker_order_type_parse(s, out);
}

static bool get_tif(const msgpack_object *o, const char *key, broker_tif *out) {
    char s[ENUM_MAX];
    return mp_str(o, key, s, sizeof s) && broker_tif_parse(s, out);
}

static bool get_open_close(const msgpack_object *o, const char *key, broker_open_close *out) {
    char s[ENUM_MAX];
    return mp_str(o, key, s, sizeof s) && broker_open_close_parse(s, out);
}

static bool get_u64(const msgpack_object *o, const char *key, uint64_t *out) {
    int64_t v;
    if (!mp_int(o, key, &v) || v < 0) return false;
    *out = (uint64_t)v;
    return true;
}

static bool is_map(const msgpack_object *o) { return o && o->type == MSGPACK_OBJECT_MAP; }

/* ---- reports ---- */

bool bp_pack_report(msgpack_packer *pk, const broker_report *r) {
    int rc = msgpack_pack_map(pk, 15);
    rc |= mp_pack_kv_int(pk, "seq", (int64_t)r->seq);
    rc |= mp_pack_kv_str(pk, "client_order_id", r->client_order_id);
    rc |= mp_pack_kv_str(pk, "order_serial", r->order_serial);
    rc |= mp_pack_kv_str(pk, "account", r->account);
    rc |= mp_pack_kv_str(pk, "symbol", r->symbol);
    rc |= mp_pack_kv_str(pk, "side", wire_side(r->side));
    rc |= mp_pack_kv_int(pk, "qty", r->qty);
    rc |= mp_pack_kv_str(pk, "status", broker_status_name(r->status));
    rc |= mp_pack_kv_str(pk, "fill_id", r->fill_id);
    rc |= mp_pack_kv_int(pk, "fill_qty", r->fill_qty);
    rc |= mp_pack_kv_int(pk, "fill_price", r->fill_price);
    rc |= mp_pack_kv_int(pk, "filled_qty", r->filled_qty);
    rc |= mp_pack_kv_int(pk, "filled_notional", r->filled_notional);
    rc |= mp_pack_kv_str(pk, "reason", r->reason);
    rc |= mp_pack_kv_int(pk, "ts_us", r->ts_us);
    return rc == 0;
}

bool bp_to_report(const msgpack_object *o, broker_report *out) {
    broker_report r;
    memset(&r, 0, sizeof r);
    if (!is_map(o) || !get_u64(o, "seq", &r.seq) ||
        !mp_str(o, "client_order_id", r.client_order_id, sizeof r.client_order_id) ||
        !mp_str(o, "order_serial", r.order_serial, sizeof r.order_serial) ||
        !mp_str(o, "account", r.account, sizeof r.account) || !mp_str(o, "symbol", r.symbol, sizeof r.symbol) ||
        !get_side(o, "side", &r.side) || !mp_int(o, "qty", &r.qty) || !get_status(o, "status", &r.status) ||
        !mp_str(o, "fill_id", r.fill_id, sizeof r.fill_id) || !mp_int(o, "fill_qty", &r.fill_qty) ||
        !mp_int(o, "fill_price", &r.fill_price) || !mp_int(o, "filled_qty", &r.filled_qty) ||
        !mp_int(o, "filled_notional", &r.filled_notional) || !mp_str(o, "reason", r.reason, sizeof r.reason) ||
        !mp_int(o, "ts_us", &r.ts_us))
        return false;
    *out = r;
    return true;
}

bool bp_read_report(mp_reader *rd, const void *data, size_t len, broker_report *out) {
    msgpack_object o;
    return mp_read(rd, data, len, &o) && bp_to_report(&o, out);
}

/* ---- orders ---- */

bool bp_pack_order_req(msgpack_packer *pk, const broker_order_req *r) {
    int rc = msgpack_pack_map(pk, 11);
    rc |= mp_pack_kv_str(pk, "client_order_id", r->client_order_id);
    rc |= mp_pack_kv_str(pk, "account", r->account);
    rc |= mp_pack_kv_str(pk, "symbol", r->symbol);
    rc |= mp_pack_kv_str(pk, "side", wire_side(r->side));
    rc |= mp_pack_kv_int(pk, "qty", r->qty);
    rc |= mp_pack_kv_str(pk, "order_type", broker_order_type_name(r->type));
    rc |= mp_pack_kv_int(pk, "price", r->price);
    rc |= mp_pack_kv_str(pk, "time_in_force", broker_tif_name(r->tif));
    rc |= mp_pack_kv_str(pk, "open_close", broker_open_close_name(r->open_close));
    rc |= mp_pack_kv_bool(pk, "day_trade", r->day_trade);
    rc |= mp_pack_kv_str(pk, "note", r->note);
    return rc == 0;
}

bool bp_to_order_req(const msgpack_object *o, broker_order_req *out, char *err, size_t errlen) {
    broker_order_req r;
    memset(&r, 0, sizeof r);
    const char *bad = NULL;
    if (!is_map(o)) bad = "order";
    else if (!mp_str(o, "client_order_id", r.client_order_id, sizeof r.client_order_id)) bad = "client_order_id";
    else if (!mp_str(o, "account", r.account, sizeof r.account)) bad = "account";
    else if (!mp_str(o, "symbol", r.symbol, sizeof r.symbol)) bad = "symbol";
    else if (!get_side(o, "side", &r.side)) bad = "side";
    else if (!mp_int(o, "qty", &r.qty)) bad = "qty";
    else if (!get_type(o, "order_type", &r.type)) bad = "order_type";
    else if (!mp_int(o, "price", &r.price)) bad = "price";
    else if (!get_tif(o, "time_in_force", &r.tif)) bad = "time_in_force";
    else if (!get_open_close(o, "open_close", &r.open_close)) bad = "open_close";
    else if (!mp_bool(o, "day_trade", &r.day_trade)) bad = "day_trade";
    else if (!mp_str(o, "note", r.note, sizeof r.note)) bad = "note";
    if (bad) {
        if (err && errlen) snprintf(err, errlen, "the order's '%s' is missing or invalid", bad);
        return false;
    }
    *out = r;
    return true;
}

bool bp_pack_send_result(msgpack_packer *pk, const broker_send_result *r) {
    int rc = msgpack_pack_map(pk, 8);
    rc |= mp_pack_kv_bool(pk, "is_send_order", r->is_send_order);
    rc |= mp_pack_kv_bool(pk, "duplicate", r->duplicate);
    rc |= mp_pack_kv_str(pk, "client_order_id", r->client_order_id);
    rc |= mp_pack_kv_str(pk, "order_serial", r->order_serial);
    rc |= mp_pack_kv_str(pk, "error_code", r->error_code);
    rc |= mp_pack_kv_str(pk, "error_message", r->error_message);
    rc |= mp_pack_kv_str(pk, "note", r->note);
    rc |= mp_pack_kv_str(pk, "status", broker_status_name(r->status));
    return rc == 0;
}

bool bp_to_send_result(const msgpack_object *o, broker_send_result *out) {
    broker_send_result r;
    memset(&r, 0, sizeof r);
    if (!is_map(o) || !mp_bool(o, "is_send_order", &r.is_send_order) || !mp_bool(o, "duplicate", &r.duplicate) ||
        !mp_str(o, "client_order_id", r.client_order_id, sizeof r.client_order_id) ||
        !mp_str(o, "order_serial", r.order_serial, sizeof r.order_serial) ||
        !mp_str(o, "error_code", r.error_code, sizeof r.error_code) ||
        !mp_str(o, "error_message", r.error_message, sizeof r.error_message) ||
        !mp_str(o, "note", r.note, sizeof r.note) || !get_status(o, "status", &r.status))
        return false;
    *out = r;
    return true;
}

/* ---- the exchange link's send_order ---- */

bool bp_pack_send_request(msgpack_packer *pk, uint64_t id, const broker_order_req *req) {
    int rc = msgpack_pack_map(pk, 3);
    rc |= mp_pack_kv_str(pk, "operation", "send_order");
    rc |= mp_pack_str(pk, "id") | msgpack_pack_uint64(pk, id);
    rc |= mp_pack_str(pk, "order");
    return rc == 0 && bp_pack_order_req(pk, req);
}

static int pack_id(msgpack_packer *pk, const msgpack_object *id) {
    return id ? mp_pack_str(pk, "id") | msgpack_pack_object(pk, *id) : 0;
}

bool bp_pack_send_reply_ok(msgpack_packer *pk, const msgpack_object *id, const broker_send_result *res) {
    int rc = msgpack_pack_map(pk, id ? 3 : 2);
    rc |= pack_id(pk, id);
    rc |= mp_pack_kv_bool(pk, "success", true);
    rc |= mp_pack_str(pk, "result");
    return rc == 0 && bp_pack_send_result(pk, res);
}

bool bp_pack_send_reply_err(msgpack_packer *pk, const msgpack_object *id, const char *code, const char *msg) {
    int rc = msgpack_pack_map(pk, id ? 4 : 3);
    rc |= pack_id(pk, id);
    rc |= mp_pack_kv_bool(pk, "success", false);
    rc |= mp_pack_kv_str(pk, "error_code", code);
    rc |= mp_pack_kv_str(pk, "error_message", msg);
    return rc == 0;
}

bool bp_read_send_reply(mp_reader *rd, const void *data, size_t len, bp_send_reply *out) {
    msgpack_object o;
    if (!mp_read(rd, data, len, &o)) return false;
    bp_send_reply r;
    memset(&r, 0, sizeof r);
    if (!get_u64(&o, "id", &r.id) || !mp_bool(&o, "success", &r.success)) return false;
    if (r.success) {
        if (!bp_to_send_result(mp_get(&o, "result"), &r.result)) return false;
    } else {
        const msgpack_object *m = mp_get(&o, "error_message");
        if (!mp_str(&o, "error_code", r.error_code, sizeof r.error_code) || !m || m->type != MSGPACK_OBJECT_STR)
            return false;
        size_t n = m->via.str.size < sizeof r.error_message ? m->via.str.size : sizeof r.error_message - 1;
        if (n) memcpy(r.error_message, m->via.str.ptr, n);
        r.error_message[n] = '\0';
        if (strlen(r.error_message) != n) return false; /* a NUL inside: not a text */
    }
    *out = r;
    return true;
}
