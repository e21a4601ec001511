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
            "  --latency-ms N      an order reaches the market N ms after its signal: it fills at the\n"
            "                      first tick at least N ms later (default 0: the next tick)\n"
            "  --orders market|limit  entries as market orders (default) or as limit orders at the\n"
            "                      signal's price, filled at that price only when a later tick trades\n"
            "                      through it (a tick at the price is not enough); exits stay market\n"
            "  --slippage N        points against each market fill (default 0)\n"
            "  --fee N             commission per lot per side (default 0)\n"
            "  --tax R             transaction tax rate on each side's notional, rounded to a whole NT$\n"
            "                      per contract per side as TAIFEX does (default 0.00002, stock index\n"
            "                      futures: TX at 23,150 -> NT$93, MTX -> NT$23)\n"
            "  --multiplier N      money per point per lot (default from the symbol: TX 200, MTX 50)\n"
            "  --capital N         starting equity in NT$ (default 1000000; with --from-db, the\n"
            "                      equity log's: aftm equity set-capital)\n"
            "output:\n"
            "  --json              print the report as JSON (summary, trades, daily equity)\n"
            "  --report FILE       also write the JSON report to FILE\n"
            "  --chart FILE        draw the equity through the run to a PNG (1800x750, the\n"
            "                      original's look): trade markers, a drawdown panel, closed hours\n"
            "                      collapsed; the title's figures are the report's\n"
            "  --equity-csv FILE   write the daily equity as `date,equity` (aftm chart --equity FILE\n"
            "                      --capital N draws it with the report's figures)\n"
            "  --record-equity NAME  keep the daily equity in the database as the log NAME (replaced\n"
            "                      if it exists; aftm equity list --log NAME, aftm chart --log NAME);\n"
            "                      the live equity log is never written by a backtest\n"
            "  --no-progress       no progress bar on stderr (shown only on a terminal)\n");
}

#define BT_MAX_TICK_ARGS 256

typedef struct {
    const char *ticks_v[BT_MAX_TICK_ARGS];
    size_t nticks;
    char ticks_label[AFTM_PATH_MAX + 64]; /* the file, or "N files from FIRST" */
    const char *ticks, *product, *expiry, *conditions, *symbol;
    const char *report, *chart, *equity_csv, *home, *record_equity;
    bool json, progress, from_db, capital_set, repeat;
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

/* NT$ with thousands separators: whole NT$, cents only when there are some ("-NT$1,268",
 * "NT$12.50"). */
static void fmt_ntd(double v, char *out, size_t cap) {
    char b[64];
    bool whole = fabs(v - round(v)) < 0.005;
    fmt_num(fabs(v), whole ? 0 : 2, b, sizeof b);
    snprintf(out, cap, "%sNT$%s", v < 0 && strcmp(b, "0") ? "-" : "", b);
}

/* 0 -> "none", 95 -> "1m 35s", 8000 -> "2h 13m", 200000 -> "2d 7h". */
static void fmt_duration(double secs, char *out, size_t cap) {
    long long s = llround(secs);
    if (s <= 0) snprintf(out, cap, "none");
    else if (s < 3600) snprintf(out, cap, "%lldm %02llds", s / 60, s % 60);
    else if (s < 86400) snprintf(out, cap, "%lldh %02lldm", s / 3600, s / 60 % 60);
    else snprintf(out, cap, "%lldd %lldh", s / 86400, s / 3600 % 24);
}

static void tz_label(int64_t offset_s, char *out, size_t cap) {
    if (!offset_s) snprintf(out, cap, "UTC");
    else snprintf(out, cap, "UTC%c%02d:%02d", offset_s < 0 ? '-' : '+', (int)(llabs(offset_s) / 3600),
                  (int)(llabs(offset_s) / 60 % 60));
}

static const char *fill_name(bt_fill_model f) { return f == BT_FILL_SAME_TICK ? "same tick" : "next tick"; }

/* The fill model in words, as the report states it. */
static void fill_model_text(const backtest_config *c, char *out, size_t cap) {
    char when[96], slip[64] = "";
    if (c->fill == BT_FILL_SAME_TICK) snprintf(when, sizeof when, "at the signal's tick");
    else if (c->latency_ms > 0)
        snprintf(when, sizeof when, "at the first tick at least %lld ms after the signal", (long long)c->latency_ms);
    else snprintf(when, sizeof when, "at the next tick");
    if (c->slippage_points) snprintf(slip, sizeof slip, " %lld pt against the order", (long long)c->slippage_points);
    if (c->limit_entries)
        snprintf(out, cap, "entries limit at the signal's price, from %s on, filled at it only when a tick trades "
                 "through it; exits market %s%s", when + 3, when, slip);
    else snprintf(out, cap, "market orders %s%s", when, slip);
}

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
    json_object_set_new(cfg, "latency_ms", json_integer((json_int_t)a->cfg.latency_ms));
    json_object_set_new(cfg, "orders", json_string(a->cfg.limit_entries ? "limit" : "market"));
    char model[512];
    fill_model_text(&a->cfg, model, sizeof model);
    json_object_set_new(cfg, "fill_model", json_string(model));
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
    json_object_set_new(sum, "avg_win", json_real(s.avg_win));
    json_object_set_new(sum, "avg_loss", json_real(s.avg_loss));
    json_object_set_new(sum, "expectancy", json_real(s.expectancy));
    json_object_set_new(sum, "longest_win_streak", json_integer((json_int_t)s.win_streak));
    json_object_set_new(sum, "longest_loss_streak", json_integer((json_int_t)s.loss_streak));
    json_object_set_new(sum, "trades_per_day", json_real(s.trades_per_day));
    json_object_set_new(sum, "max_drawdown", json_real(s.max_drawdown));
    json_object_set_new(sum, "max_drawdown_pct", json_real(s.max_drawdown_pct));
    json_object_set_new(sum, "drawdown_days", json_real(s.drawdown_days));
    json_object_set_new(sum, "intraday_max_drawdown", json_real(s.intraday_max_drawdown));
    json_object_set_new(sum, "intraday_max_drawdown_pct", json_real(s.intraday_max_drawdown_pct));
    json_object_set_new(sum, "intraday_drawdown_seconds", json_real(s.intraday_drawdown_s));
    json_object_set_new(sum, "sharpe", s.sharpe_valid ? json_real(s.sharpe) : json_null());
    json_object_set_new(sum, "sortino", s.sortino_valid ? json_real(s.sortino) : json_null());
    json_object_set_new(sum, "calmar", s.calmar_valid ? json_real(s.calmar) : json_null());
    json_object_set_new(sum, "exposure", json_real(s.exposure));
    json_object_set_new(sum, "currency", json_string("TWD")); /* of every money figure here (NT$) */
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
        json_object_set_new(jt, "side", json_string(t[i].side == SIDE_BUY ? "buy" : "sell")); /* as every --json */
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
    char t0[40], t1[40], b1[80], b2[80], b3[80];
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
    char model[512];
    fill_model_text(&a->cfg, model, sizeof model);
    printf("  fills        %s\n", model);
    size_t n;
    const backtest_trade *t = backtest_trades(bt, &n);
    char fee[80], ex[200] = "";
    fmt_ntd(a->cfg.fee_per_lot, fee, sizeof fee);
    if (n) {
        char px[80], tx[80];
        fmt_num((double)t[0].entry_price, 0, px, sizeof px);
        fmt_ntd(backtest_tax_per_contract(a->cfg.tax_rate, t[0].entry_price, t[0].multiplier), tx, sizeof tx);
        snprintf(ex, sizeof ex, ": %s at %s", tx, px);
    }
    char rate[40];
    snprintf(rate, sizeof rate, "%.10f", a->cfg.tax_rate); /* 0.00002, never 2e-05 */
    for (size_t k = strlen(rate); k > 1 && rate[k - 1] == '0' && rate[k - 2] != '.'; k--) rate[k - 1] = '\0';
    printf("  costs        fee %s per lot per side; tax %s x price x %lld per contract per side, rounded to\n"
           "               a whole NT$%s; multiplier %lld%s\n",
           fee, rate, (long long)mult, ex, (long long)mult, a->cfg.multiplier > 0 ? "" : " (from the symbol)");

    printf("\nTrades\n");
    if (!n) printf("  (none)\n");
    else
        printf("  %4s  %-8s %-4s %4s  %-19s %9s  %-19s %9s %7s %12s  %s\n", "#", "cond", "side", "qty",
               "entry time", "entry", "exit time", "exit", "points", "net NT$", "reason");
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
    printf("  trades          %zu  (wins %zu, losses %zu, win rate %.1f%%; %.2f a day over %zu day%s)\n", s.trades,
           s.wins, s.losses, s.win_rate * 100, s.trades_per_day, s.days, s.days == 1 ? "" : "s");
    if (s.unfilled_entries) printf("  unfilled        %zu entr%s signalled with no tick left to fill\n",
                                   s.unfilled_entries, s.unfilled_entries == 1 ? "y" : "ies");
    fmt_ntd(s.avg_win, b1, sizeof b1);
    fmt_ntd(s.avg_loss, b2, sizeof b2);
    fmt_ntd(s.expectancy, b3, sizeof b3);
    printf("  average         win %s, loss %s; expectancy %s a trade\n", s.wins ? b1 : "n/a", s.losses ? b2 : "n/a",
           s.trades ? b3 : "n/a");
    printf("  streaks         longest %zu winning, %zu losing\n", s.win_streak, s.loss_streak);
    printf("  points          %lld\n", (long long)s.points);
    fmt_ntd(s.gross_pnl, b1, sizeof b1);
    printf("  gross P&L       %s\n", b1);
    fmt_ntd(s.costs, b1, sizeof b1);
    printf("  costs           %s (fees and tax, both sides)\n", b1);
    fmt_ntd(s.net_pnl, b1, sizeof b1);
    printf("  net P&L         %s\n", b1);
    if (isfinite(s.profit_factor)) printf("  profit factor   %.2f\n", s.profit_factor);
    else printf("  profit factor   inf (no losing trade)\n");
    fmt_ntd(s.max_drawdown, b1, sizeof b1);
    if (s.max_drawdown_pct < 0)
        printf("  max drawdown    %s (%.2f%%) of the daily closes; at most %.0f trading day%s under a peak\n", b1,
               s.max_drawdown_pct, s.drawdown_days, s.drawdown_days == 1 ? "" : "s");
    else printf("  max drawdown    %s (%.2f%%) of the daily closes\n", b1, s.max_drawdown_pct);
    char dur[32];
    fmt_duration(s.intraday_drawdown_s, dur, sizeof dur);
    fmt_ntd(s.intraday_max_drawdown, b1, sizeof b1);
    printf("  intraday        %s (%.2f%%) tick by tick; at most %s of trading time under a peak\n", b1,
           s.intraday_max_drawdown_pct, dur);
    if (s.sharpe_valid) printf("  sharpe          %.2f (daily returns, x sqrt(252), %zu days)\n", s.sharpe, s.days);
    else printf("  sharpe          n/a (needs 2 days or more, %zu day%s)\n", s.days, s.days == 1 ? "" : "s");
    if (s.sortino_valid) printf("  sortino         %.2f (downside deviation of daily returns)\n", s.sortino);
    else printf("  sortino         n/a (needs 2 days or more with a losing day)\n");
    if (s.calmar_valid) printf("  calmar          %.2f (annualised return / max drawdown)\n", s.calmar);
    else printf("  calmar          n/a (needs 2 days or more with a drawdown)\n");
    printf("  exposure        %.1f%% of ticks with a position open\n", s.exposure * 100);
    fmt_ntd(s.capital, b1, sizeof b1);
    fmt_ntd(s.final_equity, b2, sizeof b2);
    printf("  equity          %s -> %s (%+.2f%%)\n", b1, b2, s.return_pct);
    fmt_num(elapsed > 0 ? (double)s.ticks / elapsed : 0, 0, b3, sizeof b3);
    printf("  elapsed         %.3f s (%s ticks/s)\n", elapsed, b3);
}

/* ---- chart ------------------------------------------------------------------------------ */

/* The equity curve through the run, times in the file's zone, its trades marked, with a
 * subtitle naming the product, the period and the trades; the title's figures are those of
 * the daily closes, as the report's (drawn gets them). */
static bool render_chart(const bt_args *a, const char *symbol, const backtest *bt, int64_t offset,
                         chart_figures *drawn, char *err, size_t errlen) {
    size_t n, nt;
    const backtest_point *c = backtest_equity_curve(bt, &n);
    const backtest_trade *t = backtest_trades(bt, &nt);
    if (!n) {
        snprintf(err, errlen, "no equity data to draw");
        return false;
    }
    fig_point *p = malloc(n * sizeof *p);
    chart_mark *m = malloc((2 * nt + 1) * sizeof *m);
    if (!p || !m) {
        free(p);
        free(m);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    double off = (double)offset;
    for (size_t i = 0; i < n; i++) p[i] = (fig_point){((double)c[i].ts_us / 1e6 + off) / 86400.0, c[i].equity};
    size_t nm = 0;
    for (size_t i = 0; i < nt; i++) {
        m[nm++] = (chart_mark){((double)t[i].entry_ts_us / 1e6 + off) / 86400.0,
                               t[i].side == SIDE_BUY ? CHART_MARK_BUY : CHART_MARK_SELL};
        if (t[i].closed)
            m[nm++] = (chart_mark){((double)t[i].exit_ts_us / 1e6 + off) / 86400.0,
                                   t[i].net > 0 ? CHART_MARK_EXIT_WIN : CHART_MARK_EXIT_LOSS};
    }
    backtest_summary s;
    backtest_get_summary(bt, &s);
    char t0[40], t1[40], sub[384];
    fmt_time(s.first_ts_us, offset, false, t0, sizeof t0);
    fmt_time(s.last_ts_us, offset, false, t1, sizeof t1);
    t0[16] = t1[16] = '\0'; /* to the minute */
    char tzl[16];
    tz_label(offset, tzl, sizeof tzl);
    snprintf(sub, sizeof sub,
             "%s  \u2022  %s to %s (%s)  \u2022  %zu trade%s, %zu win%s, %zu loss%s  \u2022  "
             "\u25b2\u25bc entry  \u25cf exit (green win, red loss)",
             symbol, t0, t1, tzl, s.trades, s.trades == 1 ? "" : "s", s.wins, s.wins == 1 ? "" : "s", s.losses,
             s.losses == 1 ? "" : "es");
    chart_input in = {.pts = p,
                      .n = n,
                      .base = a->cfg.capital,
                      .daily = backtest_daily_equity(bt),
                      .marks = m,
                      .nmarks = nm,
                      .subtitle = sub,
                      .intraday = true};
    bool ok = chart_render(&in, a->chart, drawn, err, errlen);
    free(p);
    free(m);
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
    else l->cs->repeat[l->cs->n - 1] = r->c.repeat; /* a stored repeating condition repeats here too */
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
        if (!strcmp(k, "--record-equity")) {
            if (!v || !strncmp(v, "--", 2) || !estore_log_name_ok(v)) {
                fprintf(stderr, "aftm backtest: --record-equity needs a log name (1 to %d letters, digits, '.', "
                                "'_' or '-'): a backtest's equity is kept apart from the live log\n",
                        EQUITY_LOG_NAME_MAX);
                return EXIT_USAGE;
            }
            a->record_equity = argv[++i];
            continue;
        }
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
                       !strcmp(k, "--multiplier") || !strcmp(k, "--capital") || !strcmp(k, "--fill") ||
                       !strcmp(k, "--latency-ms") || !strcmp(k, "--orders");
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
        } else if (!strcmp(k, "--orders")) {
            if (!strcmp(v, "market")) a->cfg.limit_entries = false;
            else if (!strcmp(v, "limit")) a->cfg.limit_entries = true;
            else {
                fprintf(stderr, "aftm backtest: --orders wants 'market' or 'limit', not '%s'\n", v);
                return EXIT_USAGE;
            }
        } else if (!strcmp(k, "--latency-ms")) {
            if (!parse_int_range(v, 0, 86400000, &iv)) goto bad_num;
            a->cfg.latency_ms = iv;
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
    if (a->cfg.fill == BT_FILL_SAME_TICK && (a->cfg.latency_ms > 0 || a->cfg.limit_entries)) {
        fprintf(stderr, "aftm backtest: --fill same fills at the signal's tick; --latency-ms and --orders limit "
                        "go with the next tick model\n");
        return EXIT_USAGE;
    }
    if (a->conditions && a->from_db) {
        fprintf(stderr, "aftm backtest: pass --conditions FILE or --from-db, not both\n");
        return EXIT_USAGE;
    }
    return 0;
}

/* One backtest run, from the tick files to the files written. */
typedef struct {
    bt_args a;
    tick_filter flt;
    tick_set *r;
    const char *format;
    bool continuous; /* several TAIFEX days of one product: the product code names the series */
    int64_t offset;  /* seconds east of UTC of the ticks' clock */
    char symbol[TICK_SYMBOL_MAX];
    condition_set cs;
    bool have_cs;
    home_db h;
    backtest *bt;
    size_t bad_rows;
    double elapsed;
} bt_run;

static void run_close(bt_run *x) {
    backtest_free(x->bt);
    if (x->have_cs) condition_set_free(&x->cs);
    if (x->h.db) home_db_close(&x->h);
    tick_set_close(x->r);
}

/* Opens the tick files; a TAIFEX file of several products replays TX unless one is named.
 * -1 to go on, else the exit code (said). */
static int open_ticks(bt_run *x) {
    char err[512];
    bt_args *a = &x->a;
    x->flt = (tick_filter){.product = a->product, .expiry = a->expiry};
    if (!(x->r = tick_set_open(a->ticks_v, a->nticks, &x->flt, err, sizeof err))) {
        fprintf(stderr, "aftm backtest: %s\n", err);
        return EXIT_USAGE;
    }
    x->format = tick_set_format(x->r);
    if (!strcmp(x->format, "taifex") && !a->product && tick_set_products(x->r) > 1) {
        /* a TAIFEX file holds every futures product: replaying them together would mix TX's
         * ticks with MTX's, so one is chosen, and said */
        if (!tick_set_has_tx(x->r)) {
            fprintf(stderr, "aftm backtest: the file holds %zu products and no TX; name one with --product\n",
                    tick_set_products(x->r));
            return EXIT_USAGE;
        }
        fprintf(stderr, "aftm backtest: the file holds %zu products; replaying TX (another with --product)\n",
                tick_set_products(x->r));
        tick_set_close(x->r);
        a->product = "TX";
        x->flt.product = a->product;
        if (!(x->r = tick_set_open(a->ticks_v, a->nticks, &x->flt, err, sizeof err))) {
            fprintf(stderr, "aftm backtest: %s\n", err);
            return EXIT_USAGE;
        }
    }
    size_t nfiles = tick_set_file_count(x->r);
    if (nfiles == 1) snprintf(a->ticks_label, sizeof a->ticks_label, "%s", tick_set_file(x->r, 0));
    else snprintf(a->ticks_label, sizeof a->ticks_label, "%zu files, %s ...", nfiles, tick_set_file(x->r, 0));
    a->ticks = a->ticks_label;
    x->offset = strcmp(x->format, "taifex") ? a->tz_offset_s : 8 * 3600;
    a->cfg.utc_offset_s = x->offset;
    a->cfg.taifex_sessions = !strcmp(x->format, "taifex");
    x->continuous = nfiles > 1 && a->cfg.taifex_sessions && a->product && !a->expiry;
    return -1;
}

/* A row as the backtest sees it: plain CSV times moved to UTC, a rolling product renamed. */
static void adjust_row(const bt_run *x, tick_row *row) {
    if (x->a.tz_offset_s && !x->a.cfg.taifex_sessions) row->ts_us -= x->a.tz_offset_s * 1000000;
    if (x->continuous) snprintf(row->symbol, sizeof row->symbol, "%s", x->a.product);
}

/* The conditions, from the file or the database. -1 to go on, else the exit code (said). */
static int load_conditions(bt_run *x) {
    bt_args *a = &x->a;
    char err[512];
    if (a->from_db || a->record_equity) {
        if (!home_db_open(&x->h, a->home)) return EXIT_RUNTIME;
        if (!a->capital_set && a->from_db) a->cfg.capital = (double)estore_capital(x->h.db);
    }
    if (a->from_db) {
        snprintf(a->source, sizeof a->source, "the database (%s)", x->h.home);
        if (!load_db_conditions(&x->h, &x->cs)) {
            fprintf(stderr, "aftm backtest: cannot read the conditions from the database in %s\n", x->h.home);
            return EXIT_RUNTIME;
        }
    } else {
        snprintf(a->source, sizeof a->source, "%s", a->conditions);
        if (!conditions_file_load(a->conditions, x->symbol, &x->cs, err, sizeof err)) {
            fprintf(stderr, "aftm backtest: %s\n", err);
            return EXIT_USAGE;
        }
        x->have_cs = true;
        if (!condition_set_check_ranges(&x->cs, a->conditions, err, sizeof err)) {
            fprintf(stderr, "aftm backtest: %s\n", err);
            return EXIT_USAGE;
        }
    }
    x->have_cs = true;
    if (!x->cs.n) {
        if (a->from_db)
            fprintf(stderr, "aftm backtest: no active condition in %s (add some with 'aftm condition add' or "
                            "'aftm condition import FILE')\n", a->source);
        else fprintf(stderr, "aftm backtest: no valid condition in %s\n", a->conditions);
        return EXIT_USAGE;
    }
    return -1;
}

/* Every tick through the backtest, from row (the first) on; false on a read error or out of
 * memory (said). */
static bool replay(bt_run *x, tick_row *row) {
    bool show = x->a.progress && isatty(STDERR_FILENO);
    size_t rows = 0;
    bool shown = false, ok = true;
    int got;
    do {
        if (!backtest_on_tick(x->bt, row->symbol, row->price, row->ts_us)) {
            fprintf(stderr, "aftm backtest: out of memory\n");
            ok = false;
            break;
        }
        if ((++rows & 0xffff) == 0 && show) {
            progress(tick_set_progress(x->r), rows);
            shown = true;
        }
        got = tick_set_next(x->r, row);
        if (got == 1) adjust_row(x, row);
    } while (got == 1);
    if (shown) {
        progress(1, rows);
        fputc('\n', stderr);
    }
    if (ok && got < 0) {
        fprintf(stderr, "aftm backtest: %s\n", tick_set_error(x->r));
        ok = false;
    }
    x->bad_rows = tick_set_bad_rows(x->r) + tick_set_out_of_order(x->r);
    return ok;
}

/* Conditions that can never fire: their symbol never appeared. */
static void warn_silent_symbols(const bt_run *x) {
    for (size_t i = 0; i < x->cs.n; i++) {
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(x->cs.items[j].symbol, x->cs.items[i].symbol)) first = false;
        if (first && !backtest_symbol_ticks(x->bt, x->cs.items[i].symbol))
            fprintf(stderr, "aftm backtest: warning: no tick of %s in %s; its conditions never fire\n",
                    x->cs.items[i].symbol, x->a.ticks);
    }
}

/* The daily equity as a CSV and as a named log, as asked; false when one could not be written. */
static bool write_equity(bt_run *x, FILE *note) {
    bt_args *a = &x->a;
    const equity_series *es = backtest_daily_equity(x->bt);
    char cap[48], err[512];
    fmt_num(a->cfg.capital, 0, cap, sizeof cap);
    for (char *q = cap; *q; q++)
        if (*q == ',') memmove(q, q + 1, strlen(q));
    bool ok = true;
    if (a->equity_csv) {
        if (equity_write_csv(a->equity_csv, es, err, sizeof err)) {
            fprintf(note, "Daily equity written to %s (aftm chart --equity %s --capital %s)\n", a->equity_csv,
                    a->equity_csv, cap);
        } else {
            fprintf(stderr, "aftm backtest: %s\n", err);
            ok = false;
        }
    }
    if (a->record_equity) {
        if (estore_log_put(x->h.db, a->record_equity, llround(a->cfg.capital), es, (double)time(NULL))) {
            fprintf(note, "Daily equity kept as the equity log '%s' in %s (%zu day%s; aftm equity list --log %s)\n",
                    a->record_equity, x->h.home, es->n, es->n == 1 ? "" : "s", a->record_equity);
        } else {
            fprintf(stderr, "aftm backtest: cannot record the daily equity in %s: %s\n", x->h.home,
                    sqlite3_errmsg(x->h.db));
            ok = false;
        }
    }
    return ok;
}

/* The report (text or JSON), and the files asked for: the chart first, so the report can say
 * what it drew. Returns the exit code. */
static int write_outputs(bt_run *x) {
    bt_args *a = &x->a;
    int exit_code = EXIT_OK;
    chart_figures drawn;
    bool charted = false;
    char chart_err[512] = "";
    if (a->chart) {
        charted = render_chart(a, x->symbol, x->bt, x->offset, &drawn, chart_err, sizeof chart_err);
        chart_release_caches();
        if (!charted) exit_code = EXIT_RUNTIME;
    }
    json_t *j = (a->json || a->report)
                    ? build_json(a, x->format, x->symbol, x->bad_rows, &x->cs, x->bt, x->elapsed, x->offset)
                    : NULL;
    if (j && charted)
        json_object_set_new(j, "chart",
                            json_pack("{s:s, s:f, s:f, s:f}", "file", a->chart, "return_pct", drawn.headline.return_pct,
                                      "max_drawdown_pct", drawn.headline.max_dd_pct, "intraday_max_drawdown_pct",
                                      drawn.curve.max_dd_pct));
    if (a->json) {
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        if (text) puts(text);
        free(text);
    } else {
        print_text(a, x->format, x->symbol, x->bad_rows, &x->cs, x->bt, x->elapsed, x->offset);
    }
    /* where the files went: on stdout after the text report, on stderr with --json */
    FILE *note = a->json ? stderr : stdout;
    if (!a->json && (a->report || a->chart || a->equity_csv || a->record_equity)) fputc('\n', stdout);
    if (a->report) {
        if (write_json_file(a->report, j)) fprintf(note, "Report written to %s\n", a->report);
        else exit_code = EXIT_RUNTIME;
    }
    json_decref(j);
    if (!write_equity(x, note)) exit_code = EXIT_RUNTIME;
    if (a->chart) {
        if (charted)
            fprintf(note, "Chart saved to %s (return %+.2f%%, max drawdown %.2f%% of the daily closes, %.2f%% intraday)\n",
                    a->chart, drawn.headline.return_pct, drawn.headline.max_dd_pct, drawn.curve.max_dd_pct);
        else fprintf(stderr, "aftm backtest: %s\n", chart_err);
    }
    return exit_code;
}

int cmd_backtest(int argc, char **argv) {
    bt_run x;
    memset(&x, 0, sizeof x);
    int rc = parse_args(argc, argv, &x.a);
    if (rc < 0) return EXIT_OK;
    if (rc) return rc;
    double t_start = now_s();
    if ((rc = open_ticks(&x)) >= 0) {
        run_close(&x);
        return rc;
    }
    tick_row row;
    int got = tick_set_next(x.r, &row);
    if (got <= 0) {
        fprintf(stderr, "aftm backtest: %s\n",
                got < 0 ? tick_set_error(x.r) : "no ticks in the file (after the product/expiry filter)");
        run_close(&x);
        return got < 0 ? EXIT_RUNTIME : EXIT_USAGE;
    }
    adjust_row(&x, &row);
    snprintf(x.symbol, sizeof x.symbol, "%s", x.a.symbol ? x.a.symbol : row.symbol);
    if ((rc = load_conditions(&x)) >= 0) {
        run_close(&x);
        return rc;
    }
    if (!(x.bt = backtest_new(&x.a.cfg))) {
        fprintf(stderr, "aftm backtest: out of memory\n");
        run_close(&x);
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < x.cs.n; i++) {
        bool rep = x.a.repeat || (x.cs.repeat && x.cs.repeat[i]);
        x.a.repeating += rep;
        backtest_add_condition_repeat(x.bt, &x.cs.items[i], rep);
    }
    bool ok = replay(&x, &row);
    tick_set_close(x.r);
    x.r = NULL;
    backtest_finish(x.bt);
    x.elapsed = now_s() - t_start;
    warn_silent_symbols(&x);
    int exit_code = ok ? write_outputs(&x) : EXIT_RUNTIME;
    run_close(&x);
    return exit_code;
}
