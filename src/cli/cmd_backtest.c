/* aftm backtest: replays a tick file through the strategy and the order matcher, with the
 * conditions of an original conditions.json or the active conditions of the database, and
 * reports the trades and figures. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backtest/backtest.h"
#include "backtest/conditions_file.h"
#include "cli/commands.h"
#include "cli/home_db.h"
#include "core/parse.h"
#include "domain/position.h"
#include "report/chart.h"
#include "report/equity.h"
#include "store/condition_store.h"
#include "store/equity_store.h"
#include "ticks/tickfile.h"
#include "ticks/tickset.h"

static void backtest_usage(FILE *out) {
    fprintf(out,
            "usage: aftm backtest --ticks FILE|DIR... (--conditions FILE | --from-db) [options]\n\n"
            "Replays a tick file through the strategy (entries count as filled only when the\n"
            "simulated fill arrives) and the order matcher, and reports trades and figures.\n\n"
            "input:\n"
            "  --ticks FILE...     plain CSV `datetime,symbol,price,volume` (UTC unless --tz), TAIFEX's\n"
            "                      daily futures tick CSV (CP950; times Asia/Taipei), or the zip TAIFEX\n"
            "                      publishes (Daily_YYYY_MM_DD.zip) as is; several files or directories\n"
            "                      of them are replayed in time order\n"
            "  --tz OFFSET         the plain CSV's times are local at OFFSET, e.g. +08:00 (default UTC)\n"
            "  --product P         TAIFEX product code, e.g. TX or MTX (plain CSV: keep this symbol);\n"
            "                      a TAIFEX file holds every product: without --product, TX is used\n"
            "  --expiry E          TAIFEX expiry as in the file, e.g. 202507 or 202506W4\n"
            "                      (default: the front month = the nearest regular monthly expiry)\n"
            "  --conditions FILE   the original's conditions.json (an optional \"symbol\" key per\n"
            "                      condition; without it the backtest's symbol)\n"
            "  --symbol S          the backtest's symbol (default: the first tick's, e.g. TX202507)\n"
            "  --repeat            every condition is armed again after each exit (the same as a\n"
            "                      condition's \"repeat\": true, and as aftm run --rearm), so a test\n"
            "                      over several days trades each time the setup appears\n"
            "  --from-db           the active conditions of the database under --home instead\n"
            "                      (as 'aftm condition list' shows them; each starts afresh)\n"
            "  --home DIR          data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "fills and costs:\n"
            "  --fill next|same    market orders fill at the next tick (default) or the signal's tick\n"
            "  --slippage N        points against each market fill (default 0)\n"
            "  --fee N             commission per lot per side (default 0)\n"
            "  --tax R             transaction tax rate on each side's notional (default 0.00002,\n"
            "                      TAIFEX stock index futures)\n"
            "  --multiplier N      money per point per lot (default from the symbol: TX 200, MTX 50)\n"
            "  --capital N         starting equity (default 1000000; with --from-db or\n"
            "                      --record-equity, the equity log's: aftm equity set-capital)\n"
            "output:\n"
            "  --json              print the report as JSON (summary, trades, daily equity)\n"
            "  --report FILE       also write the JSON report to FILE\n"
            "  --chart FILE        draw the equity through the run to a PNG (1800x750, the\n"
            "                      original's look; one point per minute with ticks)\n"
            "  --equity-csv FILE   write the daily equity as `date,equity` (for aftm chart)\n"
            "  --record-equity     write the daily equity into the database's equity log\n"
            "                      (one row per day, replacing rows of the same dates)\n"
            "  --no-progress       no progress bar on stderr (shown only on a terminal)\n");
}

#define BT_MAX_TICK_ARGS 256

typedef struct {
    const char *ticks_v[BT_MAX_TICK_ARGS];
    size_t nticks;
    char ticks_label[AFTM_PATH_MAX + 64]; /* the file, or "N files from FIRST" */
    const char *ticks, *product, *expiry, *conditions, *symbol;
    const char *report, *chart, *equity_csv, *home;
    bool json, progress, from_db, record_equity, capital_set, repeat;
    size_t repeating;    /* conditions armed again after each exit */
    int64_t tz_offset_s; /* --tz: the plain CSV's times are local at this offset */
    char source[AFTM_PATH_MAX + 32]; /* where the conditions came from, for the reports */
    backtest_config cfg;
} bt_args;

/* ---- formatting ------------------------------------------------------------------------- */

static void fmt_time(int64_t ts_us, int64_t offset_s, bool iso, char *out, size_t cap) {
    int64_t s = ts_us / 1000000 + offset_s;
    if (ts_us < 0 && ts_us % 1000000) s--;
    int64_t day = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t sod = s - day * 86400;
    char d[11];
    equity_format_date(day, d);
    char off[8] = "Z";
    if (offset_s) snprintf(off, sizeof off, "%c%02d:%02d", offset_s < 0 ? '-' : '+',
                           (int)(llabs(offset_s) / 3600 % 100), (int)(llabs(offset_s) / 60 % 60));
    snprintf(out, cap, "%s%c%02d:%02d:%02d%s", d, iso ? 'T' : ' ', (int)(sod / 3600), (int)(sod / 60 % 60),
             (int)(sod % 60), iso ? off : "");
}

/* 1234567.891 -> "1,234,567.89" */
static void fmt_num(double v, int decimals, char *out, size_t cap) {
    char raw[64];
    snprintf(raw, sizeof raw, "%.*f", decimals, fabs(v) < 5e17 ? fabs(v) : 5e17);
    const char *dot = strchr(raw, '.');
    size_t ilen = dot ? (size_t)(dot - raw) : strlen(raw);
    char buf[96];
    size_t k = 0;
    bool neg = v < 0 && (llround(fabs(v) * pow(10, decimals)) != 0);
    if (neg) buf[k++] = '-';
    for (size_t i = 0; i < ilen; i++) {
        if (i && (ilen - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = raw[i];
    }
    if (dot) {
        size_t rest = strlen(dot);
        memcpy(buf + k, dot, rest);
        k += rest;
    }
    buf[k] = '\0';
    snprintf(out, cap, "%s", buf);
}

static void tz_label(int64_t offset_s, char *out, size_t cap) {
    if (!offset_s) snprintf(out, cap, "UTC");
    else snprintf(out, cap, "UTC%c%02d:%02d", offset_s < 0 ? '-' : '+', (int)(llabs(offset_s) / 3600),
                  (int)(llabs(offset_s) / 60 % 60));
}

static const char *fill_name(bt_fill_model f) { return f == BT_FILL_SAME_TICK ? "same tick" : "next tick"; }

/* ---- JSON ------------------------------------------------------------------------------- */

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *build_json(const bt_args *a, const char *format, const char *symbol, size_t bad_rows,
                          const condition_set *cs, const backtest *bt, double elapsed, int64_t offset) {
    backtest_summary s;
    backtest_get_summary(bt, &s);
    char t0[40], t1[40];
    fmt_time(s.first_ts_us, offset, true, t0, sizeof t0);
    fmt_time(s.last_ts_us, offset, true, t1, sizeof t1);
    json_t *cfg = json_pack("{s:s, s:I, s:f, s:f, s:f}", "fill", fill_name(a->cfg.fill), "slippage_points",
                            (json_int_t)a->cfg.slippage_points, "fee_per_lot", a->cfg.fee_per_lot, "tax_rate",
                            a->cfg.tax_rate, "capital", a->cfg.capital);
    json_object_set_new(cfg, "multiplier",
                        a->cfg.multiplier > 0 ? json_integer(a->cfg.multiplier) : json_integer(contract_multiplier(symbol)));
    json_object_set_new(cfg, "repeating_conditions", json_integer((json_int_t)a->repeating));
    json_t *sum = json_object();
    json_object_set_new(sum, "ticks", json_integer((json_int_t)s.ticks));
    json_object_set_new(sum, "first_tick", json_string(t0));
    json_object_set_new(sum, "last_tick", json_string(t1));
    json_object_set_new(sum, "days", json_integer((json_int_t)s.days));
    json_object_set_new(sum, "trades", json_integer((json_int_t)s.trades));
    json_object_set_new(sum, "wins", json_integer((json_int_t)s.wins));
    json_object_set_new(sum, "losses", json_integer((json_int_t)s.losses));
    json_object_set_new(sum, "win_rate", json_real(s.win_rate));
    json_object_set_new(sum, "points", json_integer(s.points));
    json_object_set_new(sum, "gross_pnl", json_real(s.gross_pnl));
    json_object_set_new(sum, "costs", json_real(s.costs));
    json_object_set_new(sum, "net_pnl", json_real(s.net_pnl));
    json_object_set_new(sum, "profit_factor", num_or_null(s.profit_factor));
    json_object_set_new(sum, "max_drawdown", json_real(s.max_drawdown));
    json_object_set_new(sum, "max_drawdown_pct", json_real(s.max_drawdown_pct));
    json_object_set_new(sum, "sharpe", s.sharpe_valid ? json_real(s.sharpe) : json_null());
    json_object_set_new(sum, "exposure", json_real(s.exposure));
    json_object_set_new(sum, "capital", json_real(s.capital));
    json_object_set_new(sum, "final_equity", json_real(s.final_equity));
    json_object_set_new(sum, "return_pct", json_real(s.return_pct));
    json_object_set_new(sum, "entry_signals", json_integer((json_int_t)s.entry_signals));
    json_object_set_new(sum, "exit_signals", json_integer((json_int_t)s.exit_signals));
    json_object_set_new(sum, "unfilled_entries", json_integer((json_int_t)s.unfilled_entries));

    json_t *trades = json_array();
    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    for (size_t i = 0; i < n; i++) {
        char e0[40], e1[40];
        fmt_time(t[i].entry_ts_us, offset, true, e0, sizeof e0);
        fmt_time(t[i].exit_ts_us, offset, true, e1, sizeof e1);
        size_t ci = (size_t)(t[i].condition_id - 1);
        json_t *jt = json_object();
        json_object_set_new(jt, "condition_id", json_string(ci < cs->n ? cs->uuids[ci] : ""));
        json_object_set_new(jt, "symbol", json_string(t[i].symbol));
        json_object_set_new(jt, "side", json_string(side_name(t[i].side)));
        json_object_set_new(jt, "qty", json_integer(t[i].qty));
        json_object_set_new(jt, "entry_time", json_string(e0));
        json_object_set_new(jt, "entry_price", json_integer(t[i].entry_price));
        json_object_set_new(jt, "entry_signal_price", json_integer(t[i].entry_signal_price));
        json_object_set_new(jt, "exit_time", json_string(e1));
        json_object_set_new(jt, "exit_price", json_integer(t[i].exit_price));
        json_object_set_new(jt, "exit_signal_price", json_integer(t[i].exit_signal_price));
        json_object_set_new(jt, "points", json_integer(t[i].points));
        json_object_set_new(jt, "multiplier", json_integer(t[i].multiplier));
        json_object_set_new(jt, "gross_pnl", json_real(t[i].gross));
        json_object_set_new(jt, "costs", json_real(t[i].costs));
        json_object_set_new(jt, "net_pnl", json_real(t[i].net));
        json_object_set_new(jt, "reason", json_string(bt_reason_name(t[i].reason)));
        json_array_append_new(trades, jt);
    }
    json_t *eq = json_array();
    const equity_series *es = backtest_daily_equity(bt);
    for (size_t i = 0; i < es->n; i++) {
        char d[11];
        equity_format_date(es->pts[i].day, d);
        json_array_append_new(eq, json_pack("{s:s, s:f}", "date", d, "equity", es->pts[i].equity));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:f, s:o, s:o, s:o}", "ticks_file", a->ticks,
                     "format", format, "symbol", symbol, "conditions_file", a->source, "config", cfg,
                     "conditions", (json_int_t)cs->n, "conditions_skipped", (json_int_t)cs->skipped,
                     "rows_skipped", (json_int_t)bad_rows, "elapsed_s", elapsed, "summary", sum, "trades", trades,
                     "equity", eq);
}

/* ---- text ------------------------------------------------------------------------------- */

static void print_text(const bt_args *a, const char *format, const char *symbol, size_t bad_rows,
                       const condition_set *cs, const backtest *bt, double elapsed, int64_t offset) {
    backtest_summary s;
    backtest_get_summary(bt, &s);
    char t0[40], t1[40], b1[48], b2[48], b3[48];
    fmt_time(s.first_ts_us, offset, false, t0, sizeof t0);
    fmt_time(s.last_ts_us, offset, false, t1, sizeof t1);
    printf("Backtest %s  (%s, %s file)\n", symbol, a->ticks, format);
    fmt_num((double)s.ticks, 0, b1, sizeof b1);
    char tzl[16];
    tz_label(offset, tzl, sizeof tzl);
    printf("  ticks        %s, %s to %s (%s)\n", b1, t0, t1, tzl);
    if (bad_rows) printf("  skipped      %zu malformed row%s\n", bad_rows, bad_rows == 1 ? "" : "s");
    printf("  conditions   %zu from %s%s", cs->n, a->source, cs->skipped ? " (some records skipped)" : "");
    if (a->repeating) printf(", %zu armed again after each exit", a->repeating);
    putchar('\n');
    int64_t mult = a->cfg.multiplier > 0 ? a->cfg.multiplier : contract_multiplier(symbol);
    printf("  fills        %s, slippage %lld pt; fee %g per lot per side; tax %g; multiplier %lld%s\n",
           fill_name(a->cfg.fill), (long long)a->cfg.slippage_points, a->cfg.fee_per_lot, a->cfg.tax_rate,
           (long long)mult, a->cfg.multiplier > 0 ? "" : " (from the symbol)");

    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    printf("\nTrades\n");
    if (!n) printf("  (none)\n");
    else
        printf("  %4s  %-8s %-4s %4s  %-19s %9s  %-19s %9s %7s %12s  %s\n", "#", "cond", "side", "qty",
               "entry time", "entry", "exit time", "exit", "points", "net P&L", "reason");
    for (size_t i = 0; i < n; i++) {
        char e0[40], e1[40], net[48];
        fmt_time(t[i].entry_ts_us, offset, false, e0, sizeof e0);
        fmt_time(t[i].exit_ts_us, offset, false, e1, sizeof e1);
        fmt_num(t[i].net, 2, net, sizeof net);
        size_t ci = (size_t)(t[i].condition_id - 1);
        printf("  %4zu  %-8.8s %-4s %4lld  %-19s %9lld  %-19s %9lld %7lld %12s  %s\n", i + 1,
               ci < cs->n ? cs->uuids[ci] : "?", side_name(t[i].side), (long long)t[i].qty, e0,
               (long long)t[i].entry_price, e1, (long long)t[i].exit_price, (long long)t[i].points, net,
               bt_reason_name(t[i].reason));
    }

    printf("\nSummary\n");
    printf("  trades          %zu  (wins %zu, losses %zu, win rate %.1f%%)\n", s.trades, s.wins, s.losses,
           s.win_rate * 100);
    if (s.unfilled_entries) printf("  unfilled        %zu entr%s signalled with no tick left to fill\n",
                                   s.unfilled_entries, s.unfilled_entries == 1 ? "y" : "ies");
    fmt_num(s.gross_pnl, 2, b1, sizeof b1);
    printf("  points          %lld\n", (long long)s.points);
    printf("  gross P&L       %s\n", b1);
    fmt_num(s.costs, 2, b1, sizeof b1);
    printf("  costs           %s\n", b1);
    fmt_num(s.net_pnl, 2, b1, sizeof b1);
    printf("  net P&L         %s\n", b1);
    if (isfinite(s.profit_factor)) printf("  profit factor   %.2f\n", s.profit_factor);
    else printf("  profit factor   inf (no losing trade)\n");
    fmt_num(s.max_drawdown, 2, b1, sizeof b1);
    printf("  max drawdown    %s (%.2f%%)\n", b1, s.max_drawdown_pct);
    if (s.sharpe_valid) printf("  sharpe          %.2f (daily returns, x sqrt(252), %zu days)\n", s.sharpe, s.days);
    else printf("  sharpe          n/a (needs 2 days or more, %zu day%s)\n", s.days, s.days == 1 ? "" : "s");
    printf("  exposure        %.1f%% of ticks with a position open\n", s.exposure * 100);
    fmt_num(s.capital, 0, b1, sizeof b1);
    fmt_num(s.final_equity, 2, b2, sizeof b2);
    printf("  equity          %s -> %s (%+.2f%%)\n", b1, b2, s.return_pct);
    fmt_num(elapsed > 0 ? (double)s.ticks / elapsed : 0, 0, b3, sizeof b3);
    printf("  elapsed         %.3f s (%s ticks/s)\n", elapsed, b3);
}

/* ---- chart ------------------------------------------------------------------------------ */

/* The equity curve through the run, times in the file's zone, with a subtitle naming the
 * product, the period and the trades. */
static bool render_chart(const bt_args *a, const char *symbol, const backtest *bt, int64_t offset, char *err,
                         size_t errlen) {
    size_t n;
    const backtest_point *c = backtest_equity_curve(bt, &n);
    if (!n) {
        snprintf(err, errlen, "no equity data to draw");
        return false;
    }
    chart_point *p = malloc(n * sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (chart_point){((double)c[i].ts_us / 1e6 + (double)offset) / 86400.0, c[i].equity};
    backtest_summary s;
    backtest_get_summary(bt, &s);
    char t0[40], t1[40], sub[256];
    fmt_time(s.first_ts_us, offset, false, t0, sizeof t0);
    fmt_time(s.last_ts_us, offset, false, t1, sizeof t1);
    t0[16] = t1[16] = '\0'; /* to the minute */
    char tzl[16];
    tz_label(offset, tzl, sizeof tzl);
    snprintf(sub, sizeof sub, "%s  \u2022  %s to %s (%s)  \u2022  %zu trade%s, %zu win%s, %zu loss%s", symbol, t0, t1,
             tzl, s.trades, s.trades == 1 ? "" : "s", s.wins, s.wins == 1 ? "" : "s",
             s.losses, s.losses == 1 ? "" : "es");
    bool ok = chart_render_curve_png(p, n, sub, a->chart, 0, 0, err, errlen);
    free(p);
    return ok;
}

/* ---- conditions from the database -------------------------------------------------------- */

typedef struct {
    condition_set *cs;
    bool ok;
} db_load_ctx;

/* Each active condition starts afresh, as one read from a conditions.json: its (possibly
 * trailed) trigger price and its points, state cleared. */
static void db_row(void *ctx, const condition_record *r) {
    db_load_ctx *l = ctx;
    condition c;
    condition_init(&c, r->c.id, r->c.symbol, r->c.side, r->c.trigger_price, r->c.turning_point, r->c.quantity,
                   r->c.take_profit_point, r->c.stop_loss_point, r->c.is_following);
    if (!condition_set_push(l->cs, &c, r->uuid)) l->ok = false;
}

static bool load_db_conditions(home_db *h, condition_set *cs) {
    memset(cs, 0, sizeof *cs);
    db_load_ctx l = {cs, true};
    if (cstore_list(h->cs, false, db_row, &l) < 0 || !l.ok) {
        condition_set_free(cs);
        memset(cs, 0, sizeof *cs);
        return false;
    }
    return true;
}

/* ---- main ------------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(double frac, size_t rows) {
    char b[32];
    fmt_num((double)rows, 0, b, sizeof b);
    int w = 30, k = (int)(frac * w + 0.5);
    fprintf(stderr, "\r  [");
    for (int i = 0; i < w; i++) fputc(i < k ? '#' : '-', stderr);
    fprintf(stderr, "] %3d%%  %s ticks", (int)(frac * 100 + 0.5), b);
    fflush(stderr);
}

static bool write_json_file(const char *path, json_t *j) {
    if (json_dump_file(j, path, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0) {
        fprintf(stderr, "aftm backtest: cannot write %s\n", path);
        return false;
    }
    return true;
}

/* "UTC", "Z" or [+-]HH:MM (also HHMM, HH), at most 14 hours either way. */
static bool parse_tz(const char *v, int64_t *out) {
    if (!strcmp(v, "UTC") || !strcmp(v, "Z") || !strcmp(v, "utc")) {
        *out = 0;
        return true;
    }
    if (v[0] != '+' && v[0] != '-') return false;
    int h = 0, m = 0;
    const char *p = v + 1;
    size_t n = strlen(p);
    if (n == 2 && sscanf(p, "%2d", &h) == 1) m = 0;
    else if (n == 4 && p[0] >= '0' && sscanf(p, "%2d%2d", &h, &m) == 2) {
    } else if (n == 5 && p[2] == ':' && sscanf(p, "%2d:%2d", &h, &m) == 2) {
    } else return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] != ':' && (p[i] < '0' || p[i] > '9')) return false;
    if (h > 14 || m > 59 || (h == 14 && m)) return false;
    *out = (v[0] == '-' ? -1 : 1) * ((int64_t)h * 3600 + m * 60);
    return true;
}

static int parse_args(int argc, char **argv, bt_args *a) {
    memset(a, 0, sizeof *a);
    backtest_config_default(&a->cfg);
    a->progress = true;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            backtest_usage(stdout);
            return -1;
        }
        if (!strcmp(k, "--json")) { a->json = true; continue; }
        if (!strcmp(k, "--no-progress")) { a->progress = false; continue; }
        if (!strcmp(k, "--from-db")) { a->from_db = true; continue; }
        if (!strcmp(k, "--repeat")) { a->repeat = true; continue; }
        if (!strcmp(k, "--record-equity")) { a->record_equity = true; continue; }
        if (!strcmp(k, "--ticks")) {
            /* --ticks A [B ...]: every following argument up to the next option (a shell glob) */
            if (!v || !*v || !strncmp(v, "--", 2)) {
                fprintf(stderr, "aftm backtest: --ticks needs a file or a directory\n");
                return EXIT_USAGE;
            }
            while (i + 1 < argc && argv[i + 1][0] && strncmp(argv[i + 1], "--", 2)) {
                if (a->nticks == BT_MAX_TICK_ARGS) {
                    fprintf(stderr, "aftm backtest: more than %d --ticks arguments (pass a directory)\n",
                            BT_MAX_TICK_ARGS);
                    return EXIT_USAGE;
                }
                a->ticks_v[a->nticks++] = argv[++i];
            }
            a->ticks = a->ticks_v[0];
            continue;
        }
        const char **str = !strcmp(k, "--product") ? &a->product
                         : !strcmp(k, "--expiry") ? &a->expiry
                         : !strcmp(k, "--conditions") ? &a->conditions
                         : !strcmp(k, "--symbol") ? &a->symbol
                         : !strcmp(k, "--report") ? &a->report
                         : !strcmp(k, "--chart") ? &a->chart
                         : !strcmp(k, "--equity-csv") ? &a->equity_csv
                         : !strcmp(k, "--home") ? &a->home
                         : NULL;
        bool numeric = !strcmp(k, "--tz") || !strcmp(k, "--slippage") || !strcmp(k, "--fee") || !strcmp(k, "--tax") ||
                       !strcmp(k, "--multiplier") || !strcmp(k, "--capital") || !strcmp(k, "--fill");
        if (!str && !numeric) {
            fprintf(stderr, "aftm backtest: unknown argument '%s' (see aftm backtest --help)\n", k);
            return EXIT_USAGE;
        }
        if (!v) {
            fprintf(stderr, "aftm backtest: %s needs a value\n", k);
            return EXIT_USAGE;
        }
        i++;
        if (str) {
            if (!*v) {
                fprintf(stderr, "aftm backtest: %s needs a non-empty value\n", k);
                return EXIT_USAGE;
            }
            *str = v;
            continue;
        }
        int64_t iv;
        double dv;
        if (!strcmp(k, "--tz")) {
            if (!parse_tz(v, &a->tz_offset_s)) {
                fprintf(stderr, "aftm backtest: --tz wants UTC or an offset like +08:00, not '%s'\n", v);
                return EXIT_USAGE;
            }
        } else if (!strcmp(k, "--fill")) {
            if (!strcmp(v, "next")) a->cfg.fill = BT_FILL_NEXT_TICK;
            else if (!strcmp(v, "same")) a->cfg.fill = BT_FILL_SAME_TICK;
            else {
                fprintf(stderr, "aftm backtest: --fill wants 'next' or 'same', not '%s'\n", v);
                return EXIT_USAGE;
            }
        } else if (!strcmp(k, "--slippage")) {
            if (!parse_int_range(v, 0, 1000000, &iv)) goto bad_num;
            a->cfg.slippage_points = iv;
        } else if (!strcmp(k, "--multiplier")) {
            if (!parse_int_range(v, 1, 1000000000, &iv)) goto bad_num;
            a->cfg.multiplier = iv;
        } else if (!strcmp(k, "--fee")) {
            if (!parse_double(v, &dv) || dv < 0) goto bad_num;
            a->cfg.fee_per_lot = dv;
        } else if (!strcmp(k, "--tax")) {
            if (!parse_double(v, &dv) || dv < 0 || dv >= 1) goto bad_num;
            a->cfg.tax_rate = dv;
        } else {
            if (!parse_double(v, &dv) || dv <= 0) goto bad_num;
            a->cfg.capital = dv;
            a->capital_set = true;
        }
        continue;
    bad_num:
        fprintf(stderr, "aftm backtest: bad value '%s' for %s (see aftm backtest --help)\n", v, k);
        return EXIT_USAGE;
    }
    if (!a->ticks || (!a->conditions && !a->from_db)) {
        fprintf(stderr, "aftm backtest: --ticks FILE and --conditions FILE (or --from-db) are required\n\n");
        backtest_usage(stderr);
        return EXIT_USAGE;
    }
    if (a->conditions && a->from_db) {
        fprintf(stderr, "aftm backtest: pass --conditions FILE or --from-db, not both\n");
        return EXIT_USAGE;
    }
    return 0;
}

int cmd_backtest(int argc, char **argv) {
    bt_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc < 0) return EXIT_OK;
    if (rc) return rc;

    double t_start = now_s();
    char err[512];
    tick_filter flt = {.product = a.product, .expiry = a.expiry};
    tick_set *r = tick_set_open(a.ticks_v, a.nticks, &flt, err, sizeof err);
    if (!r) {
        fprintf(stderr, "aftm backtest: %s\n", err);
        return EXIT_USAGE;
    }
    const char *format = tick_set_format(r);
    if (!strcmp(format, "taifex") && !a.product && tick_set_products(r) > 1) {
        /* a TAIFEX file holds every futures product: replaying them together would mix TX's
         * ticks with MTX's, so one is chosen, and said */
        if (!tick_set_has_tx(r)) {
            fprintf(stderr, "aftm backtest: the file holds %zu products and no TX; name one with --product\n",
                    tick_set_products(r));
            tick_set_close(r);
            return EXIT_USAGE;
        }
        fprintf(stderr, "aftm backtest: the file holds %zu products; replaying TX (another with --product)\n",
                tick_set_products(r));
        tick_set_close(r);
        a.product = "TX";
        flt.product = a.product;
        if (!(r = tick_set_open(a.ticks_v, a.nticks, &flt, err, sizeof err))) {
            fprintf(stderr, "aftm backtest: %s\n", err);
            return EXIT_USAGE;
        }
    }
    size_t nfiles = tick_set_file_count(r);
    if (nfiles == 1) snprintf(a.ticks_label, sizeof a.ticks_label, "%s", tick_set_file(r, 0));
    else snprintf(a.ticks_label, sizeof a.ticks_label, "%zu files, %s ...", nfiles, tick_set_file(r, 0));
    a.ticks = a.ticks_label;
    int64_t offset = strcmp(format, "taifex") ? a.tz_offset_s : 8 * 3600;
    a.cfg.utc_offset_s = offset;
    a.cfg.taifex_sessions = !strcmp(format, "taifex");
    /* several TAIFEX days of one product: its front month rolls, so the product code names the
     * continuous series the conditions trade */
    bool continuous = nfiles > 1 && a.cfg.taifex_sessions && a.product && !a.expiry;

    tick_row row;
    int got = tick_set_next(r, &row);
    if (got <= 0) {
        fprintf(stderr, "aftm backtest: %s\n",
                got < 0 ? tick_set_error(r) : "no ticks in the file (after the product/expiry filter)");
        tick_set_close(r);
        return got < 0 ? EXIT_RUNTIME : EXIT_USAGE;
    }
    if (a.tz_offset_s && !a.cfg.taifex_sessions) row.ts_us -= a.tz_offset_s * 1000000;
    if (continuous) snprintf(row.symbol, sizeof row.symbol, "%s", a.product);
    char symbol[TICK_SYMBOL_MAX];
    snprintf(symbol, sizeof symbol, "%s", a.symbol ? a.symbol : row.symbol);

    condition_set cs;
    home_db h = {0};
    if (a.from_db || a.record_equity) {
        if (!home_db_open(&h, a.home)) {
            tick_set_close(r);
            return EXIT_RUNTIME;
        }
        if (!a.capital_set) a.cfg.capital = (double)estore_capital(h.db);
    }
    if (a.from_db) {
        snprintf(a.source, sizeof a.source, "the database (%s)", h.home);
        if (!load_db_conditions(&h, &cs)) {
            fprintf(stderr, "aftm backtest: cannot read the conditions from the database in %s\n", h.home);
            home_db_close(&h);
            tick_set_close(r);
            return EXIT_RUNTIME;
        }
    } else {
        snprintf(a.source, sizeof a.source, "%s", a.conditions);
        if (!conditions_file_load(a.conditions, symbol, &cs, err, sizeof err)) {
            fprintf(stderr, "aftm backtest: %s\n", err);
            if (h.db) home_db_close(&h);
            tick_set_close(r);
            return EXIT_USAGE;
        }
    }
    if (!cs.n) {
        if (a.from_db)
            fprintf(stderr, "aftm backtest: no active condition in %s (add some with 'aftm condition add' or "
                            "'aftm condition import FILE')\n", a.source);
        else fprintf(stderr, "aftm backtest: no valid condition in %s\n", a.conditions);
        condition_set_free(&cs);
        if (h.db) home_db_close(&h);
        tick_set_close(r);
        return EXIT_USAGE;
    }
    backtest *bt = backtest_new(&a.cfg);
    if (!bt) {
        fprintf(stderr, "aftm backtest: out of memory\n");
        condition_set_free(&cs);
        if (h.db) home_db_close(&h);
        tick_set_close(r);
        return EXIT_RUNTIME;
    }
    size_t repeating = 0;
    for (size_t i = 0; i < cs.n; i++) {
        bool rep = a.repeat || (cs.repeat && cs.repeat[i]);
        repeating += rep;
        backtest_add_condition_repeat(bt, &cs.items[i], rep);
    }
    a.repeating = repeating;

    bool show = a.progress && isatty(STDERR_FILENO);
    size_t rows = 0;
    bool shown = false, ok = true;
    do {
        if (!backtest_on_tick(bt, row.symbol, row.price, row.ts_us)) {
            fprintf(stderr, "aftm backtest: out of memory\n");
            ok = false;
            break;
        }
        if ((++rows & 0xffff) == 0 && show) {
            progress(tick_set_progress(r), rows);
            shown = true;
        }
        got = tick_set_next(r, &row);
        if (got == 1 && a.tz_offset_s && !a.cfg.taifex_sessions) row.ts_us -= a.tz_offset_s * 1000000;
        if (got == 1 && continuous) snprintf(row.symbol, sizeof row.symbol, "%s", a.product);
    } while (got == 1);
    if (shown) {
        progress(1, rows);
        fputc('\n', stderr);
    }
    if (got < 0) {
        fprintf(stderr, "aftm backtest: %s\n", tick_set_error(r));
        ok = false;
    }
    size_t bad_rows = tick_set_bad_rows(r) + tick_set_out_of_order(r);
    tick_set_close(r);
    backtest_finish(bt);
    double elapsed = now_s() - t_start;

    /* conditions that can never fire: their symbol never appeared */
    for (size_t i = 0; i < cs.n; i++) {
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cs.items[j].symbol, cs.items[i].symbol)) first = false;
        if (first && !backtest_symbol_ticks(bt, cs.items[i].symbol))
            fprintf(stderr, "aftm backtest: warning: no tick of %s in %s; its conditions never fire\n",
                    cs.items[i].symbol, a.ticks);
    }

    int exit_code = ok ? EXIT_OK : EXIT_RUNTIME;
    if (ok) {
        json_t *j = (a.json || a.report) ? build_json(&a, format, symbol, bad_rows, &cs, bt, elapsed, offset) : NULL;
        if (a.json) {
            char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
            if (text) puts(text);
            free(text);
        } else {
            print_text(&a, format, symbol, bad_rows, &cs, bt, elapsed, offset);
        }
        /* where the files went: on stdout after the text report, on stderr with --json */
        FILE *note = a.json ? stderr : stdout;
        if (!a.json && (a.report || a.chart || a.equity_csv || a.record_equity)) fputc('\n', stdout);
        if (a.report) {
            if (write_json_file(a.report, j)) fprintf(note, "Report written to %s\n", a.report);
            else exit_code = EXIT_RUNTIME;
        }
        json_decref(j);
        const equity_series *es = backtest_daily_equity(bt);
        if (a.equity_csv) {
            if (equity_write_csv(a.equity_csv, es, err, sizeof err)) {
                fprintf(note, "Daily equity written to %s\n", a.equity_csv);
            } else {
                fprintf(stderr, "aftm backtest: %s\n", err);
                exit_code = EXIT_RUNTIME;
            }
        }
        if (a.record_equity) {
            if (estore_put_series(h.db, es)) {
                fprintf(note, "Daily equity recorded in the equity log of %s (%zu day%s; aftm equity list)\n", h.home,
                        es->n, es->n == 1 ? "" : "s");
            } else {
                fprintf(stderr, "aftm backtest: cannot record the daily equity in %s: %s\n", h.home,
                        sqlite3_errmsg(h.db));
                exit_code = EXIT_RUNTIME;
            }
        }
        if (a.chart) {
            if (render_chart(&a, symbol, bt, offset, err, sizeof err)) {
                fprintf(note, "Chart saved to %s\n", a.chart);
            } else {
                fprintf(stderr, "aftm backtest: %s\n", err);
                exit_code = EXIT_RUNTIME;
            }
            chart_release_caches();
        }
    }
    backtest_free(bt);
    condition_set_free(&cs);
    if (h.db) home_db_close(&h);
    return exit_code;
}
