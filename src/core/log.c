#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log_file.h"
#include "core/parse.h"
#include <sys/time.h>
#include <time.h>

static char g_name[32] = "aftm";
static log_level g_min = LOG_INFO;
static log_file *g_file;
static pthread_mutex_t g_file_lock = PTHREAD_MUTEX_INITIALIZER; /* the strategy's writer thread logs too */

/* With AFTM_LOG_DIR set (aftm run sets it for its processes), every line also goes to
 * $AFTM_LOG_DIR/<name>.log, rotated past AFTM_LOG_MAX_BYTES (default 10 MiB), keeping
 * AFTM_LOG_KEEP (default 3) old files; not when standard error already is that file (the
 * menu's processes). */
static void open_file(void) {
    const char *dir = getenv("AFTM_LOG_DIR");
    log_file_close(g_file);
    g_file = NULL;
    if (!dir || !*dir) return;
    int64_t max = LOG_FILE_DEFAULT_MAX, keep = LOG_FILE_DEFAULT_KEEP;
    const char *m = getenv("AFTM_LOG_MAX_BYTES"), *k = getenv("AFTM_LOG_KEEP");
    if (m && (!parse_int64(m, &max) || max < 1024)) max = LOG_FILE_DEFAULT_MAX;
    if (k && (!parse_int64(k, &keep) || keep < 1 || keep > LOG_FILE_KEEP_MAX)) keep = LOG_FILE_DEFAULT_KEEP;
    char err[256];
    g_file = log_file_open(dir, g_name, (long)max, (int)keep, err, sizeof err);
    if (!g_file) fprintf(stderr, "aftm: no log file for %s: %s\n", g_name, err);
    else if (log_file_is_fd(g_file, STDERR_FILENO)) {
        log_file_close(g_file);
        g_file = NULL;
    }
}

void log_set_name(const char *process_name) {
    snprintf(g_name, sizeof g_name, "%s", process_name);
    open_file();
}

void log_set_level(log_level min_level) { g_min = min_level; }

void log_set_quiet(int quiet) { g_min = quiet ? LOG_WARN : LOG_INFO; }

int log_enabled(log_level level) { return level >= g_min; }

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
    if (g_file) {
        pthread_mutex_lock(&g_file_lock);
        log_file_write(g_file, line, strlen(line));
        pthread_mutex_unlock(&g_file_lock);
    }
}
