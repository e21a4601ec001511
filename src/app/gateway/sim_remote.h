/* The broker adapter for the simulated exchange as a process of its own (aftm exchange):
 * `aftm gateway --broker sim`.
 *
 * Requests go over a DEALER (exchange.h): orders as msgpack send_order maps (broker_pack.h),
 * answered in msgpack, everything else JSON; a reply is told by its first byte. Ticks and
 * execution reports (msgpack maps) come from the exchange's market PUB over a SUB; both sockets
 * are given to the caller's loop through poll_sockets, and service() handles what arrived plus
 * the heartbeat and the reconnection.
 *
 * The link: a heartbeat every heartbeat_ms; a request or heartbeat without an answer within
 * timeout_ms means the exchange is gone ("broker connection lost": is_connected false,
 * on_connection DISCONNECTED, requests fail at once with a clear error) until it answers a new
 * login (sent again every retry_ms with the stored credentials; on_connection CONNECTED).
 * Reports keep the exchange's seq; a gap (a report lost on the way, or reports made while the
 * link was down) is filled from the exchange's report log before the next report is delivered.
 *
 * An order sent just before the link failed has an unknown outcome (broker_send_result.unknown):
 * it may or may not be in the exchange's book; its client order id settles it once the link is
 * back (order_status, or sending it again: the exchange answers duplicates with the first order). */
#ifndef AFTM_SIM_REMOTE_H
#define AFTM_SIM_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/broker.h"

typedef struct {
    const char *endpoint;        /* the exchange's requests (ROUTER) */
    const char *market_endpoint; /* its PUB of ticks and reports */
    int timeout_ms;              /* per request (default 1000) */
    int connect_wait_ms;         /* login: how long to wait for the exchange to answer (default 10000) */
    int heartbeat_ms;            /* default 500 */
    int retry_ms;                /* login again while the link is down (default 500) */
    void *zctx;                  /* the caller's ZeroMQ context (NULL: one of its own) */
} sim_remote_config;

/* false with err when the sockets cannot be made or the endpoints are unusable. */
bool sim_remote_new(const sim_remote_config *cfg, broker *out, char *err, size_t errlen);

/* true once the exchange has answered anything (a failed login was then a refusal, not
 * silence). false for another kind of broker. */
bool sim_remote_reached(const broker *b);

#endif
