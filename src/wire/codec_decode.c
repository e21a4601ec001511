/* Decoding with the original's object hooks: bottom-up, any map carrying __datetime__,
 * __enum__ or __class__ is turned into that object; a class is built from exactly its keys. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/sizecheck.h"

typedef enum { V_NIL, V_BOOL, V_NUM, V_STR, V_DATETIME, V_ENUM, V_TICK, V_TICKEVENT, V_SIGNAL, V_OTHER } vtype;

typedef struct {
    vtype type;
    bool is_int; /* V_NUM: true for msgpack integers */
    int64_t i;
    double num; /* V_NUM value, V_DATETIME timestamp */
    const char *str; /* V_STR, not NUL-terminated */
    uint32_t len;
    wire_side side; /* V_ENUM */
    wire_tick tick; /* V_TICK, V_TICKEVENT */
    wire_signal signal;
} value;

typedef struct {
    wire_msg *out;
} ctx;

__attribute__((format(printf, 3, 4))) static bool fail(ctx *c, const char *cls, const char *fmt, ...) {
    c->out->kind = WIRE_ERROR;
    snprintf(c->out->error_class, sizeof c->out->error_class, "%s", cls);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->out->error, sizeof c->out->error, fmt, ap);
    va_end(ap);
    return false;
}

static bool key_is(const msgpack_object *k, const char *name) {
    size_t n = strlen(name);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, name, n) == 0;
}

static bool str_is(const value *v, const char *s) {
    size_t n = strlen(s);
    return v->type == V_STR && v->len == n && memcmp(v->str, s, n) == 0;
}

static bool copy_str(ctx *c, const value *v, char *dst, size_t cap, const char *field) {
    if (v->type != V_STR) return fail(c, "TypeError", "%s must be a string", field);
    if (v->len == 0 || v->len >= cap) return fail(c, "ValueError", "%s has a bad length", field);
    if (memchr(v->str, '\0', v->len)) return fail(c, "ValueError", "%s contains a NUL byte", field);
    memcpy(dst, v->str, v->len);
    dst[v->len] = '\0';
    return true;
}

static bool convert(ctx *c, const msgpack_object *o, value *v);

/* Finds key in an already-converted map; values[] parallel to the map's entries. */
static int find_key(const msgpack_object_map *m, const char *name) {
    for (uint32_t i = 0; i < m->size; i++)
        if (key_is(&m->ptr[i].key, name)) return (int)i;
    return -1;
}

static bool build_datetime(ctx *c, const msgpack_object_map *m, const value *vals, value *v) {
    int ts = find_key(m, "timestamp");
    if (ts < 0) return fail(c, "KeyError", "datetime map without 'timestamp'");
    if (vals[ts].type != V_NUM) return fail(c, "TypeError", "datetime timestamp is not a number");
    double t = vals[ts].num;
    if (!isfinite(t) || fabs(t) > 253402300799.0)
        return fail(c, "ValueError", "datetime timestamp out of range");
    v->type = V_DATETIME;
    v->num = t;
    return true;
}

static bool build_enum(ctx *c, const msgpack_object_map *m, const value *vals, value *v) {
    int cls = find_key(m, "class"), name = find_key(m, "name");
    if (cls < 0 || name < 0) return fail(c, "KeyError", "enum map without class or name");
    if (!str_is(&vals[cls], "OrderOperation")) return fail(c, "TypeError", "unknown enum class");
    if (str_is(&vals[name], "BUY")) v->side = WIRE_BUY;
    else if (str_is(&vals[name], "SELL")) v->side = WIRE_SELL;
    else return fail(c, "ValueError", "unknown OrderOperation member");
    v->type = V_ENUM;
    return true;
}

/* Checks that the class map has exactly the allowed keys (besides __class__), all required
 * ones present. Returns false with a TypeError like the original's constructor call. */
static bool check_keys(ctx *c, const msgpack_object_map *m, const char *cls, const char *const *required,
                       const char *const *optional) {
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (key_is(k, "__class__")) continue;
        bool known = false;
        for (const char *const *r = required; *r && !known; r++) known = key_is(k, *r);
        for (const char *const *r = optional; r && *r && !known; r++) known = key_is(k, *r);
        if (!known) return fail(c, "TypeError", "%s got an unexpected key", cls);
    }
    for (const char *const *r = required; *r; r++)
        if (find_key(m, *r) < 0) return fail(c, "TypeError", "%s is missing a required key", cls);
    return true;
}

static bool build_tick(ctx *c, const msgpack_object_map *m, const value *vals, value *v) {
    static const char *const req[] = {"commodity_id", "match_price", NULL};
    if (!check_keys(c, m, "Tick", req, NULL)) return false;
    const value *price = &vals[find_key(m, "match_price")];
    if (price->type != V_NUM) return fail(c, "TypeError", "Tick match_price is not a number");
    if (!isfinite(price->num)) return fail(c, "ValueError", "Tick match_price is not finite");
    if (!copy_str(c, &vals[find_key(m, "commodity_id")], v->tick.commodity_id, WIRE_SYMBOL_MAX,
                  "Tick commodity_id"))
        return false;
    v->tick.match_price = price->num;
    v->type = V_TICK;
    return true;
}

static bool build_tick_event(ctx *c, const msgpack_object_map *m, const value *vals, value *v) {
    static const char *const req[] = {"when", "tick", NULL};
    if (!check_keys(c, m, "TickEvent", req, NULL)) return false;
    const value *when = &vals[find_key(m, "when")], *tick = &vals[find_key(m, "tick")];
    if (when->type != V_DATETIME) return fail(c, "TypeError", "TickEvent when is not a datetime");
    if (tick->type != V_TICK) return fail(c, "TypeError", "TickEvent tick is not a Tick");
    v->tick = tick->tick;
    v->tick.when = when->num;
    v->type = V_TICKEVENT;
    return true;
}

static bool build_signal(ctx *c, const msgpack_object_map *m, const value *vals, value *v) {
    static const char *const req[] = {"when", "operation", "commodity_id", NULL};
    static const char *const ext[] = {"signal_id", "condition_id", "quantity", "seq", "price", NULL};
    if (!check_keys(c, m, "TradingSignal", req, ext)) return false;
    const value *when = &vals[find_key(m, "when")], *op = &vals[find_key(m, "operation")];
    if (when->type != V_DATETIME) return fail(c, "TypeError", "TradingSignal when is not a datetime");
    if (op->type != V_ENUM) return fail(c, "TypeError", "TradingSignal operation is not an OrderOperation");
    wire_signal *s = &v->signal;
    memset(s, 0, sizeof *s);
    s->when = when->num;
    s->side = op->side;
    s->quantity = 1;
    if (!copy_str(c, &vals[find_key(m, "commodity_id")], s->commodity_id, WIRE_SYMBOL_MAX,
                  "TradingSignal commodity_id"))
        return false;
    int k;
    if ((k = find_key(m, "signal_id")) >= 0) {
        if (!copy_str(c, &vals[k], s->signal_id, WIRE_SIGNAL_ID_MAX, "signal_id")) return false;
        s->has_ext = true;
    }
    if ((k = find_key(m, "condition_id")) >= 0) {
        if (vals[k].type != V_NUM || !vals[k].is_int) return fail(c, "TypeError", "condition_id must be an integer");
        s->condition_id = vals[k].i;
    }
    if ((k = find_key(m, "quantity")) >= 0) {
        if (vals[k].type != V_NUM || !vals[k].is_int) return fail(c, "TypeError", "quantity must be an integer");
        if (vals[k].i <= 0) return fail(c, "ValueError", "quantity must be positive");
        s->quantity = vals[k].i;
    }
    if ((k = find_key(m, "seq")) >= 0) {
        if (vals[k].type != V_NUM || !vals[k].is_int || vals[k].i < 0)
            return fail(c, "TypeError", "seq must be a non-negative integer");
        s->seq = (uint64_t)vals[k].i;
    }
    if ((k = find_key(m, "price")) >= 0) {
        if (vals[k].type != V_NUM || !isfinite(vals[k].num) || vals[k].num < 0 || vals[k].num > 1e12)
            return fail(c, "TypeError", "price must be a non-negative number");
        s->price = (int64_t)vals[k].num;
    }
    v->type = V_SIGNAL;
    return true;
}

static bool convert_map(ctx *c, const msgpack_object_map *m, value *v) {
    value vals[16];
    /* Maps wider than any message we know are still walked (the original would decode them),
     * but only their first entries can be a class's fields. */
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR && k->type != MSGPACK_OBJECT_BIN)
            return fail(c, "ValueError", "map key is not a string");
        value tmp;
        if (!convert(c, &m->ptr[i].val, i < 16 ? &vals[i] : &tmp)) return false;
    }
    v->type = V_OTHER;
    bool dt = find_key(m, "__datetime__") >= 0, en = find_key(m, "__enum__") >= 0;
    int cls = find_key(m, "__class__");
    if (!dt && !en && cls < 0) return true;
    if (m->size > 16) return fail(c, "TypeError", "tagged map has too many keys");
    if (dt) return build_datetime(c, m, vals, v);
    if (en) return build_enum(c, m, vals, v);
    const value *name = &vals[cls];
    if (str_is(name, "Tick")) return build_tick(c, m, vals, v);
    if (str_is(name, "TickEvent")) return build_tick_event(c, m, vals, v);
    if (str_is(name, "TradingSignal")) return build_signal(c, m, vals, v);
    return fail(c, "TypeError", "unknown class in __class__");
}

static bool convert(ctx *c, const msgpack_object *o, value *v) {
    memset(v, 0, sizeof *v);
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: v->type = V_NIL; return true;
    case MSGPACK_OBJECT_BOOLEAN: v->type = V_BOOL; return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        v->type = V_NUM;
        v->is_int = true;
        v->i = o->via.u64 > INT64_MAX ? INT64_MAX : (int64_t)o->via.u64;
        v->num = (double)o->via.u64;
        return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        v->type = V_NUM;
        v->is_int = true;
        v->i = o->via.i64;
        v->num = (double)o->via.i64;
        return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: v->type = V_NUM; v->num = o->via.f64; return true;
    case MSGPACK_OBJECT_STR:
        v->type = V_STR;
        v->str = o->via.str.ptr;
        v->len = o->via.str.size;
        return true;
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            value tmp;
            if (!convert(c, &o->via.array.ptr[i], &tmp)) return false;
        }
        v->type = V_OTHER;
        return true;
    case MSGPACK_OBJECT_MAP: return convert_map(c, &o->via.map, v);
    default: v->type = V_OTHER; return true; /* bin, ext */
    }
}


/* The TickEvent every publisher of the original's format sends has one exact layout; reading
 * it in place skips msgpack-c's object tree (most of a tick's cost). Anything else, or any
 * value the general path would reject, falls back to the general path. */
static const unsigned char TICK_HEAD[] = "\x83\xa4when\x82\xac__datetime__\xc3\xa9timestamp\xcb";
static const unsigned char TICK_MID[] = "\xa4tick\x83\xac" "commodity_id";
static const unsigned char TICK_PRICE[] = "\xab" "match_price\xcb";
static const unsigned char TICK_TAIL[] = "\xa9__class__\xa4Tick\xa9__class__\xa9TickEvent";

static double be_double(const unsigned char *p) {
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u = (u << 8) | p[i];
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static bool fast_tick(const unsigned char *p, size_t len, wire_tick *out) {
    size_t pos = 0, n;
#define TAKE(lit)                                                        \
    do {                                                                 \
        n = sizeof(lit) - 1;                                             \
        if (len - pos < n || memcmp(p + pos, lit, n) != 0) return false; \
        pos += n;                                                        \
    } while (0)
    TAKE(TICK_HEAD);
    if (len - pos < 8) return false;
    double when = be_double(p + pos);
    pos += 8;
    TAKE(TICK_MID);
    if (pos >= len) return false;
    size_t slen;
    if ((p[pos] & 0xe0) == 0xa0) slen = p[pos++] & 0x1f;
    else if (p[pos] == 0xd9 && pos + 1 < len) slen = p[pos + 1], pos += 2;
    else return false;
    if (slen == 0 || slen >= WIRE_SYMBOL_MAX || len - pos < slen || memchr(p + pos, '\0', slen)) return false;
    const unsigned char *sym = p + pos;
    pos += slen;
    TAKE(TICK_PRICE);
    if (len - pos < 8) return false;
    double price = be_double(p + pos);
    pos += 8;
    TAKE(TICK_TAIL);
#undef TAKE
    if (pos != len || !isfinite(price) || !isfinite(when) || fabs(when) > 253402300799.0) return false;
    memcpy(out->commodity_id, sym, slen);
    out->commodity_id[slen] = '\0';
    out->when = when;
    out->match_price = price;
    return true;
}

void wire_decoder_init(wire_decoder *d) { msgpack_zone_init(&d->zone, 2048); }

void wire_decoder_destroy(wire_decoder *d) { msgpack_zone_destroy(&d->zone); }

wire_kind wire_decode(wire_decoder *d, const void *data, size_t len, wire_msg *out) {
    if (fast_tick(data, len, &out->u.tick)) {
        out->kind = WIRE_TICK;
        out->error[0] = out->error_class[0] = '\0';
        return WIRE_TICK;
    }
    return wire_decode_general(d, data, len, out);
}

wire_kind wire_decode_general(wire_decoder *d, const void *data, size_t len, wire_msg *out) {
    memset(out, 0, sizeof *out);
    ctx c = {out};
    msgpack_zone_clear(&d->zone);
    msgpack_object obj;
    size_t off = 0;
    msgpack_unpack_return r = wire_check_sizes(data, len);
    if (r == MSGPACK_UNPACK_SUCCESS) r = msgpack_unpack((const char *)data, len, &off, &d->zone, &obj);
    switch (r) {
    case MSGPACK_UNPACK_SUCCESS: break;
    case MSGPACK_UNPACK_EXTRA_BYTES: fail(&c, "ValueError", "extra bytes after the message"); return WIRE_ERROR;
    case MSGPACK_UNPACK_CONTINUE: fail(&c, "ValueError", "truncated message"); return WIRE_ERROR;
    case MSGPACK_UNPACK_PARSE_ERROR: fail(&c, "FormatError", "not msgpack"); return WIRE_ERROR;
    default: fail(&c, "MemoryError", "message too large to decode"); return WIRE_ERROR;
    }
    value v;
    if (!convert(&c, &obj, &v)) return WIRE_ERROR;
    if (v.type == V_TICKEVENT) {
        out->kind = WIRE_TICK;
        out->u.tick = v.tick;
    } else if (v.type == V_SIGNAL) {
        out->kind = WIRE_SIGNAL;
        out->u.signal = v.signal;
    } else {
        out->kind = WIRE_OTHER;
    }
    return out->kind;
}
