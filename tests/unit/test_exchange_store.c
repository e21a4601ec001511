/* The simulated exchange's book on disk (exchange_store) and the exchange core over it: the
 * book restored after a reopen (orders, resting orders, positions with their lots, fill ids),
 * the report seq strictly increasing across reopens, a client order id unique in the book, a
 * newer schema refused. */
#include <jansson.h>
#include <sqlite3.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/broker_json.h"
#include "app/exchange/exchange.h"
#include "app/exchange/exchange_store.h"
#include "testkit.h"

typedef struct {
    tk_home home;
    exchange_store *xs;
    xcore *core;
    tk_events pub;
} fixture;

static void open_core(fixture *f) {
    char err[256] = "";
    f->xs = xstore_open(f->home.path, err, sizeof err);
    assert_non_null(f->xs);
    xcore_sinks sinks = {.ctx = &f->pub, .publish_tick = tk_on_tick, .publish_report = tk_on_report};
    f->core = xcore_new(f->xs, NULL, &sinks, err, sizeof err);
    if (!f->core) fail_msg("xcore_new: %s", err);
}

static void close_core(fixture *f) {
    xcore_free(f->core);
    xstore_close(f->xs);
    f->core = NULL;
    f->xs = NULL;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    tk_home_make(&f->home, "xstore");
    open_core(f);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    close_core(f);
    tk_home_remove(&f->home);
    free(f);
    return 0;
}

/* One request through the core; returns the parsed reply (caller decrefs). */
static json_t *call(fixture *f, const char *session, const char *json) {
    size_t len;
    char *text = xcore_handle(f->core, session, strlen(session), json, strlen(json), &len);
    assert_non_null(text);
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) fail_msg("not JSON: %s", text);
    free(text);
    return j;
}

static void login(fixture *f, const char *session) {
    json_t *j = call(f, session,
                     "{\"operation\": \"login\", \"parameters\": {\"login_id\": \"A123456789\", \"password\": \"sim-pass\"}}");
    assert_true(json_is_true(json_object_get(j, "success")));
    json_decref(j);
}

/* send_order; returns the result object's fields of interest. */
static void send(fixture *f, const char *cid, const char *side, int qty, const char *type, int price, const char *tif,
                 char *serial_out, bool *duplicate) {
    char req[768];
    snprintf(req, sizeof req,
             "{\"operation\": \"send_order\", \"id\": 7, \"parameters\": {\"order\": {\"client_order_id\": \"%s\","
             " \"account\": \"SIM-0001\", \"symbol\": \"TXFF5\", \"side\": \"%s\", \"qty\": %d, \"order_type\": \"%s\","
             " \"price\": %d, \"time_in_force\": \"%s\", \"open_close\": \"AUTO\", \"day_trade\": false, \"note\": \"t\"}}}",
             cid, side, qty, type, price, tif);
    json_t *j = call(f, "s1", req);
    assert_true(json_is_true(json_object_get(j, "success")));
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
    broker_send_result res;
    assert_true(bj_to_send_result(json_object_get(json_object_get(j, "data"), "result"), &res));
    assert_true(res.is_send_order);
    if (serial_out) snprintf(serial_out, 64, "%s", res.order_serial);
    if (duplicate) *duplicate = res.duplicate;
    json_decref(j);
}

static void tick(fixture *f, price_t price) {
    broker_tick t;
    memset(&t, 0, sizeof t);
    snprintf(t.symbol, sizeof t.symbol, "TXFF5");
    t.price = price;
    t.volume = 1;
    t.ts_us = 1750152615000000LL;
    xcore_market_tick(f->core, &t);
}

static broker_position position(fixture *f) {
    broker_position p[4];
    char err[160];
    long n = broker_query_positions(xcore_broker(f->core), "SIM-0001", p, 4, err, sizeof err);
    assert_int_equal(n, 1);
    return p[0];
}

static void test_book_restored_after_reopen(void **state) {
    fixture *f = *state;
    login(f, "s1");
    char s1[64], s2[64], s3[64];
    send(f, "c-1", "buy", 2, "Market", 0, "IOC", s1, NULL);
    tick(f, 20010); /* c-1: 2 at 20010 */
    send(f, "c-2", "buy", 1, "Market", 0, "IOC", s2, NULL);
    tick(f, 20020); /* c-2: 1 at 20020; lots 20010x2, 20020x1 */
    send(f, "c-3", "sell", 1, "Limit", 19000, "ROD", s3, NULL); /* a sell limit: fills at >= 19000 */
    send(f, "c-4", "buy", 1, "Limit", 19500, "ROD", NULL, NULL); /* a buy limit: fills at <= 19500 */
    tick(f, 18900);                                              /* c-4 fills, c-3 rests */
    broker_position before = position(f);
    assert_int_equal(before.net_qty, 4);
    uint64_t seq_before = xstore_last_seq(f->xs);
    assert_int_equal(seq_before, 2 + 2 + 1 + 2); /* accepted + fill for c-1, c-2, c-4; accepted c-3 */
    assert_int_equal(f->pub.nreports, seq_before); /* every report published, each once, after its commit */
    for (size_t i = 0; i < f->pub.nreports; i++) assert_int_equal(f->pub.reports[i].seq, i + 1);

    close_core(f); /* as a kill would: nothing written at close is needed */
    memset(&f->pub, 0, sizeof f->pub);
    open_core(f);

    broker *b = xcore_broker(f->core);
    broker_order_info o;
    assert_true(broker_order_status(b, "c-1", &o));
    assert_string_equal(o.order_serial, s1);
    assert_int_equal(o.status, BROKER_ST_FILLED);
    assert_int_equal(o.filled_qty, 2);
    assert_int_equal(o.filled_notional, 2 * 20010);
    assert_true(broker_order_status(b, s2, &o)); /* by serial too */
    assert_string_equal(o.client_order_id, "c-2");
    broker_position after = position(f);
    assert_int_equal(after.net_qty, before.net_qty);
    assert_int_equal(after.realized_pl, before.realized_pl);
    assert_int_equal(after.today_filled_long, before.today_filled_long);
    assert_int_equal(after.today_order_short, before.today_order_short);
    assert_true(after.avg_cost == before.avg_cost);
    assert_int_equal(xstore_last_seq(f->xs), seq_before);

    /* the resting order rests again: the next reaching trade fills it, with the next fill id
     * and the next seq; FIFO closes the oldest lot (20010) */
    assert_true(broker_order_status(b, "c-3", &o));
    assert_int_equal(o.status, BROKER_ST_ACCEPTED);
    tick(f, 19400);
    assert_true(broker_order_status(b, "c-3", &o));
    assert_int_equal(o.status, BROKER_ST_FILLED);
    assert_int_equal(f->pub.nreports, 1);
    assert_int_equal(f->pub.reports[0].seq, seq_before + 1);
    assert_string_equal(f->pub.reports[0].fill_id, "SIM-F00000004");
    broker_position p = position(f);
    assert_int_equal(p.net_qty, 3);
    assert_int_equal(p.realized_pl, before.realized_pl + (19400 - 20010));

    /* new orders get the next serial; a repeated client id is the first order */
    login(f, "s1");
    char s5[64], again[64];
    bool dup = true;
    send(f, "c-5", "sell", 1, "Market", 0, "IOC", s5, &dup);
    assert_false(dup);
    assert_string_equal(s5, "SIM-00000005");
    send(f, "c-1", "buy", 2, "Market", 0, "IOC", again, &dup);
    assert_true(dup);
    assert_string_equal(again, s1);
    tick(f, 20030); /* c-5 closes the other 20010 lot */
    p = position(f);
    assert_int_equal(p.net_qty, 2);
    assert_int_equal(p.realized_pl, before.realized_pl + (19400 - 20010) + (20030 - 20010));
    assert_int_equal(xstore_count(f->xs, "fills"), 5);

    /* the cash follows the realized P&L (x 200 for TXF) */
    json_t *j = call(f, "s1", "{\"operation\": \"list_accounts\"}");
    json_t *acc = json_array_get(json_object_get(json_object_get(j, "data"), "accounts"), 0);
    assert_string_equal(json_string_value(json_object_get(acc, "account")), "SIM-0001");
    assert_int_equal(json_integer_value(json_object_get(acc, "cash")), XSTORE_START_CASH + p.realized_pl * 200);
    json_decref(j);
}

static void test_seq_monotonic_across_reopen(void **state) {
    fixture *f = *state;
    exchange_store *xs = f->xs;
    assert_int_equal(xstore_last_seq(xs), 0);
    assert_int_equal(xstore_first_seq(xs), 1);
    /* the report log needs its orders: one order row */
    sim_order_row o;
    memset(&o, 0, sizeof o);
    o.n = 1;
    snprintf(o.info.order_serial, sizeof o.info.order_serial, "SIM-00000001");
    snprintf(o.info.client_order_id, sizeof o.info.client_order_id, "k-1");
    snprintf(o.info.account, sizeof o.info.account, "SIM-0001");
    snprintf(o.info.symbol, sizeof o.info.symbol, "TXFF5");
    o.info.qty = 1;
    o.info.status = BROKER_ST_ACCEPTED;
    assert_true(xstore_begin(xs));
    assert_true(xstore_put_order(xs, &o, 1));
    broker_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.order_serial, sizeof r.order_serial, "SIM-00000001");
    snprintf(r.account, sizeof r.account, "SIM-0001");
    snprintf(r.symbol, sizeof r.symbol, "TXFF5");
    r.qty = 1;
    for (uint64_t s = 1; s <= 5; s++) {
        r.seq = s;
        r.status = BROKER_ST_ACCEPTED;
        assert_true(xstore_add_report(xs, &r));
    }
    assert_true(xstore_commit(xs));
    assert_int_equal(xstore_last_seq(xs), 5);
    /* a seq at or below the last is refused and spoils its transaction */
    assert_true(xstore_begin(xs));
    r.seq = 5;
    assert_false(xstore_add_report(xs, &r));
    r.seq = 6;
    xstore_add_report(xs, &r);
    assert_false(xstore_commit(xs));
    assert_int_equal(xstore_last_seq(xs), 5);
    /* a rolled back transaction gives its seqs back unused: none was published */
    assert_true(xstore_begin(xs));
    r.seq = 6;
    assert_true(xstore_add_report(xs, &r));
    xstore_rollback(xs);
    assert_int_equal(xstore_last_seq(xs), 5);

    close_core(f);
    open_core(f);
    xs = f->xs;
    assert_int_equal(xstore_last_seq(xs), 5);
    broker_report out[3];
    bool more = false;
    assert_int_equal(xstore_reports_since(xs, 0, out, 3, &more), 3);
    assert_true(more);
    assert_int_equal(out[0].seq, 1);
    assert_int_equal(out[2].seq, 3);
    assert_int_equal(xstore_reports_since(xs, 3, out, 3, &more), 2);
    assert_false(more);
    assert_int_equal(out[1].seq, 5);
    assert_string_equal(out[1].order_serial, "SIM-00000001");
    /* the core numbers its reports after the kept ones */
    login(f, "s1");
    send(f, "k-2", "buy", 1, "Market", 0, "IOC", NULL, NULL);
    assert_true(f->pub.nreports >= 1);
    assert_int_equal(f->pub.reports[0].seq, 6);
    /* get_reports over the protocol: the same numbers */
    json_t *j = call(f, "s1", "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 4}}");
    json_t *list = json_object_get(json_object_get(j, "data"), "reports");
    assert_int_equal(json_array_size(list), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "seq")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "seq")), 6);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "data"), "last_seq")), 6);
    json_decref(j);
}

static void test_client_order_id_unique(void **state) {
    fixture *f = *state;
    exchange_store *xs = f->xs;
    sim_order_row a;
    memset(&a, 0, sizeof a);
    a.n = 1;
    snprintf(a.info.order_serial, sizeof a.info.order_serial, "SIM-00000001");
    snprintf(a.info.client_order_id, sizeof a.info.client_order_id, "same");
    snprintf(a.info.account, sizeof a.info.account, "SIM-0001");
    snprintf(a.info.symbol, sizeof a.info.symbol, "TXFF5");
    a.info.qty = 1;
    sim_order_row b = a;
    b.n = 2;
    snprintf(b.info.order_serial, sizeof b.info.order_serial, "SIM-00000002");
    assert_true(xstore_begin(xs));
    assert_true(xstore_put_order(xs, &a, 1));
    a.info.status = BROKER_ST_FILLED; /* the same order again: an update */
    assert_true(xstore_put_order(xs, &a, 2));
    assert_true(xstore_commit(xs));
    assert_true(xstore_begin(xs));
    assert_false(xstore_put_order(xs, &b, 3)); /* another order, the same client id */
    assert_false(xstore_commit(xs));
    /* orders without a client id do not collide */
    a.info.client_order_id[0] = b.info.client_order_id[0] = '\0';
    a.n = 3, b.n = 4;
    snprintf(a.info.order_serial, sizeof a.info.order_serial, "SIM-00000003");
    snprintf(b.info.order_serial, sizeof b.info.order_serial, "SIM-00000004");
    assert_true(xstore_begin(xs));
    assert_true(xstore_put_order(xs, &a, 4));
    assert_true(xstore_put_order(xs, &b, 5));
    assert_true(xstore_commit(xs));
    /* an order number is never taken over by another order */
    sim_order_row c = b;
    snprintf(c.info.client_order_id, sizeof c.info.client_order_id, "other");
    assert_true(xstore_begin(xs));
    assert_false(xstore_put_order(xs, &c, 6));
    xstore_rollback(xs);
    assert_int_equal(xstore_count(xs, "orders"), 3);
}

static void test_duplicate_refused_after_restart_and_sessions(void **state) {
    fixture *f = *state;
    /* no session: refused */
    json_t *j = call(f, "s9", "{\"operation\": \"list_accounts\"}");
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "NOT_LOGGED_IN");
    json_decref(j);
    j = call(f, "s9", "{\"operation\": \"login\", \"parameters\": {\"login_id\": \"A123456789\", \"password\": \"no\"}}");
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "LOGIN_REFUSED");
    json_decref(j);
    j = call(f, "s9", "not json at all");
    assert_false(json_is_true(json_object_get(j, "success")));
    json_decref(j);
    login(f, "s1");
    char serial[64];
    send(f, "dup-1", "buy", 1, "Market", 0, "IOC", serial, NULL);
    close_core(f);
    open_core(f);
    /* the restarted exchange forgot the session */
    j = call(f, "s1", "{\"operation\": \"health\"}");
    assert_true(json_is_false(json_object_get(json_object_get(j, "data"), "logged_in")));
    json_decref(j);
    login(f, "s1");
    bool dup = false;
    char again[64];
    send(f, "dup-1", "buy", 1, "Market", 0, "IOC", again, &dup);
    assert_true(dup);
    assert_string_equal(again, serial);
    tick(f, 20000); /* the market order kept resting across the restart: it fills now */
    broker_order_info o;
    assert_true(broker_order_status(xcore_broker(f->core), "dup-1", &o));
    assert_int_equal(o.status, BROKER_ST_FILLED);
}

/* A book written by a newer aftm is refused as it is: not opened, not rewritten. */
static void test_newer_schema_refused_unchanged(void **state) {
    fixture *f = *state;
    close_core(f);
    char path[600], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", f->home.path, XSTORE_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(xstore_open(f->home.path, err, sizeof err));
    assert_non_null(strstr(err, "schema 99, newer"));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 99);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_book_restored_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_monotonic_across_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_order_id_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_refused_after_restart_and_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused_unchanged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
