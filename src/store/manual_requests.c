/* Orders asked for by hand, waiting for the executor (see manual_requests.h). Statements are
 * prepared per call: requests are a few a minute at most. */
#include "store/manual_requests.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/str.h"

static const char *const STATE_NAMES[] = {"pending", "taken", "done", "withdrawn"};

static mreq_state state_of(const char *s) {
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, STATE_NAMES[i])) return (mreq_state)i;
    return MREQ_DONE;
}

bool mreq_add(sqlite3 *db, const char *account, const char *symbol, side_t side, int64_t qty, int64_t *id) {
    return mreq_add_limit(db, account, symbol, side, qty, 0, false, id);
}

bool mreq_add_limit(sqlite3 *db, const char *account, const char *symbol, side_t side, int64_t qty,
                    price_t limit_price, bool rests, int64_t *id) {
    sqlite3_stmt *st;
    if (limit_price < 0 ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO manual_requests(account, symbol, side, qty, created_at, updated_at, "
                           "limit_price, tif) VALUES(?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_int64(st, 7, limit_price);
    sqlite3_bind_text(st, 8, limit_price > 0 && rests ? "rod" : "ioc", -1, SQLITE_STATIC);
    double now = clock_wall_s();
    sqlite3_bind_text(st, 1, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, symbol, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, side == SIDE_BUY ? "buy" : "sell", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, qty);
    sqlite3_bind_double(st, 5, now);
    sqlite3_bind_double(st, 6, now);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (ok && id) *id = sqlite3_last_insert_rowid(db);
    return ok;
}

static const char *const KIND_NAMES[] = {"order", "flatten", "cancel"};

bool mreq_add_kind(sqlite3 *db, mreq_kind kind, const char *account, const char *target, int64_t *id) {
    sqlite3_stmt *st;
    if (kind == MREQ_ORDER ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO manual_requests(kind, target, account, symbol, side, qty, created_at, "
                           "updated_at) VALUES(?,?,?,?,'buy',1,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    double now = clock_wall_s();
    sqlite3_bind_text(st, 1, KIND_NAMES[kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, target ? target : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, account, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, kind == MREQ_FLATTEN && target ? target : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 5, now);
    sqlite3_bind_double(st, 6, now);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (ok && id) *id = sqlite3_last_insert_rowid(db);
    return ok;
}

static bool read_one(sqlite3 *db, const char *sql, int64_t id, manual_request *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return false;
    if (id) sqlite3_bind_int64(st, 1, id);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(st, 0);
        str_copy(out->account, sizeof out->account, (const char *)sqlite3_column_text(st, 1));
        str_copy(out->symbol, sizeof out->symbol, (const char *)sqlite3_column_text(st, 2));
        const char *side = (const char *)sqlite3_column_text(st, 3);
        out->side = side && !strcmp(side, "sell") ? SIDE_SELL : SIDE_BUY;
        out->qty = sqlite3_column_int64(st, 4);
        out->state = state_of((const char *)sqlite3_column_text(st, 5));
        str_copy(out->client_order_id, sizeof out->client_order_id, (const char *)sqlite3_column_text(st, 6));
        str_copy(out->result, sizeof out->result, (const char *)sqlite3_column_text(st, 7));
        const char *kind = (const char *)sqlite3_column_text(st, 8);
        out->kind = kind && !strcmp(kind, "flatten") ? MREQ_FLATTEN : kind && !strcmp(kind, "cancel") ? MREQ_CANCEL
                                                                                                     : MREQ_ORDER;
        str_copy(out->target, sizeof out->target, (const char *)sqlite3_column_text(st, 9));
        out->limit_price = sqlite3_column_int64(st, 10);
        const char *tif = (const char *)sqlite3_column_text(st, 11);
        out->rests = out->limit_price > 0 && tif && !strcmp(tif, "rod");
    }
    sqlite3_finalize(st);
    return found;
}

#define COLUMNS                                                                                              \
    "SELECT id, account, symbol, side, qty, state, client_order_id, result, kind, target, limit_price, tif "  \
    "FROM manual_requests "

bool mreq_get(sqlite3 *db, int64_t id, manual_request *out) {
    return read_one(db, COLUMNS "WHERE id=?", id, out);
}

bool mreq_next_pending(sqlite3 *db, manual_request *out) {
    return read_one(db, COLUMNS "WHERE state='pending' ORDER BY id LIMIT 1", 0, out);
}

bool mreq_move(sqlite3 *db, int64_t id, mreq_state from, mreq_state to) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "UPDATE manual_requests SET state=?, updated_at=? WHERE id=? AND state=?", -1, &st,
                           NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, STATE_NAMES[to], -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, clock_wall_s());
    sqlite3_bind_int64(st, 3, id);
    sqlite3_bind_text(st, 4, STATE_NAMES[from], -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
    sqlite3_finalize(st);
    return ok;
}

bool mreq_finish(sqlite3 *db, int64_t id, const char *client_order_id, const char *result) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "UPDATE manual_requests SET state='done', client_order_id=?, result=?, updated_at=? "
                           "WHERE id=?",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, client_order_id ? client_order_id : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, result ? result : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 3, clock_wall_s());
    sqlite3_bind_int64(st, 4, id);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

int mreq_flatten_refused(sqlite3 *db, int64_t id, char *out, size_t cap) {
    sqlite3_stmt *st;
    out[0] = 0;
    /* the flatten orders are stored under signal id "flatten-<request id>-<product>" */
    if (sqlite3_prepare_v2(db,
                           "SELECT symbol, reason FROM orders WHERE signal_id LIKE ? ESCAPE '\\' "
                           "AND status='rejected' ORDER BY symbol",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    char pattern[48];
    snprintf(pattern, sizeof pattern, "flatten-%lld-%%", (long long)id);
    sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
    int n = 0, rc;
    size_t used = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sym = (const char *)sqlite3_column_text(st, 0), *why = (const char *)sqlite3_column_text(st, 1);
        int w = snprintf(out + used, cap - used, "%s%s (%s)", n ? ", " : "", sym ? sym : "?",
                         why && *why ? why : "no reason given");
        if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
        n++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}
