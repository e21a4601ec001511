/* aftm keys init|allow|list: the CURVE keys of aftm's links (net/curve.h), for running the
 * processes on several hosts. On one host nothing needs doing: every process makes the
 * missing keys of its data directory when it starts. */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/config.h"
#include "net/curve.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm keys init [--force] [--home DIR]\n"
            "       aftm keys allow ROLE PUBLIC_KEY_FILE [--home DIR]\n"
            "       aftm keys list [--json] [--home DIR]\n\n"
            "The CURVE keys that authenticate and encrypt every link between aftm's processes.\n"
            "Roles: exchange, gateway, strategy, executor, cli.\n\n"
            "  init    make a key pair for each role that has none (--force: new pairs for all,\n"
            "          which locks out every host that allowed the old ones), under DIR/keys:\n"
            "          ROLE.key_secret (never give it away) and ROLE.key (the public half)\n"
            "  allow   let ROLE's public key from another host in (its ROLE.key file, or a file\n"
            "          holding the 40-character Z85 key); it is also the key this host expects\n"
            "          when it connects to ROLE's ports. Live at the next connection, no restart.\n"
            "  list    each role's own public key and the keys allowed in as that role\n\n"
            "Across hosts: run 'aftm keys init' on each, copy each host's ROLE.key of the roles it\n"
            "runs to the hosts it talks to, and there run 'aftm keys allow ROLE FILE'.\n"
            "  --home   data directory (default $AFTM_HOME, else ./aftm-data)\n");
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "aftm keys: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(aftm keys --help for the usage)\n");
    va_end(ap);
    return EXIT_USAGE;
}

static int keys_init(const char *home, bool force) {
    char err[512];
    int created = 0;
    if (!curve_keys_ensure(home, force, &created, err, sizeof err)) {
        fprintf(stderr, "aftm keys: %s\n", err);
        return EXIT_RUNTIME;
    }
    char dir[AFTM_PATH_MAX + 8];
    curve_path(home, "", dir, sizeof dir);
    if (created) printf("made %d key pair(s) under %s\n", created, dir);
    else printf("every role already has its key pair under %s (--force makes new ones)\n", dir);
    return EXIT_OK;
}

static int keys_allow(const char *home, const char *role_name, const char *file) {
    net_role role;
    if (!net_role_parse(role_name, &role))
        return bad("unknown role '%s' (exchange, gateway, strategy, executor, cli)", role_name);
    char err[512];
    bool added;
    if (!curve_allow(home, role, file, &added, err, sizeof err)) {
        fprintf(stderr, "aftm keys: %s\n", err);
        return EXIT_USAGE;
    }
    printf(added ? "allowed as %s: the key in %s\n" : "already allowed as %s: the key in %s\n", role_name, file);
    return EXIT_OK;
}

static int keys_list(const char *home, bool as_json) {
    char err[512];
    json_t *arr = json_array();
    for (int r = 0; r < ROLE_COUNT; r++) {
        char keys[64][CURVE_KEY_Z85];
        int n = curve_admitted(home, (net_role)r, keys, 64, err, sizeof err);
        if (n < 0) {
            json_decref(arr);
            fprintf(stderr, "aftm keys: %s\n", err);
            return EXIT_RUNTIME;
        }
        json_t *allowed = json_array();
        for (int i = 1; i < n; i++) json_array_append_new(allowed, json_string(keys[i]));
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "role", net_role_name((net_role)r), "public_key",
                                             keys[0], "allowed", allowed));
        if (!as_json) {
            printf("%-9s %s\n", net_role_name((net_role)r), keys[0]);
            for (int i = 1; i < n; i++) printf("          allowed: %s%s\n", keys[i], i == n - 1 ? " (server key)" : "");
        }
    }
    if (as_json) {
        char *text = json_dumps(arr, JSON_PRESERVE_ORDER);
        if (text) puts(text);
        free(text);
    }
    json_decref(arr);
    return EXIT_OK;
}

int cmd_keys(int argc, char **argv) {
    static const struct option opts[] = {
        {"home", 1, 0, 'h'}, {"force", 0, 0, 'f'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0}};
    const char *home_flag = NULL;
    bool force = false, as_json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'h': home_flag = optarg; break;
        case 'f': force = true; break;
        case 'j': as_json = true; break;
        case 'H': usage(stdout); return EXIT_OK;
        case ':': return bad("%s needs a value", argv[optind - 1]);
        default: return bad("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return bad("which one: init, allow or list?");
    const char *sub = argv[optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    bool init = !strcmp(sub, "init"), allow = !strcmp(sub, "allow"), list = !strcmp(sub, "list");
    if (!init && !allow && !list) return bad("unknown subcommand '%s' (init, allow, list)", sub);
    if (nargs != (allow ? 2 : 0)) return bad(allow ? "allow takes ROLE and PUBLIC_KEY_FILE" : "%s takes no argument", sub);
    if (force && !init) return bad("--force goes with init");
    if (as_json && !list) return bad("--json goes with list");
    char home[AFTM_PATH_MAX], err[512];
    if (!home_resolve(home_flag, home, sizeof home, err, sizeof err)) {
        fprintf(stderr, "aftm keys: %s\n", err);
        return EXIT_RUNTIME;
    }
    if (init) return keys_init(home, force);
    if (allow) return keys_allow(home, args[0], args[1]);
    return keys_list(home, as_json);
}
