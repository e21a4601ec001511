/* Tick file reader: buffered line reading, format detection, the plain UTF-8 CSV, and a zip
 * archive's CSV member (TAIFEX publishes its daily files as Daily_YYYY_MM_DD.zip) streamed
 * through libzip.
 * TAIFEX specifics are in tickfile_taifex.c.
 *
 * Plain CSV: header `datetime,symbol,price,volume` (columns found by name, extra columns
 * ignored, optional UTF-8 BOM); datetime `YYYY-MM-DD HH:MM:SS[.ffffff]` (a `T` separator is
 * accepted too) read as UTC. The filter's product, when set, keeps only rows whose symbol is
 * exactly the product (or product + expiry when an expiry is set too).
 *
 * Speed: one 1 MiB read buffer per reader, lines and fields are spans into it, numbers are
 * parsed in place; nothing is allocated per row. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ticks/tickfile_internal.h"

/* ---- spans and numbers ------------------------------------------------------------------ */

tf_span tf_trim(tf_span s) {
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '"')) s.p++, s.n--;
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '"')) s.n--;
    return s;
}

bool tf_span_eq(tf_span s, const char *z) {
    size_t n = strlen(z);
    return s.n == n && memcmp(s.p, z, n) == 0;
}

size_t tf_split(tf_span line, tf_span *fields, size_t max) {
    size_t nf = 0;
    const char *p = line.p, *end = line.p + line.n;
    for (;;) {
        const char *c = (nf + 1 < max) ? memchr(p, ',', (size_t)(end - p)) : NULL;
        fields[nf].p = p;
        fields[nf].n = (size_t)((c ? c : end) - p);
        nf++;
        if (!c) return nf;
        p = c + 1;
    }
}

bool tf_parse_i64(tf_span s, int64_t *out) {
    s = tf_trim(s);
    if (!s.n) return false;
    size_t i = 0;
    bool neg = false;
    if (s.p[0] == '-' || s.p[0] == '+') {
        neg = s.p[0] == '-';
        i = 1;
        if (s.n == 1) return false;
    }
    uint64_t v = 0;
    for (; i < s.n; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9) return false;
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX) return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                   1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

bool tf_parse_price(tf_span s, double *out) {
    s = tf_trim(s);
    if (!s.n) return false;
    /* Fast path: digits[.digits], at most 15 significant digits: exact mantissa / 10^k is
     * correctly rounded. Anything else goes through strtod. */
    uint64_t mant = 0;
    size_t digits = 0, frac = 0;
    bool dot = false, fast = true;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c >= '0' && c <= '9') {
            mant = mant * 10 + (uint64_t)(c - '0');
            digits++;
            if (dot) frac++;
            if (digits > 15) {
                fast = false;
                break;
            }
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            fast = false;
            break;
        }
    }
    double v;
    if (fast) {
        if (!digits) return false;
        v = (double)mant / pow10_tab[frac];
    } else {
        char tmp[64];
        if (s.n >= sizeof tmp) return false;
        memcpy(tmp, s.p, s.n);
        tmp[s.n] = '\0';
        char *end;
        errno = 0;
        v = strtod(tmp, &end);
        if (errno || *end || end == tmp) return false;
    }
    if (!isfinite(v) || v <= 0) return false;
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
int64_t tf_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool tf_valid_date(int64_t y, unsigned m, unsigned d) {
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
    unsigned lim = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) lim = 29;
    return d <= lim;
}

static bool digits_at(const char *p, size_t n, unsigned *out) {
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d > 9) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* `YYYY-MM-DD HH:MM:SS[.f{1,9}]`, UTC, to POSIX microseconds. */
static bool parse_datetime(tf_span s, int64_t *ts_us) {
    s = tf_trim(s);
    if (s.n < 19) return false;
    const char *p = s.p;
    unsigned y, mo, d, h, mi, se;
    if (!digits_at(p, 4, &y) || p[4] != '-' || !digits_at(p + 5, 2, &mo) || p[7] != '-' ||
        !digits_at(p + 8, 2, &d) || (p[10] != ' ' && p[10] != 'T') || !digits_at(p + 11, 2, &h) ||
        p[13] != ':' || !digits_at(p + 14, 2, &mi) || p[16] != ':' || !digits_at(p + 17, 2, &se))
        return false;
    if (!tf_valid_date(y, mo, d) || h > 23 || mi > 59 || se > 59) return false;
    int64_t us = 0;
    size_t i = 19;
    if (i < s.n) {
        if (p[i] != '.' || i + 1 >= s.n || s.n - i - 1 > 9) return false;
        int64_t scale = 100000;
        for (i++; i < s.n; i++) {
            unsigned dg = (unsigned)(p[i] - '0');
            if (dg > 9) return false;
            us += (int64_t)dg * scale; /* digits past the microsecond add 0 */
            scale /= 10;
        }
    }
    int64_t days = tf_days_from_civil(y, mo, d);
    *ts_us = ((days * 86400) + h * 3600 + mi * 60 + se) * 1000000 + us;
    return true;
}

/* ---- reading lines ---------------------------------------------------------------------- */

void tf_bad_row(tick_reader *r, const char *why) {
    if (r->quiet) return;
    r->bad++;
    if (r->reported < TF_REPORT_MAX) {
        fprintf(stderr, "tickfile: %s:%zu: malformed row skipped: %s\n", r->path, r->line_no, why);
        if (++r->reported == TF_REPORT_MAX)
            fprintf(stderr, "tickfile: %s: further malformed rows are only counted\n", r->path);
    }
}

static tf_span strip_eol(const char *p, size_t n) {
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\x1a')) n--;
    return (tf_span){p, n};
}

int tf_next_line(tick_reader *r, tf_span *line) {
    for (;;) {
        size_t avail = r->len - r->pos;
        char *start = r->buf + r->pos;
        char *nl = avail ? memchr(start, '\n', avail) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start);
            r->pos += n + 1;
            r->line_no++;
            if (r->skipping) {
                r->skipping = false;
                tf_bad_row(r, "line longer than 1 MiB");
                continue;
            }
            *line = strip_eol(start, n);
            return 1;
        }
        if (r->eof) {
            if (avail == 0 && !r->skipping) return 0;
            r->pos = r->len;
            r->line_no++;
            if (r->skipping) {
                r->skipping = false;
                tf_bad_row(r, "line longer than 1 MiB");
                continue;
            }
            *line = strip_eol(start, avail);
            return 1;
        }
        if (r->skipping) {
            r->pos = r->len = 0;
        } else if (r->pos > 0) {
            memmove(r->buf, start, avail);
            r->len = avail;
            r->pos = 0;
        } else if (r->len == TF_BUF_SIZE) {
            r->skipping = true; /* no newline in a full buffer */
            r->pos = r->len = 0;
        }
        ssize_t got;
        if (r->zf) {
            zip_int64_t z = zip_fread(r->zf, r->buf + r->len, TF_BUF_SIZE - r->len);
            if (z < 0) {
                snprintf(r->err, sizeof r->err, "%s: corrupt zip member: %s", r->path,
                         zip_error_strerror(zip_file_get_error(r->zf)));
                return -1;
            }
            got = (ssize_t)z;
        } else {
            got = read(r->fd, r->buf + r->len, TF_BUF_SIZE - r->len);
            if (got < 0) {
                if (errno == EINTR) continue;
                snprintf(r->err, sizeof r->err, "%s: read error: %s", r->path, strerror(errno));
                return -1;
            }
        }
        if (got == 0) {
            r->eof = true;
        } else {
            r->len += (size_t)got;
            r->bytes_read += (uint64_t)got;
        }
    }
}

bool tf_rewind(tick_reader *r) {
    if (r->zip) {
        /* a deflated member cannot seek: open it again */
        zip_fclose(r->zf);
        r->zf = zip_fopen_index(r->zip, r->zip_index, 0);
        if (!r->zf) {
            snprintf(r->err, sizeof r->err, "%s: cannot reopen the zip member: %s", r->path,
                     zip_error_strerror(zip_get_error(r->zip)));
            return false;
        }
    } else if (lseek(r->fd, 0, SEEK_SET) != 0) {
        int fd = open(r->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(r->err, sizeof r->err, "%s: cannot reopen: %s", r->path, strerror(errno));
            return false;
        }
        close(r->fd);
        r->fd = fd;
    }
    r->pos = r->len = 0;
    r->eof = r->skipping = false;
    r->line_no = 0;
    r->bytes_read = 0;
    return true;
}

/* ---- detection -------------------------------------------------------------------------- */

static bool has_ci(tf_span s, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= s.n; i++) {
        size_t j = 0;
        while (j < n) {
            char c = s.p[i + j];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != needle[j]) break;
            j++;
        }
        if (j == n) return true;
    }
    return false;
}

static bool looks_html(tf_span s) {
    s = tf_trim(s);
    if (s.n && s.p[0] == '<') return true;
    return has_ci(s, "<html") || has_ci(s, "<!doctype") || has_ci(s, "<head") || has_ci(s, "<body");
}

static bool eq_ci(tf_span s, const char *z) {
    size_t n = strlen(z);
    if (s.n != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s.p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != z[i]) return false;
    }
    return true;
}

static bool plain_header(tick_reader *r, tf_span header) {
    tf_span f[TF_MAX_FIELDS];
    size_t nf = tf_split(header, f, TF_MAX_FIELDS);
    r->col_dt = r->col_sym = r->col_price = r->col_vol = -1;
    for (size_t i = 0; i < nf; i++) {
        tf_span t = tf_trim(f[i]);
        if (eq_ci(t, "datetime")) r->col_dt = (int)i;
        else if (eq_ci(t, "symbol")) r->col_sym = (int)i;
        else if (eq_ci(t, "price")) r->col_price = (int)i;
        else if (eq_ci(t, "volume")) r->col_vol = (int)i;
    }
    if (r->col_dt < 0 || r->col_sym < 0 || r->col_price < 0 || r->col_vol < 0) return false;
    int mx = r->col_dt;
    if (r->col_sym > mx) mx = r->col_sym;
    if (r->col_price > mx) mx = r->col_price;
    if (r->col_vol > mx) mx = r->col_vol;
    r->min_fields = mx + 1;
    r->format = TF_PLAIN;
    return true;
}

static int plain_row(tick_reader *r, tf_span *f, tick_row *out) {
    tf_span sym = tf_trim(f[r->col_sym]);
    if (!sym.n || sym.n >= TICK_SYMBOL_MAX) {
        tf_bad_row(r, sym.n ? "symbol too long" : "empty symbol");
        return 0;
    }
    if (r->has_product && !tf_span_eq(sym, r->plain_symbol)) return 0;
    if (!parse_datetime(f[r->col_dt], &out->ts_us)) {
        tf_bad_row(r, "bad datetime (want YYYY-MM-DD HH:MM:SS[.ffffff])");
        return 0;
    }
    if (!tf_parse_price(f[r->col_price], &out->price)) {
        tf_bad_row(r, "bad price (want a number > 0)");
        return 0;
    }
    if (!tf_parse_i64(f[r->col_vol], &out->volume) || out->volume < 0) {
        tf_bad_row(r, "bad volume (want an integer >= 0)");
        return 0;
    }
    memcpy(out->symbol, sym.p, sym.n);
    out->symbol[sym.n] = '\0';
    return 1;
}

/* ---- zip archives ----------------------------------------------------------------------- */

/* A zip starts with a local file header (PK\3\4) or, when empty, the end record (PK\5\6).
 * Anything else (an HTML error page saved as .zip, a CSV) is read as a plain file and
 * recognised, or refused, by its header line. */
static bool is_zip(int fd) {
    unsigned char m[4];
    ssize_t n = pread(fd, m, sizeof m, 0);
    return n == 4 && m[0] == 'P' && m[1] == 'K' && ((m[2] == 3 && m[3] == 4) || (m[2] == 5 && m[3] == 6));
}

static bool ends_with_ci(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    if (n < k) return false;
    for (size_t i = 0; i < k; i++) {
        char c = s[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != suffix[i]) return false;
    }
    return true;
}

/* Opens the archive's (first) .csv member for streaming; the fd is closed, the zip reads the
 * file itself. */
static bool open_zip_member(tick_reader *r, char *err, size_t errlen) {
    int zerr = 0;
    r->zip = zip_open(r->path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!r->zip) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        snprintf(err, errlen, "%s: not a readable zip archive (%s)", r->path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return false;
    }
    zip_int64_t n = zip_get_num_entries(r->zip, 0);
    bool found = false;
    for (zip_int64_t i = 0; i < n && !found; i++) {
        const char *name = zip_get_name(r->zip, (zip_uint64_t)i, 0);
        if (name && ends_with_ci(name, ".csv")) {
            r->zip_index = (zip_uint64_t)i;
            found = true;
        }
    }
    if (!found) {
        snprintf(err, errlen, "%s: the zip archive holds no .csv file (%lld entr%s)", r->path, (long long)n,
                 n == 1 ? "y" : "ies");
        return false;
    }
    zip_stat_t zs;
    zip_stat_init(&zs);
    r->file_size = zip_stat_index(r->zip, r->zip_index, 0, &zs) == 0 && (zs.valid & ZIP_STAT_SIZE) ? zs.size : 0;
    r->zf = zip_fopen_index(r->zip, r->zip_index, 0);
    if (!r->zf) {
        snprintf(err, errlen, "%s: cannot read %s in the zip archive (%s)", r->path,
                 zip_get_name(r->zip, r->zip_index, 0), zip_error_strerror(zip_get_error(r->zip)));
        return false;
    }
    close(r->fd);
    r->fd = -1;
    return true;
}

/* ---- public API ------------------------------------------------------------------------- */

static bool copy_code(char *dst, const char *src, const char *what, char *err, size_t errlen) {
    tf_span s = tf_trim((tf_span){src, strlen(src)});
    if (!s.n || s.n >= TF_CODE_MAX) {
        snprintf(err, errlen, "%s '%s' must be 1 to %d characters", what, src, TF_CODE_MAX - 1);
        return false;
    }
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return true;
}

static void fail(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

tick_reader *tick_reader_open(const char *path, const tick_filter *filter, char *err, size_t errlen) {
    char dummy[8];
    if (!err || !errlen) err = dummy, errlen = sizeof dummy;
    err[0] = '\0';
    if (!path || !*path) {
        fail(err, errlen, "no tick file given");
        return NULL;
    }
    tick_reader *r = calloc(1, sizeof *r);
    if (!r) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    r->fd = -1;
    r->last_evening_day = INT64_MIN;
    r->path = strdup(path);
    r->buf = malloc(TF_BUF_SIZE);
    if (!r->path || !r->buf) {
        fail(err, errlen, "out of memory");
        goto bad;
    }
    if (filter && filter->product && !copy_code(r->product, filter->product, "product", err, errlen)) goto bad;
    if (filter && filter->expiry && !copy_code(r->expiry, filter->expiry, "expiry", err, errlen)) goto bad;
    r->has_product = filter && filter->product;
    r->has_expiry = filter && filter->expiry;
    snprintf(r->plain_symbol, sizeof r->plain_symbol, "%s%s", r->product, r->has_expiry ? r->expiry : "");

    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto bad;
    }
    struct stat st;
    if (fstat(r->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s is a directory, not a tick file", path);
            goto bad;
        }
        if (S_ISREG(st.st_mode) && st.st_size > 0) r->file_size = (uint64_t)st.st_size;
    }
    if (is_zip(r->fd) && !open_zip_member(r, err, errlen)) goto bad;

    tf_span header;
    int rc;
    while ((rc = tf_next_line(r, &header)) == 1 && tf_trim(header).n == 0) {
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s", r->err);
        goto bad;
    }
    if (rc == 0) {
        snprintf(err, errlen, "%s: empty file (no header line)", path);
        goto bad;
    }
    if (header.n >= 3 && !memcmp(header.p, "\xef\xbb\xbf", 3)) header.p += 3, header.n -= 3;
    if (looks_html(header)) {
        snprintf(err, errlen,
                 "%s: is an HTML page, not a tick CSV (TAIFEX serves one for days without trading, "
                 "e.g. holidays)",
                 path);
        goto bad;
    }
    if (!plain_header(r, header) && !tf_taifex_header(r, header)) {
        snprintf(err, errlen,
                 "%s: unrecognised header; expected `datetime,symbol,price,volume` or TAIFEX's daily "
                 "futures tick CSV",
                 path);
        goto bad;
    }
    if (r->format == TF_TAIFEX && !tf_taifex_prepare(r)) {
        snprintf(err, errlen, "%s", r->err);
        goto bad;
    }
    return r;
bad:
    tick_reader_close(r);
    return NULL;
}

int tick_reader_next(tick_reader *r, tick_row *out) {
    tf_span line, f[TF_MAX_FIELDS];
    for (;;) {
        int rc = tf_next_line(r, &line);
        if (rc < 0) return -1;
        if (rc == 0) {
            if (!r->summary_done && r->bad > TF_REPORT_MAX)
                fprintf(stderr, "tickfile: %s: %zu malformed rows skipped in all\n", r->path, r->bad);
            r->summary_done = true;
            return 0;
        }
        line = tf_trim(line);
        if (!line.n) continue; /* blank lines, a lone \x1a */
        size_t nf = tf_split(line, f, TF_MAX_FIELDS);
        if ((int)nf < r->min_fields) {
            char why[64];
            snprintf(why, sizeof why, "%zu field%s, want at least %d", nf, nf == 1 ? "" : "s", r->min_fields);
            tf_bad_row(r, why);
            continue;
        }
        rc = r->format == TF_PLAIN ? plain_row(r, f, out) : tf_taifex_row(r, f, nf, out);
        if (rc) return 1;
    }
}

double tick_reader_progress(const tick_reader *r) {
    if (!r || !r->file_size) return 0;
    double done = (double)(r->bytes_read - (r->len - r->pos)) / (double)r->file_size;
    return done < 0 ? 0 : done > 1 ? 1 : done;
}

size_t tick_reader_products(const tick_reader *r) { return r ? r->fronts_used : 0; }

const char *tick_reader_format(const tick_reader *r) { return r && r->format == TF_TAIFEX ? "taifex" : "plain"; }

size_t tick_reader_bad_rows(const tick_reader *r) { return r ? r->bad : 0; }

const char *tick_reader_error(const tick_reader *r) { return r && r->err[0] ? r->err : "no error"; }

void tick_reader_close(tick_reader *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    if (r->zf) zip_fclose(r->zf);
    if (r->zip) zip_discard(r->zip); /* read only: nothing to write back */
    free(r->fronts);
    free(r->buf);
    free(r->path);
    free(r);
}
