/* aftm exchange: the simulated exchange as a process of its own.
 *
 * It makes (seeded random walk) or replays (tick file) the market, matches orders against it
 * with the simulator (broker/sim_broker, domain/matching) and keeps its book in
 * <home>/exchange.db (exchange_store.h). Every change of the book is committed before anything
 * about it leaves the process (report, reply), so a kill -9 at any moment loses nothing that
 * was told; on start the book is restored, resting orders rest again.
 *
 * Requests: a ROUTER (default tcp://127.0.0.1:5559, ZMQ_HOST and AFTM_EXCHANGE_PORT), REQ or
 * DEALER clients (a DEALER may leave out the empty delimiter frame). JSON in the gateway's
 * shape: {"operation": OP, "parameters": {...}, "id": ANY}; the reply echoes "id" and is
 * {"success": true, "data": {...}} or {"success": false, "error_code": C, "error_message": M}.
 * Every operation but health and login needs a session: login on the same connection first
 * (a new connection, or an exchange restart, answers NOT_LOGGED_IN).
 *
 * send_order, the hot one, is taken in msgpack as well (broker/broker_pack.h; a request whose
 * first byte starts a msgpack map is one): {"operation": "send_order", "id": ANY, "order":
 * {order}} with the JSON's field names, answered in msgpack with {"id", "success": true,
 * "result": {send result}} or {"id", "success": false, "error_code", "error_message"}; the same
 * handling, codes and group commit as the JSON operation. A msgpack map with any other
 * operation, or msgpack that does not read, is answered with a msgpack error (UNKNOWN_OPERATION,
 * INVALID_MSGPACK). sim_remote sends its orders so; everything else is JSON.
 *
 *   health                        status, epoch, last_seq, instance, logged_in, orders
 *   login {login_id, password}    accounts, products, last_seq, epoch, instance
 *   logout
 *   list_accounts                 accounts: [{account, name, cash}]
 *   list_products                 products: [...]
 *   subscribe {symbol}            adds an unknown product ("*": every product)
 *   send_order {order}            result: the send result (idempotent by client_order_id)
 *   cancel_order {client_order_id}
 *   order_status {client_order_id}        found, order
 *   query_positions {account}     positions
 *   get_reports {since_seq, limit}        reports (each with seq), first_seq, last_seq, more, epoch
 *   feed_subscribers {count}      a gateway tells how many subscribe to the ticks it relays
 *
 * Market data and reports: a PUB (default: the request port + 10, AFTM_EXCHANGE_MARKET_PORT),
 * one frame each, topic NUL body (net/zsock.h): "TICK:<SYMBOL>" and the tick in msgpack
 * (integer price, volume and ts_us), and "REPORT" and the reports of one commit, each with its seq
 * as a msgpack map with broker_json's field names (broker/broker_pack.h), one after another
 * (net/report_batch.h): each the very bytes kept as the report's row in the report log (encoded
 * once). Reports leave before any tick published after them. seq comes from the report log on disk: strictly increasing,
 * never reused, the same across restarts of the exchange and of its clients. get_reports
 * answers in JSON, as every request but send_order. */
#ifndef AFTM_EXCHANGE_H
#define AFTM_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/sim_broker.h"
#include "core/config.h"
#include "app/exchange/exchange_store.h"

#define EXCHANGE_MAX_REPORTS_REPLY 1000
#define EXCHANGE_MAX_REQUEST (1 << 20)


/* ---- the core: requests, the book, reports; no sockets (tests drive it directly) ---- */

typedef struct {
    void *ctx;
    void (*publish_tick)(void *ctx, const broker_tick *t);
    /* after its commit, in seq order; body (len bytes) is r as msgpack (broker_pack), the same
     * bytes the report log holds */
    void (*publish_report)(void *ctx, const broker_report *r, const void *body, size_t len);
} xcore_sinks;

typedef struct xcore xcore;

/* A simulator with cfg (its feed is ignored), restored from store. NULL with err. The store
 * stays the caller's. */
xcore *xcore_new(exchange_store *store, const sim_config *cfg, const xcore_sinks *sinks, char *err, size_t errlen);
void xcore_free(xcore *x);

/* One request from the connection named by session (any bytes): JSON, or a msgpack send_order
 * (told by its first byte). Returns the reply (malloc'd, *out_len bytes, NUL-terminated): JSON
 * text to a JSON request, a msgpack map to a msgpack one; NULL when out of memory. */
char *xcore_handle(xcore *x, const void *session, size_t session_len, const char *req, size_t len, size_t *out_len);

/* Group commit: the orders handled between xcore_batch_begin and xcore_batch_end are accepted
 * in one transaction. Their replies are held (xcore_held says so after each xcore_handle) and
 * go out only once xcore_batch_end has committed, with the reports published first; any other
 * request in the batch commits what came before it first. xcore_batch_end returns false when
 * the commit failed: then nothing held may be sent (xcore_failed: the process stops). */
void xcore_batch_begin(xcore *x);
bool xcore_held(const xcore *x);
bool xcore_batch_end(xcore *x);
/* One trade of the market: published, then matched; the fills committed, then reported. */
void xcore_market_tick(xcore *x, const broker_tick *t);
/* The replayed market reached its end after ticks trades: its health says so from now on. */
void xcore_replay_over(xcore *x, uint64_t ticks);
/* A market that stopped moving stays at its last prices: the open orders are matched against
 * them (sim_broker_match_at_last), the fills committed, then reported. Nothing when none is open. */
void xcore_match_at_last(xcore *x, int64_t ts_us);
/* Writes the last prices that changed since the last call (a small transaction). */
void xcore_save_prices(xcore *x);
/* true once a commit failed: the book in memory is ahead of the disk; the process must stop
 * (and be restarted, restoring the book from the disk). */
bool xcore_failed(const xcore *x);
/* Subscribers the gateways reported (feed_subscribers), summed over the sessions. */
int64_t xcore_relayed_subscribers(const xcore *x);
broker *xcore_broker(xcore *x);

#endif
