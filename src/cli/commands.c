#include "cli/commands.h"

#include <stddef.h>

const command aftm_commands[] = {
    {"conform", cmd_conform, "run strategy conformance cases (JSON lines)"},
    {NULL, NULL, NULL},
};
