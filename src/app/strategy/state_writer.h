/* The strategy's condition writes, on a thread of their own: the tick loop hands over a batch
 * and goes on; the writer commits it in one transaction, waiting on the database as long as it
 * must (another process's transaction, a checkpoint) without holding up a tick. A batch also
 * carries the signal outbox's changes (store/signal_outbox.h): the signals sent with these
 * condition states, and the ones the executor has acknowledged since. */
#ifndef AFTM_STATE_WRITER_H
#define AFTM_STATE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/condition.h"
#include "store/signal_outbox.h"

typedef struct {
    condition c;
    char note[64];
    bool has_note;
} state_change;

/* What the tick loop hands over at once; everything is copied. */
typedef struct {
    const state_change *changes; /* condition rows, applied in order */
    size_t n;
    uint64_t seq;                /* the strategy's signal counter */
    const outbox_row *sent;      /* signals to keep until the executor acknowledges them */
    size_t nsent;
    const char (*acked)[OUTBOX_ID_MAX]; /* signals acknowledged: their rows go */
    size_t nacked;
} state_batch;

typedef struct state_writer state_writer;

/* Opens its own connection to <home>'s database. NULL with err. */
state_writer *state_writer_start(const char *home, char *err, size_t errlen);
/* Copies the batch for the next commit. False when out of memory (nothing was taken). */
bool state_writer_submit(state_writer *w, const state_batch *b);
/* Writes what is queued, then stops the thread and frees everything. */
void state_writer_stop(state_writer *w);

#endif
