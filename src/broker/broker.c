/* Names of the broker enums as they appear on the wire, and the refusal of an order. */
#include "broker/broker.h"

#include <string.h>

#include "core/str.h"

void broker_send_refused(const broker_order_req *req, const char *code, const char *msg, broker_send_result *res) {
    memset(res, 0, sizeof *res);
    str_copy(res->client_order_id, sizeof res->client_order_id, req->client_order_id);
    str_copy(res->note, sizeof res->note, req->note);
    str_copy(res->error_code, sizeof res->error_code, code);
    str_copy(res->error_message, sizeof res->error_message, msg);
    res->status = BROKER_ST_REJECTED;
}

const char *broker_status_name(broker_status s) {
    switch (s) {
    case BROKER_ST_NEW: return "new";
    case BROKER_ST_ACCEPTED: return "accepted";
    case BROKER_ST_REJECTED: return "rejected";
    case BROKER_ST_PARTIALLY_FILLED: return "partially_filled";
    case BROKER_ST_FILLED: return "filled";
    case BROKER_ST_CANCELLED: return "cancelled";
    case BROKER_ST_EXPIRED: return "expired";
    }
    return "unknown";
}

const char *broker_order_type_name(broker_order_type t) {
    switch (t) {
    case BROKER_MARKET: return "Market";
    case BROKER_LIMIT: return "Limit";
    case BROKER_MARKET_PRICE: return "MarketPrice";
    }
    return "unknown";
}

const char *broker_tif_name(broker_tif t) {
    switch (t) {
    case BROKER_ROD: return "ROD";
    case BROKER_IOC: return "IOC";
    case BROKER_FOK: return "FOK";
    }
    return "unknown";
}

const char *broker_open_close_name(broker_open_close oc) {
    switch (oc) {
    case BROKER_OPEN: return "Y";
    case BROKER_CLOSE: return "N";
    case BROKER_AUTO: return "AUTO";
    }
    return "unknown";
}

bool broker_order_type_parse(const char *s, broker_order_type *out) {
    if (!s) return false;
    if (!strcmp(s, "Market")) *out = BROKER_MARKET;
    else if (!strcmp(s, "Limit")) *out = BROKER_LIMIT;
    else if (!strcmp(s, "MarketPrice")) *out = BROKER_MARKET_PRICE;
    else return false;
    return true;
}

bool broker_tif_parse(const char *s, broker_tif *out) {
    if (!s) return false;
    if (!strcmp(s, "ROD")) *out = BROKER_ROD;
    else if (!strcmp(s, "IOC")) *out = BROKER_IOC;
    else if (!strcmp(s, "FOK")) *out = BROKER_FOK;
    else return false;
    return true;
}

bool broker_open_close_parse(const char *s, broker_open_close *out) {
    if (!s) return false;
    if (!strcmp(s, "Y")) *out = BROKER_OPEN;
    else if (!strcmp(s, "N")) *out = BROKER_CLOSE;
    else if (!strcmp(s, "AUTO")) *out = BROKER_AUTO;
    else return false;
    return true;
}

bool broker_status_open(broker_status s) {
    return s == BROKER_ST_NEW || s == BROKER_ST_ACCEPTED || s == BROKER_ST_PARTIALLY_FILLED;
}
