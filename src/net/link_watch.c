/* A subscriber's connection, kept up (see link_watch.h). */
#include "net/link_watch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/log.h"
#include "net/zsock.h"

struct link_watch {
    void *sock, *events;
    char endpoint[256], what[32], monitor[96];
    unsigned drops;
};

link_watch *link_watch_new(void *zctx, void *sock, const char *endpoint, const char *what, char *err, size_t errlen) {
    static unsigned serial;
    link_watch *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->sock = sock;
    snprintf(w->endpoint, sizeof w->endpoint, "%s", endpoint);
    snprintf(w->what, sizeof w->what, "%s", what);
    snprintf(w->monitor, sizeof w->monitor, "inproc://link-watch-%s-%u", what, ++serial);
    if (zmq_socket_monitor(sock, w->monitor, ZMQ_EVENT_DISCONNECTED) != 0 ||
        !(w->events = zmq_socket(zctx, ZMQ_PAIR)) || zmq_connect(w->events, w->monitor) != 0) {
        snprintf(err, errlen, "cannot watch the %s link: %s", what, zmq_strerror(zmq_errno()));
        link_watch_free(w);
        return NULL;
    }
    int zero = 0;
    zmq_setsockopt(w->events, ZMQ_LINGER, &zero, sizeof zero);
    return w;
}

void link_watch_free(link_watch *w) {
    if (!w) return;
    if (w->sock) zmq_socket_monitor(w->sock, NULL, 0);
    if (w->events) zmq_close(w->events);
    free(w);
}

void *link_watch_socket(link_watch *w) { return w->events; }

int link_watch_handle(link_watch *w) {
    int drops = 0;
    for (;;) {
        unsigned char head[6];
        int n = zmq_recv(w->events, head, sizeof head, ZMQ_DONTWAIT);
        if (n < 0) break;
        int more = 0;
        size_t sz = sizeof more;
        zmq_getsockopt(w->events, ZMQ_RCVMORE, &more, &sz);
        while (more) { /* the event's endpoint: ours is known */
            char sink[256];
            if (zmq_recv(w->events, sink, sizeof sink, 0) < 0) break;
            zmq_getsockopt(w->events, ZMQ_RCVMORE, &more, &sz);
        }
        uint16_t event;
        memcpy(&event, head, sizeof event);
        if (n < 2 || event != ZMQ_EVENT_DISCONNECTED) continue;
        drops++;
        w->drops++;
        /* a dropped connection after a protocol error (a message over the size cap is one) is
         * never made again by libzmq; after a plain disconnect this only restarts the retries */
        zmq_disconnect(w->sock, w->endpoint);
        if (zmq_connect(w->sock, w->endpoint) != 0)
            log_error("the %s link to %s dropped and cannot be connected again: %s", w->what, w->endpoint,
                      zmq_strerror(zmq_errno()));
        else
            log_warn("the %s link to %s dropped (the peer went away, or sent a message over the %d KiB size cap, "
                     "which is dropped with it); connecting again (%u drop(s) so far)",
                     w->what, w->endpoint, ZSOCK_MAX_MSG / 1024, w->drops);
    }
    return drops;
}
