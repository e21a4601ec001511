/* The executor's books in SQLite: orders (stored before they leave), fills (unique by fill id)
 * and positions per account and product. */
#ifndef AFTM_ORDER_STORE_H
#define AFTM_ORDER_STORE_H

#include <sqlite3.h>
#include <stdbool.h>

#include "domain/order.h"
#include "domain/position.h"

typedef struct {
    order o;
    char order_serial[64];
    bool is_exit;
    price_t ref_price;
    double signal_when, created_at, updated_at;
} order_record;

typedef struct order_store order_store;

order_store *ostore_open(sqlite3 *db);
void ostore_close(order_store *s);

bool ostore_begin(order_store *s);
bool ostore_commit(order_store *s);
void ostore_rollback(order_store *s);

/* Inserts a new order. False if its client order id or signal id is already stored. */
bool ostore_insert(order_store *s, const order_record *r);
bool ostore_update(order_store *s, const order *o, const char *order_serial);
bool ostore_get(order_store *s, const char *client_order_id, order_record *out);
/* The order stored for a signal id (whatever its client order id), or false. */
bool ostore_get_by_signal(order_store *s, const char *signal_id, order_record *out);

typedef void (*ostore_order_fn)(void *ctx, const order_record *r);
/* Orders that are not terminal, oldest first. Returns the count or -1. */
int ostore_each_open(order_store *s, ostore_order_fn fn, void *ctx);

/* Records a fill: 1 when recorded, 0 when that fill id is already recorded (a duplicate), -1
 * when the database failed (busy, full). */
int ostore_add_fill(order_store *s, const char *fill_id, const order *o, int64_t qty, price_t price, double time);

/* The position, or a flat one if none is stored. */
bool ostore_position_get(order_store *s, const char *account, const char *symbol, position *out);
bool ostore_position_put(order_store *s, const position *p, price_t last_price);
typedef void (*ostore_position_fn)(void *ctx, const position *p, price_t last_price);
int ostore_each_position(order_store *s, ostore_position_fn fn, void *ctx);

/* What the conditions hold in account/symbol, signed (long > 0), leaving out the condition whose
 * entry signal id is except_entry (NULL: none): each condition's entry fills less its exit's
 * fills, counted while the exit has not ended (an exit that ended, whether filled, refused or
 * skipped, leaves nothing that condition still manages). False when the database failed. */
bool ostore_conditions_hold(order_store *s, const char *account, const char *symbol, const char *except_entry,
                            int64_t *out);

#endif
