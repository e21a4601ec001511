/* aftm condition add|list|rm|import: the trader's conditions, kept in the database. */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "backtest/conditions_file.h"
#include "cli/home_db.h"
#include "usecase/uc.h"
#include "usecase/uc_view.h"
#include "core/parse.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/session_store.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm condition add --side buy|sell --trigger P --turning T --qty Q\n"
            "                          [--tp N] [--sl N] [--follow] [--repeat] [--symbol S] [--home DIR]\n"
            "       aftm condition list [--all] [--json] [--home DIR]\n"
            "       aftm condition rm ID [--flatten | --keep-position] [--home DIR]\n"
            "       aftm condition import FILE [--symbol S] [--home DIR]\n\n"
            "  --side       buy or sell\n"
            "  --trigger    trigger price (support for buy, resistance for sell), positive integer\n"
            "  --turning    turning points: the entry fires this far back from the trigger, positive\n"
            "  --qty        lots per order, positive integer\n"
            "  --tp         take-profit points from the entry (default %d)\n"
            "  --sl         stop-loss points from the entry (default %d)\n"
            "  --follow     trail the trigger to new lows (buy) or highs (sell) until the entry fires\n"
            "  --repeat     arm the condition again after each exit (take profit or stop loss), under\n"
            "               the same id, until it is removed (condition rm)\n"
            "  --symbol     product, e.g. TXFF5 (default: the registered item)\n"
            "  --all        list also done, cancelled and rejected conditions\n"
            "  --flatten    rm of a condition that holds a position: close the lots at market too\n"
            "  --keep-position  rm of such a condition: leave the lots open, unmanaged (without either,\n"
            "               rm refuses with exit 2 and names the position)\n"
            "  --json       machine-readable output\n"
            "  --home       data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "\nimport reads the original's conditions.json (an optional \"symbol\" key per condition;\n"
            "without it, --symbol or the registered item, and an optional \"repeat\": true) and adds every\n"
            "valid condition.\n"
            "A condition added while the strategy runs is live within a second.\n",
            DEFAULT_TAKE_PROFIT_POINT, DEFAULT_STOP_LOSS_POINT);
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "aftm condition: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return EXIT_USAGE;
}

/* The use case's verdict as an exit code, its message on stderr. */
static int fail(const uc_result *r) {
    fprintf(stderr, "aftm condition: %s\n", r->msg);
    return r->st == UC_BAD_INPUT || r->st == UC_PRECONDITION ? EXIT_USAGE : EXIT_RUNTIME;
}

static bool open_uc(uc_ctx *c, const char *home) {
    char err[512];
    if (uc_open(c, UC_FACE_CLI, home, err, sizeof err)) return true;
    fprintf(stderr, "aftm condition: %s\n", err);
    return false;
}

static int cmd_add(int argc, char **argv) {
    static const struct option opts[] = {{"side", 1, 0, 's'},   {"trigger", 1, 0, 't'}, {"turning", 1, 0, 'n'},
                                         {"qty", 1, 0, 'q'},    {"tp", 1, 0, 'p'},      {"sl", 1, 0, 'l'},
                                         {"follow", 0, 0, 'f'}, {"symbol", 1, 0, 'y'},  {"home", 1, 0, 'h'},
                                         {"repeat", 0, 0, 'r'}, {"help", 0, 0, 'H'},    {0, 0, 0, 0}};
    uc_condition_input in;
    memset(&in, 0, sizeof in);
    const char *home = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's': in.side = optarg; break;
        case 't': in.trigger = optarg; break;
        case 'n': in.turning = optarg; break;
        case 'q': in.qty = optarg; break;
        case 'p': in.tp = optarg; break;
        case 'l': in.sl = optarg; break;
        case 'f': in.following = true; break;
        case 'r': in.repeat = true; break;
        case 'y': in.symbol = optarg; break;
        case 'h': home = optarg; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) return bad("unexpected argument '%s'", argv[optind]);
    if (!in.side) return bad("--side is required (buy or sell)%s", "");
    if (!in.trigger) return bad("--trigger is required%s", "");
    if (!in.turning) return bad("--turning is required%s", "");
    if (!in.qty) return bad("--qty is required%s", "");
    uc_ctx c;
    if (!open_uc(&c, home)) return EXIT_RUNTIME;
    char item[CONDITION_SYMBOL_MAX] = "";
    session_item_code(c.db, item, sizeof item); /* the registered item, if any, is the default */
    condition_record rec;
    uc_result r;
    bool ok = uc_condition_create(&c, &in, item, &rec, &r);
    uc_close(&c);
    if (!ok) return fail(&r);
    uc_view_condition_created(stdout, &rec);
    return EXIT_OK;
}

typedef struct {
    bool json;
    json_t *arr;
} list_ctx;

static void list_row(void *ctx, const condition_record *r) {
    list_ctx *l = ctx;
    if (l->json) json_array_append_new(l->arr, uc_view_condition_json(r));
    else uc_view_condition_row(stdout, r);
}

static int cmd_list(int argc, char **argv) {
    static const struct option opts[] = {
        {"json", 0, 0, 'j'}, {"all", 0, 0, 'a'}, {"home", 1, 0, 'h'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home = NULL;
    bool all = false;
    list_ctx l = {false, NULL};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'j': l.json = true; break;
        case 'a': all = true; break;
        case 'h': home = optarg; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) return bad("unexpected argument '%s'", argv[optind]);
    if (!home_has_data(home, "condition list")) return EXIT_RUNTIME;
    uc_ctx c;
    if (!open_uc(&c, home)) return EXIT_RUNTIME;
    if (l.json) l.arr = json_array();
    else uc_view_conditions_header(stdout);
    int n = uc_conditions(&c, all, list_row, &l);
    uc_close(&c);
    if (n < 0) {
        fprintf(stderr, "aftm condition: cannot read conditions\n");
        json_decref(l.arr);
        return EXIT_RUNTIME;
    }
    if (l.json) {
        char *text = json_dumps(l.arr, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
        json_decref(l.arr);
    } else if (n == 0) {
        printf("(no %sconditions)\n", all ? "" : "active ");
    }
    return EXIT_OK;
}

static int cmd_rm(int argc, char **argv) {
    static const struct option opts[] = {{"home", 1, 0, 'h'},          {"flatten", 0, 0, 'f'},
                                         {"keep-position", 0, 0, 'k'}, {"help", 0, 0, 'H'},
                                         {0, 0, 0, 0}};
    const char *home = NULL;
    bool flatten = false, keep = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'h') home = optarg;
        else if (o == 'f') flatten = true;
        else if (o == 'k') keep = true;
        else {
            usage(o == 'H' ? stdout : stderr);
            return o == 'H' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (optind != argc - 1) return bad("rm takes exactly one condition id%s", "");
    if (flatten && keep) return bad("--flatten and --keep-position exclude each other%s", "");
    uc_ctx c;
    if (!open_uc(&c, home)) return EXIT_RUNTIME;
    int64_t id = 0;
    uc_result r;
    uc_order flat;
    bool flattened;
    char held[160];
    bool ok = uc_condition_remove(&c, argv[optind], flatten ? UC_RM_FLATTEN : keep ? UC_RM_KEEP : UC_RM_REFUSE, &id,
                                  &flattened, &flat, held, sizeof held, &r);
    uc_close(&c);
    if (!ok) return fail(&r);
    printf("condition %lld cancelled\n", (long long)id);
    if (flattened) uc_view_order(stdout, &flat);
    else if (held[0])
        fprintf(stderr, "aftm condition: warning: the position stays open with no take profit or stop loss: %s\n",
                held);
    return EXIT_OK;
}

static int cmd_import(int argc, char **argv) {
    static const struct option opts[] = {{"symbol", 1, 0, 'y'}, {"home", 1, 0, 'h'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home = NULL, *symbol = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'y': symbol = optarg; break;
        case 'h': home = optarg; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) return bad("import takes exactly one file%s", "");
    if (symbol && !symbol_valid(symbol)) return bad("--symbol must be 1-31 letters or digits, got '%s'", symbol);
    home_db h;
    if (!home_db_open(&h, home)) return EXIT_RUNTIME;
    char sym[CONDITION_SYMBOL_MAX] = "";
    if (symbol) snprintf(sym, sizeof sym, "%s", symbol);
    else session_item_code(h.db, sym, sizeof sym);
    for (char *p = sym; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    condition_set set;
    char err[512];
    if (!conditions_file_load(argv[optind], sym, &set, err, sizeof err)) {
        home_db_close(&h);
        fprintf(stderr, "aftm condition: %s\n", err);
        return EXIT_USAGE;
    }
    /* numbers out of range refuse the whole file: stored, they would be traded */
    size_t bad_range = 0;
    for (size_t i = 0; i < set.n; i++) {
        char why[160];
        if (set.items[i].quantity <= 0) continue; /* skipped below, as the original skips it */
        if (!condition_check_ranges(&set.items[i], why, sizeof why)) {
            fprintf(stderr, "aftm condition: %s: condition %zu (%s): %s\n", argv[optind], i, set.uuids[i], why);
            bad_range++;
        }
    }
    if (bad_range) {
        fprintf(stderr, "aftm condition: %zu condition(s) out of range; nothing imported\n", bad_range);
        home_db_close(&h);
        condition_set_free(&set);
        return EXIT_USAGE;
    }
    size_t added = 0, nosym = 0, nonpositive = 0;
    int rc = EXIT_OK;
    if (!cstore_begin(h.cs)) {
        fprintf(stderr, "aftm condition: the database is busy; nothing imported\n");
        rc = EXIT_RUNTIME;
    } else {
        for (size_t i = 0; i < set.n; i++) {
            condition *c = &set.items[i];
            c->repeat = set.repeat[i];
            if (!c->symbol[0]) {
                nosym++;
                continue;
            }
            if (c->quantity <= 0) {
                fprintf(stderr, "aftm condition: condition %zu has quantity %lld; skipped\n", i, (long long)c->quantity);
                nonpositive++;
                continue;
            }
            if (cstore_add(h.cs, c, set.uuids[i], err, sizeof err) < 0) {
                fprintf(stderr, "aftm condition: %s\n", err);
                rc = EXIT_RUNTIME;
                break;
            }
            added++;
        }
        if (rc == EXIT_OK && !cstore_commit(h.cs)) rc = EXIT_RUNTIME;
        if (rc != EXIT_OK) {
            db_exec(h.db, "ROLLBACK", NULL, 0);
            added = 0;
        }
    }
    home_db_close(&h);
    if (nosym)
        fprintf(stderr, "aftm condition: %zu condition(s) name no symbol and no --symbol or registered item was given; skipped\n", nosym);
    size_t bad_records = set.skipped + nosym + nonpositive;
    printf("imported %zu condition(s) from %s (%zu bad record(s) skipped)\n", added, argv[optind], bad_records);
    condition_set_free(&set);
    /* a file of nothing but bad records is bad input, not a success that imported nothing */
    if (rc == EXIT_OK && added == 0 && bad_records > 0) {
        fprintf(stderr, "aftm condition: every record of %s is bad; nothing imported\n", argv[optind]);
        rc = EXIT_USAGE;
    }
    return rc;
}

int cmd_condition(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "add")) return cmd_add(argc - 1, argv + 1);
    if (!strcmp(sub, "list")) return cmd_list(argc - 1, argv + 1);
    if (!strcmp(sub, "rm")) return cmd_rm(argc - 1, argv + 1);
    if (!strcmp(sub, "import")) return cmd_import(argc - 1, argv + 1);
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "aftm condition: unknown action '%s' (add, list, rm or import)\n", sub);
    return EXIT_USAGE;
}
