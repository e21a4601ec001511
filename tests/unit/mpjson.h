/* Tests: a msgpack message turned into the JSON value with the same content, so that what the
 * gateway publishes in msgpack can be checked field by field like its JSON (NULL when the bytes
 * are not exactly one msgpack value). */
#ifndef AFTM_TEST_MPJSON_H
#define AFTM_TEST_MPJSON_H

#include <jansson.h>
#include <msgpack.h>

static inline json_t *tk_mp_object_json(const msgpack_object *o) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return json_null();
    case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR: return json_stringn(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < o->via.array.size; i++) json_array_append_new(a, tk_mp_object_json(&o->via.array.ptr[i]));
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR) {
                json_decref(m);
                return NULL;
            }
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
            json_object_set_new(m, key, tk_mp_object_json(&kv->val));
        }
        return m;
    }
    default: return NULL;
    }
}

static inline json_t *tk_msgpack_json(const void *data, size_t len) {
    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object o;
    size_t off = 0;
    json_t *out = NULL;
    if (msgpack_unpack(data, len, &off, &zone, &o) == MSGPACK_UNPACK_SUCCESS && off == len) out = tk_mp_object_json(&o);
    msgpack_zone_destroy(&zone);
    return out;
}

#endif
