#include "store/db.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "store/schema.h"

bool db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
    if (err) snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return false;
}

static bool migrate(sqlite3 *db, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return false;
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (version > schema_version_latest()) {
        snprintf(err, errlen, "database schema %d is newer than this aftm (%d)", version, schema_version_latest());
        return false;
    }
    for (int v = version + 1; v <= schema_version_latest(); v++) {
        /* IMMEDIATE: two processes starting together migrate one after the other. */
        if (!db_exec(db, "BEGIN IMMEDIATE", err, errlen)) return false;
        sqlite3_stmt *cur;
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &cur, NULL);
        int now = sqlite3_step(cur) == SQLITE_ROW ? sqlite3_column_int(cur, 0) : 0;
        sqlite3_finalize(cur);
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d", v);
        if (now < v && (!db_exec(db, schema_migration(v), err, errlen) || !db_exec(db, bump, err, errlen))) {
            db_exec(db, "ROLLBACK", NULL, 0);
            return false;
        }
        if (!db_exec(db, "COMMIT", err, errlen)) return false;
    }
    return true;
}

static void library_setup(void) {
    /* no global allocation counters: they take a process-wide mutex on every malloc of SQLite's */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void db_library_init(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, library_setup);
}

/* ---- statements of the helpers below, prepared once per connection ----------------------
 * The meta counters and the journal are written on the order path, where preparing the same
 * SQL again for each order cost more than running it. Keyed by connection and by the address
 * of the SQL text (the helpers' own literals); freed by db_close. A connection is used by one
 * thread at a time (NOMUTEX), but several connections of a process may live on different
 * threads, hence the lock around the table. */
#define STMT_CACHE_MAX 64

typedef struct {
    sqlite3 *db;
    const char *sql;
    sqlite3_stmt *st;
} cached_stmt;

static cached_stmt g_cache[STMT_CACHE_MAX];
static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The statement for sql on db, ready to bind; stmt_done after use. *owned: not cached (the
 * table is full), finalize it. NULL when SQLite refuses the SQL. */
static sqlite3_stmt *stmt_get(sqlite3 *db, const char *sql, bool *owned) {
    *owned = false;
    pthread_mutex_lock(&g_cache_lock);
    int free_slot = -1;
    for (int i = 0; i < STMT_CACHE_MAX; i++) {
        if (g_cache[i].db == db && g_cache[i].sql == sql) {
            sqlite3_stmt *st = g_cache[i].st;
            pthread_mutex_unlock(&g_cache_lock);
            return st;
        }
        if (!g_cache[i].db && free_slot < 0) free_slot = i;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        st = NULL;
    } else if (free_slot >= 0) {
        g_cache[free_slot] = (cached_stmt){.db = db, .sql = sql, .st = st};
    } else {
        *owned = true;
    }
    pthread_mutex_unlock(&g_cache_lock);
    return st;
}

static void stmt_done(sqlite3_stmt *st, bool owned) {
    if (owned) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void stmt_forget(sqlite3 *db) {
    pthread_mutex_lock(&g_cache_lock);
    for (int i = 0; i < STMT_CACHE_MAX; i++)
        if (g_cache[i].db == db) {
            sqlite3_finalize(g_cache[i].st);
            g_cache[i] = (cached_stmt){0};
        }
    pthread_mutex_unlock(&g_cache_lock);
}

/* The wait for another connection's write lock: the strategy's writer and the executor share
 * the database, and each holds the lock for well under a millisecond. SQLite's own busy timeout
 * sleeps a whole millisecond at the first try and longer after, which put a millisecond on an
 * order that met the strategy's commit. This one tries again every 25 us for the first
 * millisecond, every 100 us up to 10 ms, then every millisecond up to DB_BUSY_WAIT_MS. */
#define BUSY_FAST_TRIES 40    /* x 25 us */
#define BUSY_MEDIUM_TRIES 90  /* x 100 us */
int db_busy_wait(void *arg, int tries) {
    (void)arg;
    long sleep_us;
    if (tries < BUSY_FAST_TRIES) sleep_us = 25;
    else if (tries < BUSY_FAST_TRIES + BUSY_MEDIUM_TRIES) sleep_us = 100;
    else if (tries < BUSY_FAST_TRIES + BUSY_MEDIUM_TRIES + DB_BUSY_WAIT_MS - 10) sleep_us = 1000;
    else return 0; /* SQLITE_BUSY to the caller */
    struct timespec ts = {0, sleep_us * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

sqlite3 *db_open(const char *home, char *err, size_t errlen) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", home, AFTM_DB_FILE);
    sqlite3 *db = NULL;
    db_library_init();
    /* NOMUTEX: each connection is used by one thread at a time (the strategy's writer thread
     * takes its connection over from the thread that opened it) */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_handler(db, db_busy_wait, NULL);
    /* WAL: readers never block the writer; NORMAL: commits do not fsync (the WAL is synced at
     * checkpoints), so a commit costs microseconds and survives a process kill. */
    /* Switching to WAL needs a moment alone with the file, which the busy handler does not
     * wait for: processes starting together (aftm run) retry here for a few seconds. */
    bool ready = false;
    for (int attempt = 0; attempt < 100 && !ready; attempt++) {
        ready = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", err, errlen) &&
                migrate(db, err, errlen);
        if (!ready && (sqlite3_errcode(db) == SQLITE_BUSY || sqlite3_errcode(db) == SQLITE_LOCKED ||
                       strstr(err, "locked") || strstr(err, "busy"))) {
            struct timespec ts = {0, 50 * 1000000};
            nanosleep(&ts, NULL);
        } else if (!ready) {
            break;
        }
    }
    if (!ready) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "database %s: %s", path, inner);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

void db_close(sqlite3 *db) {
    if (!db) return;
    stmt_forget(db);
    sqlite3_close_v2(db);
}

long long db_data_version(sqlite3 *db) {
    static const char sql[] = "PRAGMA data_version";
    bool owned;
    sqlite3_stmt *st = stmt_get(db, sql, &owned);
    long long v = -1;
    if (!st) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    stmt_done(st, owned);
    return v;
}

static const char META_GET[] = "SELECT value FROM meta WHERE key=?";
static const char META_SET[] = "INSERT INTO meta(key,value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value";
static const char JOURNAL_ADD[] = "INSERT INTO journal(ts,source,kind,ref,detail) VALUES(?,?,?,?,?)";

bool db_meta_get_int(sqlite3 *db, const char *key, long long *out) {
    bool owned, found = false;
    sqlite3_stmt *st = stmt_get(db, META_GET, &owned);
    if (!st) return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        found = true;
    }
    stmt_done(st, owned);
    return found;
}

bool db_meta_set_int(sqlite3 *db, const char *key, long long value) {
    bool owned;
    sqlite3_stmt *st = stmt_get(db, META_SET, &owned);
    if (!st) return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    stmt_done(st, owned);
    return ok;
}

bool db_journal(sqlite3 *db, const char *source, const char *kind, const char *ref, const char *detail) {
    bool owned;
    sqlite3_stmt *st = stmt_get(db, JOURNAL_ADD, &owned);
    if (!st) return false;
    sqlite3_bind_double(st, 1, clock_wall_s());
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ref ? ref : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail ? detail : "", -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    stmt_done(st, owned);
    return ok;
}

bool db_meta_get_text(sqlite3 *db, const char *key, char *out, size_t cap) {
    bool owned, found = false;
    sqlite3_stmt *st = stmt_get(db, META_GET, &owned);
    if (!st) return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        found = true;
    }
    stmt_done(st, owned);
    return found;
}

bool db_meta_set_text(sqlite3 *db, const char *key, const char *value) {
    bool owned;
    sqlite3_stmt *st = stmt_get(db, META_SET, &owned);
    if (!st) return false;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    stmt_done(st, owned);
    return ok;
}

bool db_prepare_all(sqlite3 *db, const db_stmt_spec *specs, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (sqlite3_prepare_v3(db, specs[i].sql, -1, SQLITE_PREPARE_PERSISTENT, specs[i].st, NULL) != SQLITE_OK)
            return false;
    return true;
}

/* Why the last write on this thread failed, kept past the rollback that follows it: after a
 * full disk SQLite has rolled back already, and ROLLBACK's own "no transaction is active" would
 * replace the reason in sqlite3_errmsg. */
static _Thread_local char g_failure[256];
static _Thread_local const sqlite3 *g_failure_db;

bool db_step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        const char *sql = sqlite3_sql(st);
        if (!sql || strncmp(sql, "ROLLBACK", 8) != 0) {
            g_failure_db = sqlite3_db_handle(st);
            snprintf(g_failure, sizeof g_failure, "%s", sqlite3_errmsg(sqlite3_db_handle(st)));
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE;
}

const char *db_error(sqlite3 *db) {
    const char *now = sqlite3_errmsg(db);
    if (g_failure_db == db && g_failure[0] && strstr(now, "no transaction is active")) return g_failure;
    return now;
}

bool db_instance_id(sqlite3 *db, char *out, size_t cap) {
    char id[32] = "";
    if (cap <= DB_INSTANCE_ID_LEN || !db_meta_get_text(db, "instance_id", id, sizeof id) ||
        strlen(id) != DB_INSTANCE_ID_LEN || strspn(id, "0123456789abcdef") != DB_INSTANCE_ID_LEN)
        return false;
    snprintf(out, cap, "%s", id);
    return true;
}
