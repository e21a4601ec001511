/* The strategy's outbox of unacknowledged signals (see signal_outbox.h). */
#include "store/signal_outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "store/db.h"

struct signal_outbox {
    sqlite3 *db;
    sqlite3_stmt *put, *remove, *all, *acked;
};

signal_outbox *outbox_open(sqlite3 *db) {
    signal_outbox *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->db = db;
    const db_stmt_spec prep[] = {
        {&o->put, "INSERT INTO signal_outbox(signal_id, body, descr, created_at) VALUES(?,?,?,?) "
                  "ON CONFLICT(signal_id) DO UPDATE SET body=excluded.body, descr=excluded.descr"},
        {&o->remove, "DELETE FROM signal_outbox WHERE signal_id=?"},
        {&o->all, "SELECT signal_id, body, descr FROM signal_outbox ORDER BY created_at, rowid"},
        /* an exit the executor holds (store/held_exits.h) is stored, so acknowledged, too */
        {&o->acked, "SELECT 1 FROM orders WHERE signal_id=?1 UNION ALL SELECT 1 FROM held_exits WHERE signal_id=?1"},
    };
    if (!db_prepare_all(db, prep, sizeof prep / sizeof prep[0])) {
        outbox_close(o);
        return NULL;
    }
    return o;
}

void outbox_close(signal_outbox *o) {
    if (!o) return;
    sqlite3_finalize(o->put);
    sqlite3_finalize(o->remove);
    sqlite3_finalize(o->all);
    sqlite3_finalize(o->acked);
    free(o);
}

bool outbox_put(signal_outbox *o, const outbox_row *r) {
    if (r->len > OUTBOX_BODY_MAX) return false;
    sqlite3_bind_text(o->put, 1, r->signal_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(o->put, 2, r->body, (int)r->len, SQLITE_TRANSIENT);
    sqlite3_bind_text(o->put, 3, r->descr, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(o->put, 4, clock_wall_s());
    return db_step_done(o->put);
}

bool outbox_remove(signal_outbox *o, const char *signal_id) {
    sqlite3_bind_text(o->remove, 1, signal_id, -1, SQLITE_TRANSIENT);
    return db_step_done(o->remove);
}

int outbox_each(signal_outbox *o, outbox_row_fn fn, void *ctx) {
    int n = 0, rc;
    while ((rc = sqlite3_step(o->all)) == SQLITE_ROW) {
        outbox_row r;
        memset(&r, 0, sizeof r);
        const unsigned char *id = sqlite3_column_text(o->all, 0);
        const void *body = sqlite3_column_blob(o->all, 1);
        int len = sqlite3_column_bytes(o->all, 1);
        const unsigned char *d = sqlite3_column_text(o->all, 2);
        /* a row that could not have been written by the strategy is skipped, not trusted */
        if (!id || !body || len <= 0 || len > OUTBOX_BODY_MAX || strlen((const char *)id) >= OUTBOX_ID_MAX) continue;
        snprintf(r.signal_id, sizeof r.signal_id, "%s", (const char *)id);
        memcpy(r.body, body, (size_t)len);
        r.len = (size_t)len;
        snprintf(r.descr, sizeof r.descr, "%s", d ? (const char *)d : r.signal_id);
        fn(ctx, &r);
        n++;
    }
    sqlite3_reset(o->all);
    return rc == SQLITE_DONE ? n : -1;
}

int outbox_acknowledged(signal_outbox *o, const char *signal_id) {
    sqlite3_bind_text(o->acked, 1, signal_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(o->acked);
    sqlite3_reset(o->acked);
    sqlite3_clear_bindings(o->acked);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
