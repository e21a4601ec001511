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

/* The (date, equity) rows of st, in its order, into out; finalizes st. A row that is not a date
 * (edited by hand) is skipped rather than failing the log. false (out freed) on an error. */
static bool read_series(sqlite3_stmt *st, equity_series *out) {
    bool ok = true;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 0);
        int64_t day;
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

bool estore_load(sqlite3 *db, equity_series *out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (!db || sqlite3_prepare_v2(db, "SELECT date, equity FROM equity ORDER BY date", -1, &st, NULL) != SQLITE_OK)
        return false;
    return read_series(st, out);
}

int estore_clear(sqlite3 *db) {
    if (!db || !db_exec(db, "DELETE FROM equity", NULL, 0)) return -1;
    return sqlite3_changes(db);
}

/* ---- named logs ------------------------------------------------------------------------ */

bool estore_log_name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (!n || n > EQUITY_LOG_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

static bool exec_bind(sqlite3 *db, const char *sql, const char *name, long long v, double now_s) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_bind_parameter_count(st) >= 2) sqlite3_bind_int64(st, 2, v);
    if (sqlite3_bind_parameter_count(st) >= 3) sqlite3_bind_double(st, 3, now_s);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

bool estore_log_put(sqlite3 *db, const char *name, long long capital, const equity_series *s, double now_s) {
    if (!db || !s || !estore_log_name_ok(name) || capital <= 0) return false;
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return false;
    bool ok = exec_bind(db, "DELETE FROM equity_log_rows WHERE name = ?", name, 0, 0) &&
              exec_bind(db,
                        "INSERT INTO equity_logs(name, capital, created_at) VALUES(?, ?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET capital = excluded.capital, created_at = excluded.created_at",
                        name, capital, now_s);
    sqlite3_stmt *st = NULL;
    if (ok && sqlite3_prepare_v2(db, "INSERT INTO equity_log_rows(name, date, equity) VALUES(?, ?, ?)", -1, &st,
                                 NULL) != SQLITE_OK)
        ok = false;
    for (size_t i = 0; ok && i < s->n; i++) {
        double e = s->pts[i].equity;
        char d[11];
        equity_format_date(s->pts[i].day, d);
        if (!isfinite(e) || fabs(e) > 9.0e18) {
            ok = false;
            break;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, d, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, llround(e));
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (ok && db_exec(db, "COMMIT", NULL, 0)) return true;
    db_exec(db, "ROLLBACK", NULL, 0);
    return false;
}

int estore_log_load(sqlite3 *db, const char *name, equity_series *out, long long *capital) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (!db || !name) return -1;
    if (sqlite3_prepare_v2(db, "SELECT capital FROM equity_logs WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && capital) *capital = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return -1;
    if (sqlite3_prepare_v2(db, "SELECT date, equity FROM equity_log_rows WHERE name = ? ORDER BY date", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return read_series(st, out) ? 1 : -1;
}

int estore_log_list(sqlite3 *db, estore_log_fn fn, void *ctx) {
    sqlite3_stmt *st;
    if (!db || sqlite3_prepare_v2(db,
                                  "SELECT l.name, l.capital, (SELECT COUNT(*) FROM equity_log_rows r WHERE r.name = "
                                  "l.name) FROM equity_logs l ORDER BY l.name",
                                  -1, &st, NULL) != SQLITE_OK)
        return -1;
    int count = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (fn) fn(ctx, name ? name : "", sqlite3_column_int64(st, 1), (size_t)sqlite3_column_int64(st, 2));
        count++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? count : -1;
}

int estore_log_drop(sqlite3 *db, const char *name) {
    if (!db || !name || !db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return -1;
    bool ok = exec_bind(db, "DELETE FROM equity_log_rows WHERE name = ?", name, 0, 0) &&
              exec_bind(db, "DELETE FROM equity_logs WHERE name = ?", name, 0, 0);
    int n = ok ? sqlite3_changes(db) : -1;
    if (ok && db_exec(db, "COMMIT", NULL, 0)) return n > 0 ? 1 : 0;
    db_exec(db, "ROLLBACK", NULL, 0);
    return -1;
}
