/* The exchange link's msgpack (broker_pack): every struct round-trips byte-exact with
 * broker_json's field names, and a message that is truncated, has trailing bytes, misses a
 * field, has a field of another type, a string longer than its buffer or an integer beyond
 * int64 is refused whole, the output left untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker_json.h"
#include "broker/broker_pack.h"

static broker_report sample_report(void) {
    broker_report r;
    memset(&r, 0, sizeof r);
    r.seq = 123456789012ULL;
    snprintf(r.client_order_id, sizeof r.client_order_id, "aftm-7.E");
    snprintf(r.order_serial, sizeof r.order_serial, "SIM-0000000A");
    snprintf(r.account, sizeof r.account, "SIM-0001");
    snprintf(r.symbol, sizeof r.symbol, "TXFF5");
    r.side = SIDE_SELL;
    r.qty = 3;
    r.status = BROKER_ST_PARTIALLY_FILLED;
    snprintf(r.fill_id, sizeof r.fill_id, "SIM-F00000002");
    r.fill_qty = 2;
    r.fill_price = -20013; /* negative integers too (spreads) */
    r.filled_qty = 2;
    r.filled_notional = 40026;
    snprintf(r.reason, sizeof r.reason, "caf\xc3\xa9 \"quoted\"");
    r.ts_us = 1750152615123456LL;
    return r;
}

static broker_order_req sample_order(void) {
    broker_order_req q;
    memset(&q, 0, sizeof q);
    snprintf(q.client_order_id, sizeof q.client_order_id, "aftm-9.X");
    snprintf(q.account, sizeof q.account, "SIM-0002");
    snprintf(q.symbol, sizeof q.symbol, "MXFG5");
    q.side = SIDE_BUY;
    q.qty = 4;
    q.type = BROKER_LIMIT;
    q.price = 20100;
    q.tif = BROKER_FOK;
    q.open_close = BROKER_CLOSE;
    q.day_trade = true;
    snprintf(q.note, sizeof q.note, "n\xc3\xb8te");
    return q;
}

static broker_send_result sample_result(void) {
    broker_send_result s;
    memset(&s, 0, sizeof s);
    s.is_send_order = true;
    s.duplicate = true;
    snprintf(s.client_order_id, sizeof s.client_order_id, "aftm-9.X");
    snprintf(s.order_serial, sizeof s.order_serial, "SIM-0000000B");
    snprintf(s.error_code, sizeof s.error_code, "0");
    snprintf(s.note, sizeof s.note, "note");
    s.status = BROKER_ST_FILLED;
    return s;
}

/* ---- one struct kind, generically: pack it, read it ---- */

typedef struct {
    const char *name;
    size_t size;
    bool (*pack)(msgpack_packer *pk, const void *v);
    bool (*read)(const msgpack_object *o, void *out);
} kind;

static bool pack_report(msgpack_packer *pk, const void *v) { return bp_pack_report(pk, v); }
static bool read_report(const msgpack_object *o, void *out) { return bp_to_report(o, out); }
static bool pack_order(msgpack_packer *pk, const void *v) { return bp_pack_order_req(pk, v); }
static bool read_order(const msgpack_object *o, void *out) {
    char err[128] = "";
    bool ok = bp_to_order_req(o, out, err, sizeof err);
    if (!ok) assert_non_null(strstr(err, "is missing or invalid")); /* says which field */
    return ok;
}
static bool pack_result(msgpack_packer *pk, const void *v) { return bp_pack_send_result(pk, v); }
static bool read_result(const msgpack_object *o, void *out) { return bp_to_send_result(o, out); }

static const kind REPORT = {"report", sizeof(broker_report), pack_report, read_report};
static const kind ORDER = {"order_req", sizeof(broker_order_req), pack_order, read_order};
static const kind RESULT = {"send_result", sizeof(broker_send_result), pack_result, read_result};

/* Reads len bytes as one k into out; false when refused. */
static bool read_bytes(const kind *k, const void *data, size_t len, void *out) {
    mp_reader rd;
    mp_reader_init(&rd);
    msgpack_object o;
    bool ok = mp_read(&rd, data, len, &o) && k->read(&o, out);
    mp_reader_destroy(&rd);
    return ok;
}

/* out untouched by a refusal: it still holds the 0xAB it was filled with */
static void assert_untouched(const void *out, size_t size) {
    const unsigned char *p = out;
    for (size_t i = 0; i < size; i++) assert_int_equal(p[i], 0xAB);
}

static void refused(const kind *k, const void *data, size_t len) {
    unsigned char out[sizeof(broker_report) + sizeof(broker_order_req) + sizeof(broker_send_result)];
    memset(out, 0xAB, sizeof out);
    if (read_bytes(k, data, len, out)) fail_msg("%s: a garbled message was accepted", k->name);
    assert_untouched(out, k->size);
}

/* Round trip byte-exact: packed, read back to the same struct, packed again to the same bytes. */
static void round_trip(const kind *k, const void *v, msgpack_sbuffer *first) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, first, msgpack_sbuffer_write);
    assert_true(k->pack(&pk, v));
    void *back = calloc(1, k->size);
    assert_true(read_bytes(k, first->data, first->size, back));
    assert_memory_equal(back, v, k->size);
    msgpack_sbuffer again;
    msgpack_sbuffer_init(&again);
    msgpack_packer_init(&pk, &again, msgpack_sbuffer_write);
    assert_true(k->pack(&pk, back));
    assert_int_equal(again.size, first->size);
    assert_memory_equal(again.data, first->data, first->size);
    msgpack_sbuffer_destroy(&again);
    free(back);
}

/* Each replacement value, packed. */
enum { V_STR, V_ODD_STR, V_INT, V_NEG, V_HUGE, V_BOOL, V_NIL, V_FLOAT, V_ARRAY, V_MAP, V_BIN, V_COUNT };

static void pack_value(msgpack_packer *pk, int which) {
    switch (which) {
    case V_STR: mp_pack_str(pk, "x"); break;
    case V_ODD_STR: mp_pack_str(pk, "teleported"); break;
    case V_INT: msgpack_pack_int64(pk, 7); break;
    case V_NEG: msgpack_pack_int64(pk, -7); break;
    case V_HUGE: msgpack_pack_uint64(pk, (uint64_t)INT64_MAX + 1); break; /* fits no int64 */
    case V_BOOL: msgpack_pack_true(pk); break;
    case V_NIL: msgpack_pack_nil(pk); break;
    case V_FLOAT: msgpack_pack_double(pk, 3.0); break;
    case V_ARRAY: msgpack_pack_array(pk, 0); break;
    case V_MAP: msgpack_pack_map(pk, 0); break;
    default: msgpack_pack_bin(pk, 1); msgpack_pack_bin_body(pk, "x", 1); break;
    }
}

/* Whether value `which` is an acceptable stand-in for a field whose packed value was orig. */
static bool same_type(const msgpack_object *orig, int which, bool is_seq) {
    switch (orig->type) {
    case MSGPACK_OBJECT_STR: return which == V_STR || which == V_ODD_STR; /* enums: checked apart */
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return which == V_INT || (which == V_NEG && !is_seq);
    case MSGPACK_OBJECT_BOOLEAN: return which == V_BOOL;
    default: return false;
    }
}

/* Packs map o again, the value under key replaced by value `which` (-1: the key left out). */
static void repack(const msgpack_object *o, const char *key, int which, msgpack_sbuffer *out) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    uint32_t n = o->via.map.size;
    msgpack_pack_map(&pk, which < 0 ? n - 1 : n);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        bool hit = mp_str_is(&kv->key, key);
        if (hit && which < 0) continue;
        msgpack_pack_object(&pk, kv->key);
        if (hit) pack_value(&pk, which);
        else msgpack_pack_object(&pk, kv->val);
    }
}

static bool is_enum_key(const char *k) {
    return !strcmp(k, "side") || !strcmp(k, "status") || !strcmp(k, "order_type") || !strcmp(k, "time_in_force") ||
           !strcmp(k, "open_close");
}

/* Every field of v's message: left out, or given a value of another type, refused whole; an
 * enum given a name it does not have too. */
static void every_field_checked(const kind *k, const void *v, size_t fields) {
    msgpack_sbuffer sb, bad;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_init(&bad);
    round_trip(k, v, &sb);
    mp_reader rd;
    mp_reader_init(&rd);
    msgpack_object o;
    assert_true(mp_read(&rd, sb.data, sb.size, &o));
    assert_int_equal(o.via.map.size, fields);
    size_t tried = 0;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        char key[64];
        const msgpack_object_kv *kv = &o.via.map.ptr[i];
        assert_int_equal(kv->key.type, MSGPACK_OBJECT_STR);
        assert_true(kv->key.via.str.size < sizeof key);
        memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
        key[kv->key.via.str.size] = '\0';
        for (int which = -1; which < V_COUNT; which++) {
            bool enum_name = which == V_ODD_STR && is_enum_key(key);
            if (which >= 0 && !enum_name && same_type(&kv->val, which, !strcmp(key, "seq"))) continue;
            msgpack_sbuffer_clear(&bad);
            repack(&o, key, which, &bad);
            refused(k, bad.data, bad.size);
            tried++;
        }
    }
    assert_true(tried > fields * 5);
    mp_reader_destroy(&rd);
    /* truncated anywhere, or with trailing bytes */
    for (size_t cut = 0; cut < sb.size; cut++) refused(k, sb.data, cut);
    msgpack_sbuffer_write(&sb, "\x00", 1);
    refused(k, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&bad);
}

static void test_report(void **state) {
    (void)state;
    broker_report r = sample_report();
    every_field_checked(&REPORT, &r, 15);
    /* the keys and values of broker_json's: the same report either way */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_true(bp_pack_report(&pk, &r));
    mp_reader rd;
    mp_reader_init(&rd);
    msgpack_object o;
    assert_true(mp_read(&rd, sb.data, sb.size, &o));
    json_t *j = bj_from_report(&r);
    assert_int_equal(json_object_size(j), o.via.map.size);
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        const msgpack_object *m = mp_get(&o, key);
        if (!m) fail_msg("report: no '%s' in the msgpack", key);
        if (json_is_string(v)) assert_true(mp_str_is(m, json_string_value(v)));
        else {
            int64_t n;
            assert_true(mp_int(&o, key, &n));
            assert_int_equal(n, json_integer_value(v));
        }
    }
    json_decref(j);
    /* a whole message through bp_read_report */
    broker_report back;
    assert_true(bp_read_report(&rd, sb.data, sb.size, &back));
    assert_memory_equal(&back, &r, sizeof r);
    /* the seq as big as int64 goes; one past it, or negative, does not */
    r.seq = (uint64_t)INT64_MAX;
    msgpack_sbuffer_clear(&sb);
    assert_true(bp_pack_report(&pk, &r));
    assert_true(bp_read_report(&rd, sb.data, sb.size, &back));
    assert_true(back.seq == (uint64_t)INT64_MAX);
    r.seq = (uint64_t)INT64_MAX + 1;
    msgpack_sbuffer_clear(&sb);
    assert_true(bp_pack_report(&pk, &r));
    refused(&REPORT, sb.data, sb.size);
    assert_false(bp_read_report(&rd, NULL, 0, &back));
    mp_reader_destroy(&rd);
    msgpack_sbuffer_destroy(&sb);
}

static void test_order_req(void **state) {
    (void)state;
    broker_order_req q = sample_order();
    every_field_checked(&ORDER, &q, 11);
    /* every enum value round-trips */
    for (int t = BROKER_MARKET; t <= BROKER_MARKET_PRICE; t++)
        for (int f = BROKER_ROD; f <= BROKER_FOK; f++)
            for (int oc = BROKER_OPEN; oc <= BROKER_AUTO; oc++) {
                q.type = (broker_order_type)t;
                q.tif = (broker_tif)f;
                q.open_close = (broker_open_close)oc;
                q.side = oc % 2 ? SIDE_SELL : SIDE_BUY;
                q.day_trade = f % 2;
                msgpack_sbuffer sb;
                msgpack_sbuffer_init(&sb);
                round_trip(&ORDER, &q, &sb);
                msgpack_sbuffer_destroy(&sb);
            }
    char err[128] = "";
    broker_order_req out;
    assert_false(bp_to_order_req(NULL, &out, err, sizeof err));
    assert_string_equal(err, "the order's 'order' is missing or invalid");
}

static void test_send_result(void **state) {
    (void)state;
    broker_send_result s = sample_result();
    every_field_checked(&RESULT, &s, 8);
    for (int st = BROKER_ST_NEW; st <= BROKER_ST_EXPIRED; st++) {
        s.status = (broker_status)st;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        round_trip(&RESULT, &s, &sb);
        msgpack_sbuffer_destroy(&sb);
    }
}

/* Packs a report map whose key holds the string s (len bytes). */
static void report_with(msgpack_sbuffer *sb, const char *key, const char *s, size_t len) {
    broker_report r = sample_report();
    msgpack_sbuffer tmp;
    msgpack_sbuffer_init(&tmp);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &tmp, msgpack_sbuffer_write);
    assert_true(bp_pack_report(&pk, &r));
    mp_reader rd;
    mp_reader_init(&rd);
    msgpack_object o;
    assert_true(mp_read(&rd, tmp.data, tmp.size, &o));
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, o.via.map.size);
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        msgpack_pack_object(&pk, o.via.map.ptr[i].key);
        if (mp_str_is(&o.via.map.ptr[i].key, key)) {
            msgpack_pack_str(&pk, len);
            msgpack_pack_str_body(&pk, s, len);
        } else {
            msgpack_pack_object(&pk, o.via.map.ptr[i].val);
        }
    }
    mp_reader_destroy(&rd);
    msgpack_sbuffer_destroy(&tmp);
}

/* A string that does not fit its buffer is refused, not cut (as JSON cuts it): nor one with a
 * NUL inside. The longest that fits is taken. */
static void test_strings_too_long_refused(void **state) {
    (void)state;
    char s[BROKER_MSG_MAX + 2];
    memset(s, 'a', sizeof s);
    struct {
        const char *key;
        size_t cap;
    } fields[] = {{"client_order_id", BROKER_ID_MAX}, {"order_serial", BROKER_ID_MAX}, {"account", BROKER_ACCOUNT_MAX},
                  {"symbol", BROKER_SYMBOL_MAX},      {"fill_id", BROKER_ID_MAX},      {"reason", BROKER_MSG_MAX}};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        report_with(&sb, fields[i].key, s, fields[i].cap - 1);
        broker_report back;
        assert_true(read_bytes(&REPORT, sb.data, sb.size, &back));
        msgpack_sbuffer_clear(&sb);
        report_with(&sb, fields[i].key, s, fields[i].cap);
        refused(&REPORT, sb.data, sb.size);
        msgpack_sbuffer_clear(&sb);
        report_with(&sb, fields[i].key, "a\0b", 3);
        refused(&REPORT, sb.data, sb.size);
        msgpack_sbuffer_destroy(&sb);
    }
}

static void test_not_a_map(void **state) {
    (void)state;
    const char *cases[] = {"\x90", "\xa3" "abc", "\xc0", "{\"seq\": 1}", "\x80"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        refused(&REPORT, cases[i], strlen(cases[i]));
        refused(&ORDER, cases[i], strlen(cases[i]));
        refused(&RESULT, cases[i], strlen(cases[i]));
    }
    refused(&REPORT, "", 0);
}

/* The exchange link's send_order: the request, and both replies, with the id echoed. */
static void test_send_envelopes(void **state) {
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    broker_order_req q = sample_order();
    assert_true(bp_pack_send_request(&pk, 987654321, &q));
    mp_reader rd;
    mp_reader_init(&rd);
    msgpack_object o;
    assert_true(mp_is_map(sb.data, sb.size));
    assert_true(mp_read(&rd, sb.data, sb.size, &o));
    assert_true(mp_str_is(mp_get(&o, "operation"), "send_order"));
    int64_t id;
    assert_true(mp_int(&o, "id", &id));
    assert_int_equal(id, 987654321);
    broker_order_req qb;
    assert_true(bp_to_order_req(mp_get(&o, "order"), &qb, NULL, 0));
    assert_memory_equal(&qb, &q, sizeof q);

    /* ok: the id as the request had it */
    msgpack_object rid = *mp_get(&o, "id");
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
    broker_send_result s = sample_result();
    assert_true(bp_pack_send_reply_ok(&pk, &rid, &s));
    bp_send_reply a;
    assert_true(bp_read_send_reply(&rd, out.data, out.size, &a));
    assert_int_equal(a.id, 987654321);
    assert_true(a.success);
    assert_memory_equal(&a.result, &s, sizeof s);

    /* an error; a message longer than the buffer is cut, not refused */
    char longmsg[400];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    msgpack_sbuffer_clear(&out);
    msgpack_object five = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 5};
    assert_true(bp_pack_send_reply_err(&pk, &five, "NOT_LOGGED_IN", longmsg));
    assert_true(bp_read_send_reply(&rd, out.data, out.size, &a));
    assert_int_equal(a.id, 5);
    assert_false(a.success);
    assert_string_equal(a.error_code, "NOT_LOGGED_IN");
    assert_int_equal(strlen(a.error_message), BROKER_MSG_MAX - 1);

    /* refused: no id (the adapter's own replies always have one), a success without a readable
     * result, truncated */
    bp_send_reply before, keep;
    memset(&before, 0xAB, sizeof before);
    keep = before;
    msgpack_sbuffer_clear(&out);
    assert_true(bp_pack_send_reply_err(&pk, NULL, "INVALID_MSGPACK", "garbled"));
    assert_false(bp_read_send_reply(&rd, out.data, out.size, &keep));
    msgpack_sbuffer_clear(&out);
    msgpack_pack_map(&pk, 3);
    mp_pack_str(&pk, "id");
    msgpack_pack_int(&pk, 1);
    mp_pack_str(&pk, "success");
    msgpack_pack_true(&pk);
    mp_pack_str(&pk, "result");
    msgpack_pack_map(&pk, 0);
    assert_false(bp_read_send_reply(&rd, out.data, out.size, &keep));
    msgpack_sbuffer_clear(&out);
    assert_true(bp_pack_send_reply_ok(&pk, &five, &s));
    for (size_t cut = 0; cut < out.size; cut++) assert_false(bp_read_send_reply(&rd, out.data, cut, &keep));
    assert_memory_equal(&keep, &before, sizeof keep);

    mp_reader_destroy(&rd);
    msgpack_sbuffer_destroy(&out);
    msgpack_sbuffer_destroy(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_order_req),
        cmocka_unit_test(test_send_result),
        cmocka_unit_test(test_strings_too_long_refused),
        cmocka_unit_test(test_not_a_map),
        cmocka_unit_test(test_send_envelopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
