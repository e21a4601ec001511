/* The simulated exchange through the broker interface: login, products, fills at the next
 * tick, idempotent client order ids, positions, rejections, limits, IOC expiry, the feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "broker/sim_broker.h"
#include "testkit.h"

static int64_t fixed_now(void) { return 1750152615123456LL; }

typedef struct {
    broker b;
    tk_events ev;
} fixture;

static int setup(void **state) {
    static fixture f;
    memset(&f, 0, sizeof f);
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.now_us = fixed_now;
    assert_true(sim_broker_new(&cfg, &f.b));
    broker_callbacks cb = tk_callbacks(&f.ev);
    broker_set_callbacks(&f.b, &cb);
    char err[160];
    assert_true(broker_login(&f.b, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD, err, sizeof err));
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    broker_destroy(&f->b);
    return 0;
}

static void tick(broker *b, const char *sym, price_t p) {
    broker_tick t;
    memset(&t, 0, sizeof t);
    snprintf(t.symbol, sizeof t.symbol, "%s", sym);
    t.price = p;
    t.volume = 1;
    t.ts_us = fixed_now();
    assert_true(sim_broker_market_tick(b, &t));
}

static broker_order_req req(const char *cid, const char *account, const char *sym, side_t side, int64_t qty) {
    broker_order_req r;
    memset(&r, 0, sizeof r);
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", cid);
    snprintf(r.account, sizeof r.account, "%s", account);
    snprintf(r.symbol, sizeof r.symbol, "%s", sym);
    r.side = side;
    r.qty = qty;
    r.type = BROKER_MARKET;
    r.tif = BROKER_IOC;
    r.open_close = BROKER_AUTO;
    snprintf(r.note, sizeof r.note, "test");
    return r;
}

static const broker_position *find_pos(const broker_position *p, long n, const char *sym) {
    for (long i = 0; i < n; i++)
        if (!strcmp(p[i].symbol, sym)) return &p[i];
    return NULL;
}

static void test_login(void **state) {
    (void)state;
    broker b;
    tk_events ev = {0};
    assert_true(sim_broker_new(NULL, &b));
    broker_callbacks cb = {.ctx = &ev, .on_connection = tk_on_connection};
    broker_set_callbacks(&b, &cb);
    char err[160] = "";
    assert_false(broker_is_connected(&b));
    assert_false(broker_login(&b, SIM_DEFAULT_LOGIN, "wrong", err, sizeof err));
    assert_non_null(strstr(err, "wrong password"));
    assert_false(broker_login(&b, "B999", SIM_DEFAULT_PASSWORD, err, sizeof err));
    assert_non_null(strstr(err, "unknown login id"));
    assert_false(broker_is_connected(&b));
    /* not logged in: refused, and not remembered under its client id */
    broker_order_req r = req("c-1", "SIM-0001", "TXFF5", SIDE_BUY, 1);
    broker_send_result res;
    assert_false(broker_send_order(&b, &r, &res));
    assert_string_equal(res.error_code, "NOT_LOGGED_IN");
    assert_true(broker_login(&b, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD, err, sizeof err));
    assert_true(broker_is_connected(&b));
    assert_int_equal(ev.connected, 1);
    assert_true(broker_send_order(&b, &r, &res));
    assert_false(res.duplicate);
    broker_logout(&b);
    assert_false(broker_is_connected(&b));
    assert_int_equal(ev.connected, 0);
    broker_destroy(&b);
}

static void test_reference_data(void **state) {
    fixture *f = *state;
    broker_account acc[8];
    assert_int_equal(broker_list_accounts(&f->b, acc, 8), 2);
    assert_string_equal(acc[0].account, "SIM-0001");
    assert_string_equal(acc[1].account, "SIM-0002");
    broker_product p[16];
    size_t n = broker_list_products(&f->b, p, 16);
    assert_true(n >= 4);
    const char *want[] = {"TXFF5", "TXFG5", "MXFF5", "MXFG5"};
    for (int i = 0; i < 4; i++) {
        bool found = false;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(p[k].code, want[i])) {
                found = true;
                assert_true(p[k].min_price < p[k].reference_price && p[k].reference_price < p[k].max_price);
                assert_int_equal(strlen(p[k].delivery_month), 6);
            }
        assert_true(found);
    }
    assert_int_equal(broker_list_products(&f->b, NULL, 0), n);
}

static void test_market_fills_at_next_tick(void **state) {
    fixture *f = *state;
    char err[160];
    assert_true(broker_subscribe(&f->b, "TXFF5", err, sizeof err));
    tick(&f->b, "TXFF5", 20000); /* before the order: must not be its price */
    broker_order_req r = req("c-1", "SIM-0001", "TXFF5", SIDE_BUY, 2);
    broker_send_result res;
    assert_true(broker_send_order(&f->b, &r, &res));
    assert_true(res.is_send_order);
    assert_string_equal(res.order_serial, "SIM-00000001");
    assert_string_equal(res.error_code, "0");
    assert_string_equal(res.note, "test");
    assert_int_equal(res.status, BROKER_ST_ACCEPTED);
    assert_int_equal(f->ev.nreports, 1);
    assert_int_equal(f->ev.reports[0].status, BROKER_ST_ACCEPTED);
    assert_string_equal(f->ev.reports[0].fill_id, "");
    tick(&f->b, "MXFF5", 19000); /* other product: no fill */
    assert_int_equal(f->ev.nreports, 1);
    tick(&f->b, "TXFF5", 20007);
    assert_int_equal(f->ev.nreports, 2);
    const broker_report *fr = &f->ev.reports[1];
    assert_int_equal(fr->status, BROKER_ST_FILLED);
    assert_string_equal(fr->client_order_id, "c-1");
    assert_string_equal(fr->order_serial, "SIM-00000001");
    assert_true(fr->fill_id[0] != '\0');
    assert_int_equal(fr->fill_qty, 2);
    assert_int_equal(fr->fill_price, 20007);
    assert_int_equal(fr->filled_qty, 2);
    assert_int_equal(fr->filled_notional, 40014);
    assert_int_equal(fr->ts_us, fixed_now());
    tick(&f->b, "TXFF5", 20010);
    assert_int_equal(f->ev.nreports, 2); /* filled once */
    /* only the subscribed product's ticks came through */
    assert_int_equal(f->ev.nticks, 3);
    broker_order_info info;
    assert_true(broker_order_status(&f->b, "c-1", &info));
    assert_int_equal(info.status, BROKER_ST_FILLED);
    assert_int_equal(info.filled_qty, 2);
    assert_true(broker_order_status(&f->b, "SIM-00000001", &info)); /* by serial too */
    assert_false(broker_order_status(&f->b, "nope", &info));
    assert_false(broker_order_status(&f->b, "SIM-00000009", &info));
}

static void test_idempotent_client_ids(void **state) {
    fixture *f = *state;
    broker_order_req r = req("dup-1", "SIM-0001", "TXFF5", SIDE_BUY, 1);
    broker_send_result a, b;
    assert_true(broker_send_order(&f->b, &r, &a));
    r.qty = 5; /* a different body under the same id is still the same order */
    assert_true(broker_send_order(&f->b, &r, &b));
    assert_true(b.duplicate);
    assert_false(a.duplicate);
    assert_string_equal(a.order_serial, b.order_serial);
    assert_int_equal(f->ev.nreports, 1); /* one accepted report only */
    tick(&f->b, "TXFF5", 20100);
    assert_int_equal(f->ev.nreports, 2);
    assert_int_equal(f->ev.reports[1].fill_qty, 1);
    assert_true(broker_send_order(&f->b, &r, &b)); /* after the fill */
    assert_true(b.duplicate);
    assert_int_equal(b.status, BROKER_ST_FILLED);
    tick(&f->b, "TXFF5", 20101);
    assert_int_equal(f->ev.nreports, 2);
    broker_position p[8];
    char err[160];
    long n = broker_query_positions(&f->b, "SIM-0001", p, 8, err, sizeof err);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].net_qty, 1);
    /* many distinct ids: each is one order */
    for (int i = 0; i < 300; i++) {
        char cid[32];
        snprintf(cid, sizeof cid, "many-%d", i);
        broker_order_req q = req(cid, "SIM-0002", "TXFF5", SIDE_SELL, 1);
        assert_true(broker_send_order(&f->b, &q, &b));
        assert_false(b.duplicate);
        f->ev.nreports = 0;
    }
    for (int i = 0; i < 300; i++) {
        char cid[32];
        snprintf(cid, sizeof cid, "many-%d", i);
        broker_order_req q = req(cid, "SIM-0002", "TXFF5", SIDE_SELL, 1);
        assert_true(broker_send_order(&f->b, &q, &b));
        assert_true(b.duplicate);
        char want[16];
        snprintf(want, sizeof want, "SIM-%08X", i + 2); /* dup-1 was SIM-00000001 */
        assert_string_equal(b.order_serial, want);
    }
    assert_int_equal(f->ev.nreports, 0);
}

static void test_positions_after_buys_and_sells(void **state) {
    fixture *f = *state;
    broker_send_result res;
    broker_order_req r = req("p1", "SIM-0001", "TXFF5", SIDE_BUY, 2);
    broker_send_order(&f->b, &r, &res);
    tick(&f->b, "TXFF5", 100 * 200); /* bought 2 at 20000 */
    r = req("p2", "SIM-0001", "TXFF5", SIDE_SELL, 1);
    broker_send_order(&f->b, &r, &res);
    tick(&f->b, "TXFF5", 20010); /* sold 1 at 20010: +10 */
    broker_position p[8];
    char err[160];
    long n = broker_query_positions(&f->b, "SIM-0001", p, 8, err, sizeof err);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].net_qty, 1);
    assert_int_equal(p[0].current_long, 1);
    assert_int_equal(p[0].current_short, 0);
    assert_int_equal(p[0].realized_pl, 10);
    assert_true(p[0].avg_cost > 19999.9 && p[0].avg_cost < 20000.1);
    assert_int_equal(p[0].today_filled_long, 2);
    assert_int_equal(p[0].today_filled_short, 1);
    assert_int_equal(p[0].today_closed, 1);
    assert_int_equal(p[0].reference_price, 20010);
    assert_int_equal(p[0].unrealized_pl, 10);
    /* sell 3 at 19990: closes 1 (-10), opens 2 short at 19990 */
    r = req("p3", "SIM-0001", "TXFF5", SIDE_SELL, 3);
    broker_send_order(&f->b, &r, &res);
    tick(&f->b, "TXFF5", 19990);
    n = broker_query_positions(&f->b, "SIM-0001", p, 8, err, sizeof err);
    assert_int_equal(p[0].net_qty, -2);
    assert_int_equal(p[0].current_short, 2);
    assert_int_equal(p[0].realized_pl, 0);
    assert_true(p[0].avg_cost > 19989.9 && p[0].avg_cost < 19990.1);
    tick(&f->b, "TXFF5", 19980);
    n = broker_query_positions(&f->b, "SIM-0001", p, 8, err, sizeof err);
    assert_int_equal(p[0].unrealized_pl, 20); /* short 2 from 19990, now 19980 */
    /* another account and product are kept apart */
    r = req("p4", "SIM-0002", "MXFG5", SIDE_BUY, 1);
    broker_send_order(&f->b, &r, &res);
    tick(&f->b, "MXFG5", 20500);
    n = broker_query_positions(&f->b, "SIM-0002", p, 8, err, sizeof err);
    assert_int_equal(n, 1);
    assert_non_null(find_pos(p, n, "MXFG5"));
    assert_int_equal(find_pos(p, n, "MXFG5")->net_qty, 1);
    n = broker_query_positions(&f->b, "SIM-0001", p, 8, err, sizeof err);
    assert_int_equal(n, 1);
    assert_int_equal(broker_query_positions(&f->b, "SIM-9999", p, 8, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown order account"));
    /* buy 2 back at 19970: flat, realized +40 total */
    r = req("p5", "SIM-0001", "TXFF5", SIDE_BUY, 2);
    broker_send_order(&f->b, &r, &res);
    tick(&f->b, "TXFF5", 19970);
    n = broker_query_positions(&f->b, "SIM-0001", p, 8, err, sizeof err);
    assert_int_equal(p[0].net_qty, 0);
    assert_int_equal(p[0].realized_pl, 40);
    assert_int_equal(p[0].unrealized_pl, 0);
}

static void test_rejections(void **state) {
    fixture *f = *state;
    broker_send_result res;
    broker_order_req r = req("r1", "NOPE", "TXFF5", SIDE_BUY, 1);
    assert_false(broker_send_order(&f->b, &r, &res));
    assert_string_equal(res.error_code, "UNKNOWN_ACCOUNT");
    assert_int_equal(res.status, BROKER_ST_REJECTED);
    assert_int_equal(f->ev.nreports, 1);
    assert_int_equal(f->ev.reports[0].status, BROKER_ST_REJECTED);
    assert_non_null(strstr(f->ev.reports[0].reason, "NOPE"));
    assert_false(broker_send_order(&f->b, &r, &res)); /* same id: same answer, no new report */
    assert_true(res.duplicate);
    assert_int_equal(f->ev.nreports, 1);
    r = req("r2", "SIM-0001", "ZZZ9", SIDE_BUY, 1);
    assert_false(broker_send_order(&f->b, &r, &res));
    assert_string_equal(res.error_code, "UNKNOWN_PRODUCT");
    r = req("r3", "SIM-0001", "TXFF5", SIDE_BUY, 0);
    assert_false(broker_send_order(&f->b, &r, &res));
    assert_string_equal(res.error_code, "INVALID_QUANTITY");
    r = req("r4", "SIM-0001", "TXFF5", SIDE_BUY, 1);
    r.type = BROKER_LIMIT;
    r.price = 30000; /* over the limit-up */
    assert_false(broker_send_order(&f->b, &r, &res));
    assert_string_equal(res.error_code, "PRICE_OUT_OF_BAND");
    tick(&f->b, "TXFF5", 20000);
    for (size_t i = 0; i < f->ev.nreports; i++) assert_int_equal(f->ev.reports[i].status, BROKER_ST_REJECTED);
}

/* A client sending bad orders in a loop: each is answered with its reason, the book keeps the
 * first SIM_MAX_KEPT_REJECTS and no more, and a good order after them is placed as usual. */
static void test_rejects_kept_bounded(void **state) {
    fixture *f = *state;
    broker_send_result res;
    for (int k = 0; k < SIM_MAX_KEPT_REJECTS + 50; k++) {
        char cid[32];
        snprintf(cid, sizeof cid, "bad-%d", k);
        broker_order_req r = req(cid, "SIM-0001", "ZZZ9", SIDE_BUY, 1);
        assert_false(broker_send_order(&f->b, &r, &res));
        assert_string_equal(res.error_code, "UNKNOWN_PRODUCT");
        assert_int_equal(res.status, BROKER_ST_REJECTED);
        f->ev.nreports = 0; /* the capture's own room is not what is tested */
    }
    assert_int_equal(sim_broker_order_count(&f->b, NULL), SIM_MAX_KEPT_REJECTS);
    broker_order_req good = req("good-1", "SIM-0001", "TXFF5", SIDE_BUY, 1);
    assert_true(broker_send_order(&f->b, &good, &res));
    assert_int_equal(sim_broker_order_count(&f->b, NULL), SIM_MAX_KEPT_REJECTS + 1);
}

static void test_limit_rest_cancel_and_ioc_expiry(void **state) {
    fixture *f = *state;
    char err[160];
    broker_send_result res;
    broker_order_req r = req("l1", "SIM-0001", "TXFF5", SIDE_BUY, 1);
    r.type = BROKER_LIMIT;
    r.tif = BROKER_ROD;
    r.price = 19950;
    assert_true(broker_send_order(&f->b, &r, &res));
    tick(&f->b, "TXFF5", 20000);
    tick(&f->b, "TXFF5", 19960);
    assert_int_equal(f->ev.nreports, 1); /* still resting */
    tick(&f->b, "TXFF5", 19940);
    assert_int_equal(f->ev.nreports, 2);
    assert_int_equal(f->ev.reports[1].status, BROKER_ST_FILLED);
    assert_int_equal(f->ev.reports[1].fill_price, 19940);
    assert_false(broker_cancel_order(&f->b, "l1", err, sizeof err)); /* filled */
    assert_non_null(strstr(err, "filled"));
    assert_false(broker_cancel_order(&f->b, "unknown", err, sizeof err));

    r = req("l2", "SIM-0001", "TXFF5", SIDE_SELL, 1);
    r.type = BROKER_LIMIT;
    r.tif = BROKER_ROD;
    r.price = 20500;
    assert_true(broker_send_order(&f->b, &r, &res));
    assert_true(broker_cancel_order(&f->b, "l2", err, sizeof err));
    assert_int_equal(f->ev.reports[f->ev.nreports - 1].status, BROKER_ST_CANCELLED);
    tick(&f->b, "TXFF5", 20600);
    assert_int_equal(f->ev.reports[f->ev.nreports - 1].status, BROKER_ST_CANCELLED); /* no fill after cancel */

    size_t before = f->ev.nreports;
    r = req("l3", "SIM-0001", "TXFF5", SIDE_BUY, 1);
    r.type = BROKER_LIMIT;
    r.tif = BROKER_IOC;
    r.price = 20000;
    assert_true(broker_send_order(&f->b, &r, &res));
    tick(&f->b, "MXFF5", 19000); /* other product: no effect */
    assert_int_equal(f->ev.nreports, before + 1);
    tick(&f->b, "TXFF5", 20001); /* not reached: expires */
    assert_int_equal(f->ev.nreports, before + 2);
    assert_int_equal(f->ev.reports[f->ev.nreports - 1].status, BROKER_ST_EXPIRED);
    assert_true(f->ev.reports[f->ev.nreports - 1].reason[0] != '\0');
    tick(&f->b, "TXFF5", 19000);
    assert_int_equal(f->ev.nreports, before + 2);

    r = req("l4", "SIM-0001", "TXFF5", SIDE_BUY, 1);
    r.type = BROKER_LIMIT;
    r.tif = BROKER_FOK;
    r.price = 20000;
    assert_true(broker_send_order(&f->b, &r, &res));
    tick(&f->b, "TXFF5", 19999); /* reached: fills */
    assert_int_equal(f->ev.reports[f->ev.nreports - 1].status, BROKER_ST_FILLED);
    assert_int_equal(f->ev.reports[f->ev.nreports - 1].fill_price, 19999);
}

/* A feed of three ticks, all due at once. */
typedef struct {
    int i;
} fake_feed;

static int64_t ff_due(void *ctx) { return ((fake_feed *)ctx)->i < 3 ? 0 : -1; }

static int ff_next(void *ctx, broker_tick *out) {
    fake_feed *ff = ctx;
    if (ff->i >= 3) return -1;
    memset(out, 0, sizeof *out);
    snprintf(out->symbol, sizeof out->symbol, "TXFG5");
    out->price = 21000 + ff->i++;
    return 1;
}

static void test_feed_and_service(void **state) {
    (void)state;
    fake_feed ff = {0};
    sim_config cfg;
    sim_config_default(&cfg);
    cfg.feed = (sim_feed){.ctx = &ff, .due_in_ms = ff_due, .next = ff_next};
    cfg.max_ticks_per_service = 2;
    broker b;
    tk_events ev = {0};
    assert_true(sim_broker_new(&cfg, &b));
    broker_callbacks cb = {.ctx = &ev, .on_tick = tk_on_tick, .on_report = tk_on_report};
    broker_set_callbacks(&b, &cb);
    char err[160];
    assert_true(broker_login(&b, SIM_DEFAULT_LOGIN, SIM_DEFAULT_PASSWORD, err, sizeof err));
    assert_true(broker_subscribe(&b, "*", err, sizeof err));
    broker_order_req r = req("f1", "SIM-0001", "TXFG5", SIDE_SELL, 1);
    broker_send_result res;
    assert_true(broker_send_order(&b, &r, &res));
    assert_int_equal(broker_next_timeout_ms(&b), 0);
    assert_int_equal(broker_poll_fd(&b), -1);
    broker_service(&b); /* two ticks at most */
    assert_int_equal(ev.nticks, 2);
    assert_int_equal(ev.reports[1].fill_price, 21000);
    broker_service(&b);
    assert_int_equal(ev.nticks, 3);
    assert_int_equal(broker_next_timeout_ms(&b), -1);
    broker_service(&b);
    assert_int_equal(ev.nticks, 3);
    broker_destroy(&b);
    broker_destroy(&b); /* harmless twice */
}

static void test_names(void **state) {
    (void)state;
    assert_string_equal(broker_status_name(BROKER_ST_PARTIALLY_FILLED), "partially_filled");
    assert_string_equal(broker_status_name(BROKER_ST_EXPIRED), "expired");
    broker_order_type t;
    assert_true(broker_order_type_parse("MarketPrice", &t));
    assert_int_equal(t, BROKER_MARKET_PRICE);
    assert_false(broker_order_type_parse("market", &t));
    broker_tif tif;
    assert_true(broker_tif_parse("FOK", &tif));
    assert_false(broker_tif_parse("GTC", &tif));
    broker_open_close oc;
    assert_true(broker_open_close_parse("AUTO", &oc));
    assert_string_equal(broker_open_close_name(oc), "AUTO");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login),
        cmocka_unit_test_setup_teardown(test_reference_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_market_fills_at_next_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_client_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions_after_buys_and_sells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_kept_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_rest_cancel_and_ioc_expiry, setup, teardown),
        cmocka_unit_test(test_feed_and_service),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
