/* The order port's rule on top of the handshake: orders (send_order, cancel_order) only from
 * the executor's and the CLI's keys, and send_order only for an account of the broker
 * session. Every refusal is logged with the peer's public key. A peer in plain text (the
 * original's executor against a gateway started with --insecure, on loopback) is held to the
 * accounts rule too. Reading requests only: what they do is the gateway's business. */
#ifndef AFTM_ORDER_GUARD_H
#define AFTM_ORDER_GUARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "broker/broker.h"

/* NULL when the request may go on to the gateway; else the refusal reply (malloc'd JSON in
 * the gateway's reply shape, its length in *reply_len). user_id: router_peer_user(). */
char *order_guard_check(broker *b, const char *user_id, const char *req, size_t req_len, size_t *reply_len);
/* The same for a request already parsed (NULL: not JSON), so that the gateway reads each
 * request once. */
char *order_guard_check_parsed(broker *b, const char *user_id, const json_t *root, size_t *reply_len);

/* The rule itself, for a request in any encoding: op and the order's account (either may be
 * NULL). false with the refusal's code and message (logged). */
bool order_guard_allows(broker *b, const char *user_id, const char *op, const char *account, char *code,
                        size_t code_cap, char *msg, size_t msg_cap);

#endif
