/* The executor's acknowledgement of a signal (see signal_ack.h). */
#include "net/signal_ack.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "net/gw_fields.h"
#include "net/gw_proto.h"
#include "wire/mpmap.h"
#include "wire/packer.h"

size_t signal_ack_encode(const signal_ack *a, char *buf, size_t cap) {
    msgpack_packer pk;
    wire_fixed_buf w;
    wire_packer_init(&pk, &w, buf, cap);
    msgpack_pack_map(&pk, 4);
    mp_pack_kv_str(&pk, "signal_id", a->signal_id);
    mp_pack_kv_str(&pk, "client_order_id", a->client_order_id);
    mp_pack_kv_bool(&pk, "refused", a->refused);
    mp_pack_kv_str(&pk, "reason", a->reason);
    return wire_packer_done(&w);
}

static bool read_fields(const gw_fields *f, signal_ack *out, char *why, size_t whylen) {
    gwf_value refused = gw_field(f, "refused");
    if (!gw_field_str(f, "signal_id", out->signal_id, sizeof out->signal_id) || !gw_coid_valid(out->signal_id))
        snprintf(why, whylen, "no usable signal_id");
    else if (!gw_field_str(f, "client_order_id", out->client_order_id, sizeof out->client_order_id) ||
             !gw_coid_valid(out->client_order_id))
        snprintf(why, whylen, "no usable client_order_id");
    else if (refused.type != GWF_BOOL) snprintf(why, whylen, "refused is not true or false");
    else {
        out->refused = refused.b;
        gwf_value reason = gw_field(f, "reason"); /* a longer reason is cut, as the executor's own are */
        if (reason.type == GWF_STR)
            snprintf(out->reason, sizeof out->reason, "%.*s",
                     (int)(reason.len < sizeof out->reason ? reason.len : sizeof out->reason - 1), reason.s);
        return true;
    }
    return false;
}

bool signal_ack_decode(const char *body, size_t len, signal_ack *out, char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    bool ok = false;
    if (mp_is_map(body, len)) {
        mp_reader r;
        mp_reader_init(&r);
        msgpack_object map;
        if (!mp_read(&r, body, len, &map)) snprintf(why, whylen, "not one msgpack map");
        else {
            gw_fields f = gw_fields_of_map(&map);
            ok = read_fields(&f, out, why, whylen);
        }
        mp_reader_destroy(&r);
    } else {
        json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
        gw_fields f = gw_fields_of_json(j);
        if (!j || !json_is_object(j)) snprintf(why, whylen, "neither a msgpack map nor a JSON object");
        else ok = read_fields(&f, out, why, whylen);
        json_decref(j);
    }
    if (!ok) memset(out, 0, sizeof *out);
    return ok;
}
