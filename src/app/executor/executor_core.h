/* The executor's decisions without sockets: a signal is checked against the risk limits (orders
 * in flight included), its order row is stored and only then handed to the caller's order sink;
 * a refusal is stored with its reason. The stored row is the strategy's acknowledgement of the
 * signal: a signal id already stored is never sent twice, only acknowledged again. Execution
 * reports are checked against sane bounds, move the order, book each fill once (by fill id),
 * update the position, P&L and equity, and tell the strategy (through the condition row) how an
 * entry ended, in one transaction with the report counter. Report gaps are caught up and open
 * orders reconciled through the caller's gateway call. Time comes from the caller's clock.
 *
 * Not here: argument parsing, endpoints, ZeroMQ, the poll loop (executor_main.c), the JSON
 * shapes of the gateway protocol (executor_proto.c). */
#ifndef AFTM_EXECUTOR_CORE_H
#define AFTM_EXECUTOR_CORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "domain/risk.h"
#include "net/signal_ack.h"
#include "wire/codec.h"

/* What the core needs from the process around it. */
typedef struct {
    void *ctx;
    /* The order sink: sends a send_order request (not consumed) to the gateway and returns its
     * reply (the caller of this decrefs it), or NULL with err when there was no usable answer
     * (then the outcome is unknown and reconciliation settles it). */
    json_t *(*send_order)(void *ctx, json_t *req, char *err, size_t errlen);
    /* The asynchronous order sink: queues the order req (coid its client order id; the sink
     * encodes it, e.g. net/gw_pack.h) and returns at once; its answer comes back through
     * exc_on_order_reply, matched by coid. false with err when it could not leave (counted as
     * a failed attempt). When set, orders go here and send_order is not used, so many orders
     * are in flight at once. */
    bool (*submit_order)(void *ctx, const char *coid, const broker_order_req *req, char *err, size_t errlen);
    /* Any other gateway request (get_reports, order_status), same contract. */
    json_t *(*gateway_call)(void *ctx, json_t *req, char *err, size_t errlen);
    /* True once the process is asked to stop: retries end early. NULL: never. */
    bool (*stopping)(void *ctx);
    /* Wall clock, POSIX microseconds. NULL: the system clock. */
    int64_t (*clock_us)(void *ctx);
    /* A signal is stored (an order row, or a refusal): tells the strategy, which sends it again
     * until then. Also for a signal that arrives again. NULL: nobody to tell. */
    void (*acknowledge)(void *ctx, const signal_ack *a);
} executor_io;

typedef struct {
    char account[64];   /* the order account; empty: the session's selected account */
    int attempts;       /* tries per order before leaving it to reconciliation, >= 1 */
    int timeout_ms;     /* submit_order: wait for each answer before the next try (0: 2000) */
    risk_limits limits;
} executor_config;

typedef struct {
    uint64_t signals, orders, fills, refused;
} executor_stats;

typedef struct executor_core executor_core;

/* A core on an open database (not owned: the caller closes it after exc_free). NULL with err
 * when the stores cannot be prepared. Reads the last applied report seq. */
executor_core *exc_new(sqlite3 *db, const executor_config *cfg, const executor_io *io, char *err, size_t errlen);
void exc_free(executor_core *x);

/* Before any signal is read: counts the open orders, loads the kill switch, marks P&L, catches
 * up missed reports and reconciles the open orders. */
void exc_start(executor_core *x);

/* One decoded signal: refused (stored with its reason) or stored and sent, under the client
 * order id aftm-<instance>-<signal id>. A signal id stored before is never sent twice (an order
 * stored but never sent is sent now); one that could not be stored is not acknowledged, and its
 * resend is taken as new. A condition's exit whose entry is still open in the books with its fill
 * not booked (the strategy saw the fill on the report stream first) is held: stored
 * (store/held_exits.h) and acknowledged, and decided once the fill is booked, or after a few
 * seconds on what the broker says of the entry; never sized on books that lag. */
void exc_on_signal(executor_core *x, const wire_signal *sig);
/* A signal message as received (msgpack); anything that is not a signal is logged and skipped. */
void exc_on_signal_message(executor_core *x, const void *body, size_t len);

/* Group commit: the signals, answers and reports handled between exc_begin_batch and
 * exc_end_batch are stored in one transaction; nothing of them is sent, acknowledged or counted
 * before it commits. When the commit fails nothing of the batch was stored, sent or acknowledged
 * (the strategy sends the signals again), the answers are kept and applied again (exc_service),
 * the reports are fetched again, and the in-memory counts are as before the batch. When no
 * transaction can be opened, each is handled on its own as without a batch. */
void exc_begin_batch(executor_core *x);
void exc_end_batch(executor_core *x);

/* The answer (a msgpack map or JSON text) to the send_order of coid submitted through submit_order. An answer
 * for an order no longer waited for (answered late, after a retry) is applied when the order
 * is still open, else dropped. */
void exc_on_order_reply(executor_core *x, const char *coid, const char *body, size_t len);
/* Orders whose answer is overdue are tried again (same client order id) or, after the last
 * attempt, left 'sent' for reconciliation; answers that could not be stored are applied again.
 * Call it when exc_next_timeout_ms says so. */
void exc_service(executor_core *x);
/* Milliseconds until exc_service has something to do; -1 when no order is in flight and no
 * answer waits to be stored. */
int exc_next_timeout_ms(executor_core *x);
/* Orders submitted and not yet answered. */
size_t exc_in_flight(const executor_core *x);

/* One execution report message (JSON text) from the gateway's report stream. A seq gap is
 * caught up through gateway_call before the report is applied; a seq beyond the gateway's last
 * report, or any value out of bounds, is refused with a logged reason. */
void exc_on_report_message(executor_core *x, const char *body, size_t len);

/* A tick message (msgpack): keeps the product's last price for the price band and P&L. */
void exc_on_tick_message(executor_core *x, const void *body, size_t len);
/* The same from a known price (points > 0). */
void exc_set_last_price(executor_core *x, const char *symbol, price_t price);
/* Stores the last price of every open position whose price moved (at most once a second) and
 * brings today's P&L and equity row up to date; called from exc_poll_state. */
void exc_mark_to_market(executor_core *x);

/* Fetches and applies every report after the last applied seq, page by page. False when the
 * gateway did not answer or a report could not be stored (the counter stays before it). */
bool exc_catch_up(executor_core *x);
/* Catch-up, then each open order settled with the gateway (a stored order never sent is sent;
 * a sent one the broker never saw is sent again under the same id; one the broker shows further
 * along is caught up from the gateway's report log, and its final state booked). */
void exc_reconcile(executor_core *x);

/* Reads the kill switch from the database (set by 'aftm halt', cleared by 'aftm resume'). */
void exc_load_kill_switch(executor_core *x);
/* Reloads the kill switch and takes the orders asked for by hand when another connection has
 * written the database since last time; decides on held exits whose deadline passed. */
void exc_poll_state(executor_core *x);
/* Places the pending orders asked for by hand (store/manual_requests.h), each through the same
 * path as a signal's order (stored first, risk rules, sent), marked manual. */
void exc_take_manual(executor_core *x);

/* The order account signals go to: the configured one, else the session's. */
bool exc_account(executor_core *x, char *out, size_t cap);
int64_t exc_open_orders(const executor_core *x);
long long exc_report_seq(const executor_core *x);
bool exc_kill_switch_on(const executor_core *x);
executor_stats exc_stats(const executor_core *x);

#endif
