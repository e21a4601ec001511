#include "store/order_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "store/db.h"

struct order_store {
    sqlite3 *db;
    sqlite3_stmt *insert, *update, *get, *open, *fill, *pos_get, *pos_put, *pos_all, *begin, *commit, *rollback, *by_signal, *held;
};

#define ORDER_COLUMNS                                                                                         \
    "client_order_id, signal_id, condition_id, account, symbol, side, qty, filled_qty, fill_notional, status, " \
    "reason, order_serial, is_exit, ref_price, signal_when, created_at, updated_at, limit_price, tif"

order_store *ostore_open(sqlite3 *db) {
    order_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->db = db;
    const db_stmt_spec prep[] = {
        {&s->insert, "INSERT INTO orders(" ORDER_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
        {&s->update, "UPDATE orders SET filled_qty=?, fill_notional=?, status=?, reason=?, "
                     "order_serial=CASE WHEN ?='' THEN order_serial ELSE ? END, updated_at=? WHERE client_order_id=?"},
        {&s->get, "SELECT " ORDER_COLUMNS " FROM orders WHERE client_order_id=?"},
        {&s->by_signal, "SELECT " ORDER_COLUMNS " FROM orders WHERE signal_id=?"},
        {&s->open, "SELECT " ORDER_COLUMNS " FROM orders WHERE status IN ('new','sent','accepted','partially_filled') "
                   "ORDER BY created_at"},
        {&s->fill, "INSERT OR IGNORE INTO fills(fill_id, client_order_id, qty, price, time, account, symbol, side) "
                   "VALUES(?,?,?,?,?,?,?,?)"},
        {&s->pos_get, "SELECT net_qty, open_cost, realized FROM positions WHERE account=? AND symbol=?"},
        {&s->pos_put, "INSERT INTO positions(account, symbol, net_qty, open_cost, realized, last_price) "
                      "VALUES(?,?,?,?,?,?) ON CONFLICT(account, symbol) DO UPDATE SET net_qty=excluded.net_qty, "
                      "open_cost=excluded.open_cost, realized=excluded.realized, last_price=excluded.last_price"},
        {&s->pos_all, "SELECT account, symbol, net_qty, open_cost, realized, last_price FROM positions "
                      "ORDER BY account, symbol"},
        /* each condition's entry fills less its exit's, while its exit is not over: the exit leg's
         * signal id is the entry's with X for E (the unique index on signal_id finds it) */
        {&s->held, "SELECT COALESCE(SUM((CASE WHEN e.side='buy' THEN 1 ELSE -1 END) * "
                   "(e.filled_qty - COALESCE(x.filled_qty, 0))), 0) FROM orders e LEFT JOIN orders x "
                   "ON x.signal_id = substr(e.signal_id, 1, length(e.signal_id) - 1) || 'X' "
                   /* conditions' holdings only: lots entered by hand or booked as external are no
                    * condition's, and must not hold a condition's own exit back */
                   "WHERE e.account=?1 AND e.symbol=?2 AND e.condition_id>0 AND e.signal_id LIKE '%.E' AND e.signal_id<>?3 "
                   "AND e.filled_qty>0 AND (x.status IS NULL OR x.status IN ('new','sent','accepted','partially_filled')) "
                   /* the entries whose exit has not ended, through orders_held_entries (schema 13) */
                   "AND e.exit_done=0 AND e.is_exit=0"},
        {&s->begin, "BEGIN IMMEDIATE"},
        {&s->commit, "COMMIT"},
        {&s->rollback, "ROLLBACK"},
    };
    if (!db_prepare_all(db, prep, sizeof prep / sizeof prep[0])) {
        ostore_close(s);
        return NULL;
    }
    return s;
}

void ostore_close(order_store *s) {
    if (!s) return;
    sqlite3_stmt *all[] = {s->insert, s->update, s->get,   s->open,   s->fill,    s->pos_get,
                           s->pos_put, s->pos_all, s->begin, s->commit, s->rollback, s->by_signal, s->held};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
    free(s);
}


bool ostore_begin(order_store *s) { return db_step_done(s->begin); }
bool ostore_commit(order_store *s) { return db_step_done(s->commit); }
void ostore_rollback(order_store *s) { db_step_done(s->rollback); }

bool ostore_insert(order_store *s, const order_record *r) {
    sqlite3_stmt *st = s->insert;
    const order *o = &r->o;
    double now = clock_wall_s();
    sqlite3_bind_text(st, 1, o->client_order_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->signal_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, o->condition_id);
    sqlite3_bind_text(st, 4, o->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, o->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, o->side == SIDE_BUY ? "buy" : "sell", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, o->qty);
    sqlite3_bind_int64(st, 8, o->filled_qty);
    sqlite3_bind_int64(st, 9, o->fill_notional);
    sqlite3_bind_text(st, 10, order_status_name(o->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, o->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, r->order_serial, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 13, r->is_exit);
    sqlite3_bind_int64(st, 14, r->ref_price);
    sqlite3_bind_double(st, 15, r->signal_when);
    sqlite3_bind_double(st, 16, now);
    sqlite3_bind_double(st, 17, now);
    sqlite3_bind_int64(st, 18, o->limit_price);
    sqlite3_bind_text(st, 19, o->limit_price > 0 && o->rests ? "rod" : "ioc", -1, SQLITE_STATIC);
    return db_step_done(st);
}

bool ostore_update(order_store *s, const order *o, const char *order_serial) {
    sqlite3_stmt *st = s->update;
    const char *serial = order_serial ? order_serial : "";
    sqlite3_bind_int64(st, 1, o->filled_qty);
    sqlite3_bind_int64(st, 2, o->fill_notional);
    sqlite3_bind_text(st, 3, order_status_name(o->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, o->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, serial, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, clock_wall_s());
    sqlite3_bind_text(st, 8, o->client_order_id, -1, SQLITE_STATIC);
    return db_step_done(st);
}

/* The column's text into out, cut to fit (a plain copy: this runs for every report). */
static void text_col(sqlite3_stmt *st, int col, char *out, size_t cap) {
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(out, t, n);
    out[n] = '\0';
}

static void read_order(sqlite3_stmt *st, order_record *r) {
    memset(r, 0, sizeof *r);
    order *o = &r->o;
    text_col(st, 0, o->client_order_id, sizeof o->client_order_id);
    text_col(st, 1, o->signal_id, sizeof o->signal_id);
    o->condition_id = sqlite3_column_int64(st, 2);
    text_col(st, 3, o->account, sizeof o->account);
    text_col(st, 4, o->symbol, sizeof o->symbol);
    char side[8];
    text_col(st, 5, side, sizeof side);
    o->side = strcmp(side, "buy") ? SIDE_SELL : SIDE_BUY;
    o->qty = sqlite3_column_int64(st, 6);
    o->filled_qty = sqlite3_column_int64(st, 7);
    o->fill_notional = sqlite3_column_int64(st, 8);
    char status[24];
    text_col(st, 9, status, sizeof status);
    if (!order_status_parse(status, &o->status)) o->status = ORDER_NEW;
    text_col(st, 10, o->reason, sizeof o->reason);
    o->broker_cum_qty = -1;
    text_col(st, 11, r->order_serial, sizeof r->order_serial);
    r->is_exit = sqlite3_column_int(st, 12) != 0;
    r->ref_price = sqlite3_column_int64(st, 13);
    r->signal_when = sqlite3_column_double(st, 14);
    r->created_at = sqlite3_column_double(st, 15);
    r->updated_at = sqlite3_column_double(st, 16);
    o->limit_price = sqlite3_column_int64(st, 17);
    char tif[8];
    text_col(st, 18, tif, sizeof tif);
    o->rests = o->limit_price > 0 && !strcmp(tif, "rod");
}

bool ostore_get(order_store *s, const char *client_order_id, order_record *out) {
    sqlite3_bind_text(s->get, 1, client_order_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(s->get) == SQLITE_ROW;
    if (found) read_order(s->get, out);
    sqlite3_reset(s->get);
    return found;
}

bool ostore_get_by_signal(order_store *s, const char *signal_id, order_record *out) {
    sqlite3_bind_text(s->by_signal, 1, signal_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(s->by_signal) == SQLITE_ROW;
    if (found) read_order(s->by_signal, out);
    sqlite3_reset(s->by_signal);
    return found;
}

int ostore_each_open(order_store *s, ostore_order_fn fn, void *ctx) {
    /* Collected first: the callback may update the rows it is given. */
    order_record *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s->open)) == SQLITE_ROW) {
        if (!buf_grow((void **)&rows, &cap, n + 1, sizeof *rows)) break;
        read_order(s->open, &rows[n++]);
    }
    sqlite3_reset(s->open);
    for (size_t i = 0; i < n; i++) fn(ctx, &rows[i]);
    free(rows);
    return rc == SQLITE_DONE ? (int)n : -1;
}

int ostore_add_fill(order_store *s, const char *fill_id, const order *o, int64_t qty, price_t price, double time) {
    sqlite3_stmt *st = s->fill;
    sqlite3_bind_text(st, 1, fill_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->client_order_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, qty);
    sqlite3_bind_int64(st, 4, price);
    sqlite3_bind_double(st, 5, time);
    sqlite3_bind_text(st, 6, o->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, o->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, o->side == SIDE_BUY ? "buy" : "sell", -1, SQLITE_STATIC);
    if (!db_step_done(st)) return -1;
    return sqlite3_changes(s->db) == 1 ? 1 : 0;
}

bool ostore_position_get(order_store *s, const char *account, const char *symbol, position *out) {
    position_init(out, account, symbol);
    sqlite3_bind_text(s->pos_get, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->pos_get, 2, symbol, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s->pos_get);
    if (rc == SQLITE_ROW) {
        out->net_qty = sqlite3_column_int64(s->pos_get, 0);
        out->open_cost = sqlite3_column_int64(s->pos_get, 1);
        out->realized = sqlite3_column_int64(s->pos_get, 2);
    }
    sqlite3_reset(s->pos_get);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool ostore_position_put(order_store *s, const position *p, price_t last_price) {
    sqlite3_stmt *st = s->pos_put;
    sqlite3_bind_text(st, 1, p->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, p->net_qty);
    sqlite3_bind_int64(st, 4, p->open_cost);
    sqlite3_bind_int64(st, 5, p->realized);
    sqlite3_bind_int64(st, 6, last_price);
    return db_step_done(st);
}

int ostore_each_position(order_store *s, ostore_position_fn fn, void *ctx) {
    int n = 0, rc;
    while ((rc = sqlite3_step(s->pos_all)) == SQLITE_ROW) {
        position p;
        char account[64], symbol[64];
        text_col(s->pos_all, 0, account, sizeof account);
        text_col(s->pos_all, 1, symbol, sizeof symbol);
        position_init(&p, account, symbol);
        p.net_qty = sqlite3_column_int64(s->pos_all, 2);
        p.open_cost = sqlite3_column_int64(s->pos_all, 3);
        p.realized = sqlite3_column_int64(s->pos_all, 4);
        fn(ctx, &p, sqlite3_column_int64(s->pos_all, 5));
        n++;
    }
    sqlite3_reset(s->pos_all);
    return rc == SQLITE_DONE ? n : -1;
}

bool ostore_conditions_hold(order_store *s, const char *account, const char *symbol, const char *except_entry,
                            int64_t *out) {
    *out = 0;
    sqlite3_stmt *st = s->held;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, except_entry ? except_entry : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}
