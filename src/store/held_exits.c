/* Exits held back by the executor (see held_exits.h). Statements are prepared per call: an exit
 * is held a few times a day, for seconds. */
#include "store/held_exits.h"

#include <stdio.h>
#include <string.h>

bool hexit_put(sqlite3 *db, const char *signal_id, const void *body, size_t len, double held_at) {
    sqlite3_stmt *st;
    if (len == 0 || len > HELD_EXIT_BODY_MAX || strlen(signal_id) >= sizeof ((held_exit_row *)0)->signal_id ||
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO held_exits(signal_id, body, held_at) VALUES(?,?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, signal_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, body, (int)len, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 3, held_at);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

bool hexit_remove(sqlite3 *db, const char *signal_id) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "DELETE FROM held_exits WHERE signal_id=?", -1, &st, NULL) != SQLITE_OK) return false;
    sqlite3_bind_text(st, 1, signal_id, -1, SQLITE_TRANSIENT);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

int hexit_each(sqlite3 *db, hexit_fn fn, void *ctx) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT signal_id, body, held_at FROM held_exits ORDER BY held_at, rowid", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        held_exit_row r;
        memset(&r, 0, sizeof r);
        const unsigned char *id = sqlite3_column_text(st, 0);
        const void *body = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        /* a row the executor could not have written is skipped, not trusted */
        if (!id || !body || len <= 0 || len > HELD_EXIT_BODY_MAX || strlen((const char *)id) >= sizeof r.signal_id)
            continue;
        snprintf(r.signal_id, sizeof r.signal_id, "%s", (const char *)id);
        memcpy(r.body, body, (size_t)len);
        r.len = (size_t)len;
        r.held_at = sqlite3_column_double(st, 2);
        fn(ctx, &r);
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}
