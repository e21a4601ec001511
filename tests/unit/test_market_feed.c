/* The exchange's market feed codec: integer prices, volumes and times come back exactly (in
 * every msgpack integer width), and anything but one valid tick is refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/market_feed.h"

static broker_tick tick(const char *sym, int64_t price, int64_t volume, int64_t ts) {
    broker_tick t;
    memset(&t, 0, sizeof t);
    snprintf(t.symbol, sizeof t.symbol, "%s", sym);
    t.price = price;
    t.volume = volume;
    t.ts_us = ts;
    return t;
}

static void round_trip(broker_tick t) {
    char buf[MARKET_FEED_MAX];
    size_t n = market_feed_encode(&t, buf, sizeof buf);
    assert_true(n > 0);
    broker_tick back;
    memset(&back, 0x55, sizeof back);
    char why[128] = "";
    assert_true(market_feed_decode(buf, n, &back, why, sizeof why));
    assert_string_equal(back.symbol, t.symbol);
    assert_int_equal(back.price, t.price);
    assert_int_equal(back.volume, t.volume);
    assert_int_equal(back.ts_us, t.ts_us);
}

static void test_round_trips(void **state) {
    (void)state;
    round_trip(tick("TXFF5", 22150, 3, 1750152615123456LL));
    round_trip(tick("T", 1, 0, 0));                          /* fixints */
    round_trip(tick("MXFG5", 200, 255, -1));                 /* uint8, negative fixint */
    round_trip(tick("MXFG5", 65535, 65536, -129));           /* uint16, uint32, int16 */
    round_trip(tick("X.1-2_3", 9007199254740993LL, 4294967296LL, INT64_MIN)); /* beyond a double's 53 bits */
    round_trip(tick("ABCDEFGHIJKLMNOPQRSTUVWXYZ01234", INT64_MAX, INT64_MAX, INT64_MAX)); /* the longest symbol */
}

static void test_encode_refuses_bad_ticks(void **state) {
    (void)state;
    char buf[MARKET_FEED_MAX];
    broker_tick t = tick("TXFF5", 0, 1, 1);
    assert_int_equal(market_feed_encode(&t, buf, sizeof buf), 0); /* price 0 */
    t = tick("TXFF5", 100, -1, 1);
    assert_int_equal(market_feed_encode(&t, buf, sizeof buf), 0); /* negative volume */
    t = tick("", 100, 1, 1);
    assert_int_equal(market_feed_encode(&t, buf, sizeof buf), 0); /* no symbol */
    t = tick("TX FF5", 100, 1, 1);
    assert_int_equal(market_feed_encode(&t, buf, sizeof buf), 0); /* a space */
    t = tick("TXFF5", 100, 1, 1);
    assert_int_equal(market_feed_encode(&t, buf, 5), 0); /* too small a buffer */
}

static void refused(const void *bytes, size_t len, const char *reason) {
    broker_tick out = tick("KEPT", 7, 7, 7);
    char why[128] = "";
    assert_false(market_feed_decode(bytes, len, &out, why, sizeof why));
    if (!strstr(why, reason)) fail_msg("expected a reason with '%s', got '%s'", reason, why);
    assert_string_equal(out.symbol, "KEPT"); /* untouched */
    assert_int_equal(out.price, 7);
}

static void test_garbage_refused_with_reason(void **state) {
    (void)state;
    char good[MARKET_FEED_MAX];
    broker_tick t = tick("TXFF5", 22150, 3, 1750152615123456LL);
    size_t n = market_feed_encode(&t, good, sizeof good);
    assert_true(n > 0);

    refused("", 0, "empty");
    refused(NULL, 10, "empty");
    refused("{\"symbol\":\"TXFF5\",\"price\":22150}", 31, "array of 4");
    refused("\x93\xa1T\x01\x01", 5, "array of 4"); /* three fields */
    refused("\x94\x01\x01\x01\x01", 5, "symbol is not a string");
    for (size_t cut = 1; cut < n; cut++) refused(good, cut, "truncated"); /* every truncation */
    char extra[MARKET_FEED_MAX + 1];
    memcpy(extra, good, n);
    extra[n] = 0;
    refused(extra, n + 1, "extra bytes");
    /* a double where the price goes: the feed carries whole points only */
    const unsigned char dbl[] = {0x94, 0xa1, 'T', 0xcb, 0x40, 0xd5, 0xa1, 0x80, 0, 0, 0, 0, 0x01, 0x01};
    refused(dbl, sizeof dbl, "price is not an integer");
    const unsigned char neg[] = {0x94, 0xa1, 'T', 0xff, 0x01, 0x01};
    refused(neg, sizeof neg, "price must be > 0");
    const unsigned char negvol[] = {0x94, 0xa1, 'T', 0x01, 0xff, 0x01};
    refused(negvol, sizeof negvol, "volume must be >= 0");
    const unsigned char huge[] = {0x94, 0xa1, 'T', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01};
    refused(huge, sizeof huge, "out of range");
    /* a map claiming 2^32 entries where the symbol goes: refused before msgpack-c allocates them */
    const unsigned char claims[] = {0x94, 0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01, 0x01};
    refused(claims, sizeof claims, "truncated");
    const unsigned char space[] = {0x94, 0xa2, 'T', ' ', 0x01, 0x01, 0x01};
    refused(space, sizeof space, "printable");
    const unsigned char nosym[] = {0x94, 0xa0, 0x01, 0x01, 0x01};
    refused(nosym, sizeof nosym, "symbol must be");
    /* a str8 announcing more bytes than there are */
    const unsigned char longsym[] = {0x94, 0xd9, 0xff, 'T'};
    refused(longsym, sizeof longsym, "truncated");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_encode_refuses_bad_ticks),
        cmocka_unit_test(test_garbage_refused_with_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
