/* Rotating per-process log files (see log_file.h). */
#include "core/log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct log_file {
    char path[1024];
    int fd;
    long size, max;
    int keep;
};

static int open_append(const char *path) { return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600); }

log_file *log_file_open(const char *dir, const char *name, long max_bytes, int keep, char *err, size_t errlen) {
    if (!dir || !*dir || !name || !*name || strchr(name, '/')) {
        snprintf(err, errlen, "a log file needs a directory and a plain name");
        return NULL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
        return NULL;
    }
    log_file *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int n = snprintf(f->path, sizeof f->path, "%s/%s.log", dir, name);
    if (n < 0 || (size_t)n >= sizeof f->path) {
        snprintf(err, errlen, "log path too long");
        free(f);
        return NULL;
    }
    f->fd = open_append(f->path);
    if (f->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", f->path, strerror(errno));
        free(f);
        return NULL;
    }
    struct stat st;
    f->size = fstat(f->fd, &st) == 0 ? (long)st.st_size : 0;
    f->max = max_bytes > 0 ? max_bytes : LOG_FILE_DEFAULT_MAX;
    f->keep = keep < 1 ? 1 : keep > LOG_FILE_KEEP_MAX ? LOG_FILE_KEEP_MAX : keep;
    return f;
}

/* <path>.k-1 -> <path>.k for k = keep..1 (<path>.0 being <path> itself), then a new <path>. */
static void rotate(log_file *f) {
    char from[1100], to[1100];
    for (int k = f->keep; k >= 1; k--) {
        if (k == 1) snprintf(from, sizeof from, "%s", f->path);
        else snprintf(from, sizeof from, "%s.%d", f->path, k - 1);
        snprintf(to, sizeof to, "%s.%d", f->path, k);
        rename(from, to); /* a missing older file is fine */
    }
    int fd = open_append(f->path);
    if (fd < 0) return; /* keep writing to the rotated one rather than lose lines */
    close(f->fd);
    f->fd = fd;
    f->size = 0;
}

void log_file_write(log_file *f, const char *line, size_t len) {
    if (!f) return;
    if (f->size > 0 && f->size + (long)len + 1 > f->max) rotate(f);
    char buf[2048];
    if (len > sizeof buf - 1) len = sizeof buf - 1;
    memcpy(buf, line, len);
    buf[len] = '\n';
    ssize_t w = write(f->fd, buf, len + 1); /* one write: a reader never sees half a line */
    if (w > 0) f->size += (long)w;
}

bool log_file_is_fd(const log_file *f, int fd) {
    struct stat a, b;
    return f && fstat(f->fd, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void log_file_close(log_file *f) {
    if (!f) return;
    close(f->fd);
    free(f);
}
