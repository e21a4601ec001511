/* The broker interface's structs as msgpack maps: the hot messages of the simulated exchange's
 * link (aftm exchange <-> sim_remote), that is send_order, its reply and the execution reports
 * (the market PUB's "REPORT" frame and the body of a row in the exchange's report log). Each map
 * has exactly broker_json's keys and values: prices and quantities integers, enums their wire
 * names (broker.h), strings; so a message reads the same in either encoding.
 *
 * Not the rest of the exchange's requests and replies (login, get_reports, ...: JSON,
 * broker_json.h), nor the original's tagged msgpack (wire/codec.h).
 *
 * Packing appends one map to a msgpack_packer and returns false when a write failed (out of
 * memory: the bytes are incomplete); pack into a msgpack_sbuffer the caller keeps and clears
 * (msgpack_sbuffer_clear) between messages, and nothing is allocated per message once it is
 * warm. The readers accept only what the packers produce: a missing or mistyped field, a
 * string longer than its buffer, an integer beyond int64 makes them return false with *out
 * untouched, so a garbled message is refused whole, never half applied. Keys they do not know
 * are ignored, as broker_json's are. */
#ifndef AFTM_BROKER_PACK_H
#define AFTM_BROKER_PACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "wire/mpmap.h"

/* ---- the structs: a map packed into pk, or read from a map o (a message or a value in one) ---- */

bool bp_pack_report(msgpack_packer *pk, const broker_report *r);
bool bp_to_report(const msgpack_object *o, broker_report *out);

bool bp_pack_order_req(msgpack_packer *pk, const broker_order_req *r);
/* err names the first field that is missing or invalid, as bj_to_order_req's does. */
bool bp_to_order_req(const msgpack_object *o, broker_order_req *out, char *err, size_t errlen);

bool bp_pack_send_result(msgpack_packer *pk, const broker_send_result *r);
bool bp_to_send_result(const msgpack_object *o, broker_send_result *out);

/* A whole message (len bytes) that is one report map: a "REPORT" frame, a report log row. */
bool bp_read_report(mp_reader *rd, const void *data, size_t len, broker_report *out);

/* ---- the exchange link's send_order (exchange.h) ----
 *
 * request {"operation": "send_order", "id": id, "order": {order_req}}
 * reply   {"id": id, "success": true, "result": {send_result}}
 *      or {"id": id, "success": false, "error_code": C, "error_message": M} */

bool bp_pack_send_request(msgpack_packer *pk, uint64_t id, const broker_order_req *req);
/* id: the request's "id", echoed as it came (NULL: the reply has none). */
bool bp_pack_send_reply_ok(msgpack_packer *pk, const msgpack_object *id, const broker_send_result *res);
bool bp_pack_send_reply_err(msgpack_packer *pk, const msgpack_object *id, const char *code, const char *msg);

typedef struct {
    uint64_t id;
    bool success;
    broker_send_result result;          /* when success */
    char error_code[32];                /* when not */
    char error_message[BROKER_MSG_MAX]; /* when not; cut to the buffer (the one text not refused
                                         * for its length: it is only shown) */
} bp_send_reply;

/* A reply as above with an integer id >= 0 (the adapter's own ids); false for anything else. */
bool bp_read_send_reply(mp_reader *rd, const void *data, size_t len, bp_send_reply *out);

#endif
