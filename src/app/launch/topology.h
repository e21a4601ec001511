/* The process topology: which child runs with which flags. The one place that writes the argv of
 * the exchange, the gateway, the executor and the strategy, so 'aftm run' and the menu's session
 * start the same system. It builds argument vectors only; starting them is the supervisor's. */
#ifndef AFTM_TOPOLOGY_H
#define AFTM_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "app/launch/supervisor.h"
#include "core/config.h"

typedef struct {
    const char *home;
    const endpoints *ep;
    const char *market; /* the exchange's market endpoint (exchange_market_endpoint) */
    /* the simulated market; NULL: the exchange's default */
    const char *ticks, *speed, *seed, *rate, *symbol;
    const char *feed_resume;    /* a run id: an exchange restarted within the run resumes its replay */
    bool replay_waits;          /* a replay waits for the strategy's and the executor's subscriptions */
    const char *fix_config;     /* the gateway trades over FIX with these settings (no exchange);
                                 * the market flags above then make its market data */
    const char *gateway_login;  /* the gateway logs in as this account (password by environment) */
    const char *account;        /* the executor's order account; NULL: the session's */
    const char *risk_file;      /* the executor's --risk for this run (over the stored limits); NULL: none */
    bool rearm;                 /* the strategy re-arms a condition after its exit */
    bool quiet_gateway;         /* no per-message log lines from the gateway */
    bool quiet_trading;         /* nor from the executor and the strategy */
} topology;

/* An argument vector, NULL-terminated; the strings belong to the topology's fields. */
typedef struct {
    const char *argv[SUP_MAX_ARGS];
    int argc;
} topo_argv;

/* Every port the system binds must be free before anything starts: false (with err) names the
 * first one in use. */
bool topology_ports_free(const endpoints *ep, const char *market, char *err, size_t errlen);

void topology_exchange(const topology *t, topo_argv *out);
void topology_gateway(const topology *t, topo_argv *out);
void topology_executor(const topology *t, topo_argv *out);
void topology_strategy(const topology *t, topo_argv *out);

#endif
