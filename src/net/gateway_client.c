#include "net/gateway_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "net/curve.h"
#include "net/zsock.h"

struct gateway_client {
    void *zctx, *req;
    char endpoint[256];
    int timeout_ms;
    int server_role; /* net_role of the server: whose key CURVE expects */
};

static bool reopen(gateway_client *c) {
    if (c->req) zmq_close(c->req);
    char err[256];
    c->req = zsock_new(c->zctx, ZMQ_REQ, err, sizeof err);
    if (!c->req) return false;
    return zsock_connect_to(c->zctx, c->req, c->endpoint, c->server_role, err, sizeof err);
}

gateway_client *gwc_new(void *zctx, const char *endpoint, int timeout_ms) {
    return gwc_new_to(zctx, endpoint, timeout_ms, ROLE_GATEWAY);
}

gateway_client *gwc_new_to(void *zctx, const char *endpoint, int timeout_ms, int server_role) {
    gateway_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->zctx = zctx;
    c->server_role = server_role;
    c->timeout_ms = timeout_ms;
    snprintf(c->endpoint, sizeof c->endpoint, "%s", endpoint);
    if (!reopen(c)) {
        gwc_free(c);
        return NULL;
    }
    return c;
}

void gwc_free(gateway_client *c) {
    if (!c) return;
    if (c->req) zmq_close(c->req);
    free(c);
}

json_t *gwc_request(gateway_client *c, json_t *req, char *err, size_t errlen) {
    if (!c->req && !reopen(c)) {
        snprintf(err, errlen, "cannot open a socket to %s", c->endpoint);
        return NULL;
    }
    char *text = json_dumps(req, JSON_COMPACT);
    if (!text) {
        snprintf(err, errlen, "cannot encode the request");
        return NULL;
    }
    int sent = zmq_send(c->req, text, strlen(text), 0);
    free(text);
    if (sent < 0) {
        snprintf(err, errlen, "send failed: %s", zmq_strerror(zmq_errno()));
        reopen(c);
        return NULL;
    }
    zmq_pollitem_t item = {c->req, 0, ZMQ_POLLIN, 0};
    int n;
    do n = zmq_poll(&item, 1, c->timeout_ms);
    while (n < 0 && zmq_errno() == EINTR);
    if (n <= 0) {
        snprintf(err, errlen, "timeout");
        reopen(c); /* lazy pirate: a REQ socket is stuck until it gets its reply */
        return NULL;
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, c->req, 0) < 0) {
        zmq_msg_close(&msg);
        snprintf(err, errlen, "receive failed: %s", zmq_strerror(zmq_errno()));
        reopen(c);
        return NULL;
    }
    json_error_t jerr;
    json_t *reply = json_loadb(zmq_msg_data(&msg), zmq_msg_size(&msg), 0, &jerr);
    zmq_msg_close(&msg);
    if (!reply || !json_is_object(reply)) {
        snprintf(err, errlen, "the gateway's reply is not a JSON object");
        json_decref(reply);
        return NULL;
    }
    return reply;
}

json_t *gwc_call(gateway_client *c, const char *op, json_t *parameters, char *err, size_t errlen) {
    json_t *req = json_pack("{s:s}", "operation", op);
    if (parameters) json_object_set_new(req, "parameters", parameters);
    json_t *reply = gwc_request(c, req, err, errlen);
    json_decref(req);
    return reply;
}
