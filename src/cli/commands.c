#include "cli/commands.h"

#include <stddef.h>

const command aftm_commands[] = {
    {"run", cmd_run, "start gateway, executor and strategy on the simulator, in the foreground"},
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
    {"chart", cmd_chart, "draw the equity curve PNG from an equity CSV"},
    {"gateway", cmd_gateway, "the broker session: ticks, orders, execution reports (simulated exchange)"},
    {NULL, NULL, NULL},
};
