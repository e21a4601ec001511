/* aftm equity list|export|set-capital|clear|logs: the daily equity log kept in the database
 * (store/equity_store.h), exported in the original's equity_log.csv format, and the named logs
 * backtests write (--log NAME). Figures from report/figures.h, against the starting capital. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/home_db.h"
#include "core/parse.h"
#include "report/equity.h"
#include "report/figures.h"
#include "store/db.h"
#include "store/equity_store.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm equity list [--log NAME] [--json] [--home DIR]\n"
            "       aftm equity export [--log NAME] [-o FILE] [--home DIR]\n"
            "       aftm equity set-capital N [--home DIR]\n"
            "       aftm equity clear [--log NAME] [--home DIR]\n"
            "       aftm equity logs [--json] [--home DIR]\n\n"
            "The daily equity log: one row per day (Asia/Taipei date). The executor writes today's\n"
            "row after every fill: starting capital + total P&L in NT$ (realized, plus open\n"
            "positions at the last price, x the contract multiplier; fees and taxes are not known\n"
            "to it). A backtest never writes there: 'aftm backtest --record-equity NAME' keeps its\n"
            "daily equity in the log NAME, with the backtest's capital.\n\n"
            "  list          the rows, with the change from the row before, then the return and\n"
            "                the max drawdown against the starting capital\n"
            "  export        the original's equity_log.csv: header date,equity, rows\n"
            "                YYYY-MM-DD,<int>, no final newline; to FILE or stdout\n"
            "  set-capital   the starting capital (default %lld); rows already recorded stay\n"
            "  clear         delete every row (with --log, the named log)\n"
            "  logs          the named logs: name, capital, rows\n"
            "  --log NAME    a backtest's named log instead of the live one\n"
            "  --json        machine-readable list\n"
            "  --home        data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "'aftm chart' with no --equity draws this log.\n",
            EQUITY_DEFAULT_CAPITAL);
}

typedef struct {
    const char *home, *output, *log;
    bool json;
    int first_arg; /* index of the first operand, or 0 */
} eq_opts;

/* Parses options after the action; at most one operand. -1 to go on, else an exit code. */
static int parse(int argc, char **argv, eq_opts *o, bool allow_json, bool allow_output, bool want_operand,
                 bool allow_log) {
    static const struct option opts[] = {{"json", 0, 0, 'j'}, {"output", 1, 0, 'o'}, {"home", 1, 0, 'h'},
                                         {"help", 0, 0, 'H'}, {"log", 1, 0, 'l'},     {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            if (!allow_json) goto bad;
            o->json = true;
            break;
        case 'o':
            if (!allow_output) goto bad;
            o->output = optarg;
            break;
        case 'h': o->home = optarg; break;
        case 'l':
            if (!allow_log) goto bad;
            if (!estore_log_name_ok(optarg)) {
                fprintf(stderr, "aftm equity %s: a log name is 1 to %d letters, digits, '.', '_' or '-', not '%s'\n",
                        argv[0], EQUITY_LOG_NAME_MAX, optarg);
                return EXIT_USAGE;
            }
            o->log = optarg;
            break;
        case 'H': usage(stdout); return EXIT_OK;
        default: goto bad;
        }
    }
    if (want_operand) {
        if (optind != argc - 1) {
            fprintf(stderr, "aftm equity %s: takes exactly one value\n", argv[0]);
            return EXIT_USAGE;
        }
        o->first_arg = optind;
    } else if (optind < argc) {
        fprintf(stderr, "aftm equity %s: unexpected argument '%s'\n", argv[0], argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
bad:
    fprintf(stderr, "aftm equity %s: bad option (see aftm equity --help)\n", argv[0]);
    return EXIT_USAGE;
}

static bool open_home(home_db *h, const char *home) { return home_db_open(h, home); }

/* The live log or the named one, with its capital. An exit code on failure, else -1. */
static int load_log(const eq_opts *o, equity_series *s, long long *capital) {
    home_db h;
    if (!open_home(&h, o->home)) return EXIT_RUNTIME;
    int rc = -1;
    if (o->log) {
        int got = estore_log_load(h.db, o->log, s, capital);
        if (got == 0) {
            fprintf(stderr, "aftm equity: no equity log named '%s' (aftm equity logs lists them)\n", o->log);
            rc = EXIT_USAGE;
        } else if (got < 0) {
            fprintf(stderr, "aftm equity: cannot read the equity log '%s'\n", o->log);
            rc = EXIT_RUNTIME;
        }
    } else {
        *capital = estore_capital(h.db);
        if (!estore_load(h.db, s)) {
            fprintf(stderr, "aftm equity: cannot read the equity log\n");
            rc = EXIT_RUNTIME;
        }
    }
    home_db_close(&h);
    return rc;
}

static int do_list(int argc, char **argv) {
    eq_opts o;
    int rc = parse(argc, argv, &o, true, false, false, true);
    if (rc >= 0) return rc;
    if (!home_has_data(o.home, "equity list")) return EXIT_RUNTIME;
    equity_series s;
    long long capital = 0;
    if ((rc = load_log(&o, &s, &capital)) >= 0) return rc;
    if (o.json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < s.n; i++) {
            char d[11];
            equity_format_date(s.pts[i].day, d);
            json_array_append_new(arr, json_pack("{s:s, s:I, s:s}", "date", d, "equity", (json_int_t)s.pts[i].equity,
                                                 "currency", "TWD"));
        }
        char *text = json_dumps(arr, JSON_INDENT(2));
        if (text) printf("%s\n", text);
        free(text);
        json_decref(arr);
    } else if (!s.n) {
        char c[48];
        equity_format_money((double)capital, c, sizeof c);
        if (o.log) printf("the equity log '%s' is empty (starting capital %s)\n", o.log, c);
        else printf("the equity log is empty (starting capital %s); fills add rows\n", c);
    } else {
        printf("%-10s  %14s  %12s\n", "date", "equity", "change");
        for (size_t i = 0; i < s.n; i++) {
            char d[11], e[48], ch[48] = "";
            equity_format_date(s.pts[i].day, d);
            equity_format_money(s.pts[i].equity, e, sizeof e);
            {
                /* the first day's change is from the starting capital */
                double delta = s.pts[i].equity - (i ? s.pts[i - 1].equity : (double)capital);
                equity_format_money(delta, ch, sizeof ch);
                if (delta >= 0) {
                    memmove(ch + 1, ch, strlen(ch) + 1);
                    ch[0] = '+';
                }
            }
            printf("%-10s  %14s  %12s\n", d, e, ch);
        }
        fig_curve fc;
        fig_curve_daily(&s, (double)capital, &fc);
        char c[48];
        equity_format_money((double)capital, c, sizeof c);
        printf("%zu day%s, return %+.2f%%, max drawdown %.2f%% (from the starting capital %s)\n", fc.n,
               fc.n == 1 ? "" : "s", fc.return_pct, fc.max_dd_pct, c);
    }
    equity_free(&s);
    return EXIT_OK;
}

static int do_export(int argc, char **argv) {
    eq_opts o;
    int rc = parse(argc, argv, &o, false, true, false, true);
    if (rc >= 0) return rc;
    equity_series s;
    long long capital = 0;
    if ((rc = load_log(&o, &s, &capital)) >= 0) return rc;
    if (!s.n) fprintf(stderr, "aftm equity: the equity log is empty; only the header is written\n");
    char err[512];
    rc = EXIT_OK;
    if (o.output) {
        if (equity_write_csv(o.output, &s, err, sizeof err)) {
            fprintf(stderr, "exported %zu row%s to %s\n", s.n, s.n == 1 ? "" : "s", o.output);
        } else {
            fprintf(stderr, "aftm equity: %s\n", err);
            rc = EXIT_RUNTIME;
        }
    } else {
        /* the same bytes as the file: no final newline, as the original's equity_log.csv */
        fputs("date,equity", stdout);
        for (size_t i = 0; i < s.n; i++) {
            char d[11];
            equity_format_date(s.pts[i].day, d);
            printf("\n%s,%lld", d, (long long)s.pts[i].equity);
        }
        if (fflush(stdout) != 0) rc = EXIT_RUNTIME;
    }
    equity_free(&s);
    return rc;
}

static int do_set_capital(int argc, char **argv) {
    eq_opts o;
    int rc = parse(argc, argv, &o, false, false, true, false);
    if (rc >= 0) return rc;
    int64_t v;
    if (!parse_int_range(argv[o.first_arg], 1, 1000000000000000LL, &v)) {
        fprintf(stderr, "aftm equity set-capital: wants a positive whole amount, got '%s'\n", argv[o.first_arg]);
        return EXIT_USAGE;
    }
    home_db h;
    if (!open_home(&h, o.home)) return EXIT_RUNTIME;
    bool ok = estore_set_capital(h.db, v);
    home_db_close(&h);
    if (!ok) {
        fprintf(stderr, "aftm equity: cannot store the capital\n");
        return EXIT_RUNTIME;
    }
    char c[48];
    equity_format_money((double)v, c, sizeof c);
    printf("starting capital set to %s\n", c);
    return EXIT_OK;
}

static int do_clear(int argc, char **argv) {
    eq_opts o;
    int rc = parse(argc, argv, &o, false, false, false, true);
    if (rc >= 0) return rc;
    home_db h;
    if (!open_home(&h, o.home)) return EXIT_RUNTIME;
    if (o.log) {
        int got = estore_log_drop(h.db, o.log);
        home_db_close(&h);
        if (got < 0) {
            fprintf(stderr, "aftm equity: cannot delete the equity log '%s'\n", o.log);
            return EXIT_RUNTIME;
        }
        if (!got) {
            fprintf(stderr, "aftm equity: no equity log named '%s'\n", o.log);
            return EXIT_USAGE;
        }
        printf("deleted the equity log '%s'\n", o.log);
        return EXIT_OK;
    }
    int n = estore_clear(h.db);
    home_db_close(&h);
    if (n < 0) {
        fprintf(stderr, "aftm equity: cannot clear the equity log\n");
        return EXIT_RUNTIME;
    }
    printf("deleted %d row%s of the equity log\n", n, n == 1 ? "" : "s");
    return EXIT_OK;
}

typedef struct {
    bool json;
    json_t *arr;
} logs_ctx;

static void log_row(void *ctx, const char *name, long long capital, size_t rows) {
    logs_ctx *l = ctx;
    if (l->json) {
        json_array_append_new(l->arr, json_pack("{s:s, s:I, s:s, s:I}", "name", name, "capital", (json_int_t)capital,
                                                "currency", "TWD", "rows", (json_int_t)rows));
        return;
    }
    char c[48];
    equity_format_money((double)capital, c, sizeof c);
    printf("%-24s  %16s  %6zu\n", name, c, rows);
}

static int do_logs(int argc, char **argv) {
    eq_opts o;
    int rc = parse(argc, argv, &o, true, false, false, false);
    if (rc >= 0) return rc;
    home_db h;
    if (!open_home(&h, o.home)) return EXIT_RUNTIME;
    logs_ctx l = {o.json, o.json ? json_array() : NULL};
    if (!o.json) printf("%-24s  %16s  %6s\n", "log", "capital", "rows");
    int n = estore_log_list(h.db, log_row, &l);
    home_db_close(&h);
    if (n < 0) {
        json_decref(l.arr);
        fprintf(stderr, "aftm equity: cannot list the equity logs\n");
        return EXIT_RUNTIME;
    }
    if (o.json) {
        char *text = json_dumps(l.arr, JSON_INDENT(2));
        if (text) printf("%s\n", text);
        free(text);
        json_decref(l.arr);
    } else if (!n) {
        printf("(none: 'aftm backtest ... --record-equity NAME' makes one)\n");
    }
    return EXIT_OK;
}

int cmd_equity(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "list")) return do_list(argc - 1, argv + 1);
    if (!strcmp(sub, "export")) return do_export(argc - 1, argv + 1);
    if (!strcmp(sub, "set-capital")) return do_set_capital(argc - 1, argv + 1);
    if (!strcmp(sub, "clear")) return do_clear(argc - 1, argv + 1);
    if (!strcmp(sub, "logs")) return do_logs(argc - 1, argv + 1);
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "aftm equity: unknown action '%s' (list, export, set-capital, clear or logs)\n", sub);
    return EXIT_USAGE;
}
