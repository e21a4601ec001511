/* The benchmark workload of DESIGN.md §9, shared by the benchmarks.
 *
 * Price path: a triangle wave around P0 = 20000, +-110 in steps of 10, period 44 ticks,
 * commodity TXFF5 (up 11 steps, down 22, up 11). Condition i: BUY when i is even, SELL when odd;
 * trailing when (i/2)%2 == 1; turning 15, take profit 90, stop loss 30, quantity 1.
 * i < 10: active, 20 + 5*((i/2)%5) below P0 (BUY) or above it (SELL); each exits once a period
 * and is re-created at once. i >= 10: idle, at P0-1000-(i%97) (BUY) / P0+1000+(i%97) (SELL). */
#ifndef AFTM_BENCH_WORKLOAD_H
#define AFTM_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "domain/condition.h"

#define WL_SYMBOL "TXFF5"
#define WL_P0 20000
#define WL_PERIOD 44
#define WL_ACTIVE 10

static inline price_t wl_price(uint64_t t) {
    int ph = (int)(t % WL_PERIOD);
    if (ph <= 11) return WL_P0 + 10 * ph;
    if (ph <= 33) return WL_P0 + 110 - 10 * (ph - 11);
    return WL_P0 - 110 + 10 * (ph - 33);
}

static inline side_t wl_side(int i) { return i % 2 == 0 ? SIDE_BUY : SIDE_SELL; }
static inline bool wl_following(int i) { return (i / 2) % 2 == 1; }

static inline price_t wl_trigger(int i) {
    bool buy = i % 2 == 0;
    int64_t off = i < WL_ACTIVE ? 20 + 5 * ((i / 2) % 5) : 1000 + (i % 97);
    return buy ? WL_P0 - off : WL_P0 + off;
}

static inline void wl_condition(condition *c, int i, int64_t id) {
    condition_init(c, id, WL_SYMBOL, wl_side(i), wl_trigger(i), 15, 1, 90, 30, wl_following(i));
}

/* Writes conditions [0, n) as the original's conditions.json (BEHAVIOUR §7.1: an array of the
 * 14 to_dict fields, action as the enum NAME, condition_id a UUID; ids here are made up from
 * uuid_tag and i). */
static inline bool wl_write_json(const char *path, int n, unsigned uuid_tag) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fputs("[\n", f);
    for (int i = 0; i < n; i++) {
        condition c;
        wl_condition(&c, i, i + 1);
        fprintf(f,
                "  {\"condition_id\": \"%08x-0000-4000-8000-%012x\", \"action\": \"%s\", \"trigger_price\": %lld, "
                "\"quantity\": %lld, \"turning_point\": %lld, \"take_profit_point\": %lld, \"stop_loss_point\": %lld, "
                "\"take_profit_price\": %lld, \"stop_loss_price\": %lld, \"order_price\": %lld, \"is_following\": %s, "
                "\"is_trigger\": false, \"is_ordered\": false, \"is_exited\": false}%s\n",
                uuid_tag, (unsigned)i, c.side == SIDE_BUY ? "BUY" : "SELL", (long long)c.trigger_price,
                (long long)c.quantity, (long long)c.turning_point, (long long)c.take_profit_point,
                (long long)c.stop_loss_point, (long long)c.take_profit_price, (long long)c.stop_loss_price,
                (long long)c.order_price, c.is_following ? "true" : "false", i + 1 < n ? "," : "");
    }
    fputs("]\n", f);
    return fclose(f) == 0;
}

/* ---- time and statistics ---------------------------------------------------------------- */

static inline int64_t now_ns(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static inline double now_real_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static inline void sleep_until_ns(int64_t t) {
    struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}
static inline void sleep_ms(int ms) { sleep_until_ns(now_ns(CLOCK_MONOTONIC) + (int64_t)ms * 1000000); }

static inline int wl_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
/* Sorts v in place; p in [0, 100]. */
static inline double wl_percentile(double *v, size_t n, double p) {
    if (!n) return 0;
    qsort(v, n, sizeof *v, wl_cmp_double);
    size_t k = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

#endif
