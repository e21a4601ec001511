/* The SQLite stores: conditions (add, cancel, state writes that never undo the executor's
 * entry outcome), orders (unique by client order id and signal id), fills (unique by id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/checkpointer.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/order_store.h"
#include "store/trading_state.h"
#include "testkit.h"

typedef struct {
    tk_home home;
    sqlite3 *db;
    condition_store *cs;
    order_store *os;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    tk_home_make(&f->home, "store");
    f->db = tk_db_open(&f->home);
    f->cs = cstore_open(f->db);
    f->os = ostore_open(f->db);
    assert_non_null(f->cs);
    assert_non_null(f->os);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    cstore_close(f->cs);
    ostore_close(f->os);
    db_close(f->db);
    tk_home_remove(&f->home);
    free(f);
    return 0;
}

static int64_t add_buy(fixture *f, price_t trigger) {
    condition c;
    condition_init(&c, 0, "TXFF5", SIDE_BUY, trigger, 15, 2, 90, 30, true);
    char err[128];
    int64_t id = cstore_add(f->cs, &c, NULL, err, sizeof err);
    assert_true(id > 0);
    return id;
}

typedef struct {
    int n;
    int64_t ids[8];
} seen;

static void collect(void *ctx, const condition_record *r) {
    seen *s = ctx;
    s->ids[s->n++] = r->c.id;
}

static void test_add_list_cancel(void **state) {
    fixture *f = *state;
    int64_t a = add_buy(f, 20000), b = add_buy(f, 19900);
    assert_true(b > a);
    seen s = {0};
    assert_int_equal(cstore_list(f->cs, false, collect, &s), 2);
    char err[128];
    assert_true(cstore_cancel(f->cs, a, err, sizeof err));
    assert_false(cstore_cancel(f->cs, a, err, sizeof err));
    assert_non_null(strstr(err, "cancelled"));
    assert_false(cstore_cancel(f->cs, 999, err, sizeof err));
    assert_non_null(strstr(err, "no condition"));
    seen s2 = {0};
    assert_int_equal(cstore_list(f->cs, false, collect, &s2), 1);
    assert_int_equal(s2.ids[0], b);
    seen s3 = {0};
    assert_int_equal(cstore_list(f->cs, true, collect, &s3), 2);
}

static void test_state_roundtrip_and_entry_ownership(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 20000);
    condition_record r;
    assert_true(cstore_get(f->cs, id, &r));
    condition c = r.c;
    assert_int_equal(condition_on_price(&c, 19990, false), COND_TRIGGERED | COND_TRAILED);
    assert_true(cstore_save_state(f->cs, &c, NULL));
    assert_true(condition_on_price(&c, 20010, false) & COND_ENTRY);
    assert_true(cstore_save_state(f->cs, &c, NULL));
    assert_true(cstore_get(f->cs, id, &r));
    assert_int_equal(r.c.trigger_price, 19990);
    assert_int_equal(r.c.order_price, 20005);
    assert_true(r.c.is_trigger && r.c.is_ordered);
    assert_int_equal(r.c.entry, ENTRY_PENDING);
    /* the executor learns of the fill; a later strategy write must not undo it */
    assert_true(cstore_set_entry(f->cs, id, 0, ENTRY_FILLED, 2, NULL));
    assert_true(cstore_save_state(f->cs, &c, NULL));
    assert_true(cstore_get(f->cs, id, &r));
    assert_int_equal(r.c.entry, ENTRY_FILLED);
    assert_int_equal(r.c.filled_qty, 2);
    /* exiting makes it done, with the reason */
    c.entry = ENTRY_FILLED;
    assert_true(condition_on_price(&c, 20100, false) & COND_EXIT_TP);
    assert_true(cstore_save_state(f->cs, &c, "exited: take profit"));
    assert_true(cstore_get(f->cs, id, &r));
    assert_string_equal(r.status, "done");
    assert_string_equal(r.note, "exited: take profit");
}

static void test_rejected_entry_parks_condition(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 20000);
    assert_true(cstore_set_entry(f->cs, id, 0, ENTRY_REJECTED, 0, "entry rejected: no margin"));
    condition_record r;
    assert_true(cstore_get(f->cs, id, &r));
    assert_string_equal(r.status, "rejected");
    assert_string_equal(r.note, "entry rejected: no margin");
    seen s = {0};
    assert_int_equal(cstore_list(f->cs, false, collect, &s), 0);
}

/* aftm kill / kill --halt / resume: the state round-trips with its reason and time, an old
 * database reads as active, and resume re-arms only what the kill switch refused, moving its
 * refused entry order aside so the condition's next entry can be stored under its own ids. */
static void test_trading_state_and_rearm(void **state) {
    fixture *f = *state;
    trading_state ts;
    assert_true(tstate_get(f->db, &ts));
    assert_int_equal(ts.kind, TSTATE_ACTIVE);
    assert_true(tstate_set(f->db, TSTATE_HALTED, "broker trouble", "cli"));
    assert_true(tstate_get(f->db, &ts));
    assert_int_equal(ts.kind, TSTATE_HALTED);
    assert_string_equal(ts.reason, "broker trouble");
    assert_true(ts.since > 0);
    char line[320];
    tstate_describe(&ts, line, sizeof line);
    assert_non_null(strstr(line, "halted"));
    assert_non_null(strstr(line, "broker trouble"));

    int64_t killed = add_buy(f, 20000), other = add_buy(f, 20100);
    order_record r;
    memset(&r, 0, sizeof r);
    char sid[32], coid[48];
    snprintf(sid, sizeof sid, "%lld.E", (long long)killed);
    snprintf(coid, sizeof coid, "aftm-x-%s", sid);
    assert_true(order_init(&r.o, coid, sid, killed, "SIM-0001", "TXFF5", SIDE_BUY, 2));
    r.o.status = ORDER_REJECTED;
    snprintf(r.o.reason, sizeof r.o.reason, "risk kill_switch: entries halted (x)");
    assert_true(ostore_insert(f->os, &r));
    assert_true(cstore_set_entry(f->cs, killed, 0, ENTRY_REJECTED, 0, "entry rejected: risk kill_switch: entries halted (x)"));
    assert_true(cstore_set_entry(f->cs, other, 0, ENTRY_REJECTED, 0, "entry rejected: no margin"));

    int n = -1;
    assert_true(tstate_set(f->db, TSTATE_ACTIVE, "", "cli"));
    assert_true(tstate_rearm_refused(f->db, &n));
    assert_int_equal(n, 1);
    condition_record c;
    assert_true(cstore_get(f->cs, killed, &c));
    assert_string_equal(c.status, "active");
    assert_int_equal(c.c.entry, ENTRY_NONE);
    assert_false(c.c.is_trigger);
    assert_true(cstore_get(f->cs, other, &c));
    assert_string_equal(c.status, "rejected"); /* refused for another reason: stays parked */
    order_record got;
    assert_false(ostore_get_by_signal(f->os, sid, &got)); /* the ids are free again */
    assert_true(ostore_insert(f->os, &r));                 /* the next entry stores */
    assert_true(tstate_rearm_refused(f->db, &n));
    assert_int_equal(n, 0);
    assert_true(tstate_get(f->db, &ts));
    assert_int_equal(ts.kind, TSTATE_ACTIVE);
}

static void test_orders_unique_and_fills_deduplicated(void **state) {
    fixture *f = *state;
    order_record r;
    memset(&r, 0, sizeof r);
    assert_true(order_init(&r.o, "aftm-7.E", "7.E", 7, "SIM-0001", "TXFF5", SIDE_BUY, 2));
    assert_true(ostore_insert(f->os, &r));
    assert_false(ostore_insert(f->os, &r)); /* the same signal can never be stored twice */
    order_record got;
    assert_true(ostore_get(f->os, "aftm-7.E", &got));
    assert_int_equal(got.o.status, ORDER_NEW);
    assert_int_equal(got.o.qty, 2);
    assert_true(ostore_add_fill(f->os, "F1", &got.o, 1, 20010, 1.0));
    assert_false(ostore_add_fill(f->os, "F1", &got.o, 1, 20010, 1.0));
    assert_int_equal(order_apply_fill(&got.o, 1, 20010, 1), ORDER_APPLIED);
    assert_true(ostore_update(f->os, &got.o, "S-1"));
    assert_true(ostore_get(f->os, "aftm-7.E", &got));
    assert_int_equal(got.o.status, ORDER_PARTIALLY_FILLED);
    assert_int_equal(got.o.filled_qty, 1);
    assert_string_equal(got.order_serial, "S-1");
    position p;
    assert_true(ostore_position_get(f->os, "SIM-0001", "TXFF5", &p));
    assert_int_equal(p.net_qty, 0);
    position_apply_fill(&p, SIDE_BUY, 1, 20010);
    assert_true(ostore_position_put(f->os, &p, 20010));
    position q;
    assert_true(ostore_position_get(f->os, "SIM-0001", "TXFF5", &q));
    assert_int_equal(q.net_qty, 1);
    assert_int_equal(q.open_cost, 20010);
}

static void collect_changed(void *ctx, const condition_record *r) {
    seen *s = ctx;
    if (s->n < 8) s->ids[s->n++] = r->c.id;
}

/* The conditions' revision grows with every write of a row, whoever writes it, and the rows
 * changed after a revision are exactly those written since, in the order written. */
static void test_condition_revision_lists_only_changes(void **state) {
    fixture *f = *state;
    int64_t r0 = -1, r1 = -1, r2 = -1;
    assert_true(cstore_revision(f->cs, &r0));
    int64_t a = add_buy(f, 22000), b = add_buy(f, 22100), c = add_buy(f, 22200);
    assert_true(cstore_revision(f->cs, &r1));
    assert_int_equal(r1, r0 + 3);
    seen s = {0};
    assert_int_equal(cstore_list_changed(f->cs, r0, collect_changed, &s), 3);
    /* another connection (the CLI) cancels b, then the executor parks c: only those two */
    sqlite3 *other = tk_db_open(&f->home);
    condition_store *cs2 = cstore_open(other);
    char err[128] = "";
    assert_true(cstore_cancel(cs2, b, err, sizeof err));
    assert_true(cstore_set_entry(cs2, c, 0, ENTRY_REJECTED, 0, "entry rejected: price band"));
    cstore_close(cs2);
    db_close(other);
    assert_true(cstore_revision(f->cs, &r2));
    assert_true(r2 > r1);
    memset(&s, 0, sizeof s);
    assert_int_equal(cstore_list_changed(f->cs, r1, collect_changed, &s), 2);
    assert_int_equal(s.ids[0], b);
    assert_int_equal(s.ids[1], c);
    memset(&s, 0, sizeof s);
    assert_int_equal(cstore_list_changed(f->cs, r2, collect_changed, &s), 0);
    (void)a;
}

/* An order of a condition, stored and filled (all of it when fill is its quantity). */
static order store_order(fixture *f, const char *signal_id, int64_t cond, side_t side, int64_t qty, int64_t fill) {
    order_record r;
    memset(&r, 0, sizeof r);
    char coid[64];
    snprintf(coid, sizeof coid, "aftm-%s", signal_id);
    assert_true(order_init(&r.o, coid, signal_id, cond, "SIM-0001", "TXFF5", side, qty));
    r.is_exit = strstr(signal_id, ".X") != NULL;
    assert_true(ostore_insert(f->os, &r));
    order_mark_sent(&r.o);
    order_apply_accepted(&r.o);
    if (fill) order_apply_fill(&r.o, fill, 20000, fill);
    assert_true(ostore_update(f->os, &r.o, "S"));
    return r.o;
}

static int64_t held(fixture *f, const char *except) {
    int64_t n = -99;
    assert_true(ostore_conditions_hold(f->os, "SIM-0001", "TXFF5", except, &n));
    return n;
}

/* The lots the conditions hold: entries filled whose exit has not ended. An exit that ends
 * marks its entry (schema 13's triggers), and such an entry no longer counts. */
static void test_conditions_hold_follows_exits(void **state) {
    fixture *f = *state;
    store_order(f, "7.E", 7, SIDE_BUY, 2, 2);
    store_order(f, "8.E", 8, SIDE_SELL, 1, 1);
    store_order(f, "9.E", 9, SIDE_BUY, 3, 0); /* never filled: holds nothing */
    assert_int_equal(held(f, NULL), 2 - 1);
    assert_int_equal(held(f, "7.E"), -1);
    order x7 = store_order(f, "7.X", 7, SIDE_SELL, 2, 1); /* half out, still working */
    assert_int_equal(held(f, NULL), (2 - 1) - 1);
    order_apply_fill(&x7, 1, 20000, 2); /* all out: 7's round trip is over */
    assert_true(ostore_update(f->os, &x7, "S"));
    assert_int_equal(held(f, NULL), -1);
    /* an exit stored already ended (refused at intake) ends its entry's count too */
    order_record r;
    memset(&r, 0, sizeof r);
    assert_true(order_init(&r.o, "aftm-8.X", "8.X", 8, "SIM-0001", "TXFF5", SIDE_BUY, 1));
    r.is_exit = true;
    order_apply_rejected(&r.o, "refused");
    assert_true(ostore_insert(f->os, &r));
    assert_int_equal(held(f, NULL), 0);
    /* the marks are on the entries' rows */
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT signal_id FROM orders WHERE exit_done=1 ORDER BY signal_id", -1,
                                        &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "7.E");
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "8.E");
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
}

static long long file_size(const char *home, const char *name) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", home, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* With a checkpointer the writer's commits never copy the WAL into the database themselves:
 * the checkpointer's thread does, once the WAL passes CHECKPOINT_PAGES, and again at its stop. */
static void test_checkpoints_leave_the_writer(void **state) {
    fixture *f = *state;
    char err[256] = "";
    db_checkpointer *c = db_checkpointer_start(f->db, err, sizeof err);
    assert_non_null(c);
    long long before = file_size(f->home.path, AFTM_DB_FILE);
    assert_true(db_exec(f->db, "CREATE TABLE filler(b BLOB)", NULL, 0));
    sqlite3_stmt *ins;
    assert_int_equal(sqlite3_prepare_v2(f->db, "INSERT INTO filler VALUES(zeroblob(8000))", -1, &ins, NULL), SQLITE_OK);
    for (int i = 0; i < 1200; i++) assert_true(db_step_done(ins)); /* ~2,400 pages, one commit each */
    sqlite3_finalize(ins);
    for (int i = 0; i < 400 && db_checkpointer_runs(c) == 0; i++) {
        struct timespec ts = {0, 5 * 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(db_checkpointer_runs(c) >= 1);
    db_checkpointer_stop(c);
    /* the rows reached the database file itself */
    assert_true(file_size(f->home.path, AFTM_DB_FILE) > before + 4 * 1024 * 1024);
}

/* The plan SQLite makes for sql: its EXPLAIN QUERY PLAN lines, joined. */
static void query_plan(sqlite3 *db, const char *sql, char *out, size_t cap) {
    char q[2048];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out + strlen(out), cap - strlen(out), "%s; ", (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
}

/* The reads on the order path stay index lookups: each used to scan a whole table (every order
 * of the day on each exit, every active condition five times a second), which is latency that
 * grows through the day. A change to the SQL or the schema that loses the index fails here. */
static void test_order_path_reads_use_their_indexes(void **state) {
    fixture *f = *state;
    /* the stores' own prepared statements, found by what they read */
    const char *held = NULL, *changed = NULL, *open = NULL;
    for (sqlite3_stmt *st = sqlite3_next_stmt(f->db, NULL); st; st = sqlite3_next_stmt(f->db, st)) {
        const char *sql = sqlite3_sql(st);
        if (strstr(sql, "exit_done=0")) held = sql;
        if (strstr(sql, "WHERE rev > ?1")) changed = sql;
        if (strstr(sql, "ORDER BY created_at") && strstr(sql, "status IN")) open = sql;
    }
    assert_non_null(held);
    assert_non_null(changed);
    assert_non_null(open);
    char plan[1024];
    query_plan(f->db, held, plan, sizeof plan);
    assert_non_null(strstr(plan, "orders_held_entries"));
    assert_null(strstr(plan, "SCAN e"));
    query_plan(f->db, changed, plan, sizeof plan);
    assert_non_null(strstr(plan, "conditions_rev"));
    /* the open orders through the partial index of them, already in order (no sort of the day) */
    query_plan(f->db, open, plan, sizeof plan);
    assert_non_null(strstr(plan, "orders_open"));
    assert_null(strstr(plan, "TEMP B-TREE"));
}

static void test_reopen_keeps_everything(void **state) {
    fixture *f = *state;
    int64_t id = add_buy(f, 20000);
    cstore_close(f->cs);
    ostore_close(f->os);
    db_close(f->db);
    char err[256];
    f->db = db_open(f->home.path, err, sizeof err);
    assert_non_null(f->db);
    f->cs = cstore_open(f->db);
    f->os = ostore_open(f->db);
    condition_record r;
    assert_true(cstore_get(f->cs, id, &r));
    assert_int_equal(r.c.trigger_price, 20000);
    assert_true(r.c.is_following);
}

static void test_garbage_database_is_a_clear_error(void **state) {
    (void)state;
    char home[] = "/tmp/aftm-bad-XXXXXX";
    assert_non_null(mkdtemp(home));
    char path[128];
    snprintf(path, sizeof path, "%s/%s", home, AFTM_DB_FILE);
    FILE *fp = fopen(path, "w");
    fputs("this is not a database, just some text long enough to have a header ..........\n", fp);
    fclose(fp);
    char err[256];
    sqlite3 *db = db_open(home, err, sizeof err);
    assert_null(db);
    assert_non_null(strstr(err, "database"));
    unlink(path);
    rmdir(home);
}

/* A repeating condition through its rounds: the strategy's write of the next round arms it
 * again (entry state cleared, trigger back at its base); the executor's writes of an earlier
 * round change nothing; an exit with nothing left to close closes a condition that does not
 * repeat and only notes it on one that does. */
static void test_repeating_condition_rounds(void **state) {
    fixture *f = *state;
    condition c;
    condition_init(&c, 0, "TXFF5", SIDE_BUY, 20000, 15, 1, 90, 30, true);
    c.repeat = true;
    char err[128];
    int64_t id = cstore_add(f->cs, &c, NULL, err, sizeof err);
    assert_true(id > 0);
    condition_record r;
    assert_true(cstore_get(f->cs, id, &r));
    assert_true(r.c.repeat);
    assert_int_equal(r.c.round, 0);
    /* round 0: trailed to 19950, entered, filled */
    r.c.trigger_price = 19950;
    r.c.is_trigger = r.c.is_ordered = true;
    r.c.entry = ENTRY_PENDING;
    assert_true(cstore_save_state(f->cs, &r.c, NULL));
    assert_true(cstore_set_entry(f->cs, id, 0, ENTRY_FILLED, 1, NULL));
    /* the exit, and the next round armed */
    condition next = r.c;
    next.entry = ENTRY_FILLED;
    condition_rearm(&next);
    assert_int_equal(next.round, 1);
    assert_int_equal(next.trigger_price, 20000); /* the base, not the trailed trigger */
    assert_true(cstore_save_state(f->cs, &next, "exited: take profit; armed again (round 2)"));
    assert_true(cstore_get(f->cs, id, &r));
    assert_string_equal(r.status, "active");
    assert_int_equal(r.c.round, 1);
    assert_int_equal(r.c.entry, ENTRY_NONE);
    assert_int_equal(r.c.filled_qty, 0);
    assert_int_equal(r.c.trigger_price, 20000);
    assert_int_equal(r.c.base_trigger, 20000);
    /* round 0's late writes: nothing changes */
    assert_true(cstore_set_entry(f->cs, id, 0, ENTRY_REJECTED, 0, "entry rejected: late"));
    assert_true(cstore_set_closed(f->cs, id, 0, "closed by hand: late"));
    condition stale = next;
    stale.round = 0;
    stale.is_exited = true;
    assert_true(cstore_save_state(f->cs, &stale, "exited"));
    assert_true(cstore_get(f->cs, id, &r));
    assert_string_equal(r.status, "active");
    assert_int_equal(r.c.round, 1);
    assert_int_equal(r.c.entry, ENTRY_NONE);
    /* round 1's exit finds nothing to close: noted, and it goes on */
    assert_true(cstore_set_closed(f->cs, id, 1, "closed by hand: nothing left"));
    assert_true(cstore_get(f->cs, id, &r));
    assert_string_equal(r.status, "active");
    assert_string_equal(r.note, "closed by hand: nothing left");
    /* one that does not repeat is closed */
    int64_t other = add_buy(f, 19000);
    assert_true(cstore_set_closed(f->cs, other, 0, "closed by hand: nothing left"));
    assert_true(cstore_get(f->cs, other, &r));
    assert_string_equal(r.status, "closed");
    assert_false(r.c.repeat);
}

/* A full disk (here: the file may not grow) fails a write; the reason a log line gives is the
 * full disk, also after the ROLLBACK that follows it, whatever that ROLLBACK says. */
static void test_full_disk_reason_survives_rollback(void **state) {
    fixture *f = *state;
    assert_true(db_exec(f->db, "CREATE TABLE filler (x BLOB)", NULL, 0));
    sqlite3_stmt *count = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db, "PRAGMA page_count", -1, &count, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(count), SQLITE_ROW);
    char limit[64];
    snprintf(limit, sizeof limit, "PRAGMA max_page_count=%d", sqlite3_column_int(count, 0) + 2);
    sqlite3_finalize(count);
    assert_true(db_exec(f->db, limit, NULL, 0));
    sqlite3_stmt *begin = NULL, *put = NULL, *rollback = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->db, "BEGIN", -1, &begin, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(f->db, "INSERT INTO filler VALUES (zeroblob(65536))", -1, &put, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(f->db, "ROLLBACK", -1, &rollback, NULL), SQLITE_OK);
    assert_true(db_step_done(begin));
    assert_false(db_step_done(put));
    db_step_done(rollback); /* may say "no transaction is active": SQLite may have ended it */
    assert_non_null(strstr(db_error(f->db), "full"));
    assert_true(db_step_done(begin)); /* and the database takes the next transaction */
    assert_true(db_step_done(rollback));
    sqlite3_finalize(begin);
    sqlite3_finalize(put);
    sqlite3_finalize(rollback);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_list_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_roundtrip_and_entry_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_entry_parks_condition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trading_state_and_rearm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orders_unique_and_fills_deduplicated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditions_hold_follows_exits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_condition_revision_lists_only_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_path_reads_use_their_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_leave_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeating_condition_rounds, setup, teardown),
        cmocka_unit_test(test_garbage_database_is_a_clear_error),
        cmocka_unit_test_setup_teardown(test_full_disk_reason_survives_rollback, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
