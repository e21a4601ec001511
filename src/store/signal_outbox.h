/* The strategy's outbox: every signal it sent and the executor has not yet acknowledged. A
 * signal is acknowledged once the executor has stored it: an order row with its signal id (a
 * stored refusal is an order row too). The strategy sends an unacknowledged signal again under
 * the same id until then, across restarts of either side; the rows here are what a restarted
 * strategy sends again.
 *
 * Not here: when to send or resend (app/strategy/strategy_core.c). Rows are written by the
 * strategy's state writer, inside the transaction of the condition states they go with. */
#ifndef AFTM_SIGNAL_OUTBOX_H
#define AFTM_SIGNAL_OUTBOX_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define OUTBOX_ID_MAX 64
#define OUTBOX_BODY_MAX 512
#define OUTBOX_DESC_MAX 160

typedef struct {
    char signal_id[OUTBOX_ID_MAX];
    unsigned char body[OUTBOX_BODY_MAX]; /* the signal as sent on the wire */
    size_t len;
    char descr[OUTBOX_DESC_MAX]; /* one line for the log */
} outbox_row;

typedef struct signal_outbox signal_outbox;

signal_outbox *outbox_open(sqlite3 *db);
void outbox_close(signal_outbox *o);

/* Adds (or replaces) a row; false on a database error. */
bool outbox_put(signal_outbox *o, const outbox_row *r);
/* Removes the row of signal_id (none is fine); false on a database error. */
bool outbox_remove(signal_outbox *o, const char *signal_id);

typedef void (*outbox_row_fn)(void *ctx, const outbox_row *r);
/* Every row, oldest first. Returns the count or -1. */
int outbox_each(signal_outbox *o, outbox_row_fn fn, void *ctx);

/* 1 when the executor has stored signal_id (an order row, a stored refusal, or an exit it holds
 * until its entry is booked: store/held_exits.h), 0 when not,
 * -1 when the database could not be read (then ask again later). */
int outbox_acknowledged(signal_outbox *o, const char *signal_id);

#endif
