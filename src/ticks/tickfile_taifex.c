/* TAIFEX's daily futures tick CSV ("期貨每筆成交資料", Daily_YYYY_MM_DD.csv) as published:
 *
 *   成交日期,商品代號,到期月份(週別),成交時間,成交價格,成交數量(B+S),近月價格,遠月價格,開盤集合競價
 *   20250616,TX     ,202507     ,150033,22146,10,-,-,
 *
 * - The header is CP950 (Big5); it is recognised by converting it to UTF-8 with iconv (a
 *   header already in UTF-8 is accepted too). Columns are found by name.
 * - Rows end in CRLF; product codes and expiries are space-padded; a file may end with blank
 *   lines or a stray \x1a. Calendar spreads (expiry `202507/202508`) are skipped silently.
 * - Expiries are monthly (`202507`) or weekly (`202506W4`). With no expiry asked for, the
 *   front month is used: per product, the nearest regular monthly expiry present in the file
 *   (weekly contracts are only read when asked for by name).
 * - Symbol produced: product code + expiry as written in the file, trimmed: "TX202507",
 *   "MTX202506W4".
 * - Times are Asia/Taipei (UTC+8, no DST). The night session (15:00 - 05:00) crosses midnight.
 *   TAIFEX dates the rows after midnight with the calendar date; files that instead carry the
 *   session's start date are handled too: a row before 08:45 whose date is the same as the date
 *   of the last evening row (at or after 15:00) belongs to the next calendar day.
 * - volume is in contracts: the file's 成交數量(B+S) counts each contract on the buy and on
 *   the sell side, so it is halved (rounded up, so a trade never reads 0).
 * - Rows of other products/expiries are skipped without being validated beyond their field
 *   count; a selected row with a bad date, time, price or volume is reported and counted. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticks/tickfile_internal.h"

#define TAIPEI_OFFSET_S (8 * 3600)
#define DAY_SESSION_OPEN_S (8 * 3600 + 45 * 60)
#define NIGHT_SESSION_OPEN_S (15 * 3600)

static bool valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        if (c < 0x80) k = 0;
        else if ((c & 0xe0) == 0xc0 && c >= 0xc2) k = 1;
        else if ((c & 0xf0) == 0xe0) k = 2;
        else if ((c & 0xf8) == 0xf0 && c <= 0xf4) k = 3;
        else return false;
        for (size_t j = 1; j <= k; j++)
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return false;
        i += k + 1;
    }
    return true;
}

/* CP950 to UTF-8; false if it does not convert. */
static bool cp950_to_utf8(tf_span in, char *out, size_t cap, size_t *outlen) {
    iconv_t cd = iconv_open("UTF-8", "CP950");
    if (cd == (iconv_t)-1) return false;
    char *ip, *op = out;
    memcpy(&ip, &in.p, sizeof ip); /* iconv takes char ** but does not write the input */
    size_t il = in.n, ol = cap;
    size_t rc = iconv(cd, &ip, &il, &op, &ol);
    iconv_close(cd);
    if (rc == (size_t)-1 || il) return false;
    *outlen = cap - ol;
    return true;
}

static bool starts_with(tf_span s, const char *z) {
    size_t n = strlen(z);
    return s.n >= n && memcmp(s.p, z, n) == 0;
}

bool tf_taifex_header(tick_reader *r, tf_span header) {
    char conv[2048];
    tf_span h = header;
    if (!valid_utf8((const unsigned char *)header.p, header.n)) {
        size_t n;
        if (header.n > sizeof conv / 2 || !cp950_to_utf8(header, conv, sizeof conv, &n)) return false;
        h = (tf_span){conv, n};
    }
    tf_span f[TF_MAX_FIELDS];
    size_t nf = tf_split(h, f, TF_MAX_FIELDS);
    r->col_date = r->col_prod = r->col_exp = r->col_time = r->col_price = r->col_vol = -1;
    for (size_t i = 0; i < nf; i++) {
        tf_span t = tf_trim(f[i]);
        if (starts_with(t, "成交日期")) r->col_date = (int)i;
        else if (starts_with(t, "商品代號")) r->col_prod = (int)i;
        else if (starts_with(t, "到期月份")) r->col_exp = (int)i;
        else if (starts_with(t, "成交時間")) r->col_time = (int)i;
        else if (starts_with(t, "成交價格")) r->col_price = (int)i;
        else if (starts_with(t, "成交數量")) r->col_vol = (int)i;
    }
    int cols[] = {r->col_date, r->col_prod, r->col_exp, r->col_time, r->col_price, r->col_vol};
    int mx = -1;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        if (cols[i] < 0) return false;
        if (cols[i] > mx) mx = cols[i];
    }
    r->min_fields = mx + 1;
    r->format = TF_TAIFEX;
    return true;
}

/* ---- front months ----------------------------------------------------------------------- */

static uint32_t hash_code(tf_span s) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s.n; i++) h = (h ^ (unsigned char)s.p[i]) * 16777619u;
    return h;
}

static tf_front *front_slot(tick_reader *r, tf_span prod, bool insert) {
    if (insert && (r->fronts_used + 1) * 2 > r->fronts_cap) {
        size_t ncap = r->fronts_cap ? r->fronts_cap * 2 : 64;
        tf_front *nt = calloc(ncap, sizeof *nt);
        if (!nt) return NULL;
        for (size_t i = 0; i < r->fronts_cap; i++) {
            tf_front *o = &r->fronts[i];
            if (!o->product[0]) continue;
            uint32_t h = hash_code((tf_span){o->product, strlen(o->product)});
            size_t j = h & (ncap - 1);
            while (nt[j].product[0]) j = (j + 1) & (ncap - 1);
            nt[j] = *o;
        }
        free(r->fronts);
        r->fronts = nt;
        r->fronts_cap = ncap;
    }
    if (!r->fronts_cap) return NULL;
    size_t mask = r->fronts_cap - 1, j = hash_code(prod) & mask;
    for (;;) {
        tf_front *e = &r->fronts[j];
        if (!e->product[0]) {
            if (!insert) return NULL;
            memcpy(e->product, prod.p, prod.n);
            e->product[prod.n] = '\0';
            r->fronts_used++;
            return e;
        }
        if (tf_span_eq(prod, e->product)) return e;
        j = (j + 1) & mask;
    }
}

bool tick_reader_has_product(const tick_reader *r, const char *code) {
    if (!r || !code || !r->fronts_cap) return false;
    tf_span prod = {code, strlen(code)};
    size_t mask = r->fronts_cap - 1, j = hash_code(prod) & mask;
    for (; r->fronts[j].product[0]; j = (j + 1) & mask)
        if (tf_span_eq(prod, r->fronts[j].product)) return true;
    return false;
}

/* YYYYMM of a regular monthly expiry, else 0. */
static int32_t monthly(tf_span e) {
    if (e.n != 6) return 0;
    int32_t v = 0;
    for (size_t i = 0; i < 6; i++) {
        unsigned d = (unsigned)(e.p[i] - '0');
        if (d > 9) return 0;
        v = v * 10 + (int32_t)d;
    }
    int32_t m = v % 100;
    return (m >= 1 && m <= 12) ? v : 0;
}

static bool skip_header(tick_reader *r) {
    tf_span line;
    int rc;
    while ((rc = tf_next_line(r, &line)) == 1 && tf_trim(line).n == 0) {
    }
    return rc >= 0;
}

bool tf_taifex_prepare(tick_reader *r) {
    if (r->has_expiry) return true;
    /* Pre-scan: the nearest regular monthly expiry per product. */
    r->quiet = true;
    tf_span line, f[TF_MAX_FIELDS];
    int rc;
    bool product_seen = false;
    size_t need = (size_t)(r->col_prod > r->col_exp ? r->col_prod : r->col_exp) + 1;
    while ((rc = tf_next_line(r, &line)) == 1) {
        size_t nf = tf_split(line, f, TF_MAX_FIELDS);
        if (nf < need) continue;
        tf_span prod = tf_trim(f[r->col_prod]);
        if (!prod.n || prod.n >= TF_CODE_MAX) continue;
        if (r->has_product && !tf_span_eq(prod, r->product)) continue;
        product_seen = true;
        int32_t m = monthly(tf_trim(f[r->col_exp]));
        if (!m) continue;
        tf_front *e = front_slot(r, prod, true);
        if (!e) {
            snprintf(r->err, sizeof r->err, "out of memory");
            return false;
        }
        if (!e->front || m < e->front) e->front = m;
    }
    r->quiet = false;
    if (rc < 0) return false;
    if (r->has_product) {
        tf_front *e = front_slot(r, (tf_span){r->product, strlen(r->product)}, false);
        if (!e || !e->front) {
            snprintf(r->err, sizeof r->err,
                     product_seen ? "%s: product %s has no regular monthly expiry in the file (name one with --expiry)"
                                  : "%s: product %s not found in the file",
                     r->path, r->product);
            return false;
        }
        snprintf(r->expiry, sizeof r->expiry, "%06d", (int)e->front);
        r->has_expiry = true;
    }
    if (!tf_rewind(r)) return false;
    if (!skip_header(r)) return false;
    r->bad = r->reported = 0;
    return true;
}

/* ---- rows ------------------------------------------------------------------------------- */

static bool fixed_digits(tf_span s, size_t n, unsigned *out) {
    if (s.n != n) return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s.p[i] - '0');
        if (d > 9) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* HHMMSS (a leading zero may be missing) with an optional fraction; seconds of day and µs. */
static bool parse_hhmmss(tf_span s, int64_t *sec, int64_t *us) {
    s = tf_trim(s);
    size_t n = 0;
    while (n < s.n && s.p[n] >= '0' && s.p[n] <= '9') n++;
    if (n < 5 || n > 6) return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (unsigned)(s.p[i] - '0');
    unsigned h = v / 10000, m = v / 100 % 100, se = v % 100;
    if (h > 23 || m > 59 || se > 59) return false;
    int64_t frac = 0;
    if (n < s.n) {
        if (s.p[n] != '.' || n + 1 == s.n || s.n - n - 1 > 9) return false;
        int64_t scale = 100000;
        for (size_t i = n + 1; i < s.n; i++) {
            unsigned d = (unsigned)(s.p[i] - '0');
            if (d > 9) return false;
            frac += (int64_t)d * scale;
            scale /= 10;
        }
    }
    *sec = (int64_t)h * 3600 + m * 60 + se;
    *us = frac;
    return true;
}

int tf_taifex_row(tick_reader *r, tf_span *f, size_t nf, tick_row *out) {
    (void)nf;
    tf_span prod = tf_trim(f[r->col_prod]), exp = tf_trim(f[r->col_exp]);
    if (!prod.n || prod.n >= TF_CODE_MAX) {
        tf_bad_row(r, prod.n ? "product code too long" : "empty product code");
        return 0;
    }
    if (!exp.n || exp.n >= TF_CODE_MAX) {
        tf_bad_row(r, exp.n ? "expiry too long" : "empty expiry");
        return 0;
    }
    if (memchr(exp.p, '/', exp.n)) return 0; /* calendar spread */
    if (r->has_product && !tf_span_eq(prod, r->product)) return 0;
    if (r->has_expiry) {
        if (!tf_span_eq(exp, r->expiry)) return 0;
    } else {
        int32_t m = monthly(exp);
        if (!m) return 0;
        tf_front *e = front_slot(r, prod, false);
        if (!e || e->front != m) return 0;
    }

    unsigned ymd;
    if (!fixed_digits(tf_trim(f[r->col_date]), 8, &ymd) || !tf_valid_date(ymd / 10000, ymd / 100 % 100, ymd % 100)) {
        tf_bad_row(r, "bad trade date (want YYYYMMDD)");
        return 0;
    }
    int64_t tod, us;
    if (!parse_hhmmss(f[r->col_time], &tod, &us)) {
        tf_bad_row(r, "bad trade time (want HHMMSS)");
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
    out->volume = (out->volume + 1) / 2;
    int64_t day = tf_days_from_civil(ymd / 10000, ymd / 100 % 100, ymd % 100);
    if (tod >= NIGHT_SESSION_OPEN_S)
        r->last_evening_day = day;
    else if (tod < DAY_SESSION_OPEN_S && day == r->last_evening_day)
        day++; /* after midnight, dated with the session's start date */
    out->ts_us = (day * 86400 + tod - TAIPEI_OFFSET_S) * 1000000 + us;
    memcpy(out->symbol, prod.p, prod.n);
    memcpy(out->symbol + prod.n, exp.p, exp.n);
    out->symbol[prod.n + exp.n] = '\0';
    return 1;
}
