/* aftm optimize's search: the grid text, the grid order, the threads agreeing with one thread,
 * and the walk-forward folds (each fold's in-sample best is the best of the fold before, and
 * its out-of-sample result is that set's backtest on its own fold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backtest/optimize.h"

#define SYM "TX202507"

static void test_grid_text(void **state) {
    (void)state;
    opt_range g[OPT_NPARAMS];
    char err[256];
    assert_true(opt_parse_grid("turning=5..30:5,tp=20..120:20,sl=10..60:10", g, 1000, err, sizeof err));
    assert_int_equal(opt_grid_size(g), 6 * 6 * 6);
    int64_t v[OPT_NPARAMS];
    opt_grid_point(g, 0, v);
    assert_true(v[0] == 5 && v[1] == 20 && v[2] == 10);
    opt_grid_point(g, 1, v);
    assert_true(v[0] == 5 && v[1] == 20 && v[2] == 20);
    opt_grid_point(g, 215, v);
    assert_true(v[0] == 30 && v[1] == 120 && v[2] == 60);
    assert_true(opt_parse_grid("sl=30", g, 1000, err, sizeof err));
    assert_int_equal(opt_grid_size(g), 1);
    opt_grid_point(g, 0, v);
    assert_true(v[0] == -1 && v[1] == -1 && v[2] == 30);
    assert_false(opt_parse_grid("foo=1..2", g, 1000, err, sizeof err));
    assert_false(opt_parse_grid("tp=9..3", g, 1000, err, sizeof err));
    assert_false(opt_parse_grid("tp=1..2:0", g, 1000, err, sizeof err));
    assert_false(opt_parse_grid("tp=1..5,tp=2", g, 1000, err, sizeof err));
    assert_false(opt_parse_grid("tp=1..1000", g, 999, err, sizeof err));
    assert_non_null(strstr(err, "1000 points"));
}

/* A saw-tooth market: 100 -> 140 -> 100 ... so that different points give different results. */
static opt_tick *saw(size_t n) {
    opt_tick *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++) {
        size_t k = i % 80;
        t[i].price = 100 + (double)(k < 40 ? k : 80 - k) + (double)(i / 400);
        t[i].ts_us = INT64_C(1750057200000000) + (int64_t)i * 1000000;
    }
    return t;
}

static void job_init(opt_job *j, opt_tick *t, size_t n, condition *c) {
    memset(j, 0, sizeof *j);
    backtest_config_default(&j->cfg);
    j->cfg.multiplier = 1;
    j->cfg.tax_rate = 0;
    condition_init(c, 1, SYM, SIDE_BUY, 105, 3, 1, 10, 10, false);
    static bool rep = true;
    j->ticks = t;
    j->nticks = n;
    j->symbol = SYM;
    j->conds = c;
    j->repeat = &rep;
    j->nconds = 1;
    char err[64];
    assert_true(opt_parse_grid("turning=1..9:2,tp=5..25:5", j->grid, 1000, err, sizeof err));
}

static void test_threads_agree(void **state) {
    (void)state;
    size_t n = 4000;
    opt_tick *t = saw(n);
    condition c;
    opt_job j;
    job_init(&j, t, n, &c);
    size_t np = opt_grid_size(j.grid);
    opt_result *a = malloc(np * sizeof *a), *b = malloc(np * sizeof *b);
    j.threads = 1;
    assert_true(opt_run(&j, 0, n, OPT_METRIC_NET, a));
    j.threads = 4;
    assert_true(opt_run(&j, 0, n, OPT_METRIC_NET, b));
    bool differ = false;
    for (size_t i = 0; i < np; i++) {
        assert_true(a[i].s.net_pnl == b[i].s.net_pnl);
        assert_int_equal(a[i].s.trades, b[i].s.trades);
        assert_true(a[i].metric == a[i].s.net_pnl);
        if (a[i].s.net_pnl != a[0].s.net_pnl) differ = true;
    }
    assert_true(differ); /* the grid matters on this market */
    size_t top[3];
    assert_int_equal(opt_top(a, np, 3, top), 3);
    assert_int_equal(top[0], opt_best(a, np));
    assert_true(a[top[0]].metric >= a[top[1]].metric && a[top[1]].metric >= a[top[2]].metric);
    free(a);
    free(b);
    free(t);
}

static void test_walk_forward_folds(void **state) {
    (void)state;
    size_t n = 4000, k = 4;
    opt_tick *t = saw(n);
    condition c;
    opt_job j;
    job_init(&j, t, n, &c);
    j.threads = 2;
    opt_fold f[3];
    assert_true(opt_walk_forward(&j, k, OPT_METRIC_NET, f));
    size_t np = opt_grid_size(j.grid);
    opt_result *r = malloc(np * sizeof *r);
    for (size_t i = 0; i < k - 1; i++) {
        assert_int_equal(f[i].fold, i + 1);
        assert_int_equal(f[i].is_from, n * i / k);
        assert_int_equal(f[i].is_to, n * (i + 1) / k);
        assert_int_equal(f[i].oos_from, f[i].is_to);
        assert_int_equal(f[i].oos_to, n * (i + 2) / k);
        /* in sample: the best of the fold before */
        assert_true(opt_run(&j, f[i].is_from, f[i].is_to, OPT_METRIC_NET, r));
        size_t b = opt_best(r, np);
        assert_true(f[i].in_sample.metric == r[b].metric);
        assert_memory_equal(f[i].in_sample.vals, r[b].vals, sizeof r[b].vals);
        /* out of sample: the same set on this fold */
        assert_true(opt_run(&j, f[i].oos_from, f[i].oos_to, OPT_METRIC_NET, r));
        assert_true(f[i].out_of_sample.s.net_pnl == r[b].s.net_pnl);
    }
    assert_false(opt_walk_forward(&j, 1, OPT_METRIC_NET, f));
    free(r);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_text),
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_walk_forward_folds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
