#include "net/signal_ack.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "net/gw_proto.h"

char *signal_ack_encode(const signal_ack *a) {
    json_t *j = json_pack("{s:s,s:s,s:b,s:s}", "signal_id", a->signal_id, "client_order_id", a->client_order_id,
                          "refused", a->refused, "reason", a->reason);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

bool signal_ack_decode(const char *body, size_t len, signal_ack *out, char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    json_error_t e;
    json_t *j = json_loadb(body, len, 0, &e);
    if (!j || !json_is_object(j)) {
        snprintf(why, whylen, "not a JSON object");
        json_decref(j);
        return false;
    }
    const char *sid = json_string_value(json_object_get(j, "signal_id"));
    const char *coid = json_string_value(json_object_get(j, "client_order_id"));
    json_t *refused = json_object_get(j, "refused");
    const char *reason = json_string_value(json_object_get(j, "reason"));
    bool ok = false;
    if (!sid || !gw_coid_valid(sid)) snprintf(why, whylen, "no usable signal_id");
    else if (!coid || !gw_coid_valid(coid)) snprintf(why, whylen, "no usable client_order_id");
    else if (!json_is_boolean(refused)) snprintf(why, whylen, "refused is not true or false");
    else {
        str_copy(out->signal_id, sizeof out->signal_id, sid);
        str_copy(out->client_order_id, sizeof out->client_order_id, coid);
        out->refused = json_is_true(refused);
        str_copy(out->reason, sizeof out->reason, reason ? reason : "");
        ok = true;
    }
    json_decref(j);
    if (!ok) memset(out, 0, sizeof *out);
    return ok;
}
