/* The order port's msgpack messages, for aftm's own clients: the executor's send_order and its
 * answer, and the execution reports the gateway publishes on its report port. Each is one
 * msgpack map with exactly the field names and values of its JSON form (gw_proto.h), so a
 * reader can take either through net/gw_fields.h; JSON stays for the original's REQ clients
 * and every other operation. On a port that takes both, the first byte tells them apart
 * (wire/mpmap.h's mp_is_map).
 *
 * Not here: what the gateway does with an order (app/gateway), the exchange's link
 * (broker/broker_pack.h). */
#ifndef AFTM_GW_PACK_H
#define AFTM_GW_PACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"

/* A packer and the buffer it writes to, kept and reused: after the first messages nothing is
 * allocated. Each gw_pack_* starts a new message; its bytes are gw_packed / gw_packed_len until
 * the next one. */
typedef struct {
    msgpack_sbuffer buf;
    msgpack_packer pk;
    bool failed; /* out of memory while packing */
} gw_packer;

void gw_packer_init(gw_packer *p);
void gw_packer_destroy(gw_packer *p);
const char *gw_packed(const gw_packer *p);
size_t gw_packed_len(const gw_packer *p);

/* {"operation": "send_order", "parameters": {the original's ten fields, client_order_id}}: the
 * JSON request's map (price a float, 0 for a market order). false when out of memory. */
bool gw_pack_send_order(gw_packer *p, const broker_order_req *req);

/* Reads a msgpack send_order request strictly: every field present with the type aftm's
 * executor sends (strings; price a number >= 0, whole for a limit order; quantity an integer;
 * client_order_id required and valid). false with the error code (INVALID_ORDER,
 * ORDER_EXECUTION_ERROR, UNKNOWN_OPERATION) and a message naming the field. */
bool gw_unpack_send_order(const msgpack_object *root, broker_order_req *req, char *code, size_t code_cap, char *msg,
                          size_t msg_cap);

/* {"success": true, "data": {is_send_order, note, order_serial, error_code, error_message,
 * client_order_id, status, duplicate}}: gw_send_result_json's extended data. */
bool gw_pack_send_answer(gw_packer *p, const broker_send_result *res);
/* {"success": false, "error_message": msg, "error_code": code}. */
bool gw_pack_error(gw_packer *p, const char *code, const char *msg);

/* One execution report: gw_report_json's fields and values (nil where the JSON has null). */
bool gw_pack_report(gw_packer *p, uint64_t seq, const broker_report *r);

#endif
