/* Who may use which link: CURVE on every socket of aftm's own links, a ZAP handler that admits
 * only the allowed keys of the roles a link is for, and the log of failed handshakes (which
 * ZeroMQ otherwise drops in silence).
 *
 * A process says once who it is (net_secure_init: its role and data directory, or plain text
 * with --insecure); then each server socket is set up with net_secure_server before its bind
 * and each client socket with net_secure_client before its connect (zsock.h and router.h do
 * both). Per ZeroMQ context, one thread answers ZAP requests (inproc://zeromq.zap.01) and
 * reads the socket monitors; it ends by itself when the context is terminated.
 *
 * What each link admits (the ZAP domain is the link's name):
 *   ticks     gateway's tick PUB          strategy, executor, cli
 *   reports   gateway's report PUB        strategy, executor, cli
 *   orders    gateway's order port        executor, cli (and net/order_guard.h on each order)
 *   signals   executor's signal PULL      strategy
 *   exchange  exchange's request port     gateway, cli
 *   market    exchange's market PUB       gateway
 * A process that never called net_secure_init (tests, benchmarks) uses plain text. */
#ifndef AFTM_SECURE_H
#define AFTM_SECURE_H

#include <stdbool.h>
#include <stddef.h>

#include "net/curve.h"

typedef enum { LINK_NONE, LINK_TICKS, LINK_REPORTS, LINK_ORDERS, LINK_SIGNALS, LINK_EXCHANGE, LINK_MARKET, LINK_ACKS, LINK_COUNT } net_link;

const char *net_link_name(net_link l);
/* true when role may connect to link. */
bool net_link_admits(net_link l, net_role role);

/* The process's role and data directory; its keys are made when missing. plain (--insecure):
 * no CURVE on any socket of the process, binds on loopback only, and a warning now. */
bool net_secure_init(const char *home, net_role self, bool plain, char *err, size_t errlen);
/* true unless net_secure_init set up CURVE. */
bool net_secure_plain(void);
const char *net_secure_home(void); /* "" before net_secure_init */

/* A server socket of link, before its bind: CURVE server with the role's secret key and the
 * link's ZAP domain, the ZAP handler of zctx running, failed handshakes logged. Nothing in
 * plain text. */
bool net_secure_server(void *zctx, void *sock, net_link link, const char *endpoint, char *err, size_t errlen);
/* A client socket to a server of role, before its connect. Nothing in plain text. */
bool net_secure_client(void *zctx, void *sock, net_role server, const char *endpoint, char *err, size_t errlen);

/* Whether endpoint may be bound: anywhere with CURVE; in plain text only loopback, ipc:// or
 * inproc://. false with the reason in err. */
bool net_bind_check(const char *endpoint, bool plain, char *err, size_t errlen);

/* The User-Id ZAP gave a connection ("ROLE KEY"), split: role false when the peer came in
 * without CURVE (plain text). */
bool net_user_parse(const char *user_id, net_role *role, char key[CURVE_KEY_Z85]);

#endif
