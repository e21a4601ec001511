/* The gateway's order-port protocol, both directions, in one place: what a client sends
 * (send_order, cancel_order, order_status, get_positions, get_reports), what the gateway
 * answers, the execution reports it publishes, and the client order id scheme of aftm's
 * orders. JSON over REQ/ROUTER, the original's field names (docs: DESIGN.md, "order port").
 * Not the socket (net/gateway_client.h, net/router.h) and not the exchange's own link
 * (broker/broker_json.h, which round-trips the broker structs exactly).
 *
 * Every reply is {"success": true, "data": {...}} or {"success": false, "error_message": M,
 * "error_code": C}. Builders return a new json_t (caller decrefs; NULL only when out of
 * memory); parsers return false for anything missing or mistyped and then leave *out as
 * zeroes, so a garbled message is refused whole. */
#ifndef AFTM_GW_PROTO_H
#define AFTM_GW_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"

/* ---- the client order id scheme ---------------------------------------------------------
 * A signal of the strategy has the id "<condition id>.<leg>" (leg E: the entry, X: the exit),
 * "<condition id>r<round>.<leg>" for the round-th re-arming of a condition that repeats (round 0
 * has no "r" part, so the ids of conditions that never repeat are as before),
 * or "m<pid>_<n>.<leg>" for a condition made in the strategy's memory only (its condition id
 * is -n, the pid that of the strategy process that made it). The executor's order for it has
 * the client order id "aftm-<instance>-<signal id>", the instance being the database's random
 * id (db_instance_id), so that ids never repeat at the broker after the database is made anew.
 * Orders from elsewhere (the CLI's "cli-...") are not aftm's: gw_coid_parse refuses them. */

/* Execution reports the gateway's report PUB queues for each subscriber, and its subscribers
 * (the executor) take in, before dropping: a burst of orders in flight brings two or more
 * reports each, and a dropped one costs a catch-up through get_reports (about 6 MB at most). */
#define REPORT_QUEUE_HWM 20000
/* Requests and answers queued per connection on the order path (executor -> gateway ->
 * exchange and back) before a send is refused or, on a ROUTER, an answer dropped: deep enough
 * for any burst the executor keeps in flight, so backpressure never loses an answer. */
#define ORDER_QUEUE_HWM 100000

#define GW_COID_PREFIX "aftm-"
#define GW_INSTANCE_MAX 16 /* characters of an instance id, at most */

typedef enum { GW_LEG_ENTRY = 'E', GW_LEG_EXIT = 'X' } gw_leg;

typedef struct {
    char instance[GW_INSTANCE_MAX + 1];
    int64_t condition_id; /* > 0 stored; < 0 made in memory by the process pid */
    int pid;              /* 0 for a stored condition */
    int64_t round;        /* 0, or the re-arming of a repeating condition ("<id>r<round>") */
    gw_leg leg;
} gw_coid;

/* "<id>.E" / "m<pid>_<n>.X" from a condition id (!= 0; < 0 needs pid > 0) and a leg. false
 * (out "") when the arguments are out of range or it does not fit. */
bool gw_signal_id_make(char *out, size_t cap, int64_t condition_id, int pid, gw_leg leg);
/* The same for a round of a stored condition (id > 0): round 0 gives "<id>.E", round n > 0
 * "<id>r<n>.E". false for a negative round or an id <= 0 with a round > 0. */
bool gw_signal_id_make_round(char *out, size_t cap, int64_t condition_id, int pid, int64_t round, gw_leg leg);
/* "aftm-<instance>-<signal_id>". false (out "") when the instance is not 1 to GW_INSTANCE_MAX
 * letters or digits, or the result is not a valid client order id (gw_coid_valid) or does not
 * fit. Any signal id is accepted, also the original's (which have no leg), so that the executor
 * can prefix whatever signal it gets. */
bool gw_coid_from_signal(char *out, size_t cap, const char *instance, const char *signal_id);
/* Reads an aftm client order id back. false for anything else: another prefix, no instance, a
 * missing or unknown leg, a condition id that is 0, not decimal, has a sign or leading zeros,
 * or overflows, trailing characters. */
bool gw_coid_parse(const char *coid, gw_coid *out);
/* true when s is a usable client order id: 1 to BROKER_ID_MAX-1 printable ASCII characters,
 * no spaces. */
bool gw_coid_valid(const char *s);
/* true when the signal id (or client order id) names an exit leg (ends in ".X"). */
bool gw_is_exit(const char *id);

/* ---- replies ---------------------------------------------------------------------------- */

/* {"success": true, "data": data} (data consumed; NULL: {}). */
json_t *gw_ok(json_t *data);
/* {"success": false, "error_message": msg, "error_code": code}. */
json_t *gw_err(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reading a reply: success, its data (borrowed, NULL if none), its error code and message
 * ("ERROR" / "refused" when the reply has none). */
bool gw_reply_ok(const json_t *reply);
json_t *gw_reply_data(const json_t *reply);
const char *gw_reply_code(const json_t *reply);
const char *gw_reply_message(const json_t *reply);

/* How Python prints a value in an f-string (None, True, the string itself...): the original's
 * error messages quote values that way. */
void gw_python_str(const json_t *v, char *out, size_t cap);

/* JSON text the way Python's json.dumps writes it by default (", " and ": ", non-ASCII
 * escaped, 16 significant digits for reals). Caller frees. */
char *gw_dumps(const json_t *value);

/* ---- send_order ------------------------------------------------------------------------- */

/* The parameters of send_order for req: the original's ten fields (price as a real, 0 for a
 * market order) plus client_order_id when req has one. */
json_t *gw_send_order_params(const broker_order_req *req);
/* Reads send_order parameters as the gateway does. On false, *reply is the error reply to
 * send (the original's codes and messages: INVALID_ORDER "Missing required fields: ...",
 * ORDER_EXECUTION_ERROR "'x' is not a valid OrderOperation"...). *extended: the client sent a
 * client_order_id (its reply then carries the extension fields). */
bool gw_send_order_parse(const json_t *params, broker_order_req *req, bool *extended, json_t **reply);
/* The data of a send_order reply: is_send_order, note, order_serial, error_code,
 * error_message; with extended also client_order_id, status, duplicate. */
json_t *gw_send_result_json(const broker_send_result *res, bool extended);
/* Reads that data back (the extension fields when present). */
bool gw_send_result_parse(const json_t *data, broker_send_result *out);

/* ---- order_status, cancel_order ---------------------------------------------------------- */

json_t *gw_order_status_params(const char *client_order_id);
/* data of order_status for a known order: found true plus the order's fields. */
json_t *gw_order_status_json(const broker_order_info *o);
/* Reads it; false when found is false or a field is missing. avg_fill_price comes back as
 * filled_notional = round(avg * filled_qty), exact for every notional below 2^53. */
bool gw_order_status_parse(const json_t *data, broker_order_info *out);
json_t *gw_cancel_params(const char *client_order_id);
json_t *gw_cancel_json(const char *client_order_id); /* cancelled, client_order_id, status */

/* ---- execution reports ------------------------------------------------------------------- */

/* One report as published on the report port and listed by get_reports: seq, client_order_id
 * and the rest; prices as integers, avg_fill_price a real (null until filled), time POSIX
 * seconds. */
json_t *gw_report_json(uint64_t seq, const broker_report *r);
/* Reads a report (seq into out->seq; avg_fill_price back to filled_notional as above, time to
 * ts_us). false when a field is missing or mistyped. */
bool gw_report_parse(const json_t *j, broker_report *out);

typedef struct {
    uint64_t first_seq, last_seq;
    bool more, truncated;
    int64_t epoch;
} gw_report_page;

json_t *gw_reports_params(uint64_t since_seq);
/* data of get_reports: reports (consumed; an array of gw_report_json), first_seq, last_seq,
 * more, truncated, epoch. */
json_t *gw_reports_json(json_t *reports, const gw_report_page *page);
/* Reads the page's numbers and returns its report list (borrowed), NULL when malformed. */
const json_t *gw_reports_parse(const json_t *data, gw_report_page *page);

/* ---- positions --------------------------------------------------------------------------- */

json_t *gw_positions_params(const char *account);
/* One position in the original's PositionDto names plus net_qty. */
json_t *gw_position_json(const broker_position *p);
bool gw_position_parse(const json_t *j, broker_position *out);

#endif
