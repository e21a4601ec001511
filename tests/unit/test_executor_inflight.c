/* The executor core with many orders in flight (io.submit_order): signals read together are
 * stored in one transaction before any leaves, answers are matched by client order id in
 * whatever order they come, an order without an answer is tried again under the same id and
 * then left to reconciliation while the others complete, and a late answer still counts.
 * Answers and reports read together are stored in one transaction too; an answer that cannot be
 * stored is kept and applied later, and a batch that fails leaves memory as it was. The gateway
 * is a recording fake; the clock is the test's. */
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
#include "store/order_store.h"

#define MAX_SENT 512

typedef struct {
    order_store *observer; /* a second connection: sees only what was committed */
    int64_t now_us;
    int sends;
    char sent[MAX_SENT][ORDER_ID_MAX];
    bool all_committed; /* every order was committed, still 'new' or 'sent', when it left */
    bool refuse_queue;  /* submit_order fails (the queue to the gateway is full) */
    int acks;
} fake_link;

typedef struct {
    tk_home home;
    sqlite3 *db, *db2;
    order_store *os2;
    fake_link link;
    executor_core *x;
} fixture;

static bool fake_submit(void *ctx, const char *coid, const broker_order_req *req, char *err, size_t errlen) {
    fake_link *l = ctx;
    assert_string_equal(req->client_order_id, coid);
    assert_int_equal(req->type, BROKER_MARKET);
    assert_int_equal(req->tif, BROKER_IOC);
    order_record r;
    if (!ostore_get(l->observer, coid, &r) || (r.o.status != ORDER_NEW && r.o.status != ORDER_SENT))
        l->all_committed = false;
    if (l->refuse_queue) {
        snprintf(err, errlen, "queue full");
        return false;
    }
    assert_true(l->sends < MAX_SENT);
    snprintf(l->sent[l->sends++], ORDER_ID_MAX, "%s", coid);
    return true;
}

static json_t *no_call(void *ctx, json_t *req, char *err, size_t errlen) {
    (void)ctx;
    (void)req;
    snprintf(err, errlen, "no gateway calls in these tests");
    return NULL;
}

static int64_t test_clock(void *ctx) { return ((fake_link *)ctx)->now_us; }

static void on_ack(void *ctx, const signal_ack *a) {
    (void)a;
    ((fake_link *)ctx)->acks++;
}

/* A core on f's database under limits that let a burst of hundreds through. */
static void start_core(fixture *f, bool wide_limits) {
    executor_config cfg = {.account = ACCOUNT, .attempts = 2, .timeout_ms = 500, .limits = risk_limits_default()};
    if (wide_limits) {
        cfg.limits.max_position_per_product = 1000000;
        cfg.limits.max_open_orders = 1000000;
        cfg.limits.max_orders_per_second = 0;
    }
    executor_io io = {.ctx = &f->link, .submit_order = fake_submit, .gateway_call = no_call,
                      .clock_us = test_clock, .acknowledge = on_ack};
    f->x = xk_start(f->db, &cfg, &io);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    xk_open(&f->home, "exflight", &f->db, &f->db2);
    f->os2 = ostore_open(f->db2);
    assert_non_null(f->os2);
    f->link.observer = f->os2;
    f->link.now_us = NOW_US;
    f->link.all_committed = true;
    start_core(f, false);
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

static void send_signal(fixture *f, const char *id) {
    wire_signal s = xk_signal(f->link.now_us, id, WIRE_BUY, 1, 0);
    exc_on_signal(f->x, &s);
}

static void answer(fixture *f, const char *coid, const char *serial) {
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"success\": true, \"data\": {\"is_send_order\": true, \"order_serial\": \"%s\", "
                     "\"client_order_id\": \"%s\", \"status\": \"accepted\", \"duplicate\": false}}",
                     serial, coid);
    exc_on_order_reply(f->x, coid, body, (size_t)n);
}

#define FILL_REPORT                                                                                              \
    "{\"seq\":%d,\"client_order_id\":\"%s\",\"status\":\"filled\",\"fill_id\":\"%s\",\"fill_qty\":1,"          \
    "\"fill_price\":20000,\"filled_qty\":1}"

static long long count_orders(fixture *f) { return xk_count_rows(f->db2, "SELECT COUNT(*) FROM orders"); }

static void lock_db(fixture *f) {
    assert_int_equal(sqlite3_exec(f->db2, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_busy_timeout(f->db, 1);
}

static void unlock_db(fixture *f) {
    assert_int_equal(sqlite3_exec(f->db2, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_busy_timeout(f->db, 5000);
}

static void test_burst_stored_together_then_all_in_flight(void **state) {
    fixture *f = *state;
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "2.E");
    send_signal(f, "3.E");
    send_signal(f, "4.E");
    /* nothing leaves, and nothing is acknowledged, before the batch is durable */
    assert_int_equal(f->link.sends, 0);
    assert_int_equal(f->link.acks, 0);
    assert_int_equal(count_orders(f), 0);
    exc_end_batch(f->x);
    assert_int_equal(count_orders(f), 4);
    assert_int_equal(f->link.sends, 4);
    assert_int_equal(f->link.acks, 4);
    assert_true(f->link.all_committed);
    assert_string_equal(f->link.sent[0], "aftm-00c0ffee-1.E");
    assert_string_equal(f->link.sent[3], "aftm-00c0ffee-4.E");
    /* all four wait at once; none was answered yet */
    assert_int_equal(exc_in_flight(f->x), 4);
    assert_int_equal(exc_stats(f->x).orders, 4);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-2.E").o.status, ORDER_NEW);
}

static void test_answers_out_of_order_matched_by_id(void **state) {
    fixture *f = *state;
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "2.E");
    send_signal(f, "3.E");
    exc_end_batch(f->x);
    answer(f, "aftm-00c0ffee-3.E", "S3");
    answer(f, "aftm-00c0ffee-1.E", "S1");
    assert_int_equal(exc_in_flight(f->x), 1);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-2.E").o.status, ORDER_NEW);
    answer(f, "aftm-00c0ffee-2.E", "S2");
    assert_int_equal(exc_in_flight(f->x), 0);
    for (int i = 1; i <= 3; i++) {
        char coid[64], serial[16];
        snprintf(coid, sizeof coid, "aftm-00c0ffee-%d.E", i);
        snprintf(serial, sizeof serial, "S%d", i);
        order_record r = xk_stored(f->os2, coid);
        assert_int_equal(r.o.status, ORDER_ACCEPTED);
        assert_string_equal(r.order_serial, serial);
    }
    assert_int_equal(f->link.sends, 3); /* each sent once */
    assert_int_equal(exc_next_timeout_ms(f->x), -1);
}

static void test_one_timeout_while_others_complete(void **state) {
    fixture *f = *state;
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "2.E");
    send_signal(f, "3.E");
    exc_end_batch(f->x);
    assert_int_equal(exc_next_timeout_ms(f->x), 500);
    answer(f, "aftm-00c0ffee-1.E", "S1");
    answer(f, "aftm-00c0ffee-3.E", "S3");
    f->link.now_us += 499 * 1000;
    exc_service(f->x);
    assert_int_equal(f->link.sends, 3); /* not yet overdue */
    f->link.now_us += 1000;
    assert_int_equal(exc_next_timeout_ms(f->x), 0);
    exc_service(f->x);
    /* tried again under the same client order id */
    assert_int_equal(f->link.sends, 4);
    assert_string_equal(f->link.sent[3], "aftm-00c0ffee-2.E");
    assert_int_equal(exc_in_flight(f->x), 1);
    f->link.now_us += 500 * 1000;
    exc_service(f->x);
    /* out of attempts: left 'sent' for reconciliation, not refused, not sent a third time */
    assert_int_equal(f->link.sends, 4);
    assert_int_equal(exc_in_flight(f->x), 0);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-2.E");
    assert_int_equal(r.o.status, ORDER_SENT);
    assert_non_null(strstr(r.o.reason, "no answer"));
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_ACCEPTED);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-3.E").o.status, ORDER_ACCEPTED);
    /* the answer comes after all: it is the broker's word, and is booked */
    answer(f, "aftm-00c0ffee-2.E", "S2");
    r = xk_stored(f->os2, "aftm-00c0ffee-2.E");
    assert_int_equal(r.o.status, ORDER_ACCEPTED);
    assert_string_equal(r.order_serial, "S2");
}

static void test_repeat_in_a_burst_places_one_order(void **state) {
    fixture *f = *state;
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "1.E");
    exc_end_batch(f->x);
    assert_int_equal(count_orders(f), 1);
    assert_int_equal(f->link.sends, 1);
    assert_int_equal(exc_in_flight(f->x), 1);
    /* and again while it is in flight: not sent a second time */
    send_signal(f, "1.E");
    assert_int_equal(f->link.sends, 1);
    assert_int_equal(exc_stats(f->x).orders, 1);
}

static void test_bad_answers_change_nothing(void **state) {
    fixture *f = *state;
    send_signal(f, "1.E"); /* no batch: stored and sent on its own */
    assert_int_equal(f->link.sends, 1);
    exc_on_order_reply(f->x, "aftm-00c0ffee-1.E", "not json", 8);
    exc_on_order_reply(f->x, "aftm-00c0ffee-1.E", "[1]", 3);
    assert_int_equal(exc_in_flight(f->x), 1);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_NEW);
    answer(f, "aftm-00c0ffee-99.E", "S9"); /* an order this executor never placed */
    assert_int_equal(count_orders(f), 1);
    assert_int_equal(exc_in_flight(f->x), 1);
    /* a refusal is matched like an acceptance */
    const char *no = "{\"success\": false, \"error_message\": \"not enough margin\", \"error_code\": \"E42\"}";
    exc_on_order_reply(f->x, "aftm-00c0ffee-1.E", no, strlen(no));
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-1.E");
    assert_int_equal(r.o.status, ORDER_REJECTED);
    assert_non_null(strstr(r.o.reason, "not enough margin"));
    assert_int_equal(exc_in_flight(f->x), 0);
}

static void test_queue_full_counts_as_an_attempt(void **state) {
    fixture *f = *state;
    f->link.refuse_queue = true;
    send_signal(f, "1.E");
    assert_int_equal(exc_in_flight(f->x), 1);
    f->link.refuse_queue = false;
    f->link.now_us += 500 * 1000;
    exc_service(f->x);
    assert_int_equal(f->link.sends, 1);
    answer(f, "aftm-00c0ffee-1.E", "S1");
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_ACCEPTED);
}

static void test_batch_when_the_database_is_busy(void **state) {
    fixture *f = *state;
    /* another writer holds the database: no batch opens, each signal fails on its own, and
     * nothing is acknowledged or sent (the strategy sends them again) */
    assert_int_equal(sqlite3_exec(f->db2, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_busy_timeout(f->db, 1);
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "2.E");
    exc_end_batch(f->x);
    assert_int_equal(sqlite3_exec(f->db2, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(f->link.sends, 0);
    assert_int_equal(f->link.acks, 0);
    assert_int_equal(count_orders(f), 0);
    assert_int_equal(exc_stats(f->x).orders, 0);
    /* sent again once the database is free: stored together and sent */
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "2.E");
    exc_end_batch(f->x);
    assert_int_equal(count_orders(f), 2);
    assert_int_equal(f->link.sends, 2);
    assert_int_equal(f->link.acks, 2);
}

static void test_answer_that_cannot_be_stored_is_kept(void **state) {
    fixture *f = *state;
    send_signal(f, "1.E");
    assert_int_equal(f->link.sends, 1);
    /* the answer comes while the database cannot be written (busy here; a full disk the same) */
    lock_db(f);
    answer(f, "aftm-00c0ffee-1.E", "S1");
    assert_int_equal(exc_in_flight(f->x), 0);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_NEW);
    /* kept: reconciliation does not send the order again meanwhile, the core asks to be woken */
    exc_reconcile(f->x);
    assert_int_equal(f->link.sends, 1);
    assert_true(exc_next_timeout_ms(f->x) >= 0);
    f->link.now_us += 300 * 1000;
    exc_service(f->x); /* still held: kept again */
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_NEW);
    unlock_db(f);
    f->link.now_us += 300 * 1000;
    exc_service(f->x);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-1.E");
    assert_int_equal(r.o.status, ORDER_ACCEPTED);
    assert_string_equal(r.order_serial, "S1");
    assert_int_equal(f->link.sends, 1); /* the broker's word was applied, not asked for again */
    assert_int_equal(exc_next_timeout_ms(f->x), -1);
}

static void test_answers_and_reports_read_together_commit_together(void **state) {
    fixture *f = *state;
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "2.E");
    exc_end_batch(f->x);
    exc_begin_batch(f->x);
    answer(f, "aftm-00c0ffee-2.E", "S2");
    answer(f, "aftm-00c0ffee-1.E", "S1");
    xk_report(f->x, FILL_REPORT, 1, "aftm-00c0ffee-1.E", "F1");
    /* nothing is visible before the commit */
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_NEW);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-2.E").o.status, ORDER_NEW);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM fills"), 0);
    exc_end_batch(f->x);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_FILLED);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-2.E").o.status, ORDER_ACCEPTED);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM fills"), 1);
    assert_int_equal(exc_report_seq(f->x), 1);
    assert_int_equal(exc_open_orders(f->x), 1);
    assert_int_equal(exc_stats(f->x).fills, 1);
}

static void test_failed_batch_leaves_memory_as_it_was(void **state) {
    fixture *f = *state;
    exc_begin_batch(f->x);
    send_signal(f, "1.E");
    send_signal(f, "2.E");
    exc_end_batch(f->x);
    /* the fill cannot be written: the whole batch, answers included, is void */
    assert_int_equal(sqlite3_exec(f->db,
                                  "CREATE TEMP TRIGGER no_fills BEFORE INSERT ON main.fills "
                                  "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    exc_begin_batch(f->x);
    answer(f, "aftm-00c0ffee-1.E", "S1");
    answer(f, "aftm-00c0ffee-2.E", "S2");
    xk_report(f->x, FILL_REPORT, 1, "aftm-00c0ffee-1.E", "F1");
    exc_end_batch(f->x);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_NEW);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-2.E").o.status, ORDER_NEW);
    assert_int_equal(exc_report_seq(f->x), 0); /* fetched again */
    assert_int_equal(exc_open_orders(f->x), 2);
    assert_int_equal(exc_stats(f->x).fills, 0);
    assert_int_equal(exc_stats(f->x).orders, 2);
    assert_int_equal(sqlite3_exec(f->db, "DROP TRIGGER no_fills", NULL, NULL, NULL), SQLITE_OK);
    /* the answers were kept: applied at the next service, not sent again */
    f->link.now_us += 300 * 1000;
    exc_service(f->x);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_ACCEPTED);
    assert_string_equal(xk_stored(f->os2, "aftm-00c0ffee-2.E").order_serial, "S2");
    assert_int_equal(f->link.sends, 2);
    /* and the report comes again under the same seq */
    xk_report(f->x, FILL_REPORT, 1, "aftm-00c0ffee-1.E", "F1");
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-1.E").o.status, ORDER_FILLED);
    assert_int_equal(exc_report_seq(f->x), 1);
    assert_int_equal(exc_open_orders(f->x), 1);
    assert_int_equal(exc_stats(f->x).fills, 1);
}

static void test_hundreds_in_flight_answered_in_any_order(void **state) {
    fixture *f = *state;
    enum { N = 300 };
    exc_free(f->x);
    start_core(f, true);
    exc_begin_batch(f->x);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "%d.E", i);
        send_signal(f, id);
    }
    exc_end_batch(f->x);
    assert_int_equal(exc_in_flight(f->x), N);
    /* answered in a scrambled order (7 is prime to 300): each finds its own order, once */
    for (int k = 0; k < N; k++) {
        int i = (k * 7) % N;
        char coid[64], serial[16];
        snprintf(coid, sizeof coid, "aftm-00c0ffee-%d.E", i);
        snprintf(serial, sizeof serial, "S%d", i);
        answer(f, coid, serial);
        assert_int_equal(exc_in_flight(f->x), N - k - 1);
        if (k % 50 == 0) assert_string_equal(xk_stored(f->os2, coid).order_serial, serial);
    }
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM orders WHERE status='accepted'"), N);
    assert_int_equal(f->link.sends, N);
    assert_int_equal(exc_next_timeout_ms(f->x), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_burst_stored_together_then_all_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_out_of_order_matched_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_timeout_while_others_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_in_a_burst_places_one_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_answers_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full_counts_as_an_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_when_the_database_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_that_cannot_be_stored_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_and_reports_read_together_commit_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_leaves_memory_as_it_was, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hundreds_in_flight_answered_in_any_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
