/* The one way to reach a broker: a table of operations plus an opaque instance.
 *
 * Every adapter (the simulated exchange now, FIX later) implements broker_ops; nothing outside
 * src/broker calls an adapter any other way. Calls are made from one thread. Events (ticks,
 * order reports, connection changes) come back through the callbacks set with
 * broker_set_callbacks, always from inside a broker call (send_order, cancel_order, service...),
 * never from a foreign thread. A callback may read from the broker but must not send or cancel
 * orders from inside a report (queue that work and do it after the call returns).
 *
 * Prices are integer points (price_t). Strings are NUL-terminated and truncated to their
 * buffers. */
#ifndef AFTM_BROKER_H
#define AFTM_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/condition.h" /* price_t, side_t */

#define BROKER_ID_MAX 64      /* client order ids, fill ids, order serials */
#define BROKER_ACCOUNT_MAX 32
#define BROKER_SYMBOL_MAX 32
#define BROKER_NAME_MAX 64
#define BROKER_NOTE_MAX 64
#define BROKER_MSG_MAX 160

/* ---- orders ---- */

typedef enum {
    BROKER_MARKET = 0,
    BROKER_LIMIT = 1,
    BROKER_MARKET_PRICE = 2, /* range market price (TAIFEX); the simulator treats it as market */
} broker_order_type;

typedef enum { BROKER_ROD = 0, BROKER_IOC = 1, BROKER_FOK = 2 } broker_tif;

typedef enum { BROKER_OPEN = 0, BROKER_CLOSE = 1, BROKER_AUTO = 2 } broker_open_close;

typedef enum {
    BROKER_ST_NEW = 0, /* known but not yet answered */
    BROKER_ST_ACCEPTED,
    BROKER_ST_REJECTED,
    BROKER_ST_PARTIALLY_FILLED,
    BROKER_ST_FILLED,
    BROKER_ST_CANCELLED,
    BROKER_ST_EXPIRED,
} broker_status;

typedef struct {
    char client_order_id[BROKER_ID_MAX]; /* idempotency key; "" = none (the original's executor) */
    char account[BROKER_ACCOUNT_MAX];    /* order account, e.g. SIM-0001 */
    char symbol[BROKER_SYMBOL_MAX];      /* product code, e.g. TXFF5 */
    side_t side;
    int64_t qty;
    broker_order_type type;
    price_t price; /* limit price in points; ignored for market orders */
    broker_tif tif;
    broker_open_close open_close;
    bool day_trade;
    char note[BROKER_NOTE_MAX];
} broker_order_req;

/* What send_order answers at once. The order's later life comes through reports. */
typedef struct {
    bool is_send_order;                  /* the broker took the order (false: refused) */
    bool duplicate;                      /* the client order id was already known: this is that order */
    char client_order_id[BROKER_ID_MAX];
    char order_serial[BROKER_ID_MAX];    /* the broker's order id */
    char error_code[32];                 /* "0" when accepted */
    char error_message[BROKER_MSG_MAX];  /* "" when accepted */
    char note[BROKER_NOTE_MAX];          /* echoed */
    broker_status status;          /* the order's status now */
    bool unknown;                        /* the link to the broker failed after the order left: whether
                                          * the broker has it is unknown (ask order_status later) */
} broker_send_result;

/* res as the refusal of req, never placed: rejected with code and msg, req's client order id
 * and note echoed, everything else empty. */
void broker_send_refused(const broker_order_req *req, const char *code, const char *msg, broker_send_result *res);

/* One order as the broker knows it (order_status). */
typedef struct {
    char client_order_id[BROKER_ID_MAX];
    char order_serial[BROKER_ID_MAX];
    char account[BROKER_ACCOUNT_MAX];
    char symbol[BROKER_SYMBOL_MAX];
    side_t side;
    int64_t qty;
    broker_order_type type;
    price_t price;
    broker_tif tif;
    broker_status status;
    int64_t filled_qty;
    int64_t filled_notional; /* sum of fill_qty * fill_price, points; avg = notional / filled_qty */
    char reason[BROKER_MSG_MAX]; /* why it was rejected / cancelled / expired */
} broker_order_info;

/* An execution report: one event in an order's life. */
typedef struct {
    char client_order_id[BROKER_ID_MAX];
    char order_serial[BROKER_ID_MAX];
    char account[BROKER_ACCOUNT_MAX];
    char symbol[BROKER_SYMBOL_MAX];
    side_t side;
    int64_t qty;                  /* the order's quantity */
    broker_status status;   /* ACCEPTED, REJECTED, PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED */
    char fill_id[BROKER_ID_MAX];  /* unique per fill; "" when this report is not a fill */
    int64_t fill_qty;             /* 0 when not a fill */
    price_t fill_price;           /* 0 when not a fill */
    int64_t filled_qty;           /* cumulative */
    int64_t filled_notional;      /* cumulative sum of qty * price */
    char reason[BROKER_MSG_MAX];  /* "" unless rejected / cancelled / expired */
    int64_t ts_us;                /* POSIX microseconds of the event */
    uint64_t seq;                 /* the broker's own number for this report (its report log), strictly
                                   * increasing and kept across restarts; 0 when the adapter has none
                                   * (the gateway numbers the reports itself) */
} broker_report;

/* ---- reference data ---- */

typedef struct {
    char account[BROKER_ACCOUNT_MAX];
    char name[BROKER_NAME_MAX];
} broker_account;

typedef struct {
    char code[BROKER_SYMBOL_MAX];      /* TXFF5 */
    char name[BROKER_NAME_MAX];        /* human name */
    char delivery_month[8];            /* YYYYMM */
    char market[16];                   /* market code, e.g. TAIFEX */
    price_t reference_price;
    price_t max_price;                 /* daily limit up */
    price_t min_price;                 /* daily limit down */
} broker_product;

/* A position per account and product, in the shape of the original's PositionDto. */
typedef struct {
    char account[BROKER_ACCOUNT_MAX];
    char symbol[BROKER_SYMBOL_MAX];
    int64_t net_qty;          /* long > 0, short < 0 */
    int64_t current_long;     /* max(net, 0) */
    int64_t current_short;    /* max(-net, 0) */
    int64_t today_filled_long;  /* bought today */
    int64_t today_filled_short; /* sold today */
    int64_t today_order_long;   /* buy lots ordered today */
    int64_t today_order_short;  /* sell lots ordered today */
    int64_t today_closed;       /* lots closed today */
    double avg_cost;          /* average price of the open lots, points; 0 when flat */
    int64_t realized_pl;      /* points x lots */
    int64_t unrealized_pl;    /* against reference_price, points x lots */
    price_t reference_price;  /* last price of the product, 0 if none yet */
} broker_position;

/* ---- events ---- */

typedef struct {
    char symbol[BROKER_SYMBOL_MAX];
    price_t price;
    int64_t volume;
    int64_t ts_us; /* exchange time of the tick, POSIX microseconds */
} broker_tick;

typedef enum { BROKER_DISCONNECTED = 0, BROKER_CONNECTED = 1 } broker_conn_state;

typedef struct {
    void *ctx;
    void (*on_tick)(void *ctx, const broker_tick *t);
    void (*on_report)(void *ctx, const broker_report *r);
    void (*on_connection)(void *ctx, broker_conn_state state, const char *message);
    /* The answer to send_order_async's order token (res->unknown: none came in time, or the
     * link failed after it left). */
    void (*on_send_result)(void *ctx, uint64_t token, const broker_send_result *res);
} broker_callbacks;

/* The bounds of a broker's report log (get_reports). */
typedef struct broker_report_page {
    uint64_t first_seq; /* oldest kept (last_seq + 1 when the log is empty) */
    uint64_t last_seq;  /* newest */
    bool more;          /* more reports after those returned */
    int64_t epoch;      /* identifies the log: changes only when the log starts over */
} broker_report_page;

/* ---- the interface ---- */

typedef struct broker_ops {
    const char *name; /* "sim", "fix" */
    void (*set_callbacks)(void *self, const broker_callbacks *cb);
    /* false with a clear message in err when refused (unknown id, wrong password, link down). */
    bool (*login)(void *self, const char *login_id, const char *password, char *err, size_t errlen);
    void (*logout)(void *self);
    bool (*is_connected)(void *self);
    /* Fill up to cap entries; return how many there are in total (may exceed cap). */
    size_t (*list_accounts)(void *self, broker_account *out, size_t cap);
    size_t (*list_products)(void *self, broker_product *out, size_t cap);
    /* Start delivering ticks of this product through on_tick; "*" = every product. */
    bool (*subscribe)(void *self, const char *symbol, char *err, size_t errlen);
    /* Always fills res. Returns res->is_send_order. Idempotent by client_order_id. */
    bool (*send_order)(void *self, const broker_order_req *req, broker_send_result *res);
    /* false with a reason when the order is unknown or no longer open. */
    bool (*cancel_order)(void *self, const char *client_order_id, char *err, size_t errlen);
    /* false when the broker does not know the order. Also accepts the order serial. */
    bool (*order_status)(void *self, const char *client_order_id, broker_order_info *out);
    /* Positions of one account (fill up to cap; return the total), or -1 with err
     * (unknown account, not logged in). */
    long (*query_positions)(void *self, const char *account, broker_position *out, size_t cap, char *err,
                            size_t errlen);
    /* Event loop integration: the caller waits on poll_fd (when >= 0) for at most
     * next_timeout_ms (-1: no deadline), then calls service, which does the work that is due
     * and fires the callbacks. */
    int (*poll_fd)(void *self);
    int64_t (*next_timeout_ms)(void *self);
    void (*service)(void *self);
    void (*destroy)(void *self);

    /* ---- optional (NULL when the adapter has no such thing) ---- */
    /* ZeroMQ sockets the caller polls for input besides poll_fd (then calls service).
     * Fills up to cap; returns how many. */
    size_t (*poll_sockets)(void *self, void **out, size_t cap);
    /* The broker's own report log (adapters whose reports carry seq): reports with
     * seq > since_seq, oldest first, up to cap, into out; page gets the log's bounds.
     * Returns how many, or -1 with err (e.g. the link to the broker is down). */
    long (*get_reports)(void *self, uint64_t since_seq, broker_report *out, size_t cap,
                        struct broker_report_page *page, char *err, size_t errlen);
    /* How many subscribers the caller has for the ticks it republishes (a simulated market
     * may hold its replay until enough are there). */
    void (*feed_subscribers)(void *self, int64_t count);
    /* send_order without waiting for the broker: true when the order left, its answer comes
     * later through on_send_result with token (from inside service() or another broker call);
     * false when answered at once (res filled, as send_order would: refused, link down). */
    bool (*send_order_async)(void *self, const broker_order_req *req, uint64_t token, broker_send_result *res);
} broker_ops;

typedef struct {
    const broker_ops *ops;
    void *self;
} broker;

static inline void broker_set_callbacks(broker *b, const broker_callbacks *cb) { b->ops->set_callbacks(b->self, cb); }
static inline bool broker_login(broker *b, const char *id, const char *pw, char *err, size_t errlen) {
    return b->ops->login(b->self, id, pw, err, errlen);
}
static inline void broker_logout(broker *b) { b->ops->logout(b->self); }
static inline bool broker_is_connected(broker *b) { return b->ops->is_connected(b->self); }
static inline size_t broker_list_accounts(broker *b, broker_account *out, size_t cap) {
    return b->ops->list_accounts(b->self, out, cap);
}
static inline size_t broker_list_products(broker *b, broker_product *out, size_t cap) {
    return b->ops->list_products(b->self, out, cap);
}
static inline bool broker_subscribe(broker *b, const char *symbol, char *err, size_t errlen) {
    return b->ops->subscribe(b->self, symbol, err, errlen);
}
static inline bool broker_send_order(broker *b, const broker_order_req *req, broker_send_result *res) {
    return b->ops->send_order(b->self, req, res);
}
static inline bool broker_has_async_send(broker *b) { return b->ops->send_order_async != NULL; }
static inline bool broker_send_order_async(broker *b, const broker_order_req *req, uint64_t token,
                                           broker_send_result *res) {
    return b->ops->send_order_async(b->self, req, token, res);
}
static inline bool broker_cancel_order(broker *b, const char *cid, char *err, size_t errlen) {
    return b->ops->cancel_order(b->self, cid, err, errlen);
}
static inline bool broker_order_status(broker *b, const char *cid, broker_order_info *out) {
    return b->ops->order_status(b->self, cid, out);
}
static inline long broker_query_positions(broker *b, const char *account, broker_position *out, size_t cap,
                                          char *err, size_t errlen) {
    return b->ops->query_positions(b->self, account, out, cap, err, errlen);
}
static inline int broker_poll_fd(broker *b) { return b->ops->poll_fd(b->self); }
static inline int64_t broker_next_timeout_ms(broker *b) { return b->ops->next_timeout_ms(b->self); }
static inline void broker_service(broker *b) { b->ops->service(b->self); }
static inline size_t broker_poll_sockets(broker *b, void **out, size_t cap) {
    return b->ops->poll_sockets ? b->ops->poll_sockets(b->self, out, cap) : 0;
}
static inline bool broker_has_report_log(broker *b) { return b->ops->get_reports != NULL; }
static inline long broker_get_reports(broker *b, uint64_t since, broker_report *out, size_t cap,
                                      broker_report_page *page, char *err, size_t errlen) {
    return b->ops->get_reports(b->self, since, out, cap, page, err, errlen);
}
static inline void broker_feed_subscribers(broker *b, int64_t count) {
    if (b->ops->feed_subscribers) b->ops->feed_subscribers(b->self, count);
}
/* Frees the adapter; safe on a broker whose ops is NULL. */
static inline void broker_destroy(broker *b) {
    if (b && b->ops) b->ops->destroy(b->self);
    if (b) b->ops = NULL, b->self = NULL;
}

/* Names used on the wire (gateway JSON, reports). */
const char *broker_status_name(broker_status s);      /* "accepted", "partially_filled", ... */
const char *broker_order_type_name(broker_order_type t);    /* "Market", "Limit", "MarketPrice" */
const char *broker_tif_name(broker_tif t);                  /* "ROD", "IOC", "FOK" */
const char *broker_open_close_name(broker_open_close oc);   /* "Y", "N", "AUTO" */
/* Parse by the original's enum VALUE; false when unknown. */
bool broker_order_type_parse(const char *s, broker_order_type *out);
bool broker_tif_parse(const char *s, broker_tif *out);
bool broker_open_close_parse(const char *s, broker_open_close *out);
/* true for ACCEPTED and PARTIALLY_FILLED (and NEW): the order can still fill. */
bool broker_status_open(broker_status s);

#endif
