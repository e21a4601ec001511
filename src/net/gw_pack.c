/* The order port's msgpack messages (see gw_pack.h). Key order follows the JSON forms. */
#include "net/gw_pack.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "net/gw_proto.h"
#include "wire/mpmap.h"

static int write_cb(void *data, const char *buf, size_t len) {
    gw_packer *p = data;
    if (msgpack_sbuffer_write(&p->buf, buf, len) != 0) p->failed = true;
    return 0;
}

void gw_packer_init(gw_packer *p) {
    msgpack_sbuffer_init(&p->buf);
    msgpack_packer_init(&p->pk, p, write_cb);
    p->failed = false;
}

void gw_packer_destroy(gw_packer *p) { msgpack_sbuffer_destroy(&p->buf); }

const char *gw_packed(const gw_packer *p) { return p->buf.data; }
size_t gw_packed_len(const gw_packer *p) { return p->buf.size; }

static msgpack_packer *start(gw_packer *p) {
    msgpack_sbuffer_clear(&p->buf);
    p->failed = false;
    return &p->pk;
}

static bool done(gw_packer *p) { return !p->failed && p->buf.size > 0; }


static void kv_str_or_nil(msgpack_packer *pk, const char *k, const char *v) {
    mp_pack_str(pk, k);
    mp_pack_str_or_nil(pk, v);
}

static const char *pack_side_name(side_t s) { return s == SIDE_BUY ? "buy" : "sell"; }

/* ---- send_order ----------------------------------------------------------------------------- */

bool gw_pack_send_order(gw_packer *p, const broker_order_req *req) {
    msgpack_packer *pk = start(p);
    msgpack_pack_map(pk, 2);
    mp_pack_kv_str(pk, "operation", "send_order");
    mp_pack_str(pk, "parameters");
    msgpack_pack_map(pk, req->client_order_id[0] ? 11 : 10);
    mp_pack_kv_str(pk, "order_account", req->account);
    mp_pack_kv_str(pk, "item_code", req->symbol);
    mp_pack_kv_str(pk, "side", pack_side_name(req->side));
    mp_pack_kv_str(pk, "order_type", broker_order_type_name(req->type));
    mp_pack_str(pk, "price");
    msgpack_pack_double(pk, req->type == BROKER_LIMIT ? (double)req->price : 0.0);
    mp_pack_kv_int(pk, "quantity", req->qty);
    mp_pack_kv_str(pk, "open_close", broker_open_close_name(req->open_close));
    mp_pack_kv_str(pk, "note", req->note);
    mp_pack_kv_str(pk, "day_trade", req->day_trade ? "Y" : "N");
    mp_pack_kv_str(pk, "time_in_force", broker_tif_name(req->tif));
    if (req->client_order_id[0]) mp_pack_kv_str(pk, "client_order_id", req->client_order_id);
    return done(p);
}

/* A string field of params into out; false with the message. */
static bool text(const msgpack_object *params, const char *key, char *out, size_t cap, char *msg, size_t msg_cap) {
    if (mp_str(params, key, out, cap)) return true;
    snprintf(msg, msg_cap, "%s must be a string of at most %zu characters", key, cap - 1);
    return false;
}

static bool refuse(char *code, size_t code_cap, const char *c) {
    snprintf(code, code_cap, "%s", c);
    return false;
}

bool gw_unpack_send_order(const msgpack_object *root, broker_order_req *req, char *code, size_t code_cap, char *msg,
                          size_t msg_cap) {
    memset(req, 0, sizeof *req);
    if (!mp_str_is(mp_get(root, "operation"), "send_order")) {
        snprintf(msg, msg_cap, "only send_order is taken in msgpack; other operations are JSON");
        return refuse(code, code_cap, "UNKNOWN_OPERATION");
    }
    const msgpack_object *params = mp_get(root, "parameters");
    if (!params || params->type != MSGPACK_OBJECT_MAP) {
        snprintf(msg, msg_cap, "parameters must be a map");
        return refuse(code, code_cap, "INVALID_ORDER");
    }
    char side[8], type[16], oc[16], dt[4], tif[8];
    if (!text(params, "order_account", req->account, sizeof req->account, msg, msg_cap) ||
        !text(params, "item_code", req->symbol, sizeof req->symbol, msg, msg_cap) ||
        !text(params, "side", side, sizeof side, msg, msg_cap) ||
        !text(params, "order_type", type, sizeof type, msg, msg_cap) ||
        !text(params, "open_close", oc, sizeof oc, msg, msg_cap) ||
        !text(params, "day_trade", dt, sizeof dt, msg, msg_cap) ||
        !text(params, "time_in_force", tif, sizeof tif, msg, msg_cap) ||
        !text(params, "note", req->note, sizeof req->note, msg, msg_cap) ||
        !text(params, "client_order_id", req->client_order_id, sizeof req->client_order_id, msg, msg_cap))
        return refuse(code, code_cap, "INVALID_ORDER");
    for (char *c = req->symbol; *c; c++) *c = (char)toupper((unsigned char)*c);
    if (!gw_coid_valid(req->client_order_id)) {
        snprintf(msg, msg_cap, "client_order_id must be 1-%d printable characters without spaces", BROKER_ID_MAX - 1);
        return refuse(code, code_cap, "INVALID_ORDER");
    }
    const char *bad = NULL;
    if (!strcmp(side, "buy")) req->side = SIDE_BUY;
    else if (!strcmp(side, "sell")) req->side = SIDE_SELL;
    else bad = "side";
    if (!bad && !broker_order_type_parse(type, &req->type)) bad = "order_type";
    if (!bad && !broker_open_close_parse(oc, &req->open_close)) bad = "open_close";
    if (!bad && strcmp(dt, "Y") != 0 && strcmp(dt, "N") != 0) bad = "day_trade";
    if (!bad && !broker_tif_parse(tif, &req->tif)) bad = "time_in_force";
    if (bad) {
        snprintf(msg, msg_cap, "%s is not one of its known values", bad);
        return refuse(code, code_cap, "ORDER_EXECUTION_ERROR");
    }
    req->day_trade = dt[0] == 'Y';
    double price;
    if (!mp_num(params, "price", &price) || price < 0) {
        snprintf(msg, msg_cap, "price must be a number >= 0");
        return refuse(code, code_cap, "ORDER_EXECUTION_ERROR");
    }
    if (req->type == BROKER_LIMIT) {
        if (price > 1e12 || fabs(price - nearbyint(price)) > 1e-9) {
            snprintf(msg, msg_cap, "price must be a whole number of points, got %g", price);
            return refuse(code, code_cap, "ORDER_EXECUTION_ERROR");
        }
        req->price = (price_t)llround(price);
    }
    int64_t qty;
    if (!mp_int(params, "quantity", &qty) || qty > 1000000000 || qty < -1000000000) {
        snprintf(msg, msg_cap, "quantity must be a whole number");
        return refuse(code, code_cap, "ORDER_EXECUTION_ERROR");
    }
    req->qty = qty;
    return true;
}

bool gw_pack_send_answer(gw_packer *p, const broker_send_result *res) {
    msgpack_packer *pk = start(p);
    msgpack_pack_map(pk, 2);
    mp_pack_kv_bool(pk, "success", true);
    mp_pack_str(pk, "data");
    msgpack_pack_map(pk, 8);
    mp_pack_kv_bool(pk, "is_send_order", res->is_send_order);
    mp_pack_kv_str(pk, "note", res->note);
    mp_pack_kv_str(pk, "order_serial", res->order_serial);
    mp_pack_kv_str(pk, "error_code", res->error_code);
    mp_pack_kv_str(pk, "error_message", res->error_message);
    mp_pack_kv_str(pk, "client_order_id", res->client_order_id);
    mp_pack_kv_str(pk, "status", broker_status_name(res->status));
    mp_pack_kv_bool(pk, "duplicate", res->duplicate);
    return done(p);
}

bool gw_pack_error(gw_packer *p, const char *code, const char *msg) {
    msgpack_packer *pk = start(p);
    msgpack_pack_map(pk, 3);
    mp_pack_kv_bool(pk, "success", false);
    mp_pack_kv_str(pk, "error_message", msg);
    mp_pack_kv_str(pk, "error_code", code);
    return done(p);
}

/* ---- execution reports ---------------------------------------------------------------------- */

bool gw_pack_report(gw_packer *p, uint64_t seq, const broker_report *r) {
    msgpack_packer *pk = start(p);
    msgpack_pack_map(pk, 15);
    mp_pack_str(pk, "seq");
    msgpack_pack_uint64(pk, seq);
    kv_str_or_nil(pk, "client_order_id", r->client_order_id);
    kv_str_or_nil(pk, "order_serial", r->order_serial);
    mp_pack_kv_str(pk, "account", r->account);
    mp_pack_kv_str(pk, "symbol", r->symbol);
    mp_pack_kv_str(pk, "side", pack_side_name(r->side));
    mp_pack_kv_int(pk, "qty", r->qty);
    mp_pack_kv_str(pk, "status", broker_status_name(r->status));
    kv_str_or_nil(pk, "fill_id", r->fill_id);
    mp_pack_kv_int(pk, "fill_qty", r->fill_qty);
    mp_pack_str(pk, "fill_price");
    if (r->fill_qty > 0) msgpack_pack_int64(pk, r->fill_price);
    else msgpack_pack_nil(pk);
    mp_pack_kv_int(pk, "filled_qty", r->filled_qty);
    mp_pack_str(pk, "avg_fill_price");
    if (r->filled_qty > 0) msgpack_pack_double(pk, (double)r->filled_notional / (double)r->filled_qty);
    else msgpack_pack_nil(pk);
    kv_str_or_nil(pk, "reason", r->reason);
    mp_pack_str(pk, "time");
    msgpack_pack_double(pk, (double)r->ts_us / 1e6);
    return done(p);
}
