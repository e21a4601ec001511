/* The figures of an equity curve and of a list of trades, computed here once for the backtest
 * report, both charts and `aftm equity list`, so that they agree: return, drawdown (money, %,
 * duration), Sharpe, Sortino and Calmar of daily closes; expectancy, average win and loss,
 * streaks, trades per day. Pure arithmetic: no I/O, no formatting.
 *
 * A curve is points (t, equity) in time order, t in days (fractional for intraday points),
 * and a base: the equity before the first point (the starting capital). The running peak
 * starts at the base, so a first day below the capital is a drawdown and a first live day of
 * 1,003,600 on 1,000,000 is a return of +0.36 %. Without a base (NAN or <= 0) the first point
 * is the base, as the original's chart script does with its CSV. */
#ifndef AFTM_FIGURES_H
#define AFTM_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/equity.h"

#define FIG_TRADING_DAYS 252.0 /* a year of trading days, to annualise */

typedef struct {
    double t;      /* days since 1970-01-01, local time */
    double equity;
} fig_point;

typedef struct {
    size_t n;
    double base;           /* the equity before the first point */
    double final;
    double peak, trough;   /* over the points */
    size_t peak_index;     /* the first point at the peak */
    double return_pct;     /* (final - base) / base x 100; 0 when base <= 0 */
    double max_dd;         /* money, <= 0: the deepest fall from the running peak */
    double max_dd_pct;     /* <= 0: the deepest fall in % of the running peak then */
    size_t dd_trough_index;  /* the point of max_dd_pct (0 when there is no drawdown) */
    double dd_duration;    /* the longest time under water, in days: from a peak (the base's
                            * time is the first point's) to the first point back at or above it,
                            * or to the last point when it never came back */
    size_t dd_points;      /* the longest run of points under a peak (trading days, for a
                            * daily series) */
    double first_t, last_t;
} fig_curve;

/* False for no points. */
bool fig_curve_compute(const fig_point *p, size_t n, double base, fig_curve *out);
/* The same for a daily series (t = the day). */
bool fig_curve_daily(const equity_series *s, double base, fig_curve *out);
/* Closed time taken out: every gap between points longer than gap_max (days) shrinks to
 * nothing, so durations measured on the points are in trading time (nights and weekends
 * do not count; the chart collapses the same gaps). */
void fig_collapse_closed(fig_point *p, size_t n, double gap_max);
#define FIG_INTRADAY_GAP_MAX (30.0 / 1440.0) /* a pause of more than half an hour is closed time */
/* The drawdown in % of the running peak at every point (<= 0), into dd (n slots). */
void fig_drawdown_series(const fig_point *p, size_t n, double base, double *dd);

typedef struct {
    size_t days;              /* daily returns used */
    double sharpe, sortino, calmar;
    bool sharpe_valid, sortino_valid, calmar_valid;
    double annual_return_pct; /* compounded over FIG_TRADING_DAYS days */
} fig_ratios;

/* Of the daily closes against the base (the first day's return is against it):
 *   Sharpe  = mean / sample stdev of daily returns x sqrt(252); 2 days and a non-zero stdev;
 *   Sortino = mean / downside deviation x sqrt(252), the downside deviation being
 *             sqrt(sum(min(r, 0)^2) / days); 2 days and at least one losing day;
 *   Calmar  = annual return / |max drawdown of the closes| (both in %), the annual return
 *             being (final / base)^(252 / days) - 1; 2 days and a drawdown. */
void fig_ratios_compute(const equity_series *daily, double base, fig_ratios *out);

typedef struct {
    size_t trades, wins, losses;  /* win: net > 0, loss: net < 0 */
    double win_rate;              /* 0..1 */
    double net, gross_profit, gross_loss; /* sums of net P&L: all, winners, losers (<= 0) */
    double profit_factor;         /* gross_profit / -gross_loss; INFINITY with wins and no
                                   * loss, 0 without trades */
    double avg_win, avg_loss;     /* mean net of winners / losers (avg_loss <= 0); 0 when none */
    double expectancy;            /* mean net per trade */
    size_t win_streak, loss_streak; /* the longest runs (a flat trade ends both) */
    double trades_per_day;        /* trades / trading days; 0 without days */
} fig_trades;

/* net[i]: each closed trade's net P&L in the order they closed. */
void fig_trades_compute(const double *net, size_t n, size_t days, fig_trades *out);

#endif
