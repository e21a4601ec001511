/* The trader's session while 'aftm run' runs: the same session row the menu's login writes
 * (who is logged in, the order account, the item), so every command a shell runs next to it —
 * positions --broker, order send, futures, account list, status — finds a logged-in session.
 * It writes the session only; starting the processes is run.c's. */
#ifndef AFTM_RUN_SESSION_H
#define AFTM_RUN_SESSION_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    sqlite3 *db;
    char login[96];        /* the account the gateway logged in as */
    char broker[16];       /* sim, fix */
    bool active;           /* this run wrote a logged-in session and ends it */
    long long last_renew_ms;
} run_session;

/* Records login as logged in on broker, with account as the order account (accounts: the
 * broker's list, asked from the gateway at order_ep; [account] when it does not answer) and,
 * when the session has no item yet, item (NULL: none). false with err. */
bool run_session_begin(run_session *s, sqlite3 *db, const char *login, const char *broker, const char *account,
                       const char *item, const char *order_ep, char *err, size_t errlen);
/* Keeps the session from expiring while the run lasts; cheap, call it often. */
void run_session_renew(run_session *s);
/* Logs the session out (the gateway it stood for is stopped). */
void run_session_end(run_session *s);

/* Prints aftm's open positions (its books), one line each after head (each line starts with
 * indent), and returns how many (0: nothing printed). */
int run_print_open_positions(sqlite3 *db, FILE *out, const char *head, const char *indent);

#endif
