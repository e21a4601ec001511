#include "cli/commands.h"

#include <stddef.h>

const command aftm_commands[] = {
    {"run", cmd_run, "start gateway, executor and strategy on the simulator, in the foreground"},
    {"strategy", cmd_strategy, "turns ticks into signals by the conditions"},
    {"executor", cmd_executor, "turns signals into orders, keeps orders, fills and positions"},
    {"condition", cmd_condition, "add, list or remove trading conditions"},
    {"conform", cmd_conform, "run strategy conformance cases (JSON lines)"},
    {"chart", cmd_chart, "draw the equity curve PNG from an equity CSV"},
    {NULL, NULL, NULL},
};
