/* aftm chart --equity FILE [-o equity.png]: the original's equity chart from a `date,equity`
 * CSV. The equity log kept in the database cannot be exported yet, so --equity is required. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "report/chart.h"

static void chart_usage(FILE *out) {
    fprintf(out,
            "usage: aftm chart --equity FILE [-o OUT.png]\n\n"
            "Draws the equity curve (dark theme, 1800x750 PNG) from an equity log CSV with header\n"
            "`date,equity` and rows `YYYY-MM-DD,<equity>` (the original's equity_log.csv format;\n"
            "`aftm backtest --equity-csv` writes one).\n\n"
            "  --equity FILE   the equity CSV (required for now: reading the equity log from the\n"
            "                  database is not available yet)\n"
            "  -o, --output F  the PNG to write (default equity.png)\n"
            "  --width N, --height N   image size in pixels (default 1800 x 750)\n");
}

int cmd_chart(int argc, char **argv) {
    const char *equity = NULL, *out = "equity.png";
    int width = CHART_WIDTH, height = CHART_HEIGHT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            chart_usage(stdout);
            return EXIT_OK;
        }
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--equity") && has_val) equity = argv[++i];
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
    if (!equity) {
        fprintf(stderr,
                "aftm chart: --equity FILE is required: exporting the equity log from the database is not "
                "available yet\n");
        return EXIT_USAGE;
    }
    char err[512];
    equity_series s;
    if (!equity_read_csv(equity, &s, err, sizeof err)) {
        fprintf(stderr, "aftm chart: %s\n", err);
        return EXIT_USAGE;
    }
    if (!s.n) {
        fprintf(stderr, "No data found in %s\n", equity);
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
        printf("Period: %s to %s (%zu days)\n", a, b, st.rows);
        printf("Return: %+.1f%%\n", st.return_pct);
        printf("Max Drawdown: %.1f%%\n", st.max_dd_pct);
    } else {
        fprintf(stderr, "aftm chart: %s\n", err);
    }
    equity_free(&s);
    chart_release_caches();
    return ok ? EXIT_OK : EXIT_RUNTIME;
}
