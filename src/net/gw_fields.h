/* The fields of one message of the gateway's links read by name, whichever encoding it came in:
 * a JSON object (the original's clients, get_reports pages) or a msgpack map (aftm's own order
 * link and report port, wire/mpmap.h). Readers that take both (execution reports, send_order
 * answers) read through this and keep one set of checks.
 *
 * Not a parser: the caller decodes the bytes (json_loadb, mp_read) and keeps them alive while
 * the fields are read; strings point inside them and are not NUL-terminated. */
#ifndef AFTM_GW_FIELDS_H
#define AFTM_GW_FIELDS_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const json_t *json;        /* one of the two, the other NULL */
    const msgpack_object *map;
} gw_fields;

typedef enum { GWF_ABSENT, GWF_NULL, GWF_STR, GWF_INT, GWF_REAL, GWF_BOOL, GWF_OTHER } gwf_type;

typedef struct {
    gwf_type type;
    const char *s; /* GWF_STR: len bytes, not NUL-terminated */
    size_t len;
    int64_t i;     /* GWF_INT (an unsigned integer beyond INT64_MAX is GWF_OTHER) */
    double d;      /* GWF_REAL, and GWF_INT as a double */
    bool b;        /* GWF_BOOL */
} gwf_value;

gw_fields gw_fields_of_json(const json_t *object);
gw_fields gw_fields_of_map(const msgpack_object *map);
/* true when the message is an object / a map. */
bool gw_fields_ok(const gw_fields *f);

gwf_value gw_field(const gw_fields *f, const char *key);
/* The object / map under key (gw_fields_ok false when there is none). */
gw_fields gw_field_object(const gw_fields *f, const char *key);
/* A string that fits cap-1 bytes without a NUL byte, copied NUL-terminated; false (out "")
 * when absent, of another type or too long. */
bool gw_field_str(const gw_fields *f, const char *key, char *out, size_t cap);
/* true when the field is the boolean true. */
bool gw_field_true(const gw_fields *f, const char *key);
/* true when the field is the string s. */
bool gw_field_is(const gw_fields *f, const char *key, const char *s);

#endif
