/* A client of the gateway's order port that keeps many requests in flight: a DEALER whose
 * every request carries its key (the client order id) as the envelope a ROUTER sends back
 * with the answer, so answers are matched by key, in whatever order they come. The body is
 * the caller's (JSON as a REQ client sends it, or net/gw_pack.h's msgpack). A request is two
 * frames, [key][body], with no empty delimiter between them (net/router.h takes the last frame
 * as the body): over CURVE each frame is sealed on its own, and the empty one cost as much.
 *
 * Not here: what the requests mean, timeouts and retries (the caller's, e.g. the executor
 * core's orders in flight). */
#ifndef AFTM_ORDER_LINK_H
#define AFTM_ORDER_LINK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct order_link order_link;

/* Connected to endpoint, to a server of server_role (net/curve.h: CURVE with its key unless
 * plain text). NULL with err. */
order_link *olink_new(void *zctx, const char *endpoint, int server_role, char *err, size_t errlen);
void olink_free(order_link *l);

/* Queues the request body (len bytes) under key without waiting. false with err when it
 * cannot be queued (the queue to the server is full). */
bool olink_send(order_link *l, const char *key, const void *body, size_t len, char *err, size_t errlen);

/* One answer without waiting: its key into key (cap bytes) and body into body (cap bytes,
 * not NUL-terminated). Returns the body's length, or -1 when nothing is waiting. An answer
 * without a usable key, or larger than body_cap, is skipped (logged) and the next is read. */
int olink_recv(order_link *l, char *key, size_t key_cap, char *body, size_t body_cap);

/* The socket, for the caller's zmq_poll. */
void *olink_socket(const order_link *l);

#endif
