#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static char g_name[32] = "aftm";
static log_level g_min = LOG_INFO;

void log_set_name(const char *process_name) {
    snprintf(g_name, sizeof g_name, "%s", process_name);
}

void log_set_level(log_level min_level) { g_min = min_level; }

void log_set_quiet(int quiet) { g_min = quiet ? LOG_WARN : LOG_INFO; }

void log_msg(log_level level, const char *fmt, ...) {
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < g_min) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char line[1024];
    int n = (int)strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03d %-8s %-5s ", (int)(tv.tv_usec / 1000),
                  g_name, names[level]);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Messages quote what came from outside (client order ids, a broker's reasons): a newline
     * or another control character in them is written escaped, so no one can forge a log line. */
    for (const unsigned char *p = (const unsigned char *)msg; *p && n < (int)sizeof line - 5; p++) {
        if (*p >= 0x20 && *p != 0x7f) line[n++] = (char)*p;
        else if (*p == '\n') n += snprintf(line + n, sizeof line - (size_t)n, "\\n");
        else if (*p == '\r') n += snprintf(line + n, sizeof line - (size_t)n, "\\r");
        else if (*p == '\t') n += snprintf(line + n, sizeof line - (size_t)n, "\\t");
        else n += snprintf(line + n, sizeof line - (size_t)n, "\\x%02x", *p);
    }
    line[n < (int)sizeof line ? n : (int)sizeof line - 1] = '\0';
    /* One write per line so lines from several processes sharing a terminal do not interleave. */
    fprintf(stderr, "%s\n", line);
}
