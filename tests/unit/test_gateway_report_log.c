/* The gateway core in front of a broker that keeps its own report log (as the exchange
 * process does): the broker's seqs are published as they are (the same after a gateway
 * restart), get_reports is answered from the broker's log, and a lost link is never turned
 * into a lie: order_status does not say "not found", and an order whose outcome is unknown
 * gets no answer at all. A fake broker, no sockets. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/gateway/gateway.h"
#include "mpjson.h"

typedef struct {
    broker_callbacks cb;
    bool up;
    bool unknown_next; /* the next send_order: the link fails after it left */
    broker_report log[16];
    size_t n;
} fake;

static void f_set_callbacks(void *self, const broker_callbacks *cb) {
    fake *f = self;
    if (cb) f->cb = *cb;
    else memset(&f->cb, 0, sizeof f->cb);
}
static bool f_login(void *self, const char *id, const char *pw, char *err, size_t errlen) {
    (void)id, (void)pw, (void)err, (void)errlen;
    ((fake *)self)->up = true;
    return true;
}
static void f_logout(void *self) { ((fake *)self)->up = false; }
static bool f_is_connected(void *self) { return ((fake *)self)->up; }
static size_t f_list_accounts(void *self, broker_account *out, size_t cap) {
    (void)self, (void)out, (void)cap;
    return 0;
}
static size_t f_list_products(void *self, broker_product *out, size_t cap) {
    (void)self, (void)out, (void)cap;
    return 0;
}
static bool f_subscribe(void *self, const char *s, char *err, size_t errlen) {
    (void)self, (void)s, (void)err, (void)errlen;
    return true;
}
static bool f_send_order(void *self, const broker_order_req *req, broker_send_result *res) {
    fake *f = self;
    memset(res, 0, sizeof res[0]);
    snprintf(res->client_order_id, sizeof res->client_order_id, "%s", req->client_order_id);
    res->status = BROKER_ST_REJECTED;
    if (f->unknown_next) {
        f->unknown_next = false;
        f->up = false;
        res->unknown = true;
        snprintf(res->error_code, sizeof res->error_code, "BROKER_TIMEOUT");
        snprintf(res->error_message, sizeof res->error_message, "no answer to send_order within 1000 ms");
        return false;
    }
    if (!f->up) {
        snprintf(res->error_code, sizeof res->error_code, "BROKER_DISCONNECTED");
        snprintf(res->error_message, sizeof res->error_message, "broker connection lost: test");
        return false;
    }
    res->is_send_order = true;
    res->status = BROKER_ST_ACCEPTED;
    snprintf(res->order_serial, sizeof res->order_serial, "SIM-00000001");
    snprintf(res->error_code, sizeof res->error_code, "0");
    return true;
}
static bool f_cancel(void *self, const char *cid, char *err, size_t errlen) {
    (void)self, (void)cid;
    snprintf(err, errlen, "no");
    return false;
}
static bool f_order_status(void *self, const char *cid, broker_order_info *out) {
    (void)self, (void)cid, (void)out;
    return false; /* not found, or could not ask */
}
static long f_positions(void *self, const char *a, broker_position *out, size_t cap, char *err, size_t errlen) {
    (void)self, (void)a, (void)out, (void)cap;
    snprintf(err, errlen, "broker connection lost: test");
    return -1;
}
static int f_poll_fd(void *self) {
    (void)self;
    return -1;
}
static int64_t f_next(void *self) {
    (void)self;
    return -1;
}
static void f_service(void *self) { (void)self; }
static void f_destroy(void *self) { (void)self; }
static long f_get_reports(void *self, uint64_t since, broker_report *out, size_t cap, broker_report_page *page,
                          char *err, size_t errlen) {
    fake *f = self;
    if (!f->up) {
        snprintf(err, errlen, "broker connection lost: test");
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i < f->n && (size_t)n < cap; i++)
        if (f->log[i].seq > since) out[n++] = f->log[i];
    page->first_seq = f->n ? f->log[0].seq : 1;
    page->last_seq = f->n ? f->log[f->n - 1].seq : 0;
    page->more = false;
    page->epoch = 42;
    return n;
}

static const broker_ops fake_ops = {
    .name = "fake",
    .set_callbacks = f_set_callbacks,
    .login = f_login,
    .logout = f_logout,
    .is_connected = f_is_connected,
    .list_accounts = f_list_accounts,
    .list_products = f_list_products,
    .subscribe = f_subscribe,
    .send_order = f_send_order,
    .cancel_order = f_cancel,
    .order_status = f_order_status,
    .query_positions = f_positions,
    .poll_fd = f_poll_fd,
    .next_timeout_ms = f_next,
    .service = f_service,
    .destroy = f_destroy,
    .get_reports = f_get_reports,
};

typedef struct {
    fake fk;
    broker b;
    gateway_core *g;
    json_t *published[16];
    size_t n_pub;
} fx;

static void pub_report(void *ctx, const char *body, size_t len) {
    fx *f = ctx;
    assert_true(f->n_pub < 16);
    f->published[f->n_pub++] = tk_msgpack_json(body, len); /* published in msgpack */
}

static int setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    f->b = (broker){&fake_ops, &f->fk};
    gateway_sinks s = {.ctx = f, .publish_report = pub_report};
    f->g = gateway_core_new(&f->b, &s, 4);
    char err[64];
    assert_true(broker_login(&f->b, "x", "y", err, sizeof err));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    gateway_core_free(f->g);
    for (size_t i = 0; i < f->n_pub; i++) json_decref(f->published[i]);
    free(f);
    return 0;
}

static json_t *call(fx *f, const char *text, bool expect_reply) {
    size_t len = 99;
    char *r = gateway_core_handle(f->g, text, strlen(text), &len);
    if (!expect_reply) {
        assert_null(r);
        assert_int_equal(len, 0);
        return NULL;
    }
    assert_non_null(r);
    json_t *j = json_loads(r, 0, NULL);
    free(r);
    assert_non_null(j);
    return j;
}

/* The broker reports seq (as the exchange does after restarts: not from 1). */
static void report(fx *f, uint64_t seq) {
    broker_report r;
    memset(&r, 0, sizeof r);
    r.seq = seq;
    snprintf(r.client_order_id, sizeof r.client_order_id, "c-%llu", (unsigned long long)seq);
    snprintf(r.order_serial, sizeof r.order_serial, "SIM-00000001");
    snprintf(r.account, sizeof r.account, "SIM-0001");
    snprintf(r.symbol, sizeof r.symbol, "TXFF5");
    r.qty = 1;
    r.status = BROKER_ST_ACCEPTED;
    f->fk.log[f->fk.n++] = r;
    f->fk.cb.on_report(f->fk.cb.ctx, &r);
}

#define ORDER                                                                                                         \
    "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0001\", \"item_code\": \"TXFF5\", "   \
    "\"side\": \"buy\", \"order_type\": \"Market\", \"price\": 0, \"quantity\": 1, \"open_close\": \"AUTO\", "         \
    "\"note\": \"n\", \"day_trade\": \"N\", \"time_in_force\": \"IOC\", \"client_order_id\": \"k-1\"}}"

static void test_broker_seqs_published_as_they_are(void **state) {
    fx *f = *state;
    report(f, 41);
    report(f, 42);
    f->fk.cb.on_report(f->fk.cb.ctx, &f->fk.log[0]); /* told again: not published twice */
    assert_int_equal(f->n_pub, 2);
    assert_int_equal(json_integer_value(json_object_get(f->published[0], "seq")), 41);
    assert_int_equal(json_integer_value(json_object_get(f->published[1], "seq")), 42);
    assert_int_equal(gateway_core_last_seq(f->g), 42);
    /* get_reports from the broker's log, even what this gateway never saw */
    json_t *j = call(f, "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 0}}", true);
    json_t *d = json_object_get(j, "data");
    assert_int_equal(json_array_size(json_object_get(d, "reports")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(d, "reports"), 0), "seq")), 41);
    assert_int_equal(json_integer_value(json_object_get(d, "first_seq")), 41);
    assert_int_equal(json_integer_value(json_object_get(d, "last_seq")), 42);
    assert_int_equal(json_integer_value(json_object_get(d, "epoch")), 42);
    assert_true(json_is_true(json_object_get(d, "truncated"))); /* this log starts at 41 */
    json_decref(j);
    j = call(f, "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 41}}", true);
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "data"), "reports")), 1);
    json_decref(j);
}

static void test_lost_link_is_said(void **state) {
    fx *f = *state;
    json_t *j = call(f, ORDER, true);
    assert_true(json_is_true(json_object_get(json_object_get(j, "data"), "is_send_order")));
    json_decref(j);
    /* the link fails after the order left: no answer (the client reads "unknown") */
    f->fk.unknown_next = true;
    call(f, ORDER, false);
    /* down: refused with a clear error; health says so; order_status does not say "not found" */
    j = call(f, ORDER, true);
    json_t *d = json_object_get(j, "data");
    assert_true(json_is_false(json_object_get(d, "is_send_order")));
    assert_string_equal(json_string_value(json_object_get(d, "error_code")), "BROKER_DISCONNECTED");
    json_decref(j);
    j = call(f, "{\"operation\": \"health_check\"}", true);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "data"), "status")), "unhealthy");
    assert_true(json_is_false(json_object_get(json_object_get(j, "data"), "exchange_connected")));
    json_decref(j);
    j = call(f, "{\"operation\": \"order_status\", \"parameters\": {\"client_order_id\": \"k-1\"}}", true);
    assert_true(json_is_false(json_object_get(j, "success")));
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), "BROKER_DISCONNECTED");
    json_decref(j);
    j = call(f, "{\"operation\": \"get_reports\", \"parameters\": {\"since_seq\": 0}}", true);
    assert_true(json_is_false(json_object_get(j, "success")));
    json_decref(j);
    j = call(f, "{\"operation\": \"get_positions\", \"parameters\": {\"account\": \"SIM-0001\"}}", true);
    assert_true(json_is_false(json_object_get(j, "success")));
    json_decref(j);
    /* up again: not found is not found */
    f->fk.up = true;
    j = call(f, "{\"operation\": \"order_status\", \"parameters\": {\"client_order_id\": \"k-1\"}}", true);
    assert_true(json_is_true(json_object_get(j, "success")));
    assert_true(json_is_false(json_object_get(json_object_get(j, "data"), "found")));
    json_decref(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_broker_seqs_published_as_they_are, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_link_is_said, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
