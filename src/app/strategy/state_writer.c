#include "app/strategy/state_writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/strategy/state_fold.h"
#include "core/buf.h"
#include "core/log.h"
#include "domain/id_index.h"
#include "store/condition_store.h"
#include "store/db.h"

/* A growable array of fixed-size items. */
typedef struct {
    void *items;
    size_t n, cap;
} buf;

static bool buf_append(buf *b, const void *items, size_t n, size_t size) {
    if (!n) return true;
    if (!buf_grow(&b->items, &b->cap, b->n + n, size)) return false;
    memcpy((char *)b->items + b->n * size, items, n * size);
    b->n += n;
    return true;
}

typedef struct {
    buf changes, sent, acked;
    uint64_t seq;
} queue;

/* How long the writer waits after being handed a batch before it writes. The strategy and the
 * executor share the database, and SQLite has one writer at a time: a batch usually follows
 * signals, and writing it at once made the executor wait for this commit (a few hundred
 * microseconds) before it could store their orders. Waiting first lets the orders go ahead,
 * and what comes meanwhile joins the same transaction. Nothing is lost by the wait: the
 * condition states and the outbox rows of the signals are written together either way, and a
 * signal the executor has stored is known by its id if the condition fires it again. */
#define STATE_WRITE_DELAY_US 2000

struct state_writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    queue q;               /* handed over by the tick loop */
    id_index last;         /* condition id -> the position of its last change in q */
    sqlite3 *db;
    condition_store *cs;
    signal_outbox *ob;
};

static bool queue_empty(const queue *q) { return !q->changes.n && !q->sent.n && !q->acked.n; }

static bool write_all(state_writer *w, const queue *q) {
    const state_change *b = q->changes.items;
    for (size_t i = 0; i < q->changes.n; i++)
        if (!cstore_save_state(w->cs, &b[i].c, b[i].has_note ? b[i].note : NULL)) {
            log_error("cannot save condition %lld: %s", (long long)b[i].c.id, db_error(w->db));
            return false;
        }
    const outbox_row *rows = q->sent.items;
    for (size_t i = 0; i < q->sent.n; i++)
        if (!outbox_put(w->ob, &rows[i])) return false;
    const char(*acked)[OUTBOX_ID_MAX] = q->acked.items;
    for (size_t i = 0; i < q->acked.n; i++)
        if (!outbox_remove(w->ob, acked[i])) return false;
    return db_meta_set_int(w->db, "strategy_seq", (long long)q->seq);
}

/* One batch in one transaction; on failure the batch is retried, never dropped. */
static void write_batch(state_writer *w, const queue *q) {
    for (int attempt = 0;; attempt++) {
        if (cstore_begin(w->cs) && write_all(w, q) && cstore_commit(w->cs)) return;
        db_exec(w->db, "ROLLBACK", NULL, 0);
        if (attempt % 20 == 0)
            log_warn("condition states not written yet (%s); retrying", db_error(w->db));
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL); /* the writer thread only: the tick loop is not waiting */
        pthread_mutex_lock(&w->lock);
        bool stopping = w->stop;
        pthread_mutex_unlock(&w->lock);
        if (stopping && attempt > 100) {
            log_error("giving up on %zu condition update(s) and %zu outbox change(s) at shutdown", q->changes.n,
                      q->sent.n + q->acked.n);
            return;
        }
    }
}

static void *run(void *arg) {
    state_writer *w = arg;
    queue spare;
    memset(&spare, 0, sizeof spare);
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->stop && queue_empty(&w->q)) pthread_cond_wait(&w->wake, &w->lock);
        if (queue_empty(&w->q) && w->stop) {
            pthread_mutex_unlock(&w->lock);
            break;
        }
        if (!w->stop) { /* let the executor store the orders of these signals first */
            pthread_mutex_unlock(&w->lock);
            struct timespec ts = {0, STATE_WRITE_DELAY_US * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&w->lock);
        }
        /* swap buffers: the tick loop keeps appending to an empty queue meanwhile */
        queue q = w->q;
        w->q = spare;
        id_index_clear(&w->last);
        w->q.changes.n = w->q.sent.n = w->q.acked.n = 0;
        w->q.seq = q.seq;
        pthread_mutex_unlock(&w->lock);
        write_batch(w, &q);
        spare = q;
    }
    free(spare.changes.items);
    free(spare.sent.items);
    free(spare.acked.items);
    return NULL;
}

state_writer *state_writer_start(const char *home, char *err, size_t errlen) {
    state_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(w->db = db_open(home, err, errlen)) || !(w->cs = cstore_open(w->db)) || !(w->ob = outbox_open(w->db))) {
        if (w->db) snprintf(err, errlen, "cannot prepare the condition store and the signal outbox");
        cstore_close(w->cs);
        db_close(w->db);
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        outbox_close(w->ob);
        cstore_close(w->cs);
        db_close(w->db);
        free(w);
        return NULL;
    }
    return w;
}

/* Queues one condition change: folded into the condition's last change when the two write the
 * same (state_fold.h), else appended (room for it was made by the caller). */
static void queue_change(state_writer *w, const state_change *c) {
    buf *ch = &w->q.changes;
    state_change *items = ch->items;
    uint32_t last = id_index_get(&w->last, c->c.id);
    if (last != ID_INDEX_NONE && last < ch->n && state_change_folds(&items[last], c)) {
        state_fold_into(&items[last], c);
        return;
    }
    items[ch->n] = *c;
    /* out of memory or past the index's range, the entry is forgotten (a stale one would fold
     * into a change that is not the last): the next change is only not folded */
    if (ch->n >= ID_INDEX_NONE || !id_index_put(&w->last, c->c.id, (uint32_t)ch->n))
        id_index_del(&w->last, c->c.id);
    ch->n++;
}

bool state_writer_submit(state_writer *w, const state_batch *b) {
    pthread_mutex_lock(&w->lock);
    queue *q = &w->q;
    size_t s0 = q->sent.n;
    /* room first, so that nothing is changed unless all of it is taken */
    bool ok = buf_grow(&q->changes.items, &q->changes.cap, q->changes.n + b->n, sizeof *b->changes) &&
              buf_append(&q->sent, b->sent, b->nsent, sizeof *b->sent) &&
              buf_append(&q->acked, b->acked, b->nacked, sizeof *b->acked);
    if (!ok) { /* all or nothing: the caller keeps the batch and hands it over again */
        q->sent.n = s0;
    } else {
        for (size_t i = 0; i < b->n; i++) queue_change(w, &b->changes[i]);
        q->seq = b->seq;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

void state_writer_stop(state_writer *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    free(w->q.changes.items);
    free(w->q.sent.items);
    free(w->q.acked.items);
    id_index_free(&w->last);
    outbox_close(w->ob);
    cstore_close(w->cs);
    db_close(w->db);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w);
}
