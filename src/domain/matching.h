/* Order matching against the tick stream, shared by the simulated exchange and the backtest:
 * market orders fill at the next tick's price of their symbol (plus slippage, in price points,
 * against the trader), limit orders when a tick reaches their price. Pure domain code. */
#ifndef AFTM_MATCHING_H
#define AFTM_MATCHING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/condition.h" /* price_t, side_t */

#define MATCH_ID_MAX 64
#define MATCH_SYMBOL_MAX 32

typedef enum { MATCH_MARKET = 0, MATCH_LIMIT = 1 } match_kind;

typedef struct {
    int64_t slippage_points; /* market fills move this many points against the order */
} match_config;

typedef struct {
    int64_t order_id; /* the caller's id, echoed in fills */
    char symbol[MATCH_SYMBOL_MAX];
    side_t side;
    match_kind kind;
    int64_t qty;
    price_t limit_price; /* MATCH_LIMIT only */
} match_order;

typedef struct {
    int64_t order_id;
    int64_t qty;
    price_t price;
    int64_t ts_us; /* the tick's time */
} match_fill;

typedef struct matcher matcher;
typedef void (*match_fill_fn)(void *ctx, const match_fill *f);

matcher *matcher_new(const match_config *cfg);
void matcher_free(matcher *m);
/* Queues an order; false if out of memory or the order is invalid (qty <= 0, empty symbol). */
bool matcher_submit(matcher *m, const match_order *o);
/* Removes a resting order; false if it is not resting (already filled or unknown). */
bool matcher_cancel(matcher *m, int64_t order_id);
size_t matcher_resting(const matcher *m);
/* Feeds a tick; every order it fills is reported through fn (in submission order) and removed. */
size_t matcher_on_tick(matcher *m, const char *symbol, price_t price, int64_t ts_us, match_fill_fn fn, void *ctx);

#endif
