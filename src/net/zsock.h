/* Small ZeroMQ helpers: sockets with the options aftm uses, binds that explain failures,
 * and receiving a whole multipart message without allocating. */
#ifndef AFTM_ZSOCK_H
#define AFTM_ZSOCK_H

#include <stdbool.h>
#include <stddef.h>

#define ZSOCK_MAX_MSG (1 << 20) /* larger messages are refused by libzmq */

/* Creates a socket of type with LINGER 0 and ZSOCK_MAX_MSG; NULL with err on failure. */
void *zsock_new(void *ctx, int type, char *err, size_t errlen);
/* Binds, refusing non-loopback addresses unless insecure; explains "address in use". */
bool zsock_bind(void *sock, const char *endpoint, bool insecure, char *err, size_t errlen);
bool zsock_connect(void *sock, const char *endpoint, char *err, size_t errlen);
void zsock_set_int(void *sock, int option, int value);

/* Receives one message of up to two frames (topic + body) without blocking.
 * Returns the body length (frames beyond two are discarded), 0 for an empty body, or -1 when
 * nothing was waiting. A one-frame message is returned as the body with an empty topic. */
int zsock_recv_2(void *sock, char *topic, size_t topic_cap, char *body, size_t body_cap, size_t *topic_len,
                 bool *truncated);

#endif
