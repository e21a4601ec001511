/* WAL checkpoints of one database on a thread of their own, off the connection that writes.
 *
 * SQLite checkpoints from the connection whose commit took the WAL past 1,000 pages: that
 * commit copies the pages into the database and syncs it before it returns. On the executor
 * and the exchange that is the order path, and under a steady flow of orders it put
 * milliseconds on an order every few hundred. A checkpointer turns the writer's automatic
 * checkpoints off and runs them (PASSIVE: never blocking a reader or the writer) on its own
 * connection, when the writer's commits have grown the WAL past the same threshold, and once a
 * second while anything is left in it. Not a writer of rows; not a backup. */
#ifndef AFTM_CHECKPOINTER_H
#define AFTM_CHECKPOINTER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECKPOINT_PAGES 1000 /* WAL pages that wake the checkpointer (SQLite's own default) */

typedef struct db_checkpointer db_checkpointer;

/* Takes over the checkpoints of db (its main database, which must be in WAL mode): NULL with
 * err when the thread or its connection cannot be made, and then db keeps checkpointing by
 * itself. db must outlive the checkpointer. */
db_checkpointer *db_checkpointer_start(sqlite3 *db, char *err, size_t errlen);
/* Stops the thread (after a last checkpoint) and gives the checkpoints back to db. NULL: no-op. */
void db_checkpointer_stop(db_checkpointer *c);
/* Checkpoints run so far (for tests and logs). */
uint64_t db_checkpointer_runs(db_checkpointer *c);

#endif
