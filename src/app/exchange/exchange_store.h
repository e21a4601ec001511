/* The simulated exchange's book on disk: <home>/exchange.db (SQLite, WAL), a file of its own,
 * apart from aftm's database: the exchange is another system.
 *
 *   orders    every order it received, by number n (serial SIM-%08X of n); a client order
 *             id is unique; status, filled quantity and notional, reason
 *   fills     every fill, by fill id
 *   positions per account and product: the counters and the open lots (FIFO)
 *   accounts  cash per account: starting cash + realized P&L x contract multiplier
 *   products  the product list with each product's last trade price
 *   reports   the report log: seq (strictly increasing, never reused, kept across restarts)
 *             and the report in body: a msgpack map (broker_pack) as a BLOB; a book written
 *             before holds JSON text there, and both read back
 *   meta      epoch (when this book was created) and counters
 *
 * Writers work inside a transaction (xstore_begin .. xstore_commit); a failed write marks the
 * transaction failed and xstore_commit then rolls it back and returns false. */
#ifndef AFTM_EXCHANGE_STORE_H
#define AFTM_EXCHANGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/sim_broker.h"

#define XSTORE_FILE "exchange.db"
#define XSTORE_START_CASH 10000000 /* TWD per account when it is first seen */

typedef struct exchange_store exchange_store;

/* Opens (creating) <home>/exchange.db. NULL with err. */
exchange_store *xstore_open(const char *home, char *err, size_t errlen);
void xstore_close(exchange_store *x);
const char *xstore_error(exchange_store *x); /* the last SQLite error */

bool xstore_begin(exchange_store *x);
bool xstore_in_tx(const exchange_store *x);
/* Commits; false (after a rollback) when the commit or any write since begin failed. */
bool xstore_commit(exchange_store *x);
void xstore_rollback(exchange_store *x);

/* ---- writes (inside a transaction) ---- */
bool xstore_put_order(exchange_store *x, const sim_order_row *o, int64_t now_us);
bool xstore_put_position(exchange_store *x, const sim_position_row *p);
bool xstore_put_product(exchange_store *x, const broker_product *p);
bool xstore_set_last_price(exchange_store *x, const char *code, price_t last);
/* Appends r (r->seq must be above every seq kept) with body (len bytes: r in msgpack, as
 * bp_pack_report makes it) as its row's body and, for a fill, its fill row. */
bool xstore_add_report(exchange_store *x, const broker_report *r, const void *body, size_t len);
/* Creates the account with XSTORE_START_CASH unless it exists. */
bool xstore_ensure_account(exchange_store *x, const char *account);
bool xstore_meta_set(exchange_store *x, const char *key, const char *value);

/* ---- reads ---- */
uint64_t xstore_last_seq(exchange_store *x);  /* 0 when no report yet */
uint64_t xstore_first_seq(exchange_store *x); /* last_seq + 1 when none */
int64_t xstore_epoch(exchange_store *x);      /* POSIX microseconds when the book was created */
/* Reports with seq > since, oldest first, up to cap; *more when there are others after them.
 * -1 on a database error. */
long xstore_reports_since(exchange_store *x, uint64_t since, broker_report *out, size_t cap, bool *more);
/* false when the account is unknown. */
bool xstore_cash(exchange_store *x, const char *account, int64_t *cash);
uint64_t xstore_count(exchange_store *x, const char *table); /* rows of orders, fills, reports... */
bool xstore_meta_get(exchange_store *x, const char *key, char *out, size_t cap);

/* Loads the whole book into a new simulator b (products, orders in their order, positions,
 * the fill counter). false with err when a row cannot be restored. */
bool xstore_restore(exchange_store *x, broker *b, char *err, size_t errlen);

#endif
