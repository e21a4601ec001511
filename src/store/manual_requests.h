/* Orders asked for by hand ('aftm order send', the menu's option 6), waiting for the executor.
 *
 * Why a table and not a message on the signal link: the CLI and the executor already share
 * aftm.db, the executor already watches it for the kill switch, and a row survives an executor
 * that is restarting (it is placed when the executor is back) while a message would be lost; the
 * signal link admits only the strategy's key, and a second key there would let the CLI's key
 * impersonate the strategy. The row also carries the answer back (the client order id, or the
 * refusal) without a reply socket.
 *
 * A request's life: pending (written by the CLI) -> taken (claimed by one executor, atomically)
 * -> done (its order is stored: client_order_id, or result says why it was refused); or pending
 * -> withdrawn (the CLI gave up waiting: no executor runs; then the executor never places it).
 *
 * Not here: what the executor does with a request (app/executor/executor_manual.c), how the CLI
 * waits (usecase/uc_broker.c). */
#ifndef AFTM_MANUAL_REQUESTS_H
#define AFTM_MANUAL_REQUESTS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/order.h"

typedef enum { MREQ_PENDING, MREQ_TAKEN, MREQ_DONE, MREQ_WITHDRAWN } mreq_state;

/* What a request asks for: an order; closing every open position (of the account, or of one
 * product: target); cancelling one order (target: its client order id). */
typedef enum { MREQ_ORDER, MREQ_FLATTEN, MREQ_CANCEL } mreq_kind;

typedef struct {
    int64_t id;
    mreq_kind kind;
    char target[ORDER_ID_MAX];
    char account[ORDER_ACCOUNT_MAX];
    char symbol[ORDER_SYMBOL_MAX];
    side_t side;
    int64_t qty;
    price_t limit_price; /* an order's limit price; 0: market */
    bool rests;          /* a limit order resting (ROD); else IOC */
    mreq_state state;
    char client_order_id[ORDER_ID_MAX];
    char result[ORDER_REASON_MAX + 32];
} manual_request;

/* Adds a pending request (a market order); its id in *id. False on a database error. */
bool mreq_add(sqlite3 *db, const char *account, const char *symbol, side_t side, int64_t qty, int64_t *id);
/* The same for a limit order at limit_price (> 0), resting (ROD) or IOC. */
bool mreq_add_limit(sqlite3 *db, const char *account, const char *symbol, side_t side, int64_t qty,
                    price_t limit_price, bool rests, int64_t *id);
/* Adds a pending flatten (target: a product, or "" for all) or cancel (target: a client order
 * id) request for account; its id in *id. False on a database error. */
bool mreq_add_kind(sqlite3 *db, mreq_kind kind, const char *account, const char *target, int64_t *id);
/* Reads request id; false when there is none or the database failed. */
bool mreq_get(sqlite3 *db, int64_t id, manual_request *out);
/* Moves id from state from to state to (atomic: true only when it was in from). */
bool mreq_move(sqlite3 *db, int64_t id, mreq_state from, mreq_state to);
/* Ends a taken request: its order's client order id (or "") and the result line. */
bool mreq_finish(sqlite3 *db, int64_t id, const char *client_order_id, const char *result);
/* The oldest pending request, or false when none (or the database failed). */
bool mreq_next_pending(sqlite3 *db, manual_request *out);
/* The orders of flatten request id that were refused (by the risk rules or the broker): how many,
 * and "PRODUCT (reason), ..." in out; -1 when the database failed. */
int mreq_flatten_refused(sqlite3 *db, int64_t id, char *out, size_t cap);

#endif
