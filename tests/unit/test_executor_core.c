/* The executor core without sockets: a signal becomes an order row that is committed before the
 * order sink sees it; repeats, risk refusals, reports, duplicate fills, entry outcomes, report
 * gaps and the kill switch, each checked in the database through a second connection. The
 * gateway is a scripted fake behind the core's function pointers; the clock is fixed. */
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

typedef enum { GW_ACCEPT, GW_REFUSE, GW_SILENT, GW_DUPLICATE } gw_mode;

typedef struct {
    order_store *observer; /* on a second connection: sees only what was committed */
    gw_mode mode;
    int sends;
    char sent_coid[ORDER_ID_MAX];
    long long sent_qty;
    char sent_side[8];
    bool row_seen_new; /* the order row was committed, still 'new', when the sink got it */
    int calls;
    char call_op[32];
    long long since_seq;
    json_t *reports; /* the get_reports reply's list (owned) */
    long long last_seq; /* > 0: said in the get_reports reply */
    json_t *status;     /* the order_status reply's data (owned); NULL: found, nothing more */
    int status_calls;
} fake_gateway;

typedef struct {
    tk_home home;
    sqlite3 *db, *db2;
    order_store *os2;
    condition_store *cs2;
    fake_gateway gw;
    executor_core *x;
} fixture;

static json_t *fake_send_order(void *ctx, json_t *req, char *err, size_t errlen) {
    fake_gateway *g = ctx;
    assert_string_equal(json_string_value(json_object_get(req, "operation")), "send_order");
    json_t *p = json_object_get(req, "parameters");
    g->sends++;
    snprintf(g->sent_coid, sizeof g->sent_coid, "%s", json_string_value(json_object_get(p, "client_order_id")));
    snprintf(g->sent_side, sizeof g->sent_side, "%s", json_string_value(json_object_get(p, "side")));
    g->sent_qty = json_integer_value(json_object_get(p, "quantity"));
    order_record r;
    g->row_seen_new = ostore_get(g->observer, g->sent_coid, &r) && r.o.status == ORDER_NEW;
    if (g->mode == GW_SILENT) {
        snprintf(err, errlen, "timeout");
        return NULL;
    }
    if (g->mode == GW_REFUSE)
        return json_pack("{s:b,s:s,s:s}", "success", 0, "error_message", "not enough margin", "error_code", "E42");
    if (g->mode == GW_DUPLICATE)
        return json_pack("{s:b,s:{s:b,s:s,s:b}}", "success", 1, "data", "is_send_order", 1, "order_serial", "S0",
                         "duplicate", 1);
    return json_pack("{s:b,s:{s:b,s:s}}", "success", 1, "data", "is_send_order", 1, "order_serial", "S1");
}

static json_t *fake_call(void *ctx, json_t *req, char *err, size_t errlen) {
    fake_gateway *g = ctx;
    (void)err;
    (void)errlen;
    g->calls++;
    const char *op = json_string_value(json_object_get(req, "operation"));
    snprintf(g->call_op, sizeof g->call_op, "%s", op ? op : "");
    json_t *p = json_object_get(req, "parameters");
    if (op && !strcmp(op, "get_reports")) {
        g->since_seq = json_integer_value(json_object_get(p, "since_seq"));
        json_t *r = json_pack("{s:b,s:{s:o}}", "success", 1, "data", "reports",
                              g->reports ? json_incref(g->reports) : json_array());
        if (g->last_seq > 0)
            json_object_set_new(json_object_get(r, "data"), "last_seq", json_integer((json_int_t)g->last_seq));
        return r;
    }
    if (op && !strcmp(op, "order_status")) {
        g->status_calls++;
        if (g->status) return json_pack("{s:b,s:O}", "success", 1, "data", g->status);
    }
    return json_pack("{s:b,s:{s:b}}", "success", 1, "data", "found", 1);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    xk_open(&f->home, "excore", &f->db, &f->db2);
    f->os2 = ostore_open(f->db2);
    f->cs2 = cstore_open(f->db2);
    assert_non_null(f->os2);
    assert_non_null(f->cs2);
    f->gw.observer = f->os2;
    executor_config cfg = {.account = ACCOUNT, .attempts = 2, .limits = risk_limits_default()};
    executor_io io = {.ctx = &f->gw, .send_order = fake_send_order, .gateway_call = fake_call,
                      .clock_us = xk_fixed_clock};
    f->x = xk_start(f->db, &cfg, &io);
    f->gw.calls = 0; /* the start-up catch-up is not what the tests count */
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    exc_free(f->x);
    json_decref(f->gw.reports);
    json_decref(f->gw.status);
    ostore_close(f->os2);
    cstore_close(f->cs2);
    xk_close(&f->home, f->db, f->db2);
    free(f);
    return 0;
}

static wire_signal signal_of(const char *id, wire_side side, int64_t qty, int64_t condition_id) {
    return xk_signal(NOW_US, id, side, qty, condition_id);
}

static void send_signal(fixture *f, const char *id, wire_side side, int64_t qty, int64_t condition_id) {
    wire_signal s = signal_of(id, side, qty, condition_id);
    exc_on_signal(f->x, &s);
}

static int64_t add_condition(fixture *f) {
    condition c;
    condition_init(&c, 0, SYMBOL, SIDE_BUY, 20000, 15, 2, 90, 30, false);
    char err[128];
    int64_t id = cstore_add(f->cs2, &c, NULL, err, sizeof err);
    assert_true(id > 0);
    return id;
}

static void test_signal_stored_before_sent(void **state) {
    fixture *f = *state;
    send_signal(f, "7.1.E", WIRE_BUY, 2, 0);
    assert_int_equal(f->gw.sends, 1);
    assert_true(f->gw.row_seen_new);
    assert_string_equal(f->gw.sent_coid, "aftm-00c0ffee-7.1.E");
    assert_int_equal(f->gw.sent_qty, 2);
    assert_string_equal(f->gw.sent_side, "buy");
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-7.1.E");
    assert_string_equal(r.o.signal_id, "7.1.E");
    assert_string_equal(r.o.account, ACCOUNT);
    assert_int_equal(r.o.qty, 2);
    assert_int_equal(r.o.status, ORDER_ACCEPTED);
    assert_string_equal(r.order_serial, "S1");
    assert_int_equal(exc_stats(f->x).orders, 1);
}

static void test_repeated_signal_places_one_order(void **state) {
    fixture *f = *state;
    send_signal(f, "7.2.E", WIRE_BUY, 1, 0);
    send_signal(f, "7.2.E", WIRE_BUY, 1, 0);
    assert_int_equal(f->gw.sends, 1);
    assert_int_equal(exc_stats(f->x).signals, 2);
    assert_int_equal(exc_stats(f->x).orders, 1);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM orders"), 1);
    /* a refused signal sent again is not checked, refused or journaled a second time */
    send_signal(f, "7.2b.E", WIRE_BUY, 50, 0);
    send_signal(f, "7.2b.E", WIRE_BUY, 50, 0);
    assert_int_equal(f->gw.sends, 1);
    assert_int_equal(exc_stats(f->x).refused, 1);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM journal WHERE kind='refused'"), 1);
}

static void test_stored_but_unsent_order_is_sent_at_start(void **state) {
    fixture *f = *state;
    /* a crash between storing and sending left a 'new' row */
    order_record r;
    memset(&r, 0, sizeof r);
    assert_true(order_init(&r.o, "aftm-00c0ffee-11.1.E", "11.1.E", 0, ACCOUNT, SYMBOL, SIDE_BUY, 4));
    assert_true(ostore_insert(f->os2, &r));
    executor_config cfg = {.account = ACCOUNT, .attempts = 1, .limits = risk_limits_default()};
    executor_io io = {.ctx = &f->gw, .send_order = fake_send_order, .gateway_call = fake_call,
                      .clock_us = xk_fixed_clock};
    char err[256] = "";
    executor_core *again = exc_new(f->db, &cfg, &io, err, sizeof err);
    assert_non_null(again);
    exc_start(again);
    exc_free(again);
    assert_int_equal(f->gw.sends, 1);
    assert_string_equal(f->gw.sent_coid, "aftm-00c0ffee-11.1.E");
    assert_int_equal(f->gw.sent_qty, 4);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-11.1.E").o.status, ORDER_ACCEPTED);
    /* the signal arriving again now changes nothing */
    send_signal(f, "11.1.E", WIRE_BUY, 4, 0);
    assert_int_equal(f->gw.sends, 1);
}

static void test_risk_refusal_is_stored_not_sent(void **state) {
    fixture *f = *state;
    send_signal(f, "7.3.E", WIRE_BUY, 11, 0); /* default max_lots_per_order is 10 */
    assert_int_equal(f->gw.sends, 0);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-7.3.E");
    assert_int_equal(r.o.status, ORDER_REJECTED);
    assert_int_equal(r.o.qty, 11);
    assert_true(strncmp(r.o.reason, "risk max_lots_per_order: ", 25) == 0);
    assert_int_equal(exc_stats(f->x).refused, 1);
    assert_int_equal(exc_stats(f->x).orders, 0);
    assert_int_equal(exc_open_orders(f->x), 0);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM journal WHERE kind='refused' AND ref='aftm-00c0ffee-7.3.E'"), 1);
}

static void test_accepted_then_fill_moves_order_and_position(void **state) {
    fixture *f = *state;
    f->gw.mode = GW_SILENT; /* no answer: the order stays 'sent' and the reports tell the rest */
    send_signal(f, "7.4.E", WIRE_BUY, 3, 0);
    assert_int_equal(f->gw.sends, 2); /* both attempts, the same client order id */
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-7.4.E").o.status, ORDER_SENT);
    xk_report(f->x, "{\"seq\":1,\"client_order_id\":\"aftm-00c0ffee-7.4.E\",\"status\":\"accepted\",\"order_serial\":\"S9\"}");
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-7.4.E").o.status, ORDER_ACCEPTED);
    assert_int_equal(xk_net_position(f->os2), 0);
    xk_report(f->x, "{\"seq\":2,\"client_order_id\":\"aftm-00c0ffee-7.4.E\",\"status\":\"filled\",\"fill_id\":\"F1\","
              "\"fill_qty\":3,\"fill_price\":20010,\"filled_qty\":3}");
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-7.4.E");
    assert_int_equal(r.o.status, ORDER_FILLED);
    assert_int_equal(r.o.filled_qty, 3);
    assert_string_equal(r.order_serial, "S9");
    assert_int_equal(xk_net_position(f->os2), 3);
    assert_int_equal(exc_report_seq(f->x), 2);
    assert_int_equal(exc_open_orders(f->x), 0);
}

static void test_same_fill_twice_books_once(void **state) {
    fixture *f = *state;
    send_signal(f, "7.5.E", WIRE_SELL, 2, 0);
#define SAME_FILL                                                                                                \
    "{\"seq\":%d,\"client_order_id\":\"aftm-00c0ffee-7.5.E\",\"status\":\"partially_filled\","                            \
    "\"fill_id\":\"F5\",\"fill_qty\":1,\"fill_price\":19990}"
    xk_report(f->x, SAME_FILL, 1);
    xk_report(f->x, SAME_FILL, 2); /* the broker sent it again under a new seq */
#undef SAME_FILL
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-7.5.E");
    assert_int_equal(r.o.status, ORDER_PARTIALLY_FILLED);
    assert_int_equal(r.o.filled_qty, 1);
    assert_int_equal(xk_net_position(f->os2), -1);
    assert_int_equal(exc_stats(f->x).fills, 1);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM fills"), 1);
}

static void test_rejected_entry_outcome(void **state) {
    fixture *f = *state;
    /* refused by the gateway in its answer */
    int64_t a = add_condition(f);
    f->gw.mode = GW_REFUSE;
    send_signal(f, "8.1.E", WIRE_BUY, 2, a);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-8.1.E");
    assert_int_equal(r.o.status, ORDER_REJECTED);
    assert_string_equal(r.o.reason, "not enough margin (E42)");
    condition_record c;
    assert_true(cstore_get(f->cs2, a, &c));
    assert_int_equal(c.c.entry, ENTRY_REJECTED);
    assert_non_null(strstr(c.note, "not enough margin"));

    /* accepted, then rejected by the broker's report */
    int64_t b = add_condition(f);
    f->gw.mode = GW_ACCEPT;
    send_signal(f, "8.2.E", WIRE_BUY, 2, b);
    assert_true(cstore_get(f->cs2, b, &c));
    assert_int_not_equal(c.c.entry, ENTRY_REJECTED);
    xk_report(f->x, "{\"seq\":1,\"client_order_id\":\"aftm-00c0ffee-8.2.E\",\"status\":\"rejected\",\"reason\":\"price limit\"}");
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-8.2.E").o.status, ORDER_REJECTED);
    assert_true(cstore_get(f->cs2, b, &c));
    assert_int_equal(c.c.entry, ENTRY_REJECTED);
    assert_non_null(strstr(c.note, "price limit"));
    assert_int_equal(xk_net_position(f->os2), 0);
}

static void test_seq_gap_triggers_catch_up(void **state) {
    fixture *f = *state;
    send_signal(f, "9.1.E", WIRE_BUY, 2, 0);
    /* reports 1 and 2 were missed; the gateway still has them */
    f->gw.reports = json_pack("[{s:I,s:s,s:s},{s:I,s:s,s:s,s:s,s:I,s:I,s:I}]", "seq", (json_int_t)1,
                              "client_order_id", "aftm-00c0ffee-9.1.E", "status", "accepted", "seq", (json_int_t)2,
                              "client_order_id", "aftm-00c0ffee-9.1.E", "status", "partially_filled", "fill_id", "G1",
                              "fill_qty", (json_int_t)1, "fill_price", (json_int_t)20005, "filled_qty", (json_int_t)1);
    assert_non_null(f->gw.reports);
    assert_int_equal(f->gw.calls, 0);
    xk_report(f->x, "{\"seq\":3,\"client_order_id\":\"aftm-00c0ffee-9.1.E\",\"status\":\"filled\",\"fill_id\":\"G2\","
              "\"fill_qty\":1,\"fill_price\":20007,\"filled_qty\":2}");
    assert_int_equal(f->gw.calls, 1);
    assert_string_equal(f->gw.call_op, "get_reports");
    assert_int_equal(f->gw.since_seq, 0);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-9.1.E");
    assert_int_equal(r.o.status, ORDER_FILLED);
    assert_int_equal(r.o.filled_qty, 2);
    assert_int_equal(xk_net_position(f->os2), 2);
    assert_int_equal(exc_report_seq(f->x), 3);
    long long saved = 0;
    assert_true(db_meta_get_int(f->db2, "executor_report_seq", &saved));
    assert_int_equal(saved, 3);
    /* no gap: no call */
    xk_report(f->x, "{\"seq\":4,\"client_order_id\":\"aftm-00c0ffee-9.1.E\",\"status\":\"filled\"}");
    assert_int_equal(f->gw.calls, 1);
}

static void test_kill_switch_refuses_entry_passes_exit(void **state) {
    fixture *f = *state;
    send_signal(f, "10.1.E", WIRE_BUY, 2, 0);
    xk_report(f->x, "{\"seq\":1,\"client_order_id\":\"aftm-00c0ffee-10.1.E\",\"status\":\"filled\",\"fill_id\":\"K1\","
              "\"fill_qty\":2,\"fill_price\":20000,\"filled_qty\":2}");
    assert_int_equal(xk_net_position(f->os2), 2);

    assert_true(db_meta_set_int(f->db2, "kill_switch", 1));
    assert_true(db_meta_set_text(f->db2, "kill_reason", "halted in the test"));
    exc_poll_state(f->x); /* another connection wrote it */
    assert_true(exc_kill_switch_on(f->x));

    int sends = f->gw.sends;
    send_signal(f, "10.2.E", WIRE_BUY, 1, 0);
    assert_int_equal(f->gw.sends, sends);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-10.2.E");
    assert_int_equal(r.o.status, ORDER_REJECTED);
    assert_true(strncmp(r.o.reason, "risk kill_switch: ", 18) == 0);

    send_signal(f, "10.1.X", WIRE_SELL, 2, 0);
    assert_int_equal(f->gw.sends, sends + 1);
    assert_string_equal(f->gw.sent_coid, "aftm-00c0ffee-10.1.X");
    assert_string_equal(f->gw.sent_side, "sell");
    r = xk_stored(f->os2, "aftm-00c0ffee-10.1.X");
    assert_true(r.is_exit);
    assert_int_equal(r.o.status, ORDER_ACCEPTED);

    /* cleared: entries pass again */
    assert_true(db_meta_set_int(f->db2, "kill_switch", 0));
    exc_poll_state(f->x);
    assert_false(exc_kill_switch_on(f->x));
    send_signal(f, "10.3.E", WIRE_BUY, 1, 0);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-10.3.E").o.status, ORDER_ACCEPTED);
}

static void test_bad_messages_change_nothing(void **state) {
    fixture *f = *state;
    exc_on_report_message(f->x, "not json", 8);
    xk_report(f->x, "{\"seq\":1,\"client_order_id\":\"aftm-nothing\",\"status\":\"filled\",\"fill_qty\":1}");
    xk_report(f->x, "{\"seq\":2,\"status\":\"no such status\"}");
    exc_on_signal_message(f->x, "\x93\x01\x02", 3);
    assert_int_equal(f->gw.sends, 0);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM orders"), 0);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM fills"), 0);
    assert_int_equal(exc_report_seq(f->x), 2);
}

/* Holds the database from the second connection, as another process would; the core's connection
 * waits 50 ms for it instead of 5 s. */
static void lock_db(fixture *f) {
    sqlite3_busy_timeout(f->db, 50);
    char err[128];
    if (!db_exec(f->db2, "BEGIN EXCLUSIVE", err, sizeof err)) fail_msg("%s", err);
}

static void unlock_db(fixture *f) {
    assert_true(db_exec(f->db2, "ROLLBACK", NULL, 0));
    sqlite3_busy_timeout(f->db, 5000);
}

#define FILL_20 "{\"seq\":1,\"client_order_id\":\"aftm-00c0ffee-20.E\",\"status\":\"filled\",\"fill_id\":\"B1\"," \
                "\"fill_qty\":2,\"fill_price\":20010,\"filled_qty\":2}"

static void test_report_counter_moves_only_with_its_effects(void **state) {
    fixture *f = *state;
    send_signal(f, "20.E", WIRE_BUY, 2, 0);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-20.E").o.status, ORDER_ACCEPTED);
    /* the fill arrives while another process holds the database: not applied, and the counter
     * stays before it (in memory and stored) */
    lock_db(f);
    xk_report(f->x, FILL_20);
    unlock_db(f);
    assert_int_equal(exc_report_seq(f->x), 0);
    long long saved = -1;
    assert_false(db_meta_get_int(f->db2, "executor_report_seq", &saved) && saved != 0);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-20.E").o.status, ORDER_ACCEPTED);
    assert_int_equal(xk_net_position(f->os2), 0);
    /* reconciliation fetches it again from the gateway's report log: booked once, counter moved */
    f->gw.reports = json_loads("[" FILL_20 "]", 0, NULL);
    assert_non_null(f->gw.reports);
    exc_reconcile(f->x);
    assert_int_equal(f->gw.since_seq, 0);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-20.E").o.status, ORDER_FILLED);
    assert_int_equal(xk_net_position(f->os2), 2);
    assert_int_equal(exc_report_seq(f->x), 1);
    assert_true(db_meta_get_int(f->db2, "executor_report_seq", &saved));
    assert_int_equal(saved, 1);
    exc_reconcile(f->x); /* again: nothing twice */
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM fills"), 1);
    assert_int_equal(xk_net_position(f->os2), 2);
}

static void test_open_order_behind_the_broker_reads_the_report_log(void **state) {
    fixture *f = *state;
    send_signal(f, "21.E", WIRE_BUY, 2, 0);
    /* the counter is past the fill already (an older aftm moved it without the fill): only the
     * broker's view of the open order shows the fill is missing */
    assert_true(db_meta_set_int(f->db, "executor_report_seq", 9));
    executor_config cfg = {.account = ACCOUNT, .attempts = 1, .limits = risk_limits_default()};
    executor_io io = {.ctx = &f->gw, .send_order = fake_send_order, .gateway_call = fake_call,
                      .clock_us = xk_fixed_clock};
    char err[256] = "";
    exc_free(f->x);
    f->x = exc_new(f->db, &cfg, &io, err, sizeof err);
    assert_non_null(f->x);
    f->gw.status = json_pack("{s:b,s:s,s:I}", "found", 1, "status", "filled", "filled_qty", (json_int_t)2);
    f->gw.reports = json_pack("[{s:I,s:s,s:s,s:s,s:I,s:I,s:I}]", "seq", (json_int_t)4, "client_order_id",
                              "aftm-00c0ffee-21.E", "status", "filled", "fill_id", "R1", "fill_qty", (json_int_t)2,
                              "fill_price", (json_int_t)20003, "filled_qty", (json_int_t)2);
    exc_start(f->x);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-21.E").o.status, ORDER_FILLED);
    assert_int_equal(xk_net_position(f->os2), 2);
    assert_int_equal(exc_report_seq(f->x), 9); /* read from the start, the counter stays */
    assert_int_equal(exc_open_orders(f->x), 0);
}

static void test_order_the_gateway_already_had_is_looked_up(void **state) {
    fixture *f = *state;
    /* the gateway already had it, and the broker has filled it: the fill is read from the log */
    f->gw.mode = GW_DUPLICATE;
    f->gw.status = json_pack("{s:b,s:s,s:I}", "found", 1, "status", "filled", "filled_qty", (json_int_t)2);
    f->gw.reports = json_pack("[{s:I,s:s,s:s,s:s,s:I,s:I,s:I}]", "seq", (json_int_t)3, "client_order_id",
                              "aftm-00c0ffee-22.E", "status", "filled", "fill_id", "D1", "fill_qty", (json_int_t)2,
                              "fill_price", (json_int_t)20001, "filled_qty", (json_int_t)2);
    send_signal(f, "22.E", WIRE_BUY, 2, 0);
    assert_int_equal(f->gw.status_calls, 1);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-22.E");
    assert_int_equal(r.o.status, ORDER_FILLED);
    assert_int_equal(r.o.filled_qty, 2);
    assert_int_equal(xk_net_position(f->os2), 2);

    /* ... and one the broker cancelled unfilled: booked cancelled, not left 'accepted' */
    json_decref(f->gw.status);
    json_decref(f->gw.reports);
    f->gw.reports = NULL;
    f->gw.status = json_pack("{s:b,s:s,s:I,s:s}", "found", 1, "status", "cancelled", "filled_qty", (json_int_t)0,
                             "reason", "IOC remainder");
    send_signal(f, "23.E", WIRE_BUY, 1, 0);
    r = xk_stored(f->os2, "aftm-00c0ffee-23.E");
    assert_int_equal(r.o.status, ORDER_CANCELLED);
    assert_string_equal(r.o.reason, "IOC remainder");
    assert_int_equal(exc_open_orders(f->x), 0);
}

static void test_pending_orders_count_in_the_limits(void **state) {
    fixture *f = *state;
    /* three 10-lot entries at once against the 20-lot position limit: the third is refused */
    send_signal(f, "30.E", WIRE_BUY, 10, 0);
    send_signal(f, "31.E", WIRE_BUY, 10, 0);
    send_signal(f, "32.E", WIRE_BUY, 10, 0);
    assert_int_equal(f->gw.sends, 2);
    order_record r = xk_stored(f->os2, "aftm-00c0ffee-32.E");
    assert_int_equal(r.o.status, ORDER_REJECTED);
    assert_non_null(strstr(r.o.reason, "max_position_per_product"));
    xk_report(f->x, "{\"seq\":1,\"client_order_id\":\"aftm-00c0ffee-30.E\",\"status\":\"filled\",\"fill_id\":\"P1\","
              "\"fill_qty\":10,\"fill_price\":20000,\"filled_qty\":10}");
    xk_report(f->x, "{\"seq\":2,\"client_order_id\":\"aftm-00c0ffee-31.E\",\"status\":\"filled\",\"fill_id\":\"P2\","
              "\"fill_qty\":10,\"fill_price\":20000,\"filled_qty\":10}");
    assert_int_equal(xk_net_position(f->os2), 20);

    /* kill switch on at +20: four SELL 10 all look like exits alone; counted with the sells
     * already in flight, only two reduce the position, the others would open a short */
    assert_true(db_meta_set_int(f->db2, "kill_switch", 1));
    exc_poll_state(f->x);
    for (int i = 0; i < 4; i++) {
        char id[32];
        snprintf(id, sizeof id, "33.%d.X", i);
        send_signal(f, id, WIRE_SELL, 10, 0);
    }
    assert_int_equal(f->gw.sends, 4);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-33.1.X").o.status, ORDER_ACCEPTED);
    assert_true(strncmp(xk_stored(f->os2, "aftm-00c0ffee-33.2.X").o.reason, "risk kill_switch", 16) == 0);
    assert_true(strncmp(xk_stored(f->os2, "aftm-00c0ffee-33.3.X").o.reason, "risk kill_switch", 16) == 0);

    /* a sell's own fill frees what it held: once filled, the next sell is measured on the rest */
    xk_report(f->x, "{\"seq\":3,\"client_order_id\":\"aftm-00c0ffee-33.0.X\",\"status\":\"filled\",\"fill_id\":\"P3\","
              "\"fill_qty\":10,\"fill_price\":20000,\"filled_qty\":10}");
    assert_int_equal(xk_net_position(f->os2), 10);
    send_signal(f, "34.X", WIRE_SELL, 10, 0); /* 10 open, 10 still pending to sell: an entry */
    assert_true(strncmp(xk_stored(f->os2, "aftm-00c0ffee-34.X").o.reason, "risk kill_switch", 16) == 0);
    xk_report(f->x, "{\"seq\":4,\"client_order_id\":\"aftm-00c0ffee-33.1.X\",\"status\":\"cancelled\",\"filled_qty\":0}");
    send_signal(f, "35.X", WIRE_SELL, 10, 0); /* the cancelled sell no longer counts */
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-35.X").o.status, ORDER_ACCEPTED);
}

static void test_absurd_reports_are_refused(void **state) {
    fixture *f = *state;
    send_signal(f, "40.E", WIRE_BUY, 2, 0);
#define R40 "\"client_order_id\":\"aftm-00c0ffee-40.E\",\"status\":\"filled\",\"fill_id\":\"X%d\""
    xk_report(f->x, "{\"seq\":1," R40 ",\"fill_qty\":2,\"fill_price\":1e17,\"filled_qty\":2}", 1);
    xk_report(f->x, "{\"seq\":2," R40 ",\"fill_qty\":-3,\"fill_price\":20000,\"filled_qty\":2}", 2);
    xk_report(f->x, "{\"seq\":3," R40 ",\"fill_qty\":2,\"fill_price\":\"cheap\",\"filled_qty\":2}", 3);
    xk_report(f->x, "{\"seq\":4," R40 ",\"fill_qty\":2000000,\"fill_price\":20000,\"filled_qty\":2000000}", 4);
    xk_report(f->x, "{\"seq\":5," R40 ",\"fill_qty\":2,\"fill_price\":20000,\"filled_qty\":2.5}", 5);
    assert_int_equal(exc_report_seq(f->x), 5);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM journal WHERE kind='report_refused'"), 5);
    /* a seq the gateway says it never sent is refused, and does not hide the reports after it */
    f->gw.last_seq = 5;
    xk_report(f->x, "{\"seq\":9000000000000000000," R40 ",\"fill_qty\":2,\"fill_price\":20000,\"filled_qty\":2}", 6);
    xk_report(f->x, "{\"seq\":4.5," R40 ",\"fill_qty\":2,\"fill_price\":20000,\"filled_qty\":2}", 7);
    assert_int_equal(exc_report_seq(f->x), 5);
    assert_int_equal(xk_net_position(f->os2), 0);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-40.E").o.status, ORDER_ACCEPTED);
    xk_report(f->x, "{\"seq\":6," R40 ",\"fill_qty\":2,\"fill_price\":20000,\"filled_qty\":2}", 8);
#undef R40
    assert_int_equal(exc_report_seq(f->x), 6);
    assert_int_equal(xk_net_position(f->os2), 2);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-40.E").o.status, ORDER_FILLED);
    /* what was stored restarts cleanly */
    executor_config cfg = {.account = ACCOUNT, .attempts = 1, .limits = risk_limits_default()};
    executor_io io = {.ctx = &f->gw, .send_order = fake_send_order, .gateway_call = fake_call,
                      .clock_us = xk_fixed_clock};
    char err[256] = "";
    executor_core *again = exc_new(f->db, &cfg, &io, err, sizeof err);
    assert_non_null(again);
    exc_start(again);
    assert_int_equal(exc_report_seq(again), 6);
    exc_free(again);
}

static void test_order_not_stored_is_not_acknowledged(void **state) {
    fixture *f = *state;
    /* the database refuses the order row: nothing is sent, nothing stored, so the strategy
     * (which waits for the row) sends the signal again, and then it goes through */
    lock_db(f);
    send_signal(f, "50.E", WIRE_BUY, 1, 0);
    unlock_db(f);
    assert_int_equal(f->gw.sends, 0);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM orders WHERE signal_id='50.E'"), 0);
    send_signal(f, "50.E", WIRE_BUY, 1, 0);
    assert_int_equal(f->gw.sends, 1);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-50.E").o.status, ORDER_ACCEPTED);
    /* a refusal that could not be stored is not acknowledged either */
    lock_db(f);
    send_signal(f, "51.E", WIRE_BUY, 99, 0);
    unlock_db(f);
    assert_int_equal(xk_count_rows(f->db2, "SELECT COUNT(*) FROM orders WHERE signal_id='51.E'"), 0);
    send_signal(f, "51.E", WIRE_BUY, 99, 0);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-51.E").o.status, ORDER_REJECTED);
    /* an order stored under another client order id scheme (before instance ids) is found by
     * its signal id: the resend is a no-op */
    order_record r;
    memset(&r, 0, sizeof r);
    assert_true(order_init(&r.o, "aftm-52.E", "52.E", 0, ACCOUNT, SYMBOL, SIDE_BUY, 1));
    r.o.status = ORDER_FILLED;
    assert_true(ostore_insert(f->os2, &r));
    send_signal(f, "52.E", WIRE_BUY, 1, 0);
    assert_int_equal(f->gw.sends, 1);
}

/* A fill of the order for signal id (its whole quantity) at 20000, as report seq. */
static void fill_all(fixture *f, int seq, const char *signal_id) {
    char coid[ORDER_ID_MAX];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%s", signal_id);
    order_record r = xk_stored(f->os2, coid);
    xk_report(f->x, "{\"seq\":%d,\"client_order_id\":\"%s\",\"status\":\"filled\",\"fill_id\":\"F-%s\",\"fill_qty\":%lld,"
              "\"fill_price\":20000,\"filled_qty\":%lld}", seq, coid, signal_id, (long long)r.o.qty, (long long)r.o.qty);
    assert_int_equal(xk_stored(f->os2, coid).o.status, ORDER_FILLED);
}

static void test_exit_is_sized_to_what_the_account_still_holds(void **state) {
    fixture *f = *state;
    send_signal(f, "21.E", WIRE_BUY, 3, 21);
    fill_all(f, 1, "21.E");
    /* two of the three lots closed by an order that is not the condition's */
    send_signal(f, "hand-1", WIRE_SELL, 2, 0);
    fill_all(f, 2, "hand-1");
    assert_int_equal(xk_net_position(f->os2), 1);

    send_signal(f, "21.X", WIRE_SELL, 3, 21);
    assert_string_equal(f->gw.sent_coid, "aftm-00c0ffee-21.X");
    assert_int_equal(f->gw.sent_qty, 1); /* not 3: that would open a short of 2 */
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-21.X").o.qty, 1);
    fill_all(f, 3, "21.X");
    assert_int_equal(xk_net_position(f->os2), 0);
}

static void test_exit_of_a_position_closed_by_hand_is_skipped(void **state) {
    fixture *f = *state;
    int64_t id = add_condition(f);
    char entry[32], exit_id[32], coid[64];
    snprintf(entry, sizeof entry, "%lld.E", (long long)id);
    snprintf(exit_id, sizeof exit_id, "%lld.X", (long long)id);
    send_signal(f, entry, WIRE_BUY, 2, id);
    fill_all(f, 1, entry);
    send_signal(f, "hand-2", WIRE_SELL, 2, 0);
    fill_all(f, 2, "hand-2");
    assert_int_equal(xk_net_position(f->os2), 0);

    int sends = f->gw.sends;
    send_signal(f, exit_id, WIRE_SELL, 2, id);
    assert_int_equal(f->gw.sends, sends); /* nothing sent */
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%s", exit_id);
    order_record r = xk_stored(f->os2, coid); /* the row acknowledges the signal */
    assert_int_equal(r.o.status, ORDER_REJECTED);
    assert_true(strncmp(r.o.reason, "closed by hand: ", 16) == 0);
    assert_int_equal(xk_net_position(f->os2), 0);
    condition_record c;
    assert_true(cstore_get(f->cs2, id, &c));
    assert_string_equal(c.status, "closed");
    assert_non_null(strstr(c.note, "closed by hand"));

    /* the strategy's own write of the exit, arriving after, keeps it */
    c.c.is_exited = true;
    assert_true(cstore_save_state(f->cs2, &c.c, "exited: stop loss"));
    assert_true(cstore_get(f->cs2, id, &c));
    assert_string_equal(c.status, "closed");
    assert_non_null(strstr(c.note, "closed by hand"));

    /* the signal again: acknowledged, still not sent */
    send_signal(f, exit_id, WIRE_SELL, 2, id);
    assert_int_equal(f->gw.sends, sends);
}

/* Lots no condition entered (an order booked as external, here: its old database's entry) and
 * then closed by hand are not another condition's holding: the condition's own exit still
 * closes what the condition holds. */
static void test_lots_of_no_condition_do_not_hold_back_an_exit(void **state) {
    fixture *f = *state;
    send_signal(f, "external-aftm-0ld0ld00-5.E", WIRE_BUY, 2, 0);
    fill_all(f, 1, "external-aftm-0ld0ld00-5.E");
    send_signal(f, "hand-3", WIRE_SELL, 2, 0);
    fill_all(f, 2, "hand-3");
    send_signal(f, "41.E", WIRE_BUY, 1, 41);
    fill_all(f, 3, "41.E");
    assert_int_equal(xk_net_position(f->os2), 1);

    send_signal(f, "41.X", WIRE_SELL, 1, 41);
    assert_string_equal(f->gw.sent_coid, "aftm-00c0ffee-41.X");
    assert_int_equal(f->gw.sent_qty, 1);
    fill_all(f, 4, "41.X");
    assert_int_equal(xk_net_position(f->os2), 0);
}

static void test_kill_switch_passes_exits_of_conditions_that_net_to_zero(void **state) {
    fixture *f = *state;
    send_signal(f, "31.E", WIRE_BUY, 1, 31);
    fill_all(f, 1, "31.E");
    send_signal(f, "32.E", WIRE_SELL, 1, 32);
    fill_all(f, 2, "32.E");
    assert_int_equal(xk_net_position(f->os2), 0);

    assert_true(db_meta_set_int(f->db2, "kill_switch", 1));
    exc_poll_state(f->x);
    assert_true(exc_kill_switch_on(f->x));

    send_signal(f, "31.X", WIRE_SELL, 1, 31);
    assert_string_equal(f->gw.sent_coid, "aftm-00c0ffee-31.X");
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-31.X").o.status, ORDER_ACCEPTED);
    /* while the first exit is still open, the second closes its own lot too */
    send_signal(f, "32.X", WIRE_BUY, 1, 32);
    assert_string_equal(f->gw.sent_coid, "aftm-00c0ffee-32.X");
    assert_int_equal(f->gw.sent_qty, 1);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-32.X").o.status, ORDER_ACCEPTED);
    fill_all(f, 3, "31.X");
    fill_all(f, 4, "32.X");
    assert_int_equal(xk_net_position(f->os2), 0);
    /* an entry is still refused */
    send_signal(f, "33.E", WIRE_BUY, 1, 33);
    assert_int_equal(xk_stored(f->os2, "aftm-00c0ffee-33.E").o.status, ORDER_REJECTED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_signal_stored_before_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_signal_places_one_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_but_unsent_order_is_sent_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_risk_refusal_is_stored_not_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_then_fill_moves_order_and_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_fill_twice_books_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_entry_outcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_gap_triggers_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_switch_refuses_entry_passes_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_messages_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_counter_moves_only_with_its_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_order_behind_the_broker_reads_the_report_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_the_gateway_already_had_is_looked_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_orders_count_in_the_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absurd_reports_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_not_stored_is_not_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_is_sized_to_what_the_account_still_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_of_a_position_closed_by_hand_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lots_of_no_condition_do_not_hold_back_an_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_switch_passes_exits_of_conditions_that_net_to_zero, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
