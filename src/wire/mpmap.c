/* Reading and packing aftm's own msgpack maps (see mpmap.h). */
#include "wire/mpmap.h"
#include "wire/sizecheck.h"

#include <math.h>
#include <string.h>

void mp_reader_init(mp_reader *r) { msgpack_zone_init(&r->zone, 2048); }

void mp_reader_destroy(mp_reader *r) { msgpack_zone_destroy(&r->zone); }

bool mp_read(mp_reader *r, const void *data, size_t len, msgpack_object *out) {
    if (!data || !mp_is_map(data, len) || wire_check_sizes(data, len) != MSGPACK_UNPACK_SUCCESS) return false;
    msgpack_zone_clear(&r->zone);
    size_t off = 0;
    msgpack_object obj;
    if (msgpack_unpack(data, len, &off, &r->zone, &obj) != MSGPACK_UNPACK_SUCCESS || off != len ||
        obj.type != MSGPACK_OBJECT_MAP)
        return false;
    *out = obj;
    return true;
}

bool mp_is_map(const void *data, size_t len) {
    if (!data || len == 0) return false;
    unsigned char b = *(const unsigned char *)data;
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

bool mp_str_is(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *mp_get(const msgpack_object *map, const char *key) {
    if (!map || map->type != MSGPACK_OBJECT_MAP) return NULL;
    const msgpack_object_map *m = &map->via.map;
    for (uint32_t i = 0; i < m->size; i++)
        if (mp_str_is(&m->ptr[i].key, key)) return &m->ptr[i].val;
    return NULL;
}

static bool copy_str(const msgpack_object *v, char *out, size_t cap) {
    if (!v || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= cap) return false;
    if (v->via.str.size && memchr(v->via.str.ptr, '\0', v->via.str.size)) return false;
    if (v->via.str.size) memcpy(out, v->via.str.ptr, v->via.str.size);
    out[v->via.str.size] = '\0';
    return true;
}

bool mp_str(const msgpack_object *map, const char *key, char *out, size_t cap) {
    return copy_str(mp_get(map, key), out, cap);
}

bool mp_opt_str(const msgpack_object *map, const char *key, char *out, size_t cap) {
    const msgpack_object *v = mp_get(map, key);
    if (v && v->type == MSGPACK_OBJECT_NIL && cap > 0) {
        out[0] = '\0';
        return true;
    }
    return copy_str(v, out, cap);
}

bool mp_int(const msgpack_object *map, const char *key, int64_t *out) {
    const msgpack_object *v = mp_get(map, key);
    if (!v) return false;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (v->via.u64 > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)v->via.u64;
        return true;
    }
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = v->via.i64;
        return true;
    }
    return false;
}

bool mp_bool(const msgpack_object *map, const char *key, bool *out) {
    const msgpack_object *v = mp_get(map, key);
    if (!v || v->type != MSGPACK_OBJECT_BOOLEAN) return false;
    *out = v->via.boolean;
    return true;
}

bool mp_num(const msgpack_object *map, const char *key, double *out) {
    const msgpack_object *v = mp_get(map, key);
    double d;
    if (!v) return false;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) d = (double)v->via.u64;
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) d = (double)v->via.i64;
    else if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64) d = v->via.f64;
    else return false;
    if (!isfinite(d)) return false;
    *out = d;
    return true;
}

int mp_pack_str(msgpack_packer *pk, const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, s, n);
}

int mp_pack_str_or_nil(msgpack_packer *pk, const char *s) {
    return !s || !*s ? msgpack_pack_nil(pk) : mp_pack_str(pk, s);
}

int mp_pack_kv_str(msgpack_packer *pk, const char *key, const char *v) { return mp_pack_str(pk, key) | mp_pack_str(pk, v); }

int mp_pack_kv_int(msgpack_packer *pk, const char *key, int64_t v) {
    return mp_pack_str(pk, key) | msgpack_pack_int64(pk, v);
}

int mp_pack_kv_bool(msgpack_packer *pk, const char *key, bool v) {
    return mp_pack_str(pk, key) | (v ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
}
