/* The exchange's market feed to its gateways (the "TICK:<SYMBOL>" messages of its market PUB):
 * one tick as msgpack, the array [symbol, price, volume, ts_us] with integer price (points),
 * volume and time (POSIX microseconds), so a price arrives exactly as the exchange matched
 * on it. Not the gateway's tick PUB to the strategy (that is the original's TickEvent,
 * wire/codec.h), nor the execution reports (broker/broker_pack.h).
 * Each message of the market PUB is one frame, topic NUL body (net/zsock.h). */
#ifndef AFTM_MARKET_FEED_H
#define AFTM_MARKET_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/broker.h"

#define MARKET_FEED_MAX 96 /* bytes of an encoded tick, at most */

/* Encodes t into buf (cap bytes). Returns the length, or 0 when t is not a valid tick (see
 * market_feed_decode) or buf is too small. */
size_t market_feed_encode(const broker_tick *t, char *buf, size_t cap);

/* Decodes one tick. false with why (e.g. "price is not an integer", "extra bytes after the
 * tick") for anything but exactly one valid tick: a symbol of 1 to BROKER_SYMBOL_MAX-1
 * printable characters without spaces, price > 0, volume >= 0. *out is only written on
 * success. Refuses anything longer than MARKET_FEED_MAX before parsing it. */
bool market_feed_decode(const void *buf, size_t len, broker_tick *out, char *why, size_t whylen);

#endif
