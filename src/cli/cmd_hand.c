/* aftm flatten [--symbol S] | aftm order cancel ID: requests by hand that the executor carries
 * out through its own path (store/manual_requests.h: a row it takes, in any trading state).
 * The CLI writes the request, waits for the executor to take and finish it, and prints its
 * result; with no executor running the request is withdrawn (never carried out later) and the
 * command says so (exit 1). Not here: 'aftm order send' (cmd_session.c, usecase/uc_broker.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/home_db.h"
#include "core/clock.h"
#include "core/exit_codes.h"
#include "core/parse.h"
#include "store/manual_requests.h"
#include "store/session_store.h"

#define TAKE_WAIT_MS 3000  /* the executor looks at the table every 250 ms */
#define DONE_WAIT_MS 10000 /* a cancel asks the gateway; a flatten sends one order a product */

static int request(const char *cmd, const char *home, mreq_kind kind, const char *target) {
    home_db h;
    if (!home_db_open(&h, home)) return EXIT_RUNTIME;
    /* the session's order account; without one, the account the executor runs for */
    char account[64] = "";
    if (!session_order_account(h.db, account, sizeof account)) account[0] = 0;
    int64_t id;
    if (!mreq_add_kind(h.db, kind, account, target, &id)) {
        fprintf(stderr, "aftm %s: cannot record the request for the executor: %s\n", cmd, sqlite3_errmsg(h.db));
        home_db_close(&h);
        return EXIT_RUNTIME;
    }
    manual_request q;
    int64_t start = clock_mono_ms();
    int rc = EXIT_RUNTIME;
    for (;;) {
        if (!mreq_get(h.db, id, &q)) q.state = MREQ_PENDING;
        if (q.state == MREQ_DONE) break;
        int64_t waited = clock_mono_ms() - start;
        if (q.state == MREQ_PENDING && waited >= TAKE_WAIT_MS && mreq_move(h.db, id, MREQ_PENDING, MREQ_WITHDRAWN)) {
            fprintf(stderr, "aftm %s: no executor took the request within %d s (is the trading system running? "
                            "'aftm status'); withdrawn, nothing was done\n", cmd, TAKE_WAIT_MS / 1000);
            goto out;
        }
        if (waited >= DONE_WAIT_MS) {
            fprintf(stderr, "aftm %s: the executor took request %lld but has not finished it; see 'aftm orders'\n",
                    cmd, (long long)id);
            goto out;
        }
        clock_sleep_ms(50);
    }
    /* a refusal or nothing to do is said as the executor said it; a cancel the broker refused fails,
     * and so does a flatten that left a position open because its order was refused */
    bool failed = kind == MREQ_CANCEL && strcmp(q.result, "cancel sent") != 0;
    char refused[512] = "";
    int nrefused = kind == MREQ_FLATTEN ? mreq_flatten_refused(h.db, id, refused, sizeof refused) : 0;
    if (kind == MREQ_FLATTEN && !q.client_order_id[0] && !strncmp(q.result, "no order account", 16)) failed = true;
    fprintf(failed ? stderr : stdout, "%s%s: %s\n", failed ? "aftm " : "", cmd, q.result);
    if (nrefused < 0) {
        fprintf(stderr, "aftm %s: cannot read the flatten orders back: %s; see 'aftm orders'\n", cmd,
                sqlite3_errmsg(h.db));
        failed = true;
    } else if (nrefused > 0) {
        fprintf(stderr, "aftm %s: refused for %s; %s still open ('aftm positions')\n", cmd, refused,
                nrefused == 1 ? "that position is" : "those positions are");
        failed = true;
    }
    rc = failed ? EXIT_RUNTIME : EXIT_OK;
out:
    home_db_close(&h);
    return rc;
}

int cmd_flatten(int argc, char **argv) {
    static const struct option opts[] = {{"home", 1, 0, 'h'}, {"symbol", 1, 0, 's'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home = NULL, *symbol = "";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') home = optarg;
        else if (c == 's') symbol = optarg;
        else {
            fputs("usage: aftm flatten [--symbol S] [--home DIR]\n\n"
                  "Closes every open position of the order account (or only product S) at market, through\n"
                  "the running executor, in any trading state (active, reducing or halted). Prints the\n"
                  "order placed for each product; 'aftm positions' shows the result. Exits 1 naming each\n"
                  "product whose order was refused (its position stays open).\n",
                  c == 'H' ? stdout : stderr);
            return c == 'H' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm flatten: unexpected argument '%s' (see --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (*symbol && !symbol_valid(symbol)) {
        fprintf(stderr, "aftm flatten: --symbol must be a product code of letters and digits, got '%s'\n", symbol);
        return EXIT_USAGE;
    }
    char sym[ORDER_SYMBOL_MAX];
    snprintf(sym, sizeof sym, "%s", symbol);
    for (char *p = sym; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    return request("flatten", home, MREQ_FLATTEN, sym);
}

int cmd_order_cancel(int argc, char **argv) {
    static const struct option opts[] = {{"home", 1, 0, 'h'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') home = optarg;
        else {
            fputs("usage: aftm order cancel ID [--home DIR]\n\n"
                  "Cancels the open order whose client order id is ID (see 'aftm orders') through the running\n"
                  "executor and the gateway, in any trading state.\n",
                  c == 'H' ? stdout : stderr);
            return c == 'H' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "aftm order cancel: %s (see --help)\n",
                optind == argc ? "the client order id is required" : "only one client order id");
        return EXIT_USAGE;
    }
    const char *id = argv[optind];
    size_t n = strlen(id);
    bool ok = n > 0 && n < ORDER_ID_MAX;
    for (size_t i = 0; ok && i < n; i++) ok = id[i] > ' ' && id[i] < 127;
    if (!ok) {
        fprintf(stderr, "aftm order cancel: '%.80s' is not a client order id (printable, no spaces, under %d "
                        "characters)\n", id, ORDER_ID_MAX);
        return EXIT_USAGE;
    }
    return request("order cancel", home, MREQ_CANCEL, id);
}
