/* ZeroMQ helpers shared by the link benchmarks (floor, pipeline): free ports, a paced tick
 * publisher, a signal collector thread, /proc readings. Header-only: each bench/NAME.c is a
 * program of its own. */
#ifndef AFTM_BENCH_ZBENCH_H
#define AFTM_BENCH_ZBENCH_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "wire/codec.h"
#include "workload.h"

#define HWM 1000

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static inline int zb_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free port");
        exit(1);
    }
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static inline void zb_setint(void *s, int opt, int v) { zmq_setsockopt(s, opt, &v, sizeof v); }

static inline void *zb_socket(void *ctx, int type, const char *endpoint, bool bind) {
    void *s = zmq_socket(ctx, type);
    if (!s) {
        fprintf(stderr, "zmq_socket: %s\n", zmq_strerror(zmq_errno()));
        exit(1);
    }
    zb_setint(s, ZMQ_LINGER, 0);
    if (type == ZMQ_PUB) zb_setint(s, ZMQ_SNDHWM, HWM);
    if (type == ZMQ_PULL) zb_setint(s, ZMQ_RCVHWM, HWM);
    if (type == ZMQ_SUB) zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    int rc = bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint);
    if (rc != 0) {
        fprintf(stderr, "%s %s: %s\n", bind ? "bind" : "connect", endpoint, zmq_strerror(zmq_errno()));
        exit(1);
    }
    return s;
}

/* Sends a two-frame message: topic + body. */
static inline int zb_send2(void *s, const char *topic, const void *body, size_t len) {
    if (zmq_send(s, topic, strlen(topic), ZMQ_SNDMORE) < 0) return -1;
    return zmq_send(s, body, len, 0);
}

/* ---- the paced tick publisher ------------------------------------------------------------- */

typedef struct {
    void *pub;
    const char *symbol;
    double last_when; /* the when of the previous tick: every tick's when is unique and rising */
} zb_publisher;

/* Publishes tick with the current wall time as its `when`, unique and rising. */
static inline double zb_publish_tick(zb_publisher *p, price_t price) {
    wire_tick t;
    memset(&t, 0, sizeof t);
    double w = now_real_s();
    if (w <= p->last_when + 1e-6) w = p->last_when + 1e-6;
    p->last_when = w;
    t.when = w;
    t.match_price = (double)price;
    snprintf(t.commodity_id, sizeof t.commodity_id, "%s", p->symbol);
    char buf[WIRE_BUF_MAX];
    size_t n = wire_encode_tick(&t, buf, sizeof buf);
    zb_send2(p->pub, "TICK", buf, n);
    return w;
}

typedef struct {
    uint64_t sent;
    int64_t first_ns, last_ns; /* CLOCK_MONOTONIC of the first and last publish */
    double achieved;           /* messages per second actually published */
} zb_paced_result;

/* Publishes n ticks at rate per second from the price path starting at t0 (deadlines on
 * CLOCK_MONOTONIC, clock_nanosleep TIMER_ABSTIME; when behind, sends at once to catch up).
 * whens[i], if given, receives each tick's `when`. */
static inline zb_paced_result zb_publish_paced(zb_publisher *p, double rate, uint64_t n, uint64_t t0, double *whens) {
    zb_paced_result r = {0, 0, 0, 0};
    double period = 1e9 / rate;
    int64_t start = now_ns(CLOCK_MONOTONIC) + 1000000;
    for (uint64_t i = 0; i < n; i++) {
        int64_t deadline = start + (int64_t)(period * (double)i);
        if (now_ns(CLOCK_MONOTONIC) < deadline) sleep_until_ns(deadline);
        double w = zb_publish_tick(p, wl_price(t0 + i));
        if (whens) whens[i] = w;
        if (i == 0) r.first_ns = now_ns(CLOCK_MONOTONIC);
    }
    r.last_ns = now_ns(CLOCK_MONOTONIC);
    r.sent = n;
    r.achieved = n > 1 ? (double)(n - 1) * 1e9 / (double)(r.last_ns - r.first_ns) : 0;
    return r;
}

/* ---- the signal collector: a thread on a PULL socket ---------------------------------------- */

/* Where a signal came from, told by its commodity. */
enum { ZB_SRC_WORKLOAD = 0, ZB_SRC_FLOOR = 1, ZB_SRC_OTHER = 2 };
#define ZB_FLOOR_SYMBOL "FLOOR" /* the floor relay's ticks: as long as WL_SYMBOL, same bytes count */

typedef struct {
    double when;  /* the signal's when: its tick's when */
    double recv;  /* wall time at receipt */
    int64_t mono; /* CLOCK_MONOTONIC at receipt */
    uint8_t side; /* wire_side */
    uint8_t src;  /* ZB_SRC_* */
} zb_sig;

typedef struct {
    void *pull;
    zb_sig *v;
    size_t cap;
    atomic_size_t n;
    atomic_int stop;
    atomic_size_t bad; /* undecodable or non-signal messages */
    pthread_t th;
} zb_collector;

static inline void *zb_collector_main(void *arg) {
    zb_collector *c = arg;
    wire_decoder dec;
    wire_decoder_init(&dec);
    char buf[2048];
    zb_setint(c->pull, ZMQ_RCVTIMEO, 20);
    while (!atomic_load(&c->stop)) {
        int len = zmq_recv(c->pull, buf, sizeof buf, 0);
        if (len < 0) continue;
        double recv = now_real_s();
        int64_t mono = now_ns(CLOCK_MONOTONIC);
        int more = 0;
        size_t ms = sizeof more;
        zmq_getsockopt(c->pull, ZMQ_RCVMORE, &more, &ms);
        while (more) { /* a multi-frame message is not a signal: skip the rest */
            zmq_recv(c->pull, buf, sizeof buf, 0);
            zmq_getsockopt(c->pull, ZMQ_RCVMORE, &more, &ms);
            len = -1;
        }
        wire_msg m;
        if (len < 0 || len > (int)sizeof buf || wire_decode(&dec, buf, (size_t)len, &m) != WIRE_SIGNAL) {
            atomic_fetch_add(&c->bad, 1);
            continue;
        }
        size_t i = atomic_load(&c->n);
        if (i >= c->cap) continue;
        const char *sym = m.u.signal.commodity_id;
        uint8_t src = !strcmp(sym, WL_SYMBOL) ? ZB_SRC_WORKLOAD : !strcmp(sym, ZB_FLOOR_SYMBOL) ? ZB_SRC_FLOOR : ZB_SRC_OTHER;
        c->v[i] = (zb_sig){m.u.signal.when, recv, mono, (uint8_t)m.u.signal.side, src};
        atomic_store(&c->n, i + 1);
    }
    wire_decoder_destroy(&dec);
    return NULL;
}

static inline void zb_collector_start(zb_collector *c, void *pull, size_t cap) {
    memset(c, 0, sizeof *c);
    c->pull = pull;
    c->cap = cap;
    c->v = calloc(cap, sizeof *c->v);
    if (!c->v) exit(1);
    pthread_create(&c->th, NULL, zb_collector_main, c);
}

static inline void zb_collector_stop(zb_collector *c) {
    atomic_store(&c->stop, 1);
    pthread_join(c->th, NULL);
    free(c->v);
}

/* Latency figures (microseconds). */
typedef struct {
    double p50, p99, max;
    size_t n;
} zb_lat;

/* Latencies of signals [from, to) from src, appended to *v (grown as needed). */
static inline void zb_latency_collect(const zb_collector *c, size_t from, size_t to, int src, double **v, size_t *n) {
    *v = realloc(*v, (*n + (to - from) + 1) * sizeof **v);
    if (!*v) exit(1);
    for (size_t i = from; i < to; i++)
        if (c->v[i].src == src) (*v)[(*n)++] = (c->v[i].recv - c->v[i].when) * 1e6;
}

static inline zb_lat zb_latency_of(double *v, size_t n) {
    zb_lat r = {0, 0, 0, n};
    if (n) {
        r.p50 = wl_percentile(v, n, 50);
        r.p99 = wl_percentile(v, n, 99);
        r.max = v[n - 1];
    }
    return r;
}

static inline zb_lat zb_latency(const zb_collector *c, size_t from, size_t to, int src) {
    zb_lat r = {0, 0, 0, 0};
    double *v = malloc((to - from + 1) * sizeof *v);
    for (size_t i = from; i < to; i++)
        if (c->v[i].src == src) v[r.n++] = (c->v[i].recv - c->v[i].when) * 1e6;
    if (r.n) {
        r.p50 = wl_percentile(v, r.n, 50);
        r.p99 = wl_percentile(v, r.n, 99);
        r.max = v[r.n - 1];
    }
    free(v);
    return r;
}

/* ---- the floor's own nodes: a subscriber and a relay, each a child process ----------------- */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

typedef struct {
    uint64_t trial;
    uint64_t count;
    int64_t last_ns; /* CLOCK_MONOTONIC of the last TICK received in the trial */
} zb_sub_report;

/* Child: SUB that decodes every TICK; reports per trial (END) and once when it sees PING. */
static inline int zb_run_subscriber(const char *endpoint, int report_fd) {
    void *ctx = zmq_ctx_new();
    void *sub = zb_socket(ctx, ZMQ_SUB, endpoint, false);
    wire_decoder dec;
    wire_decoder_init(&dec);
    char topic[16], body[2048];
    uint64_t count = 0, last_end = 0;
    int64_t last_ns = 0;
    bool ready = false;
    for (;;) {
        int tl = zmq_recv(sub, topic, sizeof topic - 1, 0);
        if (tl < 0) {
            if (zmq_errno() == EINTR) continue;
            break;
        }
        int bl = zmq_recv(sub, body, sizeof body, 0);
        if (bl < 0) break;
        topic[tl < (int)sizeof topic - 1 ? tl : (int)sizeof topic - 1] = '\0';
        if (!strcmp(topic, "TICK")) {
            wire_msg m;
            if (wire_decode(&dec, body, (size_t)bl, &m) == WIRE_TICK) count++;
            last_ns = now_ns(CLOCK_MONOTONIC);
        } else if (!strcmp(topic, "PING")) {
            if (!ready) {
                zb_sub_report r = {0, 0, 0};
                if (write(report_fd, &r, sizeof r) != sizeof r) break;
                ready = true;
            }
        } else if (!strcmp(topic, "END")) {
            uint64_t id = 0;
            memcpy(&id, body, sizeof id < (size_t)bl ? sizeof id : (size_t)bl);
            if (id != last_end) {
                zb_sub_report r = {id, count, last_ns};
                if (write(report_fd, &r, sizeof r) != sizeof r) break;
                last_end = id;
                count = 0;
            }
        } else if (!strcmp(topic, "QUIT")) {
            break;
        }
    }
    wire_decoder_destroy(&dec);
    zmq_close(sub);
    zmq_ctx_term(ctx);
    return 0;
}

/* Child: SUB -> decode the tick -> encode a TradingSignal with its `when` -> PUSH. */
/* CURVE for the relay's two hops (bench/pipeline.c with AFTM_BENCH_CURVE=1): Z85 keys, set
 * before zb_floor_relay_fork; NULL server keys: plain text. */
static const char *zb_relay_public, *zb_relay_secret, *zb_relay_sub_server, *zb_relay_push_server;

static inline void *zb_relay_socket(void *ctx, int type, const char *endpoint, const char *server) {
    if (!server) return zb_socket(ctx, type, endpoint, false);
    void *s = zmq_socket(ctx, type);
    zb_setint(s, ZMQ_LINGER, 0);
    if (type == ZMQ_SUB) zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 41);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, zb_relay_public, 41);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, zb_relay_secret, 41);
    if (zmq_connect(s, endpoint) != 0) exit(1);
    return s;
}

static inline int zb_run_relay(const char *sub_ep, const char *push_ep) {
    void *ctx = zmq_ctx_new();
    void *sub = zb_relay_socket(ctx, ZMQ_SUB, sub_ep, zb_relay_sub_server);
    void *push = zb_relay_socket(ctx, ZMQ_PUSH, push_ep, zb_relay_push_server);
    wire_decoder dec;
    wire_decoder_init(&dec);
    char topic[16], body[2048], out[WIRE_BUF_MAX];
    for (;;) {
        int tl = zmq_recv(sub, topic, sizeof topic - 1, 0);
        if (tl < 0) {
            if (zmq_errno() == EINTR) continue;
            break;
        }
        int bl = zmq_recv(sub, body, sizeof body, 0);
        if (bl < 0) break;
        topic[tl < (int)sizeof topic - 1 ? tl : (int)sizeof topic - 1] = '\0';
        if (!strcmp(topic, "QUIT")) break;
        wire_msg m;
        if (wire_decode(&dec, body, (size_t)bl, &m) != WIRE_TICK) continue;
        wire_signal sg;
        memset(&sg, 0, sizeof sg);
        sg.when = m.u.tick.when;
        sg.side = WIRE_BUY;
        memcpy(sg.commodity_id, m.u.tick.commodity_id, sizeof sg.commodity_id);
        size_t n = wire_encode_signal(&sg, false, out, sizeof out);
        zmq_send(push, out, n, 0);
    }
    wire_decoder_destroy(&dec);
    zmq_close(sub);
    zmq_close(push);
    zmq_ctx_term(ctx);
    return 0;
}

static inline void zb_reap(pid_t pid) {
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* The PUB -> SUB floor. zb_floor_sub_fork must run while the caller has no ZeroMQ context or
 * other thread (it forks); zb_floor_sub_join binds and waits for the subscriber. */
typedef struct {
    char ep[64];
    int fd; /* reports from the subscriber */
    pid_t pid;
    void *pub;
    uint64_t trial, t;
} zb_floor_sub;

static inline void zb_floor_sub_fork(zb_floor_sub *f) {
    memset(f, 0, sizeof *f);
    snprintf(f->ep, sizeof f->ep, "tcp://127.0.0.1:%d", zb_free_port());
    int fds[2];
    if (pipe(fds) != 0) exit(1);
    pid_t pid = fork();
    if (pid < 0) exit(1);
    if (pid == 0) {
        close(fds[0]);
        _exit(zb_run_subscriber(f->ep, fds[1]));
    }
    close(fds[1]);
    f->fd = fds[0];
    f->pid = pid;
}

/* Waits up to ms for a report; true if one came. */
static inline bool zb_read_report(int fd, zb_sub_report *r, int ms) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) return false;
    return read(fd, r, sizeof *r) == sizeof *r;
}

static inline bool zb_floor_sub_join(zb_floor_sub *f, void *ctx) {
    f->pub = zb_socket(ctx, ZMQ_PUB, f->ep, true);
    zb_sub_report r;
    for (int i = 0; i < 500; i++) {
        zb_send2(f->pub, "PING", "", 0);
        if (zb_read_report(f->fd, &r, 10)) return true;
    }
    return false;
}

/* One 0-drop trial: n = rate * secs ticks, paced; true when all arrived, drained <= 50 ms. */
static inline bool zb_floor_sub_trial(zb_floor_sub *f, double rate, double secs, const char *label) {
    zb_publisher p = {f->pub, WL_SYMBOL, 0};
    uint64_t n = (uint64_t)(rate * secs);
    zb_paced_result pr = zb_publish_paced(&p, rate, n, f->t, NULL);
    f->t += n;
    uint64_t id = ++f->trial;
    zb_sub_report r = {0, 0, 0};
    bool got = false;
    for (int i = 0; i < 400 && !got; i++) { /* END may be dropped too: repeat until answered */
        zb_send2(f->pub, "END", &id, sizeof id);
        while ((got = zb_read_report(f->fd, &r, 5)) && r.trial != id) {
        }
    }
    double drain_ms = got ? (double)(r.last_ns - pr.last_ns) / 1e6 : -1;
    bool paced = pr.achieved >= 0.97 * rate;
    bool pass = got && r.count == n && drain_ms <= 50 && paced;
    if (label)
        printf("  %s pub->sub %8.0f msg/s: sent %llu, received %llu, drained %+.1f ms, publisher %.0f msg/s: %s\n", label,
               rate, (unsigned long long)n, (unsigned long long)r.count, drain_ms, pr.achieved, pass ? "pass" : "FAIL");
    sleep_ms(100);
    return pass;
}

static inline void zb_floor_sub_close(zb_floor_sub *f) {
    for (int i = 0; i < 5; i++) zb_send2(f->pub, "QUIT", "", 0);
    sleep_ms(20);
    zmq_close(f->pub);
    f->pub = NULL;
}

/* After the context is gone. */
static inline void zb_floor_sub_reap(zb_floor_sub *f) {
    zb_reap(f->pid);
    close(f->fd);
}

/* The relay child of the two-hop floor: forks (same rule as above) a relay from a PUB the
 * caller binds at ep to push_ep. */
typedef struct {
    char ep[64];
    pid_t pid;
    void *pub;
} zb_floor_relay;

static inline void zb_floor_relay_fork(zb_floor_relay *f, const char *push_ep) {
    memset(f, 0, sizeof *f);
    snprintf(f->ep, sizeof f->ep, "tcp://127.0.0.1:%d", zb_free_port());
    pid_t pid = fork();
    if (pid < 0) exit(1);
    if (pid == 0) _exit(zb_run_relay(f->ep, push_ep));
    f->pid = pid;
}

/* ---- a rate search that can be interleaved with another ------------------------------------ */

/* Grows by 1.5x from start while a rate passes, then bisects; each rate gets two tries (a pass
 * in either counts). zb_search_next gives the rate to try next, 0 when done. */
typedef struct {
    double pass, fail, rate, start;
    int phase; /* 0 grow, 1 bisect, 2 downwards (even start failed), 3 done */
    int bisects, bisect_max, tries;
} zb_search;

static inline void zb_search_init(zb_search *s, double start, int bisects) {
    memset(s, 0, sizeof *s);
    s->rate = s->start = start;
    s->bisect_max = bisects;
}

static inline double zb_search_next(const zb_search *s) { return s->phase == 3 ? 0 : s->rate; }

static inline void zb_search_report(zb_search *s, bool ok) {
    if (!ok && s->tries == 0) {
        s->tries = 1; /* second try at the same rate */
        return;
    }
    s->tries = 0;
    switch (s->phase) {
    case 0:
        if (ok) {
            s->pass = s->rate;
            if (s->rate >= 2e6) s->phase = 3;
            else s->rate *= 1.5;
        } else {
            s->fail = s->rate;
            if (s->pass == 0) {
                s->phase = 2;
                s->rate = s->start / 2;
            } else {
                s->phase = 1;
                s->rate = (s->pass + s->fail) / 2;
            }
        }
        break;
    case 1:
        if (ok) s->pass = s->rate;
        else s->fail = s->rate;
        if (++s->bisects >= s->bisect_max) s->phase = 3;
        else s->rate = (s->pass + s->fail) / 2;
        break;
    case 2:
        if (ok) {
            s->pass = s->rate;
            s->phase = 3;
        } else if ((s->rate /= 2) < 500) {
            s->phase = 3;
        }
        break;
    default: break;
    }
}

/* ---- /proc ------------------------------------------------------------------------------- */

/* A "VmHWM:"-style field of /proc/PID/status, in kB; -1 if unknown. */
static inline long zb_proc_status_kb(pid_t pid, const char *field) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':') {
            v = atol(line + fl + 1);
            break;
        }
    fclose(f);
    return v;
}

/* User + system CPU time of a process, all its threads, in microseconds; -1 if unknown. */
static inline int64_t zb_proc_cpu_us(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
    return (int64_t)((ut + st) * 1000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
}

#endif
