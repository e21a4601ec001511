/* The menu's actions as subcommands for scripts: aftm login | logout | item | account | order |
 * futures | status | stop | start (and the internal session-host). Each is a thin layer over the
 * same use cases as the menu (usecase/uc.h). Exit codes: 0 ok, 1 failure at run time, 2 bad
 * usage or bad input. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/order.h"
#include "cli/commands.h"
#include "cli/home_db.h"
#include "cli/menu.h"
#include "cli/menu_io.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/private_files.h"
#include "core/parse.h"
#include "domain/order.h"
#include "usecase/uc.h"
#include "usecase/uc_host.h"
#include "usecase/uc_view.h"

int menu_parse_sim(int argc, char **argv, const char *who, const char **home, uc_sim_opts *sim, const char **account,
                   bool *help);

static int exit_code(const uc_result *r) {
    switch (r->st) {
    case UC_OK: return EXIT_OK;
    case UC_BAD_INPUT: return EXIT_USAGE;
    default: return EXIT_RUNTIME;
    }
}

/* Prints the result: ok on stdout, else "aftm WHO: msg" on stderr. */
static int report(const char *who, const uc_result *r) {
    if (r->st == UC_OK) {
        if (r->msg[0]) printf("%s\n", r->msg);
    } else {
        fprintf(stderr, "aftm %s: %s\n", who, r->msg);
    }
    return exit_code(r);
}

static void print_json(json_t *j) {
    char *s = json_dumps(j, JSON_INDENT(2));
    if (s) printf("%s\n", s);
    free(s);
    json_decref(j);
}

/* The common flags --home, --json, --help; positional arguments are left in argv[optind..]. */
typedef struct {
    const char *home;
    bool json, help;
    const char *side, *qty, *symbol, *limit;
    bool all, stop, ioc;
} opts;

static int parse(int argc, char **argv, const char *who, const char *allowed, opts *o, const char *help) {
    static const struct option longs[] = {{"home", 1, 0, 'h'}, {"json", 0, 0, 'j'},   {"help", 0, 0, 'H'},
                                          {"side", 1, 0, 's'}, {"qty", 1, 0, 'q'},    {"symbol", 1, 0, 'y'},
                                          {"all", 0, 0, 'a'},  {"stop", 0, 0, 'S'},   {"limit", 1, 0, 'l'},
                                          {"ioc", 0, 0, 'i'},  {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longs, NULL)) != -1) {
        if (c == 'H') {
            fputs(help, stdout);
            o->help = true;
            return EXIT_OK;
        }
        if (c == ':') {
            fprintf(stderr, "aftm %s: %s needs a value (aftm %s --help)\n", who, argv[optind - 1], who);
            return EXIT_USAGE;
        }
        if (c == '?' || !strchr(allowed, c)) {
            fprintf(stderr, "aftm %s: unknown option '%s' (aftm %s --help)\n", who, argv[optind - 1], who);
            return EXIT_USAGE;
        }
        switch (c) {
        case 'h': o->home = optarg; break;
        case 'j': o->json = true; break;
        case 's': o->side = optarg; break;
        case 'q': o->qty = optarg; break;
        case 'y': o->symbol = optarg; break;
        case 'a': o->all = true; break;
        case 'S': o->stop = true; break;
        case 'l': o->limit = optarg; break;
        case 'i': o->ioc = true; break;
        }
    }
    return -1;
}

static bool open_ctx(uc_ctx *c, const char *who, const char *home) {
    char err[512];
    if (uc_open(c, UC_FACE_CLI, home, err, sizeof err)) return true;
    fprintf(stderr, "aftm %s: %s\n", who, err);
    return false;
}

static int extra_args(const char *who, int argc, char **argv, int want) {
    if (argc - optind > want) {
        fprintf(stderr, "aftm %s: unexpected argument '%s' (aftm %s --help)\n", who, argv[optind + want], who);
        return EXIT_USAGE;
    }
    return -1;
}

/* ---- login / logout ---- */

static const char LOGIN_HELP[] =
    "usage: aftm login [--account A] [--home DIR] [--seed N] [--rate R] [--ticks FILE [--speed X]] [--symbol S]\n\n"
    "Logs in to the broker (the simulated exchange): starts the gateway in the background for this data\n"
    "directory and waits until it answers. The session (account, order account, items, expiry 12 h,\n"
    "renewed while in use) is kept in the database; the password never is.\n\n"
    "  --account A   login account, 10-80 characters (default: asked; the simulator's is A123456789)\n"
    "  --home DIR    data directory (default $AFTM_HOME, else ./aftm-data)\n"
    "  --seed N      the simulated market's random-walk seed (default: from the clock)\n"
    "  --rate R      its steps per second, each a tick of every listed product (default 10)\n"
    "  --ticks FILE  replay a tick file as the simulated market instead of the random walk\n"
    "  --speed X     replay speed with --ticks (default 1; 0 = as fast as possible)\n"
    "  --symbol S    the random walk's product (default: the registered item, else TXFF5)\n\n"
    "The password (5-200 characters) comes from AFTM_PASSWORD, else it is asked without echo (the\n"
    "simulator's is sim-pass). A refused login exits 1 with the broker's reason; bad input exits 2.\n"
    "The background session logs to DIR/logs/session.log and ends with 'aftm logout' or 'aftm stop --all'.\n";

int cmd_login(int argc, char **argv) {
    const char *home = NULL, *account_flag = NULL;
    uc_sim_opts sim;
    bool help;
    int rc = menu_parse_sim(argc, argv, "login", &home, &sim, &account_flag, &help);
    if (help) {
        fputs(LOGIN_HELP, stdout);
        return EXIT_OK;
    }
    if (rc >= 0) return rc;
    char account[UC_ACCOUNT_MAX + 40] = "", password[UC_PASSWORD_MAX + 40] = "";
    mio_init(NULL, NULL);
    if (account_flag) snprintf(account, sizeof account, "%s", account_flag);
    else if (mio_read("Enter the account: ", account, sizeof account, false) != MIO_LINE) {
        mio_done();
        fprintf(stderr, "aftm login: no account given (pass --account A)\n");
        return EXIT_USAGE;
    }
    uc_result r;
    if (!uc_validate_login(account, "xxxxx", &r)) {
        mio_done();
        return report("login", &r);
    }
    char *env = getenv("AFTM_PASSWORD");
    if (env) {
        snprintf(password, sizeof password, "%s", env);
        memset(env, 0, strlen(env));
    } else if (mio_read("Enter the password: ", password, sizeof password, true) != MIO_LINE) {
        mio_done();
        fprintf(stderr, "aftm login: no password given (type it, or set AFTM_PASSWORD)\n");
        return EXIT_USAGE;
    }
    mio_done();
    unsetenv("AFTM_PASSWORD");
    uc_ctx c;
    if (!open_ctx(&c, "login", home)) {
        memset(password, 0, sizeof password);
        return EXIT_RUNTIME;
    }
    c.sim = sim;
    bool kept = false;
    bool ok = uc_login(&c, account, password, &kept, &r);
    memset(password, 0, sizeof password);
    if (!ok && r.st == UC_PRECONDITION) {
        session_info s;
        /* already logged in as this very account: nothing to do */
        if (session_load(c.db, &s) && !strcmp(s.account, account)) r.st = UC_OK;
    }
    rc = report("login", &r);
    if (ok && kept) {
        session_info s;
        if (session_load(c.db, &s))
            printf("Kept from your last session: order account %s, item %s.\n",
                   s.order_account[0] ? s.order_account : "(none)", s.item_code[0] ? s.item_code : "(none)");
    }
    uc_close(&c);
    return rc;
}

static const char LOGOUT_HELP[] =
    "usage: aftm logout [--stop] [--home DIR]\n\n"
    "Logs out: stops the trading system (strategy, executor) and the gateway, whoever started them\n"
    "(the menu, 'aftm login'), and marks the session logged out. The order account and the items are\n"
    "kept for the same account's next login.\n\n"
    "  --stop      stop the trading system without asking when it is running (else: asked on a\n"
    "              terminal, refused otherwise)\n"
    "  --home DIR  data directory (default $AFTM_HOME, else ./aftm-data)\n";

int cmd_logout(int argc, char **argv) {
    opts o;
    int rc = parse(argc, argv, "logout", "hS", &o, LOGOUT_HELP);
    if (rc >= 0) return rc;
    if ((rc = extra_args("logout", argc, argv, 0)) >= 0) return rc;
    uc_ctx c;
    if (!open_ctx(&c, "logout", o.home)) return EXIT_RUNTIME;
    bool stop = o.stop;
    if (!stop && uc_trading_running(&c)) {
        if (!isatty(STDIN_FILENO)) {
            fprintf(stderr, "aftm logout: the trading system is running; stop it first (aftm stop) or pass --stop\n");
            uc_close(&c);
            return EXIT_RUNTIME;
        }
        char yes[16];
        mio_init(NULL, NULL);
        printf("The trading system is running: logging out stops it first.\n");
        mio_status st = mio_read("Stop trading and log out? [y/n]: ", yes, sizeof yes, false);
        mio_done();
        if (st != MIO_LINE || (strcmp(yes, "y") && strcmp(yes, "yes") && strcmp(yes, "Y"))) {
            printf("Logout cancelled: still logged in and trading.\n");
            uc_close(&c);
            return EXIT_RUNTIME;
        }
        stop = true;
    }
    uc_result r;
    uc_logout(&c, stop, &r);
    rc = report("logout", &r);
    uc_close(&c);
    return rc;
}

/* ---- items, accounts, futures ---- */

static const char ITEM_HELP[] =
    "usage: aftm item register CODE [--home DIR]\n"
    "       aftm item list [--json] [--home DIR]\n\n"
    "register: checks CODE against the broker's futures (aftm futures), subscribes to its quotes and\n"
    "makes it the session's current item: new conditions and manual orders trade it.\n"
    "list: the registered items, the current one marked.\n\n"
    "  --json      machine-readable output (list)\n"
    "  --home DIR  data directory (default $AFTM_HOME, else ./aftm-data)\n";

int cmd_item(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "register") && strcmp(argv[1], "list"))) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(ITEM_HELP, stdout);
            return EXIT_OK;
        }
        fprintf(stderr, "aftm item: %s (register CODE, or list; aftm item --help)\n",
                argc < 2 ? "an action is required" : "unknown action");
        return EXIT_USAGE;
    }
    bool reg = !strcmp(argv[1], "register");
    opts o;
    int rc = parse(argc - 1, argv + 1, "item", reg ? "h" : "hj", &o, ITEM_HELP);
    if (rc >= 0) return rc;
    argc--, argv++;
    if ((rc = extra_args("item", argc, argv, reg ? 1 : 0)) >= 0) return rc;
    if (reg && optind >= argc) {
        fprintf(stderr, "aftm item register: the item code is required, e.g. aftm item register TXFF5\n");
        return EXIT_USAGE;
    }
    if (!reg && !home_has_data(o.home, "item list")) return EXIT_RUNTIME;
    uc_ctx c;
    if (!open_ctx(&c, "item", o.home)) return EXIT_RUNTIME;
    uc_result r;
    if (reg) {
        char name[96];
        if (uc_register_item(&c, argv[optind], name, sizeof name, &r)) {
            char code[SESSION_ITEM_MAX];
            snprintf(code, sizeof code, "%.31s", r.msg);
            uc_set(&r, UC_OK, "Item %s registered (%s).", code, name);
        }
        rc = report("item register", &r);
    } else {
        session_info s;
        if (!session_load(c.db, &s)) memset(&s, 0, sizeof s);
        char items[SESSION_MAX_ITEMS][SESSION_ITEM_MAX];
        int n = session_items(c.db, items, SESSION_MAX_ITEMS);
        if (o.json) {
            json_t *arr = json_array();
            for (int i = 0; i < n; i++) json_array_append_new(arr, json_string(items[i]));
            print_json(json_pack("{s:s?,s:o}", "current", s.item_code[0] ? s.item_code : NULL, "items", arr));
        } else {
            for (int i = 0; i < n; i++) printf("%s%s\n", items[i], !strcmp(items[i], s.item_code) ? "  (current)" : "");
            if (!n) printf("(no items registered: aftm item register CODE)\n");
        }
        rc = EXIT_OK;
    }
    uc_close(&c);
    return rc;
}

static const char ACCOUNT_HELP[] =
    "usage: aftm account list [--json] [--home DIR]\n"
    "       aftm account select N [--home DIR]\n\n"
    "list: the broker's order accounts for this login, numbered from 1, the selected one marked.\n"
    "select: makes account number N (as listed) the session's order account: manual orders and the\n"
    "executor use it.\n\n"
    "  --json      machine-readable output (list)\n"
    "  --home DIR  data directory (default $AFTM_HOME, else ./aftm-data)\n";

int cmd_account(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "list") && strcmp(argv[1], "select"))) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(ACCOUNT_HELP, stdout);
            return EXIT_OK;
        }
        fprintf(stderr, "aftm account: %s (list, or select N; aftm account --help)\n",
                argc < 2 ? "an action is required" : "unknown action");
        return EXIT_USAGE;
    }
    bool sel = !strcmp(argv[1], "select");
    opts o;
    int rc = parse(argc - 1, argv + 1, "account", sel ? "h" : "hj", &o, ACCOUNT_HELP);
    if (rc >= 0) return rc;
    argc--, argv++;
    if ((rc = extra_args("account", argc, argv, sel ? 1 : 0)) >= 0) return rc;
    if (sel && optind >= argc) {
        fprintf(stderr, "aftm account select: the account number is required (aftm account list shows them)\n");
        return EXIT_USAGE;
    }
    if (!sel && !home_has_data(o.home, "account list")) return EXIT_RUNTIME;
    uc_ctx c;
    if (!open_ctx(&c, "account", o.home)) return EXIT_RUNTIME;
    uc_result r;
    if (sel) {
        char account[64];
        if (uc_select_account(&c, argv[optind], account, sizeof account, &r))
            uc_set(&r, UC_OK, "Order account selected: %s", account);
        rc = report("account select", &r);
    } else {
        json_t *accounts = uc_accounts(&c, &r);
        session_info s;
        if (!session_load(c.db, &s)) memset(&s, 0, sizeof s);
        if (!accounts) rc = report("account list", &r);
        else if (o.json) {
            print_json(json_pack("{s:o,s:s?}", "accounts", accounts, "selected",
                                 s.order_account[0] ? s.order_account : NULL));
            rc = EXIT_OK;
        } else {
            uc_view_accounts(stdout, accounts, s.order_account);
            json_decref(accounts);
            rc = EXIT_OK;
        }
    }
    uc_close(&c);
    return rc;
}

static const char FUTURES_HELP[] =
    "usage: aftm futures [CODE] [--json] [--home DIR]\n\n"
    "The broker's futures products: code, name, delivery month, market, reference price and the\n"
    "daily limits. CODE filters by prefix (TXF lists every TAIEX futures month).\n\n"
    "  --json      machine-readable output\n"
    "  --home DIR  data directory (default $AFTM_HOME, else ./aftm-data)\n";

int cmd_futures(int argc, char **argv) {
    opts o;
    int rc = parse(argc, argv, "futures", "hj", &o, FUTURES_HELP);
    if (rc >= 0) return rc;
    if ((rc = extra_args("futures", argc, argv, 1)) >= 0) return rc;
    uc_ctx c;
    if (!open_ctx(&c, "futures", o.home)) return EXIT_RUNTIME;
    uc_result r;
    const char *filter = optind < argc ? argv[optind] : "";
    json_t *list = uc_futures(&c, filter, &r);
    if (!list) rc = report("futures", &r);
    else {
        /* a code that matches nothing is bad input, as an unknown product is everywhere else */
        rc = *filter && json_array_size(list) == 0 ? EXIT_USAGE : EXIT_OK;
        if (o.json) print_json(list);
        else {
            uc_view_futures(stdout, list);
            json_decref(list);
        }
        if (rc != EXIT_OK)
            fprintf(stderr, "aftm futures: no product code starts with '%s' (aftm futures lists them all)\n", filter);
    }
    uc_close(&c);
    return rc;
}

/* ---- orders ---- */

static const char ORDER_HELP[] =
    "usage: aftm order send --side buy|sell --qty Q [--limit P [--ioc]] [--symbol S] [--home DIR]\n"
    "       aftm order cancel ID [--home DIR]   (see aftm order cancel --help)\n\n"
    "Sends one order for the session's order account through the running executor (stored, risk\n"
    "checked, in aftm's books as a manual order; with no executor, straight to the gateway), and\n"
    "waits up to 2 s for its fill. Without --limit it is a market order (IOC).\n\n"
    "  --side buy|sell  b and s are accepted too\n"
    "  --qty Q          lots, 1-1000\n"
    "  --limit P        a limit order at P points: it fills only when the price crosses P, and rests\n"
    "                   until then (ROD; 'aftm order cancel ID' cancels it)\n"
    "  --ioc            with --limit: what does not fill at once expires (immediate or cancel)\n"
    "  --symbol S       product (default: the session's current item)\n"
    "  --home DIR       data directory (default $AFTM_HOME, else ./aftm-data)\n";

int cmd_order(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "cancel")) return cmd_order_cancel(argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "send")) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            fputs(ORDER_HELP, stdout);
            return EXIT_OK;
        }
        fprintf(stderr, "aftm order: %s (send or cancel; aftm order --help)\n", argc < 2 ? "an action is required" : "unknown action");
        return EXIT_USAGE;
    }
    opts o;
    int rc = parse(argc - 1, argv + 1, "order send", "hsqyli", &o, ORDER_HELP);
    if (rc >= 0) return rc;
    if ((rc = extra_args("order send", argc - 1, argv + 1, 0)) >= 0) return rc;
    uc_result r;
    bool buy;
    int64_t q;
    if (!o.side) {
        fprintf(stderr, "aftm order send: --side is required (buy or sell)\n");
        return EXIT_USAGE;
    }
    if (!uc_check_side(o.side, &buy, &r) || !uc_check_positive("--qty", o.qty, UC_MAX_ORDER_QTY, &q, &r))
        return report("order send", &r);
    if (o.ioc && !o.limit) {
        fprintf(stderr, "aftm order send: --ioc goes with --limit (a market order is IOC already)\n");
        return EXIT_USAGE;
    }
    int64_t limit;
    if (o.limit && !uc_check_positive("--limit", o.limit, ORDER_PRICE_MAX, &limit, &r)) return report("order send", &r);
    if (o.symbol && !symbol_valid(o.symbol)) {
        fprintf(stderr, "aftm order send: --symbol must be a product code of letters and digits, got '%s'\n", o.symbol);
        return EXIT_USAGE;
    }
    uc_ctx c;
    if (!open_ctx(&c, "order", o.home)) return EXIT_RUNTIME;
    uc_order ord;
    if (uc_send_order(&c, buy, o.qty, o.symbol, o.limit, !o.ioc, 2000, &ord, &r)) uc_view_order(stdout, &ord);
    rc = report("order send", &r);
    uc_close(&c);
    return rc;
}

/* ---- the trading system ---- */

static const char STATUS_HELP[] =
    "usage: aftm status [--json] [--home DIR]\n\n"
    "The session (account, order account, items, expiry) and each process of the trading system\n"
    "(gateway, executor, strategy): running, starting, restarting, crashed or stopped, with pid,\n"
    "uptime, restarts and the last error, checked against the live processes; then the counts of\n"
    "conditions, orders and fills and the latest fills.\n\n"
    "  --json      machine-readable output\n"
    "  --home DIR  data directory (default $AFTM_HOME, else ./aftm-data)\n";

static void warn_exposed(void *ctx, const char *path, unsigned mode) {
    (void)ctx;
    fprintf(stderr, "aftm status: warning: %s is readable or writable by others (mode %04o); its owner only: chmod %s %s\n",
            path, mode & 07777, S_ISDIR(mode) ? "700" : "600", path);
}

int cmd_status(int argc, char **argv) {
    opts o;
    int rc = parse(argc, argv, "status", "hj", &o, STATUS_HELP);
    if (rc >= 0) return rc;
    if ((rc = extra_args("status", argc, argv, 0)) >= 0) return rc;
    if (!home_has_data(o.home, "status")) return EXIT_RUNTIME;
    char home[AFTM_PATH_MAX], err[512];
    /* before opening it: opening makes the directory private again */
    if (home_resolve(o.home, home, sizeof home, err, sizeof err)) private_files_exposed(home, warn_exposed, NULL);
    uc_ctx c;
    if (!open_ctx(&c, "status", o.home)) return EXIT_RUNTIME;
    uc_system_status s;
    uc_read_status(&c, &s);
    if (o.json) print_json(uc_view_status_json(&s));
    else uc_view_status(stdout, &s);
    uc_close(&c);
    return EXIT_OK;
}

static const char STOP_HELP[] =
    "usage: aftm stop [--all] [--home DIR]\n\n"
    "Stops the trading system: the strategy, then the executor, whoever started them (the menu,\n"
    "'aftm login', or 'aftm run', which stops as a whole). You stay logged in.\n\n"
    "  --all       stop the gateway too, which ends the broker session (logged out)\n"
    "  --home DIR  data directory (default $AFTM_HOME, else ./aftm-data)\n";

int cmd_stop(int argc, char **argv) {
    opts o;
    int rc = parse(argc, argv, "stop", "ha", &o, STOP_HELP);
    if (rc >= 0) return rc;
    if ((rc = extra_args("stop", argc, argv, 0)) >= 0) return rc;
    uc_ctx c;
    if (!open_ctx(&c, "stop", o.home)) return EXIT_RUNTIME;
    uc_result r;
    uc_stop_trading(&c, o.all, &r);
    if (o.all && r.st == UC_OK) session_logout(c.db);
    rc = report("stop", &r);
    uc_close(&c);
    return rc;
}

static const char START_HELP[] =
    "usage: aftm start [--home DIR]\n\n"
    "Menu option 10 for scripts: checks the prerequisites (logged in, item registered, order account\n"
    "selected, at least one active condition), then has the session's supervisor start the strategy\n"
    "and the executor next to the running gateway, and reports each one's real state.\n\n"
    "  --home DIR  data directory (default $AFTM_HOME, else ./aftm-data)\n";

int cmd_start(int argc, char **argv) {
    opts o;
    int rc = parse(argc, argv, "start", "h", &o, START_HELP);
    if (rc >= 0) return rc;
    if ((rc = extra_args("start", argc, argv, 0)) >= 0) return rc;
    uc_ctx c;
    if (!open_ctx(&c, "start", o.home)) return EXIT_RUNTIME;
    if (!uc_trading_running(&c))
        uc_print_open_positions(&c, stdout, "Open positions at start (the conditions that hold them manage them "
                                            "again; the others stay as they are):");
    uc_prereqs p;
    uc_start_report rep;
    uc_result r;
    bool ok = uc_start_trading(&c, &p, &rep, &r);
    if (!ok && r.st == UC_PRECONDITION && !(p.logged_in && p.item_registered && p.account_selected && p.has_conditions)) {
        uc_view_prereqs(stderr, &p, &c);
        uc_close(&c);
        return EXIT_RUNTIME;
    }
    if (rep.gateway.name[0]) uc_view_start(stdout, &rep);
    if (rep.already_running) printf("The trading system is already running.\n");
    else rc = report("start", &r);
    uc_close(&c);
    return rep.already_running ? EXIT_OK : rc;
}

/* ---- internal ---- */

int cmd_session_host(int argc, char **argv) {
    const char *home = NULL, *account = NULL;
    uc_sim_opts sim;
    bool help;
    int status_fd = -1;
    /* --status-fd N first, then the options shared with login */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--status-fd")) {
            int64_t v;
            if (!parse_int_range(argv[i + 1], 0, 1 << 20, &v)) {
                fprintf(stderr, "aftm session-host: --status-fd must be a file descriptor number\n");
                return EXIT_USAGE;
            }
            status_fd = (int)v;
            for (int j = i; j + 2 <= argc; j++) argv[j] = argv[j + 2];
            argc -= 2;
            break;
        }
    int rc = menu_parse_sim(argc, argv, "session-host", &home, &sim, &account, &help);
    if (help) {
        printf("usage: aftm session-host --account A [--status-fd N] [login's market options]\n\n"
               "Internal: the background session 'aftm login' starts. It reads the password from\n"
               "AFTM_PASSWORD, starts and supervises the gateway (and, on request, the strategy and the\n"
               "executor) until 'aftm logout', 'aftm stop --all' or SIGTERM.\n");
        return EXIT_OK;
    }
    if (rc >= 0) return rc;
    if (!account) {
        fprintf(stderr, "aftm session-host: --account is required\n");
        return EXIT_USAGE;
    }
    uc_ctx c;
    char err[512];
    if (!uc_open(&c, UC_FACE_DAEMON, home, err, sizeof err)) {
        fprintf(stderr, "aftm session-host: %s\n", err);
        if (status_fd >= 0) {
            dprintf(status_fd, "{\"ok\": false, \"status\": 5, \"message\": \"Login failed: cannot open the data directory\"}\n");
            close(status_fd);
        }
        return EXIT_RUNTIME;
    }
    c.sim = sim;
    rc = uc_host_daemon(&c, account, status_fd);
    uc_close(&c);
    return rc;
}
