/* The broker interface's structs as JSON objects: the wire of the simulated exchange process
 * (aftm exchange) and its client adapter (sim_remote). Every struct round-trips exactly:
 * prices and quantities are JSON integers, enums their wire names (broker.h).
 *
 * The parsers accept only what they produce: a missing or mistyped field makes them return
 * false, so a garbled message is refused whole, never half applied. */
#ifndef AFTM_BROKER_JSON_H
#define AFTM_BROKER_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "broker/broker.h"

json_t *bj_from_report(const broker_report *r);
bool bj_to_report(const json_t *j, broker_report *out);

json_t *bj_from_order_info(const broker_order_info *o);
bool bj_to_order_info(const json_t *j, broker_order_info *out);

json_t *bj_from_order_req(const broker_order_req *r);
bool bj_to_order_req(const json_t *j, broker_order_req *out, char *err, size_t errlen);

json_t *bj_from_send_result(const broker_send_result *r);
bool bj_to_send_result(const json_t *j, broker_send_result *out);

json_t *bj_from_position(const broker_position *p);
bool bj_to_position(const json_t *j, broker_position *out);

json_t *bj_from_product(const broker_product *p);
bool bj_to_product(const json_t *j, broker_product *out);

json_t *bj_from_account(const broker_account *a);
bool bj_to_account(const json_t *j, broker_account *out);

json_t *bj_from_tick(const broker_tick *t);
bool bj_to_tick(const json_t *j, broker_tick *out);

/* By the names broker_status_name gives; false when unknown. */
bool broker_status_parse(const char *s, broker_status *out);

#endif
