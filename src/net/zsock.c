#include "net/zsock.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "core/config.h"
#include "net/secure.h"

void zsock_set_int(void *sock, int option, int value) { zmq_setsockopt(sock, option, &value, sizeof value); }

void *zsock_new(void *ctx, int type, char *err, size_t errlen) {
    void *s = zmq_socket(ctx, type);
    if (!s) {
        snprintf(err, errlen, "cannot create a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zsock_set_int(s, ZMQ_LINGER, 0);
    /* libzmq would otherwise allocate whatever size a peer announces */
    int64_t max = ZSOCK_MAX_MSG;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    return s;
}

bool zsock_bind(void *sock, const char *endpoint, bool any_address, char *err, size_t errlen) {
    if (!net_bind_check(endpoint, !any_address, err, errlen)) return false;
    if (zmq_bind(sock, endpoint) == 0) return true;
    int e = zmq_errno();
    if (e == EADDRINUSE)
        snprintf(err, errlen, "cannot bind %s: address already in use (is another aftm running?)", endpoint);
    else
        snprintf(err, errlen, "cannot bind %s: %s", endpoint, zmq_strerror(e));
    return false;
}

bool zsock_bind_link(void *zctx, void *sock, const char *endpoint, int link, bool plain, char *err, size_t errlen) {
    plain = plain || link == LINK_NONE || net_secure_plain();
    if (!plain && !net_secure_server(zctx, sock, (net_link)link, endpoint, err, errlen)) return false;
    return zsock_bind(sock, endpoint, !plain, err, errlen);
}

bool zsock_connect(void *sock, const char *endpoint, char *err, size_t errlen) {
    if (zmq_connect(sock, endpoint) == 0) return true;
    snprintf(err, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return false;
}

bool zsock_connect_to(void *zctx, void *sock, const char *endpoint, int server_role, char *err, size_t errlen) {
    if (!net_secure_client(zctx, sock, (net_role)server_role, endpoint, err, errlen)) return false;
    return zsock_connect(sock, endpoint, err, errlen);
}

int zsock_recv_2(void *sock, char *topic, size_t topic_cap, char *body, size_t body_cap, size_t *topic_len,
                 bool *truncated) {
    *truncated = false;
    *topic_len = 0;
    int n = zmq_recv(sock, body, body_cap, ZMQ_DONTWAIT);
    if (n < 0) return -1;
    if ((size_t)n > body_cap) {
        *truncated = true;
        n = (int)body_cap;
    }
    int more = 0;
    size_t sz = sizeof more;
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
    if (!more) return n;
    /* first frame was the topic */
    size_t t = (size_t)n < topic_cap ? (size_t)n : topic_cap;
    memcpy(topic, body, t);
    *topic_len = t;
    n = zmq_recv(sock, body, body_cap, 0);
    if (n < 0) return 0;
    if ((size_t)n > body_cap) {
        *truncated = true;
        n = (int)body_cap;
    }
    /* discard any further frames */
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
    while (more) {
        char sink[64];
        if (zmq_recv(sock, sink, sizeof sink, 0) < 0) break;
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
    }
    return n;
}

bool zsock_send_topic(void *sock, const char *topic, const void *body, size_t len) {
    size_t tn = strlen(topic);
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, tn + 1 + len) != 0) return false;
    char *d = zmq_msg_data(&m);
    memcpy(d, topic, tn + 1);
    if (len) memcpy(d + tn + 1, body, len);
    if (zmq_msg_send(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return false;
    }
    return true;
}

int zsock_recv_topic(void *sock, char *topic, char *body, size_t body_cap, bool *truncated) {
    size_t tn;
    int n = zsock_recv_2(sock, topic, ZSOCK_TOPIC_MAX - 1, body, body_cap, &tn, truncated);
    if (n < 0) return n;
    topic[tn] = '\0';
    if (tn) return n; /* two frames */
    size_t scan = (size_t)n < ZSOCK_TOPIC_MAX ? (size_t)n : ZSOCK_TOPIC_MAX;
    const char *nul = memchr(body, '\0', scan);
    if (!nul) return n;
    tn = (size_t)(nul - body);
    memcpy(topic, body, tn + 1);
    size_t rest = (size_t)n - tn - 1;
    memmove(body, nul + 1, rest);
    return (int)rest;
}
