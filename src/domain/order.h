/* One order's life: new -> sent -> accepted -> partially_filled -> filled, or rejected /
 * cancelled / expired. Broker reports arrive late, twice or out of order; every apply function
 * says what it did with the report instead of trusting it. Pure domain code: no I/O. */
#ifndef AFTM_ORDER_H
#define AFTM_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/condition.h"

#define ORDER_ID_MAX 64
#define ORDER_ACCOUNT_MAX 32
#define ORDER_SYMBOL_MAX 32
#define ORDER_REASON_MAX 128
/* Sane bounds for numbers that come from a broker: anything outside is refused before it can
 * reach a sum (fill notional, position cost, P&L times the contract multiplier) that would
 * overflow. Prices are in points; TAIFEX prices are five digits. */
#define ORDER_PRICE_MAX 100000000LL
#define ORDER_QTY_MAX 100000LL

typedef enum {
    ORDER_NEW = 0,
    ORDER_SENT = 1,
    ORDER_ACCEPTED = 2,
    ORDER_PARTIALLY_FILLED = 3,
    ORDER_FILLED = 4,
    ORDER_REJECTED = 5,
    ORDER_CANCELLED = 6,
    ORDER_EXPIRED = 7,
} order_status;

#define ORDER_STATUS_COUNT 8

/* What an apply function did. Only ORDER_APPLIED changed the order. */
typedef enum {
    ORDER_APPLIED = 0,
    ORDER_IGNORED_DUPLICATE = 1, /* the order is already in that state */
    ORDER_IGNORED_BACKWARD = 2,  /* the order is already past that state (e.g. accepted after a fill) */
    ORDER_REJECTED_OVERFILL = 3, /* the fill would take filled_qty (or the broker's cumulative) past qty */
    ORDER_LATE_FILL = 4,         /* a fill after rejected/cancelled/expired: not applied, but the
                                    broker did trade, so it is an error to report and reconcile */
    ORDER_INVALID = 5,           /* malformed report: fill qty or price not positive, cumulative < qty */
} order_outcome;

typedef struct {
    char client_order_id[ORDER_ID_MAX];
    char signal_id[ORDER_ID_MAX];
    int64_t condition_id; /* 0 when the order does not come from a condition */
    char account[ORDER_ACCOUNT_MAX];
    char symbol[ORDER_SYMBOL_MAX];
    side_t side;
    int64_t qty;
    int64_t filled_qty;     /* sum of the applied fills */
    int64_t fill_notional;  /* sum of price * qty of the applied fills; average = this / filled_qty */
    int64_t broker_cum_qty; /* highest cumulative filled qty the broker reported, -1 if never */
    order_status status;
    char reason[ORDER_REASON_MAX]; /* the broker's reason for a reject, else empty */
    price_t limit_price; /* a limit order's price in points; 0: a market order */
    bool rests;          /* a limit order that rests until filled or cancelled (ROD); else IOC */
} order;

/* A NEW order. False (order untouched) when qty <= 0, an id is empty, or a string does not fit. */
bool order_init(order *o, const char *client_order_id, const char *signal_id,
                int64_t condition_id, const char *account, const char *symbol, side_t side,
                int64_t qty);

/* NEW -> SENT: the order has gone out to the broker. */
order_outcome order_mark_sent(order *o);

/* NEW/SENT -> ACCEPTED. Backward once filled or terminal. */
order_outcome order_apply_accepted(order *o);

/* NEW/SENT/ACCEPTED -> REJECTED with the broker's reason (NULL = none). Backward once any fill
 * was applied: a partly filled order can only be cancelled or expire. */
order_outcome order_apply_rejected(order *o, const char *reason);

/* Any open state -> CANCELLED / EXPIRED; applied fills stay (an IOC remainder, say). */
order_outcome order_apply_cancelled(order *o);
order_outcome order_apply_expired(order *o);

/* A fill of fill_qty at price. broker_cum_qty is the broker's cumulative filled qty after this
 * fill, or -1 when the broker does not say. Applied from NEW/SENT/ACCEPTED/PARTIALLY_FILLED (a
 * fill before the accept implies it) and moves to PARTIALLY_FILLED or FILLED. Duplicates are
 * not detected here: check the fill id with a fillset first (see order_fill_key when the broker
 * gives no id). */
order_outcome order_apply_fill(order *o, int64_t fill_qty, price_t price, int64_t broker_cum_qty);

/* A dedupe key for a fill without a broker fill id: the broker's cumulative qty only grows, so
 * "<client_order_id>#<cum>" names each fill of an order once. False when it does not fit. */
bool order_fill_key(const order *o, int64_t broker_cum_qty, char *out, size_t outlen);

/* Average fill price in points, 0 when nothing is filled. */
double order_avg_fill_price(const order *o);

/* Quantity still to fill: 0 once terminal. */
int64_t order_remaining(const order *o);

bool order_is_terminal(order_status s); /* filled, rejected, cancelled, expired */
bool order_is_open(order_status s);     /* not terminal: new, sent, accepted, partially_filled */

/* "new", "sent", "accepted", "partially_filled", "filled", "rejected", "cancelled", "expired". */
const char *order_status_name(order_status s);
/* Exact lower-case name; false when unknown. */
bool order_status_parse(const char *name, order_status *out);

/* "applied", "duplicate", "backward", "overfill", "late_fill", "invalid". */
const char *order_outcome_name(order_outcome r);

#endif
