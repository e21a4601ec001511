/* Reading a message's fields from JSON or msgpack (see gw_fields.h). */
#include "net/gw_fields.h"

#include <string.h>

#include "wire/mpmap.h"

gw_fields gw_fields_of_json(const json_t *object) { return (gw_fields){.json = object, .map = NULL}; }

gw_fields gw_fields_of_map(const msgpack_object *map) { return (gw_fields){.json = NULL, .map = map}; }

bool gw_fields_ok(const gw_fields *f) {
    return f->json ? json_is_object(f->json) : f->map && f->map->type == MSGPACK_OBJECT_MAP;
}

static gwf_value of_json(const json_t *v) {
    gwf_value out = {.type = GWF_ABSENT};
    if (!v) return out;
    switch (json_typeof(v)) {
    case JSON_NULL: out.type = GWF_NULL; break;
    case JSON_STRING:
        out.type = GWF_STR, out.s = json_string_value(v), out.len = json_string_length(v);
        break;
    case JSON_INTEGER:
        out.type = GWF_INT, out.i = json_integer_value(v), out.d = (double)out.i;
        break;
    case JSON_REAL: out.type = GWF_REAL, out.d = json_real_value(v); break;
    case JSON_TRUE: out.type = GWF_BOOL, out.b = true; break;
    case JSON_FALSE: out.type = GWF_BOOL, out.b = false; break;
    default: out.type = GWF_OTHER; break;
    }
    return out;
}

static gwf_value of_msgpack(const msgpack_object *v) {
    gwf_value out = {.type = GWF_ABSENT};
    if (!v) return out;
    switch (v->type) {
    case MSGPACK_OBJECT_NIL: out.type = GWF_NULL; break;
    case MSGPACK_OBJECT_STR: out.type = GWF_STR, out.s = v->via.str.ptr, out.len = v->via.str.size; break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (v->via.u64 > (uint64_t)INT64_MAX) out.type = GWF_OTHER;
        else out.type = GWF_INT, out.i = (int64_t)v->via.u64, out.d = (double)out.i;
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: out.type = GWF_INT, out.i = v->via.i64, out.d = (double)out.i; break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: out.type = GWF_REAL, out.d = v->via.f64; break;
    case MSGPACK_OBJECT_BOOLEAN: out.type = GWF_BOOL, out.b = v->via.boolean; break;
    default: out.type = GWF_OTHER; break;
    }
    return out;
}

gwf_value gw_field(const gw_fields *f, const char *key) {
    if (f->json) return of_json(json_is_object(f->json) ? json_object_get(f->json, key) : NULL);
    return of_msgpack(mp_get(f->map, key));
}

gw_fields gw_field_object(const gw_fields *f, const char *key) {
    if (f->json) {
        const json_t *v = json_is_object(f->json) ? json_object_get(f->json, key) : NULL;
        return gw_fields_of_json(json_is_object(v) ? v : NULL);
    }
    const msgpack_object *v = mp_get(f->map, key);
    return gw_fields_of_map(v && v->type == MSGPACK_OBJECT_MAP ? v : NULL);
}

bool gw_field_str(const gw_fields *f, const char *key, char *out, size_t cap) {
    if (cap) out[0] = '\0';
    gwf_value v = gw_field(f, key);
    if (v.type != GWF_STR || v.len >= cap || (v.len && memchr(v.s, '\0', v.len))) return false;
    if (v.len) memcpy(out, v.s, v.len);
    out[v.len] = '\0';
    return true;
}

bool gw_field_true(const gw_fields *f, const char *key) {
    gwf_value v = gw_field(f, key);
    return v.type == GWF_BOOL && v.b;
}

bool gw_field_is(const gw_fields *f, const char *key, const char *s) {
    gwf_value v = gw_field(f, key);
    size_t n = strlen(s);
    return v.type == GWF_STR && v.len == n && memcmp(v.s, s, n) == 0;
}
