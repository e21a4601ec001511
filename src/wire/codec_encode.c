/* Encoding TickEvent and TradingSignal in the original's key order. */
#include <string.h>

#include "wire/codec.h"
#include "wire/packer.h"

static void pack_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_datetime(msgpack_packer *pk, double when) {
    msgpack_pack_map(pk, 2);
    pack_cstr(pk, "__datetime__");
    msgpack_pack_true(pk);
    pack_cstr(pk, "timestamp");
    msgpack_pack_double(pk, when);
}

size_t wire_encode_tick(const wire_tick *t, char *buf, size_t cap) {
    wire_fixed_buf w;
    msgpack_packer pk;
    wire_packer_init(&pk, &w, buf, cap);
    msgpack_pack_map(&pk, 3);
    pack_cstr(&pk, "when");
    pack_datetime(&pk, t->when);
    pack_cstr(&pk, "tick");
    msgpack_pack_map(&pk, 3);
    pack_cstr(&pk, "commodity_id");
    pack_cstr(&pk, t->commodity_id);
    pack_cstr(&pk, "match_price");
    msgpack_pack_double(&pk, t->match_price);
    pack_cstr(&pk, "__class__");
    pack_cstr(&pk, "Tick");
    pack_cstr(&pk, "__class__");
    pack_cstr(&pk, "TickEvent");
    return wire_packer_done(&w);
}

size_t wire_encode_signal(const wire_signal *s, bool with_ext, char *buf, size_t cap) {
    wire_fixed_buf w;
    msgpack_packer pk;
    wire_packer_init(&pk, &w, buf, cap);
    msgpack_pack_map(&pk, with_ext ? 9 : 4);
    pack_cstr(&pk, "when");
    pack_datetime(&pk, s->when);
    pack_cstr(&pk, "operation");
    msgpack_pack_map(&pk, 3);
    pack_cstr(&pk, "__enum__");
    msgpack_pack_true(&pk);
    pack_cstr(&pk, "class");
    pack_cstr(&pk, "OrderOperation");
    pack_cstr(&pk, "name");
    pack_cstr(&pk, s->side == WIRE_BUY ? "BUY" : "SELL");
    pack_cstr(&pk, "commodity_id");
    pack_cstr(&pk, s->commodity_id);
    if (with_ext) {
        pack_cstr(&pk, "signal_id");
        pack_cstr(&pk, s->signal_id);
        pack_cstr(&pk, "condition_id");
        msgpack_pack_int64(&pk, s->condition_id);
        pack_cstr(&pk, "quantity");
        msgpack_pack_int64(&pk, s->quantity);
        pack_cstr(&pk, "seq");
        msgpack_pack_uint64(&pk, s->seq);
        pack_cstr(&pk, "price");
        msgpack_pack_int64(&pk, s->price);
    }
    pack_cstr(&pk, "__class__");
    pack_cstr(&pk, "TradingSignal");
    return wire_packer_done(&w);
}
