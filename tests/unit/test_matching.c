/* Order matching against ticks (domain/matching). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domain/matching.h"

typedef struct {
    match_fill f[16];
    size_t n;
} fills;

static void collect(void *ctx, const match_fill *f) {
    fills *c = ctx;
    assert_true(c->n < 16);
    c->f[c->n++] = *f;
}

static match_order order(int64_t id, const char *sym, side_t side, match_kind kind, int64_t qty, price_t limit) {
    match_order o;
    memset(&o, 0, sizeof o);
    o.order_id = id;
    snprintf(o.symbol, sizeof o.symbol, "%s", sym);
    o.side = side;
    o.kind = kind;
    o.qty = qty;
    o.limit_price = limit;
    return o;
}

static void test_market_fills_at_next_tick_of_its_symbol(void **state) {
    (void)state;
    matcher *m = matcher_new(NULL);
    fills c = {0};
    assert_int_equal(matcher_on_tick(m, "TXFF5", 20000, 1, collect, &c), 0); /* before the order */
    match_order o = order(7, "TXFF5", SIDE_BUY, MATCH_MARKET, 2, 0);
    assert_true(matcher_submit(m, &o));
    assert_int_equal(matcher_resting(m), 1);
    assert_int_equal(matcher_on_tick(m, "MXFF5", 19990, 2, collect, &c), 0); /* another product */
    assert_int_equal(c.n, 0);
    assert_int_equal(matcher_on_tick(m, "TXFF5", 20005, 3, collect, &c), 1);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.f[0].order_id, 7);
    assert_int_equal(c.f[0].qty, 2);
    assert_int_equal(c.f[0].price, 20005);
    assert_int_equal(c.f[0].ts_us, 3);
    assert_int_equal(matcher_resting(m), 0);
    assert_int_equal(matcher_on_tick(m, "TXFF5", 20010, 4, collect, &c), 0); /* filled once */
    matcher_free(m);
}

static void test_slippage_against_the_order(void **state) {
    (void)state;
    match_config cfg = {.slippage_points = 3};
    matcher *m = matcher_new(&cfg);
    fills c = {0};
    match_order b = order(1, "TXFF5", SIDE_BUY, MATCH_MARKET, 1, 0);
    match_order s = order(2, "TXFF5", SIDE_SELL, MATCH_MARKET, 1, 0);
    assert_true(matcher_submit(m, &b));
    assert_true(matcher_submit(m, &s));
    assert_int_equal(matcher_on_tick(m, "TXFF5", 100, 0, collect, &c), 2);
    assert_int_equal(c.f[0].order_id, 1); /* submission order */
    assert_int_equal(c.f[0].price, 103);
    assert_int_equal(c.f[1].order_id, 2);
    assert_int_equal(c.f[1].price, 97);
    /* a sell never fills below one point */
    c.n = 0;
    assert_true(matcher_submit(m, &s));
    matcher_on_tick(m, "TXFF5", 2, 0, collect, &c);
    assert_int_equal(c.f[0].price, 1);
    matcher_free(m);
}

static void test_limit_orders_fill_when_reached(void **state) {
    (void)state;
    matcher *m = matcher_new(NULL);
    fills c = {0};
    match_order b = order(1, "TXFF5", SIDE_BUY, MATCH_LIMIT, 1, 19990);
    match_order s = order(2, "TXFF5", SIDE_SELL, MATCH_LIMIT, 1, 20010);
    assert_true(matcher_submit(m, &b));
    assert_true(matcher_submit(m, &s));
    assert_int_equal(matcher_on_tick(m, "TXFF5", 20000, 0, collect, &c), 0);
    assert_int_equal(matcher_on_tick(m, "TXFF5", 19991, 0, collect, &c), 0);
    assert_int_equal(matcher_on_tick(m, "TXFF5", 19985, 0, collect, &c), 1); /* through the buy limit */
    assert_int_equal(c.f[0].order_id, 1);
    assert_int_equal(c.f[0].price, 19985); /* the tick's price, at or better than the limit */
    assert_int_equal(matcher_on_tick(m, "TXFF5", 20010, 0, collect, &c), 1); /* exactly at the sell limit */
    assert_int_equal(c.f[1].order_id, 2);
    assert_int_equal(c.f[1].price, 20010);
    assert_int_equal(matcher_resting(m), 0);
    matcher_free(m);
}

static void test_cancel_and_order_kept(void **state) {
    (void)state;
    matcher *m = matcher_new(NULL);
    fills c = {0};
    for (int i = 1; i <= 5; i++) {
        match_order o = order(i, i == 3 ? "MXFF5" : "TXFF5", SIDE_BUY, MATCH_MARKET, i, 0);
        assert_true(matcher_submit(m, &o));
    }
    assert_true(matcher_cancel(m, 2));
    assert_false(matcher_cancel(m, 2));
    assert_false(matcher_cancel(m, 99));
    assert_int_equal(matcher_resting(m), 4);
    assert_int_equal(matcher_on_tick(m, "TXFF5", 500, 0, collect, &c), 3);
    assert_int_equal(c.f[0].order_id, 1);
    assert_int_equal(c.f[1].order_id, 4);
    assert_int_equal(c.f[2].order_id, 5);
    assert_int_equal(matcher_resting(m), 1); /* the MXF one */
    assert_int_equal(matcher_on_tick(m, "MXFF5", 400, 0, collect, &c), 1);
    assert_int_equal(c.f[3].order_id, 3);
    matcher_free(m);
}

static void test_invalid_orders_and_ticks(void **state) {
    (void)state;
    matcher *m = matcher_new(NULL);
    fills c = {0};
    match_order o = order(1, "TXFF5", SIDE_BUY, MATCH_MARKET, 0, 0);
    assert_false(matcher_submit(m, &o)); /* qty 0 */
    o = order(1, "", SIDE_BUY, MATCH_MARKET, 1, 0);
    assert_false(matcher_submit(m, &o)); /* no symbol */
    o = order(1, "TXFF5", SIDE_BUY, MATCH_LIMIT, 1, 0);
    assert_false(matcher_submit(m, &o)); /* limit without a price */
    o = order(1, "TXFF5", SIDE_BUY, MATCH_MARKET, 1, 0);
    assert_true(matcher_submit(m, &o));
    assert_int_equal(matcher_on_tick(m, "TXFF5", 0, 0, collect, &c), 0);  /* bad price: no fill */
    assert_int_equal(matcher_on_tick(m, "TXFF5", -5, 0, collect, &c), 0);
    assert_int_equal(matcher_resting(m), 1);
    matcher_free(m);
    matcher_free(NULL);
}

static void test_many_orders(void **state) {
    (void)state;
    matcher *m = matcher_new(NULL);
    for (int i = 0; i < 1000; i++) {
        match_order o = order(i, "TXFF5", i % 2 ? SIDE_SELL : SIDE_BUY, MATCH_LIMIT, 1, i % 2 ? 20100 : 19900);
        assert_true(matcher_submit(m, &o));
    }
    assert_int_equal(matcher_on_tick(m, "TXFF5", 20000, 0, NULL, NULL), 0);
    assert_int_equal(matcher_on_tick(m, "TXFF5", 19900, 0, NULL, NULL), 500);
    assert_int_equal(matcher_resting(m), 500);
    matcher_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_market_fills_at_next_tick_of_its_symbol),
        cmocka_unit_test(test_slippage_against_the_order),
        cmocka_unit_test(test_limit_orders_fill_when_reached),
        cmocka_unit_test(test_cancel_and_order_kept),
        cmocka_unit_test(test_invalid_orders_and_ticks),
        cmocka_unit_test(test_many_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
