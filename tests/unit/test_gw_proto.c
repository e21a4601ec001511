/* The gateway protocol: every message round-trips through its JSON text, the original's
 * refusals come back word for word, and the client order id scheme reads back what it makes
 * and refuses every id that is not aftm's. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/gw_proto.h"

/* through text, as on the wire */
static json_t *wire(json_t *j) {
    assert_non_null(j);
    char *text = gw_dumps(j);
    json_decref(j);
    assert_non_null(text);
    json_error_t e;
    json_t *back = json_loads(text, 0, &e);
    free(text);
    assert_non_null(back);
    return back;
}

static void test_send_order(void **state) {
    (void)state;
    broker_order_req req;
    memset(&req, 0, sizeof req); /* padding too: compared as bytes below */
    req.side = SIDE_SELL, req.qty = 3, req.type = BROKER_LIMIT, req.price = 22150, req.tif = BROKER_ROD;
    req.open_close = BROKER_AUTO, req.day_trade = true;
    snprintf(req.client_order_id, sizeof req.client_order_id, "aftm-7.E");
    snprintf(req.account, sizeof req.account, "SIM-0001");
    snprintf(req.symbol, sizeof req.symbol, "TXFF5");
    snprintf(req.note, sizeof req.note, "n");
    json_t *params = wire(gw_send_order_params(&req));
    broker_order_req back;
    bool ext;
    json_t *refusal;
    assert_true(gw_send_order_parse(params, &back, &ext, &refusal));
    assert_true(ext);
    assert_memory_equal(&back, &req, sizeof req);
    /* without a client order id: the original's request, not extended */
    json_object_del(params, "client_order_id");
    assert_true(gw_send_order_parse(params, &back, &ext, &refusal));
    assert_false(ext);
    /* the original's refusals */
    json_object_set_new(params, "side", json_string("hold"));
    assert_false(gw_send_order_parse(params, &back, &ext, &refusal));
    assert_string_equal(gw_reply_code(refusal), "ORDER_EXECUTION_ERROR");
    assert_string_equal(gw_reply_message(refusal), "'hold' is not a valid OrderOperation");
    json_decref(refusal);
    json_object_del(params, "price");
    json_object_del(params, "note");
    assert_false(gw_send_order_parse(params, &back, &ext, &refusal));
    assert_string_equal(gw_reply_code(refusal), "INVALID_ORDER");
    assert_string_equal(gw_reply_message(refusal), "Missing required fields: price, note");
    json_decref(refusal);
    json_decref(params);
    /* a bad client order id is refused, not truncated */
    params = gw_send_order_params(&req);
    json_object_set_new(params, "client_order_id", json_string("has space"));
    assert_false(gw_send_order_parse(params, &back, &ext, &refusal));
    assert_string_equal(gw_reply_code(refusal), "INVALID_ORDER");
    json_decref(refusal);
    json_decref(params);
}

static void test_send_result(void **state) {
    (void)state;
    broker_send_result r;
    memset(&r, 0, sizeof r);
    r.is_send_order = true, r.status = BROKER_ST_ACCEPTED, r.duplicate = true;
    snprintf(r.client_order_id, sizeof r.client_order_id, "aftm-7.E");
    snprintf(r.order_serial, sizeof r.order_serial, "SIM-0000000A");
    snprintf(r.note, sizeof r.note, "n");
    json_t *reply = wire(gw_ok(gw_send_result_json(&r, true)));
    assert_true(gw_reply_ok(reply));
    broker_send_result back;
    assert_true(gw_send_result_parse(gw_reply_data(reply), &back));
    assert_memory_equal(&back, &r, sizeof r);
    json_decref(reply);
    json_t *bad = json_pack("{s:b}", "is_send_order", 1);
    assert_false(gw_send_result_parse(bad, &back));
    json_decref(bad);
}

static void test_order_status(void **state) {
    (void)state;
    broker_order_info o;
    memset(&o, 0, sizeof o);
    o.side = SIDE_BUY, o.qty = 4, o.type = BROKER_LIMIT, o.price = 18100, o.tif = BROKER_ROD;
    o.status = BROKER_ST_PARTIALLY_FILLED, o.filled_qty = 3, o.filled_notional = 66451;
    snprintf(o.client_order_id, sizeof o.client_order_id, "aftm-m12_3.X");
    snprintf(o.order_serial, sizeof o.order_serial, "SIM-0000000B");
    snprintf(o.account, sizeof o.account, "SIM-0002");
    snprintf(o.symbol, sizeof o.symbol, "MXFG5");
    json_t *d = wire(gw_order_status_json(&o));
    broker_order_info back;
    assert_true(gw_order_status_parse(d, &back));
    assert_memory_equal(&back, &o, sizeof o); /* the notional back from a fractional average */
    json_object_set_new(d, "found", json_false());
    assert_false(gw_order_status_parse(d, &back));
    json_decref(d);
    json_t *c = wire(gw_cancel_json("x-1"));
    assert_true(json_is_true(json_object_get(c, "cancelled")));
    json_decref(c);
}

/* filled in place: a struct returned by value need not keep its padding zeroed */
static void sample_report(broker_report *out) {
    broker_report r;
    memset(&r, 0, sizeof r);
    r.seq = 42;
    snprintf(r.client_order_id, sizeof r.client_order_id, "aftm-7.E");
    snprintf(r.order_serial, sizeof r.order_serial, "SIM-0000000A");
    snprintf(r.account, sizeof r.account, "SIM-0001");
    snprintf(r.symbol, sizeof r.symbol, "TXFF5");
    r.side = SIDE_SELL;
    r.qty = 3;
    r.status = BROKER_ST_PARTIALLY_FILLED;
    snprintf(r.fill_id, sizeof r.fill_id, "SIM-F00000002");
    r.fill_qty = 2;
    r.fill_price = 22151;
    r.filled_qty = 2;
    r.filled_notional = 44301;
    r.ts_us = 1750152615123456LL;
    memcpy(out, &r, sizeof r);
}

static void test_reports(void **state) {
    (void)state;
    broker_report r, back;
    sample_report(&r);
    json_t *j = wire(gw_report_json(r.seq, &r));
    assert_true(gw_report_parse(j, &back));
    assert_memory_equal(&back, &r, sizeof r);
    json_decref(j);
    /* an acceptance: nothing filled, null prices, no fill id */
    broker_report acc;
    sample_report(&acc);
    acc.status = BROKER_ST_ACCEPTED;
    acc.fill_qty = acc.filled_qty = acc.filled_notional = acc.fill_price = 0;
    memset(acc.fill_id, 0, sizeof acc.fill_id);
    j = wire(gw_report_json(acc.seq, &acc));
    assert_true(json_is_null(json_object_get(j, "avg_fill_price")));
    assert_true(gw_report_parse(j, &back));
    assert_memory_equal(&back, &acc, sizeof acc);
    /* a garbled report is refused whole */
    json_object_set_new(j, "status", json_string("lost"));
    assert_false(gw_report_parse(j, &back));
    json_decref(j);
    /* a page of them */
    json_t *list = json_array();
    json_array_append_new(list, gw_report_json(r.seq, &r));
    gw_report_page page, pb;
    memset(&page, 0, sizeof page); /* padding too: compared as bytes below */
    page.first_seq = 40;
    page.last_seq = 42;
    page.more = true;
    page.epoch = 77;
    json_t *d = wire(gw_reports_json(list, &page));
    const json_t *got = gw_reports_parse(d, &pb);
    assert_non_null(got);
    assert_memory_equal(&pb, &page, sizeof page);
    assert_int_equal(json_array_size(got), 1);
    assert_true(gw_report_parse(json_array_get(got, 0), &back));
    assert_int_equal(back.seq, 42);
    json_object_del(d, "epoch");
    assert_null(gw_reports_parse(d, &pb));
    json_decref(d);
}

static void test_positions(void **state) {
    (void)state;
    broker_position p;
    memset(&p, 0, sizeof p);
    p.net_qty = -2, p.current_short = 2, p.today_filled_short = 3, p.today_filled_long = 1, p.today_order_short = 3;
    p.today_order_long = 1, p.today_closed = 1, p.avg_cost = 22150.5, p.realized_pl = -7, p.unrealized_pl = 12;
    p.reference_price = 22144;
    snprintf(p.account, sizeof p.account, "SIM-0001");
    snprintf(p.symbol, sizeof p.symbol, "TXFF5");
    json_t *j = wire(gw_position_json(&p));
    broker_position back;
    assert_true(gw_position_parse(j, &back));
    assert_memory_equal(&back, &p, sizeof p);
    json_object_del(j, "net_qty");
    assert_false(gw_position_parse(j, &back));
    json_decref(j);
    json_t *params = gw_positions_params("SIM-0001");
    assert_string_equal(json_string_value(json_object_get(params, "account")), "SIM-0001");
    json_decref(params);
}

static void test_client_order_ids(void **state) {
    (void)state;
    char sig[64], coid[64];
    gw_coid c;
    assert_true(gw_signal_id_make(sig, sizeof sig, 12, 0, GW_LEG_ENTRY));
    assert_string_equal(sig, "12.E");
    assert_true(gw_coid_from_signal(coid, sizeof coid, "00c0ffee", sig));
    assert_string_equal(coid, "aftm-00c0ffee-12.E");
    assert_true(gw_coid_parse(coid, &c));
    assert_string_equal(c.instance, "00c0ffee");
    assert_int_equal(c.condition_id, 12);
    assert_int_equal(c.pid, 0);
    assert_int_equal(c.leg, GW_LEG_ENTRY);
    assert_false(gw_is_exit(coid));

    assert_true(gw_signal_id_make(sig, sizeof sig, -3, 4711, GW_LEG_EXIT));
    assert_string_equal(sig, "m4711_3.X");
    assert_true(gw_coid_from_signal(coid, sizeof coid, "00c0ffee", sig));
    assert_true(gw_coid_parse(coid, &c));
    assert_int_equal(c.condition_id, -3);
    assert_int_equal(c.pid, 4711);
    assert_int_equal(c.leg, GW_LEG_EXIT);
    assert_true(gw_is_exit(coid));

    assert_true(gw_signal_id_make(sig, sizeof sig, INT64_MAX, 0, GW_LEG_EXIT));
    assert_true(gw_coid_from_signal(coid, sizeof coid, "00c0ffee", sig));
    assert_true(gw_coid_parse(coid, &c));
    assert_true(c.condition_id == INT64_MAX);

    /* what cannot be made */
    assert_false(gw_signal_id_make(sig, sizeof sig, 0, 0, GW_LEG_ENTRY));
    assert_string_equal(sig, "");
    assert_false(gw_signal_id_make(sig, sizeof sig, -1, 0, GW_LEG_ENTRY)); /* a memory condition needs its pid */
    assert_false(gw_signal_id_make(sig, sizeof sig, 5, 0, (gw_leg)'Q'));
    assert_false(gw_signal_id_make(sig, 4, 12345, 0, GW_LEG_ENTRY)); /* does not fit */
    assert_false(gw_coid_from_signal(coid, sizeof coid, "00c0ffee", ""));
    assert_false(gw_coid_from_signal(coid, sizeof coid, "00c0ffee", "with space"));
    char longsig[BROKER_ID_MAX + 1];
    memset(longsig, '7', sizeof longsig - 1);
    longsig[sizeof longsig - 1] = '\0';
    char big[2 * BROKER_ID_MAX];
    assert_false(gw_coid_from_signal(big, sizeof big, "00c0ffee", longsig)); /* longer than an id may be once prefixed */
    /* the original's signals have no leg: prefixed, but not ours to parse */
    assert_true(gw_coid_from_signal(coid, sizeof coid, "00c0ffee", "orig-1750-1"));
    assert_false(gw_coid_parse(coid, &c));

    /* an instance must be letters or digits, at most GW_INSTANCE_MAX */
    assert_false(gw_coid_from_signal(coid, sizeof coid, "", "12.E"));
    assert_false(gw_coid_from_signal(coid, sizeof coid, NULL, "12.E"));
    assert_false(gw_coid_from_signal(coid, sizeof coid, "ab-cd", "12.E"));
    assert_false(gw_coid_from_signal(coid, sizeof coid, "0123456789abcdef0", "12.E"));

    /* what is refused when read */
    static const char *const bad[] = {"", "aftm-", "aftm-i1-12", "aftm-i1-12.", "aftm-i1-12.Q", "aftm-i1-12.E2",
                                      "aftm-i1-12.e", "aftm-i1-0.E", "aftm-i1-012.E", "aftm-i1--12.E",
                                      "aftm-i1-+12.E", "aftm-i1-x.E", "AFTM-i1-12.E", "cli-i1-12.E",
                                      "aftm-i1-12.E ", "aftm-i1-m_3.E", "aftm-i1-m12_.E", "aftm-i1-m12_0.E",
                                      "aftm-i1-m0_3.E", "aftm-i1-m12-3.E", "aftm-i1-99999999999999999999.E",
                                      "aftm-i1-m99999999999_1.E", "x-aftm-i1-12.E",
                                      "aftm-12.E", /* no instance */
                                      "aftm--12.E", "aftm-0123456789abcdef0-12.E", "aftm-i_1-12.E"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        c.condition_id = 99;
        if (gw_coid_parse(bad[i], &c)) fail_msg("'%s' was read as an aftm client order id", bad[i]);
        assert_int_equal(c.condition_id, 0); /* zeroed, not half filled */
    }
    assert_false(gw_coid_parse(NULL, &c));
    assert_true(gw_coid_valid("cli-1750-00ab01"));
    assert_false(gw_coid_valid("tab\there"));
    assert_false(gw_coid_valid(""));
    assert_false(gw_coid_valid(longsig));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_order),   cmocka_unit_test(test_send_result), cmocka_unit_test(test_order_status),
        cmocka_unit_test(test_reports),      cmocka_unit_test(test_positions),
        cmocka_unit_test(test_client_order_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
