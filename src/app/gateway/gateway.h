/* The gateway's logic without its sockets: the order port's JSON protocol (the original's
 * request/reply shapes plus aftm's optional extensions), execution reports with sequence
 * numbers (kept for get_reports), and the broker's events turned into publications.
 * cmd_gateway wires it to ZeroMQ; tests drive it directly. */
#ifndef AFTM_GATEWAY_H
#define AFTM_GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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
    /* One execution report as JSON text (the REPORT frame's body). */
    void (*publish_report)(void *ctx, const char *json, size_t len);
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

uint64_t gateway_core_last_seq(const gateway_core *g); /* 0 before the first report */
uint64_t gateway_core_orders(const gateway_core *g);   /* send_order requests that reached the broker */

/* JSON text the way Python's json.dumps writes it by default (", " and ": ", non-ASCII
 * escaped, keys in insertion order). Caller frees. */
char *gateway_json_dumps(const json_t *value);

#endif
