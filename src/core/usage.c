#include "core/usage.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/exit_codes.h"

int usage_error(const char *command, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "aftm %s: %s\n(aftm %s --help for the options)\n", command, msg, command);
    return EXIT_USAGE;
}
