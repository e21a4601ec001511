#include "store/session_store.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"

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
