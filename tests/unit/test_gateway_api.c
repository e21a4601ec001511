/* The gateway's order-port protocol and report bookkeeping, without sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "broker/sim_broker.h"
#include "app/gateway/gateway.h"
#include "mpjson.h"
#include "net/gw_pack.h"
#include "wire/mpmap.h"

typedef struct {
    broker b;
    gateway_core *g;
    char last_report[2048];
    int reports, ticks;
} fx;

/* Reports are published in msgpack: kept as the equivalent JSON text. */
static void pub_report(void *ctx, const char *body, size_t len) {
    fx *f = ctx;
    json_t *j = tk_msgpack_json(body, len);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_true(strlen(text) < sizeof f->last_report);
    snprintf(f->last_report, sizeof f->last_report, "%s", text);
    free(text);
    f->reports++;
}

static void pub_tick(void *ctx, const broker_tick *t) {
    (void)t;
    ((fx *)ctx)->ticks++;
}

static int setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    assert_true(sim_broker_new(NULL, &f->b));
    gateway_sinks s = {.ctx = f, .publish_tick = pub_tick, .publish_report = pub_report};
    f->g = gateway_core_new(&f->b, &s, 4);
    char err[160];
    assert_true(broker_login(&f->b, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD, err, sizeof err));
    assert_true(broker_subscribe(&f->b, "TXFF5", err, sizeof err));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    gateway_core_free(f->g);
    broker_destroy(&f->b);
    free(f);
    return 0;
}

/* Sends text, returns the reply (static buffer). */
static const char *call(fx *f, const char *text) {
    static char out[65536];
    size_t len = 0;
    char *r = gateway_core_handle(f->g, text, strlen(text), &len);
    assert_non_null(r);
    assert_int_equal(strlen(r), len);
    assert_true(len < sizeof out);
    memcpy(out, r, len + 1);
    free(r);
    return out;
}

static json_t *call_json(fx *f, const char *text) {
    json_t *j = json_loads(call(f, text), 0, NULL);
    assert_non_null(j);
    return j;
}

static void tick(fx *f, price_t p) {
    broker_tick t = {.symbol = "TXFF5", .price = p, .volume = 1, .ts_us = 1};
    assert_true(sim_broker_market_tick(&f->b, &t));
}

#define ORDER(extra)                                                                                                  \
    "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0001\", \"item_code\": \"TXFF5\", "   \
    "\"side\": \"buy\", \"order_type\": \"Market\", \"price\": 0.0, \"quantity\": 1, \"open_close\": \"AUTO\", "      \
    "\"note\": \"From AFTM Gateway\", \"day_trade\": \"N\", \"time_in_force\": \"IOC\"" extra "}}"

static void test_errors_exact(void **state) {
    fx *f = *state;
    assert_string_equal(call(f, "not json"),
                        "{\"success\": false, \"error_message\": \"Invalid JSON format\", \"error_code\": \"INVALID_JSON\"}");
    assert_string_equal(call(f, "{\"operation\": \"fly\"}"),
                        "{\"success\": false, \"error_message\": \"Unknown operation: fly\", \"error_code\": "
                        "\"UNKNOWN_OPERATION\"}");
    assert_string_equal(call(f, "{}"), "{\"success\": false, \"error_message\": \"Unknown operation: None\", "
                                       "\"error_code\": \"UNKNOWN_OPERATION\"}");
    assert_string_equal(call(f, "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0001\", "
                                "\"item_code\": \"TXFF5\", \"side\": \"buy\", \"price\": 0, \"open_close\": \"AUTO\", "
                                "\"note\": \"\", \"day_trade\": \"N\", \"time_in_force\": \"IOC\"}}"),
                        "{\"success\": false, \"error_message\": \"Missing required fields: order_type, quantity\", "
                        "\"error_code\": \"INVALID_ORDER\"}");
    assert_string_equal(call(f, "{\"operation\": \"get_positions\", \"parameters\": {}}"),
                        "{\"success\": false, \"error_message\": \"Account parameter is required\", \"error_code\": "
                        "\"MISSING_ACCOUNT\"}");
    json_t *j = call_json(f, "{\"operation\": \"send_order\"}");
    assert_string_equal(json_string_value(json_object_get(j, "error_message")),
                        "Missing required fields: order_account, item_code, side, order_type, price, quantity, "
                        "open_close, note, day_trade, time_in_force");
    json_decref(j);
    j = call_json(f, "[1, 2]");
    assert_false(json_is_true(json_object_get(j, "success")));
    json_decref(j);
    j = call_json(f, "\xff\xfe\x00garbage");
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "INVALID_JSON");
    json_decref(j);
    /* a bad enum is an execution error, as in the original */
    const char *bad = "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0001\", \"item_code\": "
                      "\"TXFF5\", \"side\": \"up\", \"order_type\": \"Market\", \"price\": 0.0, \"quantity\": 1, "
                      "\"open_close\": \"AUTO\", \"note\": \"\", \"day_trade\": \"N\", \"time_in_force\": \"IOC\"}}";
    j = call_json(f, bad);
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "ORDER_EXECUTION_ERROR");
    assert_string_equal(json_string_value(json_object_get(j, "error_message")), "'up' is not a valid OrderOperation");
    json_decref(j);
    assert_int_equal(gateway_core_orders(f->g), 0);
}

static void test_health(void **state) {
    fx *f = *state;
    json_t *j = call_json(f, "{\"operation\": \"health_check\"}");
    json_t *d = json_object_get(j, "data");
    assert_string_equal(json_string_value(json_object_get(d, "status")), "healthy");
    assert_true(json_is_true(json_object_get(d, "exchange_connected")));
    assert_true(json_is_integer(json_object_get(d, "timestamp")));
    assert_true(json_is_true(json_object_get(d, "server_running")));
    assert_int_equal(json_object_size(d), 4);
    json_decref(j);
    broker_logout(&f->b);
    j = call_json(f, "{\"operation\": \"health_check\"}");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "data"), "status")), "unhealthy");
    json_decref(j);
}

static void test_original_order_shape(void **state) {
    fx *f = *state;
    const char *r = call(f, ORDER(""));
    /* the original's five keys exactly, Python separators */
    assert_string_equal(r, "{\"success\": true, \"data\": {\"is_send_order\": true, \"note\": \"From AFTM Gateway\", "
                           "\"order_serial\": \"SIM-00000001\", \"error_code\": \"0\", \"error_message\": \"\"}}");
    assert_int_equal(f->reports, 1);
    tick(f, 20050);
    assert_int_equal(f->reports, 2);
    json_t *rep = json_loads(f->last_report, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(rep, "seq")), 2);
    assert_string_equal(json_string_value(json_object_get(rep, "status")), "filled");
    assert_int_equal(json_integer_value(json_object_get(rep, "fill_price")), 20050);
    assert_true(json_is_null(json_object_get(rep, "client_order_id")));
    json_decref(rep);
    assert_int_equal(f->ticks, 1);
}

static void test_idempotency_and_extensions(void **state) {
    fx *f = *state;
    json_t *a = call_json(f, ORDER(", \"client_order_id\": \"sig-1\""));
    json_t *da = json_object_get(a, "data");
    assert_true(json_is_false(json_object_get(da, "duplicate")));
    assert_string_equal(json_string_value(json_object_get(da, "status")), "accepted");
    json_t *b = call_json(f, ORDER(", \"client_order_id\": \"sig-1\""));
    json_t *db = json_object_get(b, "data");
    assert_true(json_is_true(json_object_get(db, "duplicate")));
    assert_string_equal(json_string_value(json_object_get(da, "order_serial")),
                        json_string_value(json_object_get(db, "order_serial")));
    json_decref(a);
    json_decref(b);
    assert_int_equal(f->reports, 1);

    json_t *s = call_json(f, "{\"operation\": \"order_status\", \"parameters\": {\"client_order_id\": \"sig-1\"}}");
    assert_true(json_is_true(json_object_get(json_object_get(s, "data"), "found")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(s, "data"), "status")), "accepted");
    json_decref(s);
    tick(f, 20001);
    s = call_json(f, "{\"operation\": \"order_status\", \"parameters\": {\"client_order_id\": \"sig-1\"}}");
    json_t *d = json_object_get(s, "data");
    assert_string_equal(json_string_value(json_object_get(d, "status")), "filled");
    assert_int_equal(json_integer_value(json_object_get(d, "filled_qty")), 1);
    assert_true(json_real_value(json_object_get(d, "avg_fill_price")) == 20001.0);
    json_decref(s);
    s = call_json(f, "{\"operation\": \"order_status\", \"parameters\": {\"client_order_id\": \"nope\"}}");
    assert_true(json_is_false(json_object_get(json_object_get(s, "data"), "found")));
    json_decref(s);

    /* reports: since 0 -> both; the ring keeps 4 */
    s = call_json(f, "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 0}}");
    d = json_object_get(s, "data");
    assert_int_equal(json_array_size(json_object_get(d, "reports")), 2);
    assert_int_equal(json_integer_value(json_object_get(d, "last_seq")), 2);
    json_decref(s);
    for (int i = 0; i < 3; i++) {
        char req[1024];
        snprintf(req, sizeof req, ORDER(", \"client_order_id\": \"more-%d\""), i);
        json_decref(call_json(f, req));
    }
    s = call_json(f, "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 1}}");
    d = json_object_get(s, "data");
    assert_int_equal(json_integer_value(json_object_get(d, "first_seq")), 2);
    assert_int_equal(json_integer_value(json_object_get(d, "last_seq")), 5);
    assert_int_equal(json_array_size(json_object_get(d, "reports")), 4);
    assert_true(json_is_false(json_object_get(d, "truncated")));
    json_decref(s);
    tick(f, 20002); /* 3 fills: seqs 6..8, ring now 5..8 */
    s = call_json(f, "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 2}}");
    d = json_object_get(s, "data");
    assert_true(json_is_true(json_object_get(d, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(d, "reports"), 0), "seq")), 5);
    json_decref(s);
    s = call_json(f, "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": \"x\"}}");
    assert_false(json_is_true(json_object_get(s, "success")));
    json_decref(s);

    s = call_json(f, "{\"operation\": \"get_positions\", \"parameters\": {\"account\": \"SIM-0001\"}}");
    json_t *pos = json_array_get(json_object_get(json_object_get(s, "data"), "positions"), 0);
    assert_int_equal(json_integer_value(json_object_get(pos, "current_long")), 4);
    assert_string_equal(json_string_value(json_object_get(pos, "product_id")), "TXFF5");
    json_decref(s);
    s = call_json(f, "{\"operation\": \"list_accounts\"}");
    assert_int_equal(json_array_size(json_object_get(json_object_get(s, "data"), "accounts")), 2);
    json_decref(s);
    s = call_json(f, "{\"operation\": \"list_products\"}");
    assert_true(json_array_size(json_object_get(json_object_get(s, "data"), "products")) >= 4);
    json_decref(s);
}

static void test_cancel_limit(void **state) {
    fx *f = *state;
    const char *lim = "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0002\", \"item_code\": "
                      "\"txff5\", \"side\": \"sell\", \"order_type\": \"Limit\", \"price\": 20500, \"quantity\": 2, "
                      "\"open_close\": \"Y\", \"note\": \"n\", \"day_trade\": \"N\", \"time_in_force\": \"ROD\", "
                      "\"client_order_id\": \"lim-1\"}}";
    json_t *j = call_json(f, lim);
    assert_true(json_is_true(json_object_get(json_object_get(j, "data"), "is_send_order")));
    json_decref(j);
    j = call_json(f, "{\"operation\": \"cancel_order\", \"parameters\": {\"client_order_id\": \"lim-1\"}}");
    assert_true(json_is_true(json_object_get(j, "success")));
    json_decref(j);
    j = call_json(f, "{\"operation\": \"cancel_order\", \"parameters\": {\"client_order_id\": \"lim-1\"}}");
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "CANCEL_REJECTED");
    json_decref(j);
    /* fractional limit price and fractional quantity are refused */
    j = call_json(f, "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0002\", \"item_code\": "
                     "\"TXFF5\", \"side\": \"sell\", \"order_type\": \"Limit\", \"price\": 20500.5, \"quantity\": 2, "
                     "\"open_close\": \"Y\", \"note\": \"n\", \"day_trade\": \"N\", \"time_in_force\": \"ROD\"}}");
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "ORDER_EXECUTION_ERROR");
    json_decref(j);
    j = call_json(f, "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0002\", \"item_code\": "
                     "\"TXFF5\", \"side\": \"sell\", \"order_type\": \"Market\", \"price\": 0, \"quantity\": 1.5, "
                     "\"open_close\": \"Y\", \"note\": \"n\", \"day_trade\": \"N\", \"time_in_force\": \"ROD\"}}");
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "ORDER_EXECUTION_ERROR");
    json_decref(j);
    /* refused by the exchange: success true, is_send_order false (as the original) */
    j = call_json(f, "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0009\", \"item_code\": "
                     "\"TXFF5\", \"side\": \"sell\", \"order_type\": \"Market\", \"price\": 0, \"quantity\": 1, "
                     "\"open_close\": \"Y\", \"note\": \"n\", \"day_trade\": \"N\", \"time_in_force\": \"ROD\"}}");
    assert_true(json_is_true(json_object_get(j, "success")));
    assert_true(json_is_false(json_object_get(json_object_get(j, "data"), "is_send_order")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "data"), "error_code")),
                        "UNKNOWN_ACCOUNT");
    json_decref(j);
}

/* A send_order in msgpack through the core; its answer as JSON (NULL when unanswered). */
static json_t *call_packed(fx *f, const broker_order_req *req) {
    gw_packer p;
    gw_packer_init(&p);
    assert_true(gw_pack_send_order(&p, req));
    mp_reader r;
    mp_reader_init(&r);
    msgpack_object root;
    assert_true(mp_read(&r, gw_packed(&p), gw_packed_len(&p), &root));
    size_t len = 0;
    char *out = gateway_core_handle_packed(f->g, &root, &len);
    json_t *j = out ? tk_msgpack_json(out, len) : NULL;
    if (out) assert_non_null(j);
    free(out);
    mp_reader_destroy(&r);
    gw_packer_destroy(&p);
    return j;
}

static void test_packed_orders(void **state) {
    fx *f = *state;
    broker_order_req req = {.side = SIDE_BUY, .qty = 2, .type = BROKER_MARKET, .tif = BROKER_IOC,
                            .open_close = BROKER_AUTO};
    snprintf(req.client_order_id, sizeof req.client_order_id, "mp-1");
    snprintf(req.account, sizeof req.account, "SIM-0001");
    snprintf(req.symbol, sizeof req.symbol, "txff5");
    json_t *a = call_packed(f, &req);
    json_t *d = json_object_get(a, "data");
    assert_true(json_is_true(json_object_get(a, "success")));
    assert_true(json_is_true(json_object_get(d, "is_send_order")));
    assert_string_equal(json_string_value(json_object_get(d, "client_order_id")), "mp-1");
    assert_string_equal(json_string_value(json_object_get(d, "order_serial")), "SIM-00000001");
    assert_true(json_is_false(json_object_get(d, "duplicate")));
    json_decref(a);
    assert_int_equal(gateway_core_orders(f->g), 1);
    /* the same id again: the existing order, not a second one; the JSON port agrees */
    a = call_packed(f, &req);
    assert_true(json_is_true(json_object_get(json_object_get(a, "data"), "duplicate")));
    json_decref(a);
    json_t *j = call_json(f, ORDER(", \"client_order_id\": \"mp-1\""));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "data"), "order_serial")), "SIM-00000001");
    json_decref(j);
    tick(f, 20100);
    json_t *rep = json_loads(f->last_report, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(rep, "client_order_id")), "mp-1");
    assert_string_equal(json_string_value(json_object_get(rep, "status")), "filled");
    assert_int_equal(json_integer_value(json_object_get(rep, "fill_price")), 20100);
    json_decref(rep);
    /* refused by the broker: said in msgpack */
    snprintf(req.client_order_id, sizeof req.client_order_id, "mp-2");
    snprintf(req.account, sizeof req.account, "SIM-0009");
    a = call_packed(f, &req);
    assert_true(json_is_false(json_object_get(json_object_get(a, "data"), "is_send_order")));
    json_decref(a);
    /* not an order the core reads: an error, in msgpack */
    gw_packer p;
    gw_packer_init(&p);
    assert_true(gw_pack_error(&p, "X", "not a request"));
    mp_reader r;
    mp_reader_init(&r);
    msgpack_object root;
    assert_true(mp_read(&r, gw_packed(&p), gw_packed_len(&p), &root));
    size_t len;
    char *out = gateway_core_handle_packed(f->g, &root, &len);
    json_t *e = tk_msgpack_json(out, len);
    assert_string_equal(json_string_value(json_object_get(e, "error_code")), "UNKNOWN_OPERATION");
    assert_true(json_is_false(json_object_get(e, "success")));
    json_decref(e);
    free(out);
    mp_reader_destroy(&r);
    gw_packer_destroy(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_errors_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_original_order_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_and_extensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packed_orders, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
