#include "cli/commands.h"

#include <stddef.h>

const command aftm_commands[] = {
    {"menu", cmd_menu, "the interactive menu (also: aftm with no arguments)"},
    {"login", cmd_login, "log in: start the simulated exchange and the gateway (the broker session)"},
    {"logout", cmd_logout, "stop trading and the gateway, log out"},
    {"item", cmd_item, "register the item (product) to trade, or list the registered ones"},
    {"account", cmd_account, "list the order accounts, or select one"},
    {"futures", cmd_futures, "the broker's futures products"},
    {"order", cmd_order, "send a market order by hand"},
    {"start", cmd_start, "start trading: strategy and executor next to the gateway (menu option 10)"},
    {"status", cmd_status, "the session and each process: running, stopped or crashed"},
    {"stop", cmd_stop, "stop trading (--all: the gateway too)"},
    {"run", cmd_run, "the whole system on the simulated exchange, in the foreground"},
    {"strategy", cmd_strategy, "turns ticks into signals by the conditions"},
    {"executor", cmd_executor, "turns signals into orders, keeps orders, fills and positions"},
    {"condition", cmd_condition, "add, list or remove trading conditions"},
    {"orders", cmd_orders, "orders placed or refused, with status and reason"},
    {"fills", cmd_fills, "fills counted, each once"},
    {"positions", cmd_positions, "positions and P&L (aftm's books, or --broker)"},
    {"kill", cmd_kill, "halt new entries now (exits still allowed)"},
    {"resume", cmd_resume, "clear the kill switch"},
    {"conform", cmd_conform, "run strategy conformance cases (JSON lines)"},
    {"backtest", cmd_backtest, "replay a tick file through the strategy: trades, P&L, figures"},
    {"optimize", cmd_optimize, "grid search of condition points over a tick file, with walk-forward"},
    {"chart", cmd_chart, "draw the equity curve PNG from the equity log or an equity CSV"},
    {"equity", cmd_equity, "the daily equity log: list, export as CSV, set the starting capital"},
    {"gateway", cmd_gateway, "the broker session: ticks, orders, execution reports (simulated exchange)"},
    {"exchange", cmd_exchange, "the simulated exchange: market, matching, its own book (exchange.db)"},
    {"session-host", cmd_session_host, "internal: the background session that 'aftm login' starts"},
    {NULL, NULL, NULL},
};
