/* The process topology: the argv 'aftm run' and the menu's session give each child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "app/launch/topology.h"

/* The value after flag in a, or NULL when the flag is absent. */
static const char *value_of(const topo_argv *a, const char *flag) {
    for (int i = 0; i + 1 < a->argc; i++)
        if (!strcmp(a->argv[i], flag)) return a->argv[i + 1];
    return NULL;
}

static int has(const topo_argv *a, const char *flag) {
    for (int i = 0; i < a->argc; i++)
        if (!strcmp(a->argv[i], flag)) return 1;
    return 0;
}

static endpoints ep = {.tick = "tcp://127.0.0.1:1", .signal = "tcp://127.0.0.1:2", .order = "tcp://127.0.0.1:3",
                       .report = "tcp://127.0.0.1:4", .exchange = "tcp://127.0.0.1:5"};

static void test_run_topology(void **state) {
    (void)state;
    topology t = {.home = "/h", .ep = &ep, .market = "tcp://127.0.0.1:15", .ticks = "day.csv", .speed = "0",
                  .feed_resume = "run-1", .replay_waits = true, .account = "SIM-0001", .rearm = true,
                  .quiet_gateway = true, .quiet_trading = true};
    topo_argv a;
    topology_exchange(&t, &a);
    assert_string_equal(a.argv[0], "exchange");
    assert_null(a.argv[a.argc]);
    assert_string_equal(value_of(&a, "--home"), "/h");
    assert_string_equal(value_of(&a, "--endpoint"), ep.exchange);
    assert_string_equal(value_of(&a, "--market-endpoint"), "tcp://127.0.0.1:15");
    assert_string_equal(value_of(&a, "--ticks"), "day.csv");
    assert_string_equal(value_of(&a, "--wait-subscribers"), "2");
    assert_string_equal(value_of(&a, "--feed-resume"), "run-1");
    assert_null(value_of(&a, "--seed"));
    topology_gateway(&t, &a);
    assert_string_equal(a.argv[0], "gateway");
    assert_string_equal(value_of(&a, "--exchange-market-endpoint"), "tcp://127.0.0.1:15");
    assert_string_equal(value_of(&a, "--order-endpoint"), ep.order);
    assert_null(value_of(&a, "--login"));
    assert_true(has(&a, "--quiet"));
    topology_executor(&t, &a);
    assert_string_equal(a.argv[0], "executor");
    assert_string_equal(value_of(&a, "--account"), "SIM-0001");
    assert_string_equal(value_of(&a, "--signal-endpoint"), ep.signal);
    assert_true(has(&a, "--quiet"));
    topology_strategy(&t, &a);
    assert_string_equal(a.argv[0], "strategy");
    assert_true(has(&a, "--rearm"));
    assert_string_equal(value_of(&a, "--tick-endpoint"), ep.tick);
}

static void test_session_topology(void **state) {
    (void)state;
    topology t = {.home = "/h", .ep = &ep, .market = "tcp://127.0.0.1:15", .ticks = "day.csv",
                  .gateway_login = "A123456789"};
    topo_argv a;
    topology_exchange(&t, &a);
    assert_null(value_of(&a, "--wait-subscribers")); /* the menu's replay does not wait */
    assert_null(value_of(&a, "--feed-resume"));
    topology_gateway(&t, &a);
    assert_string_equal(value_of(&a, "--login"), "A123456789");
    assert_false(has(&a, "--quiet")); /* the login reads the gateway's log for the broker's answer */
    topology_executor(&t, &a);
    assert_null(value_of(&a, "--account")); /* the session's account */
    assert_false(has(&a, "--quiet"));
    topology_strategy(&t, &a);
    assert_false(has(&a, "--rearm"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_topology),
        cmocka_unit_test(test_session_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
