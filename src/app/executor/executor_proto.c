/* The executor's JSON requests to the gateway and its reading of the replies and reports
 * (see executor_proto.h). Key order and values are the wire format: do not reorder. */
#include "app/executor/executor_proto.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

json_t *exproto_send_order_request(const order *o) {
    json_t *params = json_pack("{s:s,s:s,s:s,s:s,s:f,s:I,s:s,s:s,s:s,s:s,s:s}", "order_account", o->account,
                               "item_code", o->symbol, "side", o->side == SIDE_BUY ? "buy" : "sell", "order_type",
                               "Market", "price", 0.0, "quantity", (json_int_t)o->qty, "open_close", "AUTO", "note",
                               "aftm", "day_trade", "N", "time_in_force", "IOC", "client_order_id",
                               o->client_order_id);
    return json_pack("{s:s,s:o}", "operation", "send_order", "parameters", params);
}

json_t *exproto_get_reports_request(long long since_seq) {
    return json_pack("{s:s,s:{s:I}}", "operation", "get_reports", "parameters", "since_seq", (json_int_t)since_seq);
}

json_t *exproto_order_status_request(const char *client_order_id) {
    return json_pack("{s:s,s:{s:s}}", "operation", "order_status", "parameters", "client_order_id", client_order_id);
}

void exproto_parse_send_reply(const json_t *reply, exproto_send_reply *out) {
    memset(out, 0, sizeof *out);
    json_t *data = json_object_get(reply, "data");
    out->serial = json_string_value(json_object_get(data, "order_serial"));
    if (!json_is_true(json_object_get(reply, "success"))) {
        const char *msg = json_string_value(json_object_get(reply, "error_message"));
        const char *code = json_string_value(json_object_get(reply, "error_code"));
        snprintf(out->reason, sizeof out->reason, "%s (%s)", msg ? msg : "refused", code ? code : "?");
    } else if (!json_is_true(json_object_get(data, "is_send_order"))) {
        const char *msg = json_string_value(json_object_get(data, "error_message"));
        snprintf(out->reason, sizeof out->reason, "%s", msg && *msg ? msg : "the broker did not accept the order");
    } else {
        out->accepted = true;
        out->duplicate = json_is_true(json_object_get(data, "duplicate"));
    }
}

json_t *exproto_reports_of(const json_t *reply) {
    json_t *list = json_object_get(json_object_get(reply, "data"), "reports");
    return json_is_array(list) ? list : NULL;
}

bool exproto_status_not_found(const json_t *reply) {
    return json_is_true(json_object_get(reply, "success")) &&
           json_is_false(json_object_get(json_object_get(reply, "data"), "found"));
}

bool exproto_parse_report(const json_t *rep, exproto_report *out) {
    memset(out, 0, sizeof *out);
    out->seq = json_integer_value(json_object_get(rep, "seq"));
    out->client_order_id = json_string_value(json_object_get(rep, "client_order_id"));
    out->status_text = json_string_value(json_object_get(rep, "status"));
    out->reason = json_string_value(json_object_get(rep, "reason"));
    out->serial = json_string_value(json_object_get(rep, "order_serial"));
    out->fill_id = json_string_value(json_object_get(rep, "fill_id"));
    out->fill_qty = json_integer_value(json_object_get(rep, "fill_qty"));
    out->fill_price = (price_t)llround(json_number_value(json_object_get(rep, "fill_price")));
    json_t *cum = json_object_get(rep, "filled_qty");
    out->cum_qty = json_is_integer(cum) ? json_integer_value(cum) : -1;
    return out->client_order_id && out->status_text && order_status_parse(out->status_text, &out->status);
}
