#include "cli/commands.h"

#include <stddef.h>

const command aftm_commands[] = {
    {"condition", cmd_condition, "add, list or remove trading conditions"},
    {"conform", cmd_conform, "run strategy conformance cases (JSON lines)"},
    {NULL, NULL, NULL},
};
