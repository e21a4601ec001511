/* The simulated exchange's book on disk (exchange_store) and the exchange core over it: the
 * book restored after a reopen (orders, resting orders, positions with their lots, fill ids),
 * the report seq strictly increasing across reopens, a client order id unique in the book, a
 * newer schema refused; orders that arrive together accepted in one transaction, published and
 * answered after it; send_order in msgpack handled as the JSON one; each report encoded once
 * in msgpack, the same bytes published and kept in the report log, which still reads the JSON
 * rows of a book written before. */
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
#include "broker/broker_pack.h"
#include "app/exchange/exchange.h"
#include "app/exchange/exchange_store.h"
#include "testkit.h"

typedef struct {
    tk_home home;
    exchange_store *xs;
    xcore *core;
    tk_events pub;
} fixture;

/* The last report's published bytes, kept to compare with the log's row. */
static unsigned char last_body[1024];
static size_t last_body_len;

/* What the core publishes: the body must be the report itself in msgpack. */
static void on_report_bytes(void *ctx, const broker_report *r, const void *body, size_t len) {
    mp_reader rd;
    mp_reader_init(&rd);
    broker_report back;
    assert_true(bp_read_report(&rd, body, len, &back));
    mp_reader_destroy(&rd);
    assert_memory_equal(&back, r, sizeof back);
    assert_true(len <= sizeof last_body);
    memcpy(last_body, body, len);
    last_body_len = len;
    tk_on_report(ctx, r);
}

/* xstore_add_report with r packed as the core packs it. */
static bool add_report(exchange_store *xs, const broker_report *r) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_true(bp_pack_report(&pk, r));
    bool ok = xstore_add_report(xs, r, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return ok;
}

static void open_core(fixture *f) {
    char err[256] = "";
    f->xs = xstore_open(f->home.path, err, sizeof err);
    assert_non_null(f->xs);
    xcore_sinks sinks = {.ctx = &f->pub, .publish_tick = tk_on_tick, .publish_report = on_report_bytes};
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
static void send_json(fixture *f, const char *cid, const char *side, int qty, const char *type, int price, const char *tif,
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
    send_json(f, "c-1", "buy", 2, "Market", 0, "IOC", s1, NULL);
    tick(f, 20010); /* c-1: 2 at 20010 */
    send_json(f, "c-2", "buy", 1, "Market", 0, "IOC", s2, NULL);
    tick(f, 20020); /* c-2: 1 at 20020; lots 20010x2, 20020x1 */
    send_json(f, "c-3", "sell", 1, "Limit", 19000, "ROD", s3, NULL); /* a sell limit: fills at >= 19000 */
    send_json(f, "c-4", "buy", 1, "Limit", 19500, "ROD", NULL, NULL); /* a buy limit: fills at <= 19500 */
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
    send_json(f, "c-5", "sell", 1, "Market", 0, "IOC", s5, &dup);
    assert_false(dup);
    assert_string_equal(s5, "SIM-00000005");
    send_json(f, "c-1", "buy", 2, "Market", 0, "IOC", again, &dup);
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
        assert_true(add_report(xs, &r));
    }
    assert_true(xstore_commit(xs));
    assert_int_equal(xstore_last_seq(xs), 5);
    /* a seq at or below the last is refused and spoils its transaction */
    assert_true(xstore_begin(xs));
    r.seq = 5;
    assert_false(add_report(xs, &r));
    r.seq = 6;
    add_report(xs, &r);
    assert_false(xstore_commit(xs));
    assert_int_equal(xstore_last_seq(xs), 5);
    /* a rolled back transaction gives its seqs back unused: none was published */
    assert_true(xstore_begin(xs));
    r.seq = 6;
    assert_true(add_report(xs, &r));
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
    send_json(f, "k-2", "buy", 1, "Market", 0, "IOC", NULL, NULL);
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
    send_json(f, "dup-1", "buy", 1, "Market", 0, "IOC", serial, NULL);
    close_core(f);
    open_core(f);
    /* the restarted exchange forgot the session */
    j = call(f, "s1", "{\"operation\": \"health\"}");
    assert_true(json_is_false(json_object_get(json_object_get(j, "data"), "logged_in")));
    json_decref(j);
    login(f, "s1");
    bool dup = false;
    char again[64];
    send_json(f, "dup-1", "buy", 1, "Market", 0, "IOC", again, &dup);
    assert_true(dup);
    assert_string_equal(again, serial);
    tick(f, 20000); /* the market order kept resting across the restart: it fills now */
    broker_order_info o;
    assert_true(broker_order_status(xcore_broker(f->core), "dup-1", &o));
    assert_int_equal(o.status, BROKER_ST_FILLED);
}

/* Group commit: three orders in one batch are held (nothing published) until the batch
 * commits, then every report is out and the orders are in the book on disk; a request of
 * another kind in the batch commits what came before it first. */
static void test_orders_together_in_one_commit(void **state) {
    fixture *f = *state;
    login(f, "s1");
    tick(f, 20000);
    size_t before = f->pub.nreports;
    long long orders = (long long)xstore_count(f->xs, "orders");
    xcore_batch_begin(f->core);
    send_json(f, "g-1", "buy", 1, "Market", 0, "IOC", NULL, NULL);
    assert_true(xcore_held(f->core));
    send_json(f, "g-2", "buy", 1, "Market", 0, "IOC", NULL, NULL);
    send_json(f, "g-3", "sell", 1, "Market", 0, "IOC", NULL, NULL);
    assert_true(xcore_held(f->core));
    assert_int_equal(f->pub.nreports, before); /* nothing published before the commit */
    assert_true(xcore_batch_end(f->core));
    assert_false(xcore_held(f->core));
    assert_int_equal(f->pub.nreports, before + 3); /* each accepted (fills come with the next tick) */
    for (size_t i = before + 1; i < f->pub.nreports; i++)
        assert_int_equal(f->pub.reports[i].seq, f->pub.reports[i - 1].seq + 1);
    assert_int_equal((long long)xstore_count(f->xs, "orders"), orders + 3);

    /* an order_status in a batch answers from what is committed: the order before it is */
    before = f->pub.nreports;
    xcore_batch_begin(f->core);
    send_json(f, "g-4", "buy", 1, "Market", 0, "IOC", NULL, NULL);
    json_t *j = call(f, "s1", "{\"operation\": \"order_status\", \"parameters\": {\"client_order_id\": \"g-4\"}}");
    assert_false(xcore_held(f->core));
    assert_true(f->pub.nreports > before);
    assert_true(json_is_true(json_object_get(json_object_get(j, "data"), "found")));
    json_decref(j);
    assert_true(xcore_batch_end(f->core));
    /* durable: still there after a reopen */
    close_core(f);
    open_core(f);
    assert_int_equal((long long)xstore_count(f->xs, "orders"), orders + 4);
}

/* A tick that fills many orders moves one position many times; the book on disk holds its
 * last state (written once, before the commit), restored equal after a reopen. Cash asked for
 * inside a batch counts the fills of that batch's transaction. */
static void test_position_written_once_per_commit(void **state) {
    fixture *f = *state;
    login(f, "s1");
    tick(f, 20000);
    char cid[16];
    for (int i = 0; i < 9; i++) {
        snprintf(cid, sizeof cid, "p-%d", i);
        send_json(f, cid, i % 3 == 2 ? "sell" : "buy", 1 + i % 2, "Market", 0, "IOC", NULL, NULL);
    }
    tick(f, 20010); /* all nine fill at once: +1 +2 -1 +2 +1 -2 +1 +2 -1 = +5 */
    broker_position before = position(f);
    assert_int_equal(before.net_qty, 5);
    assert_int_equal(xstore_count(f->xs, "positions"), 1);

    /* a burst inside one batch: the fills of the batch's tick, then the cash */
    xcore_batch_begin(f->core);
    send_json(f, "p-9", "sell", 5, "Market", 0, "IOC", NULL, NULL);
    assert_true(xcore_batch_end(f->core));
    tick(f, 20110); /* closes the five lots, +100 each: 500 points */
    broker_position flat = position(f);
    assert_int_equal(flat.net_qty, 0);
    json_t *j = call(f, "s1", "{\"operation\": \"list_accounts\"}");
    json_t *acc = json_array_get(json_object_get(json_object_get(j, "data"), "accounts"), 0);
    assert_int_equal(json_integer_value(json_object_get(acc, "cash")), XSTORE_START_CASH + flat.realized_pl * 200);
    json_decref(j);

    close_core(f); /* as a kill would */
    open_core(f);
    broker_position after = position(f);
    assert_int_equal(after.net_qty, 0);
    assert_int_equal(after.realized_pl, flat.realized_pl);
    assert_int_equal(after.today_filled_long, flat.today_filled_long);
    assert_int_equal(after.today_filled_short, flat.today_filled_short);
    assert_int_equal(after.today_order_long, flat.today_order_long);
    assert_int_equal(after.today_order_short, flat.today_order_short);
    assert_int_equal(after.today_closed, flat.today_closed);
}

/* ---- msgpack: send_order and the report log ---- */

static broker_order_req order_req(const char *cid, side_t side, int64_t qty) {
    broker_order_req q;
    memset(&q, 0, sizeof q);
    snprintf(q.client_order_id, sizeof q.client_order_id, "%s", cid);
    snprintf(q.account, sizeof q.account, "SIM-0001");
    snprintf(q.symbol, sizeof q.symbol, "TXFF5");
    snprintf(q.note, sizeof q.note, "mp");
    q.side = side;
    q.qty = qty;
    q.type = BROKER_MARKET;
    q.tif = BROKER_IOC;
    q.open_close = BROKER_AUTO;
    return q;
}

/* One request of len bytes through the core; the reply's bytes into *reply (caller frees). */
static size_t call_raw(fixture *f, const char *session, const void *req, size_t len, char **reply) {
    size_t out_len = 0;
    *reply = xcore_handle(f->core, session, strlen(session), req, len, &out_len);
    assert_non_null(*reply);
    return out_len;
}

/* A msgpack send_order with id through the core; its reply read into *out. */
static void send_packed(fixture *f, const char *session, uint64_t id, const broker_order_req *q, bp_send_reply *out) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_true(bp_pack_send_request(&pk, id, q));
    char *reply;
    size_t n = call_raw(f, session, sb.data, sb.size, &reply);
    msgpack_sbuffer_destroy(&sb);
    mp_reader rd;
    mp_reader_init(&rd);
    assert_true(bp_read_send_reply(&rd, reply, n, out));
    mp_reader_destroy(&rd);
    free(reply);
    assert_int_equal(out->id, id);
}

/* A msgpack request that must be refused: the reply is a msgpack map with success false and
 * code; its "id" (when want_id >= 0) is want_id. */
static void expect_packed_error(fixture *f, const void *req, size_t len, const char *code, int64_t want_id) {
    char *reply;
    size_t n = call_raw(f, "s1", req, len, &reply);
    assert_true(mp_is_map(reply, n));
    mp_reader rd;
    mp_reader_init(&rd);
    msgpack_object o;
    assert_true(mp_read(&rd, reply, n, &o));
    bool success = true;
    char got[64] = "", msg[256] = "";
    assert_true(mp_bool(&o, "success", &success));
    assert_false(success);
    assert_true(mp_str(&o, "error_code", got, sizeof got));
    assert_string_equal(got, code);
    assert_true(mp_str(&o, "error_message", msg, sizeof msg));
    assert_true(msg[0] != '\0');
    int64_t id = -1;
    if (want_id >= 0) {
        assert_true(mp_int(&o, "id", &id));
        assert_int_equal(id, want_id);
    } else {
        assert_null(mp_get(&o, "id"));
    }
    mp_reader_destroy(&rd);
    free(reply);
}

static void test_send_order_in_msgpack(void **state) {
    fixture *f = *state;
    broker_order_req q = order_req("m-1", SIDE_BUY, 2);
    bp_send_reply a;
    /* no session yet: refused, nothing placed */
    send_packed(f, "s1", 41, &q, &a);
    assert_false(a.success);
    assert_string_equal(a.error_code, "NOT_LOGGED_IN");
    assert_int_equal(xstore_count(f->xs, "orders"), 0);

    login(f, "s1");
    send_packed(f, "s1", 42, &q, &a);
    assert_true(a.success);
    assert_true(a.result.is_send_order);
    assert_false(a.result.duplicate);
    assert_string_equal(a.result.client_order_id, "m-1");
    assert_string_equal(a.result.note, "mp");
    assert_string_equal(a.result.order_serial, "SIM-00000001");
    assert_int_equal(xstore_count(f->xs, "orders"), 1); /* in the book on disk */
    assert_int_equal(f->pub.nreports, 1);
    assert_int_equal(f->pub.reports[0].seq, 1);
    assert_string_equal(f->pub.reports[0].client_order_id, "m-1");
    assert_int_equal(f->pub.reports[0].status, BROKER_ST_ACCEPTED);
    broker_order_info o;
    assert_true(broker_order_status(xcore_broker(f->core), "m-1", &o));
    assert_int_equal(o.qty, 2);

    /* the same client order id again: that order, not a new one */
    send_packed(f, "s1", 43, &q, &a);
    assert_true(a.success);
    assert_true(a.result.duplicate);
    assert_string_equal(a.result.order_serial, "SIM-00000001");
    assert_int_equal(xstore_count(f->xs, "orders"), 1);
    assert_int_equal(f->pub.nreports, 1);

    /* one send_order behind both encodings: a JSON order repeated in msgpack is a duplicate */
    char serial[64];
    send_json(f, "j-1", "sell", 1, "Market", 0, "IOC", serial, NULL);
    broker_order_req j1 = order_req("j-1", SIDE_SELL, 1);
    send_packed(f, "s1", 44, &j1, &a);
    assert_true(a.result.duplicate);
    assert_string_equal(a.result.order_serial, serial);

    /* group commit: held (nothing published) until its batch commits */
    size_t before = f->pub.nreports;
    xcore_batch_begin(f->core);
    broker_order_req q3 = order_req("m-3", SIDE_BUY, 1);
    send_packed(f, "s1", 45, &q3, &a);
    assert_true(a.success && a.result.is_send_order);
    assert_true(xcore_held(f->core));
    assert_int_equal(f->pub.nreports, before);
    assert_true(xcore_batch_end(f->core));
    assert_int_equal(f->pub.nreports, before + 1);
    assert_string_equal(f->pub.reports[before].client_order_id, "m-3");

    /* refused whole, each with a msgpack error and nothing placed */
    long long orders = (long long)xstore_count(f->xs, "orders");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    broker_order_req q4 = order_req("m-4", SIDE_BUY, 1);
    assert_true(bp_pack_send_request(&pk, 46, &q4));
    for (size_t cut = 1; cut < sb.size; cut += 7) /* truncated anywhere */
        expect_packed_error(f, sb.data, cut, "INVALID_MSGPACK", -1);
    msgpack_sbuffer_write(&sb, "\xc0", 1); /* trailing bytes */
    expect_packed_error(f, sb.data, sb.size, "INVALID_MSGPACK", -1);
    expect_packed_error(f, "\x81\xa2id\xc1", 5, "INVALID_MSGPACK", -1); /* 0xc1: never used */
    /* another operation in msgpack: the JSON ones are not taken so */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    mp_pack_str(&pk, "operation");
    mp_pack_str(&pk, "health");
    mp_pack_str(&pk, "id");
    msgpack_pack_int(&pk, 5);
    expect_packed_error(f, sb.data, sb.size, "UNKNOWN_OPERATION", 5);
    /* an order with a mistyped field */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 3);
    mp_pack_str(&pk, "operation");
    mp_pack_str(&pk, "send_order");
    mp_pack_str(&pk, "id");
    msgpack_pack_int(&pk, 6);
    mp_pack_str(&pk, "order");
    msgpack_pack_map(&pk, 1);
    mp_pack_str(&pk, "qty");
    mp_pack_str(&pk, "two");
    expect_packed_error(f, sb.data, sb.size, "INVALID_ORDER", 6);
    msgpack_sbuffer_destroy(&sb);
    assert_int_equal((long long)xstore_count(f->xs, "orders"), orders);

    /* the core still serves JSON on the same connection */
    json_t *j = call(f, "s1", "{\"operation\": \"order_status\", \"parameters\": {\"client_order_id\": \"m-3\"}}");
    assert_true(json_is_true(json_object_get(json_object_get(j, "data"), "found")));
    json_decref(j);
}

/* Reads report seq's body from exchange.db: its SQLite type and bytes. */
static int row_body(fixture *f, uint64_t seq, unsigned char *out, size_t cap, size_t *len) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", f->home.path, XSTORE_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT body FROM reports WHERE seq = ?1", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)seq);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int type = sqlite3_column_type(q, 0);
    *len = (size_t)sqlite3_column_bytes(q, 0);
    assert_true(*len <= cap);
    memcpy(out, sqlite3_column_blob(q, 0), *len);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return type;
}

/* A book written before keeps its reports as JSON text: they read back beside the new msgpack
 * rows, whose bytes are the very bytes published. */
static void test_report_log_json_and_msgpack_rows(void **state) {
    fixture *f = *state;
    close_core(f);
    /* an old book: one report row in JSON text */
    broker_report old;
    memset(&old, 0, sizeof old);
    old.seq = 1;
    snprintf(old.client_order_id, sizeof old.client_order_id, "old-1");
    snprintf(old.order_serial, sizeof old.order_serial, "SIM-000000FF");
    snprintf(old.account, sizeof old.account, "SIM-0002");
    snprintf(old.symbol, sizeof old.symbol, "MXFF5");
    old.side = SIDE_SELL;
    old.qty = 4;
    old.status = BROKER_ST_CANCELLED;
    snprintf(old.reason, sizeof old.reason, "cancelled by the user");
    old.ts_us = 1750152615000001LL;
    json_t *oj = bj_from_report(&old);
    char *text = json_dumps(oj, JSON_COMPACT);
    json_decref(oj);
    char path[600];
    snprintf(path, sizeof path, "%s/%s", f->home.path, XSTORE_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *ins = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO reports (seq, client_order_id, order_serial, body)"
                                            " VALUES (1, 'old-1', 'SIM-000000FF', ?1)", -1, &ins, NULL), SQLITE_OK);
    sqlite3_bind_text(ins, 1, text, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(text);

    open_core(f);
    assert_int_equal(xstore_last_seq(f->xs), 1);
    login(f, "s1");
    broker_order_req q = order_req("new-1", SIDE_BUY, 1);
    bp_send_reply a;
    send_packed(f, "s1", 1, &q, &a);
    assert_true(a.success);
    assert_int_equal(f->pub.nreports, 1);
    assert_int_equal(f->pub.reports[0].seq, 2);

    unsigned char body[1024];
    size_t len = 0;
    assert_int_equal(row_body(f, 1, body, sizeof body, &len), SQLITE_TEXT);
    assert_int_equal(body[0], '{');
    assert_int_equal(row_body(f, 2, body, sizeof body, &len), SQLITE_BLOB);
    assert_true(mp_is_map(body, len));
    assert_int_equal(len, last_body_len); /* encoded once: the row is what was published */
    assert_memory_equal(body, last_body, len);

    broker_report out[4];
    bool more = true;
    assert_int_equal(xstore_reports_since(f->xs, 0, out, 4, &more), 2);
    assert_false(more);
    assert_memory_equal(&out[0], &old, sizeof old);
    assert_memory_equal(&out[1], &f->pub.reports[0], sizeof out[1]);
    assert_int_equal(xstore_reports_since(f->xs, 1, out, 4, &more), 1);
    assert_int_equal(out[0].seq, 2);
    /* and over the protocol, as JSON */
    json_t *j = call(f, "s1", "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 0}}");
    json_t *list = json_object_get(json_object_get(j, "data"), "reports");
    assert_int_equal(json_array_size(list), 2);
    broker_report r0, r1;
    assert_true(bj_to_report(json_array_get(list, 0), &r0));
    assert_true(bj_to_report(json_array_get(list, 1), &r1));
    assert_memory_equal(&r0, &old, sizeof old);
    assert_string_equal(r1.client_order_id, "new-1");
    json_decref(j);
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
        cmocka_unit_test_setup_teardown(test_orders_together_in_one_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_position_written_once_per_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_order_in_msgpack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_log_json_and_msgpack_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused_unchanged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
