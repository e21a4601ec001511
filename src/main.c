/* aftm: one binary, one subcommand per role. */
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

/* AFTM_VERSION comes from the VERSION file through the Makefile. */
#define AFTM_STRINGIFY_(x) #x
#define AFTM_STRINGIFY(x) AFTM_STRINGIFY_(x)
#ifdef AFTM_VERSION
#define AFTM_VERSION_TEXT AFTM_STRINGIFY(AFTM_VERSION)
#else
#define AFTM_VERSION_TEXT "unknown"
#endif

static void usage(FILE *out) {
    fprintf(out,
            "aftm - automatic futures trading machine\n\n"
            "usage: aftm                          the interactive menu\n"
            "       aftm --version\n"
            "       aftm <command> [options]     (aftm <command> --help for its options)\n\n"
            "commands:\n");
    for (const command *c = aftm_commands; c->name; c++) fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out,
            "\nenvironment: AFTM_HOME (data directory, default ./aftm-data), ZMQ_HOST, ZMQ_TICK_PORT,\n"
            "ZMQ_SIGNAL_PORT, DLL_GATEWAY_HOST, DLL_GATEWAY_PORT, AFTM_REPORT_PORT, AFTM_EXCHANGE_PORT,\n"
            "AFTM_EXCHANGE_MARKET_PORT\n");
}

int main(int argc, char **argv) {
    /* A closed pipe on stdout is an ordinary event (aftm list | head), not a crash. */
    signal(SIGPIPE, SIG_IGN);
    /* Everything aftm creates (databases, keys, logs, the data directory) is its owner's only:
     * orders, positions and the keys that authenticate the links are nobody else's business. */
    umask(077);
    /* Keep freed heap memory instead of handing it back at once. SQLite drops a connection's
     * whole page cache whenever another connection has written the database (the strategy's
     * writer and the executor share one), and with glibc's default 128 KB trim threshold every
     * such drop shrank the heap with brk, a TLB shootdown across every core, and the next
     * transaction faulted the pages back in: 20% of the executor's CPU under a steady flow of
     * orders. The peak RSS is unchanged; what is kept is reused by the next transaction. */
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (argc < 2) {
        /* no arguments: the interactive menu */
        char name[] = "menu";
        char *menu_argv[] = {name, NULL};
        return cmd_menu(1, menu_argv);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V") || !strcmp(argv[1], "version")) {
        printf("aftm %s\n", AFTM_VERSION_TEXT);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argv[1][0] == '-' && argv[1][1] == '-') return cmd_menu(argc, argv); /* aftm --home DIR ...: the menu */
    for (const command *c = aftm_commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "aftm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
