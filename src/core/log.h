/* Logging to standard error, one line per event, tagged with the process name.
 * Never called per tick on the hot path: only on state changes and errors. */
#ifndef AFTM_LOG_H
#define AFTM_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_name(const char *process_name);
void log_set_level(log_level min_level);
void log_set_quiet(int quiet); /* 1: only warnings and errors */
void log_msg(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether a message of level would be written (to skip preparing one that would not). */
int log_enabled(log_level level);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
