#include "domain/condition.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *side_name(side_t s) { return s == SIDE_BUY ? "BUY" : "SELL"; }

/* a + b, held at the int64 ends instead of overflowing: a condition out of range (refused by
 * condition_check_ranges before it is stored) must still never be undefined behaviour */
static price_t sat_add(price_t a, int64_t b) {
    price_t r;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return b > 0 ? INT64_MAX : INT64_MIN;
}

static price_t sat_sub(price_t a, int64_t b) {
    price_t r;
    if (!__builtin_sub_overflow(a, b, &r)) return r;
    return b > 0 ? INT64_MIN : INT64_MAX;
}

void condition_derive(condition *c) {
    if (c->side == SIDE_BUY) {
        c->order_price = sat_add(c->trigger_price, c->turning_point);
        c->take_profit_price = sat_add(c->order_price, c->take_profit_point);
        c->stop_loss_price = sat_sub(c->order_price, c->stop_loss_point);
    } else {
        c->order_price = sat_sub(c->trigger_price, c->turning_point);
        c->take_profit_price = sat_sub(c->order_price, c->take_profit_point);
        c->stop_loss_price = sat_add(c->order_price, c->stop_loss_point);
    }
}

bool condition_check_ranges(const condition *c, char *why, size_t whylen) {
    const struct {
        const char *name;
        int64_t v, lo, hi;
    } f[] = {
        {"trigger_price", c->trigger_price, 1, CONDITION_PRICE_MAX},
        {"turning_point", c->turning_point, -CONDITION_POINTS_MAX, CONDITION_POINTS_MAX},
        {"take_profit_point", c->take_profit_point, 0, CONDITION_POINTS_MAX},
        {"stop_loss_point", c->stop_loss_point, 0, CONDITION_POINTS_MAX},
        {"quantity", c->quantity, 1, CONDITION_QTY_MAX},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v < f[i].lo || f[i].v > f[i].hi) {
            snprintf(why, whylen, "%s %lld is out of range %lld..%lld", f[i].name, (long long)f[i].v,
                     (long long)f[i].lo, (long long)f[i].hi);
            return false;
        }
    return true;
}

void condition_init(condition *c, int64_t id, const char *symbol, side_t side, price_t trigger,
                    int64_t turning, int64_t qty, int64_t tp_pts, int64_t sl_pts, bool following) {
    memset(c, 0, sizeof *c);
    c->id = id;
    snprintf(c->symbol, sizeof c->symbol, "%s", symbol ? symbol : "");
    c->side = side;
    c->trigger_price = trigger;
    c->base_trigger = trigger;
    c->turning_point = turning;
    c->quantity = qty;
    c->take_profit_point = tp_pts;
    c->stop_loss_point = sl_pts;
    c->is_following = following;
    condition_derive(c);
}

void condition_rearm(condition *c) {
    condition again;
    condition_init(&again, c->id, c->symbol, c->side, c->base_trigger, c->turning_point, c->quantity,
                   c->take_profit_point, c->stop_loss_point, c->is_following);
    again.repeat = c->repeat;
    again.round = c->round + 1;
    *c = again;
}

/* Trailing moves the trigger to new lows (BUY) or highs (SELL) until the order fires.
 * The original uses |turning_point| here but the signed value at construction; kept as is. */
static bool trail(condition *c, price_t price) {
    int64_t k = c->turning_point < 0 ? -c->turning_point : c->turning_point;
    if (k == 0) return false; /* trailing disabled */
    bool beyond = c->side == SIDE_BUY ? price <= c->trigger_price : price >= c->trigger_price;
    if (!beyond) return false;
    price_t before[4] = {c->trigger_price, c->order_price, c->take_profit_price, c->stop_loss_price};
    c->trigger_price = price;
    if (c->side == SIDE_BUY) {
        c->order_price = price + k;
        c->take_profit_price = c->order_price + c->take_profit_point;
        c->stop_loss_price = c->order_price - c->stop_loss_point;
    } else {
        c->order_price = price - k;
        c->take_profit_price = c->order_price - c->take_profit_point;
        c->stop_loss_price = c->order_price + c->stop_loss_point;
    }
    return before[0] != c->trigger_price || before[1] != c->order_price ||
           before[2] != c->take_profit_price || before[3] != c->stop_loss_price;
}

unsigned condition_on_price(condition *c, price_t price, bool assume_fills) {
    unsigned ev = 0;
    bool buy = c->side == SIDE_BUY;
    if (c->is_exited) return 0;
    if (!c->is_trigger) {
        if (buy ? price <= c->trigger_price : price >= c->trigger_price) {
            c->is_trigger = true;
            ev |= COND_TRIGGERED;
        }
    } else if (!c->is_ordered) {
        if (buy ? price >= c->order_price : price <= c->order_price) {
            c->is_ordered = true;
            c->entry = assume_fills ? ENTRY_FILLED : ENTRY_PENDING;
            if (assume_fills) c->filled_qty = c->quantity;
            ev |= COND_ENTRY;
        }
    } else if (c->entry == ENTRY_FILLED) {
        bool tp = buy ? price >= c->take_profit_price : price <= c->take_profit_price;
        bool sl = buy ? price <= c->stop_loss_price : price >= c->stop_loss_price;
        if (tp || sl) {
            c->is_exited = true;
            ev |= tp ? COND_EXIT_TP : COND_EXIT_SL;
        }
    }
    if (c->is_following && !c->is_ordered && !c->is_exited && trail(c, price)) ev |= COND_TRAILED;
    return ev;
}

void condition_entry_filled(condition *c, int64_t filled_qty) {
    if (!c->is_ordered || c->is_exited || c->entry == ENTRY_REJECTED) return;
    c->entry = ENTRY_FILLED;
    c->filled_qty = filled_qty;
}

void condition_entry_rejected(condition *c) {
    if (!c->is_ordered || c->is_exited || c->entry == ENTRY_FILLED) return;
    c->entry = ENTRY_REJECTED;
}

void condition_idle_band(const condition *c, price_t *lo, price_t *hi) {
    const price_t NEVER_LO = INT64_MIN, NEVER_HI = INT64_MAX;
    bool buy = c->side == SIDE_BUY;
    *lo = NEVER_LO;
    *hi = NEVER_HI;
    if (c->is_exited) return;
    if (!c->is_trigger) {
        if (buy) *lo = c->trigger_price;
        else *hi = c->trigger_price;
        /* the trailing check uses the same threshold as the trigger */
    } else if (!c->is_ordered) {
        if (buy) {
            *hi = c->order_price;
            if (c->is_following) *lo = c->trigger_price;
        } else {
            *lo = c->order_price;
            if (c->is_following) *hi = c->trigger_price;
        }
    } else if (c->entry == ENTRY_FILLED) {
        if (buy) {
            *hi = c->take_profit_price;
            *lo = c->stop_loss_price;
        } else {
            *lo = c->take_profit_price;
            *hi = c->stop_loss_price;
        }
    }
}
