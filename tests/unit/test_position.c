/* Positions from fills: open, add, reduce, close, flip; unrealized P&L; contract multipliers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "domain/position.h"

static position flat(void) {
    position p;
    assert_true(position_init(&p, "ACC1", "TXFF5"));
    return p;
}

static void test_init(void **state) {
    (void)state;
    position p = flat();
    assert_string_equal(p.account, "ACC1");
    assert_string_equal(p.symbol, "TXFF5");
    assert_int_equal(p.net_qty, 0);
    assert_int_equal(p.open_cost, 0);
    assert_int_equal(p.realized, 0);
    assert_true(position_avg_price(&p) == 0.0);
    assert_int_equal(position_unrealized(&p, 20000), 0);
    assert_true(position_init(&p, NULL, "MXF"));
    assert_string_equal(p.account, "");
    assert_false(position_init(&p, "A", ""));
    assert_false(position_init(&p, "A", NULL));
    assert_false(position_init(&p, "A", "0123456789012345678901234567890123456789"));
}

static void test_open_and_add_long(void **state) {
    (void)state;
    position p = flat();
    assert_true(position_apply_fill(&p, SIDE_BUY, 2, 20000));
    assert_int_equal(p.net_qty, 2);
    assert_true(position_avg_price(&p) == 20000.0);
    assert_true(position_apply_fill(&p, SIDE_BUY, 1, 20030));
    assert_int_equal(p.net_qty, 3);
    assert_int_equal(p.open_cost, 60030);
    assert_true(position_avg_price(&p) == 20010.0);
    assert_int_equal(p.realized, 0);
    assert_int_equal(position_unrealized(&p, 20050), 3 * 20050 - 60030);
    assert_int_equal(position_unrealized(&p, 19990), 3 * 19990 - 60030);
}

static void test_open_and_add_short(void **state) {
    (void)state;
    position p = flat();
    assert_true(position_apply_fill(&p, SIDE_SELL, 1, 20000));
    assert_true(position_apply_fill(&p, SIDE_SELL, 1, 20020));
    assert_int_equal(p.net_qty, -2);
    assert_true(position_avg_price(&p) == 20010.0);
    /* A short gains when the price falls. */
    assert_int_equal(position_unrealized(&p, 19990), 40);
    assert_int_equal(position_unrealized(&p, 20030), -40);
}

static void test_reduce_and_close_long(void **state) {
    (void)state;
    position p = flat();
    position_apply_fill(&p, SIDE_BUY, 3, 20000);
    assert_true(position_apply_fill(&p, SIDE_SELL, 1, 20090));
    assert_int_equal(p.net_qty, 2);
    assert_int_equal(p.realized, 90);
    assert_true(position_avg_price(&p) == 20000.0);
    assert_true(position_apply_fill(&p, SIDE_SELL, 2, 19970));
    assert_int_equal(p.net_qty, 0);
    assert_int_equal(p.realized, 90 - 60);
    assert_int_equal(p.open_cost, 0);
    assert_int_equal(position_unrealized(&p, 1), 0);
}

static void test_reduce_and_close_short(void **state) {
    (void)state;
    position p = flat();
    position_apply_fill(&p, SIDE_SELL, 2, 20000);
    assert_true(position_apply_fill(&p, SIDE_BUY, 1, 19970));
    assert_int_equal(p.net_qty, -1);
    assert_int_equal(p.realized, 30);
    assert_true(position_apply_fill(&p, SIDE_BUY, 1, 20010));
    assert_int_equal(p.net_qty, 0);
    assert_int_equal(p.realized, 20);
}

static void test_flip_long_to_short(void **state) {
    (void)state;
    position p = flat();
    position_apply_fill(&p, SIDE_BUY, 2, 20000);
    /* Sell 5: closes 2 at +50 each, opens 3 short at 20050. */
    assert_true(position_apply_fill(&p, SIDE_SELL, 5, 20050));
    assert_int_equal(p.net_qty, -3);
    assert_int_equal(p.realized, 100);
    assert_int_equal(p.open_cost, 3 * 20050);
    assert_true(position_avg_price(&p) == 20050.0);
    assert_int_equal(position_unrealized(&p, 20040), 30);
}

static void test_flip_short_to_long(void **state) {
    (void)state;
    position p = flat();
    position_apply_fill(&p, SIDE_SELL, 1, 20000);
    assert_true(position_apply_fill(&p, SIDE_BUY, 3, 20100));
    assert_int_equal(p.net_qty, 2);
    assert_int_equal(p.realized, -100);
    assert_true(position_avg_price(&p) == 20100.0);
}

static void test_fractional_average_round_trip_is_exact(void **state) {
    (void)state;
    position p = flat();
    /* Average 20000.333...: partial reductions round, the full close settles the rest. */
    position_apply_fill(&p, SIDE_BUY, 1, 20000);
    position_apply_fill(&p, SIDE_BUY, 1, 20000);
    position_apply_fill(&p, SIDE_BUY, 1, 20001);
    position_apply_fill(&p, SIDE_SELL, 1, 20010);
    assert_int_equal(p.realized, 20010 - 20000); /* cost share 60001/3 rounded down */
    position_apply_fill(&p, SIDE_SELL, 1, 20010);
    position_apply_fill(&p, SIDE_SELL, 1, 20010);
    assert_int_equal(p.net_qty, 0);
    assert_int_equal(p.open_cost, 0);
    assert_int_equal(p.realized, 3 * 20010 - 60001);
}

static void test_bad_fills(void **state) {
    (void)state;
    position p = flat();
    position_apply_fill(&p, SIDE_BUY, 1, 20000);
    position before;
    memcpy(&before, &p, sizeof p);
    assert_false(position_apply_fill(&p, SIDE_BUY, 0, 20000));
    assert_false(position_apply_fill(&p, SIDE_SELL, -1, 20000));
    assert_false(position_apply_fill(&p, SIDE_SELL, 1, 0));
    assert_false(position_apply_fill(&p, (side_t)3, 1, 20000));
    assert_memory_equal(&p, &before, sizeof p);
}

/* Random fills: total P&L at any mark equals the sum over fills, and the open cost matches
 * the net quantity's side. */
static void test_property_total_pnl(void **state) {
    (void)state;
    uint64_t x = 88172645463325252ULL;
    for (int seq = 0; seq < 2000; seq++) {
        position p = flat();
        int64_t signed_cost = 0, net = 0;
        int n = 1 + (int)(x % 30);
        for (int i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            side_t side = (x >> 3) & 1 ? SIDE_BUY : SIDE_SELL;
            int64_t qty = 1 + (int64_t)((x >> 8) % 7);
            price_t price = 19000 + (int64_t)((x >> 20) % 2000);
            assert_true(position_apply_fill(&p, side, qty, price));
            int64_t d = side == SIDE_BUY ? 1 : -1;
            net += d * qty;
            signed_cost += d * qty * price;
            assert_int_equal(p.net_qty, net);
            assert_true(p.open_cost >= 0);
            if (p.net_qty == 0) assert_int_equal(p.open_cost, 0);
            for (price_t mark = 18000; mark <= 22000; mark += 1000)
                assert_int_equal(p.realized + position_unrealized(&p, mark), net * mark - signed_cost);
        }
    }
}

static void test_contract_multiplier(void **state) {
    (void)state;
    assert_int_equal(contract_multiplier("TX"), 200);
    assert_int_equal(contract_multiplier("TXF"), 200);
    assert_int_equal(contract_multiplier("TXFF5"), 200);
    assert_int_equal(contract_multiplier("TXFD4"), 200);
    assert_int_equal(contract_multiplier("TX00"), 200);
    assert_int_equal(contract_multiplier("txff5"), 200);
    assert_int_equal(contract_multiplier("MTX"), 50);
    assert_int_equal(contract_multiplier("MXF"), 50);
    assert_int_equal(contract_multiplier("MXFF5"), 50);
    assert_int_equal(contract_multiplier("MTX00"), 50);
    assert_int_equal(contract_multiplier("TXO"), 1);
    assert_int_equal(contract_multiplier("ZEF"), 1);
    assert_int_equal(contract_multiplier(""), 1);
    assert_int_equal(contract_multiplier(NULL), 1);
    /* Points to money: 3 TXF lots up 10 points. */
    position p = flat();
    position_apply_fill(&p, SIDE_BUY, 3, 20000);
    assert_int_equal(position_unrealized(&p, 20010) * contract_multiplier(p.symbol), 6000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_open_and_add_long),
        cmocka_unit_test(test_open_and_add_short),
        cmocka_unit_test(test_reduce_and_close_long),
        cmocka_unit_test(test_reduce_and_close_short),
        cmocka_unit_test(test_flip_long_to_short),
        cmocka_unit_test(test_flip_short_to_long),
        cmocka_unit_test(test_fractional_average_round_trip_is_exact),
        cmocka_unit_test(test_bad_fills),
        cmocka_unit_test(test_property_total_pnl),
        cmocka_unit_test(test_contract_multiplier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
