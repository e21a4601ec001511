/* The net position in one product for one account, built from fills. All amounts are integer
 * points times lots; contract_multiplier turns them into money. Pure domain code: no I/O. */
#ifndef AFTM_POSITION_H
#define AFTM_POSITION_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/condition.h"

#define POSITION_ACCOUNT_MAX 32
#define POSITION_SYMBOL_MAX 32

typedef struct {
    char account[POSITION_ACCOUNT_MAX];
    char symbol[POSITION_SYMBOL_MAX];
    int64_t net_qty;   /* long > 0, short < 0 */
    int64_t open_cost; /* sum of price * lots of the open quantity (>= 0); avg = this / |net_qty| */
    int64_t realized;  /* realized P&L, points * lots */
} position;

/* A flat position. False when account or symbol does not fit (or symbol is empty). */
bool position_init(position *p, const char *account, const char *symbol);

/* Applies a fill of qty lots (> 0) at price (> 0). Opening and adding raise the open cost;
 * reducing and closing realize (price - avg) * lots for a long, (avg - price) * lots for a short;
 * a fill beyond zero closes the old side and opens the rest at the fill price. A partial reduce
 * takes its share of the open cost rounded toward zero, and a full close takes what is left, so
 * a round trip realizes exactly. False (position untouched) when qty or price is not positive. */
bool position_apply_fill(position *p, side_t side, int64_t qty, price_t price);

/* Average price of the open quantity in points; 0 when flat. */
double position_avg_price(const position *p);

/* Unrealized P&L at mark, points * lots; 0 when flat. */
int64_t position_unrealized(const position *p, price_t mark);

/* TAIFEX money per point for one lot: TX / TXF... = 200, MTX / MXF... = 50, anything else 1.
 * Matches the product code at the start of the symbol, so "TXFF5" and "MXFD4" work. */
int64_t contract_multiplier(const char *symbol);

#endif
