/* The strategy engine on hand-written traces: BEHAVIOUR §3.2's verified BUY trace and its SELL
 * mirror, a zero turning point, the exit stage waiting for the entry's fill, and the engine's
 * bookkeeping (ids, symbols, creation order, removal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domain/strategy.h"

typedef struct {
    int64_t id;
    unsigned ev;
    price_t price;
    condition after;
} rec;

typedef struct {
    rec r[64];
    size_t n;
} recorder;

static void on_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    recorder *rc = ctx;
    assert_true(rc->n < 64);
    rc->r[rc->n++] = (rec){c->id, ev, price, *c};
}

/* Feeds one price and returns the events bits of condition id (0 if it did not change). */
static unsigned feed(strategy_engine *e, recorder *rc, const char *sym, price_t p, int64_t id) {
    size_t before = rc->n;
    size_t changed = strategy_on_tick(e, sym, p, on_event, rc);
    assert_int_equal(changed, rc->n - before);
    unsigned ev = 0;
    for (size_t i = before; i < rc->n; i++)
        if (rc->r[i].id == id) ev |= rc->r[i].ev;
    return ev;
}

static void expect_prices(const condition *c, price_t trig, price_t order, price_t tp, price_t sl) {
    assert_non_null(c);
    assert_int_equal(c->trigger_price, trig);
    assert_int_equal(c->order_price, order);
    assert_int_equal(c->take_profit_price, tp);
    assert_int_equal(c->stop_loss_price, sl);
}

static void test_buy_trace(void **state) {
    (void)state;
    strategy_engine *e = strategy_new(true);
    condition c;
    condition_init(&c, 1, "TXFF5", SIDE_BUY, 22000, 30, 1, 90, 30, true);
    assert_true(strategy_add(e, &c));
    expect_prices(strategy_find(e, 1), 22000, 22030, 22120, 22000);
    recorder rc = {.n = 0};

    assert_int_equal(feed(e, &rc, "TXFF5", 22010, 1), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 21990, 1), COND_TRIGGERED | COND_TRAILED);
    expect_prices(strategy_find(e, 1), 21990, 22020, 22110, 21990);
    assert_true(strategy_find(e, 1)->is_trigger);
    assert_int_equal(feed(e, &rc, "TXFF5", 21980, 1), COND_TRAILED);
    expect_prices(strategy_find(e, 1), 21980, 22010, 22100, 21980);
    assert_int_equal(feed(e, &rc, "TXFF5", 21995, 1), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 22009, 1), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 22010, 1), COND_ENTRY);
    const condition *live = strategy_find(e, 1);
    assert_true(live->is_ordered);
    assert_int_equal(live->entry, ENTRY_FILLED);
    assert_int_equal(live->side, SIDE_BUY); /* the entry signal's side */
    /* once ordered, trailing stops: a new low does not move anything, nor trigger the exit above SL */
    assert_int_equal(feed(e, &rc, "TXFF5", 21990, 1), 0);
    expect_prices(strategy_find(e, 1), 21980, 22010, 22100, 21980);
    assert_int_equal(feed(e, &rc, "TXFF5", 22101, 1), COND_EXIT_TP);
    assert_true(rc.r[rc.n - 1].after.is_exited);
    assert_int_equal(side_opposite(rc.r[rc.n - 1].after.side), SIDE_SELL); /* exit signal: SELL */
    assert_null(strategy_find(e, 1));
    assert_int_equal(strategy_count(e), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 30000, 1), 0);
    strategy_free(e);
}

static void test_sell_mirror(void **state) {
    (void)state;
    strategy_engine *e = strategy_new(true);
    condition c;
    condition_init(&c, 7, "TXFF5", SIDE_SELL, 22000, 30, 1, 90, 30, true);
    assert_true(strategy_add(e, &c));
    expect_prices(strategy_find(e, 7), 22000, 21970, 21880, 22000);
    recorder rc = {.n = 0};

    assert_int_equal(feed(e, &rc, "TXFF5", 21990, 7), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 22010, 7), COND_TRIGGERED | COND_TRAILED);
    expect_prices(strategy_find(e, 7), 22010, 21980, 21890, 22010);
    assert_int_equal(feed(e, &rc, "TXFF5", 22020, 7), COND_TRAILED);
    expect_prices(strategy_find(e, 7), 22020, 21990, 21900, 22020);
    assert_int_equal(feed(e, &rc, "TXFF5", 22005, 7), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 21991, 7), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 21990, 7), COND_ENTRY);
    assert_int_equal(feed(e, &rc, "TXFF5", 21901, 7), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 21899, 7), COND_EXIT_TP);
    assert_int_equal(side_opposite(rc.r[rc.n - 1].after.side), SIDE_BUY); /* exit signal: BUY */
    assert_null(strategy_find(e, 7));
    strategy_free(e);
}

static void test_stop_loss(void **state) {
    (void)state;
    strategy_engine *e = strategy_new(true);
    condition c;
    condition_init(&c, 3, "TXFF5", SIDE_BUY, 22000, 30, 1, 90, 30, false);
    assert_true(strategy_add(e, &c));
    recorder rc = {.n = 0};
    assert_int_equal(feed(e, &rc, "TXFF5", 21950, 3), COND_TRIGGERED); /* not following: no trail */
    expect_prices(strategy_find(e, 3), 22000, 22030, 22120, 22000);
    assert_int_equal(feed(e, &rc, "TXFF5", 22030, 3), COND_ENTRY);
    assert_int_equal(feed(e, &rc, "TXFF5", 22001, 3), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 22000, 3), COND_EXIT_SL);
    assert_null(strategy_find(e, 3));
    strategy_free(e);
}

static void test_zero_turning_point(void **state) {
    (void)state;
    strategy_engine *e = strategy_new(true);
    condition c;
    condition_init(&c, 1, "TXFF5", SIDE_BUY, 22000, 0, 1, 90, 30, true);
    assert_true(strategy_add(e, &c));
    expect_prices(strategy_find(e, 1), 22000, 22000, 22090, 21970);
    recorder rc = {.n = 0};
    assert_int_equal(feed(e, &rc, "TXFF5", 21990, 1), COND_TRIGGERED); /* trailing disabled */
    expect_prices(strategy_find(e, 1), 22000, 22000, 22090, 21970);
    assert_int_equal(feed(e, &rc, "TXFF5", 21900, 1), 0);
    expect_prices(strategy_find(e, 1), 22000, 22000, 22090, 21970);
    assert_int_equal(feed(e, &rc, "TXFF5", 21999, 1), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 22000, 1), COND_ENTRY);
    assert_int_equal(feed(e, &rc, "TXFF5", 22089, 1), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 22090, 1), COND_EXIT_TP);
    strategy_free(e);

    /* SELL with zero turning point */
    e = strategy_new(true);
    condition_init(&c, 2, "TXFF5", SIDE_SELL, 22000, 0, 1, 90, 30, true);
    assert_true(strategy_add(e, &c));
    assert_int_equal(feed(e, &rc, "TXFF5", 22050, 2), COND_TRIGGERED);
    expect_prices(strategy_find(e, 2), 22000, 22000, 21910, 22030);
    assert_int_equal(feed(e, &rc, "TXFF5", 22000, 2), COND_ENTRY);
    assert_int_equal(feed(e, &rc, "TXFF5", 22030, 2), COND_EXIT_SL);
    strategy_free(e);
}

static void test_exit_waits_for_fill(void **state) {
    (void)state;
    strategy_engine *e = strategy_new(false);
    condition c;
    condition_init(&c, 1, "TXFF5", SIDE_BUY, 22000, 30, 2, 90, 30, false);
    assert_true(strategy_add(e, &c));
    recorder rc = {.n = 0};
    assert_int_equal(feed(e, &rc, "TXFF5", 22000, 1), COND_TRIGGERED);
    assert_int_equal(feed(e, &rc, "TXFF5", 22030, 1), COND_ENTRY);
    assert_int_equal(strategy_find(e, 1)->entry, ENTRY_PENDING);
    /* beyond TP and SL: nothing while the entry is not known to be filled */
    assert_int_equal(feed(e, &rc, "TXFF5", 22200, 1), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 21000, 1), 0);
    assert_non_null(strategy_find(e, 1));
    assert_false(strategy_entry_filled(e, 99, 2)); /* unknown id */
    assert_true(strategy_entry_filled(e, 1, 2));
    assert_int_equal(strategy_find(e, 1)->entry, ENTRY_FILLED);
    assert_int_equal(strategy_find(e, 1)->filled_qty, 2);
    assert_int_equal(feed(e, &rc, "TXFF5", 22100, 1), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 22120, 1), COND_EXIT_TP);
    assert_null(strategy_find(e, 1));
    assert_false(strategy_entry_filled(e, 1, 2)); /* gone */

    /* a rejected entry parks the condition: no exit ever, and a late fill does not revive it */
    condition_init(&c, 2, "TXFF5", SIDE_SELL, 22000, 30, 1, 90, 30, false);
    assert_true(strategy_add(e, &c));
    assert_int_equal(feed(e, &rc, "TXFF5", 22000, 2), COND_TRIGGERED);
    assert_int_equal(feed(e, &rc, "TXFF5", 21970, 2), COND_ENTRY);
    assert_true(strategy_entry_rejected(e, 2));
    assert_int_equal(strategy_find(e, 2)->entry, ENTRY_REJECTED);
    assert_true(strategy_entry_filled(e, 2, 1));
    assert_int_equal(strategy_find(e, 2)->entry, ENTRY_REJECTED);
    assert_int_equal(feed(e, &rc, "TXFF5", 21000, 2), 0);
    assert_int_equal(feed(e, &rc, "TXFF5", 23000, 2), 0);
    assert_non_null(strategy_find(e, 2));
    strategy_free(e);
}

static void collect(void *ctx, const condition *c) {
    recorder *rc = ctx;
    rc->r[rc->n++] = (rec){c->id, 0, 0, *c};
}

static void test_order_symbols_and_bookkeeping(void **state) {
    (void)state;
    strategy_engine *e = strategy_new(true);
    condition c;
    /* created in this order; the later one's level is crossed first by a falling price */
    condition_init(&c, 10, "TXFF5", SIDE_BUY, 21900, 15, 1, 90, 30, false);
    assert_true(strategy_add(e, &c));
    condition_init(&c, 5, "TXFF5", SIDE_BUY, 22000, 15, 1, 90, 30, false);
    assert_true(strategy_add(e, &c));
    condition_init(&c, 6, "MXFF5", SIDE_SELL, 100, 15, 1, 90, 30, false);
    assert_true(strategy_add(e, &c));
    assert_false(strategy_add(e, &c)); /* same id twice */
    assert_int_equal(strategy_count(e), 3);

    recorder rc = {.n = 0};
    assert_int_equal(strategy_on_tick(e, "TXFF5", 21800, on_event, &rc), 2);
    assert_int_equal(rc.n, 2);
    assert_int_equal(rc.r[0].id, 10); /* creation order, not price order */
    assert_int_equal(rc.r[1].id, 5);
    /* other symbols and unknown symbols are untouched */
    assert_int_equal(strategy_on_tick(e, "TXFG5", 10, on_event, &rc), 0);
    assert_int_equal(strategy_on_tick(e, "TXFF", 10, on_event, &rc), 0);
    assert_false(strategy_find(e, 6)->is_trigger);
    assert_int_equal(strategy_on_tick(e, "MXFF5", 100, on_event, &rc), 1);
    assert_true(strategy_find(e, 6)->is_trigger);

    assert_true(strategy_remove(e, 10));
    assert_false(strategy_remove(e, 10));
    assert_null(strategy_find(e, 10));
    condition_init(&c, 11, "TXFF5", SIDE_SELL, 22500, 15, 1, 90, 30, false);
    assert_true(strategy_add(e, &c)); /* reuses the freed slot, but comes last */
    rc.n = 0;
    strategy_foreach(e, collect, &rc);
    assert_int_equal(rc.n, 3);
    assert_int_equal(rc.r[0].id, 5);
    assert_int_equal(rc.r[1].id, 6);
    assert_int_equal(rc.r[2].id, 11);
    /* a removed condition's index entries are dead: crossing its old level does nothing */
    rc.n = 0;
    assert_int_equal(strategy_on_tick(e, "TXFF5", 22015, on_event, &rc), 1); /* id 5 orders */
    assert_int_equal(rc.r[0].id, 5);
    strategy_free(e);
}

/* Callbacks may add (the re-arm pattern) and remove conditions mid-tick. */
typedef struct {
    strategy_engine *e;
    int64_t next_id;
    int64_t remove_id;
    size_t calls;
} rearm_ctx;

static void rearm(void *ctx, const condition *c, unsigned ev, price_t price) {
    (void)price;
    rearm_ctx *r = ctx;
    r->calls++;
    if (r->remove_id) {
        strategy_remove(r->e, r->remove_id);
        r->remove_id = 0;
    }
    if (ev & (COND_EXIT_TP | COND_EXIT_SL)) {
        condition again;
        condition_init(&again, r->next_id++, c->symbol, c->side, c->base_trigger, c->turning_point, c->quantity,
                       c->take_profit_point, c->stop_loss_point, c->is_following);
        assert_true(strategy_add(r->e, &again));
        for (int i = 0; i < 300; i++) { /* force growth of every table while the tick is running */
            condition_init(&again, 100000 + r->next_id * 1000 + i, "OTHER", SIDE_BUY, 1, 1, 1, 1, 1, false);
            assert_true(strategy_add(r->e, &again));
        }
    }
}

static void test_callback_adds_and_removes(void **state) {
    (void)state;
    strategy_engine *e = strategy_new(true);
    condition c;
    condition_init(&c, 1, "TXFF5", SIDE_BUY, 100, 10, 1, 20, 10, false);
    assert_true(strategy_add(e, &c));
    condition_init(&c, 2, "TXFF5", SIDE_BUY, 100, 10, 1, 20, 10, false);
    assert_true(strategy_add(e, &c));
    rearm_ctx r = {e, 1000, 0, 0};
    strategy_on_tick(e, "TXFF5", 100, rearm, &r);
    strategy_on_tick(e, "TXFF5", 110, rearm, &r);
    r.calls = 0;
    /* both exit at the stop loss, a price at which their copies would trigger if evaluated */
    assert_int_equal(strategy_on_tick(e, "TXFF5", 100, rearm, &r), 2);
    assert_null(strategy_find(e, 1));
    assert_null(strategy_find(e, 2));
    assert_non_null(strategy_find(e, 1000));
    assert_non_null(strategy_find(e, 1001));
    assert_false(strategy_find(e, 1000)->is_trigger); /* not evaluated on the tick that made it */
    /* removing a later condition from an earlier one's callback: it is not evaluated */
    r.remove_id = 1001;
    r.calls = 0;
    strategy_on_tick(e, "TXFF5", 100, rearm, &r);
    assert_int_equal(r.calls, 1);
    assert_null(strategy_find(e, 1001));
    assert_true(strategy_find(e, 1000)->is_trigger);
    strategy_free(e);
}

/* conditions.json once carried 9223372036854775807 into the derived prices (signed overflow);
 * the ranges are checked before a condition is stored, and deriving never overflows. */
static void test_condition_ranges(void **state) {
    (void)state;
    char why[160];
    condition c;
    condition_init(&c, 1, "TXFF5", SIDE_BUY, 20000, 15, 1, 90, 30, false);
    assert_true(condition_check_ranges(&c, why, sizeof why));
    condition_init(&c, 1, "TXFF5", SIDE_BUY, INT64_MAX, 15, 1, 90, 30, false);
    assert_int_equal(c.order_price, INT64_MAX); /* held at the end, not wrapped */
    assert_int_equal(c.take_profit_price, INT64_MAX);
    assert_false(condition_check_ranges(&c, why, sizeof why));
    assert_non_null(strstr(why, "trigger_price 9223372036854775807 is out of range"));
    condition_init(&c, 1, "TXFF5", SIDE_SELL, 20000, INT64_MAX, 1, INT64_MAX, INT64_MAX, false);
    assert_int_equal(c.take_profit_price, INT64_MIN);
    assert_false(condition_check_ranges(&c, why, sizeof why));
    assert_non_null(strstr(why, "turning_point"));
    condition_init(&c, 1, "TXFF5", SIDE_SELL, 20000, 15, CONDITION_QTY_MAX + 1, 90, 30, false);
    assert_false(condition_check_ranges(&c, why, sizeof why));
    assert_non_null(strstr(why, "quantity"));
    condition_init(&c, 1, "TXFF5", SIDE_SELL, 20000, 15, 1, -1, 30, false);
    assert_false(condition_check_ranges(&c, why, sizeof why));
    assert_non_null(strstr(why, "take_profit_point -1"));
    condition_init(&c, 1, "TXFF5", SIDE_SELL, CONDITION_PRICE_MAX, -CONDITION_POINTS_MAX, CONDITION_QTY_MAX,
                   CONDITION_POINTS_MAX, CONDITION_POINTS_MAX, true);
    assert_true(condition_check_ranges(&c, why, sizeof why));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buy_trace),
        cmocka_unit_test(test_sell_mirror),
        cmocka_unit_test(test_stop_loss),
        cmocka_unit_test(test_zero_turning_point),
        cmocka_unit_test(test_exit_waits_for_fill),
        cmocka_unit_test(test_order_symbols_and_bookkeeping),
        cmocka_unit_test(test_callback_adds_and_removes),
        cmocka_unit_test(test_condition_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
