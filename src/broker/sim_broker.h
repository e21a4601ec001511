/* The simulated exchange behind the broker interface, in process.
 *
 * It keeps accounts, a TAIFEX-shaped product list, orders (idempotent by client order id),
 * positions per account and product, and matches orders against its tick feed through
 * domain/matching (market orders fill at the next tick of their product, limit orders when a
 * tick reaches them; IOC/FOK limit orders that the next tick does not reach expire).
 * No I/O: ticks come from an optional feed (service()) or from sim_broker_market_tick. */
#ifndef AFTM_SIM_BROKER_H
#define AFTM_SIM_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"

#define SIM_MAX_ACCOUNTS 8
/* Rejected orders kept in the book (and on disk through the journal). Past that, a rejected
 * order is still answered with its reason but not kept: a client sending garbage in a loop
 * cannot grow the exchange without bound. */
#define SIM_MAX_KEPT_REJECTS 1000
#define SIM_DEFAULT_LOGIN "A123456789"
#define SIM_DEFAULT_PASSWORD "sim-pass"

/* Where the simulated market's trades come from (optional). */
typedef struct {
    void *ctx;
    /* Milliseconds until the next tick is due: 0 = now, -1 = no more ticks. */
    int64_t (*due_in_ms)(void *ctx);
    /* 1: a due tick in out; 0: none due yet; -1: the feed is finished. */
    int (*next)(void *ctx, broker_tick *out);
} sim_feed;

typedef struct {
    const char *login_id;                      /* default A123456789 */
    const char *password;                      /* default sim-pass */
    const char *accounts[SIM_MAX_ACCOUNTS];    /* order accounts, default SIM-0001, SIM-0002 */
    size_t n_accounts;
    const broker_product *products;            /* NULL: the default list (TXF/MXF, two months) */
    size_t n_products;
    int64_t slippage_points;                   /* market fills, against the order; default 0 */
    int64_t max_order_qty;                     /* default 1000 lots */
    size_t max_ticks_per_service;              /* default 4096: orders stay served during a flood */
    sim_feed feed;                             /* feed.next NULL: no feed */
    int64_t (*now_us)(void);                   /* report times; default the wall clock */
} sim_config;

void sim_config_default(sim_config *cfg);

/* Creates the simulator into *out. false only when out of memory. */
bool sim_broker_new(const sim_config *cfg, broker *out);

/* The market side: one trade on the simulated exchange. Products it has not seen are added
 * (reference = this price, band +-10%). Delivers the tick to subscribers, then matches.
 * Ignored (false) when b is not a simulator or the price is not positive. */
bool sim_broker_market_tick(broker *b, const broker_tick *t);
/* A market that has stopped moving (a replay at its end) stays at its last prices: matches the
 * resting orders of every product against its last trade, as one more trade there would, without
 * delivering a tick. A market order fills at that price, a limit that it crosses fills, an IOC /
 * FOK limit that it does not cross expires. */
bool sim_broker_match_at_last(broker *b, int64_t ts_us);

/* ---- the book, for a process that keeps it on disk (aftm exchange) ---------------------- */

typedef struct {
    price_t price;
    int64_t qty;
} sim_lot;

/* One order as the exchange keeps it. */
typedef struct {
    uint32_t n; /* its number, from 1 in the order received: order_serial is SIM-%08X of n */
    broker_order_info info;
    bool is_send_order; /* accepted (false: refused, see error_code) */
    char error_code[32];
    char error_message[BROKER_MSG_MAX];
    char note[BROKER_NOTE_MAX];
} sim_order_row;

/* One position: the counters (net_qty, today_*, realized_pl; the derived fields are ignored)
 * and the open lots, oldest first, all on the side of net_qty. */
typedef struct {
    broker_position pos;
    const sim_lot *lots;
    size_t n_lots;
} sim_position_row;

/* Told of every change of the book, from inside the call that makes it, before its report. */
typedef struct {
    void *ctx;
    void (*order)(void *ctx, const sim_order_row *o);       /* an order added or changed */
    void (*position)(void *ctx, const sim_position_row *p); /* a position changed */
    void (*product)(void *ctx, const broker_product *p);    /* a product added, or its price band set */
} sim_journal;

/* NULL j: none. Ignored when b is not a simulator. */
void sim_broker_set_journal(broker *b, const sim_journal *j);

/* Restoring a kept book into a new simulator, before anything else happens on it: */
/* adds the product, or updates it; last is its last trade (0: none). */
bool sim_broker_restore_product(broker *b, const broker_product *p, price_t last);
/* Orders in their order (o->n must be the next number). An open order goes back into the
 * matcher for what is left of it, so it fills as if the simulator had never stopped. */
bool sim_broker_restore_order(broker *b, const sim_order_row *o);
bool sim_broker_restore_position(broker *b, const sim_position_row *p);
/* Fill ids go on after SIM-F<last>. */
void sim_broker_restore_fill_seq(broker *b, uint64_t last);

/* The position of account in symbol as the journal would be told of it: false when there is
 * none. out->lots points into the book: valid until the book next changes. */
bool sim_broker_position_row(broker *b, const char *account, const char *symbol, sim_position_row *out);
/* The product's last trade price (0 before its first trade). */
price_t sim_broker_last_price(broker *b, const char *symbol);
/* Orders the simulator knows, and how many of them are open. */
size_t sim_broker_order_count(broker *b, size_t *open);
/* true when b is the in-process simulator. */
bool sim_broker_is(const broker *b);

/* The default product list (static storage). */
const broker_product *sim_default_products(size_t *n);

#endif
