/* The bare libzmq floor (see the original's measurements), on its own:
 *
 * 1. PUB -> SUB, max sustained rate with 0 drops: a paced publisher (clock_nanosleep
 *    TIMER_ABSTIME, SNDHWM 1000) sends the real TickEvent bytes (two frames, TICK + body) to a
 *    subscriber process that decodes each one. A trial passes when the subscriber received
 *    every message and drained within 50 ms of the last publish; the rate is searched.
 * 2. Two hops, PUB -> relay -> PUSH -> PULL: a relay process decodes each tick and pushes a
 *    TradingSignal carrying the tick's `when`; latency = receipt wall time - `when`, at 1,000
 *    and 10,000 msgs/s.
 * All on tcp://127.0.0.1, free ports, one process per node. The pipeline benchmark runs the
 * same floor nodes interleaved with aftm's trials, for ratios taken under the same load.
 *
 * Usage: floor [RESULTS_FILE|-] [TRIAL_SECONDS] [LATENCY_SECONDS] */
#include "zbench.h"

static double part_pubsub(double secs) {
    zb_floor_sub f;
    zb_floor_sub_fork(&f);
    void *ctx = zmq_ctx_new();
    if (!zb_floor_sub_join(&f, ctx)) {
        fprintf(stderr, "floor: the subscriber never joined\n");
        exit(1);
    }
    zb_search s;
    zb_search_init(&s, 20000, 4);
    double rate;
    while ((rate = zb_search_next(&s)) > 0) zb_search_report(&s, zb_floor_sub_trial(&f, rate, secs, "floor"));
    zb_floor_sub_close(&f);
    zmq_ctx_term(ctx);
    zb_floor_sub_reap(&f);
    return s.pass;
}

static zb_lat part_twohop(double rate, double secs, size_t *received, uint64_t *sent) {
    char ep_sig[64];
    snprintf(ep_sig, sizeof ep_sig, "tcp://127.0.0.1:%d", zb_free_port());
    zb_floor_relay fr;
    zb_floor_relay_fork(&fr, ep_sig);
    void *ctx = zmq_ctx_new();
    void *pub = zb_socket(ctx, ZMQ_PUB, fr.ep, true);
    void *pull = zb_socket(ctx, ZMQ_PULL, ep_sig, true);
    zb_collector col;
    zb_collector_start(&col, pull, (size_t)(rate * secs) + 100000);
    zb_publisher p = {pub, ZB_FLOOR_SYMBOL, 0};
    /* join: publish until the relay's first signal comes back */
    bool joined = false;
    for (int i = 0; i < 500 && !joined; i++) {
        zb_publish_tick(&p, WL_P0);
        sleep_ms(10);
        joined = atomic_load(&col.n) > 0;
    }
    if (!joined) {
        fprintf(stderr, "floor: the relay never joined\n");
        exit(1);
    }
    sleep_ms(100);
    size_t from = atomic_load(&col.n);
    uint64_t n = (uint64_t)(rate * secs);
    zb_publish_paced(&p, rate, n, 0, NULL);
    int64_t until = now_ns(CLOCK_MONOTONIC) + 500000000;
    while (atomic_load(&col.n) < from + n && now_ns(CLOCK_MONOTONIC) < until) sleep_ms(5);
    size_t to = atomic_load(&col.n);
    zb_lat l = zb_latency(&col, from, to, ZB_SRC_FLOOR);
    *received = to - from;
    *sent = n;
    for (int i = 0; i < 5; i++) zb_send2(pub, "QUIT", "", 0);
    sleep_ms(20);
    zb_collector_stop(&col);
    zmq_close(pub);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    zb_reap(fr.pid);
    return l;
}

int main(int argc, char **argv) {
    FILE *out = argc > 1 && strcmp(argv[1], "-") ? fopen(argv[1], "a") : NULL;
    double trial_secs = argc > 2 ? atof(argv[2]) : 1.0;
    double lat_secs = argc > 3 ? atof(argv[3]) : 3.0;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("floor 1: PUB->SUB max sustained rate, 0 drops (trials of %.1fs, SUB decodes each message)\n", trial_secs);
    double max = part_pubsub(trial_secs);
    printf("floor: PUB->SUB max sustained 0-drop rate: %.0f msg/s\n", max);
    if (out) fprintf(out, "floor.pubsub_max %.0f\n", max);

    static const double rates[] = {1000, 10000};
    for (int i = 0; i < 2; i++) {
        size_t got;
        uint64_t sent;
        zb_lat l = part_twohop(rates[i], lat_secs, &got, &sent);
        printf("floor: two hops at %.0f msg/s: p50 %.0f us, p99 %.0f us, max %.0f us (%zu of %llu received)\n", rates[i],
               l.p50, l.p99, l.max, got, (unsigned long long)sent);
        if (out)
            fprintf(out, "floor.hop2.%.0f.p50 %.1f\nfloor.hop2.%.0f.p99 %.1f\nfloor.hop2.%.0f.max %.1f\nfloor.hop2.%.0f.lost %llu\n",
                    rates[i], l.p50, rates[i], l.p99, rates[i], l.max, rates[i],
                    (unsigned long long)(sent > got ? sent - got : 0));
    }
    if (out) fclose(out);
    return 0;
}
