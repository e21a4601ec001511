/* Conditions in SQLite: added and cancelled from the CLI, state changes written by the
 * strategy as row updates, entry outcomes written by the executor. A repeating condition keeps
 * its row and id through its rounds: the strategy's write of a later round arms it again. */
#ifndef AFTM_CONDITION_STORE_H
#define AFTM_CONDITION_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "domain/condition.h"

/* status column: active (live in the strategy), done (exited), cancelled (by the user),
 * rejected (its entry was refused or expired; parked with a note), closed (its exit found the
 * position already closed by hand: nothing was sent). */
typedef struct {
    condition c;
    char uuid[40];
    char status[16];
    char note[160];
    double created_at, updated_at;
} condition_record;

typedef struct condition_store condition_store;

condition_store *cstore_open(sqlite3 *db);
void cstore_close(condition_store *s);

/* Inserts c (its id is ignored) and returns the new id, or -1 with err. */
int64_t cstore_add(condition_store *s, const condition *c, const char *uuid, char *err, size_t errlen);
/* active -> cancelled. False with a reason if it does not exist or is no longer active. */
bool cstore_cancel(condition_store *s, int64_t id, char *err, size_t errlen);
bool cstore_get(condition_store *s, int64_t id, condition_record *out);

typedef void (*cstore_row_fn)(void *ctx, const condition_record *r);
/* Visits conditions in id order: only active ones unless all. Returns the count or -1. */
int cstore_list(condition_store *s, bool all, cstore_row_fn fn, void *ctx);
/* The conditions' revision: a number that grows with every insert or update of a row, in
 * commit order (schema 14). false when it cannot be read. */
bool cstore_revision(condition_store *s, int64_t *out);
/* Visits the rows of any status changed after revision since, in the order of the changes.
 * Returns the count or -1. */
int cstore_list_changed(condition_store *s, int64_t since, cstore_row_fn fn, void *ctx);

/* The strategy's write after a state change: prices and flags; entry_state only moves from
 * none to pending (the executor owns it after that). A condition that exited becomes done. */
bool cstore_save_state(condition_store *s, const condition *c, const char *note);
/* The executor's write: the entry of the given round (gw_coid.round) filled (with quantity) or
 * was rejected (with a reason). A report of an earlier round, read after the condition was
 * armed again, changes nothing. */
bool cstore_set_entry(condition_store *s, int64_t id, int64_t round, entry_state st, int64_t filled_qty,
                      const char *note);

/* The executor's write when a condition's exit finds nothing left to close: closed, with the
 * note; a later write of the strategy's state keeps both. A repeating condition keeps its status
 * (its next round goes on) and gets the note; a write for an earlier round changes nothing. */
bool cstore_set_closed(condition_store *s, int64_t id, int64_t round, const char *note);

bool cstore_begin(condition_store *s);
bool cstore_commit(condition_store *s);

const char *entry_state_name(entry_state st);
entry_state entry_state_parse(const char *name);

#endif
