/* The executor's acknowledgement of a signal, published on its ack port (PUB, topic "ACK") for
 * the strategy: the signal is stored, as an order row or as a refusal. The strategy keeps each
 * signal until this arrives (or until it sees the row in a shared database) and sends it again
 * under the same id meanwhile, so delivery holds when the two run on different hosts with
 * databases of their own. The client order id tells the strategy which instance id the
 * executor's orders carry, so it can follow their reports. One msgpack map per message
 * (signal_id, client_order_id, refused, reason); the same fields as a JSON object are read too. */
#ifndef AFTM_SIGNAL_ACK_H
#define AFTM_SIGNAL_ACK_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/broker.h"

#define SIGNAL_ACK_TOPIC "ACK"
#define SIGNAL_ACK_REASON_MAX 256
#define SIGNAL_ACK_MAX 512 /* bytes of an encoded acknowledgement, at most */

typedef struct {
    char signal_id[BROKER_ID_MAX];
    char client_order_id[BROKER_ID_MAX];
    bool refused;                        /* stored as a refusal: no order left for it */
    char reason[SIGNAL_ACK_REASON_MAX]; /* the refusal's reason */
} signal_ack;

/* The message body into buf (cap bytes, SIGNAL_ACK_MAX is enough): its length, 0 when it does
 * not fit. Nothing is allocated. */
size_t signal_ack_encode(const signal_ack *a, char *buf, size_t cap);
/* false (with why) for anything but one well-formed acknowledgement (a msgpack map, or the same
 * fields as a JSON object). */
bool signal_ack_decode(const char *body, size_t len, signal_ack *out, char *why, size_t whylen);

#endif
