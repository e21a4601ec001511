/* Keeps a subscriber's connection up. libzmq drops a connection that brings a message over the
 * socket's size cap (ZSOCK_MAX_MSG) and, as for any protocol error, does not make it again: the
 * subscriber would hear nothing more, for good, with nothing logged. The watch gets the socket's
 * disconnect events (a socket monitor) and connects again, saying so in the log; the oversized
 * message itself is gone with the dropped connection.
 *
 * Call link_watch_handle only once the watched socket's waiting messages have been read: zmq_poll
 * takes the first frame of a waiting message off its connection, and a reconnect before the rest
 * is read leaves libzmq half-way through a message whose connection is gone (it aborts).
 *
 * Not here: the socket's options and its first connect (the process's main).
 */
#ifndef AFTM_LINK_WATCH_H
#define AFTM_LINK_WATCH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct link_watch link_watch;

/* Watches sock, connected to endpoint; what names the link in the log ("tick", "report"). NULL
 * with err when the monitor cannot be set up. */
link_watch *link_watch_new(void *zctx, void *sock, const char *endpoint, const char *what, char *err, size_t errlen);
void link_watch_free(link_watch *w);

/* The socket to poll for ZMQ_POLLIN: an event is waiting. */
void *link_watch_socket(link_watch *w);
/* Reads the waiting events; after a disconnect, connects again. Returns the disconnects seen. */
int link_watch_handle(link_watch *w);

#endif
