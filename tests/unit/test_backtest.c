/* Backtest on hand-checked tick sequences, and the original's conditions.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtest/backtest.h"
#include "backtest/conditions_file.h"

#define SYM "TX202507"
#define T0 INT64_C(1750057200000000) /* 2025-06-16 15:00:00 +08:00 */
#define SEC INT64_C(1000000)

static void near(double got, double want) {
    if (fabs(got - want) > 1e-6 * (fabs(want) > 1 ? fabs(want) : 1)) fail_msg("got %.9f, want %.9f", got, want);
}

static backtest *two_conditions(const backtest_config *cfg) {
    backtest *bt = backtest_new(cfg);
    assert_non_null(bt);
    condition c;
    /* BUY 1: order 22010, TP 22060, SL 21990 */
    condition_init(&c, 1, SYM, SIDE_BUY, 22000, 10, 1, 50, 20, false);
    assert_true(backtest_add_condition(bt, &c));
    /* SELL 2: order 22090, TP 22050, SL 22120 */
    condition_init(&c, 2, SYM, SIDE_SELL, 22100, 10, 2, 40, 30, false);
    assert_true(backtest_add_condition(bt, &c));
    assert_false(backtest_add_condition(bt, &c)); /* same id */
    return bt;
}

static const double path[] = {22020, 22000, 22010, 22015, 22100, 22090, 22095, 22125, 22130};
#define NPATH (sizeof path / sizeof path[0])

/* No costs, one point is one dollar, fills on the signal's own tick: the figures stay hand-checkable. */
static backtest_config plain_config(double capital) {
    backtest_config cfg;
    backtest_config_default(&cfg);
    cfg.tax_rate = 0;
    cfg.multiplier = 1;
    cfg.capital = capital;
    cfg.fill = BT_FILL_SAME_TICK;
    return cfg;
}

static void test_next_tick_fills_costs_and_summary(void **state) {
    (void)state;
    backtest_config cfg;
    backtest_config_default(&cfg);
    cfg.slippage_points = 1;
    cfg.fee_per_lot = 50;
    backtest *bt = two_conditions(&cfg);
    for (size_t i = 0; i < NPATH; i++) {
        assert_true(backtest_on_tick(bt, SYM, path[i], T0 + (int64_t)i * SEC));
        assert_true(backtest_on_tick(bt, "MTX202507", 1000, T0 + (int64_t)i * SEC)); /* other symbol */
    }
    assert_true(backtest_on_tick(bt, SYM, 0, T0 + 20 * SEC));   /* bad prices are dropped */
    assert_true(backtest_on_tick(bt, SYM, -5, T0 + 20 * SEC));
    assert_true(backtest_on_tick(bt, SYM, NAN, T0 + 20 * SEC));
    backtest_finish(bt);

    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    assert_int_equal(n, 2);
    /* trade 1: BUY signalled at 22010 (tick 2), filled next tick 22015 + 1; TP signalled at
     * 22100 (tick 4), filled next tick 22090 - 1 */
    assert_int_equal(t[0].condition_id, 1);
    assert_int_equal(t[0].side, SIDE_BUY);
    assert_int_equal(t[0].qty, 1);
    assert_int_equal(t[0].multiplier, 200);
    assert_int_equal(t[0].entry_signal_price, 22010);
    assert_int_equal(t[0].signal_ts_us, T0 + 2 * SEC);
    assert_int_equal(t[0].entry_price, 22016);
    assert_int_equal(t[0].entry_ts_us, T0 + 3 * SEC);
    assert_int_equal(t[0].exit_signal_price, 22100);
    assert_int_equal(t[0].exit_price, 22089);
    assert_int_equal(t[0].exit_ts_us, T0 + 5 * SEC);
    assert_int_equal(t[0].reason, BT_EXIT_TAKE_PROFIT);
    assert_int_equal(t[0].points, 73);
    near(t[0].gross, 14600);
    near(t[0].costs, 100 + 88 + 88); /* tax per contract per side: 88.064 -> 88, 88.356 -> 88 */
    near(t[0].net, 14600 - 276);
    /* trade 2: SELL 2 signalled at 22090 (tick 5), filled 22095 - 1; SL at 22125 (tick 7),
     * filled 22130 + 1 */
    assert_int_equal(t[1].condition_id, 2);
    assert_int_equal(t[1].side, SIDE_SELL);
    assert_int_equal(t[1].qty, 2);
    assert_int_equal(t[1].entry_price, 22094);
    assert_int_equal(t[1].exit_price, 22131);
    assert_int_equal(t[1].reason, BT_EXIT_STOP_LOSS);
    assert_int_equal(t[1].points, -74);
    near(t[1].gross, -14800);
    near(t[1].costs, 200 + 2 * (88 + 89)); /* 88.376 -> 88, 88.524 -> 89 */
    near(t[1].net, -15354);
    assert_true(t[0].closed && t[1].closed);

    backtest_summary s;
    backtest_get_summary(bt, &s);
    assert_int_equal(s.ticks, 2 * NPATH);
    assert_int_equal(s.trades, 2);
    assert_int_equal(s.wins, 1);
    assert_int_equal(s.losses, 1);
    assert_int_equal(s.entry_signals, 2);
    assert_int_equal(s.exit_signals, 2);
    assert_int_equal(s.unfilled_entries, 0);
    near(s.win_rate, 0.5);
    assert_int_equal(s.points, -1);
    near(s.gross_pnl, -200);
    near(s.costs, 830);
    near(s.net_pnl, -1030);
    near(s.profit_factor, 14324.0 / 15354);
    near(s.final_equity, 1000000 - 1030);
    near(s.return_pct, -0.103);
    /* mark-to-market: peak 1,016,662 at tick 4 (long 1 from 22016 marked at 22100, entry
     * costs 50 + 88 paid), trough 998,970 after the last fill */
    near(s.intraday_max_drawdown, -(1016662.0 - 998970));
    near(s.intraday_max_drawdown_pct, -(1016662.0 - 998970) / 1016662.0 * 100);
    /* the daily closes: one day at 998,970 on a capital of 1,000,000 */
    near(s.max_drawdown, -1030);
    near(s.max_drawdown_pct, -0.103);
    near(s.drawdown_days, 1);
    near(s.avg_win, 14324);
    near(s.avg_loss, -15354);
    near(s.expectancy, -515);
    assert_true(s.win_streak == 1 && s.loss_streak == 1);
    near(s.trades_per_day, 2);
    /* positions open after ticks 3, 4, 6, 7 of SYM; MTX ticks after 3, 4, 6, 7 too */
    near(s.exposure, 8.0 / 18.0);
    assert_int_equal(s.days, 1);
    assert_false(s.sharpe_valid);
    assert_int_equal(backtest_symbol_ticks(bt, SYM), NPATH);
    assert_int_equal(backtest_symbol_ticks(bt, "TE202507"), 0);

    const equity_series *eq = backtest_daily_equity(bt);
    assert_int_equal(eq->n, 1);
    near(eq->pts[0].equity, 998970);
    char d[11];
    equity_format_date(eq->pts[0].day, d);
    assert_string_equal(d, "2025-06-16");
    backtest_free(bt);
}

/* Repeat: after each exit the condition is armed again from its original trigger, so a price
 * that crosses the setup twice trades twice; without repeat it trades once. */
static void test_repeat(void **state) {
    (void)state;
    static const double wave[] = {100, 90, 100, 112, 121, 100, 90, 100, 112, 121, 130};
    for (int rep = 0; rep <= 1; rep++) {
        backtest_config cfg;
        backtest_config_default(&cfg);
        cfg.fill = BT_FILL_SAME_TICK;
        cfg.tax_rate = 0;
        cfg.multiplier = 1;
        backtest *bt = backtest_new(&cfg);
        condition c;
        condition_init(&c, 7, SYM, SIDE_BUY, 100, 10, 1, 10, 50, false); /* order 110, TP 120 */
        assert_true(backtest_add_condition_repeat(bt, &c, rep));
        for (size_t i = 0; i < sizeof wave / sizeof wave[0]; i++)
            assert_true(backtest_on_tick(bt, SYM, wave[i], T0 + (int64_t)i * SEC));
        backtest_finish(bt);
        size_t n;
        const backtest_trade *t = backtest_trades(bt, &n);
        assert_int_equal(n, rep ? 2 : 1);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(t[i].condition_id, 7); /* the copy's trade names the original */
            assert_int_equal(t[i].entry_price, 112);
            assert_int_equal(t[i].reason, i == 0 ? BT_EXIT_TAKE_PROFIT : BT_EXIT_TAKE_PROFIT);
        }
        if (rep) assert_true(t[1].entry_ts_us > t[0].exit_ts_us);
        backtest_free(bt);
    }
}

/* TAIFEX's transaction tax: 0.00002 x price x multiplier per contract per side, rounded. */
static void test_tax_rounding(void **state) {
    (void)state;
    near(backtest_tax_per_contract(0.00002, 23150, 200), 93); /* 92.6 */
    near(backtest_tax_per_contract(0.00002, 23150, 50), 23);  /* 23.15 */
    near(backtest_tax_per_contract(0.00002, 22500, 50), 23);  /* 22.5 rounds up */
    near(backtest_tax_per_contract(0, 23150, 200), 0);
}

/* With TAIFEX sessions a night session belongs to the day session after it: Friday night and
 * the early hours of Saturday are Monday's; a trailing night with no day after it is dated the
 * next weekday. */
static void test_trading_days(void **state) {
    (void)state;
    backtest_config cfg;
    backtest_config_default(&cfg);
    cfg.taifex_sessions = true;
    cfg.tax_rate = 0;
    backtest *bt = backtest_new(&cfg);
    int64_t fri = INT64_C(1626937200) * SEC; /* 2021-07-22 15:00 +08:00, a Thursday */
    int64_t h = 3600 * SEC;
    backtest_on_tick(bt, SYM, 100, fri - 4 * h);          /* Thursday 11:00: Thursday */
    backtest_on_tick(bt, SYM, 100, fri + 24 * h);         /* Friday 15:00: Monday */
    backtest_on_tick(bt, SYM, 100, fri + 35 * h);         /* Saturday 02:00: Monday */
    backtest_on_tick(bt, SYM, 100, fri + 90 * h);         /* Monday 09:00 */
    backtest_on_tick(bt, SYM, 100, fri + 96 * h);         /* Monday 15:00: Tuesday's night */
    backtest_finish(bt);
    const equity_series *eq = backtest_daily_equity(bt);
    const char *want[] = {"2021-07-22", "2021-07-26", "2021-07-27"};
    assert_int_equal(eq->n, 3);
    for (size_t i = 0; i < 3; i++) {
        char d[11];
        equity_format_date(eq->pts[i].day, d);
        assert_string_equal(d, want[i]);
    }
    backtest_free(bt);
}

static void test_same_tick_fills(void **state) {
    (void)state;
    backtest_config cfg;
    backtest_config_default(&cfg);
    cfg.fill = BT_FILL_SAME_TICK;
    cfg.tax_rate = 0;
    backtest *bt = two_conditions(&cfg);
    for (size_t i = 0; i < NPATH; i++) assert_true(backtest_on_tick(bt, SYM, path[i], T0 + (int64_t)i * SEC));
    backtest_finish(bt);
    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    assert_int_equal(n, 2);
    /* BUY at 22010 (tick 2), TP at 22100 (tick 4); SELL 2 at 22090 (tick 5), SL at 22125 (tick 7) */
    assert_int_equal(t[0].entry_price, 22010);
    assert_int_equal(t[0].exit_price, 22100);
    assert_int_equal(t[0].points, 90);
    assert_int_equal(t[1].entry_price, 22090);
    assert_int_equal(t[1].exit_price, 22125);
    assert_int_equal(t[1].points, -70);
    backtest_summary s;
    backtest_get_summary(bt, &s);
    near(s.net_pnl, (90 - 70) * 200.0);
    near(s.costs, 0);
    near(s.profit_factor, 18000.0 / 14000.0);
    backtest_free(bt);
}

static void test_end_of_data(void **state) {
    (void)state;
    backtest_config cfg;
    backtest_config_default(&cfg);
    cfg.tax_rate = 0;
    cfg.multiplier = 50;
    backtest *bt = backtest_new(&cfg);
    condition c;
    condition_init(&c, 7, SYM, SIDE_BUY, 100, 5, 3, 50, 50, false);   /* order 105 */
    assert_true(backtest_add_condition(bt, &c));
    condition_init(&c, 8, SYM, SIDE_SELL, 200, 5, 1, 50, 50, false);  /* never triggers */
    assert_true(backtest_add_condition(bt, &c));
    const double px[] = {100, 105, 107, 110};
    for (size_t i = 0; i < 4; i++) backtest_on_tick(bt, SYM, px[i], T0 + (int64_t)i * SEC);
    backtest_finish(bt);
    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].entry_price, 107);
    assert_int_equal(t[0].exit_price, 110);
    assert_int_equal(t[0].reason, BT_EXIT_END_OF_DATA);
    assert_int_equal(t[0].points, 9);
    near(t[0].gross, 9 * 50.0);
    assert_string_equal(bt_reason_name(t[0].reason), "end of data");
    backtest_free(bt);

    /* an entry signalled on the last tick never fills: no trade, counted as unfilled */
    bt = backtest_new(&cfg);
    condition_init(&c, 1, SYM, SIDE_BUY, 100, 5, 1, 50, 50, false);
    assert_true(backtest_add_condition(bt, &c));
    backtest_on_tick(bt, SYM, 100, T0);
    backtest_on_tick(bt, SYM, 105, T0 + SEC);
    backtest_finish(bt);
    t = backtest_trades(bt, &n);
    assert_int_equal(n, 0);
    backtest_summary s;
    backtest_get_summary(bt, &s);
    assert_int_equal(s.unfilled_entries, 1);
    assert_int_equal(s.trades, 0);
    near(s.profit_factor, 0);
    near(s.final_equity, cfg.capital);
    backtest_free(bt);

    /* an exit signalled on the last tick fills at that tick's price */
    bt = backtest_new(&cfg);
    condition_init(&c, 1, SYM, SIDE_BUY, 100, 5, 1, 10, 10, false); /* order 105, TP 115 */
    assert_true(backtest_add_condition(bt, &c));
    const double px2[] = {100, 105, 106, 120};
    for (size_t i = 0; i < 4; i++) backtest_on_tick(bt, SYM, px2[i], T0 + (int64_t)i * SEC);
    backtest_finish(bt);
    t = backtest_trades(bt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].reason, BT_EXIT_TAKE_PROFIT);
    assert_int_equal(t[0].entry_price, 106);
    assert_int_equal(t[0].exit_price, 120);
    backtest_get_summary(bt, &s);
    near(s.profit_factor, INFINITY);
    backtest_free(bt);
}

static void test_daily_series_and_sharpe(void **state) {
    (void)state;
    backtest_config cfg = plain_config(1000);
    backtest *bt = backtest_new(&cfg);
    condition c;
    condition_init(&c, 1, SYM, SIDE_BUY, 100, 10, 1, 1000, 1000, false); /* order 110, held */
    assert_true(backtest_add_condition(bt, &c));
    /* day 1 (+08:00): enter at 110, close the day at 120; day 2: 100; day 3: 130 */
    int64_t day = 86400 * SEC;
    backtest_on_tick(bt, SYM, 100, T0);
    backtest_on_tick(bt, SYM, 110, T0 + SEC);
    backtest_on_tick(bt, SYM, 120, T0 + 2 * SEC);
    backtest_on_tick(bt, SYM, 100, T0 + day);
    backtest_on_tick(bt, SYM, 130, T0 + 2 * day);
    backtest_finish(bt);
    const equity_series *eq = backtest_daily_equity(bt);
    /* no row before the data: the capital is the base of the first day's return */
    assert_int_equal(eq->n, 3);
    near(eq->pts[0].equity, 1010);
    near(eq->pts[1].equity, 990);
    near(eq->pts[2].equity, 1020);
    assert_int_equal(eq->pts[1].day - eq->pts[0].day, 1);
    backtest_summary s;
    backtest_get_summary(bt, &s);
    double r[3] = {1010.0 / 1000 - 1, 990.0 / 1010 - 1, 1020.0 / 990 - 1};
    double mean = (r[0] + r[1] + r[2]) / 3, var = 0;
    for (int i = 0; i < 3; i++) var += (r[i] - mean) * (r[i] - mean);
    var /= 2;
    assert_true(s.sharpe_valid);
    near(s.sharpe, mean / sqrt(var) * sqrt(252));
    near(s.max_drawdown, -20); /* the daily closes: 1010 -> 990 */
    near(s.max_drawdown_pct, -20.0 / 1010 * 100);
    near(s.drawdown_days, 1);
    double down = sqrt(r[1] * r[1] / 3);
    assert_true(s.sortino_valid && s.calmar_valid);
    near(s.sortino, mean / down * sqrt(252));
    near(s.calmar, (pow(1.02, 84) - 1) * 100 / (20.0 / 1010 * 100));
    assert_int_equal(s.days, 3);
    near(s.exposure, 4.0 / 5.0);
    backtest_free(bt);
}

/* The curve for the chart: the capital at the first tick, then each minute's high, low and
 * last equity in tick order, each once; the last point is the final equity. */
static void test_equity_curve(void **state) {
    (void)state;
    backtest_config cfg = plain_config(1000);
    backtest *bt = backtest_new(&cfg);
    condition c;
    condition_init(&c, 1, SYM, SIDE_BUY, 100, 10, 1, 1000, 1000, false); /* order 110, held */
    assert_true(backtest_add_condition(bt, &c));
    int64_t min = 60 * SEC;
    backtest_on_tick(bt, SYM, 100, T0);             /* minute 0 */
    backtest_on_tick(bt, SYM, 110, T0 + SEC);       /* enters at 110 */
    backtest_on_tick(bt, SYM, 115, T0 + 59 * SEC);  /* minute 0 ends at 1005 */
    backtest_on_tick(bt, SYM, 105, T0 + min);       /* minute 1: 995 */
    backtest_on_tick(bt, SYM, 125, T0 + 5 * min);   /* minute 5: 1015 */
    backtest_finish(bt);                            /* closed at 125: 1015 */
    size_t n;
    const backtest_point *p = backtest_equity_curve(bt, &n);
    assert_int_equal(n, 4);
    assert_true(p[0].ts_us == T0);
    near(p[0].equity, 1000);
    assert_true(p[1].ts_us == T0 + 59 * SEC);
    near(p[1].equity, 1005);
    assert_true(p[2].ts_us == T0 + min);
    near(p[2].equity, 995);
    assert_true(p[3].ts_us == T0 + 5 * min);
    near(p[3].equity, 1015);
    backtest_summary s;
    backtest_get_summary(bt, &s);
    near(s.final_equity, p[n - 1].equity);
    backtest_free(bt);
}

/* Within a minute the high and the low are kept, so the curve's drawdown is the tick-by-tick
 * one: 1000 -> 1020 -> 980 -> 1000 in one minute is a 3.92 % drawdown, not none. */
static void test_curve_keeps_extremes(void **state) {
    (void)state;
    backtest_config cfg = plain_config(1000);
    backtest *bt = backtest_new(&cfg);
    condition c;
    condition_init(&c, 1, SYM, SIDE_BUY, 100, 10, 1, 1000, 1000, false);
    assert_true(backtest_add_condition(bt, &c));
    const double px[] = {100, 110, 130, 90, 105, 110};
    for (int i = 0; i < 6; i++) backtest_on_tick(bt, SYM, px[i], T0 + i * SEC);
    backtest_on_tick(bt, SYM, 112, T0 + 120 * SEC);
    backtest_finish(bt);
    size_t n;
    const backtest_point *p = backtest_equity_curve(bt, &n);
    /* start 1000, then minute 0: high 1020 (tick 2), low 980 (tick 3), last 1000 (tick 5);
     * minute 2: 1002 */
    assert_int_equal(n, 5);
    near(p[1].equity, 1020);
    near(p[2].equity, 980);
    near(p[3].equity, 1000);
    assert_true(p[1].ts_us < p[2].ts_us && p[2].ts_us < p[3].ts_us);
    backtest_summary s;
    backtest_get_summary(bt, &s);
    near(s.intraday_max_drawdown, -40);
    near(s.intraday_max_drawdown_pct, -40.0 / 1020 * 100);
    near(s.intraday_drawdown_s, 118); /* from the peak at 0:02 to the end at 2:00, under water */
    backtest_free(bt);
}

/* --latency-ms: an order reaches the market at the first tick at least N ms after its signal. */
static void test_latency(void **state) {
    (void)state;
    backtest_config cfg;
    backtest_config_default(&cfg);
    cfg.tax_rate = 0;
    cfg.multiplier = 1;
    cfg.latency_ms = 250;
    backtest *bt = backtest_new(&cfg);
    condition c;
    condition_init(&c, 1, SYM, SIDE_BUY, 100, 10, 1, 20, 1000, false); /* order 110, TP 130 */
    assert_true(backtest_add_condition(bt, &c));
    int64_t ms = 1000;
    backtest_on_tick(bt, SYM, 100, T0);
    backtest_on_tick(bt, SYM, 110, T0 + 100 * ms); /* entry signalled: market from 350 ms */
    backtest_on_tick(bt, SYM, 111, T0 + 200 * ms); /* too soon */
    backtest_on_tick(bt, SYM, 112, T0 + 349 * ms); /* too soon */
    backtest_on_tick(bt, SYM, 113, T0 + 350 * ms); /* fills here */
    backtest_on_tick(bt, SYM, 133, T0 + 400 * ms); /* take profit signalled (>= 133): from 650 ms */
    backtest_on_tick(bt, SYM, 140, T0 + 600 * ms);
    backtest_on_tick(bt, SYM, 125, T0 + 700 * ms); /* fills here */
    backtest_on_tick(bt, SYM, 150, T0 + 800 * ms);
    backtest_finish(bt);
    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].entry_price, 113);
    assert_int_equal(t[0].entry_ts_us, T0 + 350 * ms);
    assert_int_equal(t[0].exit_price, 125);
    assert_int_equal(t[0].exit_ts_us, T0 + 700 * ms);
    assert_int_equal(t[0].reason, BT_EXIT_TAKE_PROFIT);
    backtest_free(bt);

    /* an entry whose time never comes goes unfilled; an exit on its way fills at the end */
    bt = backtest_new(&cfg);
    assert_true(backtest_add_condition(bt, &c));
    backtest_on_tick(bt, SYM, 100, T0);
    backtest_on_tick(bt, SYM, 110, T0 + 100 * ms);
    backtest_on_tick(bt, SYM, 111, T0 + 300 * ms);
    backtest_finish(bt);
    backtest_summary s;
    backtest_get_summary(bt, &s);
    assert_int_equal(s.trades, 0);
    assert_int_equal(s.unfilled_entries, 1);
    backtest_free(bt);
}

/* Limit entries fill at their price only when a tick trades through it: at the price is not
 * enough. */
static void test_limit_crossing(void **state) {
    (void)state;
    backtest_config cfg;
    backtest_config_default(&cfg);
    cfg.tax_rate = 0;
    cfg.multiplier = 1;
    cfg.slippage_points = 3; /* market fills only */
    cfg.limit_entries = true;
    backtest *bt = backtest_new(&cfg);
    condition c;
    condition_init(&c, 1, SYM, SIDE_BUY, 100, 10, 1, 1000, 1000, false); /* buy limit at 110 */
    assert_true(backtest_add_condition(bt, &c));
    condition_init(&c, 2, SYM, SIDE_SELL, 200, 10, 1, 1000, 1000, false); /* sell limit at 190 */
    assert_true(backtest_add_condition(bt, &c));
    backtest_on_tick(bt, SYM, 100, T0);
    backtest_on_tick(bt, SYM, 110, T0 + 1 * SEC); /* buy signalled at 110 */
    backtest_on_tick(bt, SYM, 110, T0 + 2 * SEC); /* touches: no fill */
    backtest_on_tick(bt, SYM, 115, T0 + 3 * SEC);
    backtest_on_tick(bt, SYM, 109, T0 + 4 * SEC); /* trades through: fills at 110 */
    backtest_on_tick(bt, SYM, 200, T0 + 5 * SEC);
    backtest_on_tick(bt, SYM, 190, T0 + 6 * SEC); /* sell signalled at 190 */
    backtest_on_tick(bt, SYM, 190, T0 + 7 * SEC); /* touches: no fill */
    backtest_on_tick(bt, SYM, 185, T0 + 8 * SEC); /* the wrong way: no fill */
    backtest_finish(bt);                          /* never crossed: unfilled */
    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].condition_id, 1);
    assert_int_equal(t[0].entry_price, 110);
    assert_int_equal(t[0].entry_ts_us, T0 + 4 * SEC);
    assert_int_equal(t[0].reason, BT_EXIT_END_OF_DATA);
    assert_int_equal(t[0].exit_price, 185 - 3); /* the exit is a market order: slippage */
    backtest_summary s;
    backtest_get_summary(bt, &s);
    assert_int_equal(s.unfilled_entries, 1);
    backtest_free(bt);

    /* the sell side crosses upwards */
    bt = backtest_new(&cfg);
    assert_true(backtest_add_condition(bt, &c));
    backtest_on_tick(bt, SYM, 200, T0);
    backtest_on_tick(bt, SYM, 190, T0 + 1 * SEC);
    backtest_on_tick(bt, SYM, 191, T0 + 2 * SEC); /* fills at 190 */
    backtest_finish(bt);
    t = backtest_trades(bt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].entry_price, 190);
    assert_int_equal(t[0].entry_ts_us, T0 + 2 * SEC);
    backtest_free(bt);
}

/* ---- conditions.json ----------------------------------------------------------------------- */

static const char *original_json =
    "[\n"
    "  {\n"
    "    \"condition_id\": \"eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d21\",\n"
    "    \"action\": \"BUY\",\n"
    "    \"trigger_price\": 21990,\n"
    "    \"quantity\": 1,\n"
    "    \"turning_point\": 30,\n"
    "    \"take_profit_point\": 120,\n"
    "    \"stop_loss_point\": 30,\n"
    "    \"take_profit_price\": 22150,\n"
    "    \"stop_loss_price\": 22000,\n"
    "    \"order_price\": 22030,\n"
    "    \"is_following\": true,\n"
    "    \"is_trigger\": true,\n"
    "    \"is_ordered\": false,\n"
    "    \"is_exited\": false\n"
    "  },\n"
    "  {\"condition_id\": \"not-a-uuid\", \"action\": \"BUY\", \"trigger_price\": 1, \"quantity\": 1},\n"
    "  {\"condition_id\": \"0c3f1a6b-2d67-4f8b-9a8e-eea76b9e7d21\", \"action\": \"buy\", \"trigger_price\": 1},\n"
    "  {\"condition_id\": \"{0C3F1A6B2D674F8B9A8EEEA76B9E7D22}\", \"action\": \"SELL\", \"trigger_price\": 22500,\n"
    "   \"quantity\": 3, \"symbol\": \"MTX202507\"},\n"
    "  {\"condition_id\": \"0c3f1a6b-2d67-4f8b-9a8e-eea76b9e7d23\", \"action\": \"SELL\", \"trigger_price\": \"x\"},\n"
    "  {\"condition_id\": \"0c3f1a6b-2d67-4f8b-9a8e-eea76b9e7d24\", \"action\": \"SELL\", \"trigger_price\": 100,\n"
    "   \"quantity\": 0},\n"
    "  42\n"
    "]\n";

static void test_conditions_json(void **state) {
    (void)state;
    condition_set cs;
    char err[256];
    assert_true(conditions_json_parse(original_json, SYM, &cs, err, sizeof err));
    assert_int_equal(cs.n, 2);
    assert_int_equal(cs.skipped, 5);
    const condition *a = &cs.items[0];
    assert_int_equal(a->id, 1);
    assert_string_equal(cs.uuids[0], "eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d21");
    assert_string_equal(a->symbol, SYM);
    assert_int_equal(a->side, SIDE_BUY);
    /* prices re-derived from the stored (trailed) trigger, flags cleared */
    assert_int_equal(a->trigger_price, 21990);
    assert_int_equal(a->order_price, 22020);
    assert_int_equal(a->take_profit_price, 22140);
    assert_int_equal(a->stop_loss_price, 21990);
    assert_true(a->is_following);
    assert_false(a->is_trigger);
    assert_false(a->is_ordered);
    const condition *b = &cs.items[1];
    assert_int_equal(b->id, 2);
    assert_string_equal(b->symbol, "MTX202507");
    assert_int_equal(b->side, SIDE_SELL);
    assert_int_equal(b->quantity, 3);
    assert_int_equal(b->turning_point, 15); /* defaults */
    assert_int_equal(b->take_profit_point, 90);
    assert_int_equal(b->stop_loss_point, 30);
    assert_false(b->is_following);
    assert_int_equal(b->order_price, 22485);
    condition_set_free(&cs);

    assert_false(conditions_json_parse("{\"a\": 1}", SYM, &cs, err, sizeof err));
    assert_non_null(strstr(err, "array"));
    assert_false(conditions_json_parse("[{]", SYM, &cs, err, sizeof err));
    assert_non_null(strstr(err, "line 1"));
    assert_true(conditions_json_parse("[]", SYM, &cs, err, sizeof err));
    assert_int_equal(cs.n, 0);
    condition_set_free(&cs);

    assert_false(conditions_file_load("/nonexistent/conditions.json", SYM, &cs, err, sizeof err));
    char cond_path[] = "/tmp/aftm-cond-XXXXXX";
    int fd = mkstemp(cond_path);
    assert_int_equal(write(fd, original_json, strlen(original_json)), (ssize_t)strlen(original_json));
    close(fd);
    assert_true(conditions_file_load(cond_path, SYM, &cs, err, sizeof err));
    assert_int_equal(cs.n, 2);
    condition_set_free(&cs);
    unlink(cond_path);

    assert_true(conditions_valid_uuid("eea76b9e2d674f8b9a8e0c3f1a6b7d21"));
    assert_true(conditions_valid_uuid("urn:uuid:eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d21"));
    assert_false(conditions_valid_uuid("eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d2"));
    assert_false(conditions_valid_uuid("gea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d21"));
}

/* A set built by hand (backtest --from-db): ids 1..n, the stored uuid or "#<stored id>". */
static void test_condition_set_push(void **state) {
    (void)state;
    condition_set cs;
    memset(&cs, 0, sizeof cs);
    for (int i = 0; i < 9; i++) {
        condition c;
        condition_init(&c, 100 + i, SYM, i % 2 ? SIDE_SELL : SIDE_BUY, 22000 + i, 10, 1, 50, 20, false);
        assert_true(condition_set_push(&cs, &c, i == 3 ? "eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d21" : NULL));
    }
    assert_int_equal(cs.n, 9);
    for (size_t i = 0; i < cs.n; i++) {
        assert_int_equal(cs.items[i].id, (int64_t)i + 1);
        assert_int_equal(cs.items[i].trigger_price, 22000 + (int64_t)i);
    }
    assert_string_equal(cs.uuids[0], "#100");
    assert_string_equal(cs.uuids[3], "eea76b9e-2d67-4f8b-9a8e-0c3f1a6b7d21");
    assert_string_equal(cs.uuids[8], "#108");
    condition_set_free(&cs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_tick_fills_costs_and_summary),
        cmocka_unit_test(test_tax_rounding),
        cmocka_unit_test(test_repeat),
        cmocka_unit_test(test_trading_days),
        cmocka_unit_test(test_same_tick_fills),
        cmocka_unit_test(test_end_of_data),
        cmocka_unit_test(test_daily_series_and_sharpe),
        cmocka_unit_test(test_equity_curve),
        cmocka_unit_test(test_curve_keeps_extremes),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_limit_crossing),
        cmocka_unit_test(test_conditions_json),
        cmocka_unit_test(test_condition_set_push),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
