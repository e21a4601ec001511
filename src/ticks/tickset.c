/* Several tick files as one stream (see tickset.h). Each file is opened once up front to check
 * it and to learn its first tick; with a single file that reader is kept and replayed, with
 * several they are closed again (one 1 MiB buffer each would add up) and reopened in turn. */
#include "ticks/tickset.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"

typedef struct {
    char *path;
    int64_t first_ts;
    bool empty; /* no row passed the filter */
} ts_file;

struct tick_set {
    ts_file *files;
    size_t n, cap;
    tick_filter filter;
    size_t cur;              /* file being replayed */
    tick_reader *r;          /* its reader */
    tick_row peeked;         /* the single file's first row, read at open */
    bool have_peeked;
    int64_t last_ts;
    bool started;
    size_t bad, out_of_order;
    const char *format;
    size_t products;
    bool has_tx;
    char err[512];
};

static bool ends_ci(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    if (n < k) return false;
    for (size_t i = 0; i < k; i++) {
        char c = s[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suf[i]) return false;
    }
    return true;
}

static bool add_file(tick_set *s, const char *path, char *err, size_t errlen) {
    if (s->n == TICK_SET_MAX_FILES) {
        snprintf(err, errlen, "more than %d tick files", TICK_SET_MAX_FILES);
        return false;
    }
    if (!buf_grow((void **)&s->files, &s->cap, s->n + 1, sizeof *s->files)) goto oom;
    s->files[s->n] = (ts_file){.path = strdup(path)};
    if (!s->files[s->n].path) goto oom;
    s->n++;
    return true;
oom:
    snprintf(err, errlen, "out of memory");
    return false;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A directory's *.csv and *.zip files, by name (Daily_YYYY_MM_DD sorts by date). */
static bool add_dir(tick_set *s, const char *dir, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot read the directory %s: %s", dir, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !(ends_ci(e->d_name, ".csv") || ends_ci(e->d_name, ".zip"))) continue;
        if (!buf_grow((void **)&names, &cap, n + 1, sizeof *names)) {
            ok = false;
            break;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            ok = false;
            break;
        }
        snprintf(names[n], len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        n++;
    }
    closedir(d);
    if (!ok) snprintf(err, errlen, "out of memory");
    if (ok && !n) {
        snprintf(err, errlen, "%s: no tick file (*.csv or *.zip) in the directory", dir);
        ok = false;
    }
    if (ok) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (ok) {
            struct stat st;
            if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) ok = add_file(s, names[i], err, errlen);
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

static int cmp_file(const void *a, const void *b) {
    const ts_file *x = a, *y = b;
    if (x->empty != y->empty) return x->empty ? 1 : -1;
    if (x->first_ts != y->first_ts) return x->first_ts < y->first_ts ? -1 : 1;
    return strcmp(x->path, y->path);
}

tick_set *tick_set_open(const char *const *paths, size_t npaths, const tick_filter *filter, char *err,
                        size_t errlen) {
    char dummy[8];
    if (!err || !errlen) err = dummy, errlen = sizeof dummy;
    err[0] = '\0';
    if (!npaths) {
        snprintf(err, errlen, "no tick file given");
        return NULL;
    }
    tick_set *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (filter) s->filter = *filter;
    for (size_t i = 0; i < npaths; i++) {
        struct stat st;
        bool ok = stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode) ? add_dir(s, paths[i], err, errlen)
                                                                   : add_file(s, paths[i], err, errlen);
        if (!ok) goto bad;
    }
    for (size_t i = 0; i < s->n; i++) {
        tick_reader *r = tick_reader_open(s->files[i].path, &s->filter, err, errlen);
        if (!r) goto bad;
        const char *fmt = tick_reader_format(r);
        if (s->format && strcmp(s->format, fmt)) {
            snprintf(err, errlen, "%s is a %s tick file but %s is a %s one: replay files of one format", s->files[i].path,
                     fmt, s->files[0].path, s->format);
            tick_reader_close(r);
            goto bad;
        }
        if (!s->format) {
            s->format = !strcmp(fmt, "taifex") ? "taifex" : "plain";
            s->products = tick_reader_products(r);
            s->has_tx = tick_reader_has_product(r, "TX");
        }
        tick_row row;
        int rc = tick_reader_next(r, &row);
        if (rc < 0) {
            snprintf(err, errlen, "%s", tick_reader_error(r));
            tick_reader_close(r);
            goto bad;
        }
        s->files[i].empty = rc == 0;
        s->files[i].first_ts = rc == 1 ? row.ts_us : INT64_MAX;
        if (s->n == 1) {
            s->r = r; /* replayed as is */
            s->peeked = row;
            s->have_peeked = rc == 1;
        } else {
            s->bad += tick_reader_bad_rows(r);
            tick_reader_close(r);
        }
    }
    if (s->n > 1) {
        qsort(s->files, s->n, sizeof *s->files, cmp_file);
        s->bad = 0; /* counted again when the files are replayed */
    }
    return s;
bad:
    tick_set_close(s);
    return NULL;
}

int tick_set_next(tick_set *s, tick_row *out) {
    for (;;) {
        if (s->cur >= s->n) return 0;
        if (!s->r) {
            if (s->files[s->cur].empty) {
                s->cur++;
                continue;
            }
            s->r = tick_reader_open(s->files[s->cur].path, &s->filter, s->err, sizeof s->err);
            if (!s->r) return -1; /* the file changed since it was checked */
        }
        int rc;
        if (s->have_peeked) {
            *out = s->peeked;
            s->have_peeked = false;
            rc = 1;
        } else {
            rc = tick_reader_next(s->r, out);
        }
        if (rc < 0) {
            snprintf(s->err, sizeof s->err, "%s", tick_reader_error(s->r));
            return -1;
        }
        if (rc == 0) {
            s->bad += tick_reader_bad_rows(s->r);
            tick_reader_close(s->r);
            s->r = NULL;
            s->cur++;
            continue;
        }
        if (s->started && out->ts_us < s->last_ts && s->cur > 0) {
            /* an overlap with an earlier file: time never goes back in a replay */
            if (s->out_of_order++ == 0)
                fprintf(stderr, "tickset: %s overlaps the previous file; its earlier ticks are skipped\n",
                        s->files[s->cur].path);
            continue;
        }
        s->started = true;
        if (out->ts_us > s->last_ts || s->cur == 0) s->last_ts = out->ts_us;
        return 1;
    }
}

size_t tick_set_file_count(const tick_set *s) { return s ? s->n : 0; }
const char *tick_set_file(const tick_set *s, size_t i) { return s && i < s->n ? s->files[i].path : NULL; }
const char *tick_set_format(const tick_set *s) { return s && s->format ? s->format : "plain"; }
size_t tick_set_bad_rows(const tick_set *s) { return s ? s->bad + (s->r ? tick_reader_bad_rows(s->r) : 0) : 0; }
size_t tick_set_out_of_order(const tick_set *s) { return s ? s->out_of_order : 0; }
const char *tick_set_error(const tick_set *s) { return s && s->err[0] ? s->err : "no error"; }
size_t tick_set_products(const tick_set *s) { return s ? s->products : 0; }
bool tick_set_has_tx(const tick_set *s) { return s && s->has_tx; }

double tick_set_progress(const tick_set *s) {
    if (!s || !s->n) return 0;
    double in_file = s->r ? tick_reader_progress(s->r) : 0;
    double p = ((double)s->cur + in_file) / (double)s->n;
    return p > 1 ? 1 : p;
}

void tick_set_close(tick_set *s) {
    if (!s) return;
    tick_reader_close(s->r);
    for (size_t i = 0; i < s->n; i++) free(s->files[i].path);
    free(s->files);
    free(s);
}
