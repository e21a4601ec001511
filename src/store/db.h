/* The one SQLite database under the data directory (WAL). Every writer changes rows inside
 * transactions; nothing rewrites a table or a file. */
#ifndef AFTM_DB_H
#define AFTM_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define AFTM_DB_FILE "aftm.db"

/* Opens (creating if needed) <home>/aftm.db with WAL, a busy timeout and the schema.
 * NULL with err on failure. */
sqlite3 *db_open(const char *home, char *err, size_t errlen);
void db_close(sqlite3 *db);
/* The busy handler of db_open's connections (sqlite3_busy_handler): retries within tens of
 * microseconds at first, and gives up (SQLITE_BUSY) after about DB_BUSY_WAIT_MS. */
#define DB_BUSY_WAIT_MS 5000
int db_busy_wait(void *arg, int tries);
/* Process-wide SQLite settings, once, before the first connection (db_open calls it; other
 * openers of a database should too). */
void db_library_init(void);

/* Runs SQL with no result rows; false with err (may be NULL) on failure. */
bool db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* Value of PRAGMA data_version: changes when another connection commits. */
long long db_data_version(sqlite3 *db);

/* A small key/value table for counters and settings. */
bool db_meta_get_int(sqlite3 *db, const char *key, long long *out);
bool db_meta_set_int(sqlite3 *db, const char *key, long long value);
bool db_meta_get_text(sqlite3 *db, const char *key, char *out, size_t cap);
bool db_meta_set_text(sqlite3 *db, const char *key, const char *value);

/* This database's instance id: 8 lower-case hex digits made at random when the database was
 * created (schema step 5). False when it is missing or not of that form. */
#define DB_INSTANCE_ID_LEN 8
bool db_instance_id(sqlite3 *db, char *out, size_t cap);

/* Prepared statements of a store, made and freed together. */
typedef struct {
    sqlite3_stmt **st;
    const char *sql;
} db_stmt_spec;

/* Prepares every spec as a persistent statement; false (some may be NULL) on the first error. */
bool db_prepare_all(sqlite3 *db, const db_stmt_spec *specs, size_t n);
/* Runs a write statement to completion, then resets it and clears its bindings. */
bool db_step_done(sqlite3_stmt *st);
/* Why the last statement on db failed, for a log line: sqlite3_errmsg, except that after a
 * transaction SQLite had to abandon (a full disk) it is the failure that ended it, not the
 * rollback's "no transaction is active" that came after. */
const char *db_error(sqlite3 *db);

/* Appends to the event journal (append-only): who, what kind, which object, details. */
bool db_journal(sqlite3 *db, const char *source, const char *kind, const char *ref, const char *detail);

#endif
