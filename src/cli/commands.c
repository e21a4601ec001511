#include "cli/commands.h"

#include <stddef.h>

const command aftm_commands[] = {
    {"strategy", cmd_strategy, "turns ticks into signals by the conditions"},
    {"executor", cmd_executor, "turns signals into orders, keeps orders, fills and positions"},
    {"condition", cmd_condition, "add, list or remove trading conditions"},
    {"conform", cmd_conform, "run strategy conformance cases (JSON lines)"},
    {NULL, NULL, NULL},
};
