/* The exchange's wire: every broker struct round-trips through JSON exactly, and a garbled or
 * incomplete object is refused whole. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker_json.h"

/* through text, as on the wire */
static json_t *wire(json_t *j) {
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(text);
    json_error_t e;
    json_t *back = json_loads(text, 0, &e);
    free(text);
    assert_non_null(back);
    return back;
}

static void test_report(void **state) {
    (void)state;
    broker_report r, out;
    memset(&r, 0, sizeof r);
    r.seq = 123456789012ULL;
    snprintf(r.client_order_id, sizeof r.client_order_id, "aftm-7.E");
    snprintf(r.order_serial, sizeof r.order_serial, "SIM-0000000A");
    snprintf(r.account, sizeof r.account, "SIM-0001");
    snprintf(r.symbol, sizeof r.symbol, "TXFF5");
    r.side = SIDE_SELL;
    r.qty = 3;
    r.status = BROKER_ST_PARTIALLY_FILLED;
    snprintf(r.fill_id, sizeof r.fill_id, "SIM-F00000002");
    r.fill_qty = 2;
    r.fill_price = 20013;
    r.filled_qty = 2;
    r.filled_notional = 40026;
    snprintf(r.reason, sizeof r.reason, "caf\xc3\xa9 \"quoted\"");
    r.ts_us = 1750152615123456LL;
    json_t *j = wire(bj_from_report(&r));
    assert_true(bj_to_report(j, &out));
    assert_memory_equal(&r, &out, sizeof r);
    json_object_set_new(j, "status", json_string("teleported"));
    assert_false(bj_to_report(j, &out));
    json_object_set_new(j, "status", json_string("filled"));
    json_object_del(j, "seq");
    assert_false(bj_to_report(j, &out));
    json_decref(j);
    assert_false(bj_to_report(NULL, &out));
}

static void test_orders(void **state) {
    (void)state;
    broker_order_req q, qo;
    memset(&q, 0, sizeof q);
    snprintf(q.client_order_id, sizeof q.client_order_id, "c-1");
    snprintf(q.account, sizeof q.account, "SIM-0002");
    snprintf(q.symbol, sizeof q.symbol, "MXFG5");
    q.side = SIDE_BUY;
    q.qty = 5;
    q.type = BROKER_LIMIT;
    q.price = 19999;
    q.tif = BROKER_FOK;
    q.open_close = BROKER_CLOSE;
    q.day_trade = true;
    snprintf(q.note, sizeof q.note, "n");
    char err[128];
    json_t *j = wire(bj_from_order_req(&q));
    assert_true(bj_to_order_req(j, &qo, err, sizeof err));
    assert_memory_equal(&q, &qo, sizeof q);
    json_object_set_new(j, "qty", json_string("5"));
    assert_false(bj_to_order_req(j, &qo, err, sizeof err));
    assert_non_null(strstr(err, "qty"));
    json_decref(j);

    broker_order_info i, io;
    memset(&i, 0, sizeof i);
    snprintf(i.client_order_id, sizeof i.client_order_id, "c-1");
    snprintf(i.order_serial, sizeof i.order_serial, "SIM-00000001");
    snprintf(i.account, sizeof i.account, "SIM-0002");
    snprintf(i.symbol, sizeof i.symbol, "MXFG5");
    i.side = SIDE_SELL;
    i.qty = 4;
    i.type = BROKER_MARKET_PRICE;
    i.tif = BROKER_IOC;
    i.status = BROKER_ST_EXPIRED;
    i.filled_qty = 1;
    i.filled_notional = 20000;
    snprintf(i.reason, sizeof i.reason, "IOC");
    j = wire(bj_from_order_info(&i));
    assert_true(bj_to_order_info(j, &io));
    assert_memory_equal(&i, &io, sizeof i);
    json_decref(j);

    broker_send_result s, so;
    memset(&s, 0, sizeof s);
    s.is_send_order = true;
    s.duplicate = true;
    snprintf(s.client_order_id, sizeof s.client_order_id, "c-1");
    snprintf(s.order_serial, sizeof s.order_serial, "SIM-00000001");
    snprintf(s.error_code, sizeof s.error_code, "0");
    snprintf(s.note, sizeof s.note, "n");
    s.status = BROKER_ST_FILLED;
    j = wire(bj_from_send_result(&s));
    assert_true(bj_to_send_result(j, &so));
    assert_memory_equal(&s, &so, sizeof s);
    json_decref(j);
}

static void test_reference_and_ticks(void **state) {
    (void)state;
    broker_position p, po;
    memset(&p, 0, sizeof p);
    snprintf(p.account, sizeof p.account, "SIM-0001");
    snprintf(p.symbol, sizeof p.symbol, "TXFF5");
    p.net_qty = -2;
    p.current_short = 2;
    p.today_filled_short = 3;
    p.today_filled_long = 1;
    p.today_order_long = 1;
    p.today_order_short = 3;
    p.today_closed = 1;
    p.avg_cost = 20001.5;
    p.realized_pl = -7;
    p.unrealized_pl = 11;
    p.reference_price = 19996;
    json_t *j = wire(bj_from_position(&p));
    assert_true(bj_to_position(j, &po));
    assert_memory_equal(&p, &po, sizeof p);
    json_decref(j);

    broker_product pr, pro;
    memset(&pr, 0, sizeof pr);
    snprintf(pr.code, sizeof pr.code, "TXFF5");
    snprintf(pr.name, sizeof pr.name, "TAIEX Futures 2025/06");
    snprintf(pr.delivery_month, sizeof pr.delivery_month, "202506");
    snprintf(pr.market, sizeof pr.market, "TAIFEX");
    pr.reference_price = 20000;
    pr.max_price = 22000;
    pr.min_price = 18000;
    j = wire(bj_from_product(&pr));
    assert_true(bj_to_product(j, &pro));
    assert_memory_equal(&pr, &pro, sizeof pr);
    json_decref(j);

    broker_account a, ao;
    memset(&a, 0, sizeof a);
    snprintf(a.account, sizeof a.account, "SIM-0001");
    snprintf(a.name, sizeof a.name, "simulated account 1");
    j = wire(bj_from_account(&a));
    assert_true(bj_to_account(j, &ao));
    assert_memory_equal(&a, &ao, sizeof a);
    json_decref(j);

    broker_tick t, to;
    memset(&t, 0, sizeof t);
    snprintf(t.symbol, sizeof t.symbol, "TXFF5");
    t.price = 20123;
    t.volume = 4;
    t.ts_us = 1750152615000001LL;
    j = wire(bj_from_tick(&t));
    assert_true(bj_to_tick(j, &to));
    assert_memory_equal(&t, &to, sizeof t);
    json_decref(j);
    /* an over-long string is cut to the buffer, never overflows it */
    j = json_pack("{s:s,s:I,s:I,s:I}", "symbol", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJ", "price", 1, "volume",
                  1, "ts_us", 1);
    assert_true(bj_to_tick(j, &to));
    assert_int_equal(strlen(to.symbol), BROKER_SYMBOL_MAX - 1);
    json_decref(j);

    broker_status st;
    assert_true(broker_status_parse("partially_filled", &st));
    assert_int_equal(st, BROKER_ST_PARTIALLY_FILLED);
    assert_false(broker_status_parse("FILLED", &st));
    assert_false(broker_status_parse(NULL, &st));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_reference_and_ticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
