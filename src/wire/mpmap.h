/* aftm's own msgpack messages (the order link, the exchange link, execution reports): one
 * message is one msgpack map whose keys are the field names of the JSON it replaces. This file
 * reads such a map by key with typed, strict getters, and packs keys and strings; it has no
 * idea what any message means (broker/broker_pack.h, net/gw_pack.h do).
 *
 * Not the original's wire (wire/codec.h): no tagged datetimes or enums here.
 *
 * Every getter returns false, leaving *out untouched, when the map has no such key or its value
 * has another type or does not fit, so a garbled message is refused whole. */
#ifndef AFTM_WIRE_MPMAP_H
#define AFTM_WIRE_MPMAP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reader keeps one zone for reuse: reading allocates nothing per message once warm. */
typedef struct {
    msgpack_zone zone;
} mp_reader;

void mp_reader_init(mp_reader *r);
void mp_reader_destroy(mp_reader *r);

/* Reads exactly one map from data (len bytes) into *out, valid until the next mp_read on r.
 * false when the bytes are not one complete msgpack map (trailing bytes included). */
bool mp_read(mp_reader *r, const void *data, size_t len, msgpack_object *out);

/* true when the first byte of a message starts a msgpack map (fixmap, map 16, map 32): what
 * tells aftm's msgpack messages from JSON text ('{', whitespace) on a port that takes both. */
bool mp_is_map(const void *data, size_t len);

/* The value under key, NULL when map is not a map or has no such key. */
const msgpack_object *mp_get(const msgpack_object *map, const char *key);

/* true when o is the string s. */
bool mp_str_is(const msgpack_object *o, const char *s);

/* A string of at most cap-1 bytes and no NUL, copied NUL-terminated. */
bool mp_str(const msgpack_object *map, const char *key, char *out, size_t cap);
/* The same, nil read as "". */
bool mp_opt_str(const msgpack_object *map, const char *key, char *out, size_t cap);
/* An integer that fits int64_t. */
bool mp_int(const msgpack_object *map, const char *key, int64_t *out);
bool mp_bool(const msgpack_object *map, const char *key, bool *out);
/* An integer or a float, as a double; false for NaN and infinities. */
bool mp_num(const msgpack_object *map, const char *key, double *out);

/* Packing: a string key or value (NULL packs ""), a string that is nil when empty, and a key
 * with its value. Each returns msgpack-c's 0 when written, nonzero when a write failed (a
 * message's packer ORs them). */
int mp_pack_str(msgpack_packer *pk, const char *s);
int mp_pack_str_or_nil(msgpack_packer *pk, const char *s);
int mp_pack_kv_str(msgpack_packer *pk, const char *key, const char *v);
int mp_pack_kv_int(msgpack_packer *pk, const char *key, int64_t v);
int mp_pack_kv_bool(msgpack_packer *pk, const char *key, bool v);

#endif
