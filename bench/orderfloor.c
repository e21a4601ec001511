/* The order path's bare floor: the same five hops as aftm's tick -> order at the exchange, with
 * the same socket types, CURVE on every link and messages of the same size, and no logic or disk:
 *
 *   ticks PUB -> [gateway relay] SUB, each tick decoded and published again -> PUB
 *             -> [strategy relay] SUB, every 10th tick fires 4 signals -> PUSH
 *             -> [executor relay] PULL -> DEALER ([key][send_order JSON], as aftm's order link)
 *             -> [gateway relay] ROUTER -> DEALER (the exchange's JSON) -> [exchange] ROUTER
 *
 * and back the same way with each answer (the exchange and the gateway answer every order). As in
 * aftm, one gateway process relays both the ticks and the orders, and the executor relay is
 * subscribed to the ticks too (aftm's executor marks its positions with them).
 * 1. Latency: receipt at the exchange node - the tick's `when`, at 1,000 and 10,000 ticks/s.
 * 2. Throughput of the last three hops (PUSH -> executor relay -> gateway relay -> exchange):
 *    a burst of N signals pushed at once, orders/s from the first push to the last receipt,
 *    0 lost. aftm's counterpart (bench/orderpath.py) stores each order on both sides.
 * Each node is a child process; the exchange node writes each latency to a pipe.
 *
 * Usage: orderfloor [RESULTS_FILE|-] [LATENCY_SECONDS] [BURST] */
#include "zbench.h"

#define FIRE_EVERY 10
#define FAN_OUT 4

static char g_pub[41], g_sec[41]; /* one CURVE pair for every node: the bench is not about keys */

static void *curve_socket(void *ctx, int type, const char *ep, bool bind) {
    void *s = zmq_socket(ctx, type);
    zb_setint(s, ZMQ_LINGER, 0);
    zb_setint(s, ZMQ_SNDHWM, 100000);
    zb_setint(s, ZMQ_RCVHWM, 100000);
    if (type == ZMQ_SUB) zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    if (bind) {
        zb_setint(s, ZMQ_CURVE_SERVER, 1);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, g_sec, 40);
    } else {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, g_pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, g_pub, 40);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, g_sec, 40);
    }
    if ((bind ? zmq_bind(s, ep) : zmq_connect(s, ep)) != 0) {
        fprintf(stderr, "orderfloor: %s %s: %s\n", bind ? "bind" : "connect", ep, zmq_strerror(zmq_errno()));
        exit(1);
    }
    return s;
}

/* Up to cap frames of one message; returns how many (0: interrupted). */
static int recv_frames(void *s, zmq_msg_t *f, int cap) {
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0) {
            zmq_msg_close(&m);
            for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
            return 0;
        }
        more = zmq_msg_more(&m);
        if (n < cap) f[n++] = m;
        else zmq_msg_close(&m);
    }
    return n;
}

/* One tick off a SUB, [topic][body]; the body's length, or -1. */
static int recv_tick(void *sub, char *body, size_t cap, int flags) {
    char topic[16];
    int tl = zmq_recv(sub, topic, sizeof topic, flags);
    return tl >= 0 ? zmq_recv(sub, body, cap, 0) : -1;
}

/* strategy relay: ticks in, FAN_OUT signals out on every FIRE_EVERY-th tick */
static int node_strategy(const char *tick_ep, const char *sig_ep) {
    void *ctx = zmq_ctx_new();
    void *sub = curve_socket(ctx, ZMQ_SUB, tick_ep, false), *push = curve_socket(ctx, ZMQ_PUSH, sig_ep, false);
    wire_decoder dec;
    wire_decoder_init(&dec);
    char body[2048], out[WIRE_BUF_MAX];
    uint64_t ticks = 0, sigs = 0;
    for (;;) {
        int bl = recv_tick(sub, body, sizeof body, 0);
        if (bl < 0) break;
        wire_msg m;
        if (wire_decode(&dec, body, (size_t)bl, &m) != WIRE_TICK) continue;
        if (ticks++ % FIRE_EVERY) continue;
        for (int k = 0; k < FAN_OUT; k++) {
            wire_signal sg;
            memset(&sg, 0, sizeof sg);
            sg.when = m.u.tick.when;
            sg.side = k % 2 ? WIRE_SELL : WIRE_BUY;
            memcpy(sg.commodity_id, m.u.tick.commodity_id, sizeof sg.commodity_id);
            sg.has_ext = true;
            snprintf(sg.signal_id, sizeof sg.signal_id, "%llu.%d.E", (unsigned long long)sigs++, k);
            sg.quantity = 1;
            sg.price = (int64_t)m.u.tick.match_price;
            size_t n = wire_encode_signal(&sg, true, out, sizeof out);
            zmq_send(push, out, n, 0);
        }
    }
    return 0;
}

/* executor relay: a signal in, a send_order out on a DEALER keyed by client order id; the
 * gateway's ticks read and decoded on the side */
static int node_executor(const char *sig_ep, const char *order_ep, const char *tick_ep) {
    void *ctx = zmq_ctx_new();
    void *pull = curve_socket(ctx, ZMQ_PULL, sig_ep, true), *dealer = curve_socket(ctx, ZMQ_DEALER, order_ep, false);
    void *ticks = curve_socket(ctx, ZMQ_SUB, tick_ep, false);
    wire_decoder dec;
    wire_decoder_init(&dec);
    char body[2048], req[1024], coid[128];
    zmq_pollitem_t it[3] = {{pull, 0, ZMQ_POLLIN, 0}, {dealer, 0, ZMQ_POLLIN, 0}, {ticks, 0, ZMQ_POLLIN, 0}};
    for (;;) {
        if (zmq_poll(it, 3, -1) < 0) break;
        for (;;) { /* answers: read and dropped */
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, dealer, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            while (zmq_msg_more(&m)) {
                zmq_msg_close(&m);
                zmq_msg_init(&m);
                if (zmq_msg_recv(&m, dealer, 0) < 0) break;
            }
            zmq_msg_close(&m);
        }
        for (;;) {
            int bl = zmq_recv(pull, body, sizeof body, ZMQ_DONTWAIT);
            if (bl < 0) break;
            wire_msg m;
            if (wire_decode(&dec, body, (size_t)bl, &m) != WIRE_SIGNAL) continue;
            snprintf(coid, sizeof coid, "aftm-0123abcd-%s", m.u.signal.signal_id);
            int n = snprintf(req, sizeof req,
                             "{\"operation\":\"send_order\",\"parameters\":{\"order_account\":\"SIM-0001\","
                             "\"item_code\":\"%s\",\"side\":\"%s\",\"order_type\":\"Market\",\"price\":0.0,"
                             "\"quantity\":1,\"open_close\":\"AUTO\",\"note\":\"aftm %.6f\",\"day_trade\":\"N\","
                             "\"time_in_force\":\"IOC\",\"client_order_id\":\"%s\"}}",
                             m.u.signal.commodity_id, m.u.signal.side == WIRE_BUY ? "buy" : "sell", m.u.signal.when,
                             coid);
            /* [key][body], as aftm's order link sends it (no empty delimiter) */
            zmq_send(dealer, coid, strlen(coid), ZMQ_SNDMORE);
            zmq_send(dealer, req, (size_t)n, 0);
        }
        for (;;) {
            int bl = recv_tick(ticks, body, sizeof body, ZMQ_DONTWAIT);
            if (bl < 0) break;
            wire_msg m;
            wire_decode(&dec, body, (size_t)bl, &m);
        }
    }
    return 0;
}

/* gateway relay: the market's ticks decoded and published again; a request in on the ROUTER,
 * forwarded on a DEALER; the answer back */
static int node_gateway(const char *order_ep, const char *xch_ep, const char *market_ep, const char *tick_ep) {
    void *ctx = zmq_ctx_new();
    void *router = curve_socket(ctx, ZMQ_ROUTER, order_ep, true), *dealer = curve_socket(ctx, ZMQ_DEALER, xch_ep, false);
    void *market = curve_socket(ctx, ZMQ_SUB, market_ep, false), *pub = curve_socket(ctx, ZMQ_PUB, tick_ep, true);
    zmq_pollitem_t it[3] = {{router, 0, ZMQ_POLLIN, 0}, {dealer, 0, ZMQ_POLLIN, 0}, {market, 0, ZMQ_POLLIN, 0}};
    wire_decoder dec;
    wire_decoder_init(&dec);
    /* envelopes waiting for their answer, by request id */
    enum { SLOTS = 1 << 16 };
    static char env[SLOTS][2][64];
    static size_t envlen[SLOTS][2];
    uint64_t next = 0;
    char out[1400];
    for (;;) {
        if (zmq_poll(it, 3, -1) < 0) break;
        if (it[2].revents & ZMQ_POLLIN)
            for (;;) {
                char body[2048], again[WIRE_BUF_MAX];
                int bl = recv_tick(market, body, sizeof body, ZMQ_DONTWAIT);
                if (bl < 0) break;
                wire_msg m;
                if (wire_decode(&dec, body, (size_t)bl, &m) != WIRE_TICK) continue;
                size_t n = wire_encode_tick(&m.u.tick, again, sizeof again);
                zb_send2(pub, "TICK", again, n);
            }
        if (it[0].revents & ZMQ_POLLIN) {
            zmq_msg_t f[3];
            int n = recv_frames(router, f, 3);
            if (n == 3) { /* [identity][key][body] */
                uint64_t id = next++;
                for (int i = 0; i < 2; i++) {
                    envlen[id % SLOTS][i] = zmq_msg_size(&f[i]) < 64 ? zmq_msg_size(&f[i]) : 64;
                    memcpy(env[id % SLOTS][i], zmq_msg_data(&f[i]), envlen[id % SLOTS][i]);
                }
                int len = snprintf(out, sizeof out, "{\"operation\":\"send_order\",\"id\":%llu,\"parameters\":%.*s}",
                                   (unsigned long long)id, (int)zmq_msg_size(&f[2]), (char *)zmq_msg_data(&f[2]));
                zmq_send(dealer, out, (size_t)len, 0);
            }
            for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
        }
        if (it[1].revents & ZMQ_POLLIN) {
            char ans[512];
            int n = zmq_recv(dealer, ans, sizeof ans - 1, 0);
            if (n < 0) continue;
            ans[n < (int)sizeof ans - 1 ? n : (int)sizeof ans - 1] = '\0';
            unsigned long long id = 0;
            const char *p = strstr(ans, "\"id\":");
            if (!p || sscanf(p + 5, "%llu", &id) != 1) continue;
            for (int i = 0; i < 2; i++) zmq_send(router, env[id % SLOTS][i], envlen[id % SLOTS][i], ZMQ_SNDMORE);
            zmq_send(router, ans, (size_t)n, 0);
        }
    }
    return 0;
}

/* exchange: each order's latency (receipt - its tick's when, µs) to the pipe, then an answer */
static int node_exchange(const char *xch_ep, int fd) {
    void *ctx = zmq_ctx_new();
    void *router = curve_socket(ctx, ZMQ_ROUTER, xch_ep, true);
    char ans[512];
    for (;;) {
        zmq_msg_t f[3];
        int n = recv_frames(router, f, 3);
        if (n < 2) {
            for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
            if (n == 0) break;
            continue;
        }
        double recv = now_real_s(), when = 0;
        const char *body = zmq_msg_data(&f[n - 1]);
        size_t len = zmq_msg_size(&f[n - 1]);
        char tmp[1400];
        size_t cl = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
        memcpy(tmp, body, cl);
        tmp[cl] = '\0';
        const char *p = strstr(tmp, "aftm ");
        if (p) when = atof(p + 5);
        double lat = (recv - when) * 1e6;
        if (write(fd, &lat, sizeof lat) != (ssize_t)sizeof lat) break;
        unsigned long long id = 0;
        const char *q = strstr(tmp, "\"id\":");
        if (q) sscanf(q + 5, "%llu", &id);
        int al = snprintf(ans, sizeof ans,
                          "{\"success\":true,\"id\":%llu,\"data\":{\"result\":{\"is_send_order\":true,\"duplicate\":"
                          "false,\"client_order_id\":\"aftm-0123abcd-0.0.E\",\"order_serial\":\"SIM-00000001\","
                          "\"error_code\":\"0\",\"error_message\":\"\",\"note\":\"aftm\",\"status\":\"accepted\"}}}",
                          id);
        zmq_send(router, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), ZMQ_SNDMORE);
        zmq_send(router, ans, (size_t)al, 0);
        for (int i = 0; i < n; i++) zmq_msg_close(&f[i]);
    }
    return 0;
}

typedef struct {
    int fd;
    double *v;
    size_t cap;
    atomic_size_t n;
    atomic_int stop;
    pthread_t th;
} lat_reader;

static void *reader_main(void *arg) {
    lat_reader *r = arg;
    while (!atomic_load(&r->stop)) {
        double buf[512];
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t k = read(r->fd, buf, sizeof buf);
        if (k <= 0) break;
        size_t got = (size_t)k / sizeof *buf, n = atomic_load(&r->n);
        for (size_t i = 0; i < got && n < r->cap; i++) r->v[n++] = buf[i];
        atomic_store(&r->n, n);
    }
    return NULL;
}

typedef struct {
    char tick[64], gwtick[64], sig[64], order[64], xch[64];
    pid_t pid[4];
    lat_reader rd;
} chain;

static pid_t fork_node(int which, chain *c, int fd) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    int rc = which == 0 ? node_strategy(c->gwtick, c->sig)
             : which == 1 ? node_executor(c->sig, c->order, c->gwtick)
             : which == 2 ? node_gateway(c->order, c->xch, c->tick, c->gwtick)
                          : node_exchange(c->xch, fd);
    _exit(rc);
}

static void chain_start(chain *c) {
    snprintf(c->tick, sizeof c->tick, "tcp://127.0.0.1:%d", zb_free_port());
    snprintf(c->gwtick, sizeof c->gwtick, "tcp://127.0.0.1:%d", zb_free_port());
    snprintf(c->sig, sizeof c->sig, "tcp://127.0.0.1:%d", zb_free_port());
    snprintf(c->order, sizeof c->order, "tcp://127.0.0.1:%d", zb_free_port());
    snprintf(c->xch, sizeof c->xch, "tcp://127.0.0.1:%d", zb_free_port());
    int fds[2];
    if (pipe(fds) != 0) exit(1);
    for (int i = 3; i >= 0; i--) c->pid[i] = fork_node(i, c, fds[1]);
    close(fds[1]);
    c->rd.fd = fds[0];
    c->rd.cap = 4000000;
    c->rd.v = malloc(c->rd.cap * sizeof *c->rd.v);
    atomic_store(&c->rd.n, 0);
    atomic_store(&c->rd.stop, 0);
    pthread_create(&c->rd.th, NULL, reader_main, &c->rd);
}

static void chain_stop(chain *c) {
    for (int i = 0; i < 4; i++) kill(c->pid[i], SIGKILL);
    for (int i = 0; i < 4; i++) zb_reap(c->pid[i]);
    atomic_store(&c->rd.stop, 1);
    pthread_join(c->rd.th, NULL);
    close(c->rd.fd);
    free(c->rd.v);
}

static zb_lat part_latency(double rate, double secs, uint64_t *sent_orders, size_t *got) {
    chain c;
    chain_start(&c);
    void *ctx = zmq_ctx_new();
    void *pub = curve_socket(ctx, ZMQ_PUB, c.tick, true);
    zb_publisher p = {pub, ZB_FLOOR_SYMBOL, 0};
    bool joined = false;
    for (int i = 0; i < 500 && !joined; i++) {
        zb_publish_tick(&p, WL_P0);
        sleep_ms(10);
        joined = atomic_load(&c.rd.n) > 0;
    }
    if (!joined) {
        fprintf(stderr, "orderfloor: the chain never joined\n");
        exit(1);
    }
    /* line up the strategy relay's count: the next tick fires */
    sleep_ms(200);
    size_t from = atomic_load(&c.rd.n);
    uint64_t n = (uint64_t)(rate * secs);
    n -= n % FIRE_EVERY;
    zb_publish_paced(&p, rate, n, 0, NULL);
    uint64_t want = n / FIRE_EVERY * FAN_OUT;
    int64_t until = now_ns(CLOCK_MONOTONIC) + 1000000000;
    while (atomic_load(&c.rd.n) < from + want && now_ns(CLOCK_MONOTONIC) < until) sleep_ms(5);
    size_t to = atomic_load(&c.rd.n);
    zb_lat l = zb_latency_of(c.rd.v + from, to - from);
    *sent_orders = want;
    *got = to - from;
    zmq_close(pub);
    zmq_ctx_term(ctx);
    chain_stop(&c);
    return l;
}

static double part_throughput(uint64_t burst, size_t *got) {
    chain c;
    chain_start(&c);
    void *ctx = zmq_ctx_new();
    void *push = curve_socket(ctx, ZMQ_PUSH, c.sig, false);
    char out[WIRE_BUF_MAX];
    wire_signal sg;
    memset(&sg, 0, sizeof sg);
    snprintf(sg.commodity_id, sizeof sg.commodity_id, "%s", ZB_FLOOR_SYMBOL);
    sg.has_ext = true;
    sg.quantity = 1;
    sg.price = 20000;
    /* join */
    for (int i = 0; i < 500 && !atomic_load(&c.rd.n); i++) {
        snprintf(sg.signal_id, sizeof sg.signal_id, "join-%d.E", i);
        sg.when = now_real_s();
        zmq_send(push, out, wire_encode_signal(&sg, true, out, sizeof out), 0);
        sleep_ms(10);
    }
    sleep_ms(200);
    size_t from = atomic_load(&c.rd.n);
    int64_t t0 = now_ns(CLOCK_MONOTONIC);
    for (uint64_t i = 0; i < burst; i++) {
        snprintf(sg.signal_id, sizeof sg.signal_id, "%llu.E", (unsigned long long)i);
        sg.side = i % 2 ? WIRE_SELL : WIRE_BUY;
        sg.when = now_real_s();
        zmq_send(push, out, wire_encode_signal(&sg, true, out, sizeof out), 0);
    }
    int64_t last = t0, until = t0 + 30000000000LL;
    size_t seen = from;
    while (atomic_load(&c.rd.n) < from + burst && now_ns(CLOCK_MONOTONIC) < until) {
        sleep_ms(1);
        size_t k = atomic_load(&c.rd.n);
        if (k != seen) {
            seen = k;
            last = now_ns(CLOCK_MONOTONIC);
        }
    }
    if (atomic_load(&c.rd.n) != seen) last = now_ns(CLOCK_MONOTONIC);
    *got = atomic_load(&c.rd.n) - from;
    zmq_close(push);
    zmq_ctx_term(ctx);
    chain_stop(&c);
    return last > t0 ? (double)*got * 1e9 / (double)(last - t0) : 0;
}

int main(int argc, char **argv) {
    FILE *out = argc > 1 && strcmp(argv[1], "-") ? fopen(argv[1], "a") : NULL;
    double lat_secs = argc > 2 ? atof(argv[2]) : 3.0;
    uint64_t burst = argc > 3 ? strtoull(argv[3], NULL, 10) : 50000;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (zmq_curve_keypair(g_pub, g_sec) != 0) {
        fprintf(stderr, "orderfloor: libzmq has no CURVE\n");
        return 1;
    }
    static const double rates[] = {1000, 10000};
    for (int i = 0; i < 2; i++) {
        uint64_t sent;
        size_t got;
        zb_lat l = part_latency(rates[i], lat_secs, &sent, &got);
        printf("order floor: five hops at %.0f ticks/s (%d orders per %d ticks): p50 %.0f us, p99 %.0f us, max %.0f us "
               "(%zu of %llu orders)\n",
               rates[i], FAN_OUT, FIRE_EVERY, l.p50, l.p99, l.max, got, (unsigned long long)sent);
        if (out)
            fprintf(out, "ofloor.%.0f.p50 %.1f\nofloor.%.0f.p99 %.1f\nofloor.%.0f.max %.1f\nofloor.%.0f.lost %llu\n",
                    rates[i], l.p50, rates[i], l.p99, rates[i], l.max, rates[i],
                    (unsigned long long)(sent > got ? sent - got : 0));
    }
    size_t got;
    double tput = part_throughput(burst, &got);
    printf("order floor: burst of %llu signals -> orders at the exchange node: %.0f orders/s (%zu received)\n",
           (unsigned long long)burst, tput, got);
    if (out) {
        fprintf(out, "ofloor.tput %.0f\nofloor.tput.lost %llu\nofloor.burst %llu\n", tput,
                (unsigned long long)(burst > got ? burst - got : 0), (unsigned long long)burst);
        fclose(out);
    }
    return 0;
}
