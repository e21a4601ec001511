/* The equity log in SQLite: capital default and setting, Asia/Taipei days, upsert per day,
 * series in date order, survival across a reopen, clear; the CSV written from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "store/equity_store.h"
#include "testkit.h"

typedef struct {
    tk_home home;
    sqlite3 *db;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    tk_home_make(&f->home, "equity");
    f->db = tk_db_open(&f->home);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    db_close(f->db);
    tk_home_remove(&f->home);
    free(f);
    return 0;
}

static int64_t day(const char *ymd) {
    int64_t d;
    assert_true(equity_parse_date(ymd, strlen(ymd), &d));
    return d;
}

static void test_capital_default_and_set(void **state) {
    fixture *f = *state;
    assert_int_equal(estore_capital(f->db), EQUITY_DEFAULT_CAPITAL);
    assert_false(estore_set_capital(f->db, 0));
    assert_false(estore_set_capital(f->db, -5));
    assert_int_equal(estore_capital(f->db), EQUITY_DEFAULT_CAPITAL);
    assert_true(estore_set_capital(f->db, 149995));
    assert_int_equal(estore_capital(f->db), 149995);
}

static void test_day_is_asia_taipei(void **state) {
    (void)state;
    /* 2025-06-16 15:59:59 UTC = 23:59:59 in Taipei; one second later it is the 17th there */
    int64_t t = 1750089599;
    assert_int_equal(estore_day_of(t), day("2025-06-16"));
    assert_int_equal(estore_day_of(t + 1), day("2025-06-17"));
    /* 16:00 UTC on the 16th is still the 17th in Taipei until 16:00 UTC the next day */
    assert_int_equal(estore_day_of(t + 86400), day("2025-06-17"));
}

static void test_record_pnl_upserts_today(void **state) {
    fixture *f = *state;
    int64_t now = 1750060000; /* 2025-06-16 07:46:40 UTC, 15:46:40 in Taipei */
    assert_true(estore_record_pnl(f->db, now, 12000));
    assert_true(estore_record_pnl(f->db, now + 60, -4000)); /* same day: replaced */
    assert_true(estore_record_pnl(f->db, now + 86400, 6000));
    equity_series s;
    assert_true(estore_load(f->db, &s));
    assert_int_equal(s.n, 2);
    assert_int_equal(s.pts[0].day, day("2025-06-16"));
    assert_true(s.pts[0].equity == 996000.0);
    assert_int_equal(s.pts[1].day, day("2025-06-17"));
    assert_true(s.pts[1].equity == 1006000.0);
    equity_free(&s);
}

static void test_capital_applies_to_new_rows_only(void **state) {
    fixture *f = *state;
    assert_true(estore_record_pnl(f->db, 1750060000, 100));
    assert_true(estore_set_capital(f->db, 500000));
    assert_true(estore_record_pnl(f->db, 1750060000 + 86400, 100));
    equity_series s;
    assert_true(estore_load(f->db, &s));
    assert_int_equal(s.n, 2);
    assert_true(s.pts[0].equity == 1000100.0);
    assert_true(s.pts[1].equity == 500100.0);
    equity_free(&s);
}

static void test_series_in_date_order_and_rounded(void **state) {
    fixture *f = *state;
    equity_series in;
    memset(&in, 0, sizeof in);
    assert_true(equity_append(&in, day("2025-06-30"), 150000.4));
    assert_true(equity_append(&in, day("2025-07-01"), 150100.6));
    assert_true(equity_append(&in, day("2025-07-02"), 149000.0));
    assert_true(estore_put(f->db, day("2025-07-09"), 175532)); /* a later day already there */
    assert_true(estore_put(f->db, day("2025-07-01"), 1));      /* replaced by the series */
    assert_true(estore_put_series(f->db, &in));
    equity_free(&in);

    equity_series s;
    assert_true(estore_load(f->db, &s));
    assert_int_equal(s.n, 4);
    assert_int_equal(s.pts[0].day, day("2025-06-30"));
    assert_true(s.pts[0].equity == 150000.0);
    assert_true(s.pts[1].equity == 150101.0);
    assert_true(s.pts[2].equity == 149000.0);
    assert_int_equal(s.pts[3].day, day("2025-07-09"));
    assert_true(s.pts[3].equity == 175532.0);

    /* exported as the original's equity_log.csv: no final newline */
    char path[128], err[256], buf[256];
    snprintf(path, sizeof path, "%s/equity_log.csv", f->home.path);
    assert_true(equity_write_csv(path, &s, err, sizeof err));
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_string_equal(buf, "date,equity\n2025-06-30,150000\n2025-07-01,150101\n2025-07-02,149000\n2025-07-09,175532");
    equity_free(&s);
}

static void test_survives_reopen_and_clear(void **state) {
    fixture *f = *state;
    assert_true(estore_put(f->db, day("2025-06-01"), 149995));
    assert_true(estore_set_capital(f->db, 149995));
    db_close(f->db);
    char err[256];
    f->db = db_open(f->home.path, err, sizeof err);
    assert_non_null(f->db);
    assert_int_equal(estore_capital(f->db), 149995);
    equity_series s;
    assert_true(estore_load(f->db, &s));
    assert_int_equal(s.n, 1);
    equity_free(&s);
    assert_int_equal(estore_clear(f->db), 1);
    assert_true(estore_load(f->db, &s));
    assert_int_equal(s.n, 0);
    equity_free(&s);
    assert_int_equal(estore_clear(f->db), 0);
}

static void test_bad_rows_skipped(void **state) {
    fixture *f = *state;
    assert_true(db_exec(f->db, "INSERT INTO equity(date, equity) VALUES('not a date', 5), ('2025-06-02', 7)", NULL, 0));
    equity_series s;
    assert_true(estore_load(f->db, &s));
    assert_int_equal(s.n, 1);
    assert_true(s.pts[0].equity == 7.0);
    equity_free(&s);
}

static void count_log(void *ctx, const char *name, long long capital, size_t rows) {
    (void)name;
    (void)capital;
    *(size_t *)ctx += rows;
}

/* A backtest's named log: its own rows and capital, replaced whole, never in the live log. */
static void test_named_logs(void **state) {
    fixture *f = *state;
    assert_true(estore_log_name_ok("bt-2021.07_a"));
    assert_false(estore_log_name_ok(""));
    assert_false(estore_log_name_ok("a b"));
    assert_false(estore_log_name_ok("x;DROP"));
    equity_series s = {0}, got;
    assert_true(equity_append(&s, 18834, 1003600.4));
    assert_true(equity_append(&s, 18835, 1001000));
    assert_true(estore_log_put(f->db, "bt1", 1000000, &s, 1.0));
    long long cap = 0;
    assert_int_equal(estore_log_load(f->db, "bt1", &got, &cap), 1);
    assert_int_equal(cap, 1000000);
    assert_int_equal(got.n, 2);
    assert_true(got.pts[0].equity == 1003600 && got.pts[1].day == 18835);
    equity_free(&got);
    /* the live log is untouched */
    assert_true(estore_load(f->db, &got));
    assert_int_equal(got.n, 0);
    equity_free(&got);
    /* put again: replaced whole, with the new capital */
    equity_series one = {0};
    assert_true(equity_append(&one, 18900, 500));
    assert_true(estore_log_put(f->db, "bt1", 400, &one, 2.0));
    assert_int_equal(estore_log_load(f->db, "bt1", &got, &cap), 1);
    assert_true(got.n == 1 && cap == 400);
    equity_free(&got);
    assert_true(estore_log_put(f->db, "bt2", 1000, &s, 3.0));
    size_t rows = 0;
    assert_int_equal(estore_log_list(f->db, count_log, &rows), 2);
    assert_int_equal(rows, 3);
    assert_int_equal(estore_log_drop(f->db, "bt1"), 1);
    assert_int_equal(estore_log_drop(f->db, "bt1"), 0);
    assert_int_equal(estore_log_load(f->db, "bt1", &got, &cap), 0);
    assert_false(estore_log_put(f->db, "bad name", 1000, &s, 1.0));
    assert_false(estore_log_put(f->db, "ok", 0, &s, 1.0));
    equity_free(&s);
    equity_free(&one);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capital_default_and_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_day_is_asia_taipei, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_pnl_upserts_today, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capital_applies_to_new_rows_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_in_date_order_and_rounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_survives_reopen_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_logs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
