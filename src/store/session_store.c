#include "store/session_store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "store/db.h"

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t cap) {
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

bool session_load(sqlite3 *db, session_info *out) {
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT account, logged_in, expires_at, order_account, item_code, broker FROM session "
                           "WHERE id=1",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        copy_col(st, 0, out->account, sizeof out->account);
        out->logged_in = sqlite3_column_int(st, 1) != 0;
        out->expires_at = sqlite3_column_double(st, 2);
        copy_col(st, 3, out->order_account, sizeof out->order_account);
        copy_col(st, 4, out->item_code, sizeof out->item_code);
        copy_col(st, 5, out->broker, sizeof out->broker);
    }
    sqlite3_finalize(st);
    return found;
}

bool session_active(const session_info *s, double now) { return s->logged_in && now <= s->expires_at; }

session_state session_state_at(const session_info *s, double now) {
    if (!s->account[0]) return SESSION_NONE;
    if (!s->logged_in) return SESSION_LOGGED_OUT;
    return now <= s->expires_at ? SESSION_ACTIVE : SESSION_EXPIRED;
}

bool session_item_code(sqlite3 *db, char *out, size_t cap) {
    session_info s;
    if (!session_load(db, &s) || !session_active(&s, clock_wall_s()) || !s.item_code[0]) return false;
    snprintf(out, cap, "%s", s.item_code);
    return true;
}

bool session_order_account(sqlite3 *db, char *out, size_t cap) {
    session_info s;
    if (!session_load(db, &s) || !session_active(&s, clock_wall_s()) || !s.order_account[0]) return false;
    snprintf(out, cap, "%s", s.order_account);
    return true;
}

bool session_entry_blocked(sqlite3 *db, double now, char *why, size_t cap) {
    session_info s;
    if (!session_load(db, &s)) s.account[0] = '\0';
    switch (session_state_at(&s, now)) {
    case SESSION_ACTIVE:
        if (s.order_account[0]) return false;
        snprintf(why, cap, "no order account selected in the session of %s", s.account);
        return true;
    case SESSION_EXPIRED: {
        time_t t = (time_t)s.expires_at;
        struct tm tm;
        char when[32];
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(why, cap, "the session of %s expired at %s; log in again", s.account, when);
        return true;
    }
    default: snprintf(why, cap, "nobody is logged in"); return true;
    }
}

static bool step_done(sqlite3 *db, const char *sql, const char *a, const char *b, double d) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return false;
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1) sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (n >= 2) sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (n >= 3) sqlite3_bind_double(st, 3, d);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

bool session_login(sqlite3 *db, const char *account, const char *broker, double now, bool *kept) {
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return false;
    session_info old;
    bool same = session_load(db, &old) && !strcmp(old.account, account);
    bool ok;
    if (same) {
        ok = step_done(db, "UPDATE session SET logged_in=1, broker=?2, expires_at=?3 WHERE id=1 AND account=?1", account,
                       broker, now + SESSION_TIMEOUT_S);
    } else {
        ok = step_done(db,
                       "INSERT INTO session(id, account, logged_in, expires_at, order_account, order_account_set, "
                       "item_code, broker) VALUES(1, ?1, 1, ?3, NULL, NULL, NULL, ?2) "
                       "ON CONFLICT(id) DO UPDATE SET account=excluded.account, logged_in=1, "
                       "expires_at=excluded.expires_at, order_account=NULL, order_account_set=NULL, item_code=NULL, "
                       "broker=excluded.broker",
                       account, broker, now + SESSION_TIMEOUT_S) &&
             db_exec(db, "DELETE FROM session_items", NULL, 0);
    }
    if (ok) ok = db_journal(db, "cli", "login", account, same ? "same account: order account and items kept" : "");
    if (!ok || !db_exec(db, "COMMIT", NULL, 0)) {
        db_exec(db, "ROLLBACK", NULL, 0);
        return false;
    }
    if (kept) *kept = same;
    return true;
}

bool session_logout(sqlite3 *db) {
    session_info s;
    if (!session_load(db, &s)) return true;
    return db_exec(db, "UPDATE session SET logged_in=0 WHERE id=1", NULL, 0) &&
           db_journal(db, "cli", "logout", s.account, "");
}

bool session_renew(sqlite3 *db, double now) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "UPDATE session SET expires_at=?1 WHERE id=1 AND logged_in=1 AND expires_at>=?2", -1,
                           &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_double(st, 1, now + SESSION_TIMEOUT_S);
    sqlite3_bind_double(st, 2, now);
    bool ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
    sqlite3_finalize(st);
    return ok;
}

bool session_register_item(sqlite3 *db, const char *code, double now) {
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return false;
    bool ok = step_done(db, "UPDATE session SET item_code=?1 WHERE id=1", code, NULL, 0);
    if (ok) {
        sqlite3_stmt *st;
        ok = sqlite3_prepare_v2(db, "INSERT INTO session_items(code, registered_at) VALUES(?1, ?2) "
                                    "ON CONFLICT(code) DO NOTHING", -1, &st, NULL) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
            sqlite3_bind_double(st, 2, now);
            ok = sqlite3_step(st) == SQLITE_DONE;
            sqlite3_finalize(st);
        }
    }
    if (ok) ok = db_journal(db, "cli", "register_item", code, "");
    if (!ok || !db_exec(db, "COMMIT", NULL, 0)) {
        db_exec(db, "ROLLBACK", NULL, 0);
        return false;
    }
    return true;
}

bool session_select_account(sqlite3 *db, const char *account, const char *const *accounts, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, json_string(accounts[i]));
    char *set = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    bool ok = set && step_done(db, "UPDATE session SET order_account=?1, order_account_set=?2 WHERE id=1", account, set,
                               0) &&
              sqlite3_changes(db) == 1 && db_journal(db, "cli", "select_order_account", account, "");
    free(set);
    return ok;
}

int session_items(sqlite3 *db, char (*out)[SESSION_ITEM_MAX], int cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT code FROM session_items ORDER BY registered_at, code", -1, &st, NULL) !=
        SQLITE_OK)
        return 0;
    int n = 0;
    while (n < cap && sqlite3_step(st) == SQLITE_ROW) copy_col(st, 0, out[n++], SESSION_ITEM_MAX);
    sqlite3_finalize(st);
    return n;
}

/* ---- processes ---- */

bool proc_row_put(sqlite3 *db, const process_row *r) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO processes(name, pid, pid_start, state, started_at, restarts, last_error, owner, "
                           "supervisor_pid, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) "
                           "ON CONFLICT(name) DO UPDATE SET pid=excluded.pid, pid_start=excluded.pid_start, "
                           "state=excluded.state, started_at=excluded.started_at, restarts=excluded.restarts, "
                           "last_error=excluded.last_error, owner=excluded.owner, "
                           "supervisor_pid=excluded.supervisor_pid, updated_at=excluded.updated_at",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->pid);
    sqlite3_bind_int64(st, 3, r->pid_start);
    sqlite3_bind_text(st, 4, r->state, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, r->started_at);
    sqlite3_bind_int(st, 6, r->restarts);
    sqlite3_bind_text(st, 7, r->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, r->supervisor_pid);
    sqlite3_bind_double(st, 10, r->updated_at > 0 ? r->updated_at : clock_wall_s());
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

#define PROC_COLS "name, pid, pid_start, state, started_at, restarts, last_error, owner, supervisor_pid, updated_at"

static void read_row(sqlite3_stmt *st, process_row *r) {
    memset(r, 0, sizeof *r);
    copy_col(st, 0, r->name, sizeof r->name);
    r->pid = sqlite3_column_int(st, 1);
    r->pid_start = sqlite3_column_int64(st, 2);
    copy_col(st, 3, r->state, sizeof r->state);
    r->started_at = sqlite3_column_double(st, 4);
    r->restarts = sqlite3_column_int(st, 5);
    copy_col(st, 6, r->last_error, sizeof r->last_error);
    copy_col(st, 7, r->owner, sizeof r->owner);
    r->supervisor_pid = sqlite3_column_int(st, 8);
    r->updated_at = sqlite3_column_double(st, 9);
}

bool proc_row_get(sqlite3 *db, const char *name, process_row *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT " PROC_COLS " FROM processes WHERE name=?1", -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) read_row(st, out);
    sqlite3_finalize(st);
    return found;
}

int proc_rows(sqlite3 *db, process_row *out, int cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT " PROC_COLS " FROM processes ORDER BY CASE name WHEN 'supervisor' THEN 0 "
                           "WHEN 'gateway' THEN 1 WHEN 'executor' THEN 2 WHEN 'strategy' THEN 3 ELSE 4 END, name",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    int n = 0;
    while (n < cap && sqlite3_step(st) == SQLITE_ROW) read_row(st, &out[n++]);
    sqlite3_finalize(st);
    return n;
}

/* ---- requests ---- */

long long host_request_last(sqlite3 *db) {
    long long seq = 0;
    db_meta_get_int(db, "host.request_seq", &seq);
    return seq;
}

long long host_request_post(sqlite3 *db, const char *request) {
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return -1;
    long long seq = host_request_last(db) + 1;
    if (!db_meta_set_int(db, "host.request_seq", seq) || !db_meta_set_text(db, "host.request", request) ||
        !db_exec(db, "COMMIT", NULL, 0)) {
        db_exec(db, "ROLLBACK", NULL, 0);
        return -1;
    }
    return seq;
}

bool host_request_next(sqlite3 *db, long long after, long long *seq, char *request, size_t cap) {
    long long last = host_request_last(db);
    if (last <= after) return false;
    *seq = last; /* only the newest request counts: an older one it replaced is moot */
    if (!db_meta_get_text(db, "host.request", request, cap)) request[0] = '\0';
    return true;
}

bool host_request_finish(sqlite3 *db, long long seq, const char *result) {
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return false;
    bool ok = db_meta_set_text(db, "host.result", result) && db_meta_set_int(db, "host.done_seq", seq);
    if (!ok || !db_exec(db, "COMMIT", NULL, 0)) {
        db_exec(db, "ROLLBACK", NULL, 0);
        return false;
    }
    return true;
}

bool host_request_result(sqlite3 *db, long long seq, char *result, size_t cap) {
    long long done = 0;
    if (!db_meta_get_int(db, "host.done_seq", &done) || done < seq) return false;
    if (!db_meta_get_text(db, "host.result", result, cap)) result[0] = '\0';
    return true;
}
