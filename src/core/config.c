#include "core/config.h"
#include "core/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

/* "localhost" as the host of the environment's endpoints means loopback: it is written as the
 * address, since ZeroMQ binds an address or an interface, never a host name. */
static const char *host_env(const char *name) {
    const char *h = env_or(name, "127.0.0.1");
    return strcmp(h, "localhost") ? h : "127.0.0.1";
}

void endpoints_from_env(endpoints *ep) {
    const char *host = host_env("ZMQ_HOST");
    const char *gw_host = host_env("DLL_GATEWAY_HOST");
    ep->ack[0] = '\0'; /* no flag for it here: each process derives it from the signal port */
    snprintf(ep->tick, sizeof ep->tick, "tcp://%s:%s", host, env_or("ZMQ_TICK_PORT", "5555"));
    snprintf(ep->signal, sizeof ep->signal, "tcp://%s:%s", host, env_or("ZMQ_SIGNAL_PORT", "5556"));
    snprintf(ep->order, sizeof ep->order, "tcp://%s:%s", gw_host, env_or("DLL_GATEWAY_PORT", "5557"));
    snprintf(ep->report, sizeof ep->report, "tcp://%s:%s", host, env_or("AFTM_REPORT_PORT", "5558"));
    snprintf(ep->exchange, sizeof ep->exchange, "tcp://%s:%s", host,
             env_or("AFTM_EXCHANGE_PORT", "5559"));
}

bool endpoint_bind_allowed(const char *endpoint, bool insecure, char *err, int errlen) {
    if (strncmp(endpoint, "tcp://localhost:", 16) == 0) {
        /* loopback, but ZeroMQ cannot bind a host name: it would pass here and fail at the bind */
        snprintf(err, (size_t)errlen,
                 "cannot bind %s: ZeroMQ binds an address or an interface, not a host name; use tcp://127.0.0.1:%s",
                 endpoint, endpoint + 16);
        return false;
    }
    if (insecure) return true;
    if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0) return true;
    if (strncmp(endpoint, "tcp://127.", 10) == 0 || strncmp(endpoint, "tcp://[::1]:", 12) == 0) return true;
    snprintf(err, (size_t)errlen,
             "refusing to bind %s: it is not a loopback address and anyone who reaches it could "
             "send orders; pass --insecure to bind it anyway",
             endpoint);
    return false;
}

static bool mkdir_p(const char *path) {
    char tmp[AFTM_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return mkdir(tmp, 0700) == 0 || errno == EEXIST;
}

bool home_locate(const char *flag_value, char *out, int outlen, char *err, int errlen) {
    const char *dir = flag_value && *flag_value ? flag_value : env_or("AFTM_HOME", "./aftm-data");
    if ((int)strlen(dir) >= outlen) {
        snprintf(err, (size_t)errlen, "data directory path is too long: %s", dir);
        return false;
    }
    snprintf(out, (size_t)outlen, "%s", dir);
    return true;
}

bool home_resolve(const char *flag_value, char *out, int outlen, char *err, int errlen) {
    if (!home_locate(flag_value, out, outlen, err, errlen)) return false;
    if (!mkdir_p(out)) {
        snprintf(err, (size_t)errlen, "cannot create data directory %s: %s", out, strerror(errno));
        return false;
    }
    return true;
}

/* An endpoint on base's host: the port from the environment variable env_name, else base's
 * port + offset. what and flag name it in errors. */
static bool derived_endpoint(const char *base, const char *env_name, int offset, const char *what, const char *flag,
                             char *out, size_t cap, char *err, size_t errlen) {
    const char *env = getenv(env_name);
    const char *colon = strrchr(base, ':');
    if (strncmp(base, "tcp://", 6) != 0 || !colon || colon < base + 6) {
        snprintf(err, errlen, "cannot derive the %s endpoint from %s: give %s", what, base, flag);
        return false;
    }
    int host_len = (int)(colon - base);
    int64_t port;
    if (env && *env) {
        if (!parse_int_range(env, 1, 65535, &port)) {
            snprintf(err, errlen, "%s must be a TCP port, got '%s'", env_name, env);
            return false;
        }
    } else if (parse_int_range(colon + 1, 1, 65535 - offset, &port)) {
        port += offset;
    } else {
        snprintf(err, errlen, "cannot derive the %s endpoint from %s: give %s", what, base, flag);
        return false;
    }
    snprintf(out, cap, "%.*s:%lld", host_len, base, (long long)port);
    return true;
}

bool exchange_market_endpoint(const char *request_endpoint, char *out, size_t cap, char *err, size_t errlen) {
    return derived_endpoint(request_endpoint, "AFTM_EXCHANGE_MARKET_PORT", EXCHANGE_MARKET_PORT_OFFSET, "market",
                            "--market-endpoint", out, cap, err, errlen);
}

bool signal_ack_endpoint(const char *signal_endpoint, char *out, size_t cap, char *err, size_t errlen) {
    return derived_endpoint(signal_endpoint, "AFTM_ACK_PORT", SIGNAL_ACK_PORT_OFFSET, "acknowledgement",
                            "--ack-endpoint", out, cap, err, errlen);
}
