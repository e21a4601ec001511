/* The executor's side of the gateway's JSON order protocol: the requests it builds (send_order,
 * get_reports, order_status) and how it reads the replies and the execution reports. JSON
 * shapes only: no sockets, no state, no database. A shared gateway-protocol module is meant to
 * take these over; until then they are kept here, each in one function, so the move is small. */
#ifndef AFTM_EXECUTOR_PROTO_H
#define AFTM_EXECUTOR_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/order.h"

/* {"operation": "send_order", "parameters": {...}}: one IOC market order for o, carrying its
 * client order id (the gateway answers a repeat of that id with the first order). */
json_t *exproto_send_order_request(const order *o);

/* {"operation": "get_reports", "parameters": {"since_seq": N}}. */
json_t *exproto_get_reports_request(long long since_seq);

/* {"operation": "order_status", "parameters": {"client_order_id": ...}}. */
json_t *exproto_order_status_request(const char *client_order_id);

/* What the gateway said to a send_order. */
typedef struct {
    bool accepted;                 /* success and the broker took it */
    bool duplicate;                /* the gateway already had this client order id */
    const char *serial;            /* the broker's order serial (inside the reply), or NULL */
    char reason[ORDER_REASON_MAX]; /* why it was refused, when not accepted */
} exproto_send_reply;

void exproto_parse_send_reply(const json_t *reply, exproto_send_reply *out);

/* The reports array of a get_reports reply (borrowed), or NULL when the reply has none. */
json_t *exproto_reports_of(const json_t *reply);
/* What else a get_reports reply says: the gateway's last seq (-1 when not given) and whether
 * more reports follow the ones in this reply. */
void exproto_reports_page(const json_t *reply, long long *last_seq, bool *more);

/* An order_status reply that found the order: the broker's view of it. */
typedef struct {
    order_status status;
    int64_t filled_qty;
    char reason[ORDER_REASON_MAX]; /* empty when none given */
} exproto_status;
/* True when reply found the order and says something usable (a known status, a sane filled
 * quantity). */
bool exproto_parse_status(const json_t *reply, exproto_status *out);

/* True when an order_status reply says, successfully, that the broker does not know the order. */
bool exproto_status_not_found(const json_t *reply);

/* One execution report. Strings point inside the JSON object they were read from. */
typedef struct {
    long long seq;               /* 0 when absent */
    const char *client_order_id; /* NULL when absent */
    const char *status_text;     /* as sent, NULL when absent */
    order_status status;         /* valid when the function returned true */
    const char *reason;          /* NULL when absent */
    const char *serial;          /* NULL when absent */
    const char *fill_id;         /* NULL or empty when the broker gives none */
    int64_t fill_qty;            /* 0 when absent or not an integer */
    price_t fill_price;          /* rounded to points */
    int64_t cum_qty;             /* the broker's cumulative filled qty, -1 when not given */
} exproto_report;

/* Reads rep into out (always filled) and checks every number against sane bounds (seq >= 1
 * when given, quantities 0..ORDER_QTY_MAX, a fill's price 1..ORDER_PRICE_MAX, ids that fit).
 * False with the reason in why when it has no client order id, no known status or a value out
 * of bounds: such a report is refused, never applied or stored. */
bool exproto_parse_report(const json_t *rep, exproto_report *out, char *why, size_t whylen);

#endif
