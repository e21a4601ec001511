/* Pre-trade risk checks for the executor. Every rule can be switched off (a limit of 0 or less
 * disables it) and every refusal names its rule with a stable code plus a readable reason.
 * Exits (orders that only reduce the current position) pass the kill switch (but not a halt), the daily loss
 * limit, the position limit, the stale-signal rule and the price band, so a halted system can
 * still get flat and a late exit is not refused into leaving a position unmanaged. Pure domain code: the
 * caller supplies the clock, the local time and what it knows about the market. */
#ifndef AFTM_RISK_H
#define AFTM_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/condition.h"

#define RISK_SYMBOL_MAX 32
#define RISK_REASON_MAX 128
#define RISK_MAX_PRODUCTS 64
#define RISK_RATE_CAP 1000 /* highest accepted max_orders_per_second */

/* A trading session in local minutes since midnight, [start, end). end < start crosses midnight
 * and belongs to the weekday it starts on. start == end means the session is off. */
typedef struct {
    int start_min;
    int end_min;
} risk_session;

typedef struct {
    int64_t max_lots_per_order;       /* default 10 */
    int64_t max_position_per_product; /* default 20 lots, |position + pending + order| */
    int64_t max_open_orders;          /* default 50 */
    int64_t max_orders_per_second;    /* default 20, at most RISK_RATE_CAP */
    int64_t daily_loss_limit;         /* default 100000 money units; trips the kill switch */
    bool trading_hours;               /* default on */
    risk_session day_session;         /* default 08:45-13:45 (TAIFEX, Asia/Taipei) */
    risk_session night_session;       /* default 15:00-05:00 next day */
    unsigned trading_days;            /* bit w = sessions start on weekday w (0 = Sunday);
                                         default Monday..Friday, so Saturday 00:00-05:00 is
                                         Friday's night session. Holidays are not known here. */
    int64_t price_band_points;        /* default 500: |reference - last traded| must not exceed */
    int64_t stale_signal_ms;          /* default 5000: a signal older than this is refused */
    bool refuse_duplicates;           /* default on: a signal id seen before is refused */
} risk_limits;

/* The defaults listed above. */
risk_limits risk_limits_default(void);

/* Stable rule codes; the names match the risk_limits field / config key where there is one. */
typedef enum {
    RISK_OK = 0,
    RISK_BAD_REQUEST = 1,       /* "bad_request": qty <= 0, bad side, time out of range */
    RISK_DUPLICATE = 2,         /* "refuse_duplicates" */
    RISK_STALE = 3,             /* "stale_signal_ms" */
    RISK_KILL_SWITCH = 4,       /* "kill_switch" */
    RISK_DAILY_LOSS = 5,        /* "daily_loss_limit" */
    RISK_TRADING_HOURS = 6,     /* "trading_hours" */
    RISK_MAX_LOTS = 7,          /* "max_lots_per_order" */
    RISK_MAX_POSITION = 8,      /* "max_position_per_product" */
    RISK_MAX_OPEN_ORDERS = 9,   /* "max_open_orders" */
    RISK_RATE = 10,             /* "max_orders_per_second" */
    RISK_PRICE_BAND = 11,       /* "price_band_points" */
} risk_verdict;

typedef struct {
    char symbol[RISK_SYMBOL_MAX];
    int64_t net_qty;      /* current position, long > 0 */
    int64_t pending_buy;  /* lots still to fill on open buy orders (0 if not tracked) */
    int64_t pending_sell; /* lots still to fill on open sell orders */
} risk_product;

typedef struct {
    int64_t open_orders;
    risk_product products[RISK_MAX_PRODUCTS];
    int nproducts;
    /* Ring of the most recent order times (ms), for the per-second rate. */
    int64_t order_times[RISK_RATE_CAP];
    int rate_head; /* next slot to write */
    int rate_count;
    int64_t pnl_today; /* money, realized + unrealized; a loss is negative */
    bool kill_switch; /* reducing: only exits pass */
    bool halted;      /* halted ('aftm kill --halt'): nothing passes but a flatten */
    char kill_reason[RISK_REASON_MAX];
} risk_state;

typedef struct {
    const char *symbol;
    side_t side;
    int64_t qty;
    price_t ref_price;  /* the signal's price, <= 0 if unknown */
    price_t last_price; /* last traded price of the product, <= 0 if unknown */
    int64_t signal_ms;  /* the signal's `when`, epoch ms */
    int64_t now_ms;     /* epoch ms */
    int minute_of_day;  /* local (Asia/Taipei) minutes since midnight, 0..1439 */
    int weekday;        /* local weekday, 0 = Sunday .. 6 = Saturday */
    bool duplicate;     /* the caller has seen this signal id before */
    /* The caller has sized the order to close lots that a condition holds (its exit): it is
     * treated as an exit even when the account's net position does not shrink, e.g. a buy and
     * a sell condition that net to zero, where each exit still only closes its own lots. */
    bool closes_holding;
    /* 'aftm flatten': closes a whole position at market; passes in every trading state. */
    bool flatten;
} risk_request;

void risk_state_init(risk_state *st);

/* RISK_OK, or the first rule the request breaks, with a reason written to reason (may be NULL).
 * Rules run in the enum's order. The price band refuses when it is on but a price is unknown.
 * The daily loss rule refuses entries while pnl_today <= -limit, even after the switch is reset:
 * raise the limit to trade on. */
risk_verdict risk_check(const risk_limits *lim, const risk_state *st, const risk_request *req,
                        char *reason, size_t reasonlen);

/* True when the order only reduces the position: opposite side and no larger than what is
 * still open after the pending orders on that side. A flip through zero is an entry. */
bool risk_is_exit(const risk_state *st, const risk_request *req);

/* True when local time (minutes since midnight, weekday) is inside a session. */
bool risk_in_trading_hours(const risk_limits *lim, int minute_of_day, int weekday);

/* "ok", "bad_request", "refuse_duplicates", ... (see risk_verdict). */
const char *risk_rule_code(risk_verdict v);

/* An order went out at now_ms: counts toward the rate and the open orders. */
void risk_record_order(risk_state *st, int64_t now_ms);
/* An order reached a terminal state. */
void risk_order_closed(risk_state *st);

/* The product's entry, created when missing; NULL when the table is full or symbol is bad. */
risk_product *risk_product_get(risk_state *st, const char *symbol);
/* The product's entry or NULL, without creating it. */
const risk_product *risk_product_find(const risk_state *st, const char *symbol);
/* Sets the current position / pending lots; false when the table is full. A product never set
 * counts as flat with nothing pending. */
bool risk_set_position(risk_state *st, const char *symbol, int64_t net_qty);
bool risk_set_pending(risk_state *st, const char *symbol, int64_t pending_buy,
                      int64_t pending_sell);

/* Halts entries. Keeps the first reason while already tripped; true when newly tripped. */
bool risk_trip_kill_switch(risk_state *st, const char *reason);
/* Halts everything (a flatten still passes); the kill switch is on too. */
void risk_halt(risk_state *st, const char *reason);
void risk_reset_kill_switch(risk_state *st);

/* Records today's P&L in money and trips the kill switch once the loss reaches the daily limit.
 * True when this call tripped it. */
bool risk_update_pnl(risk_state *st, const risk_limits *lim, int64_t pnl_today);

#endif
