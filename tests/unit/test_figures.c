/* The figures module against values worked out by hand: return and drawdown against a base,
 * drawdown duration in time and in points, closed time collapsed, Sharpe / Sortino / Calmar
 * of daily closes, and the trade figures (expectancy, averages, streaks, trades per day). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "report/figures.h"

static void near(double got, double want) {
    if (fabs(got - want) > 1e-6 * (fabs(want) > 1 ? fabs(want) : 1)) fail_msg("got %.12g, want %.12g", got, want);
}

static void test_curve(void **state) {
    (void)state;
    /* base 100: 110 is a peak, 99 is 10 % under it, back above at t = 3 */
    fig_point p[] = {{0, 110}, {1, 99}, {2, 104.5}, {3, 121}, {4, 121}};
    fig_curve c;
    assert_true(fig_curve_compute(p, 5, 100, &c));
    near(c.return_pct, 21);
    near(c.max_dd, -11);
    near(c.max_dd_pct, -10);
    assert_int_equal(c.dd_trough_index, 1);
    near(c.dd_duration, 3);
    assert_int_equal(c.dd_points, 2);
    assert_true(c.peak == 121 && c.peak_index == 3 && c.trough == 99);

    /* under the base from the start, never back: the base is the first peak */
    fig_point q[] = {{10, 95}, {11, 97}};
    assert_true(fig_curve_compute(q, 2, 100, &c));
    near(c.return_pct, -3);
    near(c.max_dd_pct, -5);
    near(c.max_dd, -5);
    near(c.dd_duration, 1);
    assert_int_equal(c.dd_points, 2);
    /* without a base: the first point is the base (the original's chart) */
    assert_true(fig_curve_compute(q, 2, NAN, &c));
    near(c.return_pct, 200.0 / 95);
    assert_true(c.max_dd_pct == 0 && c.dd_points == 0);
    assert_false(fig_curve_compute(q, 0, 100, &c));

    double dd[5];
    fig_drawdown_series(p, 5, 100, dd);
    near(dd[0], 0);
    near(dd[1], -10);
    near(dd[2], -5);
    near(dd[3], 0);
}

static void test_collapse(void **state) {
    (void)state;
    fig_point p[] = {{0, 1}, {0.01, 1}, {1.0, 1}, {1.01, 1}, {3.0, 1}};
    fig_collapse_closed(p, 5, 0.02);
    near(p[1].t, 0.01);
    near(p[2].t, 0.01);
    near(p[3].t, 0.02);
    near(p[4].t, 0.02);
}

static void test_ratios(void **state) {
    (void)state;
    /* closes 110, 99, 108.9 on a capital of 100: returns +10 %, -10 %, +10 % */
    equity_series s = {0};
    assert_true(equity_append(&s, 100, 110));
    assert_true(equity_append(&s, 101, 99));
    assert_true(equity_append(&s, 104, 108.9));
    fig_ratios r;
    fig_ratios_compute(&s, 100, &r);
    assert_int_equal(r.days, 3);
    double mean = 0.1 / 3, sd = sqrt((2 * pow(0.2 / 3, 2) + pow(0.4 / 3, 2)) / 2);
    assert_true(r.sharpe_valid && r.sortino_valid && r.calmar_valid);
    near(r.sharpe, mean / sd * sqrt(252));
    near(r.sortino, mean / sqrt(0.01 / 3) * sqrt(252));
    near(r.annual_return_pct, (pow(1.089, 84) - 1) * 100);
    near(r.calmar, (pow(1.089, 84) - 1) * 100 / 10);

    /* one day: nothing annualised is valid */
    equity_series one = {0};
    assert_true(equity_append(&one, 100, 103.6));
    fig_ratios_compute(&one, 100, &r);
    assert_false(r.sharpe_valid || r.sortino_valid || r.calmar_valid);
    /* two rising days: Sharpe, no Sortino (no losing day), no Calmar (no drawdown) */
    assert_true(equity_append(&one, 101, 110));
    fig_ratios_compute(&one, 100, &r);
    assert_true(r.sharpe_valid && !r.sortino_valid && !r.calmar_valid);
    equity_free(&s);
    equity_free(&one);
}

static void test_trades(void **state) {
    (void)state;
    const double net[] = {100, 200, -50, 0, -30, -20, 300};
    fig_trades t;
    fig_trades_compute(net, 7, 2, &t);
    assert_true(t.trades == 7 && t.wins == 3 && t.losses == 3);
    near(t.win_rate, 3.0 / 7);
    near(t.net, 500);
    near(t.expectancy, 500.0 / 7);
    near(t.avg_win, 200);
    near(t.avg_loss, -100.0 / 3);
    near(t.profit_factor, 6);
    assert_int_equal(t.win_streak, 2);
    assert_int_equal(t.loss_streak, 2); /* the flat trade ends the first losing run */
    near(t.trades_per_day, 3.5);

    fig_trades_compute(net, 2, 0, &t);
    assert_true(isinf(t.profit_factor) && t.avg_loss == 0 && t.trades_per_day == 0);
    fig_trades_compute(NULL, 0, 1, &t);
    assert_true(t.trades == 0 && t.profit_factor == 0 && t.expectancy == 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curve),
        cmocka_unit_test(test_collapse),
        cmocka_unit_test(test_ratios),
        cmocka_unit_test(test_trades),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
