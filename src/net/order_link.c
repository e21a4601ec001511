/* The order port's asynchronous client (see order_link.h). Frames: [key][empty][body] out,
 * the same back. */
#include "net/order_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/log.h"
#include "net/gw_proto.h"
#include "net/zsock.h"


struct order_link {
    void *dealer;
};

order_link *olink_new(void *zctx, const char *endpoint, int server_role, char *err, size_t errlen) {
    order_link *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(l->dealer = zsock_new(zctx, ZMQ_DEALER, err, errlen))) {
        free(l);
        return NULL;
    }
    zsock_set_int(l->dealer, ZMQ_SNDHWM, ORDER_QUEUE_HWM);
    zsock_set_int(l->dealer, ZMQ_RCVHWM, ORDER_QUEUE_HWM);
    if (!zsock_connect_to(zctx, l->dealer, endpoint, server_role, err, errlen)) {
        olink_free(l);
        return NULL;
    }
    return l;
}

void olink_free(order_link *l) {
    if (!l) return;
    if (l->dealer) zmq_close(l->dealer);
    free(l);
}

void *olink_socket(const order_link *l) { return l->dealer; }

bool olink_send(order_link *l, const char *key, const void *body, size_t len, char *err, size_t errlen) {
    /* the key frame goes only with its body: a full queue refuses the first frame, and
     * once the first is queued the rest of the message is always taken */
    bool ok = zmq_send(l->dealer, key, strlen(key), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
              zmq_send(l->dealer, body, len, ZMQ_DONTWAIT) >= 0;
    if (!ok) snprintf(err, errlen, "cannot queue the request: %s", zmq_strerror(zmq_errno()));
    return ok;
}

/* Reads the rest of a message, dropped. */
static void drop_rest(void *s, zmq_msg_t *m) {
    while (zmq_msg_more(m)) {
        zmq_msg_close(m);
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s, 0) < 0) break;
    }
}

int olink_recv(order_link *l, char *key, size_t key_cap, char *body, size_t body_cap) {
    for (;;) {
        zmq_msg_t f[3];
        int n = 0;
        zmq_msg_init(&f[0]);
        if (zmq_msg_recv(&f[0], l->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f[0]);
            return -1;
        }
        n = 1;
        while (n < 3 && zmq_msg_more(&f[n - 1])) {
            zmq_msg_init(&f[n]);
            if (zmq_msg_recv(&f[n], l->dealer, 0) < 0) {
                zmq_msg_close(&f[n]);
                break;
            }
            n++;
        }
        drop_rest(l->dealer, &f[n - 1]);
        int len = -2;
        /* [key][body], or [key][empty][body] from a gateway that answers a REQ's envelope */
        zmq_msg_t *b = n == 2 ? &f[1] : n == 3 && zmq_msg_size(&f[1]) == 0 ? &f[2] : NULL;
        if (b && zmq_msg_size(&f[0]) > 0 && zmq_msg_size(&f[0]) < key_cap && zmq_msg_size(b) <= body_cap) {
            memcpy(key, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
            key[zmq_msg_size(&f[0])] = '\0';
            memcpy(body, zmq_msg_data(b), zmq_msg_size(b));
            len = (int)zmq_msg_size(b);
        } else {
            log_warn("skipped an answer from the order port that is not [key][body] within %zu bytes", body_cap);
        }
        for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
        if (len >= 0) return len;
    }
}
