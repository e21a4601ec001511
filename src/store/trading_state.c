/* The account's trading state in aftm.db's meta table (see trading_state.h). */
#include "store/trading_state.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "store/db.h"

const char *tstate_name(tstate_kind k) {
    switch (k) {
    case TSTATE_REDUCING: return "reducing";
    case TSTATE_HALTED: return "halted";
    default: return "active";
    }
}

bool tstate_get(sqlite3 *db, trading_state *out) {
    memset(out, 0, sizeof *out);
    long long on = 0, since = 0;
    sqlite3_stmt *st;
    /* the meta table is there in every database this aftm opens; a failing read is an error */
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM meta LIMIT 0", -1, &st, NULL) != SQLITE_OK) return false;
    sqlite3_finalize(st);
    db_meta_get_int(db, "kill_switch", &on);
    out->kind = on == 2 ? TSTATE_HALTED : on ? TSTATE_REDUCING : TSTATE_ACTIVE;
    if (out->kind != TSTATE_ACTIVE && !db_meta_get_text(db, "kill_reason", out->reason, sizeof out->reason))
        snprintf(out->reason, sizeof out->reason, "no reason given");
    if (db_meta_get_int(db, "kill_since_ms", &since)) out->since = (double)since / 1000.0;
    return true;
}

bool tstate_set(sqlite3 *db, tstate_kind kind, const char *reason, const char *source) {
    long long ms = (long long)(clock_wall_s() * 1000.0);
    return db_meta_set_int(db, "kill_switch", (long long)kind) &&
           db_meta_set_text(db, "kill_reason", kind == TSTATE_ACTIVE ? "" : reason ? reason : "") &&
           db_meta_set_int(db, "kill_since_ms", ms) &&
           db_journal(db, source, kind == TSTATE_ACTIVE ? "resume" : kind == TSTATE_HALTED ? "halt" : "kill_switch", "",
                      reason ? reason : "");
}

void tstate_describe(const trading_state *ts, char *out, size_t cap) {
    char when[32] = "";
    if (ts->since > 0) {
        time_t t = (time_t)ts->since;
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    }
    if (ts->kind == TSTATE_ACTIVE)
        snprintf(out, cap, "active%s%s%s", when[0] ? " (since " : "", when, when[0] ? ")" : "");
    else
        snprintf(out, cap, "%s (%s%s%s%s)", tstate_name(ts->kind), when[0] ? "since " : "", when, when[0] ? ": " : "",
                 ts->kind == TSTATE_HALTED ? "nothing is sent but cancels and 'aftm flatten'"
                                           : "only orders that reduce a position are sent");
    if (ts->kind != TSTATE_ACTIVE && ts->reason[0]) {
        size_t n = strlen(out);
        if (n < cap) snprintf(out + n, cap - n, " - %s", ts->reason);
    }
}

bool tstate_rearm_refused(sqlite3 *db, int *n) {
    *n = 0;
    /* a refusal by the kill switch never reached the broker (no serial, nothing filled): its
     * ids can move aside so the condition's next entry is a new order */
    static const char *const rename_sql =
        "UPDATE orders SET signal_id=signal_id||?1, client_order_id=client_order_id||?1, updated_at=?2 "
        "WHERE status='rejected' AND filled_qty=0 AND order_serial='' AND is_exit=0 "
        "AND reason LIKE 'risk kill_switch:%' AND condition_id IN "
        "(SELECT id FROM conditions WHERE status='rejected' AND note LIKE '%risk kill_switch:%')";
    static const char *const rearm_sql =
        "UPDATE conditions SET status='active', entry_state='none', filled_qty=0, is_trigger=0, is_ordered=0, "
        "is_exited=0, note='re-armed by aftm resume (its entry was refused by the kill switch)', updated_at=?2 "
        "WHERE status='rejected' AND note LIKE '%risk kill_switch:%'";
    double now = clock_wall_s();
    char suffix[32];
    snprintf(suffix, sizeof suffix, "~r%lld", (long long)(now * 1000.0));
    if (!db_exec(db, "BEGIN IMMEDIATE", NULL, 0)) return false;
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        sqlite3_stmt *st;
        ok = sqlite3_prepare_v2(db, i ? rearm_sql : rename_sql, -1, &st, NULL) == SQLITE_OK;
        if (!ok) break;
        sqlite3_bind_text(st, 1, suffix, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, now);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
        if (ok && i) *n = sqlite3_changes(db);
    }
    if (ok && *n) ok = db_journal(db, "cli", "rearm", "", "conditions refused by the kill switch re-armed");
    if (!ok || !db_exec(db, "COMMIT", NULL, 0)) {
        db_exec(db, "ROLLBACK", NULL, 0);
        *n = 0;
        return false;
    }
    return true;
}
