/* Small ZeroMQ helpers: sockets with the options aftm uses, binds that explain failures,
 * and receiving a whole multipart message without allocating. */
#ifndef AFTM_ZSOCK_H
#define AFTM_ZSOCK_H

#include <stdbool.h>
#include <stddef.h>

#define ZSOCK_MAX_MSG (1 << 20) /* larger messages are refused by libzmq */

/* Creates a socket of type with LINGER 0 and ZSOCK_MAX_MSG; NULL with err on failure. */
void *zsock_new(void *ctx, int type, char *err, size_t errlen);
/* Binds, refusing non-loopback addresses unless any_address; explains "address in use". */
bool zsock_bind(void *sock, const char *endpoint, bool any_address, char *err, size_t errlen);
/* Binds the server socket of one of aftm's links (net/secure.h's net_link): CURVE and the
 * link's ZAP domain unless the process runs in plain text (or plain is asked for), in which
 * case only loopback may be bound. */
bool zsock_bind_link(void *zctx, void *sock, const char *endpoint, int link, bool plain, char *err, size_t errlen);
bool zsock_connect(void *sock, const char *endpoint, char *err, size_t errlen);
/* Connects a client socket to a server of server_role (net/curve.h's net_role), with CURVE
 * unless the process runs in plain text. */
bool zsock_connect_to(void *zctx, void *sock, const char *endpoint, int server_role, char *err, size_t errlen);
void zsock_set_int(void *sock, int option, int value);

/* Receives one message of up to two frames (topic + body) without blocking.
 * Returns the body length (frames beyond two are discarded), 0 for an empty body, or -1 when
 * nothing was waiting. A one-frame message is returned as the body with an empty topic. */
int zsock_recv_2(void *sock, char *topic, size_t topic_cap, char *body, size_t body_cap, size_t *topic_len,
                 bool *truncated);

/* aftm's own publishers (the exchange's market, the gateway's reports, the executor's
 * acknowledgements) send each message as one frame: the topic, a NUL, the body. A
 * subscription still matches the topic as a prefix, and over CURVE, where every frame is
 * sealed and opened on its own, a topic in a frame of its own cost both ends one more each
 * time. (The gateway's tick PUB keeps the original's two frames.) */
#define ZSOCK_TOPIC_MAX 64 /* bytes of a topic, its NUL included */

/* Queues topic NUL body as one frame without blocking; false when it cannot be queued. */
bool zsock_send_topic(void *sock, const char *topic, const void *body, size_t len);
/* Receives one message without blocking: one frame, topic NUL body, or two frames, topic and
 * body (a publisher of the older form). The topic goes into topic (ZSOCK_TOPIC_MAX bytes,
 * NUL-terminated; "" for a single frame with no NUL within its first ZSOCK_TOPIC_MAX bytes,
 * which is then all body), the body into body. Returns the body's length, or -1 when nothing
 * was waiting; *truncated: the message did not fit body_cap (what fitted is there). */
int zsock_recv_topic(void *sock, char *topic, char *body, size_t body_cap, bool *truncated);

#endif
