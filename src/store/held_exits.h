/* Exits the executor holds back: a condition's exit that arrived before its entry's fill was in
 * the books (the strategy follows the report stream too, and can see the fill first). The
 * signal is stored here, as received (its msgpack body), which is what acknowledges it to the
 * strategy; the executor decides on it once the entry is booked, or after reconciling with the
 * broker, and a restarted executor picks it up from here. The row goes once the exit's order
 * row (sent, refused or skipped) exists.
 *
 * Not here: when an exit is held or decided (app/executor/executor_signals.c). */
#ifndef AFTM_HELD_EXITS_H
#define AFTM_HELD_EXITS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define HELD_EXIT_BODY_MAX 1024

typedef struct {
    char signal_id[128];
    unsigned char body[HELD_EXIT_BODY_MAX];
    size_t len;
    double held_at; /* POSIX seconds */
} held_exit_row;

/* Stores (or keeps) the held signal; false on a database error. */
bool hexit_put(sqlite3 *db, const char *signal_id, const void *body, size_t len, double held_at);
/* Drops it (no row: nothing to do); false on a database error. */
bool hexit_remove(sqlite3 *db, const char *signal_id);
/* Calls fn for each held exit, oldest first; the count, or -1 when the database failed. */
typedef void (*hexit_fn)(void *ctx, const held_exit_row *r);
int hexit_each(sqlite3 *db, hexit_fn fn, void *ctx);

#endif
