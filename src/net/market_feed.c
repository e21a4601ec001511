/* The market feed codec (see market_feed.h), both ways through msgpack-c. The decoder first
 * checks the size and the array header, so msgpack-c never sees a container size it would
 * allocate for. */
#include "net/market_feed.h"

#include "wire/packer.h"
#include "wire/sizecheck.h"

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static bool symbol_ok(const char *s, size_t n) {
    if (n == 0 || n >= BROKER_SYMBOL_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

size_t market_feed_encode(const broker_tick *t, char *buf, size_t cap) {
    size_t n = strnlen(t->symbol, sizeof t->symbol);
    if (!symbol_ok(t->symbol, n) || t->price <= 0 || t->volume < 0) return 0;
    wire_fixed_buf w;
    msgpack_packer pk;
    wire_packer_init(&pk, &w, buf, cap);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str(&pk, n);
    msgpack_pack_str_body(&pk, t->symbol, n);
    msgpack_pack_int64(&pk, t->price);
    msgpack_pack_int64(&pk, t->volume);
    msgpack_pack_int64(&pk, t->ts_us);
    return wire_packer_done(&w);
}

/* An integer field of the tick; NULL, or why not. */
static const char *int_field(const msgpack_object *o, int64_t *out) {
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > INT64_MAX) return "out of range";
        *out = (int64_t)o->via.u64;
        return NULL;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return NULL;
    }
    return "not an integer";
}

bool market_feed_decode(const void *buf, size_t len, broker_tick *out, char *why, size_t whylen) {
    if (!buf || len == 0) {
        snprintf(why, whylen, "empty message");
        return false;
    }
    if (len > MARKET_FEED_MAX || ((const unsigned char *)buf)[0] != 0x94) { /* fixarray of 4 */
        snprintf(why, whylen, "not a tick: expected a msgpack array of 4 (symbol, price, volume, ts_us)");
        return false;
    }
    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 256)) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    msgpack_object obj;
    size_t off = 0;
    msgpack_unpack_return r = wire_check_sizes(buf, len); /* no allocation for what is not there */
    if (r == MSGPACK_UNPACK_SUCCESS) r = msgpack_unpack(buf, len, &off, &zone, &obj);
    bool ok = false;
    broker_tick t;
    memset(&t, 0, sizeof t);
    if (r == MSGPACK_UNPACK_CONTINUE) snprintf(why, whylen, "truncated tick");
    else if (r == MSGPACK_UNPACK_EXTRA_BYTES) snprintf(why, whylen, "extra bytes after the tick");
    else if (r != MSGPACK_UNPACK_SUCCESS) snprintf(why, whylen, "not msgpack");
    else if (obj.type != MSGPACK_OBJECT_ARRAY || obj.via.array.size != 4)
        snprintf(why, whylen, "not a tick: expected a msgpack array of 4 (symbol, price, volume, ts_us)");
    else if (obj.via.array.ptr[0].type != MSGPACK_OBJECT_STR) snprintf(why, whylen, "symbol is not a string");
    else if (!symbol_ok(obj.via.array.ptr[0].via.str.ptr, obj.via.array.ptr[0].via.str.size))
        snprintf(why, whylen, "symbol must be 1-%d printable characters without spaces", BROKER_SYMBOL_MAX - 1);
    else {
        memcpy(t.symbol, obj.via.array.ptr[0].via.str.ptr, obj.via.array.ptr[0].via.str.size);
        static const char *const names[3] = {"price", "volume", "ts_us"};
        int64_t *fields[3] = {&t.price, &t.volume, &t.ts_us};
        ok = true;
        for (int i = 0; ok && i < 3; i++) {
            const char *e = int_field(&obj.via.array.ptr[i + 1], fields[i]);
            if (e) {
                snprintf(why, whylen, "%s is %s", names[i], e);
                ok = false;
            }
        }
        if (ok && t.price <= 0) {
            snprintf(why, whylen, "price must be > 0, got %lld", (long long)t.price);
            ok = false;
        } else if (ok && t.volume < 0) {
            snprintf(why, whylen, "volume must be >= 0, got %lld", (long long)t.volume);
            ok = false;
        }
    }
    msgpack_zone_destroy(&zone);
    if (ok) *out = t;
    return ok;
}

