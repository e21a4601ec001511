/* The checkpointer (see checkpointer.h): a wal hook on the writer's connection counts the WAL's
 * pages after each commit and wakes a thread that checkpoints on a connection of its own. */
#include "store/checkpointer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "store/db.h"

#define IDLE_CHECK_MS 1000 /* a checkpoint at least this often while commits come */

struct db_checkpointer {
    sqlite3 *writer; /* the caller's connection */
    sqlite3 *own;    /* the thread's */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, due;
    bool failing; /* the last checkpoint failed (said once, until one succeeds) */
    uint64_t commits, checked; /* the writer's commits, and how many the last checkpoint saw */
    uint64_t runs;
};

/* After each commit of the writer, on its thread: the WAL's size; never fails the commit. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages) {
    (void)db, (void)name;
    db_checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    c->commits++;
    if (pages >= CHECKPOINT_PAGES && !c->due) {
        c->due = true;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
    return SQLITE_OK;
}

static void checkpoint(db_checkpointer *c) {
    int wal = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->own, NULL, SQLITE_CHECKPOINT_PASSIVE, &wal, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && !c->failing)
        log_warn("checkpoint of %s failed: %s (the WAL keeps the changes; tried again)", sqlite3_db_filename(c->own, "main"),
                 sqlite3_errmsg(c->own));
    c->failing = rc != SQLITE_OK && rc != SQLITE_BUSY;
    pthread_mutex_lock(&c->lock);
    c->runs++;
    pthread_mutex_unlock(&c->lock);
}

static void *run(void *arg) {
    db_checkpointer *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        if (!c->due) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += IDLE_CHECK_MS / 1000;
            /* idle: a checkpoint only if something was committed since the last one */
            if (pthread_cond_timedwait(&c->wake, &c->lock, &until) == ETIMEDOUT && c->commits != c->checked)
                c->due = true;
            continue;
        }
        c->due = false;
        c->checked = c->commits;
        pthread_mutex_unlock(&c->lock);
        checkpoint(c);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

db_checkpointer *db_checkpointer_start(sqlite3 *db, char *err, size_t errlen) {
    const char *path = sqlite3_db_filename(db, "main");
    if (!path || !*path) {
        snprintf(err, errlen, "the database has no file to checkpoint");
        return NULL;
    }
    db_checkpointer *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->writer = db;
    if (sqlite3_open_v2(path, &c->own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s for checkpoints: %s", path, c->own ? sqlite3_errmsg(c->own) : "out of memory");
        sqlite3_close(c->own);
        free(c);
        return NULL;
    }
    sqlite3_busy_handler(c->own, db_busy_wait, NULL);
    sqlite3_wal_autocheckpoint(c->own, 0);
    /* a connection finds the WAL at its first read; until then it has nothing to checkpoint */
    if (sqlite3_exec(c->own, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read %s for checkpoints: %s", path, sqlite3_errmsg(c->own));
        sqlite3_close(c->own);
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        snprintf(err, errlen, "cannot start the checkpoint thread");
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->wake);
        sqlite3_close(c->own);
        free(c);
        return NULL;
    }
    sqlite3_wal_hook(db, on_commit, c); /* replaces the automatic checkpoints */
    return c;
}

void db_checkpointer_stop(db_checkpointer *c) {
    if (!c) return;
    sqlite3_wal_hook(c->writer, NULL, NULL);
    sqlite3_wal_autocheckpoint(c->writer, CHECKPOINT_PAGES);
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    checkpoint(c);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    sqlite3_close(c->own);
    free(c);
}

uint64_t db_checkpointer_runs(db_checkpointer *c) {
    pthread_mutex_lock(&c->lock);
    uint64_t n = c->runs;
    pthread_mutex_unlock(&c->lock);
    return n;
}
