/* The market feed codec (see market_feed.h). Encoding goes through msgpack-c; decoding reads
 * the four fields by hand, since the shape is fixed and a hand reader needs no allocation. */
#include "net/market_feed.h"

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t cap, len;
    bool overflow;
} fixed_writer;

static int fixed_write(void *data, const char *src, size_t n) {
    fixed_writer *w = data;
    if (w->len + n > w->cap) {
        w->overflow = true;
        return -1;
    }
    memcpy(w->buf + w->len, src, n);
    w->len += n;
    return 0;
}

static bool symbol_ok(const char *s, size_t n) {
    if (n == 0 || n >= BROKER_SYMBOL_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

size_t market_feed_encode(const broker_tick *t, char *buf, size_t cap) {
    size_t n = strnlen(t->symbol, sizeof t->symbol);
    if (!symbol_ok(t->symbol, n) || t->price <= 0 || t->volume < 0) return 0;
    fixed_writer w = {buf, cap, 0, false};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &w, fixed_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str(&pk, n);
    msgpack_pack_str_body(&pk, t->symbol, n);
    msgpack_pack_int64(&pk, t->price);
    msgpack_pack_int64(&pk, t->volume);
    msgpack_pack_int64(&pk, t->ts_us);
    return w.overflow ? 0 : w.len;
}

typedef struct {
    const unsigned char *p;
    size_t len, pos;
} reader;

static bool take(reader *r, size_t n, uint64_t *v) { /* n big-endian bytes */
    if (r->len - r->pos < n) return false;
    *v = 0;
    for (size_t i = 0; i < n; i++) *v = (*v << 8) | r->p[r->pos++];
    return true;
}

/* An integer in any msgpack width; "missing" when the bytes end, "type" when not an integer. */
static const char *read_int(reader *r, int64_t *out) {
    if (r->pos >= r->len) return "missing";
    unsigned b = r->p[r->pos++];
    uint64_t v;
    if (b <= 0x7f) *out = (int64_t)b;
    else if (b >= 0xe0) *out = (int64_t)(int8_t)b;
    else if (b >= 0xcc && b <= 0xcf) {
        if (!take(r, (size_t)1 << (b - 0xcc), &v)) return "missing";
        if (v > INT64_MAX) return "out of range";
        *out = (int64_t)v;
    } else if (b >= 0xd0 && b <= 0xd3) {
        size_t n = (size_t)1 << (b - 0xd0);
        if (!take(r, n, &v)) return "missing";
        if (n < 8 && (v >> (n * 8 - 1)) & 1) v |= ~(uint64_t)0 << (n * 8); /* sign-extend */
        *out = (int64_t)v;
    } else return "not an integer";
    return NULL;
}

bool market_feed_decode(const void *buf, size_t len, broker_tick *out, char *why, size_t whylen) {
    reader r = {buf, buf ? len : 0, 0};
    if (r.len == 0) {
        snprintf(why, whylen, "empty message");
        return false;
    }
    if (r.p[r.pos++] != 0x94) {
        snprintf(why, whylen, "not a tick: expected a msgpack array of 4 (symbol, price, volume, ts_us)");
        return false;
    }
    broker_tick t;
    memset(&t, 0, sizeof t);
    size_t n;
    uint64_t v;
    if (r.pos >= r.len) {
        snprintf(why, whylen, "truncated tick: symbol missing");
        return false;
    }
    unsigned b = r.p[r.pos++];
    if (b >= 0xa0 && b <= 0xbf) n = b & 0x1f;
    else if (b == 0xd9) {
        if (!take(&r, 1, &v)) {
            snprintf(why, whylen, "truncated tick: symbol missing");
            return false;
        }
        n = (size_t)v;
    } else {
        snprintf(why, whylen, "symbol is not a string");
        return false;
    }
    if (r.len - r.pos < n) {
        snprintf(why, whylen, "truncated tick");
        return false;
    }
    if (!symbol_ok((const char *)r.p + r.pos, n)) {
        snprintf(why, whylen, "symbol must be 1-%d printable characters without spaces", BROKER_SYMBOL_MAX - 1);
        return false;
    }
    memcpy(t.symbol, r.p + r.pos, n);
    r.pos += n;
    static const char *const names[3] = {"price", "volume", "ts_us"};
    int64_t *fields[3] = {&t.price, &t.volume, &t.ts_us};
    for (int i = 0; i < 3; i++) {
        const char *e = read_int(&r, fields[i]);
        if (e) {
            if (!strcmp(e, "missing")) snprintf(why, whylen, "truncated tick: %s missing", names[i]);
            else snprintf(why, whylen, "%s is %s", names[i], e);
            return false;
        }
    }
    if (r.pos != r.len) {
        snprintf(why, whylen, "extra bytes after the tick");
        return false;
    }
    if (t.price <= 0) {
        snprintf(why, whylen, "price must be > 0, got %lld", (long long)t.price);
        return false;
    }
    if (t.volume < 0) {
        snprintf(why, whylen, "volume must be >= 0, got %lld", (long long)t.volume);
        return false;
    }
    *out = t;
    return true;
}
