/* CURVE on aftm's links, the ZAP handler and the handshake log (see secure.h). */
#include "net/secure.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/private_files.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAX_AGENTS 8
#define MAX_MONITORS 64
#define LOG_EVERY_MS 5000 /* a peer retrying a refused handshake is logged this often at most */

static const char *const LINK_NAMES[LINK_COUNT] = {"none", "ticks", "reports", "orders", "signals", "exchange", "market", "acks"};

/* Bit (1 << role) per role a link admits. */
static const unsigned LINK_ROLES[LINK_COUNT] = {
    [LINK_TICKS] = 1u << ROLE_STRATEGY | 1u << ROLE_EXECUTOR | 1u << ROLE_CLI,
    [LINK_REPORTS] = 1u << ROLE_STRATEGY | 1u << ROLE_EXECUTOR | 1u << ROLE_CLI,
    [LINK_ORDERS] = 1u << ROLE_EXECUTOR | 1u << ROLE_CLI,
    [LINK_SIGNALS] = 1u << ROLE_STRATEGY,
    [LINK_EXCHANGE] = 1u << ROLE_GATEWAY | 1u << ROLE_CLI,
    [LINK_MARKET] = 1u << ROLE_GATEWAY,
    [LINK_ACKS] = 1u << ROLE_STRATEGY | 1u << ROLE_CLI,
};

const char *net_link_name(net_link l) { return l >= 0 && l < LINK_COUNT ? LINK_NAMES[l] : "?"; }

bool net_link_admits(net_link l, net_role role) {
    return l > LINK_NONE && l < LINK_COUNT && role >= 0 && role < ROLE_COUNT && (LINK_ROLES[l] >> role & 1u);
}

static struct {
    bool init, plain;
    net_role self;
    curve_pair pair;
    char home[AFTM_PATH_MAX];
} g_sec;

/* ---- the agent: one thread per context ------------------------------------------------------ */

typedef struct {
    void *pair;          /* PAIR connected to the socket's monitor */
    char what[48];       /* "the orders port" / "the gateway" */
    char endpoint[AFTM_ENDPOINT_MAX];
    int64_t last_log_ms[3]; /* rate limit per kind: auth, protocol, other */
    unsigned quiet[3];      /* failures not logged since */
} monitor;

typedef struct {
    void *zctx;
    bool running;
    void *zap; /* ROUTER on ZAP_ENDPOINT */
    monitor mon[MAX_MONITORS];
    int nmon;
    monitor pending[MAX_MONITORS]; /* handed over by other threads, adopted by the agent */
    int npending;
    /* refusals logged per link: a new key at once, the same one every LOG_EVERY_MS */
    int64_t zap_last_log_ms[LINK_COUNT];
    char zap_last_key[LINK_COUNT][CURVE_KEY_Z85];
    unsigned zap_quiet[LINK_COUNT];
} agent;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static agent g_agents[MAX_AGENTS];
static unsigned g_monitor_seq;

static void zap_reply(void *sock, zmq_msg_t *head, int nhead, const char *req_id, size_t req_id_len, const char *code,
                      const char *text, const char *user) {
    for (int i = 0; i < nhead; i++) zmq_send(sock, zmq_msg_data(&head[i]), zmq_msg_size(&head[i]), ZMQ_SNDMORE);
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, req_id, req_id_len, ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* Which admitted role holds key on link; false when none. */
static bool admitted_role(net_link link, const char *key, net_role *role, char *err, size_t errlen) {
    for (int r = 0; r < ROLE_COUNT; r++) {
        if (!net_link_admits(link, (net_role)r)) continue;
        char keys[64][CURVE_KEY_Z85];
        int n = curve_admitted(g_sec.home, (net_role)r, keys, 64, err, errlen);
        for (int i = 0; i < n; i++)
            if (!strcmp(keys[i], key)) {
                *role = (net_role)r;
                return true;
            }
    }
    return false;
}

static void admitted_names(net_link link, char *out, size_t cap) {
    out[0] = '\0';
    for (int r = 0; r < ROLE_COUNT; r++)
        if (net_link_admits(link, (net_role)r))
            snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? ", " : "", net_role_name((net_role)r));
}

/* One ZAP request (RFC 27): [routing id][empty] version, request id, domain, address, identity,
 * mechanism, credentials... The keys are read from the store each time, so a key allowed
 * while the process runs is let in at its next connection. */
static void serve_zap(agent *a) {
    zmq_msg_t f[12];
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, a->zap, n ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < 12) f[n++] = m;
        else zmq_msg_close(&m);
    }
    if (n < 8) { /* not a ZAP request: nothing to answer */
        for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
        return;
    }
    /* f[0] routing id, f[1] empty, f[2] version, f[3] request id, f[4] domain, f[5] address,
     * f[6] identity, f[7] mechanism, f[8] credentials */
    char domain[32] = "", address[128] = "", mech[16] = "", key[CURVE_KEY_Z85] = "";
    snprintf(domain, sizeof domain, "%.*s", (int)zmq_msg_size(&f[4]), (const char *)zmq_msg_data(&f[4]));
    snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&f[5]), (const char *)zmq_msg_data(&f[5]));
    snprintf(mech, sizeof mech, "%.*s", (int)zmq_msg_size(&f[7]), (const char *)zmq_msg_data(&f[7]));
    if (n >= 9 && zmq_msg_size(&f[8]) == 32) zmq_z85_encode(key, zmq_msg_data(&f[8]), 32);
    net_link link = LINK_NONE;
    for (int l = 1; l < LINK_COUNT; l++)
        if (!strcmp(domain, LINK_NAMES[l])) link = (net_link)l;
    net_role role = ROLE_CLI;
    char err[256] = "";
    bool ok = link != LINK_NONE && !strcmp(mech, "CURVE") && key[0] && admitted_role(link, key, &role, err, sizeof err);
    if (ok) {
        char user[64];
        snprintf(user, sizeof user, "%s %s", net_role_name(role), key);
        zap_reply(a->zap, f, 2, zmq_msg_data(&f[3]), zmq_msg_size(&f[3]), "200", "OK", user);
    } else {
        zap_reply(a->zap, f, 2, zmq_msg_data(&f[3]), zmq_msg_size(&f[3]), "400", "key not allowed", "");
        int64_t now = clock_mono_ms();
        if (strcmp(key, a->zap_last_key[link]) != 0 || now - a->zap_last_log_ms[link] >= LOG_EVERY_MS) {
            char roles[64];
            admitted_names(link, roles, sizeof roles);
            log_warn("refused a connection to the %s port from %s: %s key %s is not allowed there (it admits the "
                     "keys of: %s; 'aftm keys allow ROLE FILE' lets a peer's key in)%s%s",
                     domain, address[0] ? address : "?", mech, key[0] ? key : "(none)", roles,
                     err[0] ? "; " : "", err);
            if (a->zap_quiet[link])
                log_warn("(%u more refused handshakes on the %s port not logged since)", a->zap_quiet[link], domain);
            snprintf(a->zap_last_key[link], sizeof a->zap_last_key[link], "%s", key);
            a->zap_last_log_ms[link] = now;
            a->zap_quiet[link] = 0;
        } else {
            a->zap_quiet[link]++;
        }
    }
    for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
}

/* Events of one socket's monitor: [6 bytes: uint16 event, uint32 value][endpoint]. */
static bool read_monitor(monitor *m) {
    uint8_t head[6];
    char ep[AFTM_ENDPOINT_MAX];
    int n = zmq_recv(m->pair, head, sizeof head, ZMQ_DONTWAIT);
    if (n < 0) return true;
    int more = 0;
    size_t sz = sizeof more;
    zmq_getsockopt(m->pair, ZMQ_RCVMORE, &more, &sz);
    int elen = more ? zmq_recv(m->pair, ep, sizeof ep - 1, 0) : 0;
    ep[elen > 0 ? (elen < (int)sizeof ep ? elen : (int)sizeof ep - 1) : 0] = '\0';
    if (n != 6) return true;
    uint16_t event;
    uint32_t value;
    memcpy(&event, head, 2);
    memcpy(&value, head + 2, 4);
    if (event == ZMQ_EVENT_MONITOR_STOPPED) return false; /* the socket is closed */
    int kind = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? 0 : event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? 1 : 2;
    int64_t now = clock_mono_ms();
    if (now - m->last_log_ms[kind] < LOG_EVERY_MS) {
        m->quiet[kind]++;
        return true;
    }
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        log_warn("handshake refused on %s (%s): authentication failed (ZAP status %u)%s", m->what, ep[0] ? ep : m->endpoint,
                 (unsigned)value, strstr(m->what, "port") ? "" : ": is this host's key allowed there? (aftm keys allow)");
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        log_warn("handshake failed on %s (%s): protocol error 0x%x (a peer in plain text, or with another server "
                 "key?)", m->what, ep[0] ? ep : m->endpoint, (unsigned)value);
    else
        log_warn("handshake failed on %s (%s): %s", m->what, ep[0] ? ep : m->endpoint, zmq_strerror((int)value));
    if (m->quiet[kind]) log_warn("(%u more such failed handshakes on %s not logged since)", m->quiet[kind], m->what);
    m->quiet[kind] = 0;
    m->last_log_ms[kind] = now;
    return true;
}

static void *agent_main(void *arg) {
    agent *a = arg;
    for (;;) {
        pthread_mutex_lock(&g_lock);
        while (a->npending > 0 && a->nmon < MAX_MONITORS) a->mon[a->nmon++] = a->pending[--a->npending];
        pthread_mutex_unlock(&g_lock);
        zmq_pollitem_t items[MAX_MONITORS + 1];
        int k = 0;
        if (a->zap) items[k++] = (zmq_pollitem_t){a->zap, 0, ZMQ_POLLIN, 0};
        int first_mon = k;
        for (int i = 0; i < a->nmon; i++) items[k++] = (zmq_pollitem_t){a->mon[i].pair, 0, ZMQ_POLLIN, 0};
        /* a short wait so that monitors handed over meanwhile are adopted soon */
        int rc = zmq_poll(items, k, 200);
        if (rc < 0 && zmq_errno() == ETERM) break;
        if (rc <= 0) continue;
        if (a->zap && (items[0].revents & ZMQ_POLLIN)) serve_zap(a);
        for (int i = a->nmon - 1; i >= 0; i--) {
            if (!(items[first_mon + i].revents & ZMQ_POLLIN)) continue;
            if (!read_monitor(&a->mon[i])) {
                zmq_close(a->mon[i].pair);
                a->mon[i] = a->mon[--a->nmon];
            }
        }
    }
    /* the context is being terminated: it waits for these sockets. All under the lock: the
     * slot may be taken by a new context as soon as running is false. */
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < a->npending; i++) zmq_close(a->pending[i].pair);
    for (int i = 0; i < a->nmon; i++) zmq_close(a->mon[i].pair);
    a->npending = a->nmon = 0;
    if (a->zap) zmq_close(a->zap);
    a->zap = NULL;
    a->running = false;
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

/* The running agent of zctx, started (with the ZAP handler bound before this returns, so no
 * server socket can take a connection before it is there) when there is none. Under g_lock. */
static agent *agent_for(void *zctx, char *err, size_t errlen) {
    agent *free_slot = NULL;
    for (int i = 0; i < MAX_AGENTS; i++) {
        if (g_agents[i].running && g_agents[i].zctx == zctx) return &g_agents[i];
        if (!g_agents[i].running && !free_slot) free_slot = &g_agents[i];
    }
    if (!free_slot) {
        snprintf(err, errlen, "too many ZeroMQ contexts with CURVE in one process");
        return NULL;
    }
    agent *a = free_slot;
    memset(a, 0, sizeof *a);
    a->zctx = zctx;
    a->zap = zmq_socket(zctx, ZMQ_ROUTER);
    int zero = 0;
    if (!a->zap || zmq_setsockopt(a->zap, ZMQ_LINGER, &zero, sizeof zero) != 0 || zmq_bind(a->zap, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (a->zap) zmq_close(a->zap);
        a->zap = NULL;
        return NULL;
    }
    pthread_t th;
    a->running = true;
    if (pthread_create(&th, NULL, agent_main, a) != 0) {
        a->running = false;
        zmq_close(a->zap);
        a->zap = NULL;
        snprintf(err, errlen, "cannot start the ZAP handler thread");
        return NULL;
    }
    pthread_detach(th); /* it ends when the context is terminated */
    return a;
}

/* Watches sock's failed handshakes from the agent of zctx. */
static bool watch(void *zctx, void *sock, const char *what, const char *endpoint, char *err, size_t errlen) {
    pthread_mutex_lock(&g_lock);
    agent *a = agent_for(zctx, err, errlen);
    unsigned seq = ++g_monitor_seq;
    pthread_mutex_unlock(&g_lock);
    if (!a) return false;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://aftm-monitor-%u", seq);
    if (zmq_socket_monitor(sock, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_MONITOR_STOPPED) != 0) {
        snprintf(err, errlen, "cannot monitor a socket: %s", zmq_strerror(zmq_errno()));
        return false;
    }
    void *pair = zmq_socket(zctx, ZMQ_PAIR);
    int zero = 0;
    if (!pair || zmq_setsockopt(pair, ZMQ_LINGER, &zero, sizeof zero) != 0 || zmq_connect(pair, ep) != 0) {
        snprintf(err, errlen, "cannot read a socket monitor: %s", zmq_strerror(zmq_errno()));
        if (pair) zmq_close(pair);
        zmq_socket_monitor(sock, NULL, 0);
        return false;
    }
    pthread_mutex_lock(&g_lock);
    bool ok = a->running && a->npending < MAX_MONITORS && a->zctx == zctx;
    if (ok) {
        monitor *m = &a->pending[a->npending++];
        memset(m, 0, sizeof *m);
        m->pair = pair;
        for (int k = 0; k < 3; k++) m->last_log_ms[k] = INT64_MIN / 2;
        snprintf(m->what, sizeof m->what, "%s", what);
        snprintf(m->endpoint, sizeof m->endpoint, "%s", endpoint ? endpoint : "");
    }
    pthread_mutex_unlock(&g_lock);
    if (!ok) { /* a process with that many sockets at once: they work, unwatched */
        zmq_close(pair);
        zmq_socket_monitor(sock, NULL, 0);
    }
    return true;
}

/* ---- the process's side ----------------------------------------------------------------------- */

bool net_secure_init(const char *home, net_role self, bool plain, char *err, size_t errlen) {
    memset(&g_sec.pair, 0, sizeof g_sec.pair);
    snprintf(g_sec.home, sizeof g_sec.home, "%s", home);
    g_sec.self = self;
    g_sec.plain = plain;
    g_sec.init = true;
    /* the keys, the books and the logs live there: the directory is the owner's only */
    if (!private_home(home, err, errlen)) return false;
    if (plain) {
        log_warn("--insecure: this %s's links are plain text, neither authenticated nor encrypted; any local user "
                 "can connect to its ports (bound on loopback only)",
                 net_role_name(self));
        return true;
    }
    if (!zmq_has("curve")) {
        snprintf(err, errlen, "this libzmq has no CURVE support: links cannot be authenticated (--insecure runs "
                              "them in plain text on loopback)");
        return false;
    }
    return curve_pair_load(home, self, &g_sec.pair, err, errlen);
}

bool net_secure_plain(void) { return !g_sec.init || g_sec.plain; }

const char *net_secure_home(void) { return g_sec.init ? g_sec.home : ""; }

bool net_secure_server(void *zctx, void *sock, net_link link, const char *endpoint, char *err, size_t errlen) {
    if (net_secure_plain() || link == LINK_NONE) return true;
    int one = 1;
    const char *dom = net_link_name(link);
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, g_sec.pair.secret_key, CURVE_KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, dom, strlen(dom)) != 0) {
        snprintf(err, errlen, "cannot set up CURVE on the %s port: %s", dom, zmq_strerror(zmq_errno()));
        return false;
    }
    char what[48];
    snprintf(what, sizeof what, "the %s port", dom);
    return watch(zctx, sock, what, endpoint, err, errlen);
}

bool net_secure_client(void *zctx, void *sock, net_role server, const char *endpoint, char *err, size_t errlen) {
    if (net_secure_plain()) return true;
    char server_key[CURVE_KEY_Z85];
    if (!curve_server_key(g_sec.home, server, server_key, err, errlen)) return false;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, CURVE_KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, g_sec.pair.public_key, CURVE_KEY_Z85) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, g_sec.pair.secret_key, CURVE_KEY_Z85) != 0) {
        snprintf(err, errlen, "cannot set up CURVE to the %s: %s", net_role_name(server), zmq_strerror(zmq_errno()));
        return false;
    }
    char what[48];
    snprintf(what, sizeof what, "the link to the %s", net_role_name(server));
    return watch(zctx, sock, what, endpoint, err, errlen);
}

bool net_bind_check(const char *endpoint, bool plain, char *err, size_t errlen) {
    char why[512];
    if (!strncmp(endpoint, "tcp://localhost:", 16)) { /* a host name: refused whatever the security */
        endpoint_bind_allowed(endpoint, false, why, sizeof why);
        snprintf(err, errlen, "%s", why);
        return false;
    }
    if (!plain) return true;
    if (endpoint_bind_allowed(endpoint, false, why, sizeof why)) return true;
    snprintf(err, errlen,
             "refusing to bind %s in plain text: it is not a loopback address, and anyone who reaches it could "
             "connect; without --insecure the links use CURVE and may bind any address",
             endpoint);
    return false;
}

bool net_user_parse(const char *user_id, net_role *role, char key[CURVE_KEY_Z85]) {
    key[0] = '\0';
    if (!user_id) return false;
    const char *sp = strchr(user_id, ' ');
    if (!sp || sp - user_id >= 16) return false;
    char name[16];
    snprintf(name, sizeof name, "%.*s", (int)(sp - user_id), user_id);
    if (!net_role_parse(name, role) || !curve_key_valid(sp + 1)) return false;
    snprintf(key, CURVE_KEY_Z85, "%s", sp + 1);
    return true;
}
