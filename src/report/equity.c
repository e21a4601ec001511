#include "report/equity.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void equity_civil(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned dd = doy - (153 * mp + 2) / 5 + 1;
    unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

bool equity_parse_date(const char *s, size_t n, int64_t *day) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 10 || s[4] != '-' || s[7] != '-') return false;
    int v[3] = {0, 0, 0};
    const int at[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < len[k]; i++) {
            char c = s[at[k] + i];
            if (c < '0' || c > '9') return false;
            v[k] = v[k] * 10 + (c - '0');
        }
    int y = v[0], m = v[1], d = v[2];
    if (y < 1900 || m < 1 || m > 12 || d < 1) return false;
    int lim = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    if (d > lim) return false;
    *day = days_from_civil(y, (unsigned)m, (unsigned)d);
    return true;
}

void equity_format_date(int64_t day, char out[11]) {
    int y, m, d;
    equity_civil(day, &y, &m, &d);
    unsigned uy = (unsigned)(y < 0 ? 0 : y) % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
    out[0] = (char)('0' + uy / 1000), out[1] = (char)('0' + uy / 100 % 10);
    out[2] = (char)('0' + uy / 10 % 10), out[3] = (char)('0' + uy % 10), out[4] = '-';
    out[5] = (char)('0' + um / 10), out[6] = (char)('0' + um % 10), out[7] = '-';
    out[8] = (char)('0' + ud / 10), out[9] = (char)('0' + ud % 10), out[10] = '\0';
}

bool equity_append(equity_series *s, int64_t day, double equity) {
    if (s->n && day < s->pts[s->n - 1].day) return false;
    if (s->n && day == s->pts[s->n - 1].day) {
        s->pts[s->n - 1].equity = equity;
        return true;
    }
    if (!buf_grow((void **)&s->pts, &s->cap, s->n + 1, sizeof *s->pts)) return false;
    s->pts[s->n++] = (equity_point){day, equity};
    return true;
}

void equity_free(equity_series *s) {
    free(s->pts);
    s->pts = NULL;
    s->n = s->cap = 0;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '"') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == '"' ||
                 s[n - 1] == '\x1a'))
        s[--n] = '\0';
    return s;
}

bool equity_read_csv(const char *path, equity_series *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    char line[512];
    size_t lineno = 0;
    bool header = false, ok = true;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%zu: line too long", path, lineno);
            ok = false;
            break;
        }
        char *s = line;
        if (lineno == 1 && !memcmp(s, "\xef\xbb\xbf", 3)) s += 3;
        s = trim(s);
        if (!*s) continue;
        char *comma = strchr(s, ',');
        if (!header) {
            header = true;
            if (comma) {
                *comma = '\0';
                if (!strcmp(trim(s), "date") && !strcmp(trim(comma + 1), "equity")) continue;
            }
            snprintf(err, errlen, "%s:%zu: expected the header `date,equity`", path, lineno);
            ok = false;
            break;
        }
        if (!comma) {
            snprintf(err, errlen, "%s:%zu: expected `YYYY-MM-DD,<equity>`", path, lineno);
            ok = false;
            break;
        }
        *comma = '\0';
        char *ds = trim(s), *es = trim(comma + 1), *end;
        int64_t day;
        if (!equity_parse_date(ds, strlen(ds), &day)) {
            snprintf(err, errlen, "%s:%zu: bad date '%s' (want YYYY-MM-DD)", path, lineno, ds);
            ok = false;
            break;
        }
        errno = 0;
        double v = strtod(es, &end);
        if (!*es || *end || errno || !isfinite(v)) {
            snprintf(err, errlen, "%s:%zu: bad equity '%s'", path, lineno, es);
            ok = false;
            break;
        }
        if (out->n && day <= out->pts[out->n - 1].day) {
            snprintf(err, errlen, "%s:%zu: date %s is not after the previous row's", path, lineno, ds);
            ok = false;
            break;
        }
        if (!equity_append(out, day, v)) {
            snprintf(err, errlen, "out of memory");
            ok = false;
            break;
        }
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        ok = false;
    }
    fclose(f);
    if (!ok) equity_free(out);
    return ok;
}

bool equity_write_csv(const char *path, const equity_series *s, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    fputs("date,equity", f);
    for (size_t i = 0; i < s->n; i++) {
        char d[11];
        equity_format_date(s->pts[i].day, d);
        fprintf(f, "\n%s,%lld", d, (long long)llround(s->pts[i].equity));
    }
    bool ok = !ferror(f);
    if (fclose(f) != 0) ok = false;
    if (!ok) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return ok;
}

void equity_format_money(double v, char *out, size_t cap) {
    long long x = llround(v);
    bool neg = x < 0;
    unsigned long long u = neg ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    char digits[32], grouped[48];
    int n = snprintf(digits, sizeof digits, "%llu", u);
    int g = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(out, cap, "%sNT$%s", neg ? "-" : "", grouped);
}
