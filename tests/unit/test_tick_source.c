/* The simulated market's tick feeds: seeded random walk and tick-file replay, on a clock the
 * test drives by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/tick_source.h"

#define MS 1000000LL
#define SEC 1000000000LL

static void test_walk_is_seeded_and_positive(void **state) {
    (void)state;
    tick_source *a = tick_source_random_walk("TXFF5", 42, 1000, 0, 0);
    tick_source *b = tick_source_random_walk("TXFF5", 42, 1000, 0, 0);
    tick_source *c = tick_source_random_walk("TXFF5", 43, 1000, 0, 0);
    assert_non_null(a);
    broker_tick ta, tb, tc;
    bool differ = false;
    for (int i = 0; i < 2000; i++) {
        int64_t now = i * MS;
        assert_int_equal(tick_source_next(a, now, &ta), 1);
        assert_int_equal(tick_source_next(b, now, &tb), 1);
        assert_int_equal(tick_source_next(c, now, &tc), 1);
        assert_int_equal(ta.price, tb.price);
        if (ta.price != tc.price) differ = true;
        assert_string_equal(ta.symbol, "TXFF5");
        assert_true(ta.price > 19000 && ta.price < 21000);
        assert_true(ta.volume >= 1);
    }
    assert_true(differ);
    assert_int_equal(tick_source_count(a), 2000);
    tick_source_free(a);
    tick_source_free(b);
    tick_source_free(c);

    /* started next to zero it never reaches zero */
    tick_source *low = tick_source_random_walk("LOW", 7, 1000, 2, 0);
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(tick_source_next(low, i * MS, &ta), 1);
        assert_true(ta.price >= 1);
    }
    tick_source_free(low);
}

/* The listed products move with the walk: each step is the walk's tick, then one tick at the
 * same price of every other product, due at once; the pace and the count are the steps. */
static void test_walk_moves_listed_products_together(void **state) {
    (void)state;
    tick_source *s = tick_source_random_walk("TXFF5", 9, 10, 20000, 0);
    assert_non_null(s);
    const char *listed[] = {"TXFF5", "MXFF5", "TXFG5", "MXFF5", ""};
    assert_true(tick_source_walk_together(s, listed, 5));
    broker_tick t;
    for (int step = 0; step < 3; step++) {
        int64_t now = step * 100 * MS;
        assert_int_equal(tick_source_due_in_ms(s, now), 0);
        assert_int_equal(tick_source_next(s, now, &t), 1);
        assert_string_equal(t.symbol, "TXFF5");
        price_t p = t.price;
        assert_int_equal(tick_source_due_in_ms(s, now), 0); /* the others at once */
        assert_int_equal(tick_source_next(s, now, &t), 1);
        assert_string_equal(t.symbol, "MXFF5");
        assert_int_equal(t.price, p);
        assert_int_equal(tick_source_next(s, now, &t), 1);
        assert_string_equal(t.symbol, "TXFG5");
        assert_int_equal(t.price, p);
        assert_int_equal(tick_source_next(s, now, &t), 0); /* the next step is 100 ms away */
        assert_int_equal(tick_source_due_in_ms(s, now), 100);
    }
    assert_int_equal(tick_source_count(s), 3);
    tick_source_free(s);
    /* a replay plays its file's own products */
    assert_false(tick_source_walk_together(NULL, listed, 1));
}

static void test_walk_pacing(void **state) {
    (void)state;
    tick_source *s = tick_source_random_walk("TXFF5", 1, 10, 20000, 5 * SEC);
    broker_tick t;
    assert_int_equal(tick_source_due_in_ms(s, 5 * SEC), 0);
    assert_int_equal(tick_source_next(s, 5 * SEC, &t), 1);
    assert_int_equal(tick_source_next(s, 5 * SEC, &t), 0); /* the next is 100 ms later */
    assert_int_equal(tick_source_due_in_ms(s, 5 * SEC), 100);
    assert_int_equal(tick_source_due_in_ms(s, 5 * SEC + 99 * MS + 1), 1); /* rounded up */
    assert_int_equal(tick_source_next(s, 5 * SEC + 100 * MS, &t), 1);
    /* a long stall does not make a burst */
    int64_t later = 60 * SEC;
    int n = 0;
    while (tick_source_next(s, later, &t) == 1) n++;
    assert_true(n <= 2);
    assert_int_equal(tick_source_due_in_ms(s, later), 100);
    tick_source_free(s);
    assert_null(tick_source_random_walk("TXFF5", 1, 0, 0, 0));   /* rate 0 */
    assert_null(tick_source_random_walk("TXFF5", 1, -1, 0, 0));  /* negative */
    assert_null(tick_source_random_walk("", 1, 10, 0, 0));       /* no symbol */
}

static char *write_file(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/aftm-ticksrc-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static const char *CSV = "datetime,symbol,price,volume\n"
                         "2025-06-17 09:00:00,TXFF5,22000,1\n"
                         "2025-06-17 09:00:01,TXFF5,22001.4,2\n"
                         "bad row\n"
                         "2025-06-17 09:00:03,TXFF5,0,1\n"
                         "2025-06-17 09:00:04,TXFF5,21999,3\n";

static void test_replay_paced_by_the_file(void **state) {
    (void)state;
    char *path = write_file(CSV);
    char err[256];
    tick_source *s = tick_source_replay(path, 2.0, NULL, 10 * SEC, err, sizeof err);
    assert_non_null(s);
    assert_true(tick_source_is_replay(s));
    broker_tick t;
    assert_int_equal(tick_source_due_in_ms(s, 10 * SEC), 0);
    assert_int_equal(tick_source_next(s, 10 * SEC, &t), 1);
    assert_string_equal(t.symbol, "TXFF5");
    assert_int_equal(t.price, 22000);
    /* one second of file time at speed 2 is half a second */
    assert_int_equal(tick_source_due_in_ms(s, 10 * SEC), 500);
    assert_int_equal(tick_source_next(s, 10 * SEC + 499 * MS, &t), 0);
    assert_int_equal(tick_source_next(s, 10 * SEC + 500 * MS, &t), 1);
    assert_int_equal(t.price, 22001); /* rounded to a whole point */
    assert_int_equal(t.volume, 2);
    /* the zero-price row is skipped; the last row is 4 s in = 2 s */
    assert_int_equal(tick_source_due_in_ms(s, 10 * SEC + 500 * MS), 1500);
    assert_int_equal(tick_source_next(s, 12 * SEC, &t), 1);
    assert_int_equal(t.price, 21999);
    assert_int_equal(tick_source_due_in_ms(s, 12 * SEC), -1);
    assert_int_equal(tick_source_next(s, 12 * SEC, &t), -1);
    assert_int_equal(tick_source_count(s), 3);
    assert_true(tick_source_bad_rows(s) >= 1);
    assert_string_equal(tick_source_error(s), "");
    tick_source_free(s);

    /* speed 0: everything due at once; --symbol renames */
    s = tick_source_replay(path, 0, "MXFG5", 0, err, sizeof err);
    assert_non_null(s);
    int n = 0;
    while (tick_source_next(s, 0, &t) == 1) {
        assert_string_equal(t.symbol, "MXFG5");
        n++;
    }
    assert_int_equal(n, 3);
    tick_source_free(s);
    unlink(path);
}

static void test_replay_errors(void **state) {
    (void)state;
    char err[256] = "";
    assert_null(tick_source_replay("/nonexistent/ticks.csv", 1, NULL, 0, err, sizeof err));
    assert_true(err[0] != '\0');
    char *path = write_file("<html><body>not a tick file</body></html>\n");
    err[0] = '\0';
    assert_null(tick_source_replay(path, 1, NULL, 0, err, sizeof err));
    assert_true(err[0] != '\0');
    unlink(path);
    path = write_file("datetime,symbol,price,volume\n");
    err[0] = '\0';
    assert_null(tick_source_replay(path, 1, NULL, 0, err, sizeof err)); /* no ticks */
    assert_true(err[0] != '\0');
    unlink(path);
}

static void test_restart_clock(void **state) {
    (void)state;
    char *path = write_file(CSV);
    char err[256];
    tick_source *s = tick_source_replay(path, 1.0, NULL, 0, err, sizeof err);
    assert_non_null(s);
    broker_tick t;
    /* held for 100 s: the first row is due as soon as the clock restarts, the rest keep pace */
    tick_source_restart_clock(s, 100 * SEC);
    assert_int_equal(tick_source_due_in_ms(s, 100 * SEC), 0);
    assert_int_equal(tick_source_next(s, 100 * SEC, &t), 1);
    assert_int_equal(tick_source_due_in_ms(s, 100 * SEC), 1000);
    tick_source_free(s);
    unlink(path);
    s = tick_source_random_walk("TXFF5", 1, 10, 0, 0);
    assert_int_equal(tick_source_next(s, 0, &t), 1);
    tick_source_restart_clock(s, 50 * SEC);
    assert_int_equal(tick_source_due_in_ms(s, 50 * SEC), 0);
    assert_int_equal(tick_source_next(s, 50 * SEC, &t), 1);
    assert_int_equal(tick_source_due_in_ms(s, 50 * SEC), 100);
    tick_source_free(s);
}

static void test_feed_adapter(void **state) {
    (void)state;
    tick_source *s = tick_source_random_walk("TXFF5", 3, 1000000, 0, 0);
    sim_feed f = tick_source_feed(s);
    broker_tick t;
    assert_int_equal(f.due_in_ms(f.ctx), 0);
    assert_int_equal(f.next(f.ctx, &t), 1);
    tick_source_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_is_seeded_and_positive),
        cmocka_unit_test(test_walk_moves_listed_products_together),
        cmocka_unit_test(test_walk_pacing),
        cmocka_unit_test(test_replay_paced_by_the_file),
        cmocka_unit_test(test_replay_errors),
        cmocka_unit_test(test_restart_clock),
        cmocka_unit_test(test_feed_adapter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
