/* The request port of a server process (the gateway's order port, the exchange's request
 * port): binding its sockets with the loopback check and the size cap, and one serving loop
 * for a ROUTER that answers each request the way REP would. Also the subscription count of an
 * XPUB. What a request means is the handler's business: this file only moves frames. */
#ifndef AFTM_ROUTER_H
#define AFTM_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Options of a bound socket. */
typedef struct {
    int64_t max_msg; /* ZMQ_MAXMSGSIZE: a peer announcing a larger frame is disconnected (0: ZSOCK_MAX_MSG) */
    int sndhwm;      /* ZMQ_SNDHWM for PUB/XPUB; for a ROUTER its SNDHWM and RCVHWM, per peer (a ROUTER drops
                      * an answer to a peer whose queue is full) (0: libzmq's default) */
    bool insecure;   /* plain text (--insecure): no CURVE, loopback only */
    int link;        /* net/secure.h's net_link: CURVE and that link's ZAP domain (0: plain, loopback only) */
} router_bind_opts;

/* A socket of type (ZMQ_ROUTER, ZMQ_PUB, ZMQ_XPUB...) bound to endpoint; an XPUB tells every
 * subscription (ZMQ_XPUB_VERBOSE). NULL with err ("cannot bind ...: address already in use",
 * a refused non-loopback address...) and nothing left open. */
void *router_bind(void *zctx, int type, const char *endpoint, const router_bind_opts *o, char *err, size_t errlen);

/* Answers one request. peer: the connection's identity (the ROUTER's first frame), the same
 * bytes for every request of one connection. Returns the reply (malloc'd; the loop frees it)
 * with its length in *reply_len, or NULL for a request that must go unanswered. */
typedef char *(*router_handler)(void *ctx, const void *peer, size_t peer_len, const char *req, size_t req_len,
                                size_t *reply_len);

/* Receives one request without waiting: [identity][envelope...][empty][body] from REQ, or,
 * from a DEALER that sends no delimiter, [identity][envelope...][body] (the last frame is the
 * body); frames past 16 are dropped. The handler's reply goes back with the same envelope
 * (never blocking: a peer that cannot take it loses it). Returns false when nothing was
 * waiting. */
bool router_serve_one(void *router, router_handler h, void *ctx);

/* During a handler's call: the User-Id ZAP gave the requesting connection ("ROLE KEY", see
 * net/secure.h), NULL for a connection in plain text. A function rather than a handler
 * argument so that every handler keeps its signature. */
const char *router_peer_user(void);

/* An answer given later: called during a handler's call (which then returns NULL), keeps the
 * request's envelope; router_reply sends the answer with it (and frees it). NULL when out of
 * memory (the request then goes unanswered, which the client reads as "unknown"). */
typedef struct router_pending router_pending;
router_pending *router_defer(void);
void router_reply(void *router, router_pending *p, const char *reply, size_t len);
void router_pending_free(router_pending *p);

/* router_serve_one until nothing waits, at most max requests (so one busy client cannot hold
 * the loop). Returns how many were served. */
int router_serve(void *router, router_handler h, void *ctx, int max);

/* Reads what the XPUB received and returns how many subscriptions (not unsubscriptions) begin
 * with prefix ("" counts all of them). */
int router_drain_subscriptions(void *xpub, const char *prefix);

#endif
