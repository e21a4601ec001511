/* Wire codec against the original's golden bytes (tests/data/wire/golden.jsonl). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "wire/codec.h"

static const char *golden_path(void) {
    static char path[1024];
    const char *data = getenv("AFTM_TESTDATA");
    snprintf(path, sizeof path, "%s/wire/golden.jsonl", data ? data : "tests/data");
    return path;
}

static size_t from_hex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static json_t *load_golden(void) {
    FILE *f = fopen(golden_path(), "r");
    assert_non_null(f);
    json_t *arr = json_array();
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j) json_array_append_new(arr, j);
    }
    fclose(f);
    assert_true(json_array_size(arr) >= 20);
    return arr;
}

static void test_encode_matches_golden(void **state) {
    (void)state;
    json_t *all = load_golden();
    size_t i, checked = 0;
    json_t *g;
    json_array_foreach(all, i, g) {
        if (strcmp(json_string_value(json_object_get(g, "kind")), "encode")) continue;
        unsigned char want[512];
        size_t want_len = from_hex(json_string_value(json_object_get(g, "hex")), want, sizeof want);
        char got[WIRE_BUF_MAX];
        size_t got_len;
        const char *type = json_string_value(json_object_get(g, "type"));
        double ts = json_number_value(json_object_get(g, "timestamp"));
        const char *sym = json_string_value(json_object_get(g, "commodity_id"));
        if (!strcmp(type, "TickEvent")) {
            wire_tick t = {.when = ts, .match_price = json_number_value(json_object_get(g, "match_price"))};
            snprintf(t.commodity_id, sizeof t.commodity_id, "%s", sym);
            got_len = wire_encode_tick(&t, got, sizeof got);
        } else {
            wire_signal s = {.when = ts};
            s.side = strcmp(json_string_value(json_object_get(g, "operation")), "BUY") ? WIRE_SELL : WIRE_BUY;
            snprintf(s.commodity_id, sizeof s.commodity_id, "%s", sym);
            got_len = wire_encode_signal(&s, false, got, sizeof got);
        }
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
        checked++;
    }
    assert_int_equal(checked, 15);
    json_decref(all);
}

static void test_decode_matches_golden(void **state) {
    (void)state;
    json_t *all = load_golden();
    wire_decoder d;
    wire_decoder_init(&d);
    size_t i, checked = 0;
    json_t *g;
    json_array_foreach(all, i, g) {
        if (strcmp(json_string_value(json_object_get(g, "kind")), "decode")) continue;
        unsigned char bytes[512];
        size_t n = from_hex(json_string_value(json_object_get(g, "hex")), bytes, sizeof bytes);
        wire_msg m;
        wire_kind k = wire_decode(&d, bytes, n, &m);
        const char *name = json_string_value(json_object_get(g, "name"));
        if (json_is_true(json_object_get(g, "accepted"))) {
            const char *type = json_string_value(json_object_get(g, "type"));
            if (!strcmp(type, "TickEvent")) {
                assert_int_equal(k, WIRE_TICK);
                assert_string_equal(m.u.tick.commodity_id, json_string_value(json_object_get(g, "commodity_id")));
                assert_true(m.u.tick.match_price == json_number_value(json_object_get(g, "match_price")));
                assert_true(m.u.tick.when == json_number_value(json_object_get(g, "timestamp")));
            } else if (!strcmp(type, "TradingSignal")) {
                assert_int_equal(k, WIRE_SIGNAL);
            } else {
                assert_int_equal(k, WIRE_OTHER);
            }
        } else {
            if (k != WIRE_ERROR) fail_msg("%s should be rejected", name);
            assert_string_equal(m.error_class, json_string_value(json_object_get(g, "error_class")));
            assert_true(strlen(m.error) > 0);
        }
        checked++;
    }
    assert_int_equal(checked, 11);
    wire_decoder_destroy(&d);
    json_decref(all);
}

static void test_extended_signal_roundtrip(void **state) {
    (void)state;
    wire_signal s = {.when = 1750152615.123456, .side = WIRE_SELL, .has_ext = true, .condition_id = 42,
                     .quantity = 3, .seq = 7};
    strcpy(s.commodity_id, "MXFG5");
    strcpy(s.signal_id, "42.X");
    char buf[WIRE_BUF_MAX];
    size_t n = wire_encode_signal(&s, true, buf, sizeof buf);
    assert_true(n > 0);
    wire_decoder d;
    wire_decoder_init(&d);
    wire_msg m;
    assert_int_equal(wire_decode(&d, buf, n, &m), WIRE_SIGNAL);
    assert_true(m.u.signal.has_ext);
    assert_string_equal(m.u.signal.signal_id, "42.X");
    assert_int_equal(m.u.signal.condition_id, 42);
    assert_int_equal(m.u.signal.quantity, 3);
    assert_int_equal(m.u.signal.seq, 7);
    assert_int_equal(m.u.signal.side, WIRE_SELL);
    /* the original's 4-key signal means quantity 1 */
    n = wire_encode_signal(&s, false, buf, sizeof buf);
    assert_int_equal(wire_decode(&d, buf, n, &m), WIRE_SIGNAL);
    assert_false(m.u.signal.has_ext);
    assert_int_equal(m.u.signal.quantity, 1);
    wire_decoder_destroy(&d);
}

static void test_garbage_never_crashes(void **state) {
    (void)state;
    wire_decoder d;
    wire_decoder_init(&d);
    wire_tick t = {.when = 1.5, .match_price = 22150};
    strcpy(t.commodity_id, "TXFF5");
    char good[WIRE_BUF_MAX];
    size_t n = wire_encode_tick(&t, good, sizeof good);
    srand(7);
    unsigned accepted = 0;
    for (int round = 0; round < 20000; round++) {
        char buf[WIRE_BUF_MAX];
        memcpy(buf, good, n);
        int flips = 1 + rand() % 4;
        for (int f = 0; f < flips; f++) buf[(size_t)rand() % n] = (char)(rand() & 0xff);
        size_t len = (size_t)(rand() % 8 == 0 ? rand() % (int)n : (int)n);
        wire_msg m;
        if (wire_decode(&d, buf, len, &m) == WIRE_TICK) {
            accepted++;
            assert_true(strlen(m.u.tick.commodity_id) > 0);
        }
    }
    assert_true(accepted < 20000);
    wire_msg m;
    assert_int_equal(wire_decode(&d, "", 0, &m), WIRE_ERROR);
    wire_decoder_destroy(&d);
}

/* The in-place TickEvent reader must agree with the general decoder on every input. */
static void test_fast_path_agrees_with_general_path(void **state) {
    (void)state;
    wire_decoder d;
    wire_decoder_init(&d);
    srand(11);
    for (int round = 0; round < 20000; round++) {
        wire_tick t = {.when = (double)(rand() % 2000000000) + (rand() % 1000000) / 1e6,
                       .match_price = (double)(rand() % 40000) + (rand() % 4) * 0.25};
        int n = 1 + rand() % 45;
        for (int i = 0; i < n; i++) t.commodity_id[i] = (char)('A' + rand() % 26);
        t.commodity_id[n] = '\0';
        char buf[WIRE_BUF_MAX];
        size_t len = wire_encode_tick(&t, buf, sizeof buf);
        if (rand() % 2) buf[(size_t)rand() % len] ^= (char)(1 << (rand() % 8)); /* sometimes one bit off */
        wire_msg fast, general;
        wire_kind k1 = wire_decode(&d, buf, len, &fast);
        wire_kind k2 = wire_decode_general(&d, buf, len, &general);
        assert_int_equal(k1, k2);
        if (k1 == WIRE_TICK) {
            assert_string_equal(fast.u.tick.commodity_id, general.u.tick.commodity_id);
            assert_memory_equal(&fast.u.tick.when, &general.u.tick.when, sizeof(double));
            assert_memory_equal(&fast.u.tick.match_price, &general.u.tick.match_price, sizeof(double));
        }
    }
    wire_decoder_destroy(&d);
}

static void test_encode_overflow_reports_zero(void **state) {
    (void)state;
    wire_tick t = {.when = 1.5, .match_price = 1};
    strcpy(t.commodity_id, "TXFF5");
    char small[20];
    assert_int_equal(wire_encode_tick(&t, small, sizeof small), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_matches_golden),
        cmocka_unit_test(test_decode_matches_golden),
        cmocka_unit_test(test_extended_signal_roundtrip),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_fast_path_agrees_with_general_path),
        cmocka_unit_test(test_encode_overflow_reports_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
