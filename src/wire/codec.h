/* The original system's msgpack wire format, byte for byte.
 *
 * TickEvent and TradingSignal are maps whose keys follow the original's attribute order with
 * "__class__" last; datetimes and enums are tagged maps. aftm's own signal appends
 * signal_id, condition_id, quantity, seq and price before "__class__". The decoder mirrors the
 * original's object hooks (any map with __datetime__, __enum__ or __class__ is converted,
 * at any depth) and is stricter on types: bad prices never get past it. */
#ifndef AFTM_WIRE_CODEC_H
#define AFTM_WIRE_CODEC_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_SYMBOL_MAX 64
#define WIRE_SIGNAL_ID_MAX 64
#define WIRE_BUF_MAX 512 /* enough for any message aftm sends */

typedef enum { WIRE_BUY = 0, WIRE_SELL = 1 } wire_side;

typedef struct {
    double when; /* POSIX seconds */
    char commodity_id[WIRE_SYMBOL_MAX];
    double match_price;
} wire_tick;

typedef struct {
    double when;
    wire_side side;
    char commodity_id[WIRE_SYMBOL_MAX];
    /* aftm's extension; has_ext false means the original's 4-key signal (quantity 1). */
    bool has_ext;
    char signal_id[WIRE_SIGNAL_ID_MAX];
    int64_t condition_id;
    int64_t quantity;
    uint64_t seq;
    int64_t price; /* the tick price that fired it, in points; 0 if unknown */
} wire_signal;

typedef enum {
    WIRE_ERROR = -1,
    WIRE_TICK = 1,   /* a TickEvent */
    WIRE_SIGNAL = 2, /* a TradingSignal */
    WIRE_OTHER = 3   /* valid msgpack the original would accept, but neither of the above */
} wire_kind;

typedef struct {
    wire_kind kind;
    union {
        wire_tick tick;
        wire_signal signal;
    } u;
    char error[160]; /* reason when kind == WIRE_ERROR */
    char error_class[16]; /* the original's exception class: TypeError, ValueError, FormatError */
} wire_msg;

/* Encoders write into buf (cap bytes) and return the length, or 0 if it does not fit. */
size_t wire_encode_tick(const wire_tick *t, char *buf, size_t cap);
/* with_ext false produces the original's exact 4-key TradingSignal. */
size_t wire_encode_signal(const wire_signal *s, bool with_ext, char *buf, size_t cap);

/* A decoder keeps one msgpack zone for reuse, so decoding allocates nothing per message
 * in the steady state. */
typedef struct {
    msgpack_zone zone;
} wire_decoder;

void wire_decoder_init(wire_decoder *d);
void wire_decoder_destroy(wire_decoder *d);
/* Always fills out; returns out->kind. Never aborts on any input. */
wire_kind wire_decode(wire_decoder *d, const void *data, size_t len, wire_msg *out);
/* The same without the in-place reader of the usual TickEvent layout (tests compare them). */
wire_kind wire_decode_general(wire_decoder *d, const void *data, size_t len, wire_msg *out);

#endif
