#include "core/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

static const char *skip_space(const char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    return s;
}

static bool only_space_left(const char *s) { return *skip_space(s) == '\0'; }

bool parse_int64(const char *s, int64_t *out) {
    if (!s) return false;
    s = skip_space(s);
    if (*s == '\0') return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || !only_space_left(end)) return false;
    *out = (int64_t)v;
    return true;
}

bool parse_int_range(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    int64_t v;
    if (!parse_int64(s, &v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool parse_double(const char *s, double *out) {
    if (!s) return false;
    s = skip_space(s);
    if (*s == '\0') return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !only_space_left(end) || !isfinite(v)) return false;
    *out = v;
    return true;
}

bool symbol_valid(const char *s) {
    size_t n = 0;
    for (; s && s[n]; n++)
        if (!isalnum((unsigned char)s[n])) return false;
    return n >= 1 && n <= 31;
}
