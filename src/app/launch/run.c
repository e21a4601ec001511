/* aftm run: the all-in-one system in the foreground — the simulated exchange, the gateway (its
 * client), executor and strategy as separate processes, watched and restarted, stopped
 * together (the exchange last) on Ctrl+C, SIGTERM or the end of --for. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "core/exit_codes.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/parse.h"
#include "net/gateway_client.h"
#include "net/secure.h"
#include "app/executor/risk_config.h"
#include "app/launch/supervisor.h"
#include "app/launch/topology.h"
#include "app/launch/run.h"
#include "app/launch/run_session.h"
#include "broker/sim_broker.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/session_store.h"
#include "store/trading_state.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm run [--for SECONDS] [--ticks FILE [--speed X]] [--seed N] [--rate R]\n"
            "                [--symbol S] [--account A] [--home DIR] [--quiet] [--demo] [--rearm]\n"
            "                [--broker fix --fix-config FILE] [--risk FILE]\n\n"
            "Starts the simulated exchange (aftm exchange: the market and its book, kept in\n"
            "DIR/exchange.db), the gateway connected to it, the executor and the strategy, and prints\n"
            "what they do: one line per signal, order and fill. Any of them that dies is restarted;\n"
            "Ctrl+C stops everything, the exchange last.\n\n"
            "  --for SECONDS  stop by itself after this long\n"
            "  --broker fix   trade over FIX 4.4 (QuickFIX) instead of the simulated exchange; no exchange\n"
            "                 process; ticks come from --ticks or the random walk, made by the gateway\n"
            "  --fix-config FILE  QuickFIX settings plus an [AFTM] section (README, 'FIX')\n"
            "  --ticks FILE   replay a tick file (plain CSV datetime,symbol,price,volume or TAIFEX's)\n"
            "  --speed X      replay at X times real time (default 1; 0 = as fast as possible)\n"
            "  --seed N       random-walk seed when no --ticks (default: from the clock)\n"
            "  --rate R       random-walk steps per second, each a tick of every listed product (default 20)\n"
            "  --symbol S     random-walk product (default TXFF5)\n"
            "  --account A    order account (default: the session's, else SIM-0001)\n"
            "  --risk FILE    risk limits for this run only (INI, [risk] section), over the account's\n"
            "                 stored ones ('aftm risk show|set|import')\n"
            "  --home DIR     data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --quiet        only warnings and errors from the processes\n"
            "  --rearm        every condition repeats, as if each had been added with --repeat\n"
            "                 (armed again after each exit under the same id; soak tests, benchmarks)\n"
            "  --demo         when no condition is active, add two trailing demo conditions that\n"
            "                 trade the random walk within seconds and repeat (condition add --repeat)\n"
            "Addresses come from ZMQ_HOST, ZMQ_TICK_PORT, ZMQ_SIGNAL_PORT, DLL_GATEWAY_HOST,\n"
            "DLL_GATEWAY_PORT, AFTM_REPORT_PORT, AFTM_EXCHANGE_PORT and AFTM_EXCHANGE_MARKET_PORT\n"
            "(default: the exchange port + 10).\n");
}

typedef struct {
    int active;
} count_ctx;

static void count_row(void *ctx, const condition_record *r) {
    (void)r;
    ((count_ctx *)ctx)->active++;
}

/* --demo: with no active condition, two trailing conditions that trigger on the first tick
 * wherever the walk starts and trade within seconds. Returns true when they were added. */
static bool add_demo_conditions(const char *home, const char *symbol) {
    char err[512];
    sqlite3 *db = db_open(home, err, sizeof err);
    condition_store *cs = db ? cstore_open(db) : NULL;
    bool added = false;
    count_ctx n = {0};
    if (cs && cstore_list(cs, false, count_row, &n) == 0) {
        condition buy, sell;
        condition_init(&buy, 0, symbol, SIDE_BUY, 20100, 3, 1, 8, 8, true);
        condition_init(&sell, 0, symbol, SIDE_SELL, 19900, 3, 1, 8, 8, true);
        buy.repeat = sell.repeat = true; /* stored as repeating: same ids after each exit */
        int64_t a = cstore_add(cs, &buy, NULL, err, sizeof err), b = cstore_add(cs, &sell, NULL, err, sizeof err);
        added = a > 0 && b > 0;
        if (added)
            printf("aftm: demo: added condition %lld (buy %s, trailing, turn 3, TP/SL 8) and %lld (sell, mirrored);\n"
                   "      both repeat (armed again after each exit, same ids). Remove them with 'aftm condition rm ID'.\n",
                   (long long)a, symbol, (long long)b);
    } else if (cs) {
        printf("aftm: demo: %d active condition(s) already; none added\n", n.active);
    }
    cstore_close(cs);
    db_close(db);
    return added;
}

/* What 'aftm run' was asked for. */
typedef struct {
    const char *ticks, *speed, *seed, *rate, *symbol, *account, *home_flag, *risk_file;
    const char *fix_config; /* --broker fix: no exchange; the gateway trades over FIX */
    double run_for; /* seconds; 0: until Ctrl+C */
    bool quiet, demo, rearm;
} run_options;

/* Returns -1 to go on, else the exit code (help printed, or bad usage explained). */
static int parse_args(int argc, char **argv, run_options *o) {
    static const struct option opts[] = {{"for", 1, 0, 'f'},   {"ticks", 1, 0, 't'},  {"speed", 1, 0, 'S'},
                                         {"seed", 1, 0, 's'},  {"rate", 1, 0, 'r'},   {"symbol", 1, 0, 'y'},
                                         {"account", 1, 0, 'a'}, {"home", 1, 0, 'h'}, {"quiet", 0, 0, 'q'},
                                         {"demo", 0, 0, 'd'},    {"rearm", 0, 0, 'A'},
                                         {"broker", 1, 0, 'b'},  {"fix-config", 1, 0, 'F'},
                                         {"risk", 1, 0, 'R'},
                                         {"help", 0, 0, 'H'},  {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    const char *broker_name = "sim";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        double d;
        int64_t v;
        switch (c) {
        case 'f':
            if (!parse_double(optarg, &d) || d <= 0) {
                fprintf(stderr, "aftm run: --for must be a positive number of seconds, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            o->run_for = d;
            break;
        case 't': o->ticks = optarg; break;
        case 'S':
            if (!parse_double(optarg, &d) || d < 0) {
                fprintf(stderr, "aftm run: --speed must be a number >= 0, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            o->speed = optarg;
            break;
        case 's':
            if (!parse_int64(optarg, &v)) {
                fprintf(stderr, "aftm run: --seed must be an integer, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            o->seed = optarg;
            break;
        case 'r':
            if (!parse_double(optarg, &d) || d <= 0) {
                fprintf(stderr, "aftm run: --rate must be a positive number of ticks per second, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            o->rate = optarg;
            break;
        case 'y': o->symbol = optarg; break;
        case 'b':
            if (strcmp(optarg, "sim") != 0 && strcmp(optarg, "fix") != 0) {
                fprintf(stderr, "aftm run: unknown broker '%s' (available: sim, fix)\n", optarg);
                return EXIT_USAGE;
            }
            broker_name = optarg;
            break;
        case 'F': o->fix_config = optarg; break;
        case 'a': o->account = optarg; break;
        case 'R': {
            risk_limits lim;
            char err[256];
            if (!risk_config_load(optarg, &lim, err, sizeof err)) {
                fprintf(stderr, "aftm run: --risk: %s\n", err);
                return EXIT_USAGE;
            }
            o->risk_file = optarg;
            break;
        }
        case 'h': o->home_flag = optarg; break;
        case 'q': o->quiet = true; break;
        case 'd': o->demo = true; break;
        case 'A': o->rearm = true; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm run: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!strcmp(broker_name, "fix") != (o->fix_config != NULL)) {
        fprintf(stderr, "aftm run: %s\n", o->fix_config ? "--fix-config goes with --broker fix"
                                                         : "--broker fix needs --fix-config FILE");
        return EXIT_USAGE;
    }
    if (o->fix_config && access(o->fix_config, R_OK) != 0) {
        fprintf(stderr, "aftm run: cannot read %s: %s\n", o->fix_config, strerror(errno));
        return EXIT_USAGE;
    }
    if (o->ticks && access(o->ticks, R_OK) != 0) {
        fprintf(stderr, "aftm run: cannot read tick file %s: %s\n", o->ticks, strerror(errno));
        return EXIT_USAGE;
    }
    return -1;
}

/* The session's selected account, else the simulator's first one. */
static void order_account(const char *home, const char *flag, char *out, size_t cap) {
    char err[512];
    if (flag) {
        snprintf(out, cap, "%s", flag);
        return;
    }
    sqlite3 *db = db_open(home, err, sizeof err);
    if (!db || !session_order_account(db, out, cap)) snprintf(out, cap, "SIM-0001");
    db_close(db);
}

/* Starts the exchange and the gateway (each healthy before the next), then the executor and
 * the strategy. false with the reason printed. */
static bool start_all(supervisor *sup, sup_child *xc, sup_child *gw, sup_child *ex, sup_child *st,
                      const endpoints *ep) {
    if (xc && (!sup_start(sup, xc) || !sup_wait_healthy(sup, xc, ep->exchange, "health", 10000))) {
        fprintf(stderr, "aftm run: the exchange did not come up (%s)\n",
                xc->last_error[0] ? xc->last_error : "no answer to a health check within 10 s");
        return false;
    }
    if (!sup_start(sup, gw) || !sup_wait_healthy(sup, gw, ep->order, "health_check", 10000)) {
        fprintf(stderr, "aftm run: the gateway did not come up (%s)\n",
                gw->last_error[0] ? gw->last_error : "no answer to a health check within 10 s");
        return false;
    }
    if (!sup_start(sup, ex) || !sup_start(sup, st)) {
        fprintf(stderr, "aftm run: cannot start the processes\n");
        return false;
    }
    if (xc)
        printf("aftm: exchange %d, gateway %d, executor %d, strategy %d running\n", (int)xc->pid, (int)gw->pid,
               (int)ex->pid, (int)st->pid);
    else
        printf("aftm: gateway %d (FIX), executor %d, strategy %d running\n", (int)gw->pid, (int)ex->pid, (int)st->pid);
    fflush(stdout);
    return true;
}

/* A replay's end, as the exchange's health tells it: asked once a second until it is over. */
typedef struct {
    const char *ticks;       /* the file; NULL: no replay to watch */
    const char *exchange;    /* its request endpoint */
    int64_t next_ms;
    bool said;
} replay_watch;

static void replay_watch_poll(replay_watch *w) {
    if (!w->ticks || w->said || clock_mono_ms() < w->next_ms) return;
    w->next_ms = clock_mono_ms() + 1000;
    void *zctx = zmq_ctx_new();
    gateway_client *c = zctx ? gwc_new_to(zctx, w->exchange, 500, ROLE_EXCHANGE) : NULL;
    char err[128];
    json_t *reply = c ? gwc_call(c, "health", NULL, err, sizeof err) : NULL;
    json_t *d = json_object_get(reply, "data");
    if (json_is_true(json_object_get(d, "replay_over"))) {
        w->said = true;
        printf("aftm: the replay of %s is over (%lld ticks); the market stays at its last prices, where open "
               "orders fill; Ctrl+C (or the end of --for) stops the run\n",
               w->ticks, (long long)json_integer_value(json_object_get(d, "replay_ticks")));
        fflush(stdout);
    }
    json_decref(reply);
    gwc_free(c);
    if (zctx) zmq_ctx_term(zctx);
}

/* Watches the children (restarting the ones that die) until Ctrl+C, SIGTERM, the end of
 * run_for, or a child that will not run (it failed the same way each time it was restarted, or
 * with an exit code that says restarting cannot help): false then, after saying why. The signals
 * are blocked and taken synchronously. */
static bool supervise(supervisor *sup, const sigset_t *wait_set, double run_for, run_session *session,
                      replay_watch *replay) {
    int64_t deadline = run_for > 0 ? clock_mono_ms() + (int64_t)(run_for * 1000) : INT64_MAX;
    for (;;) {
        for (int i = 0; i < sup->n; i++)
            if (sup->children[i].state == CHILD_FAILED) {
                fprintf(stderr, "aftm run: the %s cannot run (%s); stopping everything\n", sup->children[i].name,
                        sup->children[i].last_error);
                return false;
            }
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) {
            printf("aftm: --for %.1f s elapsed; stopping\n", run_for);
            return true;
        }
        if (left > 200) left = 200;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
        int sig = sigtimedwait(wait_set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            printf("\naftm: %s received; stopping\n", sig == SIGINT ? "Ctrl+C" : "SIGTERM");
            return true;
        }
        sup_poll(sup);
        run_session_renew(session);
        replay_watch_poll(replay);
    }
}

int cmd_run(int argc, char **argv) {
    run_options o;
    int usage_rc = parse_args(argc, argv, &o);
    if (usage_rc >= 0) return usage_rc;
    log_set_name("run");
    char home[AFTM_PATH_MAX], err[512];
    if (!home_resolve(o.home_flag, home, sizeof home, err, sizeof err) ||
        !net_secure_init(home, ROLE_CLI, false, err, sizeof err)) {
        fprintf(stderr, "aftm run: %s\n", err);
        return EXIT_RUNTIME;
    }
    /* one all-in-one system per data directory, for the life of the run */
    char holder[32];
    int lock = sup_take_home_lock(home, holder, sizeof holder);
    if (lock == -2) {
        fprintf(stderr, "aftm run: another aftm is already running on %s (pid %s); stop it first\n", home, holder);
        return EXIT_RUNTIME;
    }
    endpoints ep;
    endpoints_from_env(&ep);
    char market[AFTM_ENDPOINT_MAX];
    if (!exchange_market_endpoint(ep.exchange, market, sizeof market, err, sizeof err)) {
        fprintf(stderr, "aftm run: %s\n", err);
        if (lock >= 0) close(lock);
        return EXIT_USAGE;
    }
    if (!topology_ports_free(&ep, market, err, sizeof err)) {
        fprintf(stderr, "aftm run: %s\n", err);
        if (lock >= 0) close(lock);
        return EXIT_RUNTIME;
    }

    sigset_t wait_set;
    sigemptyset(&wait_set);
    sigaddset(&wait_set, SIGINT);
    sigaddset(&wait_set, SIGTERM);
    sigaddset(&wait_set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &wait_set, NULL);

    supervisor sup;
    sup_init(&sup);
    sup.give_up_after = 5;
    sqlite3 *status_db = db_open(home, err, sizeof err); /* the processes table: aftm status, aftm stop */
    if (status_db) sup_attach_db(&sup, status_db, "run");
    /* the exchange makes the market: a replay goes on where it stopped if the exchange is
     * restarted within this run (--feed-resume with this run's id), and waits for the strategy's
     * and the executor's subscriptions (through the gateway), so none misses its start */
    char run_id[64];
    snprintf(run_id, sizeof run_id, "run-%d-%lld", (int)getpid(), (long long)clock_wall_us());
    char account[64];
    order_account(home, o.account, account, sizeof account);
    if (o.demo) add_demo_conditions(home, o.symbol ? o.symbol : "TXFF5");
    bool rearm = o.rearm;
    /* the gateway logs in as the menu's does: the simulator's account, the password by environment */
    const char *login = o.fix_config ? NULL : SIM_DEFAULT_LOGIN;
    const topology topo = {.home = home, .ep = &ep, .market = market, .ticks = o.ticks, .speed = o.speed,
                           .seed = o.seed, .rate = o.rate, .symbol = o.symbol, .feed_resume = run_id,
                           .replay_waits = true, .account = account, .risk_file = o.risk_file, .rearm = rearm,
                           .gateway_login = login,
                           .quiet_gateway = true, .quiet_trading = o.quiet, .fix_config = o.fix_config};
    topo_argv xc_argv, gw_argv, ex_argv, st_argv;
    topology_exchange(&topo, &xc_argv);
    topology_gateway(&topo, &gw_argv);
    topology_executor(&topo, &ex_argv);
    topology_strategy(&topo, &st_argv);
    /* first: stopped last; with --broker fix the counterparty is the FIX session's */
    sup_child *xc = o.fix_config ? NULL : sup_add(&sup, "exchange", xc_argv.argv);
    sup_child *gw = sup_add(&sup, "gateway", gw_argv.argv);
    sup_child *ex = sup_add(&sup, "executor", ex_argv.argv);
    sup_child *st = sup_add(&sup, "strategy", st_argv.argv);
    if (gw && login && !sup_setenv(gw, "AFTM_PASSWORD", SIM_DEFAULT_PASSWORD)) gw = NULL;
    /* each process also logs to DIR/logs/<name>.log, rotated by size, as the menu's processes
     * log there (aftm logs [-f] [PROCESS] prints them) */
    char log_dir[1100];
    snprintf(log_dir, sizeof log_dir, "%s/logs", home);
    sup_child *all[] = {xc, gw, ex, st};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] && !sup_setenv(all[i], "AFTM_LOG_DIR", log_dir)) {
            fprintf(stderr, "aftm run: warning: %s logs to this terminal only\n", all[i]->name);
        }
    int rc = EXIT_OK;
    run_session session = {0};

    printf("aftm: data in %s; ticks %s, signals %s, orders %s, reports %s, exchange %s (market %s)\n", home, ep.tick,
           ep.signal, ep.order, ep.report, ep.exchange, market);
    /* every run says which trading state it starts in: a switch left on is no surprise later */
    trading_state ts;
    if (status_db && tstate_get(status_db, &ts)) {
        char line[320];
        tstate_describe(&ts, line, sizeof line);
        printf("aftm: trading state %s%s\n", line, ts.kind == TSTATE_ACTIVE ? "" : " ('aftm resume' to clear)");
    }
    printf("aftm: orders go to account %s\n", account);
    if (o.risk_file)
        printf("aftm: risk limits: the account's stored ones ('aftm risk show'), overridden for this run by --risk "
               "%s\n", o.risk_file);
    else printf("aftm: risk limits: the account's stored ones ('aftm risk show')\n");
    printf("aftm: trading hours are not enforced on the simulator (unless the stored risk limits say so); Ctrl+C "
           "stops everything\n");
    fflush(stdout);
    if (o.fix_config) printf("aftm: broker FIX, settings %s\n", o.fix_config);
    run_print_open_positions(status_db, stdout, "aftm: open positions at start:", "aftm:   ");
    if ((!xc && !o.fix_config) || !gw || !ex || !st) {
        fprintf(stderr, "aftm run: cannot supervise the processes\n");
        rc = EXIT_RUNTIME;
    } else if (!start_all(&sup, xc, gw, ex, st, &ep)) {
        rc = EXIT_RUNTIME;
    } else {
        /* the session every other command reads: logged in, this order account, the walk's item */
        const char *item = o.ticks ? NULL : (o.symbol ? o.symbol : "TXFF5");
        if (run_session_begin(&session, status_db, login ? login : account, o.fix_config ? "fix" : "sim", account,
                              item, ep.order, err, sizeof err))
            printf("aftm: logged in as %s; other shells can trade and query alongside (aftm status)\n",
                   session.login);
        else
            fprintf(stderr, "aftm run: warning: the session is not recorded (%s); other commands will say "
                            "'Not logged in'\n", err);
        fflush(stdout);
        /* with --broker fix the gateway replays the file itself and says when it is over */
        replay_watch replay = {.ticks = o.fix_config ? NULL : o.ticks, .exchange = ep.exchange};
        if (!supervise(&sup, &wait_set, o.run_for, &session, &replay)) rc = EXIT_RUNTIME;
    }
    fflush(stdout);
    sup_stop_all(&sup, 5000);
    run_session_end(&session);
    if (run_print_open_positions(status_db, stdout, "aftm: WARNING: stopped with open positions, nothing manages "
                                                    "them until the next start:", "aftm:   "))
        printf("aftm: close them by hand (aftm order send), or start again: a condition that holds them manages them again\n");
    for (int i = 0; i < sup.n; i++)
        if (sup.children[i].restarts)
            printf("aftm: %s was restarted %d time(s)\n", sup.children[i].name, sup.children[i].restarts);
    printf("aftm: stopped\n");
    sup_detach_db(&sup);
    db_close(status_db);
    sup_free(&sup);
    if (lock >= 0) close(lock);
    return rc;
}
