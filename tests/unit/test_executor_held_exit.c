/* The exit-before-fill race, deterministically: the strategy saw its entry's fill on the report
 * stream and sent the exit before the executor booked that fill. The executor core holds the
 * exit (stored, acknowledged, nothing sent, no "closed by hand"), and sends it sized to the
 * entry once the fill is booked; or, past its deadline, settles the entry with the broker and
 * decides on that; or, restarted, picks it up from the database. An exit never opens a position:
 * while the broker shows the entry unfilled, the exit waits. The gateway is a scripted fake
 * behind the core's function pointers; the clock is the test's. */
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
#include "store/condition_store.h"
#include "store/order_store.h"
#include "store/signal_outbox.h"

#define ENTRY_COID "aftm-00c0ffee-7.E"
#define EXIT_COID "aftm-00c0ffee-7.X"

typedef struct {
    tk_home home;
    sqlite3 *db, *db2; /* the executor's connection; the strategy's and the test's */
    order_store *os2;
    condition_store *cs2;
    signal_outbox *ob2;
    executor_core *x;
    int64_t now_us;
    int sends;
    char sent_coid[ORDER_ID_MAX];
    long long sent_qty;
    int acks, refused_acks;
    char acked[ORDER_ID_MAX];
    json_t *status;  /* the order_status reply's data (owned); NULL: found, nothing more */
    json_t *reports; /* the get_reports reply's list (owned); NULL: none */
    int status_calls;
} fixture;

static json_t *fake_send(void *ctx, json_t *req, char *err, size_t errlen) {
    fixture *f = ctx;
    (void)err;
    (void)errlen;
    json_t *p = json_object_get(req, "parameters");
    f->sends++;
    snprintf(f->sent_coid, sizeof f->sent_coid, "%s", json_string_value(json_object_get(p, "client_order_id")));
    f->sent_qty = json_integer_value(json_object_get(p, "quantity"));
    return json_pack("{s:b,s:{s:b,s:s}}", "success", 1, "data", "is_send_order", 1, "order_serial", "S1");
}

static json_t *fake_call(void *ctx, json_t *req, char *err, size_t errlen) {
    fixture *f = ctx;
    (void)err;
    (void)errlen;
    const char *op = json_string_value(json_object_get(req, "operation"));
    if (op && !strcmp(op, "get_reports"))
        return json_pack("{s:b,s:{s:o}}", "success", 1, "data", "reports",
                         f->reports ? json_incref(f->reports) : json_array());
    if (op && !strcmp(op, "order_status")) {
        f->status_calls++;
        if (f->status) return json_pack("{s:b,s:O}", "success", 1, "data", f->status);
    }
    return json_pack("{s:b,s:{s:b}}", "success", 1, "data", "found", 1);
}

static int64_t test_clock(void *ctx) { return ((fixture *)ctx)->now_us; }

static void on_ack(void *ctx, const signal_ack *a) {
    fixture *f = ctx;
    f->acks++;
    if (a->refused) f->refused_acks++;
    snprintf(f->acked, sizeof f->acked, "%s", a->signal_id);
}

static void start_core(fixture *f) {
    executor_config cfg = {.account = ACCOUNT, .attempts = 1, .limits = risk_limits_default()};
    executor_io io = {.ctx = f, .send_order = fake_send, .gateway_call = fake_call, .clock_us = test_clock,
                      .acknowledge = on_ack};
    f->x = xk_start(f->db, &cfg, &io);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    xk_open(&f->home, "exheld", &f->db, &f->db2);
    assert_non_null(f->os2 = ostore_open(f->db2));
    assert_non_null(f->cs2 = cstore_open(f->db2));
    assert_non_null(f->ob2 = outbox_open(f->db2));
    f->now_us = NOW_US;
    start_core(f);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    exc_free(f->x);
    json_decref(f->status);
    json_decref(f->reports);
    outbox_close(f->ob2);
    cstore_close(f->cs2);
    ostore_close(f->os2);
    xk_close(&f->home, f->db, f->db2);
    free(f);
    return 0;
}

static void send_signal(fixture *f, const char *id, wire_side side, int64_t qty) {
    wire_signal s = xk_signal(f->now_us, id, side, qty, 7);
    exc_on_signal(f->x, &s);
}

#define FILL_REPORT "{\"seq\":%d,\"client_order_id\":\"%s\",\"status\":\"filled\",\"fill_id\":\"F%d\"," \
                                 "\"fill_qty\":2,\"fill_price\":20000,\"filled_qty\":2}"

static void fill_report(fixture *f, int seq, const char *coid) {
    char body[320];
    int n = snprintf(body, sizeof body, FILL_REPORT, seq, coid, seq);
    exc_on_report_message(f->x, body, (size_t)n);
}

static bool has_order(fixture *f, const char *coid, order_record *r) { return ostore_get(f->os2, coid, r); }

/* The entry of condition 7 (buy 2) is accepted; the strategy has seen its fill, the executor
 * not yet: the exit arrives first. */
static void exit_before_fill(fixture *f) {
    send_signal(f, "7.E", WIRE_BUY, 2);
    assert_int_equal(f->sends, 1);
    send_signal(f, "7.X", WIRE_SELL, 2);
}

static void assert_held(fixture *f) {
    order_record r;
    assert_int_equal(f->sends, 1);                   /* the entry only */
    assert_false(has_order(f, EXIT_COID, &r));       /* not skipped as closed by hand */
    assert_int_equal(outbox_acknowledged(f->ob2, "7.X"), 1); /* stored: the strategy stops resending */
    assert_int_equal(f->refused_acks, 0);
    assert_string_equal(f->acked, "7.X");
}

static void test_exit_waits_for_the_entry_fill_on_the_report_stream(void **state) {
    fixture *f = *state;
    exit_before_fill(f);
    assert_held(f);
    /* the strategy resends before its acknowledgement came: acknowledged again, still held */
    int acks = f->acks;
    send_signal(f, "7.X", WIRE_SELL, 2);
    assert_int_equal(f->acks, acks + 1);
    assert_int_equal(f->sends, 1);

    fill_report(f, 1, ENTRY_COID); /* the fill reaches the executor's books: the exit goes */
    assert_int_equal(f->sends, 2);
    assert_string_equal(f->sent_coid, EXIT_COID);
    assert_int_equal(f->sent_qty, 2);
    order_record r;
    assert_true(has_order(f, EXIT_COID, &r));
    assert_int_equal(r.o.status, ORDER_ACCEPTED);
    assert_int_equal(outbox_acknowledged(f->ob2, "7.X"), 1);
    fill_report(f, 2, EXIT_COID);
    assert_int_equal(xk_net_position(f->os2), 0);
    /* decided once: more reports and polls send nothing more */
    exc_poll_state(f->x);
    f->now_us += 60 * 1000000LL;
    exc_poll_state(f->x);
    assert_int_equal(f->sends, 2);
}

static void test_exit_past_its_deadline_is_decided_on_the_broker(void **state) {
    fixture *f = *state;
    exit_before_fill(f);
    assert_held(f);
    /* the fill's report never comes on the stream; the broker has it, and its report log */
    f->status = json_pack("{s:b,s:s,s:I}", "found", 1, "status", "filled", "filled_qty", (json_int_t)2);
    f->reports = json_pack("[{s:I,s:s,s:s,s:s,s:I,s:I,s:I}]", "seq", (json_int_t)1, "client_order_id", ENTRY_COID,
                           "status", "filled", "fill_id", "L1", "fill_qty", (json_int_t)2, "fill_price",
                           (json_int_t)20000, "filled_qty", (json_int_t)2);
    f->now_us += 1000000LL; /* before the deadline: still waiting */
    exc_poll_state(f->x);
    assert_int_equal(f->sends, 1);
    f->now_us += 3000000LL;
    exc_poll_state(f->x);
    assert_int_equal(f->sends, 2);
    assert_string_equal(f->sent_coid, EXIT_COID);
    assert_int_equal(f->sent_qty, 2);
    assert_int_equal(xk_net_position(f->os2), 2); /* the entry booked, the exit on its way */
}

static void test_exit_never_opens_while_the_broker_shows_the_entry_unfilled(void **state) {
    fixture *f = *state;
    exit_before_fill(f);
    f->status = json_pack("{s:b,s:s,s:I}", "found", 1, "status", "accepted", "filled_qty", (json_int_t)0);
    f->now_us += 4000000LL;
    exc_poll_state(f->x);
    assert_true(f->status_calls >= 1);
    assert_held(f); /* neither sent (it would open a short) nor lost */
    /* the entry fills later: the exit goes then */
    fill_report(f, 1, ENTRY_COID);
    assert_int_equal(f->sends, 2);
    assert_string_equal(f->sent_coid, EXIT_COID);
}

static void test_exit_of_an_entry_that_ended_unfilled_is_skipped(void **state) {
    fixture *f = *state;
    exit_before_fill(f);
    char body[256];
    int n = snprintf(body, sizeof body, "{\"seq\":1,\"client_order_id\":\"%s\",\"status\":\"cancelled\","
                     "\"filled_qty\":0,\"reason\":\"IOC\"}", ENTRY_COID);
    exc_on_report_message(f->x, body, (size_t)n);
    order_record r;
    assert_true(has_order(f, EXIT_COID, &r));
    assert_int_equal(r.o.status, ORDER_REJECTED);
    assert_int_equal(f->sends, 1);
    assert_int_equal(xk_net_position(f->os2), 0);
}

static void test_restarted_executor_picks_up_a_held_exit(void **state) {
    fixture *f = *state;
    exit_before_fill(f);
    assert_held(f);
    exc_free(f->x); /* stopped while holding it */
    f->x = NULL;
    f->sends = 0;
    /* back: the fill came while it was down, and is caught up from the gateway at start */
    f->reports = json_pack("[{s:I,s:s,s:s,s:s,s:I,s:I,s:I}]", "seq", (json_int_t)1, "client_order_id", ENTRY_COID,
                           "status", "filled", "fill_id", "L1", "fill_qty", (json_int_t)2, "fill_price",
                           (json_int_t)20000, "filled_qty", (json_int_t)2);
    start_core(f);
    assert_int_equal(f->sends, 1);
    assert_string_equal(f->sent_coid, EXIT_COID);
    assert_int_equal(f->sent_qty, 2);
    order_record r;
    assert_true(has_order(f, EXIT_COID, &r));
    /* and it is no longer held: a resend is only acknowledged */
    send_signal(f, "7.X", WIRE_SELL, 2);
    assert_int_equal(f->sends, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exit_waits_for_the_entry_fill_on_the_report_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_past_its_deadline_is_decided_on_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_never_opens_while_the_broker_shows_the_entry_unfilled, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_exit_of_an_entry_that_ended_unfilled_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restarted_executor_picks_up_a_held_exit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
