/* Shared fixtures of the unit tests: a temporary data directory (removed with everything in it),
 * the aftm database opened in it, a capture of what a broker or a core publishes (reports,
 * ticks, connection states), and a PUB joined to a SUB over inproc. Header-only, so each test binary stays one file plus libaftm.
 * Include it after <cmocka.h>. */
#ifndef AFTM_TESTKIT_H
#define AFTM_TESTKIT_H

#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdbool.h>
#include <zmq.h>

#include "broker/broker.h"
#include "store/db.h"

/* ---- a temporary home ------------------------------------------------------------------- */

typedef struct {
    char path[64];
} tk_home;

/* Makes /tmp/aftm-<tag>-XXXXXX; fails the test when it cannot. */
static inline void tk_home_make(tk_home *h, const char *tag) {
    snprintf(h->path, sizeof h->path, "/tmp/aftm-%s-XXXXXX", tag);
    if (!mkdtemp(h->path)) fail_msg("mkdtemp %s failed", h->path);
}

/* Removes a path and, for a folder, everything under it; false on the first failure. */
static inline bool tk_remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return false;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return false;
        struct dirent *e;
        bool ok = true;
        while (ok && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[1024];
            int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            ok = n > 0 && (size_t)n < sizeof child && tk_remove_tree(child);
        }
        closedir(d);
        return ok && rmdir(path) == 0;
    }
    return unlink(path) == 0;
}

/* Removes the home and everything under it. */
static inline void tk_home_remove(tk_home *h) {
    if (!h->path[0]) return;
    assert_true(tk_remove_tree(h->path));
    h->path[0] = '\0';
}

/* Opens <home>/aftm.db; fails the test with SQLite's reason when it cannot. */
static inline sqlite3 *tk_db_open(const tk_home *h) {
    char err[256] = "";
    sqlite3 *db = db_open(h->path, err, sizeof err);
    if (!db) fail_msg("db_open(%s): %s", h->path, err);
    return db;
}

/* ---- what a broker or a core publishes ---------------------------------------------------- */

#define TK_MAX_EVENTS 256

typedef struct {
    broker_report reports[TK_MAX_EVENTS];
    size_t nreports;
    broker_tick ticks[TK_MAX_EVENTS];
    size_t nticks; /* every tick is counted; the first TK_MAX_EVENTS are kept */
    int connected;
    char connection_message[256];
} tk_events;

static inline void tk_on_report(void *ctx, const broker_report *r) {
    tk_events *e = ctx;
    assert_true(e->nreports < TK_MAX_EVENTS);
    e->reports[e->nreports++] = *r;
}

static inline void tk_on_tick(void *ctx, const broker_tick *t) {
    tk_events *e = ctx;
    if (e->nticks < TK_MAX_EVENTS) e->ticks[e->nticks] = *t;
    e->nticks++;
}

static inline void tk_on_connection(void *ctx, broker_conn_state st, const char *msg) {
    tk_events *e = ctx;
    assert_non_null(msg);
    e->connected = st == BROKER_CONNECTED;
    snprintf(e->connection_message, sizeof e->connection_message, "%s", msg);
}

/* Callbacks that record into e. */
static inline broker_callbacks tk_callbacks(tk_events *e) {
    broker_callbacks cb = {.ctx = e, .on_tick = tk_on_tick, .on_report = tk_on_report,
                           .on_connection = tk_on_connection};
    return cb;
}

/* ---- a PUB and a SUB joined over inproc ------------------------------------------------- */

typedef struct {
    void *ctx, *pub, *sub;
} tk_pubsub;

/* The SUB subscribed to each of topics (NULL-terminated), the subscriptions already at the PUB. */
static inline tk_pubsub *tk_pubsub_open(const char *endpoint, const char *const *topics) {
    tk_pubsub *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->ctx = zmq_ctx_new();
    p->pub = zmq_socket(p->ctx, ZMQ_PUB);
    p->sub = zmq_socket(p->ctx, ZMQ_SUB);
    assert_int_equal(zmq_bind(p->pub, endpoint), 0);
    assert_int_equal(zmq_connect(p->sub, endpoint), 0);
    for (; *topics; topics++) zmq_setsockopt(p->sub, ZMQ_SUBSCRIBE, *topics, strlen(*topics));
    usleep(50 * 1000); /* the subscriptions reach the PUB */
    return p;
}

static inline void tk_pubsub_close(tk_pubsub *p) {
    zmq_close(p->sub);
    zmq_close(p->pub);
    zmq_ctx_term(p->ctx);
    free(p);
}

/* Whether a message is waiting on the SUB within ms. */
static inline bool tk_pubsub_wait(tk_pubsub *p, int ms) {
    zmq_pollitem_t it = {p->sub, 0, ZMQ_POLLIN, 0};
    return zmq_poll(&it, 1, ms) == 1;
}

#endif
