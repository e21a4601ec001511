/* The account's risk limits (see risk_store.h). Statements are prepared per call: limits are
 * read at each executor start and written by hand. */
#include "store/risk_store.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "store/db.h"

bool rstore_set(sqlite3 *db, const char *key, const char *value) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO risk_limits(key, value, updated_at) VALUES(?,?,?) "
                           "ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 3, clock_wall_s());
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

bool rstore_replace(sqlite3 *db, const char *const *keys, const char *const *values, size_t n) {
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return false;
    bool ok = db_exec(db, "DELETE FROM risk_limits", NULL, 0);
    for (size_t i = 0; ok && i < n; i++) ok = rstore_set(db, keys[i], values[i]);
    if (ok && db_exec(db, "COMMIT", NULL, 0)) return true;
    db_exec(db, "ROLLBACK", NULL, 0);
    return false;
}

int rstore_ini(sqlite3 *db, char *out, size_t cap) {
    sqlite3_stmt *st;
    if (cap < 8 || sqlite3_prepare_v2(db, "SELECT key, value FROM risk_limits ORDER BY key", -1, &st, NULL) != SQLITE_OK)
        return -1;
    size_t used = (size_t)snprintf(out, cap, "[risk]\n");
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0), *v = (const char *)sqlite3_column_text(st, 1);
        int w = snprintf(out + used, cap - used, "%s = %s\n", k ? k : "", v ? v : "");
        if (w < 0 || (size_t)w >= cap - used) {
            sqlite3_finalize(st);
            return -1;
        }
        used += (size_t)w;
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}
