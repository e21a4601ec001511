/* The gateway core with a broker that answers orders later (send_order_async): each order is
 * handed on without waiting for the one before, its answer goes back under its token whatever
 * the order the broker answers in, an answer whose outcome is unknown goes unanswered, and an
 * order refused at once is answered at once. The broker is the simulator (sim_broker) behind a
 * wrapper that holds each answer until the test releases it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "app/gateway/gateway.h"
#include "broker/sim_broker.h"

#define MAX_HELD 16

/* The simulator, answering later. */
typedef struct {
    broker inner;
    broker_callbacks cb;
    int held;
    uint64_t token[MAX_HELD];
    broker_order_req req[MAX_HELD];
    bool down; /* refuse at once, as an adapter whose link is down */
    int sync_sends;
} later;

static void l_set_callbacks(void *self, const broker_callbacks *cb) {
    later *l = self;
    if (cb) l->cb = *cb;
    else memset(&l->cb, 0, sizeof l->cb);
    broker_set_callbacks(&l->inner, cb); /* reports and ticks straight from the simulator */
}
static bool l_send_order(void *self, const broker_order_req *req, broker_send_result *res) {
    later *l = self;
    l->sync_sends++;
    return broker_send_order(&l->inner, req, res);
}
static bool l_send_async(void *self, const broker_order_req *req, uint64_t token, broker_send_result *res) {
    later *l = self;
    if (l->down) {
        memset(res, 0, sizeof *res);
        snprintf(res->client_order_id, sizeof res->client_order_id, "%s", req->client_order_id);
        snprintf(res->error_code, sizeof res->error_code, "BROKER_DISCONNECTED");
        snprintf(res->error_message, sizeof res->error_message, "broker connection lost");
        res->status = BROKER_ST_REJECTED;
        return false;
    }
    assert_true(l->held < MAX_HELD);
    l->token[l->held] = token;
    l->req[l->held++] = *req;
    return true;
}
static bool l_login(void *self, const char *id, const char *pw, char *err, size_t errlen) {
    return broker_login(&((later *)self)->inner, id, pw, err, errlen);
}
static void l_logout(void *self) { broker_logout(&((later *)self)->inner); }
static bool l_is_connected(void *self) { return broker_is_connected(&((later *)self)->inner); }
static size_t l_accounts(void *self, broker_account *out, size_t cap) {
    return broker_list_accounts(&((later *)self)->inner, out, cap);
}
static size_t l_products(void *self, broker_product *out, size_t cap) {
    return broker_list_products(&((later *)self)->inner, out, cap);
}
static bool l_subscribe(void *self, const char *s, char *err, size_t errlen) {
    return broker_subscribe(&((later *)self)->inner, s, err, errlen);
}
static bool l_cancel(void *self, const char *cid, char *err, size_t errlen) {
    return broker_cancel_order(&((later *)self)->inner, cid, err, errlen);
}
static bool l_status(void *self, const char *cid, broker_order_info *out) {
    return broker_order_status(&((later *)self)->inner, cid, out);
}
static long l_positions(void *self, const char *a, broker_position *out, size_t cap, char *err, size_t errlen) {
    return broker_query_positions(&((later *)self)->inner, a, out, cap, err, errlen);
}
static int l_poll_fd(void *self) {
    (void)self;
    return -1;
}
static int64_t l_timeout(void *self) {
    (void)self;
    return -1;
}
static void l_service(void *self) { (void)self; }
static void l_destroy(void *self) { broker_destroy(&((later *)self)->inner); }

static const broker_ops LATER_OPS = {
    .name = "later", .set_callbacks = l_set_callbacks, .login = l_login, .logout = l_logout,
    .is_connected = l_is_connected, .list_accounts = l_accounts, .list_products = l_products,
    .subscribe = l_subscribe, .send_order = l_send_order, .cancel_order = l_cancel, .order_status = l_status,
    .query_positions = l_positions, .poll_fd = l_poll_fd, .next_timeout_ms = l_timeout, .service = l_service,
    .destroy = l_destroy, .send_order_async = l_send_async,
};

/* The broker answers the held order whose client order id is cid (unknown: no answer came). */
static void release(later *l, const char *cid, bool unknown) {
    for (int i = 0; i < l->held; i++) {
        if (strcmp(l->req[i].client_order_id, cid)) continue;
        broker_send_result res;
        broker_send_order(&l->inner, &l->req[i], &res);
        if (unknown) res.unknown = true;
        uint64_t token = l->token[i];
        l->token[i] = l->token[l->held - 1];
        l->req[i] = l->req[--l->held];
        l->cb.on_send_result(l->cb.ctx, token, &res);
        return;
    }
    fail_msg("no order %s held", cid);
}

typedef struct {
    later l;
    broker b;
    gateway_core *g;
    int replies;
    uint64_t reply_token[MAX_HELD];
    json_t *reply[MAX_HELD]; /* NULL: unanswered */
} fx;

static void on_reply(void *ctx, uint64_t token, const char *json, size_t len) {
    fx *f = ctx;
    assert_true(f->replies < MAX_HELD);
    f->reply_token[f->replies] = token;
    f->reply[f->replies++] = json ? json_loadb(json, len, 0, NULL) : NULL;
}

static int setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    assert_true(sim_broker_new(NULL, &f->l.inner));
    f->b = (broker){&LATER_OPS, &f->l};
    gateway_sinks s = {.ctx = f, .reply = on_reply};
    f->g = gateway_core_new(&f->b, &s, 16);
    char err[160];
    assert_true(broker_login(&f->b, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD, err, sizeof err));
    assert_true(broker_subscribe(&f->b, "TXFF5", err, sizeof err));
    broker_tick t = {.symbol = "TXFF5", .price = 20000, .volume = 1, .ts_us = 1};
    assert_true(sim_broker_market_tick(&f->l.inner, &t));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    for (int i = 0; i < f->replies; i++) json_decref(f->reply[i]);
    gateway_core_free(f->g);
    broker_destroy(&f->b);
    free(f);
    return 0;
}

/* Hands an order with client order id cid to the core: returns the token its answer will come
 * under (0: answered at once, into *now when now is given). */
static uint64_t order(fx *f, const char *cid, json_t **now) {
    char text[512];
    snprintf(text, sizeof text,
             "{\"operation\": \"send_order\", \"parameters\": {\"order_account\": \"SIM-0001\", \"item_code\": "
             "\"TXFF5\", \"side\": \"buy\", \"order_type\": \"Market\", \"price\": 0.0, \"quantity\": 1, "
             "\"open_close\": \"AUTO\", \"note\": \"aftm\", \"day_trade\": \"N\", \"time_in_force\": \"IOC\", "
             "\"client_order_id\": \"%s\"}}",
             cid);
    size_t len = 0;
    char *r = gateway_core_handle(f->g, text, strlen(text), &len);
    if (r) {
        assert_non_null(now);
        *now = json_loadb(r, len, 0, NULL);
        free(r);
        return 0;
    }
    return gateway_core_deferred(f->g);
}

static const char *reply_coid(const json_t *j) {
    return json_string_value(json_object_get(json_object_get(j, "data"), "client_order_id"));
}

static void test_orders_handed_on_without_waiting(void **state) {
    fx *f = *state;
    uint64_t t1 = order(f, "c-1", NULL), t2 = order(f, "c-2", NULL), t3 = order(f, "c-3", NULL);
    assert_true(t1 && t2 && t3 && t1 != t2 && t2 != t3 && t1 != t3);
    assert_int_equal(f->l.held, 3);
    assert_int_equal(gateway_core_in_flight(f->g), 3);
    assert_int_equal(gateway_core_orders(f->g), 3);
    assert_int_equal(f->l.sync_sends, 0);
    /* the broker answers in its own order: each answer goes back under its own token */
    release(&f->l, "c-3", false);
    release(&f->l, "c-1", false);
    release(&f->l, "c-2", false);
    assert_int_equal(f->replies, 3);
    uint64_t want[3] = {t3, t1, t2};
    const char *cid[3] = {"c-3", "c-1", "c-2"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->reply_token[i], want[i]);
        assert_non_null(f->reply[i]);
        assert_true(json_is_true(json_object_get(f->reply[i], "success")));
        assert_true(json_is_true(json_object_get(json_object_get(f->reply[i], "data"), "is_send_order")));
        assert_string_equal(reply_coid(f->reply[i]), cid[i]);
    }
    assert_int_equal(gateway_core_in_flight(f->g), 0);
}

static void test_unknown_outcome_goes_unanswered_others_complete(void **state) {
    fx *f = *state;
    uint64_t t1 = order(f, "c-1", NULL), t2 = order(f, "c-2", NULL);
    release(&f->l, "c-1", true); /* the link failed after it left */
    release(&f->l, "c-2", false);
    assert_int_equal(f->replies, 2);
    assert_int_equal(f->reply_token[0], t1);
    assert_null(f->reply[0]);
    assert_int_equal(f->reply_token[1], t2);
    assert_string_equal(reply_coid(f->reply[1]), "c-2");
    /* the same id again (the client's retry): the broker's answer says it had it */
    uint64_t t3 = order(f, "c-2", NULL);
    release(&f->l, "c-2", false);
    assert_int_equal(f->reply_token[2], t3);
    assert_true(json_is_true(json_object_get(json_object_get(f->reply[2], "data"), "duplicate")));
}

static void test_refused_at_once_answered_at_once(void **state) {
    fx *f = *state;
    f->l.down = true;
    json_t *now = NULL;
    assert_int_equal(order(f, "c-9", &now), 0);
    assert_non_null(now);
    json_t *d = json_object_get(now, "data");
    assert_true(json_is_false(json_object_get(d, "is_send_order")));
    assert_string_equal(json_string_value(json_object_get(d, "error_code")), "BROKER_DISCONNECTED");
    json_decref(now);
    assert_int_equal(gateway_core_in_flight(f->g), 0);
    assert_int_equal(f->replies, 0);
}

static void test_without_a_reply_sink_orders_are_answered_at_once(void **state) {
    fx *f = *state;
    gateway_core_free(f->g);
    gateway_sinks s = {0};
    f->g = gateway_core_new(&f->b, &s, 16);
    json_t *now = NULL;
    assert_int_equal(order(f, "c-5", &now), 0);
    assert_string_equal(reply_coid(now), "c-5");
    json_decref(now);
    assert_int_equal(f->l.sync_sends, 1);
    assert_int_equal(f->l.held, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_orders_handed_on_without_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_outcome_goes_unanswered_others_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_at_once_answered_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_reply_sink_orders_are_answered_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
