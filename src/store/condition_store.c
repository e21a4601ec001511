#include "store/condition_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "store/db.h"

struct condition_store {
    sqlite3 *db;
    sqlite3_stmt *insert, *save, *set_entry, *get, *list_active, *list_all, *cancel, *begin, *commit, *closed;
    sqlite3_stmt *revision, *list_changed;
};

#define COLUMNS                                                                                             \
    "id, uuid, symbol, side, trigger_price, turning_point, quantity, take_profit_point, stop_loss_point, " \
    "is_following, order_price, take_profit_price, stop_loss_price, is_trigger, is_ordered, is_exited, "    \
    "entry_state, filled_qty, status, note, created_at, updated_at, repeat, round, base_trigger"

static const char *const ENTRY_NAMES[] = {"none", "pending", "filled", "rejected"};

const char *entry_state_name(entry_state st) {
    return st >= ENTRY_NONE && st <= ENTRY_REJECTED ? ENTRY_NAMES[st] : "none";
}

entry_state entry_state_parse(const char *name) {
    for (int i = 0; i <= ENTRY_REJECTED; i++)
        if (name && !strcmp(name, ENTRY_NAMES[i])) return (entry_state)i;
    return ENTRY_NONE;
}

condition_store *cstore_open(sqlite3 *db) {
    condition_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->db = db;
    const db_stmt_spec prep[] = {
        {&s->insert,
         "INSERT INTO conditions(uuid, symbol, side, trigger_price, turning_point, quantity, take_profit_point, "
         "stop_loss_point, is_following, order_price, take_profit_price, stop_loss_price, created_at, updated_at, "
         "repeat, base_trigger) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
        /* a later round (a repeating condition armed again) starts its entry afresh; within a
         * round the entry state only moves from none (the executor owns it after that). A
         * write of an earlier round (on its way when the round moved on) changes nothing. */
        {&s->save,
         "UPDATE conditions SET trigger_price=?1, order_price=?2, take_profit_price=?3, stop_loss_price=?4, "
         "is_trigger=?5, is_ordered=?6, is_exited=?7, "
         "filled_qty=CASE WHEN entry_state='none' OR ?13 > round THEN ?11 ELSE filled_qty END, "
         "entry_state=CASE WHEN entry_state='none' OR ?13 > round THEN ?10 ELSE entry_state END, "
         "round=MAX(round, ?13), "
         "status=CASE WHEN status='closed' THEN status WHEN ?7 THEN 'done' ELSE status END, "
         "note=CASE WHEN status='closed' THEN note ELSE COALESCE(?8, note) END, updated_at=?9 WHERE id=?12 "
         "AND round <= ?13"},
        /* the executor's: the exit found nothing left to close (the strategy's later write of
         * the exit keeps this). A repeating condition only has that round closed: it goes on
         * with the next, whichever of the two writes comes first. */
        {&s->closed, "UPDATE conditions SET status=CASE WHEN repeat THEN status ELSE 'closed' END, note=?1, "
                     "updated_at=?2 WHERE id=?3 AND round=?4"},
        {&s->set_entry,
         "UPDATE conditions SET entry_state=?1, filled_qty=?2, "
         "status=CASE WHEN ?1='rejected' AND status='active' THEN 'rejected' ELSE status END, "
         "note=COALESCE(?3, note), updated_at=?4 WHERE id=?5 AND round=?6"},
        {&s->get, "SELECT " COLUMNS " FROM conditions WHERE id=?"},
        {&s->list_active, "SELECT " COLUMNS " FROM conditions WHERE status='active' ORDER BY id"},
        {&s->list_all, "SELECT " COLUMNS " FROM conditions ORDER BY id"},
        {&s->revision, "SELECT n FROM condition_revision WHERE id = 1"},
        {&s->list_changed, "SELECT " COLUMNS " FROM conditions WHERE rev > ?1 ORDER BY rev"},
        {&s->cancel, "UPDATE conditions SET status='cancelled', note='cancelled by user', updated_at=? "
                     "WHERE id=? AND status='active'"},
        {&s->begin, "BEGIN IMMEDIATE"},
        {&s->commit, "COMMIT"},
    };
    if (!db_prepare_all(db, prep, sizeof prep / sizeof prep[0])) {
        cstore_close(s);
        return NULL;
    }
    return s;
}

void cstore_close(condition_store *s) {
    if (!s) return;
    sqlite3_stmt *all[] = {s->insert, s->save,   s->set_entry, s->get,      s->list_active, s->list_all,
                           s->cancel, s->begin, s->commit,    s->closed,   s->revision,    s->list_changed};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    free(s);
}


int64_t cstore_add(condition_store *s, const condition *c, const char *uuid, char *err, size_t errlen) {
    sqlite3_stmt *st = s->insert;
    double now = clock_wall_s();
    if (uuid && *uuid) sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, c->symbol, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, c->side == SIDE_BUY ? "buy" : "sell", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, c->trigger_price);
    sqlite3_bind_int64(st, 5, c->turning_point);
    sqlite3_bind_int64(st, 6, c->quantity);
    sqlite3_bind_int64(st, 7, c->take_profit_point);
    sqlite3_bind_int64(st, 8, c->stop_loss_point);
    sqlite3_bind_int(st, 9, c->is_following);
    sqlite3_bind_int64(st, 10, c->order_price);
    sqlite3_bind_int64(st, 11, c->take_profit_price);
    sqlite3_bind_int64(st, 12, c->stop_loss_price);
    sqlite3_bind_double(st, 13, now);
    sqlite3_bind_double(st, 14, now);
    sqlite3_bind_int(st, 15, c->repeat);
    sqlite3_bind_int64(st, 16, c->base_trigger > 0 ? c->base_trigger : c->trigger_price);
    if (!db_step_done(st)) {
        snprintf(err, errlen, "cannot store the condition: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return sqlite3_last_insert_rowid(s->db);
}

bool cstore_cancel(condition_store *s, int64_t id, char *err, size_t errlen) {
    sqlite3_bind_double(s->cancel, 1, clock_wall_s());
    sqlite3_bind_int64(s->cancel, 2, id);
    if (!db_step_done(s->cancel)) {
        snprintf(err, errlen, "cannot cancel condition %lld: %s", (long long)id, sqlite3_errmsg(s->db));
        return false;
    }
    if (sqlite3_changes(s->db) == 1) return true;
    condition_record r;
    if (!cstore_get(s, id, &r)) snprintf(err, errlen, "no condition with id %lld", (long long)id);
    else snprintf(err, errlen, "condition %lld is %s, not active: nothing to cancel", (long long)id, r.status);
    return false;
}

static void read_row(sqlite3_stmt *st, condition_record *r) {
    memset(r, 0, sizeof *r);
    condition *c = &r->c;
    c->id = sqlite3_column_int64(st, 0);
    snprintf(r->uuid, sizeof r->uuid, "%s", sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
    snprintf(c->symbol, sizeof c->symbol, "%s", (const char *)sqlite3_column_text(st, 2));
    c->side = strcmp((const char *)sqlite3_column_text(st, 3), "buy") ? SIDE_SELL : SIDE_BUY;
    c->trigger_price = sqlite3_column_int64(st, 4);
    c->base_trigger = c->trigger_price;
    c->turning_point = sqlite3_column_int64(st, 5);
    c->quantity = sqlite3_column_int64(st, 6);
    c->take_profit_point = sqlite3_column_int64(st, 7);
    c->stop_loss_point = sqlite3_column_int64(st, 8);
    c->is_following = sqlite3_column_int(st, 9) != 0;
    c->order_price = sqlite3_column_int64(st, 10);
    c->take_profit_price = sqlite3_column_int64(st, 11);
    c->stop_loss_price = sqlite3_column_int64(st, 12);
    c->is_trigger = sqlite3_column_int(st, 13) != 0;
    c->is_ordered = sqlite3_column_int(st, 14) != 0;
    c->is_exited = sqlite3_column_int(st, 15) != 0;
    c->entry = entry_state_parse((const char *)sqlite3_column_text(st, 16));
    c->filled_qty = sqlite3_column_int64(st, 17);
    /* An entry outcome exists only once the strategy has ordered; a strategy killed before
     * it wrote its flags must not re-arm a condition whose entry already went out. */
    if (c->entry != ENTRY_NONE) c->is_trigger = c->is_ordered = true;
    snprintf(r->status, sizeof r->status, "%s", (const char *)sqlite3_column_text(st, 18));
    snprintf(r->note, sizeof r->note, "%s", (const char *)sqlite3_column_text(st, 19));
    r->created_at = sqlite3_column_double(st, 20);
    r->updated_at = sqlite3_column_double(st, 21);
    c->repeat = sqlite3_column_int(st, 22) != 0;
    c->round = sqlite3_column_int64(st, 23);
    if (sqlite3_column_int64(st, 24) > 0) c->base_trigger = sqlite3_column_int64(st, 24);
}

bool cstore_get(condition_store *s, int64_t id, condition_record *out) {
    sqlite3_bind_int64(s->get, 1, id);
    bool found = sqlite3_step(s->get) == SQLITE_ROW;
    if (found) read_row(s->get, out);
    sqlite3_reset(s->get);
    return found;
}

static int visit(sqlite3_stmt *st, cstore_row_fn fn, void *ctx) {
    int n = 0, rc;
    condition_record r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_row(st, &r);
        fn(ctx, &r);
        n++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? n : -1;
}

int cstore_list(condition_store *s, bool all, cstore_row_fn fn, void *ctx) {
    return visit(all ? s->list_all : s->list_active, fn, ctx);
}

int cstore_list_changed(condition_store *s, int64_t since, cstore_row_fn fn, void *ctx) {
    sqlite3_bind_int64(s->list_changed, 1, since);
    return visit(s->list_changed, fn, ctx);
}

bool cstore_revision(condition_store *s, int64_t *out) {
    bool ok = sqlite3_step(s->revision) == SQLITE_ROW;
    if (ok) *out = sqlite3_column_int64(s->revision, 0);
    sqlite3_reset(s->revision);
    return ok;
}

bool cstore_save_state(condition_store *s, const condition *c, const char *note) {
    sqlite3_stmt *st = s->save;
    sqlite3_bind_int64(st, 1, c->trigger_price);
    sqlite3_bind_int64(st, 2, c->order_price);
    sqlite3_bind_int64(st, 3, c->take_profit_price);
    sqlite3_bind_int64(st, 4, c->stop_loss_price);
    sqlite3_bind_int(st, 5, c->is_trigger);
    sqlite3_bind_int(st, 6, c->is_ordered);
    sqlite3_bind_int(st, 7, c->is_exited);
    if (note) sqlite3_bind_text(st, 8, note, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 8);
    sqlite3_bind_double(st, 9, clock_wall_s());
    sqlite3_bind_text(st, 10, entry_state_name(c->entry), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, c->filled_qty);
    sqlite3_bind_int64(st, 12, c->id);
    sqlite3_bind_int64(st, 13, c->round);
    return db_step_done(st);
}

bool cstore_set_entry(condition_store *s, int64_t id, int64_t round, entry_state es, int64_t filled_qty,
                      const char *note) {
    sqlite3_stmt *st = s->set_entry;
    sqlite3_bind_text(st, 1, entry_state_name(es), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, filled_qty);
    if (note) sqlite3_bind_text(st, 3, note, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, 3);
    sqlite3_bind_double(st, 4, clock_wall_s());
    sqlite3_bind_int64(st, 5, id);
    sqlite3_bind_int64(st, 6, round);
    return db_step_done(st);
}

bool cstore_begin(condition_store *s) { return db_step_done(s->begin); }
bool cstore_commit(condition_store *s) { return db_step_done(s->commit); }

bool cstore_set_closed(condition_store *s, int64_t id, int64_t round, const char *note) {
    sqlite3_stmt *st = s->closed;
    sqlite3_bind_text(st, 1, note, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 2, clock_wall_s());
    sqlite3_bind_int64(st, 3, id);
    sqlite3_bind_int64(st, 4, round);
    return db_step_done(st);
}
