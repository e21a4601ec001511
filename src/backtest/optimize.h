/* Parameter search over a set of conditions: a grid of turning / take profit / stop loss
 * points, each point a full backtest over ticks read once and shared read-only by every worker
 * thread. Walk-forward: the ticks are cut into K folds of equal tick count; for each fold
 * after the first, the best point on the fold before it (in sample) is run on it (out of
 * sample), so a grid that only fits the past shows as a drop.
 *
 * Pure computation: no file is read or written here (the CLI reads the ticks and writes the
 * CSV, the JSON and the heatmap). */
#ifndef AFTM_OPTIMIZE_H
#define AFTM_OPTIMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backtest/backtest.h"

typedef enum { OPT_TURNING = 0, OPT_TP = 1, OPT_SL = 2, OPT_NPARAMS = 3 } opt_param;
const char *opt_param_name(opt_param p); /* "turning", "tp", "sl" */

typedef struct {
    bool set;
    int64_t lo, hi, step;
} opt_range;

/* "turning=5..30:5,tp=20..120:20,sl=10..60:10" (a single value "sl=30" too). Parameters not
 * named keep each condition's own value. False with err on bad text or > max_points points. */
bool opt_parse_grid(const char *text, opt_range out[OPT_NPARAMS], size_t max_points, char *err, size_t errlen);
size_t opt_grid_size(const opt_range r[OPT_NPARAMS]);
/* The i-th point's values (unset parameters: -1). */
void opt_grid_point(const opt_range r[OPT_NPARAMS], size_t i, int64_t vals[OPT_NPARAMS]);

typedef enum { OPT_METRIC_NET = 0, OPT_METRIC_SHARPE, OPT_METRIC_PF, OPT_METRIC_WIN_RATE, OPT_METRIC_DD } opt_metric;
bool opt_parse_metric(const char *s, opt_metric *m); /* net, sharpe, pf, winrate, drawdown */
const char *opt_metric_name(opt_metric m);
/* The metric of a summary, larger is better (drawdown: the least negative). */
double opt_metric_value(opt_metric m, const backtest_summary *s);

typedef struct {
    int64_t ts_us;
    double price;
} opt_tick;

typedef struct {
    size_t points; /* grid points this thread ran */
    double cpu_s;  /* its CPU time (CLOCK_THREAD_CPUTIME_ID) */
} opt_thread_stat;

typedef struct {
    const opt_tick *ticks; /* one symbol's ticks in time order, shared read-only */
    size_t nticks;
    const char *symbol;
    const condition *conds; /* the base conditions, each with its symbol */
    const bool *repeat;     /* per condition (may be NULL) */
    size_t nconds;
    backtest_config cfg;
    opt_range grid[OPT_NPARAMS];
    int threads;            /* <= 0: every online core */
    opt_thread_stat *stats; /* NULL, or a slot per thread (opt_threads()): what each ran in the
                             * last opt_run, so a run can show every thread really worked */
} opt_job;

/* The threads opt_run uses for a grid of n points. */
int opt_threads(const opt_job *job, size_t n);

typedef struct {
    int64_t vals[OPT_NPARAMS];
    backtest_summary s;
    double metric;
} opt_result;

/* Runs every grid point over ticks[from, to). results has opt_grid_size() slots, in grid
 * order. False when memory ran out. */
bool opt_run(const opt_job *job, size_t from, size_t to, opt_metric m, opt_result *results);
/* The index of the best result (ties: the first). */
size_t opt_best(const opt_result *r, size_t n);
/* Indices of the best k results, best first, into idx (k slots). Returns how many. */
size_t opt_top(const opt_result *r, size_t n, size_t k, size_t *idx);

typedef struct {
    size_t fold;                  /* 1..K-1: the out-of-sample fold */
    size_t is_from, is_to, oos_from, oos_to; /* tick index ranges */
    opt_result in_sample;         /* the best point on the fold before */
    opt_result out_of_sample;     /* the same point on this fold */
} opt_fold;

/* K >= 2 folds of equal tick count; out gets K - 1 entries. */
bool opt_walk_forward(const opt_job *job, size_t k, opt_metric m, opt_fold *out);

#endif
