/* Orders aftm did not get from the strategy: a request by hand (store/manual_requests.h) is
 * placed by the executor core through its own path (stored first under this database's client
 * order id, the risk rules, marked manual), taken once only and never after it was withdrawn;
 * a report for an order on the account that is not in the books is booked as external, its fill
 * moving the position. The gateway is a minimal fake behind the core's function pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "testkit.h"
#include "executor_kit.h"

#include "app/executor/executor_core.h"
#include "store/manual_requests.h"
#include "store/order_store.h"
#include "store/trading_state.h"

typedef struct {
    tk_home home;
    sqlite3 *db, *db2; /* the executor's connection, and the CLI's */
    order_store *os2;
    int sends;
    char sent_coid[ORDER_ID_MAX];
    int cancels;
    char cancelled_coid[ORDER_ID_MAX];
    executor_core *x;
} fixture;

static json_t *accept_order(void *ctx, json_t *req, char *err, size_t errlen) {
    fixture *f = ctx;
    (void)err;
    (void)errlen;
    f->sends++;
    snprintf(f->sent_coid, sizeof f->sent_coid, "%s",
             json_string_value(json_object_get(json_object_get(req, "parameters"), "client_order_id")));
    return json_pack("{s:b,s:{s:b,s:s}}", "success", 1, "data", "is_send_order", 1, "order_serial", "S1");
}

static json_t *no_reports(void *ctx, json_t *req, char *err, size_t errlen) {
    (void)ctx;
    (void)req;
    (void)err;
    (void)errlen;
    return json_pack("{s:b,s:{s:[]}}", "success", 1, "data", "reports");
}

/* The gateway's order port: cancel_order is taken (and noted), anything else as no_reports. */
static json_t *gateway(void *ctx, json_t *req, char *err, size_t errlen) {
    fixture *f = ctx;
    if (!strcmp(json_string_value(json_object_get(req, "operation")), "cancel_order")) {
        f->cancels++;
        snprintf(f->cancelled_coid, sizeof f->cancelled_coid, "%s",
                 json_string_value(json_object_get(json_object_get(req, "parameters"), "client_order_id")));
        return json_pack("{s:b,s:{s:b,s:s}}", "success", 1, "data", "cancelled", 1, "client_order_id",
                         f->cancelled_coid);
    }
    return no_reports(ctx, req, err, errlen);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    xk_open(&f->home, "exmanual", &f->db, &f->db2);
    assert_non_null(f->os2 = ostore_open(f->db2));
    executor_config cfg = {.account = ACCOUNT, .attempts = 1, .limits = risk_limits_default()};
    cfg.limits.max_lots_per_order = 5;
    executor_io io = {.ctx = f, .send_order = accept_order, .gateway_call = gateway, .clock_us = xk_fixed_clock};
    f->x = xk_start(f->db, &cfg, &io);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    exc_free(f->x);
    ostore_close(f->os2);
    xk_close(&f->home, f->db, f->db2);
    free(f);
    return 0;
}

static void test_request_placed_through_the_executor(void **state) {
    fixture *f = *state;
    int64_t id;
    assert_true(mreq_add(f->db2, ACCOUNT, "TXFF5", SIDE_BUY, 2, &id));
    exc_poll_state(f->x); /* the CLI wrote the database: the executor looks */
    manual_request q;
    assert_true(mreq_get(f->db2, id, &q));
    assert_int_equal(q.state, MREQ_DONE);
    assert_string_equal(q.client_order_id, "aftm-00c0ffee-manual-1");
    assert_int_equal(f->sends, 1);
    assert_string_equal(f->sent_coid, q.client_order_id);
    order_record r;
    assert_true(ostore_get(f->os2, q.client_order_id, &r));
    assert_string_equal(r.o.signal_id, "manual-1");
    assert_int_equal(r.o.condition_id, 0);
    assert_int_equal(r.o.status, ORDER_ACCEPTED);
    /* looked at again: taken once only */
    exc_take_manual(f->x);
    assert_int_equal(f->sends, 1);
}

static void test_request_refused_by_the_risk_rules(void **state) {
    fixture *f = *state;
    int64_t id;
    assert_true(mreq_add(f->db2, ACCOUNT, "TXFF5", SIDE_SELL, 9, &id)); /* over max_lots_per_order 5 */
    exc_take_manual(f->x);
    manual_request q;
    assert_true(mreq_get(f->db2, id, &q));
    assert_int_equal(q.state, MREQ_DONE);
    assert_non_null(strstr(q.result, "max_lots_per_order"));
    assert_int_equal(f->sends, 0);
    order_record r;
    assert_true(ostore_get(f->os2, q.client_order_id, &r));
    assert_int_equal(r.o.status, ORDER_REJECTED);
}

static void test_withdrawn_request_never_placed(void **state) {
    fixture *f = *state;
    int64_t id;
    assert_true(mreq_add(f->db2, ACCOUNT, "TXFF5", SIDE_BUY, 1, &id));
    assert_true(mreq_move(f->db2, id, MREQ_PENDING, MREQ_WITHDRAWN));
    assert_false(mreq_move(f->db2, id, MREQ_PENDING, MREQ_TAKEN)); /* only from the state it is in */
    exc_take_manual(f->x);
    assert_int_equal(f->sends, 0);
    manual_request q;
    assert_true(mreq_get(f->db2, id, &q));
    assert_int_equal(q.state, MREQ_WITHDRAWN);
}

static void report(fixture *f, const char *account, const char *status, int seq, int fill_qty) {
    char body[640];
    int n = snprintf(body, sizeof body,
                     "{\"seq\":%d,\"client_order_id\":\"screen-1\",\"order_serial\":\"S9\",\"account\":\"%s\","
                     "\"symbol\":\"TXFF5\",\"side\":\"sell\",\"qty\":3,\"status\":\"%s\",\"fill_id\":%s,"
                     "\"fill_qty\":%d,\"fill_price\":%s,\"filled_qty\":%d,\"avg_fill_price\":%s,\"reason\":null,"
                     "\"time\":1750212000.0}",
                     seq, account, status, fill_qty ? "\"F1\"" : "null", fill_qty, fill_qty ? "20010" : "null",
                     fill_qty, fill_qty ? "20010.0" : "null");
    assert_true(n > 0 && (size_t)n < sizeof body);
    exc_on_report_message(f->x, body, (size_t)n);
}

static void test_external_order_booked_from_its_reports(void **state) {
    fixture *f = *state;
    report(f, "OTHER", "accepted", 1, 0); /* another account's order: not ours to book */
    order_record r;
    assert_false(ostore_get(f->os2, "screen-1", &r));
    report(f, ACCOUNT, "accepted", 2, 0);
    assert_true(ostore_get(f->os2, "screen-1", &r));
    assert_string_equal(r.o.signal_id, "external-screen-1");
    assert_int_equal(r.o.status, ORDER_ACCEPTED);
    assert_int_equal(exc_open_orders(f->x), 1);
    report(f, ACCOUNT, "filled", 3, 3);
    assert_true(ostore_get(f->os2, "screen-1", &r));
    assert_int_equal(r.o.status, ORDER_FILLED);
    assert_int_equal(r.o.filled_qty, 3);
    position p;
    assert_true(ostore_position_get(f->os2, ACCOUNT, "TXFF5", &p));
    assert_int_equal(p.net_qty, -3);
    assert_int_equal(exc_open_orders(f->x), 0);
}

static void test_flatten_closes_every_position_even_halted(void **state) {
    fixture *f = *state;
    report(f, ACCOUNT, "filled", 1, 3); /* short 3, from an order placed outside aftm */
    assert_true(tstate_set(f->db2, TSTATE_HALTED, "test", "cli"));
    exc_poll_state(f->x);
    int64_t id;
    assert_true(mreq_add(f->db2, ACCOUNT, "TXFF5", SIDE_BUY, 1, &id)); /* an order by hand: refused */
    assert_true(mreq_add_kind(f->db2, MREQ_FLATTEN, "", "", &id));   /* no account: the executor's */
    exc_poll_state(f->x);
    manual_request q;
    assert_true(mreq_get(f->db2, id, &q));
    assert_int_equal(q.kind, MREQ_FLATTEN);
    assert_int_equal(q.state, MREQ_DONE);
    assert_non_null(strstr(q.result, "TXFF5 +3: aftm-00c0ffee-flatten-2-TXFF5 placed"));
    assert_int_equal(f->sends, 1); /* the flatten order only */
    order_record r;
    assert_true(ostore_get_by_signal(f->os2, "flatten-2-TXFF5", &r));
    assert_int_equal(r.o.side, SIDE_BUY);
    assert_int_equal(r.o.qty, 3);
    assert_int_equal(r.o.status, ORDER_ACCEPTED);
    assert_true(ostore_get_by_signal(f->os2, "manual-1", &r));
    assert_int_equal(r.o.status, ORDER_REJECTED);
    /* nothing open in another product: nothing placed, and said */
    assert_true(mreq_add_kind(f->db2, MREQ_FLATTEN, ACCOUNT, "MXFF5", &id));
    exc_take_manual(f->x);
    assert_true(mreq_get(f->db2, id, &q));
    assert_string_equal(q.result, "nothing to flatten: no open position in MXFF5");
    assert_int_equal(f->sends, 1);
}

static void test_cancel_goes_to_the_gateway_for_open_orders_only(void **state) {
    fixture *f = *state;
    report(f, ACCOUNT, "accepted", 1, 0); /* screen-1 rests open */
    int64_t id;
    assert_true(mreq_add_kind(f->db2, MREQ_CANCEL, "", "screen-1", &id));
    exc_take_manual(f->x);
    manual_request q;
    assert_true(mreq_get(f->db2, id, &q));
    assert_int_equal(q.state, MREQ_DONE);
    assert_string_equal(q.result, "cancel sent");
    assert_int_equal(f->cancels, 1);
    assert_string_equal(f->cancelled_coid, "screen-1");
    assert_true(mreq_add_kind(f->db2, MREQ_CANCEL, "", "nope", &id));
    exc_take_manual(f->x);
    assert_true(mreq_get(f->db2, id, &q));
    assert_string_equal(q.result, "no order nope in the books");
    report(f, ACCOUNT, "filled", 2, 3);
    assert_true(mreq_add_kind(f->db2, MREQ_CANCEL, "", "screen-1", &id));
    exc_take_manual(f->x);
    assert_true(mreq_get(f->db2, id, &q));
    assert_string_equal(q.result, "order screen-1 is already filled; nothing to cancel");
    assert_int_equal(f->cancels, 1); /* neither went to the gateway */
    assert_false(mreq_add_kind(f->db2, MREQ_ORDER, "", "", &id)); /* an order needs side and qty */
}

static void last_of(void *ctx, const position *p, price_t last) {
    if (!strcmp(p->symbol, "TXFF5")) *(price_t *)ctx = last;
}

static long long equity_today(sqlite3 *db) {
    sqlite3_stmt *st;
    long long v = -1;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT equity FROM equity ORDER BY date DESC LIMIT 1", -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Between fills the open position follows the last price: stored (for 'aftm positions' and
 * 'aftm status') and in today's equity row. */
static void test_open_position_marked_at_the_last_price(void **state) {
    fixture *f = *state;
    report(f, ACCOUNT, "filled", 1, 3); /* short 3 at 20010, the last price 20000 */
    assert_int_equal(equity_today(f->db2), 1000000 + 30 * 200);
    exc_set_last_price(f->x, "TXFF5", 19990);
    price_t last = 0;
    assert_true(ostore_each_position(f->os2, last_of, &last) >= 0);
    assert_int_equal(last, 20000); /* the price at the fill until marked */
    exc_mark_to_market(f->x);
    assert_true(ostore_each_position(f->os2, last_of, &last) >= 0);
    assert_int_equal(last, 19990);
    assert_int_equal(equity_today(f->db2), 1000000 + 60 * 200);
    exc_set_last_price(f->x, "TXFF5", 19980);
    exc_mark_to_market(f->x); /* within the second: not again */
    assert_true(ostore_each_position(f->os2, last_of, &last) >= 0);
    assert_int_equal(last, 19990);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_placed_through_the_executor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_refused_by_the_risk_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_withdrawn_request_never_placed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_external_order_booked_from_its_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flatten_closes_every_position_even_halted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_goes_to_the_gateway_for_open_orders_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_position_marked_at_the_last_price, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
