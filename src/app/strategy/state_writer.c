#include "app/strategy/state_writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "store/condition_store.h"
#include "store/db.h"

struct state_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    state_change *queue; /* handed over by the tick loop */
    size_t n, cap;
    uint64_t seq;
    sqlite3 *db;
    condition_store *cs;
};

/* One batch in one transaction; on failure the batch is retried, never dropped. */
static void write_batch(state_writer *w, const state_change *b, size_t n, uint64_t seq) {
    for (int attempt = 0;; attempt++) {
        bool ok = cstore_begin(w->cs);
        for (size_t i = 0; ok && i < n; i++)
            if (!cstore_save_state(w->cs, &b[i].c, b[i].has_note ? b[i].note : NULL)) {
                log_error("cannot save condition %lld: %s", (long long)b[i].c.id, sqlite3_errmsg(w->db));
                ok = false;
            }
        ok = ok && db_meta_set_int(w->db, "strategy_seq", (long long)seq) && cstore_commit(w->cs);
        if (ok) return;
        db_exec(w->db, "ROLLBACK", NULL, 0);
        if (attempt % 20 == 0)
            log_warn("condition states not written yet (%s); retrying", sqlite3_errmsg(w->db));
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL); /* the writer thread only: the tick loop is not waiting */
        pthread_mutex_lock(&w->lock);
        bool stopping = w->stop;
        pthread_mutex_unlock(&w->lock);
        if (stopping && attempt > 100) {
            log_error("giving up on %zu condition update(s) at shutdown", n);
            return;
        }
    }
}

static void *run(void *arg) {
    state_writer *w = arg;
    state_change *batch = NULL;
    size_t cap = 0;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->stop && w->n == 0) pthread_cond_wait(&w->wake, &w->lock);
        if (w->n == 0 && w->stop) {
            pthread_mutex_unlock(&w->lock);
            break;
        }
        /* swap buffers: the tick loop keeps appending to an empty queue meanwhile */
        state_change *q = w->queue;
        size_t n = w->n, qcap = w->cap;
        uint64_t seq = w->seq;
        w->queue = batch;
        w->cap = cap;
        w->n = 0;
        pthread_mutex_unlock(&w->lock);
        write_batch(w, q, n, seq);
        batch = q;
        cap = qcap;
    }
    free(batch);
    return NULL;
}

state_writer *state_writer_start(const char *home, char *err, size_t errlen) {
    state_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(w->db = db_open(home, err, errlen)) || !(w->cs = cstore_open(w->db))) {
        if (w->db && !w->cs) snprintf(err, errlen, "cannot prepare the condition store");
        db_close(w->db);
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        cstore_close(w->cs);
        db_close(w->db);
        free(w);
        return NULL;
    }
    return w;
}

bool state_writer_submit(state_writer *w, const state_change *changes, size_t n, uint64_t seq) {
    pthread_mutex_lock(&w->lock);
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->n + n) cap *= 2;
        state_change *q = realloc(w->queue, cap * sizeof *q);
        if (!q) {
            pthread_mutex_unlock(&w->lock);
            return false;
        }
        w->queue = q;
        w->cap = cap;
    }
    memcpy(w->queue + w->n, changes, n * sizeof *changes);
    w->n += n;
    w->seq = seq;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return true;
}

void state_writer_stop(state_writer *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    free(w->queue);
    cstore_close(w->cs);
    db_close(w->db);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}
