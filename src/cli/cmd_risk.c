/* aftm risk show|set KEY VALUE|import FILE: the account's risk limits, stored in aftm.db
 * (store/risk_store.h) and used by every way of running the executor (aftm run, aftm start, the
 * menu, aftm executor), which reads them at its start; a running executor takes a change at its
 * next start. A bad key or value is refused (exit 2) with the key and why, and nothing is stored.
 * Not here: what the limits do (domain/risk.h) or how a value is read (app/executor/risk_config). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/executor/risk_config.h"
#include "cli/commands.h"
#include "cli/home_db.h"
#include "core/exit_codes.h"
#include "store/risk_store.h"

static void usage(FILE *out) {
    fputs("usage: aftm risk show [--json] [--home DIR]\n"
          "       aftm risk set KEY VALUE [--home DIR]\n"
          "       aftm risk import FILE [--home DIR]\n\n"
          "The account's risk limits, kept in the data directory and used by every way of running\n"
          "(aftm run, aftm start, the menu, aftm executor) from its next start. 'show' lists every\n"
          "limit and where it comes from (stored or default); 'set' stores one; 'import' stores the\n"
          "[risk] section of an INI file as the whole set (keys it leaves out go back to their\n"
          "defaults). 'aftm run --risk FILE' and 'aftm executor --risk FILE' override them for one run.\n\n"
          "Keys: max_lots_per_order, max_position_per_product, max_open_orders,\n"
          "max_orders_per_second (integers, 0 turns a rule off), daily_loss_limit (money),\n"
          "price_band_points, stale_signal_ms, trading_hours and refuse_duplicates (on|off),\n"
          "day_session and night_session (HH:MM-HH:MM or off), trading_days (e.g. mon-fri).\n",
          out);
}

/* The stored limits over the defaults; stored[k]: key k is stored. False (printed) when the
 * database cannot be read or holds a value that is not valid. */
static bool current(home_db *h, risk_limits *lim, bool *stored) {
    char ini[4096], err[256];
    *lim = risk_limits_default();
    int n = rstore_ini(h->db, ini, sizeof ini);
    if (n < 0) {
        fprintf(stderr, "aftm risk: cannot read the stored risk limits: %s\n", sqlite3_errmsg(h->db));
        return false;
    }
    memset(stored, 0, RISK_CONFIG_NKEYS * sizeof *stored);
    if (n > 0 && !risk_config_parse_over(ini, "the stored risk limits", lim, stored, err, sizeof err)) {
        fprintf(stderr, "aftm risk: %s; set it again with 'aftm risk set KEY VALUE'\n", err);
        return false;
    }
    return true;
}

static int show(home_db *h, bool json) {
    risk_limits lim;
    bool stored[RISK_CONFIG_NKEYS];
    if (!current(h, &lim, stored)) return EXIT_RUNTIME;
    json_t *arr = json ? json_array() : NULL;
    for (size_t k = 0; k < RISK_CONFIG_NKEYS; k++) {
        char v[64];
        risk_config_format(&lim, k, v, sizeof v);
        if (arr) json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "key", risk_config_key_name(k), "value", v,
                                                      "source", stored[k] ? "stored" : "default"));
        else printf("%-26s %-14s %s\n", risk_config_key_name(k), v, stored[k] ? "stored" : "default");
    }
    if (arr) {
        char *text = json_dumps(arr, JSON_INDENT(2));
        if (text) puts(text);
        free(text);
        json_decref(arr);
    } else
        printf("(used by the executor from its next start; 'aftm risk set KEY VALUE' to change one)\n");
    return EXIT_OK;
}

static int set(home_db *h, const char *key, const char *value) {
    risk_limits lim;
    bool stored[RISK_CONFIG_NKEYS];
    char err[512];
    if (!current(h, &lim, stored)) return EXIT_RUNTIME;
    if (!risk_config_check(key, value, &lim, err, sizeof err)) {
        fprintf(stderr, "aftm risk set: refused, nothing stored: %s\n", err);
        return EXIT_USAGE;
    }
    /* stored as the executor will read it back */
    char v[64];
    risk_config_format(&lim, (size_t)risk_config_key_index(key), v, sizeof v);
    if (!rstore_set(h->db, key, v)) {
        fprintf(stderr, "aftm risk set: cannot store %s: %s\n", key, sqlite3_errmsg(h->db));
        return EXIT_RUNTIME;
    }
    printf("risk: %s = %s stored (the executor uses it from its next start)\n", key, v);
    return EXIT_OK;
}

static int import(home_db *h, const char *path) {
    risk_limits lim = risk_limits_default();
    bool given[RISK_CONFIG_NKEYS];
    char err[512];
    if (!risk_config_load_over(path, &lim, given, err, sizeof err)) {
        fprintf(stderr, "aftm risk import: refused, nothing stored: %s\n", err);
        return EXIT_USAGE;
    }
    const char *keys[RISK_CONFIG_NKEYS], *values[RISK_CONFIG_NKEYS];
    char text[RISK_CONFIG_NKEYS][64];
    size_t n = 0;
    for (size_t k = 0; k < RISK_CONFIG_NKEYS; k++)
        if (given[k]) {
            risk_config_format(&lim, k, text[n], sizeof text[n]);
            keys[n] = risk_config_key_name(k);
            values[n] = text[n];
            n++;
        }
    if (!rstore_replace(h->db, keys, values, n)) {
        fprintf(stderr, "aftm risk import: cannot store the limits: %s\n", sqlite3_errmsg(h->db));
        return EXIT_RUNTIME;
    }
    printf("risk: %zu limit(s) stored from %s, the rest at their defaults (the executor uses them from its next "
           "start)\n", n, path);
    return EXIT_OK;
}

int cmd_risk(int argc, char **argv) {
    /* read by hand, not by getopt: a value may start with '-' (a negative limit, refused with
     * its reason rather than taken for an option) */
    const char *home = NULL, *pos[4];
    bool json = false;
    int nargs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--home") && i + 1 < argc) home = argv[++i];
        else if (!strncmp(a, "--home=", 7)) home = a + 7;
        else if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strncmp(a, "--", 2) || nargs == 4) {
            fprintf(stderr, "aftm risk: unexpected '%s' (see --help)\n", a);
            return EXIT_USAGE;
        } else pos[nargs++] = a;
    }
    const char *sub = nargs > 0 ? pos[0] : "show";
    int want = !strcmp(sub, "show") ? 0 : !strcmp(sub, "set") ? 2 : !strcmp(sub, "import") ? 1 : -1;
    if (want < 0) {
        fprintf(stderr, "aftm risk: unknown action '%s' (show, set KEY VALUE, import FILE)\n", sub);
        return EXIT_USAGE;
    }
    if (nargs > 0 && nargs - 1 != want) {
        fprintf(stderr, "aftm risk %s: %s (see --help)\n", sub,
                want == 2 ? "needs KEY VALUE" : want == 1 ? "needs one FILE" : "takes no argument");
        return EXIT_USAGE;
    }
    if (json && want) {
        fprintf(stderr, "aftm risk %s: --json goes with show\n", sub);
        return EXIT_USAGE;
    }
    home_db h;
    if (!home_db_open(&h, home)) return EXIT_RUNTIME;
    int rc = want == 0 ? show(&h, json) : want == 2 ? set(&h, pos[1], pos[2]) : import(&h, pos[1]);
    home_db_close(&h);
    return rc;
}
