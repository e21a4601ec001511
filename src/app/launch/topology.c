#include "app/launch/topology.h"

#include <stdio.h>

bool topology_ports_free(const endpoints *ep, const char *market, char *err, size_t errlen) {
    char ack[AFTM_ENDPOINT_MAX];
    if (ep->ack[0]) snprintf(ack, sizeof ack, "%s", ep->ack);
    else if (!signal_ack_endpoint(ep->signal, ack, sizeof ack, err, errlen)) return false;
    const struct {
        const char *ep, *what;
    } ports[] = {{ep->tick, "ticks"},
                 {ep->signal, "signals"},
                 {ep->order, "orders"},
                 {ep->report, "execution reports"},
                 {ep->exchange, "the exchange's requests"},
                 {market, "the exchange's market data"},
                 {ack, "the executor's acknowledgements"}};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        if (!sup_port_free(ports[i].ep, ports[i].what, err, errlen)) return false;
    return true;
}

static void add(topo_argv *a, const char *arg) {
    if (a->argc < SUP_MAX_ARGS - 1) a->argv[a->argc++] = arg;
    a->argv[a->argc] = NULL;
}

static void add_opt(topo_argv *a, const char *flag, const char *value) {
    if (!value) return;
    add(a, flag);
    add(a, value);
}

static void begin(topo_argv *a, const char *role, const char *home) {
    a->argc = 0;
    add(a, role);
    add_opt(a, "--home", home);
}

void topology_exchange(const topology *t, topo_argv *out) {
    begin(out, "exchange", t->home);
    add_opt(out, "--endpoint", t->ep->exchange);
    add_opt(out, "--market-endpoint", t->market);
    add_opt(out, "--feed-resume", t->feed_resume);
    add_opt(out, "--ticks", t->ticks);
    if (t->ticks && t->replay_waits) add_opt(out, "--wait-subscribers", "2"); /* strategy + executor */
    add_opt(out, "--speed", t->speed);
    add_opt(out, "--seed", t->seed);
    add_opt(out, "--rate", t->rate);
    add_opt(out, "--symbol", t->symbol);
    add(out, "--quiet"); /* the exchange's lines are its book's business, kept in exchange.db */
}

void topology_gateway(const topology *t, topo_argv *out) {
    begin(out, "gateway", t->home);
    if (t->fix_config) {
        add_opt(out, "--broker", "fix");
        add_opt(out, "--fix-config", t->fix_config);
        add_opt(out, "--market-data", t->ticks ? t->ticks : "walk");
        if (t->ticks && t->replay_waits) add_opt(out, "--wait-subscribers", "2"); /* strategy + executor */
        add_opt(out, "--speed", t->speed);
        add_opt(out, "--seed", t->seed);
        add_opt(out, "--rate", t->rate);
        add_opt(out, "--symbol", t->symbol);
        add_opt(out, "--tick-endpoint", t->ep->tick);
        add_opt(out, "--order-endpoint", t->ep->order);
        add_opt(out, "--report-endpoint", t->ep->report);
        add_opt(out, "--login", t->gateway_login);
        if (t->quiet_gateway) add(out, "--quiet");
        return;
    }
    add_opt(out, "--broker", "sim");
    add_opt(out, "--tick-endpoint", t->ep->tick);
    add_opt(out, "--order-endpoint", t->ep->order);
    add_opt(out, "--report-endpoint", t->ep->report);
    add_opt(out, "--exchange-endpoint", t->ep->exchange);
    add_opt(out, "--exchange-market-endpoint", t->market);
    add_opt(out, "--login", t->gateway_login);
    if (t->quiet_gateway) add(out, "--quiet");
}

void topology_executor(const topology *t, topo_argv *out) {
    begin(out, "executor", t->home);
    add_opt(out, "--signal-endpoint", t->ep->signal);
    if (t->ep->ack[0]) add_opt(out, "--ack-endpoint", t->ep->ack);
    add_opt(out, "--order-endpoint", t->ep->order);
    add_opt(out, "--report-endpoint", t->ep->report);
    add_opt(out, "--tick-endpoint", t->ep->tick);
    /* the simulator trades around the clock, unless the account's stored limits say otherwise */
    add_opt(out, "--trading-hours-default", "off");
    add_opt(out, "--risk", t->risk_file);
    add_opt(out, "--account", t->account);
    if (t->quiet_trading) add(out, "--quiet");
}

void topology_strategy(const topology *t, topo_argv *out) {
    begin(out, "strategy", t->home);
    add_opt(out, "--tick-endpoint", t->ep->tick);
    add_opt(out, "--signal-endpoint", t->ep->signal);
    if (t->ep->ack[0]) add_opt(out, "--ack-endpoint", t->ep->ack);
    add_opt(out, "--report-endpoint", t->ep->report);
    if (t->rearm) add(out, "--rearm");
    if (t->quiet_trading) add(out, "--quiet");
}
