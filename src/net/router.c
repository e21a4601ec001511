/* Binding server sockets and serving a ROUTER (see router.h). */
#include "net/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "net/zsock.h"

#define MAX_FRAMES 16

/* The User-Id of the request being handled (router_peer_user): one loop per thread. */
static _Thread_local const char *g_user;

const char *router_peer_user(void) { return g_user; }

void *router_bind(void *zctx, int type, const char *endpoint, const router_bind_opts *o, char *err, size_t errlen) {
    router_bind_opts none = {0};
    if (!o) o = &none;
    void *s = zsock_new(zctx, type, err, errlen);
    if (!s) return NULL;
    /* Bytes from a peer announce a frame size; without a cap, garbage on the port makes libzmq
     * try to allocate whatever size it reads. */
    int64_t max = o->max_msg > 0 ? o->max_msg : ZSOCK_MAX_MSG;
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if ((type == ZMQ_PUB || type == ZMQ_XPUB || type == ZMQ_ROUTER) && o->sndhwm > 0) zsock_set_int(s, ZMQ_SNDHWM, o->sndhwm);
    if (type == ZMQ_ROUTER && o->sndhwm > 0) zsock_set_int(s, ZMQ_RCVHWM, o->sndhwm);
    /* a PUB that also tells who subscribes: every subscription, not just new topics */
    if (type == ZMQ_XPUB) zsock_set_int(s, ZMQ_XPUB_VERBOSE, 1);
    if (!zsock_bind_link(zctx, s, endpoint, o->link, o->insecure, err, errlen)) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

struct router_pending {
    int n; /* envelope frames */
    size_t len[MAX_FRAMES];
    char *frame[MAX_FRAMES];
};

/* The envelope of the request being handled (router_serve_one), for router_defer. */
static zmq_msg_t *g_env;
static int g_env_n;

router_pending *router_defer(void) {
    if (!g_env) return NULL;
    router_pending *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    for (int i = 0; i < g_env_n; i++) {
        p->len[i] = zmq_msg_size(&g_env[i]);
        if (!(p->frame[i] = malloc(p->len[i] ? p->len[i] : 1))) {
            router_pending_free(p);
            return NULL;
        }
        memcpy(p->frame[i], zmq_msg_data(&g_env[i]), p->len[i]);
        p->n = i + 1;
    }
    return p;
}

void router_pending_free(router_pending *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) free(p->frame[i]);
    free(p);
}

void router_reply(void *router, router_pending *p, const char *reply, size_t len) {
    if (!p) return;
    bool ok = true;
    for (int i = 0; i < p->n && ok; i++)
        ok = zmq_send(router, p->frame[i], p->len[i], ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
    if (ok) zmq_send(router, reply, len, ZMQ_DONTWAIT);
    router_pending_free(p);
}

bool router_serve_one(void *router, router_handler h, void *ctx) {
    zmq_msg_t frames[MAX_FRAMES];
    int n = 0, more = 1;
    bool got = false;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, router, got ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        got = true;
        more = zmq_msg_more(&m);
        if (n < MAX_FRAMES) frames[n++] = m; /* frames beyond the limit are dropped */
        else zmq_msg_close(&m);
    }
    if (!got) return false;
    int delim = -1;
    for (int i = 1; i < n; i++)
        if (zmq_msg_size(&frames[i]) == 0) {
            delim = i;
            break;
        }
    /* no delimiter (a DEALER's [key][body]): the last frame is the body, the rest envelope */
    int body = delim >= 0 ? delim + 1 : (n > 1 ? n - 1 : 1);
    int env_end = delim >= 0 ? delim : body - 1; /* the last envelope frame */
    const char *req = "";
    size_t req_len = 0;
    if (body < n) {
        req = zmq_msg_data(&frames[body]);
        req_len = zmq_msg_size(&frames[body]);
    }
    size_t rlen = 0;
    /* ZAP's User-Id for the connection ("ROLE KEY"); NULL when it came in plain text */
    g_user = n > 0 ? zmq_msg_gets(&frames[n - 1], "User-Id") : NULL; /* a frame from the wire */
    g_env = frames;
    g_env_n = env_end + 1 < n ? env_end + 1 : n;
    char *reply = h(ctx, zmq_msg_data(&frames[0]), zmq_msg_size(&frames[0]), req, req_len, &rlen);
    g_env = NULL;
    if (reply) {
        bool ok = true;
        for (int i = 0; i <= env_end && i < n && ok; i++)
            ok = zmq_send(router, zmq_msg_data(&frames[i]), zmq_msg_size(&frames[i]), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0;
        if (ok) zmq_send(router, reply, rlen, ZMQ_DONTWAIT);
    }
    g_user = NULL;
    free(reply);
    for (int i = 0; i < n; i++) zmq_msg_close(&frames[i]);
    return true;
}

int router_serve(void *router, router_handler h, void *ctx, int max) {
    int k = 0;
    while (k < max && router_serve_one(router, h, ctx)) k++;
    return k;
}

int router_drain_subscriptions(void *xpub, const char *prefix) {
    size_t plen = prefix ? strlen(prefix) : 0;
    int subs = 0;
    for (;;) {
        char buf[256];
        int n = zmq_recv(xpub, buf, sizeof buf, ZMQ_DONTWAIT);
        if (n < 0) break;
        size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
        if (len >= 1 + plen && buf[0] == 1 && (plen == 0 || !memcmp(buf + 1, prefix, plen))) subs++;
    }
    return subs;
}
