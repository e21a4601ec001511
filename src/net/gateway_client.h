/* A client of the gateway's order port (JSON over REQ/REP). One request at a time; on a
 * timeout the socket is closed and reopened (a REQ socket cannot send again until it has a
 * reply), so the caller decides whether and how to retry. */
#ifndef AFTM_GATEWAY_CLIENT_H
#define AFTM_GATEWAY_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct gateway_client gateway_client;

/* A client of the gateway's order port (CURVE with the gateway's key unless plain text). */
gateway_client *gwc_new(void *zctx, const char *endpoint, int timeout_ms);
/* The same protocol to a server of another role (net/curve.h's net_role: the exchange). */
gateway_client *gwc_new_to(void *zctx, const char *endpoint, int timeout_ms, int server_role);
void gwc_free(gateway_client *c);

/* Sends req (not consumed) and waits up to the timeout. Returns the parsed reply (caller
 * decrefs) or NULL with err: "timeout", or why the reply was unusable. */
json_t *gwc_request(gateway_client *c, json_t *req, char *err, size_t errlen);

/* {"operation": op} plus parameters (consumed, may be NULL). */
json_t *gwc_call(gateway_client *c, const char *op, json_t *parameters, char *err, size_t errlen);

#endif
