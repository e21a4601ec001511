/* The gateway's logic without its sockets: the order port's JSON protocol (the original's
 * request/reply shapes plus aftm's optional extensions) and its msgpack send_order (aftm's
 * executor), execution reports with sequence numbers (published in msgpack, kept for
 * get_reports), and the broker's events turned into publications.
 * cmd_gateway wires it to ZeroMQ; tests drive it directly. */
#ifndef AFTM_GATEWAY_H
#define AFTM_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

#include "broker/broker.h"

#define GATEWAY_KEEP_REPORTS 8192   /* reports kept in memory for get_reports (brokers without a
                                     * report log of their own) */
#define GATEWAY_MAX_REPORTS_REPLY 1000 /* reports per get_reports reply ("more": true after) */
#define GATEWAY_MAX_REQUEST (1 << 20) /* bytes; a larger request is answered with an error, unread */
#define GATEWAY_MAX_FRAME (16 << 20)  /* bytes; a peer announcing a larger frame is disconnected (libzmq
                                       * would allocate whatever size garbage on the port announces) */

/* Where the broker's events go. Either callback may be NULL. */
typedef struct {
    void *ctx;
    void (*publish_tick)(void *ctx, const broker_tick *t);
    /* One execution report as a msgpack map (net/gw_pack.h; the REPORT frame's body). */
    void (*publish_report)(void *ctx, const char *body, size_t len);
    /* The answer to a request handled earlier whose answer was deferred (token from
     * gateway_core_deferred); json NULL: it goes unanswered (outcome unknown). When NULL,
     * every answer is given at once. */
    void (*reply)(void *ctx, uint64_t token, const char *json, size_t len);
} gateway_sinks;

typedef struct gateway_core gateway_core;

/* Takes over b's callbacks (b stays the caller's). keep: reports kept (0 = default). */
gateway_core *gateway_core_new(broker *b, const gateway_sinks *sinks, size_t keep);
void gateway_core_free(gateway_core *g);

/* Handles one request (any bytes) and returns the reply JSON, NUL-terminated, malloc'd;
 * *len gets its length. NULL (and *len 0) when the request must go unanswered: an order whose
 * outcome is unknown because the link to the broker failed after it left (the client reads
 * the silence as "unknown" and settles it by client order id); else never NULL unless out of
 * memory. */
char *gateway_core_handle(gateway_core *g, const char *req, size_t req_len, size_t *len);
/* The same for a request already read (gateway_parse_request): root is what it gave, NULL for
 * bytes that were not JSON, req_len the request's size. */
char *gateway_core_handle_parsed(gateway_core *g, const json_t *root, size_t req_len, size_t *len);
/* A send_order request in msgpack (net/gw_pack.h: aftm's executor), read with mp_read: the
 * same as gateway_core_handle, answered in msgpack (malloc'd bytes, *len; NULL as above). Any
 * other operation is refused: every other request is JSON. */
char *gateway_core_handle_packed(gateway_core *g, const msgpack_object *root, size_t *len);
/* Reads a request of the order port once, for the order guard and the core: NULL when it is
 * over GATEWAY_MAX_REQUEST (not read) or not JSON. The caller decrefs. */
json_t *gateway_parse_request(const char *req, size_t req_len);

/* After gateway_core_handle returned NULL: the token under which the answer will come through
 * sinks.reply (an order handed to a broker that answers later, so the next request is taken
 * without waiting for it), or 0 when the request goes unanswered. */
uint64_t gateway_core_deferred(const gateway_core *g);
/* Orders handed to the broker and not answered yet. */
size_t gateway_core_in_flight(const gateway_core *g);

uint64_t gateway_core_last_seq(const gateway_core *g); /* 0 before the first report */
uint64_t gateway_core_orders(const gateway_core *g);   /* send_order requests that reached the broker */

/* JSON text the way Python's json.dumps writes it by default (", " and ": ", non-ASCII
 * escaped, keys in insertion order). Caller frees. */
char *gateway_json_dumps(const json_t *value);

#endif
