/* A support/resistance condition and its one-stage-per-tick state machine.
 * Pure domain code: no I/O, prices are integer points. */
#ifndef AFTM_CONDITION_H
#define AFTM_CONDITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t price_t;

typedef enum { SIDE_BUY = 0, SIDE_SELL = 1 } side_t;

/* Where the entry order stands. The exit stage only runs once the entry is filled. */
typedef enum {
    ENTRY_NONE = 0,     /* no entry signal sent yet */
    ENTRY_PENDING = 1,  /* entry signal sent, no fill known */
    ENTRY_FILLED = 2,   /* entry filled (seed-compatible mode: at once) */
    ENTRY_REJECTED = 3, /* broker refused or expired it: the condition is parked, no exit */
} entry_state;

#define CONDITION_SYMBOL_MAX 32

typedef struct {
    int64_t id;                          /* store id; unique and stable */
    char symbol[CONDITION_SYMBOL_MAX];   /* only this product's ticks drive it */
    side_t side;
    price_t trigger_price;
    price_t base_trigger; /* trigger as created, before any trailing */
    int64_t turning_point;
    int64_t quantity;
    int64_t take_profit_point;
    int64_t stop_loss_point;
    bool is_following;
    bool repeat;   /* armed again after each exit, under the same id */
    int64_t round; /* how many times it has been armed again (0: the first time) */
    /* derived */
    price_t order_price, take_profit_price, stop_loss_price;
    /* state */
    bool is_trigger, is_ordered, is_exited;
    entry_state entry;
    int64_t filled_qty; /* quantity the exit must close */
} condition;

/* What one tick did to a condition (bit set). */
enum {
    COND_TRIGGERED = 1 << 0,
    COND_ENTRY = 1 << 1,   /* entry signal: side = condition side */
    COND_EXIT_TP = 1 << 2, /* exit signal, opposite side: take profit */
    COND_EXIT_SL = 1 << 3, /* exit signal, opposite side: stop loss */
    COND_TRAILED = 1 << 4, /* trigger/order/TP/SL moved */
};
#define COND_SIGNAL_MASK (COND_ENTRY | COND_EXIT_TP | COND_EXIT_SL)

#define DEFAULT_TURNING_POINT 15
#define DEFAULT_TAKE_PROFIT_POINT 90
#define DEFAULT_STOP_LOSS_POINT 30

/* The ranges a condition's numbers must be in to be stored or traded: prices in points (TAIFEX
 * prices are five digits), turning, take profit and stop loss in points, lots per order. Within
 * them no derived price (order, take profit, stop loss) can overflow. */
#define CONDITION_PRICE_MAX 100000000LL
#define CONDITION_POINTS_MAX 1000000LL
#define CONDITION_QTY_MAX 1000LL

/* True when every number of c is in range (trigger 1..CONDITION_PRICE_MAX, |turning|, take profit
 * and stop loss 0..CONDITION_POINTS_MAX, quantity 1..CONDITION_QTY_MAX); else false with the
 * first offending field and its value in why. */
bool condition_check_ranges(const condition *c, char *why, size_t whylen);

/* Fills the derived prices from trigger_price and the points (the original's construction). */
void condition_derive(condition *c);

/* Sets up a fresh condition with derived prices and cleared state. */
void condition_init(condition *c, int64_t id, const char *symbol, side_t side, price_t trigger,
                    int64_t turning, int64_t qty, int64_t tp_pts, int64_t sl_pts, bool following);

/* A repeating condition after its exit: the same id, settings and repeat flag, the trigger back
 * at its base, every state cleared, round + 1. */
void condition_rearm(condition *c);

/* Evaluates exactly one stage for this price, then trailing; returns COND_* bits.
 * With assume_fills the entry counts as filled as soon as it is signalled. */
unsigned condition_on_price(condition *c, price_t price, bool assume_fills);

/* The entry order's outcome, learned from the executor. */
void condition_entry_filled(condition *c, int64_t filled_qty);
void condition_entry_rejected(condition *c);

/* The band of prices in which this condition cannot change: it is only worth evaluating when
 * price <= *lo or price >= *hi. Used by the price index. */
void condition_idle_band(const condition *c, price_t *lo, price_t *hi);

static inline side_t side_opposite(side_t s) { return s == SIDE_BUY ? SIDE_SELL : SIDE_BUY; }
const char *side_name(side_t s); /* "BUY" / "SELL" */

#endif
