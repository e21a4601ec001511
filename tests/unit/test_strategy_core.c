/* The strategy process's core without sockets: conditions from a real database (written from a
 * second connection, as the CLI and the executor do), decoded ticks in, signals captured at the
 * sink, execution reports as the gateway publishes them, condition rows through the real state
 * writer thread, and time moved by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "testkit.h"

#include "app/strategy/state_writer.h"
#include "app/strategy/strategy_core.h"
#include "broker/broker_json.h"
#include "net/gw_pack.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "wire/codec.h"

#define SYM "TXFF5"
#define T0 100000 /* the tests' monotonic clock starts here (ms) */

typedef struct {
    tk_home home;
    sqlite3 *db;         /* the core's connection */
    sqlite3 *other;      /* another process: the CLI adding and cancelling, the executor settling */
    condition_store *cs; /* on other */
    state_writer *writer;
    strategy_core *core;
    strategy_core_config cfg;
    strategy_signal sent[32];
    size_t nsent;
    bool refuse; /* the executor is not reachable */
    int64_t now;
} fixture;

static bool capture_signal(void *ctx, const strategy_signal *s) {
    fixture *f = ctx;
    if (f->refuse) return false;
    assert_true(f->nsent < 32);
    f->sent[f->nsent++] = *s;
    return true;
}

static bool to_writer(void *ctx, const state_batch *b) {
    fixture *f = ctx;
    return state_writer_submit(f->writer, b);
}

static void core_start(fixture *f) {
    char err[256] = "";
    strategy_core_sinks sinks = {f, capture_signal, to_writer};
    f->core = strategy_core_new(f->db, &f->cfg, &sinks, f->now, err, sizeof err);
    if (!f->core) fail_msg("strategy_core_new: %s", err);
}

static void core_stop(fixture *f) {
    strategy_core_free(f->core);
    f->core = NULL;
    state_writer_stop(f->writer); /* writes what the core handed over */
    f->writer = NULL;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tk_home_make(&f->home, "strat-core");
    f->db = tk_db_open(&f->home);
    f->other = tk_db_open(&f->home);
    f->cs = cstore_open(f->other);
    assert_non_null(f->cs);
    /* a known instance id, so the client order ids are known: aftm-<instance>-<signal id> */
    assert_true(db_meta_set_text(f->other, "instance_id", "00c0ffee"));
    char err[256] = "";
    f->writer = state_writer_start(f->home.path, err, sizeof err);
    if (!f->writer) fail_msg("state_writer_start: %s", err);
    f->cfg.rearm_tag = 4242;
    f->now = T0;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    if (f->core || f->writer) core_stop(f);
    cstore_close(f->cs);
    db_close(f->other);
    db_close(f->db);
    tk_home_remove(&f->home);
    free(f);
    return 0;
}

/* A BUY condition from the CLI: trigger, turning 30, TP 90, SL 30, no trailing. Order price
 * trigger + 30, take profit trigger + 120, stop loss trigger. */
static int64_t add_buy(fixture *f, price_t trigger, int64_t qty) {
    condition c;
    condition_init(&c, 0, SYM, SIDE_BUY, trigger, 30, qty, 90, 30, false);
    char err[128] = "";
    int64_t id = cstore_add(f->cs, &c, NULL, err, sizeof err);
    if (id <= 0) fail_msg("cstore_add: %s", err);
    return id;
}

static void tick(fixture *f, double price) {
    wire_tick t = {.when = 1750152615.25, .match_price = price};
    snprintf(t.commodity_id, sizeof t.commodity_id, "%s", SYM);
    strategy_core_on_tick(f->core, &t);
}

/* Moves the clock and lets the core do its time-driven work. */
static void advance(fixture *f, int64_t ms) {
    f->now += ms;
    strategy_core_housekeep(f->core, f->now);
}

/* A report as the gateway publishes it: a msgpack map (net/gw_pack.h). */
static strategy_report_outcome report(fixture *f, const char *coid, const char *status, long long filled,
                                      double avg_price, const char *reason) {
    broker_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", coid);
    snprintf(r.symbol, sizeof r.symbol, "%s", SYM);
    snprintf(r.account, sizeof r.account, "SIM-0001");
    snprintf(r.reason, sizeof r.reason, "%s", reason ? reason : "");
    assert_true(broker_status_parse(status, &r.status));
    r.qty = filled > 0 ? filled : 1;
    r.filled_qty = filled;
    r.filled_notional = (int64_t)llround(avg_price * (double)filled);
    gw_packer p;
    gw_packer_init(&p);
    assert_true(gw_pack_report(&p, 7, &r));
    strategy_report_outcome out = strategy_core_on_report(f->core, gw_packed(&p), gw_packed_len(&p));
    gw_packer_destroy(&p);
    return out;
}

/* The same fields as JSON text (what get_reports lists; the report port took JSON before). */
static strategy_report_outcome report_json(fixture *f, const char *coid, const char *status, long long filled,
                                           double avg_price, const char *reason) {
    char json[512];
    char price[32] = "null";
    if (avg_price > 0) snprintf(price, sizeof price, "%.1f", avg_price);
    snprintf(json, sizeof json,
             "{\"seq\": 7, \"client_order_id\": \"%s\", \"symbol\": \"%s\", \"status\": \"%s\", "
             "\"filled_qty\": %lld, \"avg_fill_price\": %s, \"reason\": %s%s%s}",
             coid, SYM, status, filled, price, reason ? "\"" : "", reason ? reason : "null", reason ? "\"" : "");
    return strategy_core_on_report(f->core, json, strlen(json));
}

/* Waits (up to 5 s) until the writer thread has put the row in the wanted status. */
static condition_record wait_row(fixture *f, int64_t id, const char *status, entry_state entry) {
    condition_record r;
    for (int i = 0; i < 500; i++) {
        if (cstore_get(f->cs, id, &r) && !strcmp(r.status, status) && r.c.entry == entry) return r;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("condition %lld never became %s/%s (is %s/%s)", (long long)id, status, entry_state_name(entry), r.status,
             entry_state_name(r.c.entry));
    return r;
}

static void expect_signal(const strategy_signal *s, int64_t cond, wire_side side, int64_t qty, const char *sid,
                          price_t price) {
    assert_int_equal(s->sig.condition_id, cond);
    assert_int_equal(s->sig.side, side);
    assert_int_equal(s->sig.quantity, qty);
    assert_string_equal(s->sig.signal_id, sid);
    assert_string_equal(s->sig.commodity_id, SYM);
    assert_int_equal(s->sig.price, price);
    /* what goes on the wire says the same */
    wire_decoder d;
    wire_decoder_init(&d);
    wire_msg m;
    assert_int_equal(wire_decode(&d, s->buf, s->len, &m), WIRE_SIGNAL);
    assert_true(m.u.signal.has_ext);
    assert_string_equal(m.u.signal.signal_id, sid);
    assert_int_equal(m.u.signal.condition_id, cond);
    assert_int_equal(m.u.signal.quantity, qty);
    assert_int_equal(m.u.signal.side, side);
    assert_int_equal(m.u.signal.seq, s->sig.seq);
    wire_decoder_destroy(&d);
}

static void test_crossing_the_trigger_gives_one_entry_signal(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 22000, 2);
    core_start(f);
    assert_int_equal(strategy_core_get_stats(f->core).conditions, 1);

    tick(f, 22010); /* above the trigger: nothing */
    tick(f, 21990); /* at or below it: triggered */
    assert_int_equal(f->nsent, 0);
    tick(f, 22030.7); /* back up by the turning points (truncated to 22030): entry */
    assert_int_equal(f->nsent, 1);
    char sid[32];
    snprintf(sid, sizeof sid, "%lld.E", (long long)id);
    expect_signal(&f->sent[0], id, WIRE_BUY, 2, sid, 22030);
    assert_int_equal(f->sent[0].sig.seq, 1);

    tick(f, 22030.7); /* the same tick again */
    tick(f, 22040);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(strategy_core_get_stats(f->core).signals, 1);
    assert_int_equal(strategy_core_get_stats(f->core).ticks, 5);

    /* the signal's state goes to the writer at once, not after the flush interval */
    advance(f, 0);
    condition_record r = wait_row(f, id, "active", ENTRY_PENDING);
    assert_true(r.c.is_ordered);
    long long seq = 0;
    for (int i = 0; i < 500 && !(db_meta_get_int(f->other, "strategy_seq", &seq) && seq == 1); i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(seq, 1);

    /* a restarted core continues the signal counter and does not fire the entry again; the
     * entry, never acknowledged (no executor stored it), is sent again as it was */
    core_stop(f);
    char err[256];
    f->writer = state_writer_start(f->home.path, err, sizeof err);
    assert_non_null(f->writer);
    core_start(f);
    const condition *c = strategy_core_find(f->core, id);
    assert_non_null(c);
    assert_int_equal(c->entry, ENTRY_PENDING);
    assert_int_equal(strategy_core_get_stats(f->core).unacknowledged, 1);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(f->sent[1].len, f->sent[0].len);
    assert_memory_equal(f->sent[1].buf, f->sent[0].buf, f->sent[0].len);
    char coid[32];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lld.E", (long long)id);
    assert_int_equal(report_json(f, coid, "filled", 2, 22031.0, NULL), STRATEGY_REPORT_FILLED);
    tick(f, 22150);
    assert_int_equal(f->nsent, 3);
    assert_int_equal(f->sent[2].sig.seq, 2);
}

/* The executor's order row for a signal id: what acknowledges the signal. */
static void executor_stores(fixture *f, const char *signal_id) {
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO orders(client_order_id, signal_id, symbol, side, qty, status, created_at, updated_at) "
             "VALUES('aftm-00c0ffee-%s', '%s', 'TXFF5', 'buy', 1, 'accepted', 0, 0)",
             signal_id, signal_id);
    char err[128];
    if (!db_exec(f->other, sql, err, sizeof err)) fail_msg("%s", err);
}

static long long outbox_rows(fixture *f) {
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->other, "SELECT COUNT(*) FROM signal_outbox", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static long long wait_outbox_rows(fixture *f, long long want) {
    long long n = -1;
    for (int i = 0; i < 500 && (n = outbox_rows(f)) != want; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    return n;
}

static void test_signal_is_sent_again_until_the_executor_stores_it(void **state) {
    fixture *f = *state;
    int64_t a = add_buy(f, 22000, 1), b = add_buy(f, 22010, 1);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030); /* a's entry: sent, and kept in the outbox with the condition's state */
    tick(f, 22040); /* b's */
    assert_int_equal(f->nsent, 2);
    advance(f, 0);
    assert_int_equal(wait_outbox_rows(f, 2), 2);
    assert_int_equal(strategy_core_get_stats(f->core).unacknowledged, 2);

    /* not acknowledged: nothing is resent before STRATEGY_RESEND_MS, both are after it */
    advance(f, STRATEGY_RESEND_MS - 1);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 2);
    advance(f, 1);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 4);
    assert_string_equal(f->sent[2].sig.signal_id, f->sent[0].sig.signal_id);
    assert_memory_equal(f->sent[2].buf, f->sent[0].buf, f->sent[0].len);
    assert_int_equal(strategy_core_get_stats(f->core).resent, 2);

    /* the executor stores a's order: a leaves the outbox, b is sent again */
    char sid[32];
    snprintf(sid, sizeof sid, "%lld.E", (long long)a);
    executor_stores(f, sid);
    advance(f, STRATEGY_ACK_MS);
    assert_int_equal(strategy_core_get_stats(f->core).unacknowledged, 1);
    assert_int_equal(wait_outbox_rows(f, 1), 1);
    advance(f, STRATEGY_RESEND_MS);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 5);
    snprintf(sid, sizeof sid, "%lld.E", (long long)b);
    assert_string_equal(f->sent[4].sig.signal_id, sid);

    /* a restart sends b again at once; stored meanwhile (a refusal is an order row too), it is
     * not sent, and leaves the outbox */
    core_stop(f);
    char err[256];
    f->writer = state_writer_start(f->home.path, err, sizeof err);
    assert_non_null(f->writer);
    core_start(f);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 6);
    assert_string_equal(f->sent[5].sig.signal_id, sid);
    core_stop(f);
    executor_stores(f, sid);
    f->writer = state_writer_start(f->home.path, err, sizeof err);
    assert_non_null(f->writer);
    core_start(f);
    assert_int_equal(strategy_core_get_stats(f->core).unacknowledged, 0);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 6);
    advance(f, STRATEGY_FLUSH_MS);
    assert_int_equal(wait_outbox_rows(f, 0), 0);
}

/* The executor on another host, with a database of its own: its acknowledgement empties the
 * outbox, names the instance its orders carry (so their reports are followed), and a refused
 * entry is parked. */
static void test_acknowledgement_from_another_host(void **state) {
    fixture *f = *state;
    int64_t a = add_buy(f, 22000, 1), b = add_buy(f, 22010, 1);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    tick(f, 22040);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(strategy_core_get_stats(f->core).unacknowledged, 2);
    char body[512], sid[32], coid[64];

    /* a: stored as an order under the other database's instance id */
    snprintf(sid, sizeof sid, "%lld.E", (long long)a);
    snprintf(coid, sizeof coid, "aftm-0badcafe-%s", sid);
    snprintf(body, sizeof body, "{\"signal_id\":\"%s\",\"client_order_id\":\"%s\",\"refused\":false,\"reason\":\"\"}",
             sid, coid);
    assert_true(strategy_core_on_ack(f->core, body, strlen(body)));
    assert_int_equal(strategy_core_get_stats(f->core).unacknowledged, 1);
    /* its fill report, under the executor's instance, starts the exit stage */
    assert_int_equal(report(f, coid, "filled", 1, 22031, NULL), STRATEGY_REPORT_FILLED);

    /* b: refused by the executor's risk rules; no report will ever come */
    snprintf(sid, sizeof sid, "%lld.E", (long long)b);
    snprintf(coid, sizeof coid, "aftm-0badcafe-%s", sid);
    snprintf(body, sizeof body,
             "{\"signal_id\":\"%s\",\"client_order_id\":\"%s\",\"refused\":true,\"reason\":\"risk max_position\"}",
             sid, coid);
    assert_true(strategy_core_on_ack(f->core, body, strlen(body)));
    assert_int_equal(strategy_core_get_stats(f->core).unacknowledged, 0);
    /* parked: a (stray) fill report for it no longer starts an exit stage */
    assert_int_equal(report(f, coid, "filled", 1, 22041, NULL), STRATEGY_REPORT_IGNORED);
    /* nothing more is sent for either, however long we wait */
    advance(f, 10 * STRATEGY_RESEND_MS);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 2);

    /* garbage on the ack link changes nothing */
    assert_false(strategy_core_on_ack(f->core, "{}", 2));
    assert_false(strategy_core_on_ack(f->core, "\x01\x02", 2));
}

static void test_fill_starts_the_exit_stage(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 22000, 2);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    assert_int_equal(f->nsent, 1);
    char coid[32];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lld.E", (long long)id);

    /* no fill known yet: take profit's price is not an exit */
    tick(f, 22130);
    assert_int_equal(f->nsent, 1);
    /* accepted is not an outcome */
    assert_int_equal(report(f, coid, "accepted", 0, 0, NULL), STRATEGY_REPORT_IGNORED);
    /* one lot filled of two, the rest cancelled: the exit closes the one */
    assert_int_equal(report(f, coid, "cancelled", 1, 22031.0, NULL), STRATEGY_REPORT_FILLED);
    assert_int_equal(f->nsent, 1); /* the fill price itself is short of take profit */
    const condition *c = strategy_core_find(f->core, id);
    assert_non_null(c);
    assert_int_equal(c->entry, ENTRY_FILLED);
    assert_int_equal(c->filled_qty, 1);
    /* a second report for the settled entry changes nothing */
    assert_int_equal(report(f, coid, "filled", 2, 22031.0, NULL), STRATEGY_REPORT_IGNORED);

    tick(f, 22100);
    assert_int_equal(f->nsent, 1);
    tick(f, 22120); /* take profit */
    assert_int_equal(f->nsent, 2);
    char sid[32];
    snprintf(sid, sizeof sid, "%lld.X", (long long)id);
    expect_signal(&f->sent[1], id, WIRE_SELL, 1, sid, 22120);
    assert_null(strategy_core_find(f->core, id));

    advance(f, 0);
    condition_record r = wait_row(f, id, "done", ENTRY_PENDING);
    assert_true(r.c.is_exited);
    assert_string_equal(r.note, "exited: take profit");
    /* the executor's fill arrives later through the database: the exit is not re-added */
    assert_true(cstore_set_entry(f->cs, id, 0, ENTRY_FILLED, 1, NULL));
    advance(f, STRATEGY_SYNC_MS);
    assert_null(strategy_core_find(f->core, id));
    tick(f, 22120);
    assert_int_equal(f->nsent, 2);
}

static void test_fill_already_past_take_profit_exits_at_once(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 22000, 1);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    assert_int_equal(f->nsent, 1);
    char coid[32];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lld.E", (long long)id);
    /* filled on a tick at 22125: that tick is past take profit (22120) */
    assert_int_equal(report(f, coid, "filled", 1, 22125.0, NULL), STRATEGY_REPORT_FILLED);
    assert_int_equal(f->nsent, 2);
    char sid[32];
    snprintf(sid, sizeof sid, "%lld.X", (long long)id);
    expect_signal(&f->sent[1], id, WIRE_SELL, 1, sid, 22125);
    assert_null(strategy_core_find(f->core, id));
}

static void test_rejected_entry_is_parked(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 22000, 1);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    assert_int_equal(f->nsent, 1);
    advance(f, 0);
    wait_row(f, id, "active", ENTRY_PENDING);
    char coid[32];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lld.E", (long long)id);

    assert_int_equal(report(f, coid, "rejected", 0, 0, "price band"), STRATEGY_REPORT_REJECTED);
    const condition *c = strategy_core_find(f->core, id);
    assert_non_null(c);
    assert_int_equal(c->entry, ENTRY_REJECTED);
    /* neither take profit nor stop loss opens anything */
    tick(f, 22200);
    tick(f, 21900);
    tick(f, 22200);
    assert_int_equal(f->nsent, 1);

    /* the executor parks the row with the reason; the core lets the condition go */
    assert_true(cstore_set_entry(f->cs, id, 0, ENTRY_REJECTED, 0, "entry rejected: price band"));
    advance(f, STRATEGY_SYNC_MS - 1);
    assert_non_null(strategy_core_find(f->core, id));
    advance(f, 1);
    assert_null(strategy_core_find(f->core, id));
    condition_record r;
    assert_true(cstore_get(f->cs, id, &r));
    assert_string_equal(r.status, "rejected");
    assert_string_equal(r.note, "entry rejected: price band");
    assert_int_equal(r.c.entry, ENTRY_REJECTED);
    /* a late report for it is nothing to the strategy any more */
    assert_int_equal(report(f, coid, "filled", 1, 22030.0, NULL), STRATEGY_REPORT_IGNORED);
}

static void test_condition_added_later_is_picked_up(void **state) {
    fixture *f = *state;
    core_start(f);
    assert_int_equal(strategy_core_get_stats(f->core).conditions, 0);
    int64_t id = add_buy(f, 22000, 3);
    /* not before the sync interval */
    advance(f, STRATEGY_SYNC_MS - 1);
    assert_int_equal(strategy_core_get_stats(f->core).conditions, 0);
    assert_int_equal(strategy_core_timeout_ms(f->core, f->now), 1);
    advance(f, 1);
    assert_int_equal(strategy_core_get_stats(f->core).conditions, 1);
    assert_non_null(strategy_core_find(f->core, id));
    tick(f, 21990);
    tick(f, 22030);
    assert_int_equal(f->nsent, 1);
    assert_int_equal(f->sent[0].sig.condition_id, id);
    assert_int_equal(f->sent[0].sig.quantity, 3);
}

static void test_cancelled_condition_stops_firing(void **state) {
    fixture *f = *state;
    int64_t keep = add_buy(f, 22000, 1), gone = add_buy(f, 21000, 1);
    core_start(f);
    assert_int_equal(strategy_core_get_stats(f->core).conditions, 2);
    char err[128] = "";
    assert_true(cstore_cancel(f->cs, gone, err, sizeof err));
    advance(f, STRATEGY_SYNC_MS);
    assert_null(strategy_core_find(f->core, gone));
    assert_non_null(strategy_core_find(f->core, keep));
    tick(f, 20990); /* would have triggered both */
    tick(f, 21030); /* the cancelled one's entry price */
    tick(f, 22030); /* the kept one's */
    assert_int_equal(f->nsent, 1);
    assert_int_equal(f->sent[0].sig.condition_id, keep);
}

static void test_undelivered_signal_is_kept_and_sent_later(void **state) {
    fixture *f = *state;
    int64_t a = add_buy(f, 22000, 1), b = add_buy(f, 22010, 1);
    core_start(f);
    f->refuse = true;
    tick(f, 21990);
    tick(f, 22030); /* a's entry */
    assert_int_equal(f->nsent, 0);
    assert_int_equal(strategy_core_get_stats(f->core).undelivered, 1);
    assert_true(strategy_core_timeout_ms(f->core, f->now) <= STRATEGY_RETRY_MS);
    tick(f, 22040); /* b's entry queues behind a's */
    assert_int_equal(strategy_core_get_stats(f->core).undelivered, 2);
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 0);
    f->refuse = false;
    strategy_core_retry_signals(f->core, f->now);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(f->sent[0].sig.condition_id, a);
    assert_int_equal(f->sent[1].sig.condition_id, b);
    assert_true(f->sent[0].sig.seq < f->sent[1].sig.seq);
    assert_int_equal(strategy_core_get_stats(f->core).undelivered, 0);
}

static void test_bad_input_is_refused(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 22000, 1);
    core_start(f);
    tick(f, 0);
    tick(f, -21990);
    tick(f, NAN);
    tick(f, 1e300);
    tick(f, 0.5); /* would truncate to 0 and fire a stop loss at 0 */
    tick(f, 0.999);
    strategy_core_stats st = strategy_core_get_stats(f->core);
    assert_int_equal(st.bad_ticks, 6);
    assert_int_equal(st.ticks, 0);
    assert_false(strategy_core_find(f->core, id)->is_trigger);
    assert_int_equal(strategy_core_on_report(f->core, "not json", 8), STRATEGY_REPORT_BAD);
    assert_int_equal(strategy_core_on_report(f->core, "[1, 2]", 6), STRATEGY_REPORT_BAD);
    assert_int_equal(strategy_core_on_report(f->core, "\x82\xa6status", 8), STRATEGY_REPORT_BAD); /* cut short */
    assert_int_equal(strategy_core_on_report(f->core, "\x81\xa6status\x07", 9), STRATEGY_REPORT_BAD); /* not a string */
    const char *no_status = "{\"client_order_id\": \"aftm-00c0ffee-1.E\"}";
    assert_int_equal(strategy_core_on_report(f->core, no_status, strlen(no_status)), STRATEGY_REPORT_BAD);
    /* another order's report, or an entry that was never sent */
    assert_int_equal(report(f, "manual-7", "filled", 1, 22000.0, NULL), STRATEGY_REPORT_IGNORED);
    char coid[32];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lld.E", (long long)id);
    assert_int_equal(report(f, coid, "filled", 1, 22000.0, NULL), STRATEGY_REPORT_IGNORED);
    assert_int_equal(strategy_core_find(f->core, id)->entry, ENTRY_NONE);
    assert_int_equal(f->nsent, 0);
}

static void test_original_wire_sends_four_keys(void **state) {
    fixture *f = *state;
    f->cfg.original_wire = true;
    int64_t id = add_buy(f, 22000, 2);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    assert_int_equal(f->nsent, 1);
    const strategy_signal *s = &f->sent[0];
    assert_int_equal((unsigned char)s->buf[0], 0x84); /* a fixmap of exactly 4 keys */
    wire_decoder d;
    wire_decoder_init(&d);
    wire_msg m;
    assert_int_equal(wire_decode(&d, s->buf, s->len, &m), WIRE_SIGNAL);
    assert_false(m.u.signal.has_ext);
    assert_int_equal(m.u.signal.side, WIRE_BUY);
    assert_string_equal(m.u.signal.commodity_id, SYM);
    assert_true(m.u.signal.when == 1750152615.25);
    /* the same signal in aftm's format is longer: the extension is really left out */
    strategy_signal ext = *s;
    assert_true(strategy_signal_encode(&ext, false));
    assert_true(ext.len > s->len);
    assert_int_equal(wire_decode(&d, ext.buf, ext.len, &m), WIRE_SIGNAL);
    assert_true(m.u.signal.has_ext);
    assert_int_equal(m.u.signal.condition_id, id);
    wire_decoder_destroy(&d);
    /* no fill feedback: the entry counts as filled, take profit exits with no report */
    tick(f, 22120);
    assert_int_equal(f->nsent, 2);
    assert_int_equal(f->sent[1].sig.side, WIRE_SELL);
    assert_int_equal((unsigned char)f->sent[1].buf[0], 0x84);
}

static void test_rearm_arms_every_condition_again(void **state) {
    fixture *f = *state;
    f->cfg.rearm = true; /* --rearm: as if every condition had been added with --repeat */
    int64_t id = add_buy(f, 22000, 1);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    char coid[48];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lld.E", (long long)id);
    assert_int_equal(report(f, coid, "filled", 1, 22030.0, NULL), STRATEGY_REPORT_FILLED);
    tick(f, 22120); /* exit; the same condition is armed again */
    assert_int_equal(f->nsent, 2);
    assert_int_equal(strategy_core_get_stats(f->core).conditions, 1);
    const condition *c = strategy_core_find(f->core, id);
    assert_non_null(c);
    assert_int_equal(c->round, 1);
    assert_int_equal(c->entry, ENTRY_NONE);
    tick(f, 21990);
    tick(f, 22030);
    assert_int_equal(f->nsent, 3);
    char want[32];
    snprintf(want, sizeof want, "%lldr1.E", (long long)id);
    assert_string_equal(f->sent[2].sig.signal_id, want);
    assert_int_equal(f->sent[2].sig.condition_id, id);
    /* the first round's report again (a late copy) does not settle the second round's entry */
    assert_int_equal(report(f, coid, "filled", 1, 22030.0, NULL), STRATEGY_REPORT_IGNORED);
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lldr1.E", (long long)id);
    assert_int_equal(report(f, coid, "filled", 1, 22030.0, NULL), STRATEGY_REPORT_FILLED);
    tick(f, 22000); /* stop loss of the second round */
    assert_int_equal(f->nsent, 4);
    snprintf(want, sizeof want, "%lldr1.X", (long long)id);
    assert_string_equal(f->sent[3].sig.signal_id, want);
}

/* A condition stored with repeat: armed again after its exit under the same id, the round
 * stored (a restarted strategy goes on from it), and an earlier round's entry outcome, written
 * late by the executor, does not touch the new round. */
static void test_repeating_condition_keeps_its_id_through_rounds(void **state) {
    fixture *f = *state;
    condition cond;
    condition_init(&cond, 0, SYM, SIDE_BUY, 22000, 30, 1, 90, 30, false);
    cond.repeat = true;
    char err[128] = "";
    int64_t id = cstore_add(f->cs, &cond, NULL, err, sizeof err);
    assert_true(id > 0);
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    char coid[48];
    snprintf(coid, sizeof coid, "aftm-00c0ffee-%lld.E", (long long)id);
    assert_int_equal(report(f, coid, "filled", 1, 22030.0, NULL), STRATEGY_REPORT_FILLED);
    tick(f, 22120); /* take profit: exit of round 1, armed again */
    assert_int_equal(f->nsent, 2);
    core_stop(f);
    condition_record r;
    assert_true(cstore_get(f->cs, id, &r));
    assert_string_equal(r.status, "active");
    assert_true(r.c.repeat);
    assert_int_equal(r.c.round, 1);
    assert_int_equal(r.c.entry, ENTRY_NONE);
    assert_false(r.c.is_ordered);
    /* the executor's late write of round 0's fill finds round 1: nothing changes */
    assert_true(cstore_set_entry(f->cs, id, 0, ENTRY_FILLED, 1, NULL));
    assert_true(cstore_get(f->cs, id, &r));
    assert_int_equal(r.c.entry, ENTRY_NONE);
    /* a new strategy process goes on with round 1 */
    char err2[256] = "";
    f->writer = state_writer_start(f->home.path, err2, sizeof err2);
    assert_non_null(f->writer);
    f->nsent = 0;
    core_start(f);
    tick(f, 21990);
    tick(f, 22030);
    strategy_core_retry_signals(f->core, f->now); /* the first run's two signals go first */
    char want[32];
    snprintf(want, sizeof want, "%lldr1.E", (long long)id);
    assert_int_equal(f->nsent, 3);
    assert_string_equal(f->sent[2].sig.signal_id, want);
    /* removable like any other */
    assert_true(cstore_cancel(f->cs, id, err, sizeof err));
    advance(f, 2000);
    assert_null(strategy_core_find(f->core, id));
}

static void test_client_order_id_scheme(void **state) {
    (void)state;
    int64_t id = 0;
    bool ex = true;
    assert_true(strategy_parse_client_order_id("aftm-00c0ffee-17.E", "00c0ffee", 5, &id, &ex, NULL));
    assert_int_equal(id, 17);
    assert_false(ex);
    assert_true(strategy_parse_client_order_id("aftm-00c0ffee-9.X", "00c0ffee", 5, &id, &ex, NULL));
    assert_int_equal(id, 9);
    assert_true(ex);
    assert_true(strategy_parse_client_order_id("aftm-00c0ffee-m5_3.E", "00c0ffee", 5, &id, &ex, NULL));
    assert_int_equal(id, -3);
    assert_false(ex);
    int64_t round = 0;
    assert_true(strategy_parse_client_order_id("aftm-00c0ffee-17r4.X", "00c0ffee", 5, &id, &ex, &round));
    assert_int_equal(id, 17);
    assert_int_equal(round, 4);
    assert_true(ex);
#define I "aftm-00c0ffee-"
    const char *not_ours[] = {NULL, "", "aftm-", I, I "17", I "17.", I "17.Q", I "17.EX", I "0.E", I "-3.E", I " 3.E",
                              I "+3.E", I "m6_3.E", I "m5-3.E", I "m_3.E", "x" I "1.E", "orig-1-1",
                              I "99999999999999999999.E", "AFTM-00c0ffee-1.E", I "17r.E", I "17r0.E", I "17r-1.E",
                              I "17r01.E", I "m5_3r1.E",
                              /* ids of another database (recreated since), or of before instance ids */
                              "aftm-00c0fff0-17.E", "aftm-17.E", "aftm-00c0ffee17.E", "aftm-00c0ffe-17.E"};
#undef I
    for (size_t i = 0; i < sizeof not_ours / sizeof not_ours[0]; i++) {
        id = 77;
        if (strategy_parse_client_order_id(not_ours[i], "00c0ffee", 5, &id, &ex, NULL)) fail_msg("'%s' taken as ours", not_ours[i]);
        assert_int_equal(id, 77);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crossing_the_trigger_gives_one_entry_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_starts_the_exit_stage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_already_past_take_profit_exits_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_entry_is_parked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_condition_added_later_is_picked_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_condition_stops_firing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undelivered_signal_is_kept_and_sent_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_is_sent_again_until_the_executor_stores_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acknowledgement_from_another_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_original_wire_sends_four_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rearm_arms_every_condition_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeating_condition_keeps_its_id_through_rounds, setup, teardown),
        cmocka_unit_test(test_client_order_id_scheme),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
