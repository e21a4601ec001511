/* Pre-trade risk: each rule refuses what breaks it (with its code in the reason), passes what
 * does not, and can be switched off; the kill switch halts entries but lets exits through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domain/risk.h"

#define NOW 1750000000000LL
#define WED 3
#define TEN_AM (10 * 60)

static risk_limits lim;
static risk_state st;
static char reason[RISK_REASON_MAX];

static int setup(void **state) {
    (void)state;
    lim = risk_limits_default();
    risk_state_init(&st);
    reason[0] = '\0';
    return 0;
}

static risk_request req(side_t side, int64_t qty) {
    return (risk_request){.symbol = "TXFF5",
                          .side = side,
                          .qty = qty,
                          .ref_price = 20000,
                          .last_price = 20000,
                          .signal_ms = NOW - 10,
                          .now_ms = NOW,
                          .minute_of_day = TEN_AM,
                          .weekday = WED,
                          .duplicate = false};
}

static risk_verdict check(const risk_request *r) {
    return risk_check(&lim, &st, r, reason, sizeof reason);
}

/* Refused by rule v, and the reason starts with the rule's code. */
static void expect_refused(const risk_request *r, risk_verdict v) {
    assert_int_equal(check(r), v);
    const char *code = risk_rule_code(v);
    assert_true(strncmp(reason, code, strlen(code)) == 0);
    assert_true(strlen(reason) > strlen(code) + 2);
}

static void expect_ok(const risk_request *r) {
    assert_int_equal(check(r), RISK_OK);
    assert_string_equal(reason, "");
}

static void test_defaults(void **state) {
    (void)state;
    risk_limits d = risk_limits_default();
    assert_int_equal(d.max_lots_per_order, 10);
    assert_int_equal(d.max_position_per_product, 20);
    assert_int_equal(d.max_open_orders, 50);
    assert_int_equal(d.max_orders_per_second, 20);
    assert_int_equal(d.daily_loss_limit, 100000);
    assert_true(d.trading_hours);
    assert_int_equal(d.day_session.start_min, 8 * 60 + 45);
    assert_int_equal(d.day_session.end_min, 13 * 60 + 45);
    assert_int_equal(d.night_session.start_min, 15 * 60);
    assert_int_equal(d.night_session.end_min, 5 * 60);
    assert_int_equal(d.trading_days, 0x3E);
    assert_int_equal(d.price_band_points, 500);
    assert_int_equal(d.stale_signal_ms, 5000);
    assert_true(d.refuse_duplicates);
    risk_request r = req(SIDE_BUY, 1);
    expect_ok(&r);
}

static void test_rule_codes(void **state) {
    (void)state;
    assert_string_equal(risk_rule_code(RISK_OK), "ok");
    assert_string_equal(risk_rule_code(RISK_BAD_REQUEST), "bad_request");
    assert_string_equal(risk_rule_code(RISK_DUPLICATE), "refuse_duplicates");
    assert_string_equal(risk_rule_code(RISK_STALE), "stale_signal_ms");
    assert_string_equal(risk_rule_code(RISK_KILL_SWITCH), "kill_switch");
    assert_string_equal(risk_rule_code(RISK_DAILY_LOSS), "daily_loss_limit");
    assert_string_equal(risk_rule_code(RISK_TRADING_HOURS), "trading_hours");
    assert_string_equal(risk_rule_code(RISK_MAX_LOTS), "max_lots_per_order");
    assert_string_equal(risk_rule_code(RISK_MAX_POSITION), "max_position_per_product");
    assert_string_equal(risk_rule_code(RISK_MAX_OPEN_ORDERS), "max_open_orders");
    assert_string_equal(risk_rule_code(RISK_RATE), "max_orders_per_second");
    assert_string_equal(risk_rule_code(RISK_PRICE_BAND), "price_band_points");
}

static void test_bad_request(void **state) {
    (void)state;
    risk_request r = req(SIDE_BUY, 0);
    expect_refused(&r, RISK_BAD_REQUEST);
    r = req(SIDE_BUY, -2);
    expect_refused(&r, RISK_BAD_REQUEST);
    r = req((side_t)7, 1);
    expect_refused(&r, RISK_BAD_REQUEST);
    r = req(SIDE_BUY, 1);
    r.symbol = "";
    expect_refused(&r, RISK_BAD_REQUEST);
    r.symbol = NULL;
    expect_refused(&r, RISK_BAD_REQUEST);
    r = req(SIDE_BUY, 1);
    r.minute_of_day = 1440;
    expect_refused(&r, RISK_BAD_REQUEST);
    r = req(SIDE_BUY, 1);
    r.weekday = 7;
    expect_refused(&r, RISK_BAD_REQUEST);
    /* A NULL reason buffer is allowed. */
    r = req(SIDE_BUY, 0);
    assert_int_equal(risk_check(&lim, &st, &r, NULL, 0), RISK_BAD_REQUEST);
}

static void test_max_lots(void **state) {
    (void)state;
    risk_request r = req(SIDE_BUY, 10);
    expect_ok(&r);
    r.qty = 11;
    expect_refused(&r, RISK_MAX_LOTS);
    assert_non_null(strstr(reason, "11"));
    /* It applies to exits too: an exit larger than one order's limit must be split. */
    risk_set_position(&st, "TXFF5", 15);
    r = req(SIDE_SELL, 11);
    expect_refused(&r, RISK_MAX_LOTS);
    lim.max_lots_per_order = 0;
    expect_ok(&r);
    risk_set_position(&st, "TXFF5", 0);
    r = req(SIDE_BUY, 11);
    expect_ok(&r);
}

static void test_max_position(void **state) {
    (void)state;
    risk_set_position(&st, "TXFF5", 15);
    risk_request r = req(SIDE_BUY, 5);
    expect_ok(&r);
    r.qty = 6;
    expect_refused(&r, RISK_MAX_POSITION);
    assert_non_null(strstr(reason, "21"));
    /* Short side. */
    risk_set_position(&st, "TXFF5", -18);
    r = req(SIDE_SELL, 2);
    expect_ok(&r);
    r.qty = 3;
    expect_refused(&r, RISK_MAX_POSITION);
    /* Pending orders count as if they fill. */
    risk_set_position(&st, "TXFF5", 10);
    risk_set_pending(&st, "TXFF5", 8, 0);
    r = req(SIDE_BUY, 3);
    expect_refused(&r, RISK_MAX_POSITION);
    r.qty = 2;
    expect_ok(&r);
    /* Another product has its own position. */
    r = req(SIDE_BUY, 10);
    r.symbol = "MXFF5";
    expect_ok(&r);
    lim.max_position_per_product = 0;
    r = req(SIDE_BUY, 10);
    expect_ok(&r);
}

static void test_max_position_does_not_block_exits(void **state) {
    (void)state;
    lim.max_position_per_product = 5;
    /* Over the limit already (the limit was lowered): reducing is still allowed. */
    risk_set_position(&st, "TXFF5", 8);
    risk_request r = req(SIDE_SELL, 3);
    expect_ok(&r);
    r = req(SIDE_BUY, 1);
    expect_refused(&r, RISK_MAX_POSITION);
    /* A flip past zero beyond the limit is an entry. */
    r = req(SIDE_SELL, 10);
    assert_false(risk_is_exit(&st, &r));
    lim.max_lots_per_order = 0;
    r.qty = 14;
    expect_refused(&r, RISK_MAX_POSITION);
}

static void test_is_exit(void **state) {
    (void)state;
    risk_request r = req(SIDE_SELL, 1);
    assert_false(risk_is_exit(&st, &r)); /* flat: everything is an entry */
    risk_set_position(&st, "TXFF5", 3);
    assert_true(risk_is_exit(&st, &r));
    r.qty = 3;
    assert_true(risk_is_exit(&st, &r));
    r.qty = 4;
    assert_false(risk_is_exit(&st, &r));
    r = req(SIDE_BUY, 1);
    assert_false(risk_is_exit(&st, &r));
    /* A pending sell already closes part of it. */
    risk_set_pending(&st, "TXFF5", 0, 2);
    r = req(SIDE_SELL, 1);
    assert_true(risk_is_exit(&st, &r));
    r.qty = 2;
    assert_false(risk_is_exit(&st, &r));
    risk_set_position(&st, "TXFF5", -2);
    risk_set_pending(&st, "TXFF5", 0, 0);
    r = req(SIDE_BUY, 2);
    assert_true(risk_is_exit(&st, &r));
    r.symbol = "MXFF5";
    assert_false(risk_is_exit(&st, &r));
}

static void test_max_open_orders(void **state) {
    (void)state;
    lim.max_orders_per_second = 0;
    for (int i = 0; i < 49; i++) risk_record_order(&st, NOW - 60000 + i);
    risk_request r = req(SIDE_BUY, 1);
    expect_ok(&r);
    risk_record_order(&st, NOW - 1);
    assert_int_equal(st.open_orders, 50);
    expect_refused(&r, RISK_MAX_OPEN_ORDERS);
    risk_order_closed(&st);
    expect_ok(&r);
    lim.max_open_orders = 0;
    risk_record_order(&st, NOW);
    risk_record_order(&st, NOW);
    expect_ok(&r);
    /* Closing never goes below zero. */
    risk_state_init(&st);
    risk_order_closed(&st);
    assert_int_equal(st.open_orders, 0);
}

static void test_rate_limit_sliding_window(void **state) {
    (void)state;
    lim.max_open_orders = 0;
    lim.max_orders_per_second = 3;
    risk_request r = req(SIDE_BUY, 1);
    risk_record_order(&st, NOW - 1500);
    risk_record_order(&st, NOW - 900);
    risk_record_order(&st, NOW - 500);
    expect_ok(&r); /* two in the last second */
    risk_record_order(&st, NOW - 100);
    expect_refused(&r, RISK_RATE);
    assert_non_null(strstr(reason, "3 orders"));
    /* 101 ms later the order at NOW-900 has left the window. */
    r.now_ms = NOW + 101;
    r.signal_ms = r.now_ms;
    expect_ok(&r);
    /* Exactly one second old is outside the window. */
    r.now_ms = NOW + 100;
    r.signal_ms = r.now_ms;
    expect_ok(&r);
    r.now_ms = NOW + 99;
    r.signal_ms = r.now_ms;
    expect_refused(&r, RISK_RATE);
    lim.max_orders_per_second = 0;
    expect_ok(&r);
}

static void test_rate_ring_wraps(void **state) {
    (void)state;
    lim.max_open_orders = 0;
    lim.max_orders_per_second = RISK_RATE_CAP;
    /* Old orders wrap around the ring; only the last second counts. */
    for (int i = 0; i < 3 * RISK_RATE_CAP; i++) risk_record_order(&st, NOW - 5000);
    risk_request r = req(SIDE_BUY, 1);
    expect_ok(&r);
    for (int i = 0; i < RISK_RATE_CAP - 1; i++) risk_record_order(&st, NOW);
    expect_ok(&r);
    risk_record_order(&st, NOW);
    expect_refused(&r, RISK_RATE);
}

static void test_price_band(void **state) {
    (void)state;
    risk_request r = req(SIDE_BUY, 1);
    r.ref_price = 20500;
    expect_ok(&r);
    r.ref_price = 19500;
    expect_ok(&r);
    r.ref_price = 20501;
    expect_refused(&r, RISK_PRICE_BAND);
    assert_non_null(strstr(reason, "501"));
    r.ref_price = 19499;
    expect_refused(&r, RISK_PRICE_BAND);
    /* Unknown prices cannot be checked, so they are refused while the band is on. */
    r.ref_price = 0;
    expect_refused(&r, RISK_PRICE_BAND);
    r.ref_price = 20000;
    r.last_price = 0;
    expect_refused(&r, RISK_PRICE_BAND);
    assert_non_null(strstr(reason, "last traded"));
    lim.price_band_points = 0;
    expect_ok(&r);
    r.ref_price = 1;
    r.last_price = 30000;
    expect_ok(&r);
}

static void test_stale_signal(void **state) {
    (void)state;
    risk_request r = req(SIDE_BUY, 1);
    r.signal_ms = NOW - 5000;
    expect_ok(&r);
    r.signal_ms = NOW - 5001;
    expect_refused(&r, RISK_STALE);
    assert_non_null(strstr(reason, "5001 ms old"));
    /* A signal dated far in the future is as suspicious. */
    r.signal_ms = NOW + 5001;
    expect_refused(&r, RISK_STALE);
    r.signal_ms = NOW + 4000;
    expect_ok(&r);
    lim.stale_signal_ms = 0;
    r.signal_ms = NOW - 3600000;
    expect_ok(&r);
}

/* A late exit still goes: refusing it would leave the position open with no exit. */
static void test_stale_and_off_band_exits_pass(void **state) {
    (void)state;
    assert_true(risk_set_position(&st, "TXFF5", 3));
    risk_request r = req(SIDE_SELL, 2);
    r.signal_ms = NOW - 600000;
    r.ref_price = 30000;
    expect_ok(&r);
    risk_request entry = req(SIDE_BUY, 1);
    entry.signal_ms = NOW - 600000;
    expect_refused(&entry, RISK_STALE);
    entry.signal_ms = NOW - 10;
    entry.ref_price = 30000;
    expect_refused(&entry, RISK_PRICE_BAND);
    /* more than is open flips the position: an entry, judged as one */
    r = req(SIDE_SELL, 4);
    r.signal_ms = NOW - 600000;
    expect_refused(&r, RISK_STALE);
}

static void test_duplicate_signal(void **state) {
    (void)state;
    risk_request r = req(SIDE_BUY, 1);
    r.duplicate = true;
    expect_refused(&r, RISK_DUPLICATE);
    /* Duplicates are refused even for exits. */
    risk_set_position(&st, "TXFF5", 1);
    r = req(SIDE_SELL, 1);
    r.duplicate = true;
    expect_refused(&r, RISK_DUPLICATE);
    lim.refuse_duplicates = false;
    expect_ok(&r);
}

static void test_trading_hours_sessions(void **state) {
    (void)state;
    struct {
        int weekday, minute;
        bool open;
    } cases[] = {
        {WED, 8 * 60 + 44, false}, {WED, 8 * 60 + 45, true},  {WED, 13 * 60 + 44, true},
        {WED, 13 * 60 + 45, false}, {WED, 14 * 60 + 59, false}, {WED, 15 * 60, true},
        {WED, 23 * 60 + 59, true},  {WED, 0, true},            {WED, 4 * 60 + 59, true},
        {WED, 5 * 60, false},       {1, 0, false},              /* Monday early: no Sunday session */
        {1, 4 * 60, false},         {1, 9 * 60, true},          {5, 16 * 60, true}, /* Friday night */
        {6, 2 * 60, true},          /* Saturday early: Friday's night session */
        {6, 5 * 60, false},         {6, 9 * 60, false},         {0, 9 * 60, false},
        {0, 20 * 60, false},        {2, 3 * 60, true},          /* Tuesday early: Monday night */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(risk_in_trading_hours(&lim, cases[i].minute, cases[i].weekday),
                         cases[i].open);
        risk_request r = req(SIDE_BUY, 1);
        r.weekday = cases[i].weekday;
        r.minute_of_day = cases[i].minute;
        if (cases[i].open) {
            expect_ok(&r);
        } else {
            expect_refused(&r, RISK_TRADING_HOURS);
        }
    }
    assert_false(risk_in_trading_hours(&lim, -1, WED));
    assert_false(risk_in_trading_hours(&lim, TEN_AM, 9));
}

static void test_trading_hours_off_and_custom(void **state) {
    (void)state;
    risk_request r = req(SIDE_BUY, 1);
    r.weekday = 0;
    r.minute_of_day = 12 * 60;
    expect_refused(&r, RISK_TRADING_HOURS);
    assert_non_null(strstr(reason, "12:00"));
    lim.trading_hours = false;
    expect_ok(&r);
    /* Night session off, every day allowed. */
    lim.trading_hours = true;
    lim.night_session = (risk_session){0, 0};
    lim.trading_days = 0x7F;
    expect_ok(&r);
    r.minute_of_day = 20 * 60;
    expect_refused(&r, RISK_TRADING_HOURS);
    /* Exits are bound by the hours too: the market is closed. */
    risk_set_position(&st, "TXFF5", 2);
    r.side = SIDE_SELL;
    expect_refused(&r, RISK_TRADING_HOURS);
}

static void test_kill_switch_blocks_entries_allows_exits(void **state) {
    (void)state;
    assert_true(risk_trip_kill_switch(&st, "operator"));
    assert_true(st.kill_switch);
    assert_false(risk_trip_kill_switch(&st, "second"));
    assert_string_equal(st.kill_reason, "operator");
    risk_request entry = req(SIDE_BUY, 1);
    expect_refused(&entry, RISK_KILL_SWITCH);
    assert_non_null(strstr(reason, "operator"));
    /* Long 3: selling up to 3 is an exit and passes. */
    risk_set_position(&st, "TXFF5", 3);
    risk_request exit = req(SIDE_SELL, 3);
    expect_ok(&exit);
    /* Selling 4 would open a short: refused. */
    exit.qty = 4;
    expect_refused(&exit, RISK_KILL_SWITCH);
    /* Adding to the long is an entry. */
    expect_refused(&entry, RISK_KILL_SWITCH);
    risk_reset_kill_switch(&st);
    assert_false(st.kill_switch);
    assert_string_equal(st.kill_reason, "");
    expect_ok(&entry);
}

/* A buy and a sell condition each hold a lot: the account is flat, so by the net alone an exit
 * would open a position. The caller's word that the order closes a condition's own lots makes
 * it an exit for the kill switch; without it, it stays refused. */
static void test_kill_switch_passes_exits_that_close_a_holding(void **state) {
    (void)state;
    risk_trip_kill_switch(&st, "operator");
    risk_set_position(&st, "TXFF5", 0);
    risk_request exit = req(SIDE_SELL, 1);
    expect_refused(&exit, RISK_KILL_SWITCH);
    exit.closes_holding = true;
    expect_ok(&exit);
}

/* Halted: nothing passes, exits included, but a flatten; resume clears both. */
static void test_halt_refuses_exits_but_not_flatten(void **state) {
    (void)state;
    risk_halt(&st, "operator halt");
    assert_true(st.kill_switch && st.halted);
    risk_set_position(&st, "TXFF5", 3);
    risk_request exit = req(SIDE_SELL, 3);
    expect_refused(&exit, RISK_KILL_SWITCH);
    assert_non_null(strstr(reason, "halted"));
    assert_non_null(strstr(reason, "operator halt"));
    exit.closes_holding = true;
    expect_refused(&exit, RISK_KILL_SWITCH);
    exit.closes_holding = false;
    exit.flatten = true;
    expect_ok(&exit);
    risk_request entry = req(SIDE_BUY, 1);
    expect_refused(&entry, RISK_KILL_SWITCH);
    risk_reset_kill_switch(&st);
    assert_false(st.kill_switch || st.halted);
    expect_ok(&entry);
}

static void test_daily_loss_trips_kill_switch(void **state) {
    (void)state;
    assert_false(risk_update_pnl(&st, &lim, 5000));
    assert_false(risk_update_pnl(&st, &lim, -99999));
    assert_false(st.kill_switch);
    risk_request entry = req(SIDE_BUY, 1);
    expect_ok(&entry);
    assert_true(risk_update_pnl(&st, &lim, -100000));
    assert_true(st.kill_switch);
    assert_non_null(strstr(st.kill_reason, "daily loss"));
    assert_int_equal(st.pnl_today, -100000);
    /* Already tripped: no second trip, reason kept. */
    assert_false(risk_update_pnl(&st, &lim, -150000));
    expect_refused(&entry, RISK_KILL_SWITCH);
    risk_set_position(&st, "TXFF5", -2);
    risk_request exit = req(SIDE_BUY, 2);
    expect_ok(&exit);
    /* A reset alone does not beat the limit: entries stay refused while the loss stands. */
    risk_reset_kill_switch(&st);
    entry = req(SIDE_SELL, 1);
    expect_refused(&entry, RISK_DAILY_LOSS);
    expect_ok(&exit);
    /* Recovering above the limit lets entries through again. */
    risk_update_pnl(&st, &lim, -50000);
    expect_ok(&entry);
    /* Disabled limit never trips. */
    risk_state_init(&st);
    lim.daily_loss_limit = 0;
    assert_false(risk_update_pnl(&st, &lim, -10000000));
    assert_false(st.kill_switch);
    expect_ok(&entry);
}

static void test_rule_order(void **state) {
    (void)state;
    /* A request breaking everything reports the first rule; fixing it reveals the next. */
    risk_trip_kill_switch(&st, "x");
    lim.max_open_orders = 1;
    risk_record_order(&st, NOW);
    risk_request r = req(SIDE_BUY, 50);
    r.duplicate = true;
    r.signal_ms = NOW - 60000;
    r.minute_of_day = 14 * 60;
    r.ref_price = 30000;
    expect_refused(&r, RISK_DUPLICATE);
    r.duplicate = false;
    expect_refused(&r, RISK_STALE);
    r.signal_ms = NOW;
    expect_refused(&r, RISK_KILL_SWITCH);
    risk_reset_kill_switch(&st);
    expect_refused(&r, RISK_TRADING_HOURS);
    r.minute_of_day = TEN_AM;
    expect_refused(&r, RISK_MAX_LOTS);
    r.qty = 10;
    lim.max_position_per_product = 5;
    expect_refused(&r, RISK_MAX_POSITION);
    lim.max_position_per_product = 20;
    expect_refused(&r, RISK_MAX_OPEN_ORDERS);
    lim.max_open_orders = 0;
    lim.max_orders_per_second = 1;
    expect_refused(&r, RISK_RATE);
    lim.max_orders_per_second = 0;
    expect_refused(&r, RISK_PRICE_BAND);
    r.ref_price = 20000;
    expect_ok(&r);
}

static void test_product_table(void **state) {
    (void)state;
    char sym[16];
    for (int i = 0; i < RISK_MAX_PRODUCTS; i++) {
        snprintf(sym, sizeof sym, "P%d", i);
        assert_true(risk_set_position(&st, sym, i));
    }
    assert_false(risk_set_position(&st, "ONE_MORE", 1));
    assert_false(risk_set_pending(&st, "ONE_MORE", 1, 1));
    /* Existing entries still update. */
    assert_true(risk_set_position(&st, "P3", -7));
    assert_int_equal(risk_product_find(&st, "P3")->net_qty, -7);
    assert_null(risk_product_find(&st, "ONE_MORE"));
    assert_null(risk_product_get(&st, ""));
    assert_null(risk_product_get(&st, "0123456789012345678901234567890123"));
    /* Negative pending is clamped. */
    assert_true(risk_set_pending(&st, "P3", -4, 2));
    assert_int_equal(risk_product_find(&st, "P3")->pending_buy, 0);
    assert_int_equal(risk_product_find(&st, "P3")->pending_sell, 2);
}

static void test_reason_truncates_safely(void **state) {
    (void)state;
    risk_request r = req(SIDE_BUY, 11);
    char tiny[8];
    assert_int_equal(risk_check(&lim, &st, &r, tiny, sizeof tiny), RISK_MAX_LOTS);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_rule_codes),
        T(test_bad_request),
        T(test_max_lots),
        T(test_max_position),
        T(test_max_position_does_not_block_exits),
        T(test_is_exit),
        T(test_max_open_orders),
        T(test_rate_limit_sliding_window),
        T(test_rate_ring_wraps),
        T(test_price_band),
        T(test_stale_signal),
        T(test_stale_and_off_band_exits_pass),
        T(test_duplicate_signal),
        T(test_trading_hours_sessions),
        T(test_trading_hours_off_and_custom),
        T(test_kill_switch_blocks_entries_allows_exits),
        T(test_kill_switch_passes_exits_that_close_a_holding),
        T(test_halt_refuses_exits_but_not_flatten),
        T(test_daily_loss_trips_kill_switch),
        T(test_rule_order),
        T(test_product_table),
        T(test_reason_truncates_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
