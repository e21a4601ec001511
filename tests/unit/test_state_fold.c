/* Folding the strategy's condition writes (app/strategy/state_fold.h): the rule alone, and the
 * writer against the database: a sequence of changes handed to the writer, which
 * folds them, leaves each row exactly as writing every change one by one does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "testkit.h"

#include "app/strategy/state_fold.h"
#include "app/strategy/state_writer.h"
#include "store/condition_store.h"
#include "store/db.h"

static state_change change(int64_t id, int64_t round, entry_state entry, bool exited, const char *note) {
    state_change s;
    memset(&s, 0, sizeof s);
    condition_init(&s.c, id, "TXFF5", SIDE_BUY, 20000, 10, 1, 30, 20, true);
    s.c.round = round;
    s.c.entry = entry;
    s.c.is_exited = exited;
    if (note) {
        snprintf(s.note, sizeof s.note, "%s", note);
        s.has_note = true;
    }
    return s;
}

static void test_rule(void **state) {
    (void)state;
    state_change a = change(7, 0, ENTRY_NONE, false, NULL), b = change(7, 0, ENTRY_NONE, false, NULL);
    b.c.trigger_price = 19990; /* trailed */
    assert_true(state_change_folds(&a, &b));
    state_change other_id = change(8, 0, ENTRY_NONE, false, NULL);
    assert_false(state_change_folds(&a, &other_id));
    state_change next_round = change(7, 1, ENTRY_NONE, false, NULL);
    assert_false(state_change_folds(&a, &next_round)); /* the write compares rounds */
    state_change entered = change(7, 0, ENTRY_PENDING, false, NULL);
    assert_false(state_change_folds(&a, &entered)); /* entry is set only while the row's is none */
    state_change filled = b;
    filled.c.filled_qty = 1;
    assert_false(state_change_folds(&a, &filled));
    state_change exited = change(7, 0, ENTRY_NONE, true, "exited: take profit");
    assert_true(state_change_folds(&a, &exited));  /* the exit is the last word of the round */
    assert_false(state_change_folds(&exited, &b)); /* nothing after an exit undoes 'done' */
}

static void test_fold_keeps_the_last_note(void **state) {
    (void)state;
    state_change a = change(7, 0, ENTRY_NONE, false, "triggered"), b = change(7, 0, ENTRY_NONE, false, NULL);
    b.c.trigger_price = 19990;
    state_fold_into(&a, &b);
    assert_int_equal(a.c.trigger_price, 19990);
    assert_true(a.has_note);
    assert_string_equal(a.note, "triggered");
    state_change c = change(7, 0, ENTRY_NONE, true, "exited: stop loss");
    state_fold_into(&a, &c);
    assert_true(a.c.is_exited);
    assert_string_equal(a.note, "exited: stop loss");
}

/* What a condition goes through in a few ticks: triggered, trailed on every tick, entered,
 * trailed, filled, exited, armed again for its next round and trailed again. */
static size_t lifecycle(int64_t id, state_change *out) {
    size_t n = 0;
    out[n++] = change(id, 0, ENTRY_NONE, false, "triggered");
    for (int i = 0; i < 5; i++) {
        out[n] = change(id, 0, ENTRY_NONE, false, NULL);
        out[n++].c.trigger_price = 20000 - i;
    }
    out[n++] = change(id, 0, ENTRY_PENDING, false, NULL);
    for (int i = 0; i < 3; i++) {
        out[n] = change(id, 0, ENTRY_PENDING, false, NULL);
        out[n++].c.take_profit_price = 20030 + i;
    }
    out[n] = change(id, 0, ENTRY_FILLED, false, "entry filled");
    out[n++].c.filled_qty = 1;
    out[n] = change(id, 0, ENTRY_FILLED, true, "exited: take profit");
    out[n++].c.filled_qty = 1;
    out[n++] = change(id, 1, ENTRY_NONE, false, "exited: take profit; armed again (round 2)");
    for (int i = 0; i < 4; i++) {
        out[n] = change(id, 1, ENTRY_NONE, false, NULL);
        out[n++].c.trigger_price = 20010 - i;
    }
    return n;
}

static int64_t add_condition(condition_store *cs) {
    condition c;
    condition_init(&c, 0, "TXFF5", SIDE_BUY, 20000, 10, 1, 30, 20, true);
    char err[256] = "";
    int64_t id = cstore_add(cs, &c, NULL, err, sizeof err);
    if (id <= 0) fail_msg("cstore_add: %s", err);
    return id;
}

static void assert_rows_equal(const condition_record *a, const condition_record *b) {
    assert_int_equal(a->c.trigger_price, b->c.trigger_price);
    assert_int_equal(a->c.order_price, b->c.order_price);
    assert_int_equal(a->c.take_profit_price, b->c.take_profit_price);
    assert_int_equal(a->c.stop_loss_price, b->c.stop_loss_price);
    assert_int_equal(a->c.is_trigger, b->c.is_trigger);
    assert_int_equal(a->c.is_ordered, b->c.is_ordered);
    assert_int_equal(a->c.is_exited, b->c.is_exited);
    assert_int_equal(a->c.entry, b->c.entry);
    assert_int_equal(a->c.filled_qty, b->c.filled_qty);
    assert_int_equal(a->c.round, b->c.round);
    assert_string_equal(a->status, b->status);
    assert_string_equal(a->note, b->note);
}

/* Two homes with the same conditions: one written change by change, the other through the
 * writer (one batch, so everything folds that can). */
static void test_writer_folds_to_the_same_rows(void **state) {
    (void)state;
    tk_home one, folded;
    tk_home_make(&one, "fold-one");
    tk_home_make(&folded, "fold-writer");
    sqlite3 *db1 = tk_db_open(&one), *db2 = tk_db_open(&folded);
    condition_store *cs1 = cstore_open(db1), *cs2 = cstore_open(db2);
    assert_non_null(cs1);
    assert_non_null(cs2);
    enum { CONDS = 3 };
    state_change seq[CONDS * 32];
    size_t n = 0;
    int64_t ids[CONDS];
    for (int k = 0; k < CONDS; k++) {
        ids[k] = add_condition(cs1);
        assert_int_equal(add_condition(cs2), ids[k]);
    }
    /* the conditions' lives interleaved, as ticks move them together */
    state_change life[CONDS][32];
    size_t len[CONDS];
    for (int k = 0; k < CONDS; k++) len[k] = lifecycle(ids[k], life[k]);
    len[1] = 11; /* up to its fill: the row keeps the entry state the first write of the round set */
    len[2] = 12; /* up to its exit: done */
    for (size_t i = 0; i < 32; i++)
        for (int k = 0; k < CONDS; k++)
            if (i < len[k]) seq[n++] = life[k][i];
    for (size_t i = 0; i < n; i++) assert_true(cstore_save_state(cs1, &seq[i].c, seq[i].has_note ? seq[i].note : NULL));
    char err[256] = "";
    state_writer *w = state_writer_start(folded.path, err, sizeof err);
    if (!w) fail_msg("state_writer_start: %s", err);
    state_batch b = {seq, n, 1, NULL, 0, NULL, 0};
    assert_true(state_writer_submit(w, &b));
    state_writer_stop(w); /* writes what it was handed */
    for (int k = 0; k < CONDS; k++) {
        condition_record r1, r2;
        assert_true(cstore_get(cs1, ids[k], &r1));
        assert_true(cstore_get(cs2, ids[k], &r2));
        assert_rows_equal(&r1, &r2);
    }
    condition_record r;
    assert_true(cstore_get(cs2, ids[0], &r));
    assert_int_equal(r.c.round, 1);
    assert_int_equal(r.c.trigger_price, 20007);
    assert_true(cstore_get(cs2, ids[1], &r));
    assert_int_equal(r.c.entry, ENTRY_PENDING); /* the executor owns it after none */
    assert_true(cstore_get(cs2, ids[2], &r));
    assert_string_equal(r.status, "done");
    cstore_close(cs1);
    cstore_close(cs2);
    db_close(db1);
    db_close(db2);
    tk_home_remove(&one);
    tk_home_remove(&folded);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_fold_keeps_the_last_note),
        cmocka_unit_test(test_writer_folds_to_the_same_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
