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
    char *body = signal_ack_encode(&a);
    assert_non_null(body);
    signal_ack b;
    char why[128];
    assert_true(signal_ack_decode(body, strlen(body), &b, why, sizeof why));
    assert_string_equal(b.signal_id, a.signal_id);
    assert_string_equal(b.client_order_id, a.client_order_id);
    assert_true(b.refused);
    assert_string_equal(b.reason, a.reason);
    free(body);

    signal_ack stored = {.signal_id = "m12_3.X", .client_order_id = "aftm-1a2b-m12_3.X"};
    body = signal_ack_encode(&stored);
    assert_true(signal_ack_decode(body, strlen(body), &b, why, sizeof why));
    assert_false(b.refused);
    assert_string_equal(b.reason, "");
    free(body);
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
