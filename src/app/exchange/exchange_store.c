/* The simulated exchange's book in SQLite (see exchange_store.h). */
#include "app/exchange/exchange_store.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker_json.h"
#include "broker/broker_pack.h"
#include "core/clock.h"
#include "domain/position.h"
#include "core/log.h"
#include "store/checkpointer.h"
#include "store/db.h"

/* the layout of the book this code writes (PRAGMA user_version) */
#define XSTORE_SCHEMA 1

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS products ("
    "  code TEXT PRIMARY KEY, name TEXT NOT NULL, delivery_month TEXT NOT NULL, market TEXT NOT NULL,"
    "  reference_price INTEGER NOT NULL, max_price INTEGER NOT NULL, min_price INTEGER NOT NULL,"
    "  last_price INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS orders ("
    "  n INTEGER PRIMARY KEY, client_order_id TEXT UNIQUE, order_serial TEXT NOT NULL UNIQUE,"
    "  account TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),"
    "  qty INTEGER NOT NULL, order_type TEXT NOT NULL, price INTEGER NOT NULL, time_in_force TEXT NOT NULL,"
    "  status TEXT NOT NULL, filled_qty INTEGER NOT NULL, filled_notional INTEGER NOT NULL,"
    "  reason TEXT NOT NULL, is_send_order INTEGER NOT NULL, error_code TEXT NOT NULL,"
    "  error_message TEXT NOT NULL, note TEXT NOT NULL, created_us INTEGER NOT NULL, updated_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fills ("
    "  fill_id TEXT PRIMARY KEY, n INTEGER NOT NULL REFERENCES orders(n), account TEXT NOT NULL,"
    "  symbol TEXT NOT NULL, side TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL,"
    "  ts_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS positions ("
    "  account TEXT NOT NULL, symbol TEXT NOT NULL, net_qty INTEGER NOT NULL,"
    "  today_filled_long INTEGER NOT NULL, today_filled_short INTEGER NOT NULL,"
    "  today_order_long INTEGER NOT NULL, today_order_short INTEGER NOT NULL, today_closed INTEGER NOT NULL,"
    "  realized_pl INTEGER NOT NULL, multiplier INTEGER NOT NULL, lots TEXT NOT NULL,"
    "  PRIMARY KEY (account, symbol));"
    "CREATE TABLE IF NOT EXISTS accounts (account TEXT PRIMARY KEY, start_cash INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS reports ("
    "  seq INTEGER PRIMARY KEY, client_order_id TEXT NOT NULL, order_serial TEXT NOT NULL, body TEXT NOT NULL);";

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PUT_ORDER,
    ST_PUT_POSITION,
    ST_PUT_PRODUCT,
    ST_SET_LAST,
    ST_ADD_REPORT,
    ST_ADD_FILL,
    ST_ENSURE_ACCOUNT,
    ST_META_SET,
    ST_META_GET,
    ST_LAST_SEQ,
    ST_FIRST_SEQ,
    ST_REPORTS_SINCE,
    ST_CASH,
    ST_COUNT
};

static const char *SQL[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PUT_ORDER] =
        "INSERT INTO orders (n, client_order_id, order_serial, account, symbol, side, qty, order_type, price,"
        " time_in_force, status, filled_qty, filled_notional, reason, is_send_order, error_code, error_message,"
        " note, created_us, updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
        " ?16, ?17, ?18, ?19, ?19)"
        " ON CONFLICT (n) DO UPDATE SET status = ?11, filled_qty = ?12, filled_notional = ?13, reason = ?14,"
        " is_send_order = ?15, error_code = ?16, error_message = ?17, updated_us = ?19"
        " WHERE client_order_id IS ?2 AND order_serial = ?3",
    [ST_PUT_POSITION] =
        "INSERT INTO positions (account, symbol, net_qty, today_filled_long, today_filled_short,"
        " today_order_long, today_order_short, today_closed, realized_pl, multiplier, lots)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        " ON CONFLICT (account, symbol) DO UPDATE SET net_qty = ?3, today_filled_long = ?4,"
        " today_filled_short = ?5, today_order_long = ?6, today_order_short = ?7, today_closed = ?8,"
        " realized_pl = ?9, multiplier = ?10, lots = ?11",
    [ST_PUT_PRODUCT] =
        "INSERT INTO products (code, name, delivery_month, market, reference_price, max_price, min_price)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (code) DO UPDATE SET name = ?2,"
        " delivery_month = ?3, market = ?4, reference_price = ?5, max_price = ?6, min_price = ?7",
    [ST_SET_LAST] = "UPDATE products SET last_price = ?2 WHERE code = ?1",
    [ST_ADD_REPORT] = "INSERT INTO reports (seq, client_order_id, order_serial, body) VALUES (?1, ?2, ?3, ?4)",
    [ST_ADD_FILL] = "INSERT INTO fills (fill_id, n, account, symbol, side, qty, price, ts_us)"
                    " SELECT ?1, n, account, symbol, side, ?2, ?3, ?4 FROM orders WHERE order_serial = ?5",
    [ST_ENSURE_ACCOUNT] = "INSERT OR IGNORE INTO accounts (account, start_cash) VALUES (?1, ?2)",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_LAST_SEQ] = "SELECT COALESCE(MAX(seq), 0) FROM reports",
    [ST_FIRST_SEQ] = "SELECT MIN(seq) FROM reports",
    [ST_REPORTS_SINCE] = "SELECT seq, body FROM reports WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_CASH] = "SELECT a.start_cash + COALESCE((SELECT SUM(p.realized_pl * p.multiplier) FROM positions p"
                " WHERE p.account = a.account), 0) FROM accounts a WHERE a.account = ?1",
};

struct exchange_store {
    db_checkpointer *checkpoints; /* off the accept path (store/checkpointer.h) */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool in_tx, tx_failed;
    uint64_t last_seq; /* cached: the newest seq written (committed or in this transaction) */
    uint64_t committed_seq;
    int64_t epoch;
    char failure[256]; /* why this transaction failed, kept: the rollback's own message would replace it */
    mp_reader rd;      /* report bodies in msgpack */
};

static bool exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
    if (err) snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return false;
}

/* Marks the open transaction failed and keeps the first reason (why, or SQLite's), in words a
 * user acts on. */
static void fail_tx(exchange_store *x, const char *why) {
    if (x->in_tx) x->tx_failed = true;
    if (x->failure[0]) return;
    if (why) {
        snprintf(x->failure, sizeof x->failure, "%s", why);
        return;
    }
    int code = sqlite3_errcode(x->db) & 0xff;
    if (code == SQLITE_FULL)
        snprintf(x->failure, sizeof x->failure, "the disk is full (%s)", sqlite3_errmsg(x->db));
    else if (code == SQLITE_NOMEM)
        snprintf(x->failure, sizeof x->failure, "out of memory");
    else
        snprintf(x->failure, sizeof x->failure, "%s", sqlite3_errmsg(x->db));
}

static bool step_done(exchange_store *x, sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return true;
    fail_tx(x, NULL);
    return false;
}

/* SQLITE_STATIC: every statement is bound and stepped within one call, while the caller's
 * strings live (no copy per bound string) */
static void bind_text(sqlite3_stmt *st, int i, const char *s) { sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC); }

const char *xstore_error(exchange_store *x) {
    if (!x || !x->db) return "no database";
    return x->failure[0] ? x->failure : sqlite3_errmsg(x->db);
}

bool xstore_meta_get(exchange_store *x, const char *key, char *out, size_t cap) {
    sqlite3_stmt *st = x->st[ST_META_GET];
    bind_text(st, 1, key);
    bool ok = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        ok = true;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ok;
}

bool xstore_meta_set(exchange_store *x, const char *key, const char *value) {
    sqlite3_stmt *st = x->st[ST_META_SET];
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    return step_done(x, st);
}

static uint64_t query_u64(exchange_store *x, int which, uint64_t dflt) {
    sqlite3_stmt *st = x->st[which];
    uint64_t v = dflt;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return v;
}

exchange_store *xstore_open(const char *home, char *err, size_t errlen) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", home, XSTORE_FILE);
    exchange_store *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mp_reader_init(&x->rd);
    db_library_init();
    /* the exchange serves from one thread */
    if (sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, x->db ? sqlite3_errmsg(x->db) : "out of memory");
        xstore_close(x);
        return NULL;
    }
    sqlite3_busy_timeout(x->db, 5000);
    /* WAL + NORMAL: a commit is in the file before the call returns, so it survives a kill of
     * the process; only the checkpoints wait for the disk. */
    char e[256] = "";
    if (!exec_sql(x->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", e, sizeof e) ||
        !exec_sql(x->db, "BEGIN IMMEDIATE", e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", path, e);
        xstore_close(x);
        return NULL;
    }
    /* a book written by a newer aftm may hold what this one cannot read: refuse it, unchanged */
    int version = 0;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(x->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (version > XSTORE_SCHEMA) {
        exec_sql(x->db, "ROLLBACK", NULL, 0);
        snprintf(err, errlen, "%s has schema %d, newer than this aftm's (%d); it is left as it is: run the aftm that "
                 "wrote it, or move the file away to start a new book", path, version, XSTORE_SCHEMA);
        xstore_close(x);
        return NULL;
    }
    if (!exec_sql(x->db, SCHEMA, e, sizeof e) || !exec_sql(x->db, "PRAGMA user_version=1", e, sizeof e)) {
        exec_sql(x->db, "ROLLBACK", NULL, 0);
        snprintf(err, errlen, "%s: cannot create the tables: %s", path, e);
        xstore_close(x);
        return NULL;
    }
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(x->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &x->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(x->db));
            exec_sql(x->db, "ROLLBACK", NULL, 0);
            xstore_close(x);
            return NULL;
        }
    char text[32];
    if (xstore_meta_get(x, "epoch", text, sizeof text)) {
        x->epoch = strtoll(text, NULL, 10);
    } else {
        x->epoch = clock_wall_us();
        snprintf(text, sizeof text, "%lld", (long long)x->epoch);
        xstore_meta_set(x, "epoch", text);
    }
    if (!exec_sql(x->db, "COMMIT", e, sizeof e)) {
        exec_sql(x->db, "ROLLBACK", NULL, 0);
        snprintf(err, errlen, "%s: %s", path, e);
        xstore_close(x);
        return NULL;
    }
    x->last_seq = x->committed_seq = query_u64(x, ST_LAST_SEQ, 0);
    char cerr[256];
    if (!(x->checkpoints = db_checkpointer_start(x->db, cerr, sizeof cerr)))
        log_warn("%s; the book checkpoints on the accept path instead", cerr);
    return x;
}

void xstore_close(exchange_store *x) {
    if (!x) return;
    if (x->in_tx) xstore_rollback(x);
    db_checkpointer_stop(x->checkpoints);
    for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(x->st[i]);
    sqlite3_close(x->db);
    mp_reader_destroy(&x->rd);
    free(x);
}

bool xstore_begin(exchange_store *x) {
    if (x->in_tx) return true;
    int rc = sqlite3_step(x->st[ST_BEGIN]);
    sqlite3_reset(x->st[ST_BEGIN]);
    if (rc != SQLITE_DONE) return false;
    x->in_tx = true;
    x->tx_failed = false;
    x->failure[0] = '\0';
    return true;
}

bool xstore_in_tx(const exchange_store *x) { return x->in_tx; }

void xstore_rollback(exchange_store *x) {
    if (!x->in_tx) return;
    sqlite3_step(x->st[ST_ROLLBACK]);
    sqlite3_reset(x->st[ST_ROLLBACK]);
    x->in_tx = false;
    x->tx_failed = false;
    x->last_seq = x->committed_seq;
}

bool xstore_commit(exchange_store *x) {
    if (!x->in_tx) return true;
    if (x->tx_failed) {
        xstore_rollback(x);
        return false;
    }
    int rc = sqlite3_step(x->st[ST_COMMIT]);
    sqlite3_reset(x->st[ST_COMMIT]);
    if (rc != SQLITE_DONE) {
        fail_tx(x, NULL);
        xstore_rollback(x);
        return false;
    }
    x->in_tx = false;
    x->committed_seq = x->last_seq;
    return true;
}

/* ---- writes ---- */

bool xstore_put_order(exchange_store *x, const sim_order_row *o, int64_t now_us) {
    const broker_order_info *i = &o->info;
    sqlite3_stmt *st = x->st[ST_PUT_ORDER];
    sqlite3_bind_int64(st, 1, o->n);
    if (i->client_order_id[0]) bind_text(st, 2, i->client_order_id);
    else sqlite3_bind_null(st, 2);
    bind_text(st, 3, i->order_serial);
    bind_text(st, 4, i->account);
    bind_text(st, 5, i->symbol);
    bind_text(st, 6, i->side == SIDE_BUY ? "buy" : "sell");
    sqlite3_bind_int64(st, 7, i->qty);
    bind_text(st, 8, broker_order_type_name(i->type));
    sqlite3_bind_int64(st, 9, i->price);
    bind_text(st, 10, broker_tif_name(i->tif));
    bind_text(st, 11, broker_status_name(i->status));
    sqlite3_bind_int64(st, 12, i->filled_qty);
    sqlite3_bind_int64(st, 13, i->filled_notional);
    bind_text(st, 14, i->reason);
    sqlite3_bind_int(st, 15, o->is_send_order);
    bind_text(st, 16, o->error_code);
    bind_text(st, 17, o->error_message);
    bind_text(st, 18, o->note);
    sqlite3_bind_int64(st, 19, now_us);
    if (!step_done(x, st)) return false;
    if (sqlite3_changes(x->db) != 1) { /* order n exists with another id: never overwrite it */
        fail_tx(x, "an order with that number is already in the book under another id");
        return false;
    }
    return true;
}

bool xstore_put_position(exchange_store *x, const sim_position_row *p) {
    /* the open lots as "price:qty" separated by commas, oldest first */
    size_t cap = 32 + p->n_lots * 44, len = 0;
    char *lots = malloc(cap);
    if (!lots) {
        fail_tx(x, "out of memory");
        return false;
    }
    lots[0] = '\0';
    for (size_t k = 0; k < p->n_lots; k++)
        len += (size_t)snprintf(lots + len, cap - len, "%s%" PRId64 ":%" PRId64, k ? "," : "", p->lots[k].price,
                                p->lots[k].qty);
    const broker_position *b = &p->pos;
    sqlite3_stmt *st = x->st[ST_PUT_POSITION];
    bind_text(st, 1, b->account);
    bind_text(st, 2, b->symbol);
    sqlite3_bind_int64(st, 3, b->net_qty);
    sqlite3_bind_int64(st, 4, b->today_filled_long);
    sqlite3_bind_int64(st, 5, b->today_filled_short);
    sqlite3_bind_int64(st, 6, b->today_order_long);
    sqlite3_bind_int64(st, 7, b->today_order_short);
    sqlite3_bind_int64(st, 8, b->today_closed);
    sqlite3_bind_int64(st, 9, b->realized_pl);
    sqlite3_bind_int64(st, 10, contract_multiplier(b->symbol));
    bind_text(st, 11, lots);
    bool ok = step_done(x, st);
    free(lots);
    return ok && xstore_ensure_account(x, b->account);
}

bool xstore_put_product(exchange_store *x, const broker_product *p) {
    sqlite3_stmt *st = x->st[ST_PUT_PRODUCT];
    bind_text(st, 1, p->code);
    bind_text(st, 2, p->name);
    bind_text(st, 3, p->delivery_month);
    bind_text(st, 4, p->market);
    sqlite3_bind_int64(st, 5, p->reference_price);
    sqlite3_bind_int64(st, 6, p->max_price);
    sqlite3_bind_int64(st, 7, p->min_price);
    return step_done(x, st);
}

bool xstore_set_last_price(exchange_store *x, const char *code, price_t last) {
    sqlite3_stmt *st = x->st[ST_SET_LAST];
    bind_text(st, 1, code);
    sqlite3_bind_int64(st, 2, last);
    return step_done(x, st);
}

bool xstore_add_report(exchange_store *x, const broker_report *r, const void *body, size_t len) {
    if (r->seq <= x->last_seq) {
        fail_tx(x, "a report out of sequence");
        return false;
    }
    if (!body || !len || len > INT32_MAX) {
        fail_tx(x, "a report without its body");
        return false;
    }
    sqlite3_stmt *st = x->st[ST_ADD_REPORT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->seq);
    bind_text(st, 2, r->client_order_id);
    bind_text(st, 3, r->order_serial);
    sqlite3_bind_blob(st, 4, body, (int)len, SQLITE_STATIC); /* stepped and unbound before returning */
    if (!step_done(x, st)) return false;
    x->last_seq = r->seq;
    if (!r->fill_id[0]) return true;
    st = x->st[ST_ADD_FILL];
    bind_text(st, 1, r->fill_id);
    sqlite3_bind_int64(st, 2, r->fill_qty);
    sqlite3_bind_int64(st, 3, r->fill_price);
    sqlite3_bind_int64(st, 4, r->ts_us);
    bind_text(st, 5, r->order_serial);
    if (!step_done(x, st)) return false;
    if (sqlite3_changes(x->db) != 1) { /* the order is not in the book */
        fail_tx(x, "a fill for an order that is not in the book");
        return false;
    }
    return true;
}

bool xstore_ensure_account(exchange_store *x, const char *account) {
    sqlite3_stmt *st = x->st[ST_ENSURE_ACCOUNT];
    bind_text(st, 1, account);
    sqlite3_bind_int64(st, 2, XSTORE_START_CASH);
    return step_done(x, st);
}

/* ---- reads ---- */

uint64_t xstore_last_seq(exchange_store *x) { return x->last_seq; }

uint64_t xstore_first_seq(exchange_store *x) { return query_u64(x, ST_FIRST_SEQ, x->last_seq + 1); }

int64_t xstore_epoch(exchange_store *x) { return x->epoch; }

/* A report log row's body: a msgpack map (a BLOB), or the JSON text of a book written before. */
static bool read_body(exchange_store *x, sqlite3_stmt *st, int col, broker_report *out) {
    const void *data = sqlite3_column_blob(st, col); /* BLOB or TEXT: the bytes as stored */
    int len = sqlite3_column_bytes(st, col);
    if (!data || len <= 0) return false;
    if (mp_is_map(data, (size_t)len)) return bp_read_report(&x->rd, data, (size_t)len, out);
    json_error_t jerr;
    json_t *j = json_loadb(data, (size_t)len, 0, &jerr);
    bool ok = bj_to_report(j, out);
    json_decref(j);
    return ok;
}

long xstore_reports_since(exchange_store *x, uint64_t since, broker_report *out, size_t cap, bool *more) {
    sqlite3_stmt *st = x->st[ST_REPORTS_SINCE];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cap + 1);
    long n = 0;
    *more = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((size_t)n == cap) {
            *more = true;
            break;
        }
        if (!read_body(x, st, 1, &out[n])) {
            n = -1;
            break;
        }
        out[n].seq = (uint64_t)sqlite3_column_int64(st, 0);
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) n = -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return n;
}

bool xstore_cash(exchange_store *x, const char *account, int64_t *cash) {
    sqlite3_stmt *st = x->st[ST_CASH];
    bind_text(st, 1, account);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) *cash = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ok;
}

uint64_t xstore_count(exchange_store *x, const char *table) {
    static const char *const known[] = {"orders", "fills", "positions", "reports", "products", "accounts"};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) ok = ok || !strcmp(table, known[i]);
    if (!ok) return 0;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
    uint64_t n = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

/* ---- restore ---- */

static void col_text(sqlite3_stmt *st, int i, char *out, size_t cap) {
    const char *s = (const char *)sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", s ? s : "");
}

static bool restore_products(exchange_store *x, broker *b, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT code, name, delivery_month, market, reference_price, max_price, min_price,"
                           " last_price FROM products ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "products: %s", sqlite3_errmsg(x->db));
        return false;
    }
    bool ok = true;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        broker_product p;
        memset(&p, 0, sizeof p);
        col_text(st, 0, p.code, sizeof p.code);
        col_text(st, 1, p.name, sizeof p.name);
        col_text(st, 2, p.delivery_month, sizeof p.delivery_month);
        col_text(st, 3, p.market, sizeof p.market);
        p.reference_price = sqlite3_column_int64(st, 4);
        p.max_price = sqlite3_column_int64(st, 5);
        p.min_price = sqlite3_column_int64(st, 6);
        if (!sim_broker_restore_product(b, &p, sqlite3_column_int64(st, 7))) {
            snprintf(err, errlen, "cannot restore product %s", p.code);
            ok = false;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

static bool restore_orders(exchange_store *x, broker *b, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT n, client_order_id, order_serial, account, symbol, side, qty, order_type, price,"
                           " time_in_force, status, filled_qty, filled_notional, reason, is_send_order, error_code,"
                           " error_message, note FROM orders ORDER BY n",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "orders: %s", sqlite3_errmsg(x->db));
        return false;
    }
    bool ok = true;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        sim_order_row o;
        memset(&o, 0, sizeof o);
        broker_order_info *i = &o.info;
        o.n = (uint32_t)sqlite3_column_int64(st, 0);
        col_text(st, 1, i->client_order_id, sizeof i->client_order_id);
        col_text(st, 2, i->order_serial, sizeof i->order_serial);
        col_text(st, 3, i->account, sizeof i->account);
        col_text(st, 4, i->symbol, sizeof i->symbol);
        char text[32];
        col_text(st, 5, text, sizeof text);
        i->side = !strcmp(text, "sell") ? SIDE_SELL : SIDE_BUY;
        i->qty = sqlite3_column_int64(st, 6);
        col_text(st, 7, text, sizeof text);
        bool parsed = broker_order_type_parse(text, &i->type);
        i->price = sqlite3_column_int64(st, 8);
        col_text(st, 9, text, sizeof text);
        parsed = parsed && broker_tif_parse(text, &i->tif);
        col_text(st, 10, text, sizeof text);
        parsed = parsed && broker_status_parse(text, &i->status);
        i->filled_qty = sqlite3_column_int64(st, 11);
        i->filled_notional = sqlite3_column_int64(st, 12);
        col_text(st, 13, i->reason, sizeof i->reason);
        o.is_send_order = sqlite3_column_int(st, 14) != 0;
        col_text(st, 15, o.error_code, sizeof o.error_code);
        col_text(st, 16, o.error_message, sizeof o.error_message);
        col_text(st, 17, o.note, sizeof o.note);
        if (!parsed || !sim_broker_restore_order(b, &o)) {
            snprintf(err, errlen, "cannot restore order %u (%s): %s", (unsigned)o.n, i->order_serial,
                     parsed ? "out of order or a repeated client order id" : "unreadable row");
            ok = false;
        }
    }
    sqlite3_finalize(st);
    return ok;
}

static bool parse_lots(const char *text, sim_lot **out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == ',';
    sim_lot *lots = calloc(cap, sizeof *lots);
    if (!lots) return false;
    const char *p = text;
    while (*p) {
        char *end;
        long long price = strtoll(p, &end, 10);
        if (end == p || *end != ':') break;
        p = end + 1;
        long long qty = strtoll(p, &end, 10);
        if (end == p) break;
        lots[(*n)++] = (sim_lot){price, qty};
        p = *end == ',' ? end + 1 : end;
        if (*n == cap) break;
    }
    *out = lots;
    return true;
}

static bool restore_positions(exchange_store *x, broker *b, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT account, symbol, net_qty, today_filled_long, today_filled_short, today_order_long,"
                           " today_order_short, today_closed, realized_pl, lots FROM positions ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "positions: %s", sqlite3_errmsg(x->db));
        return false;
    }
    bool ok = true;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        sim_position_row r;
        memset(&r, 0, sizeof r);
        broker_position *p = &r.pos;
        col_text(st, 0, p->account, sizeof p->account);
        col_text(st, 1, p->symbol, sizeof p->symbol);
        p->net_qty = sqlite3_column_int64(st, 2);
        p->today_filled_long = sqlite3_column_int64(st, 3);
        p->today_filled_short = sqlite3_column_int64(st, 4);
        p->today_order_long = sqlite3_column_int64(st, 5);
        p->today_order_short = sqlite3_column_int64(st, 6);
        p->today_closed = sqlite3_column_int64(st, 7);
        p->realized_pl = sqlite3_column_int64(st, 8);
        sim_lot *lots;
        const char *text = (const char *)sqlite3_column_text(st, 9);
        if (!parse_lots(text ? text : "", &lots, &r.n_lots)) {
            snprintf(err, errlen, "out of memory");
            ok = false;
            break;
        }
        r.lots = lots;
        if (!sim_broker_restore_position(b, &r)) {
            snprintf(err, errlen, "cannot restore the position of %s in %s", p->account, p->symbol);
            ok = false;
        }
        free(lots);
    }
    sqlite3_finalize(st);
    return ok;
}

static uint64_t last_fill_number(exchange_store *x) {
    sqlite3_stmt *st;
    uint64_t n = 0;
    if (sqlite3_prepare_v2(x->db, "SELECT fill_id FROM fills WHERE fill_id LIKE 'SIM-F%'", -1, &st, NULL) != SQLITE_OK)
        return 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        uint64_t v = strtoull(id + 5, NULL, 16);
        if (v > n) n = v;
    }
    sqlite3_finalize(st);
    return n;
}

bool xstore_restore(exchange_store *x, broker *b, char *err, size_t errlen) {
    if (!restore_products(x, b, err, errlen) || !restore_orders(x, b, err, errlen) ||
        !restore_positions(x, b, err, errlen))
        return false;
    sim_broker_restore_fill_seq(b, last_fill_number(x));
    return true;
}
