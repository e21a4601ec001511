/* aftm orders | fills | positions | kill [--halt] | resume: the executor's books and its trading state.
 * Everything is read from the database, so it shows the truth after a restart as well. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "cli/commands.h"
#include "cli/home_db.h"
#include "core/clock.h"
#include "core/config.h"
#include "domain/position.h"
#include "net/gateway_client.h"
#include "net/gw_proto.h"
#include "net/secure.h"
#include "store/db.h"
#include "store/order_store.h"
#include "store/session_store.h"
#include "store/trading_state.h"

typedef struct {
    bool json, broker;
    const char *home, *account;
    char order_endpoint[AFTM_ENDPOINT_MAX];
} books_opts;

static int parse(int argc, char **argv, books_opts *o, const char *help) {
    static const struct option opts[] = {{"json", 0, 0, 'j'},    {"broker", 0, 0, 'b'},
                                         {"home", 1, 0, 'h'},    {"account", 1, 0, 'a'},
                                         {"order-endpoint", 1, 0, 'o'}, {"help", 0, 0, 'H'},
                                         {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    endpoints ep;
    endpoints_from_env(&ep);
    snprintf(o->order_endpoint, sizeof o->order_endpoint, "%s", ep.order);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': o->json = true; break;
        case 'b': o->broker = true; break;
        case 'h': o->home = optarg; break;
        case 'a': o->account = optarg; break;
        case 'o': snprintf(o->order_endpoint, sizeof o->order_endpoint, "%s", optarg); break;
        case 'H': fputs(help, stdout); return EXIT_OK;
        default: fputs(help, stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm %s: unexpected argument '%s'\n", argv[0], argv[optind]);
        return EXIT_USAGE;
    }
    return -1;
}

/* A time of the books as --json writes every time (ISO 8601 with offset); NULL for none. */
static const char *iso(double t, char buf[CLOCK_ISO_MAX]) {
    clock_iso8601(t, buf);
    return buf[0] ? buf : NULL;
}

static void print_json(json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", s);
    free(s);
    json_decref(j);
}

static const char ORDERS_HELP[] =
    "usage: aftm orders [--json] [--home DIR]\n\n"
    "Every order the executor placed or refused, newest last: client order id, signal, condition,\n"
    "account, product, side, quantity, filled quantity, average fill price, status and reason.\n";

int cmd_orders(int argc, char **argv) {
    books_opts o;
    int rc = parse(argc, argv, &o, ORDERS_HELP);
    if (rc >= 0) return rc;
    if (!home_has_data(o.home, "orders")) return EXIT_RUNTIME;
    home_db h;
    if (!home_db_open(&h, o.home)) return EXIT_RUNTIME;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(h.db,
                       "SELECT client_order_id, signal_id, condition_id, account, symbol, side, qty, filled_qty, "
                       "fill_notional, status, reason, created_at FROM orders ORDER BY created_at, rowid",
                       -1, &st, NULL);
    json_t *arr = json_array();
    if (!o.json)
        printf("%-22s %-6s %-9s %-5s %4s %6s %10s %-17s %s\n", "client order id", "cond", "symbol", "side", "qty",
               "filled", "avg price", "status", "reason");
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n++;
        int64_t filled = sqlite3_column_int64(st, 7), notional = sqlite3_column_int64(st, 8);
        double avg = filled ? (double)notional / (double)filled : 0.0;
        const char *col[12];
        for (int i = 0; i < 12; i++) col[i] = (const char *)sqlite3_column_text(st, i);
        char when[CLOCK_ISO_MAX];
        if (o.json) {
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:I,s:f,s:f,s:s,s:s,s:s?}", "client_order_id", col[0],
                               "signal_id", col[1], "condition_id", (json_int_t)sqlite3_column_int64(st, 2), "account",
                               col[3], "symbol", col[4], "side", col[5], "qty", (json_int_t)sqlite3_column_int64(st, 6),
                               "filled_qty", (json_int_t)filled, "avg_price", avg,
                               /* the name before one style: kept for scripts, to go in a later release */
                               "avg_fill_price", avg, "status", col[9], "reason", col[10], "time",
                               iso(sqlite3_column_double(st, 11), when)));
        } else {
            printf("%-22s %-6lld %-9s %-5s %4lld %6lld %10.2f %-17s %s\n", col[0], (long long)sqlite3_column_int64(st, 2),
                   col[4], col[5], (long long)sqlite3_column_int64(st, 6), (long long)filled, avg, col[9], col[10]);
        }
    }
    sqlite3_finalize(st);
    home_db_close(&h);
    if (o.json) print_json(arr);
    else {
        json_decref(arr);
        if (!n) printf("(no orders)\n");
    }
    return EXIT_OK;
}

static const char FILLS_HELP[] =
    "usage: aftm fills [--json] [--home DIR]\n\n"
    "Every fill the executor counted (each once, by fill id): fill id, client order id, quantity,\n"
    "price and time.\n";

int cmd_fills(int argc, char **argv) {
    books_opts o;
    int rc = parse(argc, argv, &o, FILLS_HELP);
    if (rc >= 0) return rc;
    if (!home_has_data(o.home, "fills")) return EXIT_RUNTIME;
    home_db h;
    if (!home_db_open(&h, o.home)) return EXIT_RUNTIME;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(h.db,
                       "SELECT fill_id, client_order_id, qty, price, time, account, symbol, side FROM fills "
                       "ORDER BY time, rowid",
                       -1, &st, NULL);
    json_t *arr = json_array();
    if (!o.json) printf("%-28s %-22s %-9s %-5s %5s %8s\n", "fill id", "client order id", "symbol", "side", "qty", "price");
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n++;
        const char *fid = (const char *)sqlite3_column_text(st, 0), *coid = (const char *)sqlite3_column_text(st, 1);
        char when[CLOCK_ISO_MAX];
        if (o.json)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:s?,s:s,s:s,s:s}", "fill_id", fid, "client_order_id",
                                                 coid, "qty", (json_int_t)sqlite3_column_int64(st, 2), "price",
                                                 (json_int_t)sqlite3_column_int64(st, 3), "time",
                                                 iso(sqlite3_column_double(st, 4), when), "account",
                                                 (const char *)sqlite3_column_text(st, 5), "symbol",
                                                 (const char *)sqlite3_column_text(st, 6), "side",
                                                 (const char *)sqlite3_column_text(st, 7)));
        else
            printf("%-28s %-22s %-9s %-5s %5lld %8lld\n", fid, coid, (const char *)sqlite3_column_text(st, 6),
                   (const char *)sqlite3_column_text(st, 7), (long long)sqlite3_column_int64(st, 2),
                   (long long)sqlite3_column_int64(st, 3));
    }
    sqlite3_finalize(st);
    home_db_close(&h);
    if (o.json) print_json(arr);
    else {
        json_decref(arr);
        if (!n) printf("(no fills)\n");
    }
    return EXIT_OK;
}

static const char POSITIONS_HELP[] =
    "usage: aftm positions [--json] [--broker [--account A] [--order-endpoint E]] [--home DIR]\n\n"
    "aftm's own positions from its fills: account, product, net lots, average price, realized and\n"
    "unrealized P&L (points x lots, marked at the last price seen). With --broker, the positions as\n"
    "the broker reports them through the running gateway; if it cannot be reached, that is an\n"
    "error (exit 1), never an empty list. Either way, when an order account is known and the\n"
    "gateway answers, the two are compared: where they differ, a WARNING on stderr names each\n"
    "product with aftm's and the broker's net lots.\n";

/* The broker's positions of account through the running gateway, as rows shaped like aftm's own
 * (account, symbol, net_qty, avg_price, realized_pnl, unrealized_pnl); NULL with err. */
static json_t *ask_broker(const books_opts *o, const char *account, int timeout_ms, char *err, size_t errlen) {
    char home[AFTM_PATH_MAX];
    if (!home_resolve(o->home, home, sizeof home, err, (int)errlen) || !net_secure_init(home, ROLE_CLI, false, err, errlen))
        return NULL;
    void *zctx = zmq_ctx_new();
    gateway_client *c = gwc_new(zctx, o->order_endpoint, timeout_ms);
    snprintf(err, errlen, "cannot open a socket");
    json_t *reply = c ? gwc_call(c, "get_positions", gw_positions_params(account), err, errlen) : NULL;
    gwc_free(c);
    zmq_ctx_term(zctx);
    if (!reply) return NULL;
    if (!gw_reply_ok(reply)) {
        snprintf(err, errlen, "the gateway refused: %s", gw_reply_message(reply));
        json_decref(reply);
        return NULL;
    }
    json_t *list = json_object_get(gw_reply_data(reply), "positions");
    json_t *arr = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        broker_position bp;
        if (!gw_position_parse(p, &bp)) {
            fprintf(stderr, "aftm positions: skipped a position the gateway sent that is not readable\n");
            continue;
        }
        json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:f,s:I,s:I}", "account", bp.account, "symbol", bp.symbol,
                                             "net_qty", (json_int_t)bp.net_qty, "avg_price", bp.avg_cost,
                                             "realized_pnl", (json_int_t)bp.realized_pl, "unrealized_pnl",
                                             (json_int_t)bp.unrealized_pl));
    }
    json_decref(reply);
    return arr;
}

static int64_t net_of(json_t *rows, const char *account, const char *symbol) {
    size_t i;
    json_t *p;
    json_array_foreach(rows, i, p) {
        if (!strcmp(json_string_value(json_object_get(p, "account")), account) &&
            !strcmp(json_string_value(json_object_get(p, "symbol")), symbol))
            return json_integer_value(json_object_get(p, "net_qty"));
    }
    return 0;
}

/* Says loudly (stderr) where aftm's books and the broker disagree on account's net positions,
 * naming each product and both numbers. True when they agree. */
static bool compare_with_broker(json_t *books, json_t *theirs_rows, const char *account) {
    char diff[1024] = "";
    json_t *sides[2] = {books, theirs_rows};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *p;
        json_array_foreach(sides[k], i, p) {
            const char *acc = json_string_value(json_object_get(p, "account")),
                       *sym = json_string_value(json_object_get(p, "symbol"));
            if (!acc || !sym || strcmp(acc, account)) continue;
            int64_t mine = net_of(books, account, sym), theirs = net_of(theirs_rows, account, sym);
            if (mine == theirs || strstr(diff, sym)) continue; /* agree, or named already */
            size_t n = strlen(diff);
            snprintf(diff + n, sizeof diff - n, "%s%s: aftm %+lld, broker %+lld", n ? "; " : "", sym, (long long)mine,
                     (long long)theirs);
        }
    }
    if (!diff[0]) return true;
    fprintf(stderr,
            "WARNING: aftm's books and the broker DIFFER for account %s: %s.\n"
            "WARNING: the broker's numbers are the account's truth; 'aftm orders' and 'aftm fills' show what aftm "
            "booked (an executor books orders placed outside aftm when it next reads the broker's reports).\n",
            account, diff);
    return false;
}

typedef struct {
    json_t *arr;
    bool json;
} pos_ctx;

static void pos_row(void *ctx, const position *p, price_t last) {
    pos_ctx *c = ctx;
    int64_t unreal = last > 0 ? position_unrealized(p, last) : 0;
    /* last: the price the unrealized P&L is marked at (the executor stores the last tick's) */
    json_array_append_new(c->arr, json_pack("{s:s,s:s,s:I,s:f,s:I,s:I,s:s,s:I}", "account", p->account, "symbol",
                                            p->symbol, "net_qty", (json_int_t)p->net_qty, "avg_price",
                                            position_avg_price(p), "realized_pnl", (json_int_t)p->realized,
                                            "unrealized_pnl", (json_int_t)unreal, "pnl_unit", "points",
                                            "last_price", (json_int_t)last));
}

/* aftm's own positions (rows as pos_row makes them); NULL when the books cannot be read. */
static json_t *books_positions(sqlite3 *db) {
    order_store *os = ostore_open(db);
    pos_ctx c = {json_array(), false};
    int n = os ? ostore_each_position(os, pos_row, &c) : -1;
    ostore_close(os);
    if (n < 0) {
        json_decref(c.arr);
        return NULL;
    }
    return c.arr;
}

static void print_rows(json_t *arr, bool from_broker) {
    printf("%-10s %-9s %8s %10s %12s %12s%s\n", "account", "symbol", "net", "avg price", "realized", "unrealized",
           from_broker ? "   (broker)" : "");
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p)
    printf("%-10s %-9s %+8lld %10.2f %12lld %12lld\n", json_string_value(json_object_get(p, "account")),
           json_string_value(json_object_get(p, "symbol")), (long long)json_integer_value(json_object_get(p, "net_qty")),
           json_number_value(json_object_get(p, "avg_price")),
           (long long)json_integer_value(json_object_get(p, "realized_pnl")),
           (long long)json_integer_value(json_object_get(p, "unrealized_pnl")));
}

int cmd_positions(int argc, char **argv) {
    books_opts o;
    int rc = parse(argc, argv, &o, POSITIONS_HELP);
    if (rc >= 0) return rc;
    /* --broker asks the broker, not aftm's books: it works on a gateway's directory alone */
    if (!o.broker && !home_has_data(o.home, "positions")) return EXIT_RUNTIME;
    home_db h;
    if (!home_db_open(&h, o.home)) return EXIT_RUNTIME;
    char account[64] = "";
    if (o.account) snprintf(account, sizeof account, "%s", o.account);
    else session_order_account(h.db, account, sizeof account);
    json_t *books = books_positions(h.db);
    home_db_close(&h);
    if (!books) {
        fprintf(stderr, "aftm positions: cannot read positions\n");
        return EXIT_RUNTIME;
    }
    if (o.broker && !account[0]) {
        json_decref(books);
        fprintf(stderr, "aftm positions: no order account selected; pass --account A\n");
        return EXIT_USAGE;
    }
    char err[512] = "";
    /* the books are compared with the broker whenever an order account is known: asked briefly
     * for the books' view, which must not wait on a gateway that is not running */
    json_t *at_broker = account[0] ? ask_broker(&o, account, o.broker ? 3000 : 1000, err, sizeof err) : NULL;
    if (o.broker && !at_broker) {
        json_decref(books);
        fprintf(stderr, "aftm positions: the gateway at %s did not answer (%s); broker positions unknown\n",
                o.order_endpoint, err);
        return EXIT_RUNTIME;
    }
    json_t *shown = o.broker ? at_broker : books;
    if (o.json) print_json(json_incref(shown));
    else {
        print_rows(shown, o.broker);
        if (!json_array_size(shown)) {
            if (o.broker) printf("(flat: the broker reports no positions for %s)\n", account);
            else printf("(no positions)\n");
        }
    }
    if (at_broker) compare_with_broker(books, at_broker, account);
    else if (account[0]) fprintf(stderr, "aftm positions: not compared with the broker (%s)\n", err);
    json_decref(books);
    json_decref(at_broker);
    return EXIT_OK;
}

/* aftm kill [--halt] | aftm resume: writes the trading state (store/trading_state.h); the
 * executor reads it within a quarter of a second. resume also re-arms the conditions whose entry
 * the switch refused, so what the switch parked comes back. */
static int set_kill(int argc, char **argv, bool on) {
    static const struct option opts[] = {{"home", 1, 0, 'h'}, {"reason", 1, 0, 'r'}, {"halt", 0, 0, 'x'},
                                         {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home = NULL, *reason = NULL;
    bool halt = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') home = optarg;
        else if (c == 'r' && on) reason = optarg;
        else if (c == 'x' && on) halt = true;
        else {
            FILE *out = c == 'H' ? stdout : stderr;
            fprintf(out, on ? "usage: aftm kill [--halt] [--reason TEXT] [--home DIR]\n\n"
                              "Trading state 'reducing' at once: new entries are refused, orders that reduce a\n"
                              "position still go through. With --halt, 'halted': nothing is sent but cancels and\n"
                              "'aftm flatten'. 'aftm resume' makes it active again.\n"
                            : "usage: aftm resume [--home DIR]\n\nTrading state 'active' again, and the conditions "
                              "whose entry the kill switch\nrefused are armed again.\n");
            return c == 'H' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm %s: unexpected argument '%s' (see --help)\n", on ? "kill" : "resume", argv[optind]);
        return EXIT_USAGE;
    }
    if (!reason) reason = halt ? "halted by hand ('aftm kill --halt')" : "halted by hand ('aftm kill')";
    home_db h;
    if (!home_db_open(&h, home)) return EXIT_RUNTIME;
    int rearmed = 0;
    bool ok = tstate_set(h.db, on ? (halt ? TSTATE_HALTED : TSTATE_REDUCING) : TSTATE_ACTIVE, on ? reason : "", "cli") &&
              (on || tstate_rearm_refused(h.db, &rearmed));
    home_db_close(&h);
    if (!ok) {
        fprintf(stderr, "aftm: cannot write the trading state\n");
        return EXIT_RUNTIME;
    }
    if (!on) printf("trading state active: entries allowed again; %d condition(s) refused by the kill switch re-armed\n",
                    rearmed);
    else if (halt) printf("trading state halted: nothing is sent but cancels and 'aftm flatten' ('aftm resume' to clear)\n");
    else printf("trading state reducing (kill switch ON): new entries are refused, exits still allowed ('aftm resume' to clear)\n");
    return EXIT_OK;
}

int cmd_kill(int argc, char **argv) { return set_kill(argc, argv, true); }
int cmd_resume(int argc, char **argv) { return set_kill(argc, argv, false); }
