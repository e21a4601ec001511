/* aftm's publishers' one-frame messages (topic NUL body, net/zsock.h) over a real PUB/SUB
 * pair (inproc): topic and body come apart, a body keeps NULs of its own, a subscription
 * matches the topic as a prefix, the two frames of an older publisher still read, a frame with
 * no NUL near its start is all body, and a message over the buffer says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include <cmocka.h>

#include "net/zsock.h"
#include "testkit.h"

typedef tk_pubsub fixture;

static int setup(void **state) {
    *state = tk_pubsub_open("inproc://topics", (const char *[]){"REPORT", "TICK:TXF", NULL});
    return 0;
}

static int teardown(void **state) {
    tk_pubsub_close(*state);
    return 0;
}

/* The next message, waiting up to a second. */
static int recv_topic(fixture *f, char *topic, char *body, size_t cap, bool *truncated) {
    if (!tk_pubsub_wait(f, 1000)) return -1;
    return zsock_recv_topic(f->sub, topic, body, cap, truncated);
}

static void test_one_frame_topic_and_body(void **state) {
    fixture *f = *state;
    const char body_in[] = {'\x83', '\0', 'a', '\0', 'b'}; /* NULs of its own */
    assert_true(zsock_send_topic(f->pub, "REPORT", body_in, sizeof body_in));
    assert_true(zsock_send_topic(f->pub, "TICK:TXFF5", "t", 1)); /* prefix "TICK:TXF" */
    assert_true(zsock_send_topic(f->pub, "TICK:MXFF5", "m", 1)); /* not subscribed */
    assert_true(zsock_send_topic(f->pub, "REPORT", "", 0));      /* an empty body */
    char topic[ZSOCK_TOPIC_MAX], body[64];
    bool truncated = true;
    assert_int_equal(recv_topic(f, topic, body, sizeof body, &truncated), (int)sizeof body_in);
    assert_false(truncated);
    assert_string_equal(topic, "REPORT");
    assert_memory_equal(body, body_in, sizeof body_in);
    assert_int_equal(recv_topic(f, topic, body, sizeof body, &truncated), 1);
    assert_string_equal(topic, "TICK:TXFF5");
    assert_int_equal(body[0], 't');
    assert_int_equal(recv_topic(f, topic, body, sizeof body, &truncated), 0);
    assert_string_equal(topic, "REPORT");
    assert_int_equal(zsock_recv_topic(f->sub, topic, body, sizeof body, &truncated), -1); /* nothing else */
}

static void test_two_frames_still_read(void **state) {
    fixture *f = *state;
    zmq_send(f->pub, "REPORT", 6, ZMQ_SNDMORE);
    zmq_send(f->pub, "\x81\xa1x\x01", 4, 0);
    char topic[ZSOCK_TOPIC_MAX], body[64];
    bool truncated;
    assert_int_equal(recv_topic(f, topic, body, sizeof body, &truncated), 4);
    assert_string_equal(topic, "REPORT");
    assert_memory_equal(body, "\x81\xa1x\x01", 4);
}

static void test_no_nul_is_all_body(void **state) {
    fixture *f = *state;
    char frame[ZSOCK_TOPIC_MAX + 10];
    memcpy(frame, "REPORT", 6);
    memset(frame + 6, 'x', sizeof frame - 6); /* no NUL in the first ZSOCK_TOPIC_MAX bytes */
    frame[sizeof frame - 1] = '\0';
    zmq_send(f->pub, frame, sizeof frame, 0);
    char topic[ZSOCK_TOPIC_MAX], body[128];
    bool truncated;
    assert_int_equal(recv_topic(f, topic, body, sizeof body, &truncated), (int)sizeof frame);
    assert_string_equal(topic, "");
    assert_memory_equal(body, frame, sizeof frame);
}

static void test_oversized_says_so(void **state) {
    fixture *f = *state;
    char big[200];
    memset(big, 'b', sizeof big);
    assert_true(zsock_send_topic(f->pub, "REPORT", big, sizeof big));
    char topic[ZSOCK_TOPIC_MAX], body[64];
    bool truncated = false;
    assert_true(recv_topic(f, topic, body, sizeof body, &truncated) >= 0);
    assert_true(truncated);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_frame_topic_and_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_frames_still_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_nul_is_all_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_says_so, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
