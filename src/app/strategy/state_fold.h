/* Folding the strategy's condition writes: when a condition changes several times before the
 * writer commits (a following condition trails on every tick; triggered, then entered), only
 * the last of the changes that the database would apply the same way needs writing. This file
 * is the rule; it does no I/O and keeps no queue (state_writer.c holds the queue and finds a
 * condition's last change in it through a domain/id_index.h). */
#ifndef AFTM_STATE_FOLD_H
#define AFTM_STATE_FOLD_H

#include <stdbool.h>

#include "app/strategy/state_writer.h"

/* True when writing later alone, in the same transaction, leaves the row as writing earlier
 * and then later would (store/condition_store.c's save): the same condition and round, the same
 * entry state and filled lots (the write sets those only while the row's entry is 'none'), and
 * earlier not an exit (an exit marks the row done, which later would not undo). The note is
 * the one thing later alone could lose: see state_fold_into. */
bool state_change_folds(const state_change *earlier, const state_change *later);

/* Replaces *earlier by later, keeping earlier's note when later has none (the write keeps the
 * row's note when given none, so the sequence would have left earlier's). */
void state_fold_into(state_change *earlier, const state_change *later);

#endif
