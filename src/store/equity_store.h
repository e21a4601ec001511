/* The equity log in SQLite: one row per calendar day (Asia/Taipei), `equity(date, equity)`,
 * equity in whole money units. The executor writes today's row after every fill:
 * starting capital + the total P&L of its positions in money (realized + open positions
 * marked to the last price, x the contract multiplier). `aftm equity export` writes it as the
 * original's equity_log.csv.
 *
 * A backtest never writes there: `aftm backtest --record-equity NAME` writes its daily series
 * into a named log (tables equity_logs and equity_log_rows) with the backtest's capital, shown
 * by `aftm equity list --log NAME`.
 *
 * The starting capital is the meta key "capital" (`aftm equity set-capital N`), else
 * EQUITY_DEFAULT_CAPITAL. Changing it does not rewrite the rows already recorded. */
#ifndef AFTM_EQUITY_STORE_H
#define AFTM_EQUITY_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "report/equity.h"

#define EQUITY_DEFAULT_CAPITAL 1000000LL
#define EQUITY_CAPITAL_KEY "capital"
#define EQUITY_UTC_OFFSET_S (8 * 3600) /* Asia/Taipei, no daylight saving */

/* The starting capital: the meta key, else the default. */
long long estore_capital(sqlite3 *db);
/* False unless capital > 0 and it was stored. */
bool estore_set_capital(sqlite3 *db, long long capital);

/* Days since 1970-01-01 of a Unix time in Asia/Taipei. */
int64_t estore_day_of(int64_t unix_s);

/* Inserts or replaces the row of that day. */
bool estore_put(sqlite3 *db, int64_t day, long long equity);
/* Today's row (Asia/Taipei date of now_s) = capital + pnl_money. */
bool estore_record_pnl(sqlite3 *db, int64_t now_s, long long pnl_money);
/* Every point of s (rounded to whole units), in one transaction. */
bool estore_put_series(sqlite3 *db, const equity_series *s);
/* The whole log in date order into out (initialised here). False on a database error. */
bool estore_load(sqlite3 *db, equity_series *out);
/* Deletes every row; returns how many, or -1. */
int estore_clear(sqlite3 *db);

/* ---- named logs ---- */
#define EQUITY_LOG_NAME_MAX 64
/* 1 to 64 of [A-Za-z0-9._-]. */
bool estore_log_name_ok(const char *name);
/* The log NAME becomes s with that capital (its old rows replaced), in one transaction. */
bool estore_log_put(sqlite3 *db, const char *name, long long capital, const equity_series *s, double now_s);
/* 1 with the rows (out initialised) and the capital, 0 when there is no such log, -1 on a
 * database error. */
int estore_log_load(sqlite3 *db, const char *name, equity_series *out, long long *capital);
typedef void (*estore_log_fn)(void *ctx, const char *name, long long capital, size_t rows);
/* Each named log in name order; the count, or -1. */
int estore_log_list(sqlite3 *db, estore_log_fn fn, void *ctx);
/* Deletes the log and its rows: 1 done, 0 no such log, -1 error. */
int estore_log_drop(sqlite3 *db, const char *name);

#endif
