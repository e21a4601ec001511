/* The trading session (one row): who is logged in, until when, the order account and the
 * registered items. Readers never wipe it; only login, logout and the renewal write it.
 *
 * Also here: the processes of the trading system as their supervisor recorded them (so any
 * shell can show and stop them), and the requests other shells leave for that supervisor. */
#ifndef AFTM_SESSION_STORE_H
#define AFTM_SESSION_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define SESSION_TIMEOUT_S 43200 /* 12 h, renewed while in use */
#define SESSION_ITEM_MAX 32
#define SESSION_MAX_ITEMS 64

typedef struct {
    char account[96];
    bool logged_in;
    double expires_at;
    char order_account[64];
    char item_code[SESSION_ITEM_MAX]; /* the current item */
    char broker[16];
} session_info;

typedef enum { SESSION_NONE, SESSION_LOGGED_OUT, SESSION_EXPIRED, SESSION_ACTIVE } session_state;

/* false when there is no session row. */
bool session_load(sqlite3 *db, session_info *out);
/* Logged in and not expired at now. */
bool session_active(const session_info *s, double now);
session_state session_state_at(const session_info *s, double now);
bool session_item_code(sqlite3 *db, char *out, size_t cap);   /* registered item of an active session */
bool session_order_account(sqlite3 *db, char *out, size_t cap);
/* false when new entries may be made; else true with why: "nobody is logged in", or "the
 * session of X expired at YYYY-MM-DD HH:MM:SS; log in again". For the executor's refusals. */
bool session_entry_blocked(sqlite3 *db, double now, char *why, size_t cap);

/* Writes a logged-in session expiring SESSION_TIMEOUT_S after now. The same account logging
 * in again keeps its order account and registered items (*kept = true); another account
 * starts empty. */
bool session_login(sqlite3 *db, const char *account, const char *broker, double now, bool *kept);
/* Logged out; the row (account, order account, items) stays for the next login. */
bool session_logout(sqlite3 *db);
/* Pushes the expiry to now + SESSION_TIMEOUT_S, only while the session is active. */
bool session_renew(sqlite3 *db, double now);
/* Adds code to the registered items and makes it the current item. */
bool session_register_item(sqlite3 *db, const char *code, double now);
/* Stores the broker's list of order accounts (JSON text) and the selected one. */
bool session_select_account(sqlite3 *db, const char *account, const char *const *accounts, size_t n);
/* Registered items, oldest first; returns how many (up to cap). */
int session_items(sqlite3 *db, char (*out)[SESSION_ITEM_MAX], int cap);

/* ---- processes of the trading system ---- */

typedef struct {
    char name[16];        /* supervisor, gateway, executor, strategy */
    int pid;              /* 0 when not running */
    long long pid_start;  /* the process's start time (clock ticks since boot): tells a reused pid apart */
    char state[16];       /* starting, running, restarting, crashed, stopped */
    double started_at;    /* wall clock of the current (or last) start */
    int restarts;
    char last_error[160];
    char owner[16];       /* who supervises: menu, login (background), run */
    int supervisor_pid;
    double updated_at;
} process_row;

bool proc_row_put(sqlite3 *db, const process_row *r);
bool proc_row_get(sqlite3 *db, const char *name, process_row *out);
/* Rows in the order supervisor, gateway, executor, strategy, then others; returns the count. */
int proc_rows(sqlite3 *db, process_row *out, int cap);

/* ---- requests to the running supervisor (stop_trading, start_trading, stop_all, logout) ---- */

/* Posts a request; returns its sequence number (> 0), or -1. */
long long host_request_post(sqlite3 *db, const char *request);
/* The newest request's number (0 when none). */
long long host_request_last(sqlite3 *db);
/* The request after `after`, if any: true with its number and text. */
bool host_request_next(sqlite3 *db, long long after, long long *seq, char *request, size_t cap);
/* The supervisor's answer to request seq. */
bool host_request_finish(sqlite3 *db, long long seq, const char *result);
/* true once request seq was answered, with the answer. */
bool host_request_result(sqlite3 *db, long long seq, char *result, size_t cap);

#endif
