#include "app/executor/risk_config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/parse.h"

#define ERR_MAX 256

typedef enum { K_INT, K_BOOL, K_SESSION, K_DAYS } key_kind;

typedef struct {
    const char *name;
    key_kind kind;
    size_t offset;
    int64_t lo, hi; /* accepted range for K_INT */
} key_spec;

/* Limits are 0 (the rule is off) or positive: a negative limit is refused rather than taken as
 * "off", so a sign typo never switches a check off silently. The upper bounds keep every sum the
 * rules make (position + pending + order, P&L against the limit) far from overflow. */
#define INT_KEY(f, lo, hi) {#f, K_INT, offsetof(risk_limits, f), lo, hi}
static const key_spec keys[] = {
    INT_KEY(max_lots_per_order, 0, 1000000),
    INT_KEY(max_position_per_product, 0, 1000000),
    INT_KEY(max_open_orders, 0, 1000000),
    INT_KEY(max_orders_per_second, 0, RISK_RATE_CAP),
    INT_KEY(daily_loss_limit, 0, 1000000000000000LL),
    INT_KEY(price_band_points, 0, 100000000),
    INT_KEY(stale_signal_ms, 0, 86400000),
    {"trading_hours", K_BOOL, offsetof(risk_limits, trading_hours), 0, 0},
    {"refuse_duplicates", K_BOOL, offsetof(risk_limits, refuse_duplicates), 0, 0},
    {"day_session", K_SESSION, offsetof(risk_limits, day_session), 0, 0},
    {"night_session", K_SESSION, offsetof(risk_limits, night_session), 0, 0},
    {"trading_days", K_DAYS, offsetof(risk_limits, trading_days), 0, 0},
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(NKEYS == RISK_CONFIG_NKEYS, "RISK_CONFIG_NKEYS counts the keys");

typedef struct {
    risk_limits lim;
    bool seen[NKEYS];
    char msg[ERR_MAX]; /* the first handler error; inih supplies the line */
} parse_ctx;

/* Keeps the first message and returns inih's "error on this line". */
__attribute__((format(printf, 2, 3))) static int fail(parse_ctx *c, const char *fmt, ...) {
    if (!c->msg[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static bool parse_bool(const char *s, bool *out) {
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, true;
        if (strcasecmp(s, no[i]) == 0) return *out = false, true;
    }
    return false;
}

/* "HH:MM" at *s; advances past it. */
static bool parse_hhmm(const char **s, int *minutes) {
    const char *p = *s;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2] != ':' ||
        !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]))
        return false;
    int h = (p[0] - '0') * 10 + (p[1] - '0');
    int m = (p[3] - '0') * 10 + (p[4] - '0');
    if (h > 23 || m > 59) return false;
    *minutes = h * 60 + m;
    *s = p + 5;
    return true;
}

static bool parse_session(const char *s, risk_session *out) {
    if (strcasecmp(s, "off") == 0) {
        *out = (risk_session){0, 0};
        return true;
    }
    risk_session r;
    if (!parse_hhmm(&s, &r.start_min) || *s++ != '-' || !parse_hhmm(&s, &r.end_min) || *s)
        return false;
    /* Equal ends would silently mean "off"; make the user say so. */
    if (r.start_min == r.end_min) return false;
    *out = r;
    return true;
}

static int day_index(const char *s, size_t n) {
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    if (n != 3) return -1;
    for (int i = 0; i < 7; i++)
        if (strncasecmp(s, names[i], 3) == 0) return i;
    return -1;
}

/* "mon-fri", "mon,wed,fri", "sun-thu,sat", or "none". Ranges may wrap (fri-mon). */
static bool parse_days(const char *s, unsigned *out) {
    if (strcasecmp(s, "none") == 0) {
        *out = 0;
        return true;
    }
    unsigned days = 0;
    while (*s) {
        while (*s == ' ') s++;
        size_t n = strcspn(s, "-, ");
        int a = day_index(s, n), b = a;
        s += n;
        if (*s == '-') {
            s++;
            n = strcspn(s, ", ");
            b = day_index(s, n);
            s += n;
        }
        if (a < 0 || b < 0) return false;
        for (int d = a;; d = (d + 1) % 7) {
            days |= 1u << d;
            if (d == b) break;
        }
        while (*s == ' ') s++;
        if (*s == ',') {
            s++;
            if (!*s) return false;
        } else if (*s) {
            return false;
        }
    }
    if (!days) return false;
    *out = days;
    return true;
}

static int on_entry(void *user, const char *section, const char *name, const char *value) {
    parse_ctx *c = user;
    if (!section[0]) return fail(c, "key '%s' is outside the [risk] section", name);
    /* a misspelt section ([rsk]) would otherwise leave every limit at its default unnoticed */
    if (strcasecmp(section, "risk") != 0)
        return fail(c, "unknown section [%s]: a risk file has one [risk] section", section);

    size_t k = 0;
    while (k < NKEYS && strcmp(keys[k].name, name) != 0) k++;
    if (k == NKEYS) return fail(c, "[risk] unknown key '%s'", name);
    if (c->seen[k]) return fail(c, "[risk] key '%s' given twice", name);
    c->seen[k] = true;

    char *field = (char *)&c->lim + keys[k].offset;
    switch (keys[k].kind) {
    case K_INT: {
        int64_t v;
        if (!parse_int64(value, &v)) return fail(c, "[risk] %s: '%s' is not an integer", name, value);
        if (v < keys[k].lo || v > keys[k].hi)
            return fail(c, "[risk] %s: %s is out of range %lld..%lld (0 turns the rule off)", name, value,
                        (long long)keys[k].lo, (long long)keys[k].hi);
        memcpy(field, &v, sizeof v);
        return 1;
    }
    case K_BOOL: {
        bool v;
        if (!parse_bool(value, &v)) return fail(c, "[risk] %s: '%s' is not on or off", name, value);
        memcpy(field, &v, sizeof v);
        return 1;
    }
    case K_SESSION: {
        risk_session v;
        if (!parse_session(value, &v))
            return fail(c, "[risk] %s: '%s' is not HH:MM-HH:MM or off", name, value);
        memcpy(field, &v, sizeof v);
        return 1;
    }
    case K_DAYS: {
        unsigned v;
        if (!parse_days(value, &v))
            return fail(c, "[risk] %s: '%s' is not a list of days like mon-fri", name, value);
        memcpy(field, &v, sizeof v);
        return 1;
    }
    }
    return fail(c, "[risk] %s: unsupported key", name);
}

static void ctx_init(parse_ctx *c, const risk_limits *base) {
    memset(c, 0, sizeof *c);
    c->lim = base ? *base : risk_limits_default();
}

/* Turns inih's result into ours; where names the source for messages. */
static bool finish(parse_ctx *c, int rc, const char *where, risk_limits *out, bool *given, char *err,
                   size_t errlen) {
    if (rc == 0) {
        *out = c->lim;
        if (given) memcpy(given, c->seen, sizeof c->seen);
        return true;
    }
    if (!err || !errlen) return false;
    if (rc > 0)
        snprintf(err, errlen, "%s line %d: %s", where, rc, c->msg[0] ? c->msg : "syntax error");
    else
        snprintf(err, errlen, "%s: out of memory while parsing", where);
    return false;
}

bool risk_config_parse_over(const char *text, const char *where, risk_limits *inout, bool *given, char *err,
                            size_t errlen) {
    parse_ctx c;
    ctx_init(&c, inout);
    int rc = ini_parse_string(text ? text : "", on_entry, &c);
    return finish(&c, rc, where, inout, given, err, errlen);
}

bool risk_config_parse(const char *text, risk_limits *out, char *err, size_t errlen) {
    risk_limits lim = risk_limits_default();
    if (!risk_config_parse_over(text, "risk config", &lim, NULL, err, errlen)) return false;
    *out = lim;
    return true;
}

bool risk_config_load(const char *path, risk_limits *out, char *err, size_t errlen) {
    risk_limits lim = risk_limits_default();
    if (!risk_config_load_over(path, &lim, NULL, err, errlen)) return false;
    *out = lim;
    return true;
}

bool risk_config_load_over(const char *path, risk_limits *inout, bool *given, char *err, size_t errlen) {
    if (!path) {
        if (given) memset(given, 0, RISK_CONFIG_NKEYS * sizeof *given);
        return true;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (err && errlen) snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        if (err && errlen) snprintf(err, errlen, "%s: not a file (a risk file is an INI file with a [risk] section)", path);
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        if (err && errlen) snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    parse_ctx c;
    ctx_init(&c, inout);
    int rc = ini_parse_file(f, on_entry, &c);
    fclose(f);
    return finish(&c, rc, path, inout, given, err, errlen);
}

/* ---- one key ----------------------------------------------------------------------------- */

int risk_config_key_index(const char *name) {
    for (size_t k = 0; k < NKEYS; k++)
        if (!strcmp(keys[k].name, name)) return (int)k;
    return -1;
}

const char *risk_config_key_name(size_t i) { return i < NKEYS ? keys[i].name : NULL; }

static void format_session(const risk_session *s, char *out, size_t cap) {
    if (s->start_min == s->end_min) snprintf(out, cap, "off");
    else snprintf(out, cap, "%02d:%02d-%02d:%02d", s->start_min / 60, s->start_min % 60, s->end_min / 60,
                  s->end_min % 60);
}

static void format_days(unsigned days, char *out, size_t cap) {
    static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < 7; i++)
        if (days & (1u << i)) {
            int w = snprintf(out + used, cap - used, "%s%s", used ? "," : "", names[i]);
            if (w > 0 && (size_t)w < cap - used) used += (size_t)w;
        }
    if (!used) snprintf(out, cap, "none");
}

void risk_config_format(const risk_limits *lim, size_t i, char *out, size_t cap) {
    out[0] = 0;
    if (i >= NKEYS) return;
    const char *field = (const char *)lim + keys[i].offset;
    switch (keys[i].kind) {
    case K_INT: {
        int64_t v;
        memcpy(&v, field, sizeof v);
        snprintf(out, cap, "%lld", (long long)v);
        break;
    }
    case K_BOOL: {
        bool v;
        memcpy(&v, field, sizeof v);
        snprintf(out, cap, "%s", v ? "on" : "off");
        break;
    }
    case K_SESSION: {
        risk_session v;
        memcpy(&v, field, sizeof v);
        format_session(&v, out, cap);
        break;
    }
    case K_DAYS: {
        unsigned v;
        memcpy(&v, field, sizeof v);
        format_days(v, out, cap);
        break;
    }
    }
}

bool risk_config_check(const char *key, const char *value, risk_limits *inout, char *err, size_t errlen) {
    if (risk_config_key_index(key) < 0) {
        size_t used = (size_t)snprintf(err, errlen, "unknown key '%.64s'; the keys are:", key);
        for (size_t k = 0; k < NKEYS && used < errlen; k++)
            used += (size_t)snprintf(err + used, errlen - used, "%s %s", k ? "," : "", keys[k].name);
        return false;
    }
    /* one line of INI: a value that would end the line or start a comment is not a value */
    if (!*value || strpbrk(value, "\n\r;#=[]")) {
        snprintf(err, errlen, "%s: '%.64s' is not a value", key, value);
        return false;
    }
    char text[512], why[ERR_MAX];
    snprintf(text, sizeof text, "[risk]\n%s = %s\n", key, value);
    risk_limits lim = *inout;
    if (!risk_config_parse_over(text, "value", &lim, NULL, why, sizeof why)) {
        /* "value line 2: [risk] key: why" -> "key: why" */
        const char *p = strstr(why, "[risk] ");
        snprintf(err, errlen, "%s", p ? p + 7 : why);
        return false;
    }
    *inout = lim;
    return true;
}
