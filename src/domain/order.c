#include "domain/order.h"

#include "core/str.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[ORDER_STATUS_COUNT] = {
    "new", "sent", "accepted", "partially_filled", "filled", "rejected", "cancelled", "expired",
};

/* Reasons come from the broker: truncate rather than refuse. */
static void set_reason(order *o, const char *reason) {
    snprintf(o->reason, sizeof o->reason, "%s", reason ? reason : "");
}

bool order_init(order *o, const char *client_order_id, const char *signal_id,
                int64_t condition_id, const char *account, const char *symbol, side_t side,
                int64_t qty) {
    if (qty <= 0 || qty > ORDER_QTY_MAX || (side != SIDE_BUY && side != SIDE_SELL)) return false;
    if (!client_order_id || !client_order_id[0] || !symbol || !symbol[0]) return false;
    order t;
    memset(&t, 0, sizeof t);
    if (!str_copy(t.client_order_id, sizeof t.client_order_id, client_order_id) ||
        !str_copy(t.signal_id, sizeof t.signal_id, signal_id) ||
        !str_copy(t.account, sizeof t.account, account) ||
        !str_copy(t.symbol, sizeof t.symbol, symbol))
        return false;
    t.condition_id = condition_id;
    t.side = side;
    t.qty = qty;
    t.broker_cum_qty = -1;
    t.status = ORDER_NEW;
    *o = t;
    return true;
}

order_outcome order_mark_sent(order *o) {
    if (o->status == ORDER_NEW) {
        o->status = ORDER_SENT;
        return ORDER_APPLIED;
    }
    return o->status == ORDER_SENT ? ORDER_IGNORED_DUPLICATE : ORDER_IGNORED_BACKWARD;
}

order_outcome order_apply_accepted(order *o) {
    switch (o->status) {
    case ORDER_NEW:
    case ORDER_SENT:
        o->status = ORDER_ACCEPTED;
        return ORDER_APPLIED;
    case ORDER_ACCEPTED:
        return ORDER_IGNORED_DUPLICATE;
    default:
        return ORDER_IGNORED_BACKWARD;
    }
}

order_outcome order_apply_rejected(order *o, const char *reason) {
    switch (o->status) {
    case ORDER_NEW:
    case ORDER_SENT:
    case ORDER_ACCEPTED:
        o->status = ORDER_REJECTED;
        set_reason(o, reason);
        return ORDER_APPLIED;
    case ORDER_REJECTED:
        return ORDER_IGNORED_DUPLICATE;
    default:
        return ORDER_IGNORED_BACKWARD;
    }
}

/* Cancelled and expired share their rules: any open state ends there. */
static order_outcome apply_end(order *o, order_status to) {
    if (o->status == to) return ORDER_IGNORED_DUPLICATE;
    if (order_is_terminal(o->status)) return ORDER_IGNORED_BACKWARD;
    o->status = to;
    return ORDER_APPLIED;
}

order_outcome order_apply_cancelled(order *o) { return apply_end(o, ORDER_CANCELLED); }

order_outcome order_apply_expired(order *o) { return apply_end(o, ORDER_EXPIRED); }

order_outcome order_apply_fill(order *o, int64_t fill_qty, price_t price, int64_t broker_cum_qty) {
    if (fill_qty <= 0 || price <= 0 || fill_qty > ORDER_QTY_MAX || price > ORDER_PRICE_MAX) return ORDER_INVALID;
    if (broker_cum_qty >= 0 && broker_cum_qty < fill_qty) return ORDER_INVALID;
    if (o->status == ORDER_REJECTED || o->status == ORDER_CANCELLED || o->status == ORDER_EXPIRED)
        return ORDER_LATE_FILL;
    /* Covers FILLED too: any further quantity is beyond qty. */
    if (fill_qty > o->qty - o->filled_qty || broker_cum_qty > o->qty) return ORDER_REJECTED_OVERFILL;
    /* An absurd price must not wrap the notional. */
    if (price > (INT64_MAX - o->fill_notional) / fill_qty) return ORDER_INVALID;
    o->filled_qty += fill_qty;
    o->fill_notional += price * fill_qty;
    if (broker_cum_qty > o->broker_cum_qty) o->broker_cum_qty = broker_cum_qty;
    o->status = o->filled_qty == o->qty ? ORDER_FILLED : ORDER_PARTIALLY_FILLED;
    return ORDER_APPLIED;
}

bool order_fill_key(const order *o, int64_t broker_cum_qty, char *out, size_t outlen) {
    if (broker_cum_qty < 0 || outlen == 0) return false;
    int n = snprintf(out, outlen, "%s#%lld", o->client_order_id, (long long)broker_cum_qty);
    return n > 0 && (size_t)n < outlen;
}

double order_avg_fill_price(const order *o) {
    return o->filled_qty > 0 ? (double)o->fill_notional / (double)o->filled_qty : 0.0;
}

int64_t order_remaining(const order *o) {
    return order_is_terminal(o->status) ? 0 : o->qty - o->filled_qty;
}

bool order_is_terminal(order_status s) {
    return s == ORDER_FILLED || s == ORDER_REJECTED || s == ORDER_CANCELLED || s == ORDER_EXPIRED;
}

bool order_is_open(order_status s) {
    return s == ORDER_NEW || s == ORDER_SENT || s == ORDER_ACCEPTED || s == ORDER_PARTIALLY_FILLED;
}

const char *order_status_name(order_status s) {
    if ((int)s < 0 || (int)s >= ORDER_STATUS_COUNT) return "unknown";
    return status_names[s];
}

bool order_status_parse(const char *name, order_status *out) {
    if (!name) return false;
    for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (order_status)i;
            return true;
        }
    }
    return false;
}

const char *order_outcome_name(order_outcome r) {
    switch (r) {
    case ORDER_APPLIED: return "applied";
    case ORDER_IGNORED_DUPLICATE: return "duplicate";
    case ORDER_IGNORED_BACKWARD: return "backward";
    case ORDER_REJECTED_OVERFILL: return "overfill";
    case ORDER_LATE_FILL: return "late_fill";
    case ORDER_INVALID: return "invalid";
    }
    return "unknown";
}
