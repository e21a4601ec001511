/* The executor's side of the gateway's order protocol: the requests it builds (send_order,
 * get_reports, order_status) and how it reads the replies and the execution reports. Answers
 * to send_order and reports come in JSON or in msgpack (net/gw_pack.h) and are read through
 * net/gw_fields.h with the same checks. Shapes only: no sockets, no state, no database. */
#ifndef AFTM_EXECUTOR_PROTO_H
#define AFTM_EXECUTOR_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "domain/order.h"
#include "net/gw_fields.h"
#include "wire/mpmap.h"

/* The broker order for o: an IOC market order for a condition's, a limit (ROD or IOC) for one by
 * hand, carrying its client order id (the gateway answers a repeat of that id with the first
 * order). */
void exproto_order_req(const order *o, broker_order_req *out);
/* {"operation": "send_order", "parameters": {...}}: the JSON request for req. */
json_t *exproto_send_order_request(const broker_order_req *req);

/* {"operation": "get_reports", "parameters": {"since_seq": N}}. */
json_t *exproto_get_reports_request(long long since_seq);

/* {"operation": "order_status", "parameters": {"client_order_id": ...}}. */
json_t *exproto_order_status_request(const char *client_order_id);

/* What the gateway said to a send_order. */
typedef struct {
    bool accepted;                 /* success and the broker took it */
    bool duplicate;                /* the gateway already had this client order id */
    char serial[ORDER_ID_MAX];     /* the broker's order serial, "" when none given */
    char reason[ORDER_REASON_MAX]; /* why it was refused, when not accepted */
} exproto_send_reply;

void exproto_parse_send_reply(const gw_fields *reply, exproto_send_reply *out);
/* The same from the answer's bytes (a JSON object or a msgpack map; r: the caller's reader).
 * false when they are neither. */
bool exproto_read_send_reply(mp_reader *r, const char *body, size_t len, exproto_send_reply *out);

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

/* One execution report. The strings point into the struct's own copies (text): read it where
 * it was filled, never copy it. */
typedef struct {
    long long seq;               /* 0 when absent */
    const char *client_order_id; /* NULL when absent */
    const char *status_text;     /* as sent, NULL when absent */
    order_status status;         /* valid when the function returned true */
    const char *reason;          /* NULL when absent (truncated to ORDER_REASON_MAX - 1) */
    const char *serial;          /* NULL when absent */
    const char *fill_id;         /* NULL or empty when the broker gives none */
    int64_t fill_qty;            /* 0 when absent or not an integer */
    price_t fill_price;          /* rounded to points */
    int64_t cum_qty;             /* the broker's cumulative filled qty, -1 when not given */
    /* the order it is about, for an order placed outside aftm: has_order when all were given */
    bool has_order;
    char account[ORDER_ACCOUNT_MAX], symbol[ORDER_SYMBOL_MAX];
    side_t side;
    int64_t qty;
    struct {
        char coid[ORDER_ID_MAX], status[24], reason[ORDER_REASON_MAX], serial[ORDER_ID_MAX], fill_id[ORDER_ID_MAX];
    } text;
} exproto_report;

/* Reads rep into out (always filled) and checks every number against sane bounds (seq >= 1
 * when given, quantities 0..ORDER_QTY_MAX, a fill's price 1..ORDER_PRICE_MAX, ids that fit).
 * False with the reason in why when it has no client order id, no known status or a value out
 * of bounds: such a report is refused, never applied or stored. */
bool exproto_parse_report(const gw_fields *rep, exproto_report *out, char *why, size_t whylen);

#endif
