/* Broker structs <-> JSON objects (see broker_json.h). */
#include "broker/broker_json.h"

#include <stdio.h>
#include <string.h>

bool broker_status_parse(const char *s, broker_status *out) {
    if (!s) return false;
    for (int v = BROKER_ST_NEW; v <= BROKER_ST_EXPIRED; v++)
        if (!strcmp(s, broker_status_name((broker_status)v))) {
            *out = (broker_status)v;
            return true;
        }
    return false;
}

/* ---- reading helpers: each returns false when the field is missing or of another type ---- */

static bool get_str(const json_t *j, const char *key, char *out, size_t cap) {
    const json_t *v = json_object_get(j, key);
    if (!json_is_string(v)) return false;
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n >= cap) n = cap - 1; /* truncated to the buffer, as everywhere in broker.h */
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static bool get_int(const json_t *j, const char *key, int64_t *out) {
    const json_t *v = json_object_get(j, key);
    if (!json_is_integer(v)) return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

static bool get_u64(const json_t *j, const char *key, uint64_t *out) {
    int64_t v;
    if (!get_int(j, key, &v) || v < 0) return false;
    *out = (uint64_t)v;
    return true;
}

static bool get_bool(const json_t *j, const char *key, bool *out) {
    const json_t *v = json_object_get(j, key);
    if (!json_is_boolean(v)) return false;
    *out = json_is_true(v);
    return true;
}

static bool get_side(const json_t *j, const char *key, side_t *out) {
    const char *s = json_string_value(json_object_get(j, key));
    if (s && !strcmp(s, "buy")) *out = SIDE_BUY;
    else if (s && !strcmp(s, "sell")) *out = SIDE_SELL;
    else return false;
    return true;
}

static bool get_status(const json_t *j, const char *key, broker_status *out) {
    return broker_status_parse(json_string_value(json_object_get(j, key)), out);
}

static const char *bj_side_name(side_t s) { return s == SIDE_BUY ? "buy" : "sell"; }

static void set_str(json_t *o, const char *key, const char *v) { json_object_set_new(o, key, json_string(v ? v : "")); }
static void set_int(json_t *o, const char *key, int64_t v) { json_object_set_new(o, key, json_integer((json_int_t)v)); }

/* ---- reports ---- */

json_t *bj_from_report(const broker_report *r) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_int(o, "seq", (int64_t)r->seq);
    set_str(o, "client_order_id", r->client_order_id);
    set_str(o, "order_serial", r->order_serial);
    set_str(o, "account", r->account);
    set_str(o, "symbol", r->symbol);
    set_str(o, "side", bj_side_name(r->side));
    set_int(o, "qty", r->qty);
    set_str(o, "status", broker_status_name(r->status));
    set_str(o, "fill_id", r->fill_id);
    set_int(o, "fill_qty", r->fill_qty);
    set_int(o, "fill_price", r->fill_price);
    set_int(o, "filled_qty", r->filled_qty);
    set_int(o, "filled_notional", r->filled_notional);
    set_str(o, "reason", r->reason);
    set_int(o, "ts_us", r->ts_us);
    return o;
}

bool bj_to_report(const json_t *j, broker_report *out) {
    memset(out, 0, sizeof *out);
    return json_is_object(j) && get_u64(j, "seq", &out->seq) &&
           get_str(j, "client_order_id", out->client_order_id, sizeof out->client_order_id) &&
           get_str(j, "order_serial", out->order_serial, sizeof out->order_serial) &&
           get_str(j, "account", out->account, sizeof out->account) &&
           get_str(j, "symbol", out->symbol, sizeof out->symbol) && get_side(j, "side", &out->side) &&
           get_int(j, "qty", &out->qty) && get_status(j, "status", &out->status) &&
           get_str(j, "fill_id", out->fill_id, sizeof out->fill_id) && get_int(j, "fill_qty", &out->fill_qty) &&
           get_int(j, "fill_price", &out->fill_price) && get_int(j, "filled_qty", &out->filled_qty) &&
           get_int(j, "filled_notional", &out->filled_notional) &&
           get_str(j, "reason", out->reason, sizeof out->reason) && get_int(j, "ts_us", &out->ts_us);
}

/* ---- orders ---- */

json_t *bj_from_order_info(const broker_order_info *i) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "client_order_id", i->client_order_id);
    set_str(o, "order_serial", i->order_serial);
    set_str(o, "account", i->account);
    set_str(o, "symbol", i->symbol);
    set_str(o, "side", bj_side_name(i->side));
    set_int(o, "qty", i->qty);
    set_str(o, "order_type", broker_order_type_name(i->type));
    set_int(o, "price", i->price);
    set_str(o, "time_in_force", broker_tif_name(i->tif));
    set_str(o, "status", broker_status_name(i->status));
    set_int(o, "filled_qty", i->filled_qty);
    set_int(o, "filled_notional", i->filled_notional);
    set_str(o, "reason", i->reason);
    return o;
}

bool bj_to_order_info(const json_t *j, broker_order_info *out) {
    memset(out, 0, sizeof *out);
    return json_is_object(j) && get_str(j, "client_order_id", out->client_order_id, sizeof out->client_order_id) &&
           get_str(j, "order_serial", out->order_serial, sizeof out->order_serial) &&
           get_str(j, "account", out->account, sizeof out->account) &&
           get_str(j, "symbol", out->symbol, sizeof out->symbol) && get_side(j, "side", &out->side) &&
           get_int(j, "qty", &out->qty) &&
           broker_order_type_parse(json_string_value(json_object_get(j, "order_type")), &out->type) &&
           get_int(j, "price", &out->price) &&
           broker_tif_parse(json_string_value(json_object_get(j, "time_in_force")), &out->tif) &&
           get_status(j, "status", &out->status) && get_int(j, "filled_qty", &out->filled_qty) &&
           get_int(j, "filled_notional", &out->filled_notional) &&
           get_str(j, "reason", out->reason, sizeof out->reason);
}

json_t *bj_from_order_req(const broker_order_req *r) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "client_order_id", r->client_order_id);
    set_str(o, "account", r->account);
    set_str(o, "symbol", r->symbol);
    set_str(o, "side", bj_side_name(r->side));
    set_int(o, "qty", r->qty);
    set_str(o, "order_type", broker_order_type_name(r->type));
    set_int(o, "price", r->price);
    set_str(o, "time_in_force", broker_tif_name(r->tif));
    set_str(o, "open_close", broker_open_close_name(r->open_close));
    json_object_set_new(o, "day_trade", json_boolean(r->day_trade));
    set_str(o, "note", r->note);
    return o;
}

bool bj_to_order_req(const json_t *j, broker_order_req *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *bad = NULL;
    if (!json_is_object(j)) bad = "order";
    else if (!get_str(j, "client_order_id", out->client_order_id, sizeof out->client_order_id)) bad = "client_order_id";
    else if (!get_str(j, "account", out->account, sizeof out->account)) bad = "account";
    else if (!get_str(j, "symbol", out->symbol, sizeof out->symbol)) bad = "symbol";
    else if (!get_side(j, "side", &out->side)) bad = "side";
    else if (!get_int(j, "qty", &out->qty)) bad = "qty";
    else if (!broker_order_type_parse(json_string_value(json_object_get(j, "order_type")), &out->type))
        bad = "order_type";
    else if (!get_int(j, "price", &out->price)) bad = "price";
    else if (!broker_tif_parse(json_string_value(json_object_get(j, "time_in_force")), &out->tif))
        bad = "time_in_force";
    else if (!broker_open_close_parse(json_string_value(json_object_get(j, "open_close")), &out->open_close))
        bad = "open_close";
    else if (!get_bool(j, "day_trade", &out->day_trade)) bad = "day_trade";
    else if (!get_str(j, "note", out->note, sizeof out->note)) bad = "note";
    if (bad) snprintf(err, errlen, "the order's '%s' is missing or invalid", bad);
    return bad == NULL;
}

json_t *bj_from_send_result(const broker_send_result *r) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "is_send_order", json_boolean(r->is_send_order));
    json_object_set_new(o, "duplicate", json_boolean(r->duplicate));
    set_str(o, "client_order_id", r->client_order_id);
    set_str(o, "order_serial", r->order_serial);
    set_str(o, "error_code", r->error_code);
    set_str(o, "error_message", r->error_message);
    set_str(o, "note", r->note);
    set_str(o, "status", broker_status_name(r->status));
    return o;
}

bool bj_to_send_result(const json_t *j, broker_send_result *out) {
    memset(out, 0, sizeof *out);
    return json_is_object(j) && get_bool(j, "is_send_order", &out->is_send_order) &&
           get_bool(j, "duplicate", &out->duplicate) &&
           get_str(j, "client_order_id", out->client_order_id, sizeof out->client_order_id) &&
           get_str(j, "order_serial", out->order_serial, sizeof out->order_serial) &&
           get_str(j, "error_code", out->error_code, sizeof out->error_code) &&
           get_str(j, "error_message", out->error_message, sizeof out->error_message) &&
           get_str(j, "note", out->note, sizeof out->note) && get_status(j, "status", &out->status);
}

/* ---- positions, products, accounts, ticks ---- */

json_t *bj_from_position(const broker_position *p) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "account", p->account);
    set_str(o, "symbol", p->symbol);
    set_int(o, "net_qty", p->net_qty);
    set_int(o, "current_long", p->current_long);
    set_int(o, "current_short", p->current_short);
    set_int(o, "today_filled_long", p->today_filled_long);
    set_int(o, "today_filled_short", p->today_filled_short);
    set_int(o, "today_order_long", p->today_order_long);
    set_int(o, "today_order_short", p->today_order_short);
    set_int(o, "today_closed", p->today_closed);
    json_object_set_new(o, "avg_cost", json_real(p->avg_cost));
    set_int(o, "realized_pl", p->realized_pl);
    set_int(o, "unrealized_pl", p->unrealized_pl);
    set_int(o, "reference_price", p->reference_price);
    return o;
}

bool bj_to_position(const json_t *j, broker_position *out) {
    memset(out, 0, sizeof *out);
    const json_t *avg = json_object_get(j, "avg_cost");
    if (!json_is_number(avg)) return false;
    out->avg_cost = json_number_value(avg);
    return json_is_object(j) && get_str(j, "account", out->account, sizeof out->account) &&
           get_str(j, "symbol", out->symbol, sizeof out->symbol) && get_int(j, "net_qty", &out->net_qty) &&
           get_int(j, "current_long", &out->current_long) && get_int(j, "current_short", &out->current_short) &&
           get_int(j, "today_filled_long", &out->today_filled_long) &&
           get_int(j, "today_filled_short", &out->today_filled_short) &&
           get_int(j, "today_order_long", &out->today_order_long) &&
           get_int(j, "today_order_short", &out->today_order_short) &&
           get_int(j, "today_closed", &out->today_closed) && get_int(j, "realized_pl", &out->realized_pl) &&
           get_int(j, "unrealized_pl", &out->unrealized_pl) && get_int(j, "reference_price", &out->reference_price);
}

json_t *bj_from_product(const broker_product *p) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "code", p->code);
    set_str(o, "name", p->name);
    set_str(o, "delivery_month", p->delivery_month);
    set_str(o, "market", p->market);
    set_int(o, "reference_price", p->reference_price);
    set_int(o, "max_price", p->max_price);
    set_int(o, "min_price", p->min_price);
    return o;
}

bool bj_to_product(const json_t *j, broker_product *out) {
    memset(out, 0, sizeof *out);
    return json_is_object(j) && get_str(j, "code", out->code, sizeof out->code) &&
           get_str(j, "name", out->name, sizeof out->name) &&
           get_str(j, "delivery_month", out->delivery_month, sizeof out->delivery_month) &&
           get_str(j, "market", out->market, sizeof out->market) &&
           get_int(j, "reference_price", &out->reference_price) && get_int(j, "max_price", &out->max_price) &&
           get_int(j, "min_price", &out->min_price);
}

json_t *bj_from_account(const broker_account *a) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "account", a->account);
    set_str(o, "name", a->name);
    return o;
}

bool bj_to_account(const json_t *j, broker_account *out) {
    memset(out, 0, sizeof *out);
    return json_is_object(j) && get_str(j, "account", out->account, sizeof out->account) &&
           get_str(j, "name", out->name, sizeof out->name);
}

json_t *bj_from_tick(const broker_tick *t) {
    json_t *o = json_object();
    if (!o) return NULL;
    set_str(o, "symbol", t->symbol);
    set_int(o, "price", t->price);
    set_int(o, "volume", t->volume);
    set_int(o, "ts_us", t->ts_us);
    return o;
}

bool bj_to_tick(const json_t *j, broker_tick *out) {
    memset(out, 0, sizeof *out);
    return json_is_object(j) && get_str(j, "symbol", out->symbol, sizeof out->symbol) &&
           get_int(j, "price", &out->price) && get_int(j, "volume", &out->volume) && get_int(j, "ts_us", &out->ts_us);
}
