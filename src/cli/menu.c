/* The interactive menu, numbered as the original (0-8, 10) plus what it lacked (11-14).
 * Every option is a thin dialogue over a use case (usecase/uc.h); nothing the user types ends
 * the program: bad input is explained and asked again, Ctrl+C at a prompt goes back to the menu,
 * end of input leaves cleanly. Leaving stops what the menu started, once. */
#include "cli/menu.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/menu_io.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/parse.h"
#include "usecase/uc.h"
#include "usecase/uc_host.h"
#include "usecase/uc_view.h"

typedef struct {
    uc_ctx c;
    bool quit;          /* end of input or a termination signal: leave the loop */
    uc_news_cursor news;
} menu;

/* ---- prompts ---- */

/* One line; false when the prompt was cancelled (Ctrl+C) or the input ended (m->quit). */
static bool ask(menu *m, const char *prompt, char *buf, size_t cap, bool secret) {
    mio_status st = mio_read(prompt, buf, cap, secret);
    if (st == MIO_LINE) {
        /* trim spaces around the answer */
        size_t n = strlen(buf);
        while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t')) buf[--n] = '\0';
        size_t lead = strspn(buf, " \t");
        if (lead) memmove(buf, buf + lead, strlen(buf + lead) + 1);
        return true;
    }
    if (st == MIO_INTERRUPT) printf("Cancelled: back to the menu.\n");
    else m->quit = true;
    return false;
}

static void say_retry(const uc_result *r, bool *hinted) {
    printf("%s\n", r->msg);
    if (!*hinted) printf("(Ctrl+C goes back to the menu.)\n");
    *hinted = true;
}

/* y or n; false when cancelled. */
static bool ask_yes_no(menu *m, const char *prompt, bool *yes) {
    char buf[32];
    bool hinted = false;
    for (;;) {
        if (!ask(m, prompt, buf, sizeof buf, false)) return false;
        if (!strcmp(buf, "y") || !strcmp(buf, "Y") || !strcmp(buf, "yes")) *yes = true;
        else if (!strcmp(buf, "n") || !strcmp(buf, "N") || !strcmp(buf, "no")) *yes = false;
        else {
            uc_result r;
            uc_set(&r, UC_BAD_INPUT, "%s%s%s: answer y (yes) or n (no).", buf[0] ? "'" : "An answer is required",
                   buf[0] ? buf : "", buf[0] ? "' is not an answer" : "");
            say_retry(&r, &hinted);
            continue;
        }
        return true;
    }
}

static bool need_login(menu *m, session_info *s) {
    uc_result r;
    if (uc_require_session(&m->c, s, &r)) return true;
    printf("%s\n", r.msg);
    return false;
}

/* ---- the options ---- */

static void opt_login(menu *m) {
    session_info s;
    if (!session_load(m->c.db, &s)) memset(&s, 0, sizeof s);
    if (session_active(&s, clock_wall_s())) {
        uc_system_status st;
        uc_read_status(&m->c, &st);
        if ((m->c.host && uc_host_gateway_alive(m->c.host)) || st.gateway_up) {
            printf("Already logged in as %s.\n", s.account);
            return;
        }
    }
    char account[UC_ACCOUNT_MAX + 40], password[UC_PASSWORD_MAX + 40];
    uc_result r;
    bool hinted = false;
    for (;;) {
        if (!ask(m, "Enter the account: ", account, sizeof account, false)) return;
        if (uc_validate_login(account, "xxxxx", &r)) break;
        say_retry(&r, &hinted);
    }
    for (;;) {
        if (!ask(m, "Enter the password: ", password, sizeof password, true)) {
            memset(password, 0, sizeof password);
            return;
        }
        if (uc_validate_login(account, password, &r)) break;
        say_retry(&r, &hinted);
    }
    printf("Logging in: starting the gateway (the broker session)...\n");
    fflush(stdout);
    bool kept = false;
    bool ok = uc_login(&m->c, account, password, &kept, &r);
    memset(password, 0, sizeof password);
    printf("%s\n", r.msg);
    if (ok && kept && session_load(m->c.db, &s))
        printf("Kept from your last session: order account %s, item %s.\n",
               s.order_account[0] ? s.order_account : "(none)", s.item_code[0] ? s.item_code : "(none)");
}

static void opt_logout(menu *m) {
    session_info s;
    if (!session_load(m->c.db, &s)) memset(&s, 0, sizeof s);
    session_state st = session_state_at(&s, clock_wall_s());
    if (st != SESSION_ACTIVE && st != SESSION_EXPIRED && !(m->c.host && uc_host_owns_anything(m->c.host))) {
        printf("Please log in first (option 1): nobody is logged in.\n");
        return;
    }
    if (uc_trading_running(&m->c)) {
        bool yes;
        printf("The trading system is running: logging out stops it first.\n");
        if (!ask_yes_no(m, "Stop trading and log out? [y/n]: ", &yes)) return;
        if (!yes) {
            printf("Logout cancelled: still logged in and trading.\n");
            return;
        }
        printf("Stopping the trading system...\n");
        fflush(stdout);
    }
    uc_result r;
    uc_logout(&m->c, true, &r);
    printf("%s\n", r.msg);
}

static void opt_register(menu *m) {
    if (!need_login(m, NULL)) return;
    char code[64], name[96];
    bool hinted = false;
    uc_result r;
    for (;;) {
        if (!ask(m, "Enter item code: ", code, sizeof code, false)) return;
        if (uc_register_item(&m->c, code, name, sizeof name, &r)) break;
        if (r.st != UC_BAD_INPUT) {
            printf("%s\n", r.msg);
            return;
        }
        say_retry(&r, &hinted);
    }
    printf("Item %s registered (%s). New conditions and manual orders trade %s.\n", r.msg, name, r.msg);
}

static bool ask_field(menu *m, const char *prompt, const char *field, int64_t max, bool blank_ok, char *buf,
                      size_t cap) {
    bool hinted = false;
    for (;;) {
        if (!ask(m, prompt, buf, cap, false)) return false;
        if (blank_ok && !buf[0]) return true;
        int64_t v;
        uc_result r;
        if (uc_check_positive(field, buf, max, &v, &r)) return true;
        say_retry(&r, &hinted);
    }
}

static void opt_condition(menu *m) {
    session_info s;
    if (!need_login(m, &s)) return;
    if (!s.item_code[0]) {
        printf("Please register an item first (option 3): a condition trades one product.\n");
        return;
    }
    char side[32], trigger[32], turning[32], qty[32], tp[32], sl[32];
    bool hinted = false, buy, following;
    uc_result r;
    printf("New condition for %s:\n", s.item_code);
    for (;;) {
        if (!ask(m, "Enter the action (b/s): ", side, sizeof side, false)) return;
        if (uc_check_side(side, &buy, &r)) break;
        say_retry(&r, &hinted);
    }
    if (!ask_field(m, "Enter the target price: ", "Target price", 100000000, false, trigger, sizeof trigger) ||
        !ask_field(m, "Enter the turning point: ", "Turning point", 1000000, false, turning, sizeof turning) ||
        !ask_field(m, "Enter the quantity: ", "Quantity", UC_MAX_ORDER_QTY, false, qty, sizeof qty) ||
        !ask_field(m, "Enter the take profit point (blank for default): ", "Take profit point", 1000000, true, tp,
                   sizeof tp) ||
        !ask_field(m, "Enter the stop loss point (blank for default): ", "Stop loss point", 1000000, true, sl,
                   sizeof sl) ||
        !ask_yes_no(m, "Enter if the condition is following (y/n): ", &following))
        return;
    uc_condition_input in = {buy ? "b" : "s", trigger, turning, qty, tp, sl, following, false, NULL};
    condition_record rec;
    if (!uc_condition_add(&m->c, &in, &rec, &r)) {
        printf("%s\n", r.msg);
        return;
    }
    uc_view_condition_created(stdout, &rec);
}

static void opt_account(menu *m) {
    if (!need_login(m, NULL)) return;
    uc_result r;
    json_t *accounts = uc_accounts(&m->c, &r);
    if (!accounts) {
        printf("%s\n", r.msg);
        return;
    }
    session_info s;
    session_load(m->c.db, &s);
    printf("\nSelect the order account:\n");
    uc_view_accounts(stdout, accounts, s.order_account);
    printf("\n");
    json_decref(accounts);
    char number[32], account[64];
    bool hinted = false;
    for (;;) {
        if (!ask(m, "Enter the account number: ", number, sizeof number, false)) return;
        if (uc_select_account(&m->c, number, account, sizeof account, &r)) break;
        if (r.st != UC_BAD_INPUT) {
            printf("%s\n", r.msg);
            return;
        }
        say_retry(&r, &hinted);
    }
    printf("Order account selected: %s\n", account);
}

static void opt_order(menu *m) {
    session_info s;
    if (!need_login(m, &s)) return;
    if (!s.order_account[0]) {
        printf("Please select an order account first (option 5).\n");
        return;
    }
    if (!s.item_code[0]) {
        printf("Please register an item first (option 3).\n");
        return;
    }
    char side[32], qty[32], limit[32];
    bool buy, hinted = false;
    uc_result r;
    printf("Order for %s, account %s:\n", s.item_code, s.order_account);
    for (;;) {
        if (!ask(m, "Enter side (b/s): ", side, sizeof side, false)) return;
        if (uc_check_side(side, &buy, &r)) break;
        say_retry(&r, &hinted);
    }
    if (!ask_field(m, "Enter quantity: ", "Quantity", UC_MAX_ORDER_QTY, false, qty, sizeof qty)) return;
    /* a limit rests until the price crosses it (cancel it with option 8's order id and
     * 'aftm order cancel'); empty: at market */
    if (!ask_field(m, "Enter limit price (empty for market): ", "Limit price", 100000000, true, limit, sizeof limit))
        return;
    uc_order o;
    if (!uc_send_order(&m->c, buy, qty, NULL, limit, true, 2000, &o, &r)) {
        printf("%s\n", r.msg);
        return;
    }
    uc_view_order(stdout, &o);
}

static void opt_futures(menu *m) {
    if (!need_login(m, NULL)) return;
    char code[64];
    bool hinted = false;
    uc_result r;
    json_t *list;
    for (;;) {
        if (!ask(m, "Enter futures code (leave empty for all): ", code, sizeof code, false)) return;
        if ((list = uc_futures(&m->c, code, &r))) break;
        if (r.st != UC_BAD_INPUT) {
            printf("%s\n", r.msg);
            return;
        }
        say_retry(&r, &hinted);
    }
    uc_view_futures(stdout, list);
    json_decref(list);
}

static void opt_position(menu *m) {
    session_info s;
    if (!need_login(m, &s)) return;
    printf("Account: %s\n", s.order_account[0] ? s.order_account : "(none selected)");
    if (!s.order_account[0]) {
        printf("Please select an order account first (option 5).\n");
        return;
    }
    char product[64], account[64];
    bool hinted = false;
    uc_result r;
    json_t *list;
    for (;;) {
        if (!ask(m, "Enter product id (leave blank for all): ", product, sizeof product, false)) return;
        if ((list = uc_broker_positions(&m->c, product, account, sizeof account, &r))) break;
        if (r.st != UC_BAD_INPUT) {
            printf("%s\n", r.msg);
            return;
        }
        say_retry(&r, &hinted);
    }
    uc_view_positions(stdout, list, account);
    json_decref(list);
}

static void opt_start(menu *m) {
    if (!need_login(m, NULL)) return;
    uc_prereqs p;
    uc_start_report rep;
    uc_result r;
    if (!uc_trading_running(&m->c))
        uc_print_open_positions(&m->c, stdout, "Open positions at start (the conditions that hold them manage them "
                                               "again; the others stay as they are):");
    printf("Checking the prerequisites...\n");
    fflush(stdout);
    bool ok = uc_start_trading(&m->c, &p, &rep, &r);
    if (!ok && r.st == UC_PRECONDITION && !(p.logged_in && p.item_registered && p.account_selected && p.has_conditions)) {
        uc_view_prereqs(stdout, &p, &m->c);
        return;
    }
    if (!ok && r.st != UC_FAILED) {
        printf("%s\n", r.msg);
        return;
    }
    if (rep.already_running) {
        printf("The trading system is already running (strategy pid %d, executor pid %d). Option 13 shows its "
               "status; option 14 stops it.\n",
               rep.strategy.pid, rep.executor.pid);
        return;
    }
    if (!rep.gateway.name[0]) {
        printf("%s\n", r.msg);
        return;
    }
    printf("=== Starting All Trading System Components ===\n");
    uc_view_start(stdout, &rep);
    if (ok) {
        printf("All system components have been started successfully.\n"
               "You can continue using the main menu. The processes will run in the background.\n"
               "Fills are shown above the menu as they happen; option 14 stops trading, and leaving the menu "
               "stops everything.\n");
    } else {
        printf("Failed to start all system components.\nError: %s\n", r.msg);
    }
}

static void condition_row(void *ctx, const condition_record *r) {
    (void)ctx;
    uc_view_condition_row(stdout, r);
}

static void opt_list(menu *m) {
    uc_view_conditions_header(stdout);
    int n = uc_conditions(&m->c, true, condition_row, NULL);
    if (n == 0) printf("(no conditions yet: option 4 creates one)\n");
    else if (n < 0) printf("Cannot read the conditions.\n");
}

static void opt_cancel(menu *m) {
    uc_view_conditions_header(stdout);
    int n = uc_conditions(&m->c, false, condition_row, NULL);
    if (n <= 0) {
        printf("(no active conditions: nothing to cancel)\n");
        return;
    }
    char id[32], held[160];
    bool hinted = false, flattened;
    uc_result r;
    uc_order flat;
    int64_t cid;
    for (;;) {
        if (!ask(m, "Enter the condition id to cancel: ", id, sizeof id, false)) return;
        if (uc_condition_remove(&m->c, id, UC_RM_REFUSE, &cid, &flattened, &flat, held, sizeof held, &r)) break;
        if (!held[0]) {
            say_retry(&r, &hinted);
            continue;
        }
        /* it holds lots: the trader says what becomes of them */
        printf("Condition %lld holds a position: %s.\n", (long long)cid, held);
        char how[16];
        for (;;) {
            if (!ask(m, "Flatten it at market (f), keep it open without take profit or stop loss (k), or leave the "
                        "condition as it is (n)? ",
                     how, sizeof how, false))
                return;
            if (!strcmp(how, "n") || !strcmp(how, "N")) {
                printf("Condition %lld left as it is.\n", (long long)cid);
                return;
            }
            if (!strcmp(how, "f") || !strcmp(how, "F") || !strcmp(how, "k") || !strcmp(how, "K")) break;
            printf("'%s' is not an answer: f, k or n.\n", how);
        }
        bool fl = how[0] == 'f' || how[0] == 'F';
        if (!uc_condition_remove(&m->c, id, fl ? UC_RM_FLATTEN : UC_RM_KEEP, &cid, &flattened, &flat, held,
                                 sizeof held, &r)) {
            printf("%s\n", r.msg);
            return;
        }
        break;
    }
    printf("Condition %lld cancelled.\n", (long long)cid);
    if (flattened) uc_view_order(stdout, &flat);
    else if (held[0]) printf("The position stays open with no take profit or stop loss: %s.\n", held);
}

static void opt_status(menu *m) {
    uc_system_status s;
    uc_read_status(&m->c, &s);
    uc_view_status(stdout, &s);
}

/* Stopping while aftm holds positions leaves them with nothing managing them: they are listed
 * and the trader asked. true: go on and stop (also when the question cannot be answered). */
static bool stop_with_positions_ok(menu *m) {
    if (!uc_print_open_positions(&m->c, stdout, "Open positions: once trading stops, no take profit or stop loss "
                                                "manages them until the next start:"))
        return true;
    bool yes = false;
    if (!ask_yes_no(m, "Stop anyway and leave them open (y/n)? ", &yes)) return m->quit;
    return yes;
}

static void opt_stop(menu *m) {
    uc_result r;
    if (!uc_trading_running(&m->c)) {
        printf("The trading system is not running: nothing to stop.\n");
        return;
    }
    if (!stop_with_positions_ok(m)) {
        printf("The trading system keeps running.\n");
        return;
    }
    printf("Stopping the strategy and the executor...\n");
    fflush(stdout);
    uc_stop_trading(&m->c, false, &r);
    printf("%s\n", r.msg);
}

/* ---- the loop ---- */

typedef struct {
    const char *key;
    const char *label;
    bool protected_;
    void (*fn)(menu *m);
} option;

static const option OPTIONS[] = {
    {"0", "Exit", false, NULL},
    {"1", "Login", false, opt_login},
    {"2", "Logout", true, opt_logout},
    {"3", "Register item", true, opt_register},
    {"4", "Create condition", true, opt_condition},
    {"5", "Select order account", true, opt_account},
    {"6", "Send market order", true, opt_order},
    {"7", "Show futures", true, opt_futures},
    {"8", "Get position", true, opt_position},
    {"10", "Start all-in-one (gateway, strategy, executor)", true, opt_start},
    {"11", "List conditions", false, opt_list},
    {"12", "Cancel a condition", false, opt_cancel},
    {"13", "System status", false, opt_status},
    {"14", "Stop the trading system", false, opt_stop},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

static void print_news(void *ctx, const uc_news *n) {
    FILE *out = ctx;
    bool buy = !strcmp(n->side, "buy");
    switch (n->kind) {
    case UC_NEWS_FILL:
        fprintf(out, "Fill: %s %lld %s at %lld (order %s", buy ? "bought" : "sold", n->qty, n->symbol, n->price,
                n->client_order_id);
        if (n->condition_id > 0) fprintf(out, ", condition %lld", n->condition_id);
        fprintf(out, ")\n");
        break;
    case UC_NEWS_EXIT_FILL:
        fprintf(out, "Exit: %s %lld %s at %lld", buy ? "bought" : "sold", n->qty, n->symbol, n->price);
        if (n->condition_id > 0) fprintf(out, ", closing condition %lld", n->condition_id);
        fprintf(out, " (order %s)\n", n->client_order_id);
        break;
    case UC_NEWS_REFUSED:
        fprintf(out, "Refused: %s %lld %s", buy ? "buy" : "sell", n->qty, n->symbol);
        if (n->condition_id > 0) fprintf(out, " for condition %lld", n->condition_id);
        fprintf(out, ": %s\n", n->detail);
        break;
    case UC_NEWS_EXIT_SKIPPED:
        fprintf(out, "Exit skipped");
        if (n->condition_id > 0) fprintf(out, " for condition %lld", n->condition_id);
        fprintf(out, ": %s (closed by hand)\n", n->detail);
        break;
    case UC_NEWS_KILL_SWITCH: fprintf(out, "Kill switch: %s\n", n->detail); break;
    }
}

/* Everything new since the last look, as lines (NULL when nothing happened; the caller frees). */
static char *collect_news(menu *m) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) return NULL;
    if (m->c.host) {
        uc_host_poll(m->c.host);
        char notes[16][320];
        int n = uc_host_notices(m->c.host, notes, 16);
        for (int i = 0; i < n; i++) fprintf(out, "Notice: %s\n", notes[i]);
    }
    uc_news_since(&m->c, &m->news, print_news, out);
    fclose(out);
    if (len == 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* While a prompt waits: what the trading system does is printed above it as it happens. */
static void idle(void *ctx) {
    char *text = collect_news(ctx);
    if (text) mio_above(text);
    free(text);
}

static void show_news(menu *m) {
    char *text = collect_news(m);
    if (text) fputs(text, stdout);
    free(text);
}

static void show_menu(menu *m) {
    uc_system_status s;
    uc_read_status(&m->c, &s);
    printf("\n");
    if (s.sstate == SESSION_ACTIVE) {
        printf("[logged in as %s | order account %s | item %s | trading %s%s]\n", s.session.account,
               s.session.order_account[0] ? s.session.order_account : "-",
               s.session.item_code[0] ? s.session.item_code : "-", s.trading ? "running" : "stopped",
               s.gateway_up ? "" : " | gateway NOT running: log in again (option 1)");
    } else if (s.sstate == SESSION_EXPIRED) {
        printf("[the session of %s expired: log in again (option 1)]\n", s.session.account);
    } else {
        printf("[not logged in: options marked * need a login (option 1)]\n");
    }
    printf("Please choose an option:\n");
    for (size_t i = 0; i < N_OPTIONS; i++)
        printf("%3s: %s%s\n", OPTIONS[i].key, OPTIONS[i].label,
               OPTIONS[i].protected_ && s.sstate != SESSION_ACTIVE ? " *" : "");
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm [menu] [--home DIR] [--seed N] [--rate R] [--ticks FILE [--speed X]] [--symbol S]\n\n"
            "The interactive menu: log in, register an item, create conditions, select the order account,\n"
            "send manual orders, show futures and positions, start, watch and stop the trading system.\n"
            "Options 0-8 and 10 are those of the original; 11-14 list and cancel conditions, show the\n"
            "system status and stop trading. Ctrl+C at a prompt goes back to the menu; 0 or end of input\n"
            "(Ctrl+D) leaves, stopping what the menu started.\n\n"
            "  --home DIR    data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --seed N      the simulated market's random-walk seed (default: from the clock)\n"
            "  --rate R      its steps per second, each a tick of every listed product (default 10)\n"
            "  --ticks FILE  replay a tick file as the simulated market instead of the random walk\n"
            "  --speed X     replay speed with --ticks (default 1; 0 = as fast as possible)\n"
            "  --symbol S    the random walk's product (default: the registered item, else TXFF5)\n"
            "Addresses come from ZMQ_HOST, ZMQ_TICK_PORT, ZMQ_SIGNAL_PORT, DLL_GATEWAY_HOST,\n"
            "DLL_GATEWAY_PORT and AFTM_REPORT_PORT. Processes log to DIR/logs/.\n");
}

/* Parses the options shared by the menu and 'aftm login' that shape the simulated market.
 * Returns -1 to go on, else an exit code. */
int menu_parse_sim(int argc, char **argv, const char *who, const char **home, uc_sim_opts *sim, const char **account,
                   bool *help);

int menu_parse_sim(int argc, char **argv, const char *who, const char **home, uc_sim_opts *sim, const char **account,
                   bool *help) {
    static const struct option opts[] = {{"home", 1, 0, 'h'},  {"seed", 1, 0, 's'},   {"rate", 1, 0, 'r'},
                                         {"ticks", 1, 0, 't'}, {"speed", 1, 0, 'x'},  {"symbol", 1, 0, 'y'},
                                         {"account", 1, 0, 'a'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    memset(sim, 0, sizeof *sim);
    *help = false;
    int o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        int64_t v;
        double d;
        switch (o) {
        case 'h': *home = optarg; break;
        case 's':
            if (!parse_int64(optarg, &v) || v < 0) {
                fprintf(stderr, "aftm %s: --seed must be an integer >= 0, got '%s'\n", who, optarg);
                return EXIT_USAGE;
            }
            sim->seed = optarg;
            break;
        case 'r':
            if (!parse_double(optarg, &d) || d <= 0 || d > 1000000) {
                fprintf(stderr, "aftm %s: --rate must be ticks per second in (0, 1000000], got '%s'\n", who, optarg);
                return EXIT_USAGE;
            }
            sim->rate = optarg;
            break;
        case 't': sim->ticks = optarg; break;
        case 'x':
            if (!parse_double(optarg, &d) || d < 0) {
                fprintf(stderr, "aftm %s: --speed must be a number >= 0, got '%s'\n", who, optarg);
                return EXIT_USAGE;
            }
            sim->speed = optarg;
            break;
        case 'y':
            if (!symbol_valid(optarg)) {
                fprintf(stderr, "aftm %s: --symbol must be a product code of letters and digits, got '%s'\n", who,
                        optarg);
                return EXIT_USAGE;
            }
            sim->symbol = optarg;
            break;
        case 'a':
            if (!account) {
                fprintf(stderr, "aftm %s: unknown option '--account' (aftm %s --help)\n", who, who);
                return EXIT_USAGE;
            }
            *account = optarg;
            break;
        case 'H': *help = true; return EXIT_OK;
        case ':': fprintf(stderr, "aftm %s: %s needs a value (aftm %s --help)\n", who, argv[optind - 1], who); return EXIT_USAGE;
        default:
            fprintf(stderr, "aftm %s: unknown option '%s' (aftm %s --help)\n", who, argv[optind - 1], who);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm %s: unexpected argument '%s' (aftm %s --help)\n", who, argv[optind], who);
        return EXIT_USAGE;
    }
    if (sim->ticks && (sim->seed || sim->rate)) {
        fprintf(stderr, "aftm %s: --seed and --rate drive the random walk; they do not apply with --ticks\n", who);
        return EXIT_USAGE;
    }
    if (sim->speed && !sim->ticks) {
        fprintf(stderr, "aftm %s: --speed applies only with --ticks FILE\n", who);
        return EXIT_USAGE;
    }
    if (sim->ticks && access(sim->ticks, R_OK) != 0) {
        fprintf(stderr, "aftm %s: cannot read the tick file %s\n", who, sim->ticks);
        return EXIT_USAGE;
    }
    return -1;
}

/* Leaving (0 or Ctrl+D) stops what the menu started; with open positions they are listed and
 * the trader asked first. false: stay in the menu. */
static bool leave_asked(menu *m) {
    if (!m->c.host || !uc_host_owns_anything(m->c.host) || !uc_trading_running(&m->c)) return true;
    mio_clear_eof(); /* Ctrl+D on a terminal ends one read, not the terminal: the question can be answered */
    if (stop_with_positions_ok(m)) return true;
    m->quit = false;
    printf("Staying in the menu; the trading system keeps running.\n");
    return false;
}

int cmd_menu(int argc, char **argv) {
    const char *home = NULL;
    uc_sim_opts sim;
    bool help;
    int rc = menu_parse_sim(argc, argv, "menu", &home, &sim, NULL, &help);
    if (help) {
        usage(stdout);
        return EXIT_OK;
    }
    if (rc >= 0) return rc;
    menu m;
    memset(&m, 0, sizeof m);
    char err[512];
    if (!uc_open(&m.c, UC_FACE_MENU, home, err, sizeof err)) {
        fprintf(stderr, "aftm: %s\n", err);
        return EXIT_RUNTIME;
    }
    m.c.sim = sim;
    m.news.fill = m.news.journal = -1;
    uc_news_since(&m.c, &m.news, NULL, NULL);
    log_set_name("menu");
    log_set_level((log_level)(LOG_ERROR + 1)); /* the menu speaks through its own lines */
    mio_init(idle, &m);
    printf("aftm - automatic futures trading machine (simulated exchange)\n");
    printf("Data directory: %s\n", m.c.home);
    while (!m.quit) {
        show_news(&m);
        show_menu(&m);
        char choice[64];
        mio_status st = mio_read("> ", choice, sizeof choice, false);
        if (st == MIO_INTERRUPT) {
            printf("(Ctrl+C: choose 0 to exit.)\n");
            continue;
        }
        if (st == MIO_EOF && leave_asked(&m) == false) continue;
        if (st != MIO_LINE) break;
        char *p = choice;
        while (*p == ' ' || *p == '\t') p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) p[--n] = '\0';
        if (!*p) {
            printf("Please enter an option number: 0-8 or 10-14.\n");
            continue;
        }
        const option *o = NULL;
        for (size_t i = 0; i < N_OPTIONS; i++)
            if (!strcmp(p, OPTIONS[i].key)) o = &OPTIONS[i];
        if (!o) {
            printf("Invalid choice '%s': enter one of 0-8 or 10-14.\n", p);
            continue;
        }
        if (!o->fn) { /* 0: exit */
            if (leave_asked(&m)) break;
            continue;
        }
        printf("\n");
        o->fn(&m);
        fflush(stdout);
    }
    printf("Exiting the program\n");
    if (m.c.host && uc_host_owns_anything(m.c.host)) {
        printf("Stopping the trading system and the gateway...\n");
        fflush(stdout);
        uc_host_stop_all(m.c.host, true);
        printf("Stopped; logged out.\n");
    }
    fflush(stdout);
    mio_done();
    uc_close(&m.c);
    return EXIT_OK;
}
