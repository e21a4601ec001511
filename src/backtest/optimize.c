/* Grid search and walk-forward over shared ticks (see optimize.h). Workers take grid points
 * from an atomic counter; each runs its own backtest, so nothing but the counter is shared
 * while they run, and the ticks are only read. */
#include "backtest/optimize.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "core/parse.h"

static const char *const param_names[OPT_NPARAMS] = {"turning", "tp", "sl"};

const char *opt_param_name(opt_param p) { return p < OPT_NPARAMS ? param_names[p] : "?"; }

static bool parse_i64(const char *s, size_t n, int64_t *out) {
    char tmp[32];
    if (!n || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return parse_int_range(tmp, 1, 1000000, out);
}

bool opt_parse_grid(const char *text, opt_range out[OPT_NPARAMS], size_t max_points, char *err, size_t errlen) {
    memset(out, 0, sizeof(opt_range) * OPT_NPARAMS);
    const char *p = text;
    if (!p || !*p) {
        snprintf(err, errlen, "empty grid");
        return false;
    }
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        int which = -1;
        for (int i = 0; eq && i < OPT_NPARAMS; i++)
            if ((size_t)(eq - p) == strlen(param_names[i]) && !memcmp(p, param_names[i], (size_t)(eq - p))) which = i;
        if (which < 0) {
            snprintf(err, errlen, "'%.*s': want NAME=LO..HI:STEP or NAME=V, NAME one of turning, tp, sl", (int)len, p);
            return false;
        }
        if (out[which].set) {
            snprintf(err, errlen, "%s given twice", param_names[which]);
            return false;
        }
        const char *v = eq + 1, *vend = p + len;
        const char *dots = NULL;
        for (const char *q = v; q + 1 < vend; q++)
            if (q[0] == '.' && q[1] == '.') {
                dots = q;
                break;
            }
        opt_range r = {.set = true, .step = 1};
        if (!dots) {
            if (!parse_i64(v, (size_t)(vend - v), &r.lo)) goto bad;
            r.hi = r.lo;
        } else {
            const char *colon = memchr(dots, ':', (size_t)(vend - dots));
            if (!parse_i64(v, (size_t)(dots - v), &r.lo)) goto bad;
            const char *hend = colon ? colon : vend;
            if (!parse_i64(dots + 2, (size_t)(hend - dots - 2), &r.hi)) goto bad;
            if (colon && !parse_i64(colon + 1, (size_t)(vend - colon - 1), &r.step)) goto bad;
            if (r.hi < r.lo) goto bad;
        }
        out[which] = r;
        p = end ? end + 1 : vend;
        continue;
    bad:
        snprintf(err, errlen, "'%.*s': want %s=LO..HI:STEP with whole numbers 1..1000000, LO <= HI", (int)len, p,
                 param_names[which]);
        return false;
    }
    size_t n = opt_grid_size(out);
    if (n > max_points) {
        snprintf(err, errlen, "the grid has %zu points; at most %zu", n, max_points);
        return false;
    }
    return true;
}

static size_t range_count(const opt_range *r) { return r->set ? (size_t)((r->hi - r->lo) / r->step) + 1 : 1; }

size_t opt_grid_size(const opt_range r[OPT_NPARAMS]) {
    size_t n = 1;
    for (int i = 0; i < OPT_NPARAMS; i++) n *= range_count(&r[i]);
    return n;
}

void opt_grid_point(const opt_range r[OPT_NPARAMS], size_t i, int64_t vals[OPT_NPARAMS]) {
    /* the last parameter varies fastest */
    for (int k = OPT_NPARAMS - 1; k >= 0; k--) {
        size_t c = range_count(&r[k]);
        vals[k] = r[k].set ? r[k].lo + (int64_t)(i % c) * r[k].step : -1;
        i /= c;
    }
}

static const char *const metric_names[] = {"net", "sharpe", "pf", "winrate", "drawdown"};

bool opt_parse_metric(const char *s, opt_metric *m) {
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, metric_names[i])) {
            *m = (opt_metric)i;
            return true;
        }
    return false;
}

const char *opt_metric_name(opt_metric m) { return (unsigned)m < 5 ? metric_names[m] : "?"; }

double opt_metric_value(opt_metric m, const backtest_summary *s) {
    switch (m) {
    case OPT_METRIC_SHARPE: return s->sharpe_valid ? s->sharpe : -INFINITY;
    case OPT_METRIC_PF: return isfinite(s->profit_factor) ? s->profit_factor : 1e9;
    case OPT_METRIC_WIN_RATE: return s->trades ? s->win_rate : -INFINITY;
    case OPT_METRIC_DD: return s->intraday_max_drawdown; /* a grid over one day: the closes say little */
    default: return s->net_pnl;
    }
}

/* ---- one point ---------------------------------------------------------------------------- */

static bool run_point(const opt_job *job, size_t from, size_t to, opt_metric m, size_t i, opt_result *out) {
    memset(out, 0, sizeof *out);
    opt_grid_point(job->grid, i, out->vals);
    backtest *bt = backtest_new(&job->cfg);
    if (!bt) return false;
    bool ok = true;
    for (size_t k = 0; k < job->nconds && ok; k++) {
        const condition *b = &job->conds[k];
        condition c;
        condition_init(&c, b->id, b->symbol, b->side, b->base_trigger,
                       out->vals[OPT_TURNING] >= 0 ? out->vals[OPT_TURNING] : b->turning_point, b->quantity,
                       out->vals[OPT_TP] >= 0 ? out->vals[OPT_TP] : b->take_profit_point,
                       out->vals[OPT_SL] >= 0 ? out->vals[OPT_SL] : b->stop_loss_point, b->is_following);
        backtest_add_condition_repeat(bt, &c, job->repeat && job->repeat[k]);
    }
    for (size_t k = from; k < to && ok; k++) ok = backtest_on_tick(bt, job->symbol, job->ticks[k].price, job->ticks[k].ts_us);
    backtest_finish(bt);
    backtest_get_summary(bt, &out->s);
    out->metric = opt_metric_value(m, &out->s);
    backtest_free(bt);
    return ok;
}

typedef struct {
    const opt_job *job;
    size_t from, to, n;
    opt_metric m;
    opt_result *results;
    atomic_size_t next;
    atomic_bool failed;
} opt_work;

typedef struct {
    opt_work *w;
    opt_thread_stat *stat; /* may be NULL */
} opt_worker_arg;

static double thread_cpu_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg) {
    opt_worker_arg *a = arg;
    opt_work *w = a->w;
    double c0 = thread_cpu_s();
    size_t done = 0;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->n) break;
        if (!run_point(w->job, w->from, w->to, w->m, i, &w->results[i])) atomic_store(&w->failed, true);
        done++;
    }
    if (a->stat) *a->stat = (opt_thread_stat){done, thread_cpu_s() - c0};
    return NULL;
}

int opt_threads(const opt_job *job, size_t n) {
    int nt = job->threads > 0 ? job->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nt < 1) nt = 1;
    if ((size_t)nt > n) nt = n ? (int)n : 1;
    return nt;
}

bool opt_run(const opt_job *job, size_t from, size_t to, opt_metric m, opt_result *results) {
    opt_work w = {.job = job, .from = from, .to = to > job->nticks ? job->nticks : to, .m = m, .results = results};
    w.n = opt_grid_size(job->grid);
    atomic_init(&w.next, 0);
    atomic_init(&w.failed, false);
    int nt = opt_threads(job, w.n);
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    opt_worker_arg *args = calloc((size_t)nt, sizeof *args);
    if (!th || !args) {
        free(th);
        free(args);
        return false;
    }
    if (job->stats) memset(job->stats, 0, (size_t)nt * sizeof *job->stats);
    for (int i = 0; i < nt; i++) args[i] = (opt_worker_arg){&w, job->stats ? &job->stats[i] : NULL};
    int started = 0;
    for (int i = 1; i < nt; i++) {
        if (pthread_create(&th[i], NULL, worker, &args[i]) != 0) break;
        started = i;
    }
    worker(&args[0]); /* this thread works too */
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
    free(th);
    free(args);
    return !atomic_load(&w.failed);
}

size_t opt_best(const opt_result *r, size_t n) {
    size_t b = 0;
    for (size_t i = 1; i < n; i++)
        if (r[i].metric > r[b].metric) b = i;
    return b;
}

static const opt_result *sort_base;

static int cmp_idx(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    double mx = sort_base[x].metric, my = sort_base[y].metric;
    if (mx != my) return mx > my ? -1 : 1;
    return x < y ? -1 : x > y;
}

size_t opt_top(const opt_result *r, size_t n, size_t k, size_t *idx) {
    size_t *all = malloc((n ? n : 1) * sizeof *all);
    if (!all) return 0;
    for (size_t i = 0; i < n; i++) all[i] = i;
    sort_base = r; /* the CLI's single thread sorts */
    qsort(all, n, sizeof *all, cmp_idx);
    if (k > n) k = n;
    memcpy(idx, all, k * sizeof *idx);
    free(all);
    return k;
}

bool opt_walk_forward(const opt_job *job, size_t k, opt_metric m, opt_fold *out) {
    if (k < 2 || job->nticks < k) return false;
    size_t n = opt_grid_size(job->grid);
    opt_result *res = malloc(n * sizeof *res);
    if (!res) return false;
    bool ok = true;
    for (size_t f = 1; f < k && ok; f++) {
        opt_fold *o = &out[f - 1];
        memset(o, 0, sizeof *o);
        o->fold = f;
        o->is_from = job->nticks * (f - 1) / k;
        o->is_to = o->oos_from = job->nticks * f / k;
        o->oos_to = job->nticks * (f + 1) / k;
        ok = opt_run(job, o->is_from, o->is_to, m, res);
        if (!ok) break;
        size_t b = opt_best(res, n);
        o->in_sample = res[b];
        ok = run_point(job, o->oos_from, o->oos_to, m, b, &o->out_of_sample);
    }
    free(res);
    return ok;
}
