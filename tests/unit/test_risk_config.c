/* Risk limits from INI: every key, defaults for what is missing, clear errors for the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "app/executor/risk_config.h"

static char err[512];

/* Field by field: struct padding is not part of the value. */
static void assert_limits_equal(const risk_limits *a, const risk_limits *b) {
    assert_int_equal(a->max_lots_per_order, b->max_lots_per_order);
    assert_int_equal(a->max_position_per_product, b->max_position_per_product);
    assert_int_equal(a->max_open_orders, b->max_open_orders);
    assert_int_equal(a->max_orders_per_second, b->max_orders_per_second);
    assert_int_equal(a->daily_loss_limit, b->daily_loss_limit);
    assert_int_equal(a->trading_hours, b->trading_hours);
    assert_int_equal(a->day_session.start_min, b->day_session.start_min);
    assert_int_equal(a->day_session.end_min, b->day_session.end_min);
    assert_int_equal(a->night_session.start_min, b->night_session.start_min);
    assert_int_equal(a->night_session.end_min, b->night_session.end_min);
    assert_int_equal(a->trading_days, b->trading_days);
    assert_int_equal(a->price_band_points, b->price_band_points);
    assert_int_equal(a->stale_signal_ms, b->stale_signal_ms);
    assert_int_equal(a->refuse_duplicates, b->refuse_duplicates);
}

static void test_null_path_gives_defaults(void **state) {
    (void)state;
    risk_limits l;
    memset(&l, 0xAB, sizeof l);
    assert_true(risk_config_load(NULL, &l, err, sizeof err));
    risk_limits d = risk_limits_default();
    assert_limits_equal(&l, &d);
}

static void test_every_key(void **state) {
    (void)state;
    const char *text = "; risk limits\n"
                       "[risk]\n"
                       "max_lots_per_order = 4\n"
                       "max_position_per_product = 8\n"
                       "max_open_orders = 0\n"
                       "max_orders_per_second = 5 ; inline comment\n"
                       "daily_loss_limit = 250000\n"
                       "trading_hours = off\n"
                       "day_session = 09:00-13:30\n"
                       "night_session = off\n"
                       "trading_days = sun-thu, sat\n"
                       "price_band_points = 0\n"
                       "stale_signal_ms = 2500\n"
                       "refuse_duplicates = No\n";
    risk_limits l;
    assert_true(risk_config_parse(text, &l, err, sizeof err));
    assert_int_equal(l.max_lots_per_order, 4);
    assert_int_equal(l.max_position_per_product, 8);
    assert_int_equal(l.max_open_orders, 0);
    assert_int_equal(l.max_orders_per_second, 5);
    assert_int_equal(l.daily_loss_limit, 250000);
    assert_false(l.trading_hours);
    assert_int_equal(l.day_session.start_min, 9 * 60);
    assert_int_equal(l.day_session.end_min, 13 * 60 + 30);
    assert_int_equal(l.night_session.start_min, l.night_session.end_min);
    assert_int_equal(l.trading_days, 0x1Fu | 0x40u);
    assert_int_equal(l.price_band_points, 0);
    assert_int_equal(l.stale_signal_ms, 2500);
    assert_false(l.refuse_duplicates);
}

static void test_missing_keys_keep_defaults(void **state) {
    (void)state;
    risk_limits l;
    assert_true(risk_config_parse("[risk]\nmax_lots_per_order = 3\n", &l, err, sizeof err));
    risk_limits d = risk_limits_default();
    d.max_lots_per_order = 3;
    assert_limits_equal(&l, &d);
    /* Empty text is fine, and the section name's case does not matter. */
    assert_true(risk_config_parse("", &l, err, sizeof err));
    assert_true(risk_config_parse("[RISK]\ntrading_hours = yes\n", &l, err, sizeof err));
    assert_true(l.trading_hours);
}

static void test_bool_spellings(void **state) {
    (void)state;
    const char *yes[] = {"on", "ON", "true", "yes", "1"};
    const char *no[] = {"off", "False", "no", "0"};
    char text[128];
    risk_limits l;
    for (size_t i = 0; i < 5; i++) {
        snprintf(text, sizeof text, "[risk]\ntrading_hours = %s\n", yes[i]);
        assert_true(risk_config_parse(text, &l, err, sizeof err));
        assert_true(l.trading_hours);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(text, sizeof text, "[risk]\ntrading_hours = %s\n", no[i]);
        assert_true(risk_config_parse(text, &l, err, sizeof err));
        assert_false(l.trading_hours);
    }
}

static void test_days_and_sessions(void **state) {
    (void)state;
    risk_limits l;
    assert_true(risk_config_parse("[risk]\ntrading_days = fri-mon\n", &l, err, sizeof err));
    assert_int_equal(l.trading_days, (1u << 5) | (1u << 6) | (1u << 0) | (1u << 1));
    assert_true(risk_config_parse("[risk]\ntrading_days = mon,wed,fri\n", &l, err, sizeof err));
    assert_int_equal(l.trading_days, (1u << 1) | (1u << 3) | (1u << 5));
    assert_true(risk_config_parse("[risk]\ntrading_days = none\n", &l, err, sizeof err));
    assert_int_equal(l.trading_days, 0);
    assert_true(risk_config_parse("[risk]\nnight_session = 15:00-05:00\n", &l, err, sizeof err));
    assert_int_equal(l.night_session.start_min, 900);
    assert_int_equal(l.night_session.end_min, 300);
}

/* The text fails, the message names the line and contains want, and *out is untouched. */
static void expect_error(const char *text, int line, const char *want) {
    risk_limits l = risk_limits_default();
    l.max_lots_per_order = 77;
    risk_limits before = l;
    err[0] = '\0';
    assert_false(risk_config_parse(text, &l, err, sizeof err));
    assert_limits_equal(&l, &before);
    char linebuf[32];
    snprintf(linebuf, sizeof linebuf, "line %d:", line);
    if (!strstr(err, linebuf) || !strstr(err, want)) fail_msg("unexpected error: %s", err);
}

static void test_errors(void **state) {
    (void)state;
    expect_error("[risk]\nmax_lots = 3\n", 2, "unknown key 'max_lots'");
    expect_error("[risk]\nmax_lots_per_order = 3\nmax_open_orders = ten\n", 3,
                 "max_open_orders: 'ten' is not an integer");
    expect_error("[risk]\nmax_lots_per_order = 3.5\n", 2, "max_lots_per_order");
    expect_error("[risk]\nmax_lots_per_order =\n", 2, "max_lots_per_order");
    expect_error("[risk]\nmax_orders_per_second = 100000\n", 2,
                 "max_orders_per_second: 100000 is out of range 0..1000");
    /* a negative limit is an error, not a silent "off" */
    expect_error("[risk]\nmax_position_per_product = -20\n", 2,
                 "max_position_per_product: -20 is out of range 0..");
    expect_error("[risk]\ndaily_loss_limit = -1\n", 2, "daily_loss_limit: -1 is out of range");
    expect_error("[risk]\nmax_lots_per_order = 9223372036854775807\n", 2, "max_lots_per_order");
    expect_error("[risk]\nmax_lots_per_order = 99999999999999999999\n", 2, "not an integer");
    /* a misspelt section is not skipped: its limits would silently stay at the defaults */
    expect_error("[rsk]\nmax_lots_per_order = 3\n", 2, "unknown section [rsk]");
    expect_error("[risk]\nmax_lots_per_order = 3\n[executor]\nanything = goes\n", 4, "unknown section [executor]");
    expect_error("[risk]\ntrading_hours = maybe\n", 2, "trading_hours: 'maybe' is not on or off");
    expect_error("[risk]\nday_session = 8:45-13:45\n", 2, "day_session");
    expect_error("[risk]\nday_session = 08:45-24:00\n", 2, "day_session");
    expect_error("[risk]\nday_session = 08:45-08:45\n", 2, "day_session");
    expect_error("[risk]\nnight_session = 15:00 - 05:00\n", 2, "night_session");
    expect_error("[risk]\ntrading_days = mon-funday\n", 2, "trading_days");
    expect_error("[risk]\ntrading_days = mon,\n", 2, "trading_days");
    expect_error("[risk]\ntrading_days = \n", 2, "trading_days");
    expect_error("[risk]\nstale_signal_ms = 1\nstale_signal_ms = 2\n", 3, "given twice");
    expect_error("max_lots_per_order = 3\n[risk]\n", 1, "outside the [risk] section");
    expect_error("[risk]\nthis line has no equals sign\n", 2, "syntax error");
    /* The first error is the one reported. */
    expect_error("[risk]\n\nbogus = 1\nmax_open_orders = x\n", 3, "bogus");
}

static void test_load_file(void **state) {
    (void)state;
    char path[] = "/tmp/aftm-risk-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "[risk]\nmax_lots_per_order = 2\nprice_band_points = 120\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    risk_limits l;
    assert_true(risk_config_load(path, &l, err, sizeof err));
    assert_int_equal(l.max_lots_per_order, 2);
    assert_int_equal(l.price_band_points, 120);
    assert_int_equal(l.max_open_orders, 50);

    /* Errors from a file name the file. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[risk]\nmax_open_orders = lots\n", f);
    fclose(f);
    assert_false(risk_config_load(path, &l, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "line 2:"));
    unlink(path);

    assert_false(risk_config_load("/nonexistent/aftm/risk.ini", &l, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/aftm/risk.ini"));
    assert_non_null(strstr(err, "cannot open"));

    /* a directory is not a risk file (reading it would give no limits and no error) */
    char dir[] = "/tmp/aftm-risk-dir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_false(risk_config_load(dir, &l, err, sizeof err));
    assert_non_null(strstr(err, "not a file"));
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_path_gives_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_missing_keys_keep_defaults),
        cmocka_unit_test(test_bool_spellings),
        cmocka_unit_test(test_days_and_sessions),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
