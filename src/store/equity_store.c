#include "store/equity_store.h"

#include <math.h>
#include <string.h>

#include "store/db.h"

long long estore_capital(sqlite3 *db) {
    long long v;
    if (db && db_meta_get_int(db, EQUITY_CAPITAL_KEY, &v) && v > 0) return v;
    return EQUITY_DEFAULT_CAPITAL;
}

bool estore_set_capital(sqlite3 *db, long long capital) {
    return db && capital > 0 && db_meta_set_int(db, EQUITY_CAPITAL_KEY, capital);
}

int64_t estore_day_of(int64_t unix_s) {
    int64_t s = unix_s + EQUITY_UTC_OFFSET_S;
    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

bool estore_put(sqlite3 *db, int64_t day, long long equity) {
    sqlite3_stmt *st;
    if (!db || sqlite3_prepare_v2(db,
                                  "INSERT INTO equity(date, equity) VALUES(?, ?) "
                                  "ON CONFLICT(date) DO UPDATE SET equity = excluded.equity",
                                  -1, &st, NULL) != SQLITE_OK)
        return false;
    char d[11];
    equity_format_date(day, d);
    sqlite3_bind_text(st, 1, d, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, equity);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

bool estore_record_pnl(sqlite3 *db, int64_t now_s, long long pnl_money) {
    return estore_put(db, estore_day_of(now_s), estore_capital(db) + pnl_money);
}

bool estore_put_series(sqlite3 *db, const equity_series *s) {
    if (!db || !s) return false;
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return false;
    for (size_t i = 0; i < s->n; i++) {
        double e = s->pts[i].equity;
        if (!isfinite(e) || fabs(e) > 9.0e18 || !estore_put(db, s->pts[i].day, llround(e))) {
            db_exec(db, "ROLLBACK", NULL, 0);
            return false;
        }
    }
    if (!db_exec(db, "COMMIT", NULL, 0)) {
        db_exec(db, "ROLLBACK", NULL, 0);
        return false;
    }
    return true;
}

bool estore_load(sqlite3 *db, equity_series *out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (!db || sqlite3_prepare_v2(db, "SELECT date, equity FROM equity ORDER BY date", -1, &st, NULL) != SQLITE_OK)
        return false;
    bool ok = true;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 0);
        int64_t day;
        /* a row that is not a date (edited by hand) is skipped rather than failing the log */
        if (!d || !equity_parse_date(d, strlen(d), &day)) continue;
        if (!equity_append(out, day, (double)sqlite3_column_int64(st, 1))) {
            ok = false;
            break;
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) ok = false;
    sqlite3_finalize(st);
    if (!ok) equity_free(out);
    return ok;
}

int estore_clear(sqlite3 *db) {
    if (!db || !db_exec(db, "DELETE FROM equity", NULL, 0)) return -1;
    return sqlite3_changes(db);
}
