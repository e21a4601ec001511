/* aftm chart [--equity FILE | --log NAME] [-o equity.png]: the original's equity chart, from a
 * `date,equity` CSV (the original's equity_log.csv included), the database's live equity log,
 * or a backtest's named log. Return and drawdown against the starting capital (the log's, or
 * --capital; a CSV without it starts at its first row, as the original). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/home_db.h"
#include "core/parse.h"
#include "report/chart.h"
#include "store/equity_store.h"

static void chart_usage(FILE *out) {
    fprintf(out,
            "usage: aftm chart [--equity FILE [--capital N] | --log NAME] [-o OUT.png] [--json] [--home DIR]\n\n"
            "Draws the equity curve (dark theme, 1800x750 PNG, a drawdown panel under it, trading\n"
            "days at equal steps) from the daily equity log in the database (see aftm equity), a\n"
            "backtest's named log, or a CSV with header `date,equity` and rows `YYYY-MM-DD,<equity>`\n"
            "(the original's equity_log.csv; `aftm equity export` and `aftm backtest --equity-csv`\n"
            "write one). A single row is drawn as a point.\n\n"
            "  --equity FILE   the equity CSV (default: the database's equity log)\n"
            "  --capital N     the equity before the CSV's first row (a backtest's capital), so the\n"
            "                  first day's return and drawdown count; default: the first row\n"
            "  --log NAME      a backtest's named log (aftm backtest --record-equity NAME)\n"
            "  --home DIR      data directory of the logs (default $AFTM_HOME, else ./aftm-data)\n"
            "  -o, --output F  the PNG to write (default equity.png)\n"
            "  --json          print the figures as JSON instead of text\n"
            "  --width N, --height N   image size in pixels (default 1800 x 750)\n");
}

int cmd_chart(int argc, char **argv) {
    const char *equity = NULL, *out = "equity.png", *home = NULL, *log = NULL;
    int width = CHART_WIDTH, height = CHART_HEIGHT;
    double capital = NAN;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            chart_usage(stdout);
            return EXIT_OK;
        }
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--equity") && has_val) equity = argv[++i];
        else if (!strcmp(a, "--home") && has_val) home = argv[++i];
        else if (!strcmp(a, "--log") && has_val) log = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has_val) out = argv[++i];
        else if (!strcmp(a, "--capital") && has_val) {
            if (!parse_double(argv[++i], &capital) || !(capital > 0) || !isfinite(capital)) {
                fprintf(stderr, "aftm chart: --capital wants a positive amount, not '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if ((!strcmp(a, "--width") || !strcmp(a, "--height")) && has_val) {
            int v;
            char extra;
            if (sscanf(argv[i + 1], "%d%c", &v, &extra) != 1 || v < 100 || v > 10000) {
                fprintf(stderr, "aftm chart: %s wants a number of pixels from 100 to 10000\n", a);
                return EXIT_USAGE;
            }
            if (a[2] == 'w') width = v;
            else height = v;
            i++;
        } else {
            fprintf(stderr, "aftm chart: %s '%s'\n\n", has_val || a[0] != '-' ? "unknown argument" : "missing value for", a);
            chart_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (equity && log) {
        fprintf(stderr, "aftm chart: pass --equity FILE or --log NAME, not both\n");
        return EXIT_USAGE;
    }
    if (log && !estore_log_name_ok(log)) {
        fprintf(stderr, "aftm chart: '%s' is not a log name (letters, digits, '.', '_', '-')\n", log);
        return EXIT_USAGE;
    }
    if (!equity && !isnan(capital)) {
        fprintf(stderr, "aftm chart: --capital goes with --equity FILE (a log has its own capital)\n");
        return EXIT_USAGE;
    }
    char err[512];
    equity_series s;
    if (equity) {
        if (!equity_read_csv(equity, &s, err, sizeof err)) {
            fprintf(stderr, "aftm chart: %s\n", err);
            return EXIT_USAGE;
        }
    } else {
        home_db h;
        if (!home_db_open(&h, home)) return EXIT_RUNTIME;
        long long cap = 0;
        int got = log ? estore_log_load(h.db, log, &s, &cap) : (estore_load(h.db, &s) ? 1 : -1);
        if (!log) cap = estore_capital(h.db);
        home_db_close(&h);
        if (got == 0) {
            fprintf(stderr, "aftm chart: no equity log named '%s' (aftm equity logs lists them)\n", log);
            return EXIT_USAGE;
        }
        if (got < 0) {
            fprintf(stderr, "aftm chart: cannot read the equity log from the database\n");
            return EXIT_RUNTIME;
        }
        capital = (double)cap;
    }
    if (!s.n) {
        if (equity) fprintf(stderr, "No data found in %s\n", equity);
        else if (log) fprintf(stderr, "No data found in the equity log '%s'\n", log);
        else
            fprintf(stderr,
                    "No data found in the equity log: it gets a row per day once trades fill ('aftm run');\n"
                    "a backtest's: --log NAME; or pass --equity FILE\n");
        equity_free(&s);
        return EXIT_USAGE;
    }
    chart_figures f;
    bool ok = chart_render_daily(&s, capital, out, width, height, &f, err, sizeof err);
    if (ok && json) {
        char a[11], b[11];
        equity_format_date((int64_t)f.headline.first_t, a);
        equity_format_date((int64_t)f.headline.last_t, b);
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "chart", out, "first_date", a,
                              "last_date", b, "days", (json_int_t)f.headline.n, "base", f.headline.base, "final",
                              f.headline.final, "return_pct", f.headline.return_pct, "max_drawdown",
                              f.headline.max_dd, "max_drawdown_pct", f.headline.max_dd_pct, "drawdown_days",
                              f.headline.dd_duration);
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        if (text) puts(text);
        free(text);
        json_decref(j);
    } else if (ok) {
        char a[11], b[11];
        equity_format_date((int64_t)f.headline.first_t, a);
        equity_format_date((int64_t)f.headline.last_t, b);
        printf("Chart saved to %s\n", out);
        printf("Period: %s to %s (%zu day%s)\n", a, b, f.headline.n, f.headline.n == 1 ? "" : "s");
        printf("Return: %+.1f%%\n", f.headline.return_pct);
        printf("Max Drawdown: %.1f%%\n", f.headline.max_dd_pct);
    } else {
        fprintf(stderr, "aftm chart: %s\n", err);
    }
    equity_free(&s);
    chart_release_caches();
    return ok ? EXIT_OK : EXIT_RUNTIME;
}
