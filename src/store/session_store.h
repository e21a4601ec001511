/* The trading session (one row): who is logged in, until when, the order account and the
 * registered item. Readers never wipe it; only login and logout write it. */
#ifndef AFTM_SESSION_STORE_H
#define AFTM_SESSION_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define SESSION_TIMEOUT_S 43200 /* 12 h, renewed while in use */

typedef struct {
    char account[96];
    bool logged_in;
    double expires_at;
    char order_account[64];
    char item_code[32];
    char broker[16];
} session_info;

/* false when there is no session row. */
bool session_load(sqlite3 *db, session_info *out);
/* Logged in and not expired at now. */
bool session_active(const session_info *s, double now);
bool session_item_code(sqlite3 *db, char *out, size_t cap);   /* registered item of an active session */
bool session_order_account(sqlite3 *db, char *out, size_t cap);

#endif
