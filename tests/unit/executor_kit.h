/* Shared fixtures of the executor core's unit tests (test_executor_*.c): one temporary database
 * under two connections (the core's, and a second one that sees only what was committed), a core
 * started on it with the test's fake gateway, a signal as the strategy sends it, a report
 * message as the gateway publishes it, and reading the books back. Not a fake gateway: each test
 * scripts its own, since what it records is what that test asserts. Header-only; include it
 * after testkit.h. */
#ifndef AFTM_EXECUTOR_KIT_H
#define AFTM_EXECUTOR_KIT_H

#include <stdarg.h>
#include <stdint.h>

#include "app/executor/executor_core.h"
#include "store/order_store.h"

#define NOW_US 1750212000000000LL /* Wednesday 2025-06-18 10:00 Asia/Taipei: day session */
#define SYMBOL "TXFF5"
#define ACCOUNT "ACC1"
/* a known instance id, so the client order ids are known: aftm-<instance>-<signal id> */
#define XK_INSTANCE "00c0ffee"

/* Makes /tmp/aftm-<tag>-XXXXXX with the database opened twice in it, under XK_INSTANCE. */
static inline void xk_open(tk_home *h, const char *tag, sqlite3 **db, sqlite3 **db2) {
    tk_home_make(h, tag);
    *db = tk_db_open(h);
    *db2 = tk_db_open(h);
    assert_true(db_meta_set_text(*db, "instance_id", XK_INSTANCE));
}

/* Closes both connections and removes the home. */
static inline void xk_close(tk_home *h, sqlite3 *db, sqlite3 *db2) {
    db_close(db2);
    db_close(db);
    tk_home_remove(h);
}

/* A started core on db, with SYMBOL's last price at 20000 (market orders need one). */
static inline executor_core *xk_start(sqlite3 *db, const executor_config *cfg, const executor_io *io) {
    char err[256] = "";
    executor_core *x = exc_new(db, cfg, io, err, sizeof err);
    if (!x) fail_msg("exc_new: %s", err);
    exc_start(x);
    exc_set_last_price(x, SYMBOL, 20000);
    return x;
}

/* The clock of the tests whose time stands still at NOW_US. */
static inline int64_t xk_fixed_clock(void *ctx) {
    (void)ctx;
    return NOW_US;
}

/* A signal on SYMBOL at 20000, sent 50 ms before now_us. */
static inline wire_signal xk_signal(int64_t now_us, const char *id, wire_side side, int64_t qty,
                                    int64_t condition_id) {
    wire_signal s;
    memset(&s, 0, sizeof s);
    s.when = (double)now_us / 1e6 - 0.05;
    s.side = side;
    snprintf(s.commodity_id, sizeof s.commodity_id, "%s", SYMBOL);
    s.has_ext = true;
    snprintf(s.signal_id, sizeof s.signal_id, "%s", id);
    s.condition_id = condition_id;
    s.quantity = qty;
    s.price = 20000;
    return s;
}

/* A report message (JSON, printf-style) handed to the core as the report stream would. */
static inline void xk_report(executor_core *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void xk_report(executor_core *x, const char *fmt, ...) {
    char body[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof body);
    exc_on_report_message(x, body, (size_t)n);
}

/* The stored order; fails the test when there is none. */
static inline order_record xk_stored(order_store *os, const char *coid) {
    order_record r;
    if (!ostore_get(os, coid, &r)) fail_msg("order %s is not stored", coid);
    return r;
}

/* The net position on ACCOUNT in SYMBOL. */
static inline int64_t xk_net_position(order_store *os) {
    position p;
    assert_true(ostore_position_get(os, ACCOUNT, SYMBOL, &p));
    return p.net_qty;
}

/* The single number a SELECT COUNT(*)-style query gives. */
static inline long long xk_count_rows(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

#endif
