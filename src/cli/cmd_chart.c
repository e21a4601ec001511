/* aftm chart [--equity FILE] [-o equity.png]: the original's equity chart, from a `date,equity`
 * CSV (the original's equity_log.csv included) or, without --equity, from the equity log in
 * the database. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/home_db.h"
#include "report/chart.h"
#include "store/equity_store.h"

static void chart_usage(FILE *out) {
    fprintf(out,
            "usage: aftm chart [--equity FILE] [-o OUT.png] [--home DIR]\n\n"
            "Draws the equity curve (dark theme, 1800x750 PNG) from the daily equity log in the\n"
            "database (see aftm equity), or from a CSV with header `date,equity` and rows\n"
            "`YYYY-MM-DD,<equity>` (the original's equity_log.csv; `aftm equity export` and\n"
            "`aftm backtest --equity-csv` write one). A single row is drawn as a point.\n\n"
            "  --equity FILE   the equity CSV (default: the database's equity log)\n"
            "  --home DIR      data directory of that log (default $AFTM_HOME, else ./aftm-data)\n"
            "  -o, --output F  the PNG to write (default equity.png)\n"
            "  --width N, --height N   image size in pixels (default 1800 x 750)\n");
}

int cmd_chart(int argc, char **argv) {
    const char *equity = NULL, *out = "equity.png", *home = NULL;
    int width = CHART_WIDTH, height = CHART_HEIGHT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            chart_usage(stdout);
            return EXIT_OK;
        }
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--equity") && has_val) equity = argv[++i];
        else if (!strcmp(a, "--home") && has_val) home = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has_val) out = argv[++i];
        else if ((!strcmp(a, "--width") || !strcmp(a, "--height")) && has_val) {
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
        bool loaded = estore_load(h.db, &s);
        home_db_close(&h);
        if (!loaded) {
            fprintf(stderr, "aftm chart: cannot read the equity log from the database\n");
            return EXIT_RUNTIME;
        }
    }
    if (!s.n) {
        if (equity) fprintf(stderr, "No data found in %s\n", equity);
        else
            fprintf(stderr,
                    "No data found in the equity log: it gets a row per day once trades fill ('aftm run'),\n"
                    "or from 'aftm backtest ... --record-equity'; or pass --equity FILE\n");
        equity_free(&s);
        return EXIT_USAGE;
    }
    bool ok = chart_render_png(&s, out, width, height, err, sizeof err);
    if (ok) {
        equity_stats st;
        equity_compute_stats(&s, &st);
        char a[11], b[11];
        equity_format_date(st.first_day, a);
        equity_format_date(st.last_day, b);
        printf("Chart saved to %s\n", out);
        printf("Period: %s to %s (%zu day%s)\n", a, b, st.rows, st.rows == 1 ? "" : "s");
        printf("Return: %+.1f%%\n", st.return_pct);
        printf("Max Drawdown: %.1f%%\n", st.max_dd_pct);
    } else {
        fprintf(stderr, "aftm chart: %s\n", err);
    }
    equity_free(&s);
    chart_release_caches();
    return ok ? EXIT_OK : EXIT_RUNTIME;
}
