/* The executor's acknowledgement of a stored signal: what it encodes is read back whole, and
 * anything malformed is refused with a reason and leaves nothing half filled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/signal_ack.h"

static void test_round_trip(void **state) {
    (void)state;
    signal_ack a = {.signal_id = "7.E", .client_order_id = "aftm-00c0ffee-7.E", .refused = true,
                    .reason = "risk max_lots: 9 lots > 5 \"per order\""};
    char body[SIGNAL_ACK_MAX];
    size_t n = signal_ack_encode(&a, body, sizeof body);
    assert_true(n > 0);
    signal_ack b;
    char why[128];
    assert_true(signal_ack_decode(body, n, &b, why, sizeof why));
    assert_string_equal(b.signal_id, a.signal_id);
    assert_string_equal(b.client_order_id, a.client_order_id);
    assert_true(b.refused);
    assert_string_equal(b.reason, a.reason);

    signal_ack stored = {.signal_id = "m12_3.X", .client_order_id = "aftm-1a2b-m12_3.X"};
    n = signal_ack_encode(&stored, body, sizeof body);
    assert_true(signal_ack_decode(body, n, &b, why, sizeof why));
    assert_false(b.refused);
    assert_string_equal(b.reason, "");
    /* the longest acknowledgement fits SIGNAL_ACK_MAX; a buffer too small gives 0, not a cut message */
    signal_ack big;
    memset(&big, 'x', sizeof big);
    big.signal_id[sizeof big.signal_id - 1] = big.client_order_id[sizeof big.client_order_id - 1] = '\0';
    big.reason[sizeof big.reason - 1] = '\0';
    big.refused = true;
    assert_true(signal_ack_encode(&big, body, sizeof body) > 0);
    assert_int_equal(signal_ack_encode(&big, body, 100), 0);
    /* the same fields in JSON (an executor of before) are read alike */
    const char *json = "{\"signal_id\":\"7.E\",\"client_order_id\":\"aftm-00c0ffee-7.E\",\"refused\":false,"
                       "\"reason\":\"\"}";
    assert_true(signal_ack_decode(json, strlen(json), &b, why, sizeof why));
    assert_string_equal(b.client_order_id, "aftm-00c0ffee-7.E");
}

static void test_malformed_refused(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "{\"client_order_id\":\"aftm-a-1.E\",\"refused\":false}",
        "{\"signal_id\":\"1.E\",\"refused\":false}",
        "{\"signal_id\":\"1.E\",\"client_order_id\":\"aftm-a-1.E\"}",
        "{\"signal_id\":\"1.E\",\"client_order_id\":\"aftm-a-1.E\",\"refused\":\"no\"}",
        "{\"signal_id\":\"with space\",\"client_order_id\":\"aftm-a-1.E\",\"refused\":false}",
        "{\"signal_id\":\"1.E\",\"client_order_id\":17,\"refused\":false}",
        "\x84\xa9signal_id\xa3" "1.E",                     /* a msgpack map cut short */
        "\x81\xa9signal_id\xdf\xff\xff\xff\xff",          /* claims 2^32 entries */
        "\x83\xa9signal_id\xa3" "1.E\xaf" "client_order_id\xaa" "aftm-a-1.E\xa7refused\x01", /* refused: 1 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        signal_ack b;
        memset(&b, 0x5a, sizeof b);
        char why[128] = "";
        if (signal_ack_decode(bad[i], strlen(bad[i]), &b, why, sizeof why)) fail_msg("'%s' was taken", bad[i]);
        assert_true(why[0] != '\0');
        assert_string_equal(b.signal_id, ""); /* zeroed, not half filled */
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
