/* aftm condition add|list|rm|import: the trader's conditions, kept in the database. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "backtest/conditions_file.h"
#include "cli/home_db.h"
#include "core/parse.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/session_store.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm condition add --side buy|sell --trigger P --turning T --qty Q\n"
            "                          [--tp N] [--sl N] [--follow] [--symbol S] [--home DIR]\n"
            "       aftm condition list [--all] [--json] [--home DIR]\n"
            "       aftm condition rm ID [--home DIR]\n"
            "       aftm condition import FILE [--symbol S] [--home DIR]\n\n"
            "  --side       buy or sell\n"
            "  --trigger    trigger price (support for buy, resistance for sell), positive integer\n"
            "  --turning    turning points: the entry fires this far back from the trigger, positive\n"
            "  --qty        lots per order, positive integer\n"
            "  --tp         take-profit points from the entry (default %d)\n"
            "  --sl         stop-loss points from the entry (default %d)\n"
            "  --follow     trail the trigger to new lows (buy) or highs (sell) until the entry fires\n"
            "  --symbol     product, e.g. TXFF5 (default: the registered item)\n"
            "  --all        list also done, cancelled and rejected conditions\n"
            "  --json       machine-readable output\n"
            "  --home       data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "\nimport reads the original's conditions.json (an optional \"symbol\" key per condition;\n"
            "without it, --symbol or the registered item) and adds every valid condition.\n"
            "A condition added while the strategy runs is live within a second.\n",
            DEFAULT_TAKE_PROFIT_POINT, DEFAULT_STOP_LOSS_POINT);
}

static int bad(const char *fmt, const char *arg) {
    fprintf(stderr, "aftm condition: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return EXIT_USAGE;
}

static bool positive(const char *s, int64_t *out) { return parse_int_range(s, 1, 1000000000, out); }

static int cmd_add(int argc, char **argv) {
    static const struct option opts[] = {{"side", 1, 0, 's'},   {"trigger", 1, 0, 't'}, {"turning", 1, 0, 'n'},
                                         {"qty", 1, 0, 'q'},    {"tp", 1, 0, 'p'},      {"sl", 1, 0, 'l'},
                                         {"follow", 0, 0, 'f'}, {"symbol", 1, 0, 'y'},  {"home", 1, 0, 'h'},
                                         {"help", 0, 0, 'H'},   {0, 0, 0, 0}};
    const char *side = NULL, *home = NULL, *symbol = NULL;
    int64_t trigger = 0, turning = 0, qty = 0, tp = DEFAULT_TAKE_PROFIT_POINT, sl = DEFAULT_STOP_LOSS_POINT;
    bool follow = false, have_trigger = false, have_turning = false, have_qty = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's': side = optarg; break;
        case 't':
            if (!positive(optarg, &trigger)) return bad("--trigger must be a positive integer price, got '%s'", optarg);
            have_trigger = true;
            break;
        case 'n':
            if (!positive(optarg, &turning)) return bad("--turning must be a positive integer, got '%s'", optarg);
            have_turning = true;
            break;
        case 'q':
            if (!positive(optarg, &qty)) return bad("--qty must be a positive integer, got '%s'", optarg);
            have_qty = true;
            break;
        case 'p':
            if (!positive(optarg, &tp)) return bad("--tp must be a positive integer, got '%s'", optarg);
            break;
        case 'l':
            if (!positive(optarg, &sl)) return bad("--sl must be a positive integer, got '%s'", optarg);
            break;
        case 'f': follow = true; break;
        case 'y': symbol = optarg; break;
        case 'h': home = optarg; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) return bad("unexpected argument '%s'", argv[optind]);
    if (!side) return bad("--side is required (buy or sell)%s", "");
    if (strcmp(side, "buy") && strcmp(side, "sell")) return bad("--side must be buy or sell, got '%s'", side);
    if (!have_trigger) return bad("--trigger is required%s", "");
    if (!have_turning) return bad("--turning is required%s", "");
    if (!have_qty) return bad("--qty is required%s", "");
    home_db h;
    if (!home_db_open(&h, home)) return EXIT_RUNTIME;
    char sym[CONDITION_SYMBOL_MAX];
    if (symbol) {
        if (!symbol_valid(symbol)) {
            home_db_close(&h);
            return bad("--symbol must be 1-31 letters or digits, got '%s'", symbol);
        }
        snprintf(sym, sizeof sym, "%s", symbol);
    } else if (!session_item_code(h.db, sym, sizeof sym)) {
        home_db_close(&h);
        return bad("no --symbol given and no item registered; pass --symbol (e.g. --symbol TXFF5)%s", "");
    }
    for (char *p = sym; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    condition c;
    condition_init(&c, 0, sym, strcmp(side, "buy") ? SIDE_SELL : SIDE_BUY, trigger, turning, qty, tp, sl, follow);
    char err[256];
    int64_t id = cstore_add(h.cs, &c, NULL, err, sizeof err);
    home_db_close(&h);
    if (id < 0) {
        fprintf(stderr, "aftm condition: %s\n", err);
        return EXIT_RUNTIME;
    }
    printf("condition %lld added: %s %s %lld lot(s), trigger %lld, entry %lld, take profit %lld, stop loss %lld%s\n",
           (long long)id, side, c.symbol, (long long)qty, (long long)c.trigger_price, (long long)c.order_price,
           (long long)c.take_profit_price, (long long)c.stop_loss_price, follow ? ", trailing" : "");
    return EXIT_OK;
}

typedef struct {
    bool json;
    json_t *arr;
} list_ctx;

static const char *stage_of(const condition_record *r) {
    const condition *c = &r->c;
    if (strcmp(r->status, "active")) return r->status;
    if (!c->is_trigger) return "waiting trigger";
    if (!c->is_ordered) return "triggered";
    switch (c->entry) {
    case ENTRY_PENDING: return "entry sent";
    case ENTRY_FILLED: return "in position";
    case ENTRY_REJECTED: return "entry rejected";
    default: return "ordered";
    }
}

static void list_row(void *ctx, const condition_record *r) {
    list_ctx *l = ctx;
    const condition *c = &r->c;
    if (l->json) {
        json_array_append_new(
            l->arr,
            json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:b,s:I,s:I,s:I,s:b,s:b,s:b,s:s,s:I,s:s,s:s,s:s}", "id",
                      (json_int_t)c->id, "symbol", c->symbol, "side", c->side == SIDE_BUY ? "buy" : "sell",
                      "trigger_price", (json_int_t)c->trigger_price, "turning_point", (json_int_t)c->turning_point,
                      "quantity", (json_int_t)c->quantity, "take_profit_point", (json_int_t)c->take_profit_point,
                      "stop_loss_point", (json_int_t)c->stop_loss_point, "is_following", c->is_following,
                      "order_price", (json_int_t)c->order_price, "take_profit_price",
                      (json_int_t)c->take_profit_price, "stop_loss_price", (json_int_t)c->stop_loss_price,
                      "is_trigger", c->is_trigger, "is_ordered", c->is_ordered, "is_exited", c->is_exited,
                      "entry_state", entry_state_name(c->entry), "filled_qty", (json_int_t)c->filled_qty, "status",
                      r->status, "stage", stage_of(r), "note", r->note));
        return;
    }
    printf("%5lld  %-8s %-4s %4lld %8lld %8lld %8lld %8lld  %-5s %-16s %s\n", (long long)c->id, c->symbol,
           c->side == SIDE_BUY ? "buy" : "sell", (long long)c->quantity, (long long)c->trigger_price,
           (long long)c->order_price, (long long)c->take_profit_price, (long long)c->stop_loss_price,
           c->is_following ? "yes" : "no", stage_of(r), r->note);
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
    home_db h;
    if (!home_db_open(&h, home)) return EXIT_RUNTIME;
    if (l.json) l.arr = json_array();
    else
        printf("%5s  %-8s %-4s %4s %8s %8s %8s %8s  %-5s %-16s %s\n", "id", "symbol", "side", "qty", "trigger",
               "entry", "profit", "stop", "trail", "stage", "note");
    int n = cstore_list(h.cs, all, list_row, &l);
    home_db_close(&h);
    if (n < 0) {
        fprintf(stderr, "aftm condition: cannot read conditions\n");
        json_decref(l.arr);
        return EXIT_RUNTIME;
    }
    if (l.json) {
        char *s = json_dumps(l.arr, JSON_INDENT(2));
        printf("%s\n", s);
        free(s);
        json_decref(l.arr);
    } else if (n == 0) {
        printf("(no %sconditions)\n", all ? "" : "active ");
    }
    return EXIT_OK;
}

static int cmd_rm(int argc, char **argv) {
    static const struct option opts[] = {{"home", 1, 0, 'h'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'h') home = optarg;
        else {
            usage(o == 'H' ? stdout : stderr);
            return o == 'H' ? EXIT_OK : EXIT_USAGE;
        }
    }
    int64_t id;
    if (optind != argc - 1) return bad("rm takes exactly one condition id%s", "");
    if (!positive(argv[optind], &id)) return bad("condition id must be a positive integer, got '%s'", argv[optind]);
    home_db h;
    if (!home_db_open(&h, home)) return EXIT_RUNTIME;
    char err[256];
    bool ok = cstore_cancel(h.cs, id, err, sizeof err);
    home_db_close(&h);
    if (!ok) {
        fprintf(stderr, "aftm condition: %s\n", err);
        return EXIT_RUNTIME;
    }
    printf("condition %lld cancelled\n", (long long)id);
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
    size_t added = 0, nosym = 0;
    int rc = EXIT_OK;
    if (!cstore_begin(h.cs)) {
        fprintf(stderr, "aftm condition: the database is busy; nothing imported\n");
        rc = EXIT_RUNTIME;
    } else {
        for (size_t i = 0; i < set.n; i++) {
            condition *c = &set.items[i];
            if (!c->symbol[0]) {
                nosym++;
                continue;
            }
            if (c->quantity <= 0) {
                fprintf(stderr, "aftm condition: condition %zu has quantity %lld; skipped\n", i, (long long)c->quantity);
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
    printf("imported %zu condition(s) from %s (%zu bad record(s) skipped)\n", added, argv[optind], set.skipped + nosym);
    condition_set_free(&set);
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
