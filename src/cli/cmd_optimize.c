/* aftm optimize: a grid search over the conditions' turning / take profit / stop loss points on
 * one product's ticks (read once, shared by every core), the best sets by a metric, the whole
 * grid as CSV and JSON, a heatmap of two parameters, and a walk-forward check. The search
 * itself is backtest/optimize.c; this file reads the inputs and writes the outputs. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backtest/backtest.h"
#include "backtest/conditions_file.h"
#include "backtest/optimize.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/parse.h"
#include "report/chart.h"
#include "report/heatmap.h"
#include "ticks/tickset.h"

#define OPT_MAX_POINTS 100000
#define OPT_MAX_TICK_ARGS 256

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm optimize --ticks FILE|DIR... --product P --conditions FILE --grid SPEC [options]\n\n"
            "Runs one backtest per grid point (every core; ticks parsed once) and ranks them.\n\n"
            "  --grid SPEC         e.g. 'turning=5..30:5,tp=20..120:20,sl=10..60:10' (NAME=LO..HI:STEP\n"
            "                      or NAME=V; names turning, tp, sl; others keep each condition's)\n"
            "  --metric M          net (default), sharpe, pf, winrate, drawdown (intraday, tick by tick)\n"
            "  --top N             print the best N sets (default 10)\n"
            "  --csv FILE          the whole grid, one row per point\n"
            "  --json FILE         the same as JSON, with the walk-forward folds\n"
            "  --heatmap FILE      PNG of the metric over the first two grid parameters (best over\n"
            "                      the third)\n"
            "  --walk-forward K    cut the ticks into K folds; per fold, the best set of the fold\n"
            "                      before (in sample) and its result on this one (out of sample)\n"
            "  --threads N         worker threads (default: every core)\n"
            "  --repeat            conditions are armed again after each exit\n"
            "  --product P, --expiry E, --fill next|same, --slippage N, --fee N, --tax R,\n"
            "  --capital N         as in aftm backtest\n");
}

typedef struct {
    const char *ticks_v[OPT_MAX_TICK_ARGS];
    size_t nticks;
    const char *product, *expiry, *conditions, *grid, *csv, *json, *heatmap;
    opt_metric metric;
    int64_t top, walk, threads;
    bool repeat;
    backtest_config cfg;
} opt_args;

static int parse_args(int argc, char **argv, opt_args *a) {
    memset(a, 0, sizeof *a);
    backtest_config_default(&a->cfg);
    a->top = 10;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            usage(stdout);
            return -1;
        }
        if (!strcmp(k, "--repeat")) {
            a->repeat = true;
            continue;
        }
        if (!v || !*v) {
            fprintf(stderr, "aftm optimize: %s needs a value\n", k);
            return EXIT_USAGE;
        }
        i++;
        int64_t iv;
        double dv;
        if (!strcmp(k, "--ticks")) {
            a->ticks_v[a->nticks++] = v;
            while (i + 1 < argc && argv[i + 1][0] && strncmp(argv[i + 1], "--", 2) && a->nticks < OPT_MAX_TICK_ARGS)
                a->ticks_v[a->nticks++] = argv[++i];
        } else if (!strcmp(k, "--product")) a->product = v;
        else if (!strcmp(k, "--expiry")) a->expiry = v;
        else if (!strcmp(k, "--conditions")) a->conditions = v;
        else if (!strcmp(k, "--grid")) a->grid = v;
        else if (!strcmp(k, "--csv")) a->csv = v;
        else if (!strcmp(k, "--json")) a->json = v;
        else if (!strcmp(k, "--heatmap")) a->heatmap = v;
        else if (!strcmp(k, "--metric")) {
            if (!opt_parse_metric(v, &a->metric)) {
                fprintf(stderr, "aftm optimize: --metric wants net, sharpe, pf, winrate or drawdown, not '%s'\n", v);
                return EXIT_USAGE;
            }
        } else if (!strcmp(k, "--top")) {
            if (!parse_int_range(v, 1, 1000000, &a->top)) goto bad;
        } else if (!strcmp(k, "--walk-forward")) {
            if (!parse_int_range(v, 2, 100, &a->walk)) goto bad;
        } else if (!strcmp(k, "--threads")) {
            if (!parse_int_range(v, 1, 1024, &a->threads)) goto bad;
        } else if (!strcmp(k, "--fill")) {
            if (!strcmp(v, "next")) a->cfg.fill = BT_FILL_NEXT_TICK;
            else if (!strcmp(v, "same")) a->cfg.fill = BT_FILL_SAME_TICK;
            else goto bad;
        } else if (!strcmp(k, "--slippage")) {
            if (!parse_int_range(v, 0, 1000000, &iv)) goto bad;
            a->cfg.slippage_points = iv;
        } else if (!strcmp(k, "--fee")) {
            if (!parse_double(v, &dv) || dv < 0) goto bad;
            a->cfg.fee_per_lot = dv;
        } else if (!strcmp(k, "--tax")) {
            if (!parse_double(v, &dv) || dv < 0 || dv >= 1) goto bad;
            a->cfg.tax_rate = dv;
        } else if (!strcmp(k, "--capital")) {
            if (!parse_double(v, &dv) || dv <= 0) goto bad;
            a->cfg.capital = dv;
        } else {
            fprintf(stderr, "aftm optimize: unknown argument '%s' (see aftm optimize --help)\n", k);
            return EXIT_USAGE;
        }
        continue;
    bad:
        fprintf(stderr, "aftm optimize: bad value '%s' for %s (see aftm optimize --help)\n", v, k);
        return EXIT_USAGE;
    }
    if (!a->nticks || !a->conditions || !a->grid) {
        fprintf(stderr, "aftm optimize: --ticks, --conditions and --grid are required\n\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one symbol's ticks: the first tick's symbol decides (a product filter makes it one). */
static opt_tick *load_ticks(opt_args *a, size_t *n, char *symbol, size_t symcap) {
    char err[512];
    tick_filter f = {.product = a->product, .expiry = a->expiry};
    tick_set *s = tick_set_open(a->ticks_v, a->nticks, &f, err, sizeof err);
    if (!s) {
        fprintf(stderr, "aftm optimize: %s\n", err);
        return NULL;
    }
    a->cfg.taifex_sessions = !strcmp(tick_set_format(s), "taifex");
    a->cfg.utc_offset_s = a->cfg.taifex_sessions ? 8 * 3600 : 0;
    if (a->cfg.taifex_sessions && !a->product && tick_set_products(s) > 1) {
        fprintf(stderr, "aftm optimize: the file holds %zu products; name one with --product (e.g. TX)\n",
                tick_set_products(s));
        tick_set_close(s);
        return NULL;
    }
    bool continuous = tick_set_file_count(s) > 1 && a->cfg.taifex_sessions && a->product && !a->expiry;
    size_t cap = 1 << 16;
    opt_tick *t = malloc(cap * sizeof *t);
    tick_row row;
    int rc;
    *n = 0;
    symbol[0] = '\0';
    while (t && (rc = tick_set_next(s, &row)) == 1) {
        if (continuous) snprintf(row.symbol, sizeof row.symbol, "%s", a->product);
        if (!symbol[0]) snprintf(symbol, symcap, "%s", row.symbol);
        if (strcmp(row.symbol, symbol)) continue;
        if (!buf_grow((void **)&t, &cap, *n + 1, sizeof *t)) {
            free(t);
            t = NULL;
            break;
        }
        t[(*n)++] = (opt_tick){row.ts_us, row.price};
    }
    if (t && rc < 0) {
        fprintf(stderr, "aftm optimize: %s\n", tick_set_error(s));
        free(t);
        t = NULL;
    } else if (!t) {
        fprintf(stderr, "aftm optimize: out of memory\n");
    } else if (!*n) {
        fprintf(stderr, "aftm optimize: no ticks in the file (after the product/expiry filter)\n");
        free(t);
        t = NULL;
    }
    tick_set_close(s);
    return t;
}

static void print_row(const opt_result *r, size_t rank, const opt_range *g) {
    printf("  %4zu ", rank);
    for (int p = 0; p < OPT_NPARAMS; p++)
        if (g[p].set) printf(" %7lld", (long long)r->vals[p]);
    char pf[16], sh[16];
    if (isfinite(r->s.profit_factor)) snprintf(pf, sizeof pf, "%.2f", r->s.profit_factor);
    else snprintf(pf, sizeof pf, "inf");
    if (r->s.sharpe_valid) snprintf(sh, sizeof sh, "%.2f", r->s.sharpe);
    else snprintf(sh, sizeof sh, "n/a");
    printf("  %6zu %6.1f%% %12.0f %8s %10.0f %7s\n", r->s.trades, r->s.win_rate * 100, r->s.net_pnl, pf,
           r->s.intraday_max_drawdown, sh);
}

static void print_header(const opt_range *g) {
    printf("  %4s ", "#");
    for (int p = 0; p < OPT_NPARAMS; p++)
        if (g[p].set) printf(" %7s", opt_param_name((opt_param)p));
    printf("  %6s %7s %12s %8s %10s %7s\n", "trades", "win", "net NT$", "pf", "intra DD", "sharpe");
}

static json_t *result_json(const opt_result *r, const opt_range *g) {
    json_t *o = json_object();
    for (int p = 0; p < OPT_NPARAMS; p++)
        if (g[p].set) json_object_set_new(o, opt_param_name((opt_param)p), json_integer(r->vals[p]));
    json_object_set_new(o, "trades", json_integer((json_int_t)r->s.trades));
    json_object_set_new(o, "win_rate", json_real(r->s.win_rate));
    json_object_set_new(o, "net_pnl", json_real(r->s.net_pnl));
    json_object_set_new(o, "profit_factor", isfinite(r->s.profit_factor) ? json_real(r->s.profit_factor) : json_null());
    json_object_set_new(o, "intraday_max_drawdown", json_real(r->s.intraday_max_drawdown));
    json_object_set_new(o, "max_drawdown", json_real(r->s.max_drawdown));
    json_object_set_new(o, "sharpe", r->s.sharpe_valid ? json_real(r->s.sharpe) : json_null());
    json_object_set_new(o, "metric", isfinite(r->metric) ? json_real(r->metric) : json_null());
    return o;
}

static bool write_csv(const char *path, const opt_result *res, size_t n, const opt_range *g) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    for (int p = 0; p < OPT_NPARAMS; p++)
        if (g[p].set) fprintf(f, "%s,", opt_param_name((opt_param)p));
    fprintf(f, "trades,wins,losses,win_rate,net_pnl,costs,profit_factor,intraday_max_drawdown,intraday_max_drawdown_pct,"
               "sharpe\n");
    for (size_t i = 0; i < n; i++) {
        const opt_result *r = &res[i];
        for (int p = 0; p < OPT_NPARAMS; p++)
            if (g[p].set) fprintf(f, "%lld,", (long long)r->vals[p]);
        fprintf(f, "%zu,%zu,%zu,%.4f,%.2f,%.2f,", r->s.trades, r->s.wins, r->s.losses, r->s.win_rate, r->s.net_pnl,
                r->s.costs);
        if (isfinite(r->s.profit_factor)) fprintf(f, "%.4f", r->s.profit_factor);
        fprintf(f, ",%.2f,%.4f,", r->s.intraday_max_drawdown, r->s.intraday_max_drawdown_pct);
        if (r->s.sharpe_valid) fprintf(f, "%.4f", r->s.sharpe);
        fputc('\n', f);
    }
    bool ok = !ferror(f);
    return fclose(f) == 0 && ok;
}

/* The metric over the first two set parameters, best over any other. */
static bool write_heatmap(const opt_args *a, const opt_result *res, size_t n, const opt_range *g, const char *sym) {
    int px = -1, py = -1;
    for (int p = 0; p < OPT_NPARAMS; p++)
        if (g[p].set && g[p].hi > g[p].lo) {
            if (px < 0) px = p;
            else if (py < 0) py = p;
        }
    if (px < 0 || py < 0) {
        fprintf(stderr, "aftm optimize: the heatmap needs two parameters with more than one value in --grid\n");
        return false;
    }
    size_t nx = (size_t)((g[px].hi - g[px].lo) / g[px].step) + 1, ny = (size_t)((g[py].hi - g[py].lo) / g[py].step) + 1;
    int64_t *xs = malloc(nx * sizeof *xs), *ys = malloc(ny * sizeof *ys);
    double *v = malloc(nx * ny * sizeof *v);
    bool ok = xs && ys && v;
    if (ok) {
        for (size_t i = 0; i < nx; i++) xs[i] = g[px].lo + (int64_t)i * g[px].step;
        for (size_t i = 0; i < ny; i++) ys[i] = g[py].lo + (int64_t)i * g[py].step;
        for (size_t i = 0; i < nx * ny; i++) v[i] = NAN;
        for (size_t i = 0; i < n; i++) {
            size_t x = (size_t)((res[i].vals[px] - g[px].lo) / g[px].step);
            size_t y = (size_t)((res[i].vals[py] - g[py].lo) / g[py].step);
            double m = res[i].metric;
            if (isfinite(m) && (isnan(v[y * nx + x]) || m > v[y * nx + x])) v[y * nx + x] = m;
        }
        char title[160], err[256];
        snprintf(title, sizeof title, "%s  \u2022  %s by %s and %s%s", sym, opt_metric_name(a->metric),
                 opt_param_name((opt_param)px), opt_param_name((opt_param)py),
                 a->metric == OPT_METRIC_NET ? " (NT$)" : "");
        heatmap h = {title, opt_param_name((opt_param)px), opt_param_name((opt_param)py), xs, ys, nx, ny, v};
        ok = heatmap_render_png(&h, a->heatmap, err, sizeof err);
        if (!ok) fprintf(stderr, "aftm optimize: %s\n", err);
    }
    free(xs);
    free(ys);
    free(v);
    return ok;
}

int cmd_optimize(int argc, char **argv) {
    opt_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc < 0) return EXIT_OK;
    if (rc) return rc;
    opt_job job = {.cfg = a.cfg, .threads = (int)a.threads};
    char err[512];
    if (!opt_parse_grid(a.grid, job.grid, OPT_MAX_POINTS, err, sizeof err)) {
        fprintf(stderr, "aftm optimize: --grid %s\n", err);
        return EXIT_USAGE;
    }
    double t0 = now_s();
    char symbol[TICK_SYMBOL_MAX];
    size_t nticks;
    opt_tick *ticks = load_ticks(&a, &nticks, symbol, sizeof symbol);
    if (!ticks) return EXIT_USAGE;
    double t_read = now_s() - t0;
    condition_set cs;
    if (!conditions_file_load(a.conditions, symbol, &cs, err, sizeof err) || !cs.n) {
        fprintf(stderr, "aftm optimize: %s\n", cs.n ? err : "no valid condition in the file");
        if (!cs.n) condition_set_free(&cs);
        free(ticks);
        return EXIT_USAGE;
    }
    if (!condition_set_check_ranges(&cs, a.conditions, err, sizeof err)) {
        fprintf(stderr, "aftm optimize: %s\n", err);
        condition_set_free(&cs);
        free(ticks);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < cs.n; i++)
        if (a.repeat) cs.repeat[i] = true;
    job.cfg = a.cfg;
    job.ticks = ticks;
    job.nticks = nticks;
    job.symbol = symbol;
    job.conds = cs.items;
    job.repeat = cs.repeat;
    job.nconds = cs.n;
    size_t n = opt_grid_size(job.grid);
    if (a.walk && nticks < (size_t)a.walk) {
        fprintf(stderr, "aftm optimize: %zu ticks cannot make %lld folds\n", nticks, (long long)a.walk);
        condition_set_free(&cs);
        free(ticks);
        return EXIT_USAGE;
    }
    opt_result *res = malloc(n * sizeof *res);
    size_t *top = malloc(n * sizeof *top);
    opt_fold *folds = a.walk ? calloc((size_t)a.walk, sizeof *folds) : NULL;
    int exit_code = EXIT_OK;
    int nthreads = opt_threads(&job, n);
    opt_thread_stat *stats = calloc((size_t)nthreads, sizeof *stats);
    job.stats = stats;
    double t1 = now_s();
    if (!res || !top || !stats || (a.walk && !folds) || !opt_run(&job, 0, nticks, a.metric, res)) {
        fprintf(stderr, "aftm optimize: out of memory\n");
        exit_code = EXIT_RUNTIME;
        goto out;
    }
    double t_grid = now_s() - t1;
    job.stats = NULL; /* the walk-forward's grids are not shown */
    printf("Optimize %s  (%zu ticks read in %.2f s; %zu conditions from %s)\n", symbol, nticks, t_read, cs.n,
           a.conditions);
    printf("  grid         %s: %zu points in %.2f s (%.0f backtests/s, %.3g ticks/s)\n", a.grid, n, t_grid,
           t_grid > 0 ? (double)n / t_grid : 0, t_grid > 0 ? (double)n * (double)nticks / t_grid : 0);
    /* what each thread ran and the CPU it got: on a shared machine two threads can be busy
     * and still take turns on one core (CPU per thread ~ the wall time, summed ~ 2x work) */
    printf("  threads      %d:", nthreads);
    double cpu = 0;
    for (int i = 0; i < nthreads; i++) {
        printf("%s%zu", i ? " + " : " ", stats[i].points);
        cpu += stats[i].cpu_s;
    }
    printf(" points; CPU");
    for (int i = 0; i < nthreads; i++) printf("%s%.2f", i ? " + " : " ", stats[i].cpu_s);
    printf(" s in %.2f s of wall (%.2f cores busy)\n", t_grid, t_grid > 0 ? cpu / t_grid : 0);
    char rate[40];
    snprintf(rate, sizeof rate, "%.10f", a.cfg.tax_rate); /* 0.00002, never 2e-05 */
    for (size_t q = strlen(rate); q > 1 && rate[q - 1] == '0' && rate[q - 2] != '.'; q--) rate[q - 1] = '\0';
    printf("  fills        %s tick, slippage %lld pt; fee NT$%g per lot per side; tax %s x price x multiplier per "
           "contract per side, rounded to a whole NT$\n",
           a.cfg.fill == BT_FILL_SAME_TICK ? "same" : "next", (long long)a.cfg.slippage_points, a.cfg.fee_per_lot,
           rate);
    size_t k = opt_top(res, n, (size_t)a.top, top);
    printf("\nBest %zu by %s\n", k, opt_metric_name(a.metric));
    print_header(job.grid);
    for (size_t i = 0; i < k; i++) print_row(&res[top[i]], i + 1, job.grid);
    if (a.walk) {
        if (!opt_walk_forward(&job, (size_t)a.walk, a.metric, folds)) {
            fprintf(stderr, "aftm optimize: out of memory\n");
            exit_code = EXIT_RUNTIME;
            goto out;
        }
        printf("\nWalk-forward, %lld folds (%s: in sample = the fold before; out of sample = this fold)\n",
               (long long)a.walk, opt_metric_name(a.metric));
        printf("  fold ");
        for (int p = 0; p < OPT_NPARAMS; p++)
            if (job.grid[p].set) printf(" %7s", opt_param_name((opt_param)p));
        printf("  %14s %14s %8s\n", "in-sample net", "out-of-sample", "OOS trd");
        for (long long f = 0; f + 1 < a.walk; f++) {
            const opt_fold *o = &folds[f];
            printf("  %4zu ", o->fold + 1);
            for (int p = 0; p < OPT_NPARAMS; p++)
                if (job.grid[p].set) printf(" %7lld", (long long)o->in_sample.vals[p]);
            printf("  %14.0f %14.0f %8zu\n", o->in_sample.s.net_pnl, o->out_of_sample.s.net_pnl,
                   o->out_of_sample.s.trades);
        }
    }
    if (a.csv) {
        if (write_csv(a.csv, res, n, job.grid)) printf("\nGrid written to %s\n", a.csv);
        else {
            fprintf(stderr, "aftm optimize: cannot write %s\n", a.csv);
            exit_code = EXIT_RUNTIME;
        }
    }
    if (a.json) {
        json_t *grid = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(grid, result_json(&res[i], job.grid));
        json_t *wf = json_array();
        for (long long f = 0; a.walk && f + 1 < a.walk; f++) {
            json_t *o = json_object();
            json_object_set_new(o, "fold", json_integer((json_int_t)folds[f].fold + 1));
            json_object_set_new(o, "in_sample", result_json(&folds[f].in_sample, job.grid));
            json_object_set_new(o, "out_of_sample", result_json(&folds[f].out_of_sample, job.grid));
            json_array_append_new(wf, o);
        }
        json_t *root = json_pack("{s:s, s:s, s:I, s:s, s:o, s:o}", "symbol", symbol, "grid_spec", a.grid, "ticks",
                                 (json_int_t)nticks, "metric", opt_metric_name(a.metric), "grid", grid,
                                 "walk_forward", wf);
        if (json_dump_file(root, a.json, JSON_INDENT(2)) == 0) printf("Grid JSON written to %s\n", a.json);
        else {
            fprintf(stderr, "aftm optimize: cannot write %s\n", a.json);
            exit_code = EXIT_RUNTIME;
        }
        json_decref(root);
    }
    if (a.heatmap) {
        if (write_heatmap(&a, res, n, job.grid, symbol)) printf("Heatmap saved to %s\n", a.heatmap);
        else exit_code = EXIT_RUNTIME;
        chart_release_caches();
    }
out:
    free(res);
    free(top);
    free(stats);
    free(folds);
    condition_set_free(&cs);
    free(ticks);
    return exit_code;
}
