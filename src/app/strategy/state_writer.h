/* The strategy's condition writes, on a thread of their own: the tick loop hands over a batch
 * and goes on; the writer commits it in one transaction, waiting on the database as long as it
 * must (another process's transaction, a checkpoint) without holding up a tick. */
#ifndef AFTM_STATE_WRITER_H
#define AFTM_STATE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/condition.h"

typedef struct {
    condition c;
    char note[64];
    bool has_note;
} state_change;

typedef struct state_writer state_writer;

/* Opens its own connection to <home>'s database. NULL with err. */
state_writer *state_writer_start(const char *home, char *err, size_t errlen);
/* Copies n changes (applied in order) and the strategy's signal counter for the next commit. */
bool state_writer_submit(state_writer *w, const state_change *changes, size_t n, uint64_t seq);
/* Writes what is queued, then stops the thread and frees everything. */
void state_writer_stop(state_writer *w);

#endif
