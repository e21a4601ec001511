/* A process's own log file, rotated by size: DIR/<name>.log, and when it grows past its limit
 * it becomes <name>.log.1 (.1 becomes .2, and so on; the oldest beyond `keep` is dropped) and a
 * new <name>.log starts. One writer per file (one process per name); a reader following it
 * (aftm logs -f) notices the rotation by the file's inode. Not the terminal's copy of the log:
 * core/log.c writes every line to standard error as well. */
#ifndef AFTM_LOG_FILE_H
#define AFTM_LOG_FILE_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_FILE_DEFAULT_MAX (10L * 1024 * 1024) /* bytes before a rotation */
#define LOG_FILE_DEFAULT_KEEP 3                  /* rotated files kept: .1 .. .3 */
#define LOG_FILE_KEEP_MAX 9

typedef struct log_file log_file;

/* Opens (appending) DIR/<name>.log, making DIR if missing. NULL with err when it cannot. */
log_file *log_file_open(const char *dir, const char *name, long max_bytes, int keep, char *err, size_t errlen);
/* Appends one line (the newline added), rotating first when it would pass the limit. A
 * failure to write or rotate is not fatal: the line still went to standard error. */
void log_file_write(log_file *f, const char *line, size_t len);
/* True when fd (standard error, say) already writes to this very file: the menu sends its
 * children's output there, and the line must not be written twice. */
bool log_file_is_fd(const log_file *f, int fd);
void log_file_close(log_file *f);

#endif
