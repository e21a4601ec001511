/* Endpoints and the bind check: loopback passes, anything else needs --insecure, and a host name
 * (tcp://localhost:N), which ZeroMQ cannot bind, is refused with the address to use instead;
 * the environment's "localhost" is written as 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"

static void test_loopback_and_insecure(void **state) {
    (void)state;
    char err[256];
    assert_true(endpoint_bind_allowed("tcp://127.0.0.1:5555", false, err, sizeof err));
    assert_true(endpoint_bind_allowed("tcp://[::1]:5555", false, err, sizeof err));
    assert_true(endpoint_bind_allowed("ipc:///tmp/aftm.sock", false, err, sizeof err));
    err[0] = '\0';
    assert_false(endpoint_bind_allowed("tcp://0.0.0.0:5555", false, err, sizeof err));
    assert_non_null(strstr(err, "--insecure"));
    assert_true(endpoint_bind_allowed("tcp://0.0.0.0:5555", true, err, sizeof err));
}

static void test_localhost_is_refused_with_the_address_to_use(void **state) {
    (void)state;
    char err[256] = "";
    assert_false(endpoint_bind_allowed("tcp://localhost:5556", false, err, sizeof err));
    assert_non_null(strstr(err, "not a host name"));
    assert_non_null(strstr(err, "tcp://127.0.0.1:5556"));
    /* --insecure does not make it bindable either */
    assert_false(endpoint_bind_allowed("tcp://localhost:5556", true, err, sizeof err));
}

static void test_localhost_in_the_environment_is_loopback(void **state) {
    (void)state;
    setenv("ZMQ_HOST", "localhost", 1);
    setenv("DLL_GATEWAY_HOST", "localhost", 1);
    setenv("ZMQ_TICK_PORT", "6001", 1);
    endpoints ep;
    memset(&ep, 'x', sizeof ep); /* whatever was on the stack */
    endpoints_from_env(&ep);
    assert_string_equal(ep.ack, ""); /* derived from the signal endpoint, not left as garbage */
    assert_string_equal(ep.tick, "tcp://127.0.0.1:6001");
    assert_string_equal(ep.order, "tcp://127.0.0.1:5557");
    char err[256];
    assert_true(endpoint_bind_allowed(ep.tick, false, err, sizeof err));
    setenv("ZMQ_HOST", "10.1.2.3", 1);
    endpoints_from_env(&ep);
    assert_string_equal(ep.tick, "tcp://10.1.2.3:6001");
    unsetenv("ZMQ_HOST");
    unsetenv("DLL_GATEWAY_HOST");
    unsetenv("ZMQ_TICK_PORT");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_and_insecure),
        cmocka_unit_test(test_localhost_is_refused_with_the_address_to_use),
        cmocka_unit_test(test_localhost_in_the_environment_is_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
