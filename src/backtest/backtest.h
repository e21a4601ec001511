/* Backtest: ticks drive the strategy engine (entries filled only when the simulated fill
 * arrives) and the order matcher (domain/matching.h); fills become trades with P&L and costs.
 * Pure: the caller reads the tick file and prints the report.
 *
 * Per tick, in this order: (0) orders on their way reach the market: with latency_ms, at the
 * first tick of their symbol at least that long after the signal (without, the next tick); a
 * limit entry (limit_entries) rests from then on and fills at its price on a tick that trades
 * through it; (1) orders resting in the matcher fill at this tick (the "next tick"
 * fill model: an order sent on tick t fills on the next tick of its symbol, at that price moved
 * by the slippage against it); an entry fill tells the strategy (strategy_entry_filled), an exit
 * fill closes the trade; (2) the strategy sees the tick and its entry / exit signals become
 * market orders of the condition's quantity; (3) with the "same tick" fill model, those orders
 * fill at once at this tick's price (+ slippage); (4) the account is marked to this price.
 *
 * Paper trading (aftm run) does the same: the simulated exchange fills a market order at the
 * next tick of its product. One case can differ: an entry whose fill tick already reaches its
 * take profit or stop loss. Here the strategy knows of the fill when it sees that tick and
 * exits on it; in paper trading the strategy hears of the fill on the report socket and sees
 * the tick on the tick socket, in either order, so it exits on that tick or on the next one.
 *
 * Prices: the tick's price truncated to an integer point, as the original does (int()); ticks
 * below 1 point are ignored.
 *
 * Costs (TAIFEX defaults, all configurable):
 *   multiplier  money per point per lot, from the symbol when 0: TX... 200 NTD, MTX... 50 NTD,
 *               anything else 1 (domain/position.h contract_multiplier);
 *   fee         broker commission per lot per side; default 0 (broker-specific: pass yours);
 *   tax         TAIFEX futures transaction tax, a rate on the notional of each side, computed per
 *               contract and rounded to a whole NT$ as TAIFEX does (0.00002 x price x
 *               multiplier: TX at 23,150 -> 93, MTX -> 23), times the lots; default 0.00002.
 * A trade's costs are both sides' fees and tax; its net P&L is gross minus costs. Cash pays each
 * side's costs when that side fills.
 *
 * At the end (backtest_finish): exit orders still resting fill at the last price of their symbol
 * (+ slippage) with their own reason; entries never filled are rejected (counted in
 * unfilled_entries); positions still open are closed at the last price with reason "end of data".
 *
 * Figures (report/figures.h, the same code as the charts and aftm equity list): equity = capital
 * + realized gross - costs paid + open positions marked to the last tick. The max drawdown is
 * that of the daily closes, the capital as the first peak (what aftm chart shows of the daily
 * equity); the intraday max drawdown is measured on the equity after every tick. The daily series
 * holds the equity at each trading day's last tick (no row before the data: the capital is the
 * base), days being calendar days at utc_offset_s (default +08:00, Asia/Taipei); with
 * taifex_sessions a night session (15:00 - 05:00) belongs to the day session after it. Sharpe,
 * Sortino and Calmar are of the daily returns (the first day's against the capital; see
 * fig_ratios_compute); they need 2 days. Exposure = the share of ticks
 * after which at least one position was open. Win = net P&L > 0. Profit factor = sum of winning
 * net P&L / |sum of losing net P&L| (INFINITY with wins and no loss, 0 without trades). */
#ifndef AFTM_BACKTEST_H
#define AFTM_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/condition.h"
#include "report/equity.h"

#define BT_DEFAULT_TAX_RATE 0.00002
#define BT_DEFAULT_CAPITAL 1000000.0
#define BT_DEFAULT_UTC_OFFSET_S (8 * 3600)

typedef enum { BT_FILL_NEXT_TICK = 0, BT_FILL_SAME_TICK = 1 } bt_fill_model;

typedef struct {
    bt_fill_model fill;
    int64_t latency_ms;       /* >= 0: an order reaches the market at the first tick of its
                               * symbol at least this long after its signal (next tick model) */
    bool limit_entries;       /* entries are limit orders at the signal's price, filled at that
                               * price only when a later tick trades through it (exits stay
                               * market orders); next tick model */
    int64_t slippage_points;  /* >= 0, against the order */
    double fee_per_lot;       /* per lot per side */
    double tax_rate;          /* on each side's notional */
    int64_t multiplier;       /* 0 = from the symbol */
    double capital;           /* starting equity */
    int64_t utc_offset_s;     /* day boundaries for the daily series */
    bool taifex_sessions;     /* trading days: the night session belongs to the next day session */
} backtest_config;

/* TAIFEX's transaction tax of one contract on one side, rounded to a whole NT$. */
double backtest_tax_per_contract(double rate, price_t price, int64_t multiplier);

/* fill next tick, no slippage, no fee, tax 0.00002, multiplier from the symbol, 1,000,000
 * capital, days at +08:00. */
void backtest_config_default(backtest_config *cfg);

typedef enum { BT_EXIT_TAKE_PROFIT = 0, BT_EXIT_STOP_LOSS = 1, BT_EXIT_END_OF_DATA = 2 } bt_exit_reason;
const char *bt_reason_name(bt_exit_reason r); /* "take profit", "stop loss", "end of data" */

typedef struct {
    int64_t condition_id;        /* the condition as added (re-armed copies carry its id) */
    int64_t engine_id;           /* the id in the engine: condition_id, or a re-armed copy's */
    char symbol[CONDITION_SYMBOL_MAX];
    side_t side;                 /* the entry's side */
    int64_t qty;
    int64_t multiplier;
    int64_t signal_ts_us;        /* the entry signal's tick */
    int64_t entry_ts_us, exit_ts_us;
    price_t entry_signal_price;  /* tick price when the entry was signalled */
    price_t entry_price, exit_price;
    price_t exit_signal_price;
    int64_t points;              /* (exit - entry) x direction x qty */
    double gross, costs, net;
    bt_exit_reason reason;
    bool closed;
} backtest_trade;

typedef struct {
    size_t ticks;             /* ticks fed (after dropping prices < 1) */
    size_t entry_signals, exit_signals;
    size_t trades, wins, losses; /* closed trades */
    size_t unfilled_entries;
    double win_rate;          /* 0..1 */
    int64_t points;
    double gross_pnl, costs, net_pnl;
    double gross_profit, gross_loss; /* sums of the net P&L of winners / losers (loss <= 0) */
    double profit_factor;
    double avg_win, avg_loss;  /* mean net P&L of winners / losers (loss <= 0) */
    double expectancy;         /* mean net P&L per trade */
    size_t win_streak, loss_streak; /* longest runs of winners / losers */
    double trades_per_day;
    double max_drawdown;      /* of the daily closes (as aftm chart and aftm equity list): money, <= 0 */
    double max_drawdown_pct;  /* of the running peak of the daily closes, the capital first; <= 0 */
    double drawdown_days;     /* the most trading days in a row the daily closes stayed under a peak */
    double intraday_max_drawdown;     /* the same measured after every tick: money, <= 0 */
    double intraday_max_drawdown_pct; /* <= 0 */
    double intraday_drawdown_s;       /* the longest time under a peak, tick by tick, in seconds of
                                       * trading time (pauses over 30 min left out) */
    double sharpe, sortino, calmar;
    bool sharpe_valid, sortino_valid, calmar_valid;
    double exposure;          /* 0..1 */
    double capital, final_equity, return_pct;
    int64_t first_ts_us, last_ts_us;
    size_t days;              /* days with ticks */
} backtest_summary;

typedef struct backtest backtest;

backtest *backtest_new(const backtest_config *cfg);
void backtest_free(backtest *bt);
/* Copies c in (it must have a symbol and a unique id below 2^32); false otherwise. */
bool backtest_add_condition(backtest *bt, const condition *c);
/* The same; with repeat, the condition is armed again after each exit, as live trading's
 * re-arming does (aftm run --rearm): when its take profit or stop loss is signalled, a fresh
 * copy (the original trigger price and points, state cleared) joins the engine and is
 * evaluated from the next tick on. Its trades carry the original condition's id. */
bool backtest_add_condition_repeat(backtest *bt, const condition *c, bool repeat);
/* Feeds one tick. False only when memory ran out (the run is then incomplete). */
bool backtest_on_tick(backtest *bt, const char *symbol, double price, int64_t ts_us);
/* Ends the run (see above). Call once, after the last tick. */
void backtest_finish(backtest *bt);

const backtest_trade *backtest_trades(const backtest *bt, size_t *n);
void backtest_get_summary(const backtest *bt, backtest_summary *out);
const equity_series *backtest_daily_equity(const backtest *bt);
/* The equity through the run, after backtest_finish: the capital at the first tick, then for
 * each minute with ticks the equity at its highest, lowest and last tick, in tick order (the
 * last point is the end). */
typedef struct {
    int64_t ts_us;
    double equity;
} backtest_point;
const backtest_point *backtest_equity_curve(const backtest *bt, size_t *n);
/* Ticks seen for a symbol (0 when never seen). */
size_t backtest_symbol_ticks(const backtest *bt, const char *symbol);

#endif
