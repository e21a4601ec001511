/* The order port's framing, over real ZeroMQ sockets (inproc, plain text): an order link's
 * request is [key][body] and its answer comes back under the same key; a REQ client's
 * [empty][body] is served as before; a DEALER that still sends [key][empty][body] gets its
 * envelope back whole; an answer given later (router_defer) keeps the key; and the link reads
 * an answer in either form, skipping one without a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include <cmocka.h>

#include "net/order_link.h"
#include "net/router.h"

#define EP "inproc://orders"

typedef struct {
    void *ctx, *router;
    order_link *link;
} fixture;

/* What the handler saw last, and whether it answers later. */
static char g_req[256];
static size_t g_req_len;
static bool g_defer;
static router_pending *g_pending;

static char *echo(void *ctx, const void *peer, size_t peer_len, const char *req, size_t req_len, size_t *reply_len) {
    (void)ctx, (void)peer, (void)peer_len;
    assert_true(req_len < sizeof g_req);
    memcpy(g_req, req, req_len);
    g_req[req_len] = '\0';
    g_req_len = req_len;
    if (g_defer) {
        g_pending = router_defer();
        assert_non_null(g_pending);
        return NULL;
    }
    char *out = malloc(req_len + 5);
    memcpy(out, "ans:", 4);
    memcpy(out + 4, req, req_len);
    *reply_len = req_len + 4;
    return out;
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    f->ctx = zmq_ctx_new();
    char err[256] = "";
    router_bind_opts o = {.insecure = true};
    f->router = router_bind(f->ctx, ZMQ_ROUTER, EP, &o, err, sizeof err);
    if (!f->router) fail_msg("router_bind: %s", err);
    f->link = olink_new(f->ctx, EP, 0, err, sizeof err);
    if (!f->link) fail_msg("olink_new: %s", err);
    g_defer = false;
    g_pending = NULL;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    olink_free(f->link);
    zmq_close(f->router);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

/* Serves one request, waiting up to a second for it. */
static void serve(fixture *f) {
    zmq_pollitem_t it = {f->router, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 1000), 1);
    assert_true(router_serve_one(f->router, echo, NULL));
}

/* One answer from the link, waiting up to a second. */
static int link_recv(fixture *f, char *key, char *body, size_t cap) {
    zmq_pollitem_t it = {olink_socket(f->link), 0, ZMQ_POLLIN, 0};
    for (int i = 0; i < 100; i++) {
        int n = olink_recv(f->link, key, 64, body, cap);
        if (n >= 0) return n;
        zmq_poll(&it, 1, 10);
    }
    return -1;
}

static void test_link_request_is_key_and_body(void **state) {
    fixture *f = *state;
    char err[128];
    assert_true(olink_send(f->link, "c-1", "order-1", 7, err, sizeof err));
    serve(f);
    assert_string_equal(g_req, "order-1"); /* the body, not the key */
    char key[64], body[64];
    int n = link_recv(f, key, body, sizeof body);
    assert_int_equal(n, 11);
    assert_string_equal(key, "c-1");
    assert_memory_equal(body, "ans:order-1", 11);

    /* many in flight: each answer under its own key */
    for (int i = 0; i < 5; i++) {
        char k[16], b[16];
        snprintf(k, sizeof k, "k-%d", i);
        snprintf(b, sizeof b, "b-%d", i);
        assert_true(olink_send(f->link, k, b, strlen(b), err, sizeof err));
    }
    for (int i = 0; i < 5; i++) serve(f);
    for (int i = 0; i < 5; i++) {
        n = link_recv(f, key, body, sizeof body);
        assert_int_equal(n, 7);
        char want[16];
        snprintf(want, sizeof want, "ans:b-%c", key[2]);
        assert_memory_equal(body, want, 7);
    }
}

static void test_req_client_served(void **state) {
    fixture *f = *state;
    void *req = zmq_socket(f->ctx, ZMQ_REQ);
    assert_int_equal(zmq_connect(req, EP), 0);
    assert_int_equal(zmq_send(req, "{\"operation\":\"x\"}", 17, 0), 17);
    serve(f);
    assert_string_equal(g_req, "{\"operation\":\"x\"}");
    char buf[64];
    int n = zmq_recv(req, buf, sizeof buf, 0);
    assert_int_equal(n, 21);
    assert_memory_equal(buf, "ans:{\"operation\":\"x\"}", 21);
    zmq_close(req);
}

static void test_delimited_dealer_gets_its_envelope(void **state) {
    fixture *f = *state;
    void *d = zmq_socket(f->ctx, ZMQ_DEALER);
    assert_int_equal(zmq_connect(d, EP), 0);
    zmq_send(d, "k-9", 3, ZMQ_SNDMORE);
    zmq_send(d, "", 0, ZMQ_SNDMORE);
    zmq_send(d, "body", 4, 0);
    serve(f);
    assert_string_equal(g_req, "body");
    char buf[64];
    assert_int_equal(zmq_recv(d, buf, sizeof buf, 0), 3);
    assert_memory_equal(buf, "k-9", 3);
    assert_int_equal(zmq_recv(d, buf, sizeof buf, 0), 0);
    assert_int_equal(zmq_recv(d, buf, sizeof buf, 0), 8);
    assert_memory_equal(buf, "ans:body", 8);
    zmq_close(d);
}

static void test_deferred_answer_keeps_the_key(void **state) {
    fixture *f = *state;
    char err[128];
    g_defer = true;
    assert_true(olink_send(f->link, "late-1", "slow", 4, err, sizeof err));
    serve(f);
    assert_non_null(g_pending);
    char key[64], body[64];
    assert_int_equal(olink_recv(f->link, key, sizeof key, body, sizeof body), -1); /* nothing yet */
    router_reply(f->router, g_pending, "done", 4);
    assert_int_equal(link_recv(f, key, body, sizeof body), 4);
    assert_string_equal(key, "late-1");
    assert_memory_equal(body, "done", 4);
}

/* A server that answers [key][empty][body] (a gateway of the REQ framing), and one answer with
 * no key: the link reads the first and skips the second. */
static void test_link_reads_either_answer_form(void **state) {
    fixture *f = *state;
    char err[128];
    assert_true(olink_send(f->link, "c-7", "x", 1, err, sizeof err));
    zmq_pollitem_t it = {f->router, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 1000), 1);
    char id[256], k[64], b[64];
    int idn = zmq_recv(f->router, id, sizeof id, 0);
    assert_true(idn > 0);
    assert_int_equal(zmq_recv(f->router, k, sizeof k, 0), 3);
    assert_int_equal(zmq_recv(f->router, b, sizeof b, 0), 1);
    zmq_send(f->router, id, (size_t)idn, ZMQ_SNDMORE); /* keyless: an empty key */
    zmq_send(f->router, "", 0, ZMQ_SNDMORE);
    zmq_send(f->router, "junk", 4, 0);
    zmq_send(f->router, id, (size_t)idn, ZMQ_SNDMORE);
    zmq_send(f->router, "c-7", 3, ZMQ_SNDMORE);
    zmq_send(f->router, "", 0, ZMQ_SNDMORE);
    zmq_send(f->router, "ok", 2, 0);
    char key[64], body[64];
    assert_int_equal(link_recv(f, key, body, sizeof body), 2);
    assert_string_equal(key, "c-7");
    assert_memory_equal(body, "ok", 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_link_request_is_key_and_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_req_client_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delimited_dealer_gets_its_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_answer_keeps_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_reads_either_answer_form, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
