/* Where things live: the data directory and the ZeroMQ endpoints.
 * Precedence everywhere: command-line flag, then environment, then default. */
#ifndef AFTM_CONFIG_H
#define AFTM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define AFTM_ENDPOINT_MAX 256
#define AFTM_PATH_MAX 1024

typedef struct {
    char tick[AFTM_ENDPOINT_MAX];   /* gateway PUB ticks      (ZMQ_HOST, ZMQ_TICK_PORT)       */
    char signal[AFTM_ENDPOINT_MAX]; /* executor PULL signals  (ZMQ_HOST, ZMQ_SIGNAL_PORT)     */
    char order[AFTM_ENDPOINT_MAX];  /* gateway REP orders     (DLL_GATEWAY_HOST/_PORT)        */
    char report[AFTM_ENDPOINT_MAX]; /* gateway PUB exec reports (ZMQ_HOST, AFTM_REPORT_PORT)  */
    char exchange[AFTM_ENDPOINT_MAX]; /* simulated exchange ROUTER (ZMQ_HOST, AFTM_EXCHANGE_PORT) */
    char ack[AFTM_ENDPOINT_MAX]; /* executor PUB signal acks; "" = from signal (signal_ack_endpoint) */
} endpoints;

/* Fills every endpoint from the environment, else the defaults (ports 5555..5559 on 127.0.0.1).
 * A host of "localhost" is written as 127.0.0.1. */
void endpoints_from_env(endpoints *ep);

/* A bind outside loopback needs explicit consent: returns false and explains in err. A host name
 * (tcp://localhost:N) is refused with the address to use instead: ZeroMQ cannot bind it. */
bool endpoint_bind_allowed(const char *endpoint, bool insecure, char *err, int errlen);

/* Data directory: flag value if non-NULL, else $AFTM_HOME, else ./aftm-data. Created if missing.
 * Returns false (with err) when it cannot be created. */
bool home_resolve(const char *flag_value, char *out, int outlen, char *err, int errlen);
/* The same path, without making it (read-only commands). false (with err) when too long. */
bool home_locate(const char *flag_value, char *out, int outlen, char *err, int errlen);

#define EXCHANGE_MARKET_PORT_OFFSET 10

/* The market endpoint: $AFTM_EXCHANGE_MARKET_PORT on the request endpoint's host, else the
 * request endpoint's TCP port + 10. false (with err) when it cannot be derived (e.g. ipc://
 * request endpoint and no env): give it explicitly then. */
bool exchange_market_endpoint(const char *request_endpoint, char *out, size_t cap, char *err, size_t errlen);

#define SIGNAL_ACK_PORT_OFFSET 10
/* Where the executor acknowledges stored signals (its PUB) and the strategy listens:
 * $AFTM_ACK_PORT on the signal endpoint's host, else the signal port + 10. false (with err)
 * when it cannot be derived: give --ack-endpoint then. */
bool signal_ack_endpoint(const char *signal_endpoint, char *out, size_t cap, char *err, size_t errlen);

#endif
