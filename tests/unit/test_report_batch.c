/* Reports sent together (net/report_batch.h) over a real PUB/SUB pair (inproc): what is added
 * leaves as one "REPORT" message at flush, byte for byte and in order; a batch that would pass
 * REPORT_BATCH_MAX goes first; the reader walks every report of a message, takes a single map
 * or a JSON object as one report, and stops at bytes that are no whole msgpack value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <msgpack.h>
#include <zmq.h>
#include <cmocka.h>

#include "net/report_batch.h"
#include "net/zsock.h"
#include "wire/sizecheck.h"
#include "testkit.h"

typedef tk_pubsub fixture;

static int setup(void **state) {
    *state = tk_pubsub_open("inproc://reports", (const char *[]){REPORT_TOPIC, NULL});
    return 0;
}

static int teardown(void **state) {
    tk_pubsub_close(*state);
    return 0;
}

/* A report as the exchange encodes one: a map with its seq and a filler of n bytes. */
static size_t report(char *out, size_t cap, uint64_t seq, size_t filler) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "seq", 3);
    msgpack_pack_uint64(&pk, seq);
    msgpack_pack_str_with_body(&pk, "reason", 6);
    char *pad = malloc(filler + 1);
    memset(pad, 'x', filler);
    msgpack_pack_str_with_body(&pk, pad, filler);
    free(pad);
    assert_true(sb.size <= cap);
    memcpy(out, sb.data, sb.size);
    size_t n = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return n;
}

typedef struct {
    char items[64][512];
    size_t lens[64], n;
} seen;

static void collect(void *ctx, const char *r, size_t len) {
    seen *s = ctx;
    assert_true(s->n < 64 && len <= sizeof s->items[0]);
    memcpy(s->items[s->n], r, len);
    s->lens[s->n++] = len;
}

/* The next message's body, waiting up to a second; -1 when none came. */
static int next_body(fixture *f, char *body, size_t cap) {
    if (!tk_pubsub_wait(f, 1000)) return -1;
    char topic[ZSOCK_TOPIC_MAX];
    bool truncated;
    int n = zsock_recv_topic(f->sub, topic, body, cap, &truncated);
    assert_false(truncated);
    assert_string_equal(topic, REPORT_TOPIC);
    return n;
}

static void test_reports_added_leave_together_at_flush(void **state) {
    fixture *f = *state;
    report_batch b;
    report_batch_init(&b);
    char r[3][256];
    size_t rn[3];
    for (int i = 0; i < 3; i++) {
        rn[i] = report(r[i], sizeof r[i], (uint64_t)i + 1, 10 + 20 * (size_t)i);
        assert_true(report_batch_add(&b, f->pub, r[i], rn[i]));
    }
    static char body[REPORT_MSG_MAX];
    assert_false(tk_pubsub_wait(f, 100)); /* nothing leaves before the flush */
    assert_true(report_batch_flush(&b, f->pub));
    assert_int_equal(b.sent, 3);
    int n = next_body(f, body, sizeof body);
    assert_int_equal(n, (int)(rn[0] + rn[1] + rn[2]));
    seen s = {.n = 0};
    bool bad = true;
    assert_int_equal(report_batch_each(body, (size_t)n, collect, &s, &bad), 3);
    assert_false(bad);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s.lens[i], rn[i]);
        assert_memory_equal(s.items[i], r[i], rn[i]);
    }
    assert_true(report_batch_flush(&b, f->pub)); /* nothing waits: nothing is sent */
    assert_false(tk_pubsub_wait(f, 100));
    report_batch_free(&b);
}

static void test_a_full_batch_goes_before_the_report_that_would_pass_the_limit(void **state) {
    fixture *f = *state;
    report_batch b;
    report_batch_init(&b);
    char r[512];
    size_t each = report(r, sizeof r, 1, 400), per = REPORT_BATCH_MAX / each, total = per + 1;
    for (size_t i = 0; i < total; i++) assert_true(report_batch_add(&b, f->pub, r, each));
    assert_int_equal(b.sent, per); /* the first message went when the next would not fit */
    assert_true(report_batch_flush(&b, f->pub));
    static char body[REPORT_MSG_MAX];
    seen s = {.n = 0};
    bool bad;
    int n = next_body(f, body, sizeof body);
    assert_true(n > 0 && (size_t)n <= REPORT_BATCH_MAX);
    assert_int_equal(report_batch_each(body, (size_t)n, collect, &s, &bad), per);
    n = next_body(f, body, sizeof body);
    assert_int_equal(n, (int)each);
    report_batch_free(&b);
}

static void test_reader_takes_single_reports_and_stops_at_a_broken_end(void **state) {
    (void)state;
    char r[2][256];
    size_t rn0 = report(r[0], sizeof r[0], 7, 5), rn1 = report(r[1], sizeof r[1], 8, 5);
    seen s = {.n = 0};
    bool bad = true;
    /* one map alone: one report */
    assert_int_equal(report_batch_each(r[0], rn0, collect, &s, &bad), 1);
    assert_false(bad);
    /* JSON from a publisher that speaks it: the whole body is one report */
    const char *json = "{\"seq\": 9, \"status\": \"filled\"}";
    s.n = 0;
    assert_int_equal(report_batch_each(json, strlen(json), collect, &s, &bad), 1);
    assert_int_equal(s.lens[0], strlen(json));
    /* two reports and the second cut short: the first passes, the rest is said to be bad */
    char two[512];
    memcpy(two, r[0], rn0);
    memcpy(two + rn0, r[1], rn1);
    s.n = 0;
    assert_int_equal(report_batch_each(two, rn0 + rn1 - 3, collect, &s, &bad), 1);
    assert_true(bad);
    assert_memory_equal(s.items[0], r[0], rn0);
    /* a byte that starts no msgpack value after a report */
    two[rn0] = (char)0xc1;
    s.n = 0;
    assert_int_equal(report_batch_each(two, rn0 + 1, collect, &s, &bad), 1);
    assert_true(bad);
    /* a map that claims more entries than the bytes hold is not read past the end */
    const unsigned char huge[] = {0x81, 0xa1, 'a', 0xdf, 0xff, 0xff, 0xff, 0xff};
    memcpy(two + rn0, huge, sizeof huge);
    s.n = 0;
    assert_int_equal(report_batch_each(two, rn0 + sizeof huge, collect, &s, &bad), 1);
    assert_true(bad);
}

static void test_first_value_extent(void **state) {
    (void)state;
    char r[256];
    size_t n = report(r, sizeof r, 1, 3), used = 0;
    char two[600];
    memcpy(two, r, n);
    memcpy(two + n, r, n);
    assert_int_equal(wire_check_first(two, 2 * n, &used), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(used, n);
    assert_int_equal(wire_check_first(two, n - 1, &used), MSGPACK_UNPACK_CONTINUE);
    assert_int_equal(wire_check_sizes(two, 2 * n), MSGPACK_UNPACK_SUCCESS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_added_leave_together_at_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_full_batch_goes_before_the_report_that_would_pass_the_limit, setup,
                                        teardown),
        cmocka_unit_test(test_reader_takes_single_reports_and_stops_at_a_broken_end),
        cmocka_unit_test(test_first_value_extent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
