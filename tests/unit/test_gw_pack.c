/* The order port's msgpack messages: send_order round-trips exactly and every malformed field
 * is refused with its reason; answers and reports carry the same fields and values as their
 * JSON forms, and the executor reads either encoding the same way, refusing what no int64 or
 * buffer holds. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "app/executor/executor_proto.h"
#include "mpjson.h"
#include "net/gw_fields.h"
#include "net/gw_pack.h"
#include "net/gw_proto.h"
#include "wire/mpmap.h"

static broker_order_req sample_req(void) {
    broker_order_req req;
    memset(&req, 0, sizeof req); /* padding too: compared as bytes */
    req.side = SIDE_SELL, req.qty = 3, req.type = BROKER_LIMIT, req.price = 22150, req.tif = BROKER_ROD;
    req.open_close = BROKER_AUTO, req.day_trade = true;
    snprintf(req.client_order_id, sizeof req.client_order_id, "aftm-ab12-7.E");
    snprintf(req.account, sizeof req.account, "SIM-0001");
    snprintf(req.symbol, sizeof req.symbol, "TXFF5");
    snprintf(req.note, sizeof req.note, "aftm");
    return req;
}

/* Unpacks what p holds as a send_order; the refusal's code and message when it fails. */
static bool unpack_order(const char *data, size_t len, broker_order_req *out, char *code, char *msg) {
    mp_reader r;
    mp_reader_init(&r);
    msgpack_object root;
    bool ok = mp_read(&r, data, len, &root) && gw_unpack_send_order(&root, out, code, 32, msg, 256);
    mp_reader_destroy(&r);
    return ok;
}

static void test_send_order_round_trip(void **state) {
    (void)state;
    gw_packer p;
    gw_packer_init(&p);
    broker_order_req req = sample_req(), back;
    char code[32] = "", msg[256] = "";
    assert_true(gw_pack_send_order(&p, &req));
    assert_true(mp_is_map(gw_packed(&p), gw_packed_len(&p)));
    assert_true(unpack_order(gw_packed(&p), gw_packed_len(&p), &back, code, msg));
    assert_memory_equal(&back, &req, sizeof req);
    /* the same fields and values as the JSON request */
    json_t *j = tk_msgpack_json(gw_packed(&p), gw_packed_len(&p));
    json_t *want = json_pack("{s:s,s:o}", "operation", "send_order", "parameters", gw_send_order_params(&req));
    assert_true(json_equal(j, want));
    json_decref(j);
    json_decref(want);
    /* a market order: price 0 whatever the struct held */
    req.type = BROKER_MARKET, req.tif = BROKER_IOC;
    assert_true(gw_pack_send_order(&p, &req));
    assert_true(unpack_order(gw_packed(&p), gw_packed_len(&p), &back, code, msg));
    assert_int_equal(back.type, BROKER_MARKET);
    assert_int_equal(back.price, 0);
    gw_packer_destroy(&p);
}

/* A send_order whose parameters are params (a JSON text turned into msgpack). */
static void expect_refused(const char *params_json, const char *want_code, const char *want_msg) {
    json_t *params = json_loads(params_json, 0, NULL);
    assert_non_null(params);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    mp_pack_str(&pk, "operation");
    mp_pack_str(&pk, "send_order");
    mp_pack_str(&pk, "parameters");
    msgpack_pack_map(&pk, json_object_size(params));
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v) {
        mp_pack_str(&pk, key);
        if (json_is_string(v)) mp_pack_str(&pk, json_string_value(v));
        else if (json_is_integer(v)) msgpack_pack_int64(&pk, json_integer_value(v));
        else if (json_is_real(v)) msgpack_pack_double(&pk, json_real_value(v));
        else if (json_is_true(v)) msgpack_pack_true(&pk);
        else msgpack_pack_nil(&pk);
    }
    broker_order_req back;
    char code[32] = "", msg[256] = "";
    assert_false(unpack_order(sb.data, sb.size, &back, code, msg));
    assert_string_equal(code, want_code);
    assert_string_equal(msg, want_msg);
    msgpack_sbuffer_destroy(&sb);
    json_decref(params);
}

#define FIELDS                                                                                                       \
    "\"order_account\": \"SIM-0001\", \"item_code\": \"txff5\", \"side\": \"buy\", \"order_type\": \"Limit\", "      \
    "\"open_close\": \"AUTO\", \"day_trade\": \"N\", \"time_in_force\": \"ROD\", \"note\": \"n\", "

static void test_send_order_refusals(void **state) {
    (void)state;
    expect_refused("{" FIELDS "\"price\": 20000, \"quantity\": 1}", "INVALID_ORDER",
                   "client_order_id must be a string of at most 63 characters");
    expect_refused("{" FIELDS "\"price\": 20000, \"quantity\": 1, \"client_order_id\": \"has space\"}", "INVALID_ORDER",
                   "client_order_id must be 1-63 printable characters without spaces");
    expect_refused("{" FIELDS "\"price\": 20000.5, \"quantity\": 1, \"client_order_id\": \"c1\"}",
                   "ORDER_EXECUTION_ERROR", "price must be a whole number of points, got 20000.5");
    expect_refused("{" FIELDS "\"price\": -1, \"quantity\": 1, \"client_order_id\": \"c1\"}", "ORDER_EXECUTION_ERROR",
                   "price must be a number >= 0");
    expect_refused("{" FIELDS "\"price\": 20000, \"quantity\": 1.5, \"client_order_id\": \"c1\"}",
                   "ORDER_EXECUTION_ERROR", "quantity must be a whole number");
    expect_refused("{" FIELDS "\"price\": 20000, \"quantity\": 10000000000, \"client_order_id\": \"c1\"}",
                   "ORDER_EXECUTION_ERROR", "quantity must be a whole number");
    expect_refused("{\"order_account\": 7, \"item_code\": \"TXFF5\"}", "INVALID_ORDER",
                   "order_account must be a string of at most 31 characters");
    expect_refused("{\"order_account\": \"SIM-0001\", \"item_code\": \"TXFF5\", \"side\": \"hold\", \"order_type\": "
                   "\"Market\", \"open_close\": \"AUTO\", \"day_trade\": \"N\", \"time_in_force\": \"IOC\", \"note\": "
                   "\"\", \"client_order_id\": \"c1\", \"price\": 0, \"quantity\": 1}",
                   "ORDER_EXECUTION_ERROR", "side is not one of its known values");

    /* another operation, not a map, cut short, trailing bytes */
    gw_packer p;
    gw_packer_init(&p);
    assert_true(gw_pack_error(&p, "X", "y")); /* a map without "operation": send_order */
    broker_order_req back;
    char code[32] = "", msg[256] = "";
    assert_false(unpack_order(gw_packed(&p), gw_packed_len(&p), &back, code, msg));
    assert_string_equal(code, "UNKNOWN_OPERATION");
    broker_order_req req = sample_req();
    assert_true(gw_pack_send_order(&p, &req));
    mp_reader r;
    mp_reader_init(&r);
    msgpack_object root;
    assert_false(mp_read(&r, gw_packed(&p), gw_packed_len(&p) - 1, &root));
    char longer[1024];
    memcpy(longer, gw_packed(&p), gw_packed_len(&p));
    longer[gw_packed_len(&p)] = '\0';
    assert_false(mp_read(&r, longer, gw_packed_len(&p) + 1, &root));
    assert_false(mp_read(&r, "\x93\x01\x02\x03", 4, &root)); /* an array */
    /* a header claiming 2^32 entries, at the top or inside: refused before anything is allocated */
    assert_false(mp_read(&r, "\xdf\xff\xff\xff\xff", 5, &root));
    assert_false(mp_read(&r, "\x81\xa1" "a" "\xdd\xff\xff\xff\xff\x00", 9, &root));
    assert_false(mp_read(&r, "\x81\xa1" "a" "\xc6\xff\xff\xff\xff", 8, &root)); /* a bin as long */
    assert_false(mp_is_map("{\"a\": 1}", 8));
    mp_reader_destroy(&r);
    gw_packer_destroy(&p);
}

/* The executor's reading of an answer given as msgpack bytes and as JSON text. */
static void read_both(gw_packer *p, const char *json_text, exproto_send_reply *from_mp, exproto_send_reply *from_json) {
    mp_reader r;
    mp_reader_init(&r);
    assert_true(exproto_read_send_reply(&r, gw_packed(p), gw_packed_len(p), from_mp));
    assert_true(exproto_read_send_reply(&r, json_text, strlen(json_text), from_json));
    assert_false(exproto_read_send_reply(&r, "\x81\xa1", 2, from_json)); /* cut short */
    assert_false(exproto_read_send_reply(&r, "[1]", 3, from_json));
    assert_true(exproto_read_send_reply(&r, json_text, strlen(json_text), from_json));
    mp_reader_destroy(&r);
}

static void test_answers_read_alike(void **state) {
    (void)state;
    gw_packer p;
    gw_packer_init(&p);
    broker_send_result res;
    memset(&res, 0, sizeof res);
    res.is_send_order = true, res.duplicate = true, res.status = BROKER_ST_FILLED;
    snprintf(res.client_order_id, sizeof res.client_order_id, "aftm-ab12-7.E");
    snprintf(res.order_serial, sizeof res.order_serial, "SIM-00000042");
    snprintf(res.error_code, sizeof res.error_code, "0");
    assert_true(gw_pack_send_answer(&p, &res));
    json_t *jreply = gw_ok(gw_send_result_json(&res, true));
    json_t *fromp = tk_msgpack_json(gw_packed(&p), gw_packed_len(&p));
    assert_true(json_equal(fromp, jreply)); /* the extended JSON answer, field for field */
    char *text = gw_dumps(jreply);
    exproto_send_reply a, b;
    read_both(&p, text, &a, &b);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(a.accepted && a.duplicate);
    assert_string_equal(a.serial, "SIM-00000042");
    free(text);
    json_decref(fromp);
    json_decref(jreply);

    /* a refusal */
    assert_true(gw_pack_error(&p, "ACCOUNT_NOT_IN_SESSION", "Account X is not an account of this session"));
    jreply = gw_err("ACCOUNT_NOT_IN_SESSION", "Account X is not an account of this session");
    text = gw_dumps(jreply);
    read_both(&p, text, &a, &b);
    assert_memory_equal(&a, &b, sizeof a);
    assert_false(a.accepted);
    assert_string_equal(a.reason, "Account X is not an account of this session (ACCOUNT_NOT_IN_SESSION)");
    free(text);
    json_decref(jreply);
    gw_packer_destroy(&p);
}

static broker_report sample_report(void) {
    broker_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.client_order_id, sizeof r.client_order_id, "aftm-ab12-7.E");
    snprintf(r.order_serial, sizeof r.order_serial, "SIM-00000042");
    snprintf(r.account, sizeof r.account, "SIM-0001");
    snprintf(r.symbol, sizeof r.symbol, "TXFF5");
    snprintf(r.fill_id, sizeof r.fill_id, "SIM-F7");
    r.side = SIDE_BUY, r.qty = 3, r.status = BROKER_ST_PARTIALLY_FILLED;
    r.fill_qty = 2, r.fill_price = 20010, r.filled_qty = 2, r.filled_notional = 40020, r.ts_us = 1764587000123456;
    return r;
}

/* Parses a report given as msgpack (p) and as the JSON object j; both must agree. */
static bool parse_both(gw_packer *p, json_t *j, exproto_report *out, char *why) {
    mp_reader r;
    mp_reader_init(&r);
    msgpack_object map;
    assert_true(mp_read(&r, gw_packed(p), gw_packed_len(p), &map));
    gw_fields fm = gw_fields_of_map(&map), fj = gw_fields_of_json(j);
    exproto_report b;
    char why_j[160] = "";
    bool ok = exproto_parse_report(&fm, out, why, 160);
    bool ok_j = exproto_parse_report(&fj, &b, why_j, sizeof why_j);
    assert_int_equal(ok, ok_j);
    if (!ok) assert_string_equal(why, why_j);
    if (ok) {
        assert_int_equal(out->seq, b.seq);
        assert_string_equal(out->client_order_id, b.client_order_id);
        assert_string_equal(out->serial, b.serial);
        assert_string_equal(out->fill_id, b.fill_id);
        assert_int_equal(out->status, b.status);
        assert_int_equal(out->fill_qty, b.fill_qty);
        assert_int_equal(out->fill_price, b.fill_price);
        assert_int_equal(out->cum_qty, b.cum_qty);
        assert_int_equal(out->has_order, b.has_order);
        assert_string_equal(out->account, b.account);
    }
    mp_reader_destroy(&r);
    return ok;
}

static void test_reports_read_alike(void **state) {
    (void)state;
    gw_packer p;
    gw_packer_init(&p);
    broker_report r = sample_report();
    assert_true(gw_pack_report(&p, 77, &r));
    json_t *j = gw_report_json(77, &r);
    json_t *fromp = tk_msgpack_json(gw_packed(&p), gw_packed_len(&p));
    assert_true(json_equal(fromp, j)); /* the same fields, nulls and values as get_reports lists */
    json_decref(fromp);
    exproto_report rep;
    char why[160] = "";
    assert_true(parse_both(&p, j, &rep, why));
    assert_int_equal(rep.seq, 77);
    assert_int_equal(rep.fill_price, 20010);
    assert_true(rep.has_order);
    assert_int_equal(rep.side, SIDE_BUY);
    assert_int_equal(rep.qty, 3);
    json_decref(j);

    /* absurd numbers are refused with the same reason in both encodings */
    r.fill_qty = 2000000;
    assert_true(gw_pack_report(&p, 78, &r));
    j = gw_report_json(78, &r);
    assert_false(parse_both(&p, j, &rep, why));
    assert_string_equal(why, "fill_qty 2000000 is out of range 0..100000");
    json_decref(j);
    r = sample_report();
    r.fill_price = 1000000000000LL;
    assert_true(gw_pack_report(&p, 79, &r));
    j = gw_report_json(79, &r);
    assert_false(parse_both(&p, j, &rep, why));
    assert_string_equal(why, "fill price 1e+12 is out of range 1..100000000");
    json_decref(j);
    gw_packer_destroy(&p);
}

/* Values msgpack can carry and JSON cannot: an unsigned integer past INT64_MAX, a binary. */
static void test_fields_beyond_int64(void **state) {
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    mp_pack_str(&pk, "seq");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    mp_pack_str(&pk, "client_order_id");
    mp_pack_str(&pk, "c1");
    mp_pack_str(&pk, "status");
    mp_pack_str(&pk, "filled");
    mp_pack_str(&pk, "fill_qty");
    msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX + 1);
    mp_pack_str(&pk, "note");
    msgpack_pack_bin(&pk, 2);
    msgpack_pack_bin_body(&pk, "ab", 2);
    mp_reader r;
    mp_reader_init(&r);
    msgpack_object map;
    assert_true(mp_read(&r, sb.data, sb.size, &map));
    gw_fields f = gw_fields_of_map(&map);
    assert_int_equal(gw_field(&f, "seq").type, GWF_OTHER);
    assert_int_equal(gw_field(&f, "note").type, GWF_OTHER);
    assert_int_equal(gw_field(&f, "missing").type, GWF_ABSENT);
    int64_t i;
    assert_false(mp_int(&map, "seq", &i));
    exproto_report rep;
    char why[160] = "";
    assert_false(exproto_parse_report(&f, &rep, why, sizeof why));
    assert_string_equal(why, "seq is not an integer");

    /* an id longer than any order's: refused, not cut */
    msgpack_sbuffer_clear(&sb);
    char id[101];
    memset(id, 'x', 100);
    id[100] = '\0';
    msgpack_pack_map(&pk, 2);
    mp_pack_str(&pk, "client_order_id");
    mp_pack_str(&pk, id);
    mp_pack_str(&pk, "status");
    mp_pack_str(&pk, "filled");
    assert_true(mp_read(&r, sb.data, sb.size, &map));
    f = gw_fields_of_map(&map);
    assert_false(exproto_parse_report(&f, &rep, why, sizeof why));
    assert_string_equal(why, "client_order_id is longer than 63 characters");
    char small[8];
    assert_false(gw_field_str(&f, "client_order_id", small, sizeof small));
    assert_string_equal(small, "");
    mp_reader_destroy(&r);
    msgpack_sbuffer_destroy(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_order_round_trip), cmocka_unit_test(test_send_order_refusals),
        cmocka_unit_test(test_answers_read_alike),    cmocka_unit_test(test_reports_read_alike),
        cmocka_unit_test(test_fields_beyond_int64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
