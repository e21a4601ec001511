/* Strategy in process: decode a pre-encoded TickEvent (wire_decode) and evaluate it with the
 * engine, on the DESIGN §9 workload, at 1 / 10 / 100 / 1,000 / 10,000 conditions.
 *
 * Also measured, for context: evaluation alone (prices already decoded) and the same workload
 * through a plain scan of every condition per tick (what the engine did before the price
 * index). Exited active conditions are re-created from inside the event callback, as
 * `aftm strategy --rearm` does.
 *
 * Usage: strategy_inproc [RESULTS_FILE|-] [SECONDS_PER_RUN] [ONLY_THIS_COUNT] [noscan|profile]
 * "profile" runs decode + evaluate only, for SECONDS_PER_RUN, at ONLY_THIS_COUNT conditions
 * (for perf record / callgrind).
 * Prints a table; appends "key value" lines to RESULTS_FILE. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/strategy.h"
#include "wire/codec.h"
#include "workload.h"

#define NTICKS_ENC (WL_PERIOD * 25) /* pre-encoded messages, cycled */
#define RUNS 5

typedef struct {
    char buf[WIRE_BUF_MAX];
    size_t len;
} encoded;

typedef struct {
    strategy_engine *e;
    int64_t next_id;
    uint64_t entries, exits;
} bench_ctx;

static void on_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    (void)price;
    bench_ctx *b = ctx;
    if (ev & COND_ENTRY) b->entries++;
    if (ev & (COND_EXIT_TP | COND_EXIT_SL)) {
        b->exits++;
        condition again;
        condition_init(&again, b->next_id++, c->symbol, c->side, c->base_trigger, c->turning_point, c->quantity,
                       c->take_profit_point, c->stop_loss_point, c->is_following);
        strategy_add(b->e, &again);
    }
}

static volatile uint64_t sink;

/* ---- the indexed engine, with decoding ---------------------------------------------------- */

typedef struct {
    bench_ctx b;
    uint64_t t; /* next tick of the price path */
    wire_decoder dec;
    const encoded *enc;
} runner;

static uint64_t run_decode_eval(runner *r, uint64_t n) {
    wire_msg m;
    uint64_t changed = 0;
    for (uint64_t k = 0; k < n; k++, r->t++) {
        const encoded *en = &r->enc[r->t % NTICKS_ENC];
        if (wire_decode(&r->dec, en->buf, en->len, &m) != WIRE_TICK) abort();
        changed += strategy_on_tick(r->b.e, m.u.tick.commodity_id, (price_t)trunc(m.u.tick.match_price), on_event,
                                    &r->b);
    }
    return changed;
}

static uint64_t run_eval_only(runner *r, uint64_t n) {
    uint64_t changed = 0;
    for (uint64_t k = 0; k < n; k++, r->t++)
        changed += strategy_on_tick(r->b.e, WL_SYMBOL, wl_price(r->t), on_event, &r->b);
    return changed;
}

/* ---- the plain scan, for comparison --------------------------------------------------------- */

typedef struct {
    condition *v;
    int n;
    uint64_t t;
    wire_decoder dec;
    const encoded *enc;
} scanner;

static uint64_t run_scan(scanner *s, uint64_t n) {
    wire_msg m;
    uint64_t changed = 0;
    for (uint64_t k = 0; k < n; k++, s->t++) {
        const encoded *en = &s->enc[s->t % NTICKS_ENC];
        if (wire_decode(&s->dec, en->buf, en->len, &m) != WIRE_TICK) abort();
        price_t p = (price_t)trunc(m.u.tick.match_price);
        for (int i = 0; i < s->n; i++) {
            condition *c = &s->v[i];
            if (strcmp(c->symbol, m.u.tick.commodity_id) != 0) continue;
            unsigned ev = condition_on_price(c, p, true);
            if (!ev) continue;
            changed++;
            if (ev & (COND_EXIT_TP | COND_EXIT_SL)) /* re-created in place */
                condition_init(c, c->id, c->symbol, c->side, c->base_trigger, c->turning_point, c->quantity,
                               c->take_profit_point, c->stop_loss_point, c->is_following);
        }
    }
    return changed;
}

/* Runs step in chunks until at least secs have passed; returns ticks per second. */
typedef uint64_t (*step_fn)(void *state, uint64_t n);
static double timed(double secs, step_fn step, void *state, uint64_t chunk) {
    uint64_t done = 0;
    int64_t t0 = now_ns(CLOCK_MONOTONIC), el;
    do {
        sink += step(state, chunk);
        done += chunk;
        el = now_ns(CLOCK_MONOTONIC) - t0;
    } while (el < (int64_t)(secs * 1e9));
    return (double)done * 1e9 / (double)el;
}
static uint64_t step_decode_eval(void *r, uint64_t n) { return run_decode_eval(r, n); }
static uint64_t step_eval_only(void *r, uint64_t n) { return run_eval_only(r, n); }
static uint64_t step_scan(void *s, uint64_t n) { return run_scan(s, n); }

/* ---- decoding alone: the in-process floor ----------------------------------------------- */

typedef struct {
    const encoded *enc;
    uint64_t t;
    wire_decoder dec;
    msgpack_zone zone;
} decoder_only;

static uint64_t step_unpack(void *state, uint64_t n) { /* bare msgpack-c: unpack, no checks */
    decoder_only *d = state;
    uint64_t ok = 0;
    for (uint64_t k = 0; k < n; k++, d->t++) {
        const encoded *en = &d->enc[d->t % NTICKS_ENC];
        msgpack_object obj;
        size_t off = 0;
        msgpack_zone_clear(&d->zone);
        ok += msgpack_unpack(en->buf, en->len, &off, &d->zone, &obj) == MSGPACK_UNPACK_SUCCESS;
    }
    return ok;
}

static uint64_t step_wire_decode(void *state, uint64_t n) {
    decoder_only *d = state;
    uint64_t ok = 0;
    wire_msg m;
    for (uint64_t k = 0; k < n; k++, d->t++) {
        const encoded *en = &d->enc[d->t % NTICKS_ENC];
        ok += wire_decode(&d->dec, en->buf, en->len, &m) == WIRE_TICK;
    }
    return ok;
}

static double median(double *v, int n) { return wl_percentile(v, (size_t)n, 50); }

int main(int argc, char **argv) {
    FILE *out = argc > 1 && strcmp(argv[1], "-") ? fopen(argv[1], "a") : NULL;
    double secs = argc > 2 ? atof(argv[2]) : 0.25;
    int only = argc > 3 ? atoi(argv[3]) : 0;
    bool noscan = argc > 4 && !strcmp(argv[4], "noscan");
    bool profile = argc > 4 && !strcmp(argv[4], "profile");
    static const int counts[] = {1, 10, 100, 1000, 10000};
    static const double original[] = {196832, 24497, 13645, 2417, 0};

    encoded *enc = calloc(NTICKS_ENC, sizeof *enc);
    double when0 = 1750152615.123456;
    for (int t = 0; t < NTICKS_ENC; t++) {
        wire_tick tk = {.when = when0 + t * 0.001, .match_price = (double)wl_price((uint64_t)t)};
        snprintf(tk.commodity_id, sizeof tk.commodity_id, "%s", WL_SYMBOL);
        enc[t].len = wire_encode_tick(&tk, enc[t].buf, sizeof enc[t].buf);
        if (!enc[t].len) abort();
    }

    if (!profile) {
        decoder_only d;
        memset(&d, 0, sizeof d);
        d.enc = enc;
        wire_decoder_init(&d.dec);
        msgpack_zone_init(&d.zone, 2048);
        double un[RUNS], wd[RUNS];
        for (int k = 0; k < RUNS; k++) un[k] = timed(secs / 2, step_unpack, &d, WL_PERIOD * 100);
        for (int k = 0; k < RUNS; k++) wd[k] = timed(secs / 2, step_wire_decode, &d, WL_PERIOD * 100);
        double mu = median(un, RUNS), mw = median(wd, RUNS);
        printf("decoding alone, median of %d: msgpack_unpack %.0f msgs/s (%.3f us), wire_decode %.0f msgs/s (%.3f us)\n",
               RUNS, mu, 1e6 / mu, mw, 1e6 / mw);
        if (out) fprintf(out, "inproc.unpack_tps %.0f\ninproc.wire_decode_tps %.0f\n", mu, mw);
        msgpack_zone_destroy(&d.zone);
        wire_decoder_destroy(&d.dec);
    }
    printf("strategy in process (decode + evaluate), DESIGN §9 workload, median of %d runs of %.2fs\n", RUNS, secs);
    printf("%12s %14s %10s %16s %16s %14s\n", "conditions", "ticks/s", "us/tick", "eval-only ns/tick",
           "scan ticks/s", "original t/s");
    int ok = 1;
    for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
        int n = counts[ci];
        if (only && n != only) continue;
        runner r;
        memset(&r, 0, sizeof r);
        r.b.e = strategy_new(true);
        r.enc = enc;
        wire_decoder_init(&r.dec);
        for (int i = 0; i < n; i++) {
            condition c;
            wl_condition(&c, i, i + 1);
            if (!strategy_add(r.b.e, &c)) abort();
        }
        r.b.next_id = n + 1;
        /* check the workload does what §9 says: every active condition enters and exits once a period */
        run_decode_eval(&r, WL_PERIOD * 2); /* settle */
        r.b.entries = r.b.exits = 0;
        run_decode_eval(&r, WL_PERIOD * 10);
        uint64_t want = (uint64_t)(n < WL_ACTIVE ? n : WL_ACTIVE) * 10;
        if (r.b.entries != want || r.b.exits != want || strategy_count(r.b.e) != (size_t)n) {
            fprintf(stderr, "workload check failed at %d conditions: %llu entries, %llu exits over 10 periods (want %llu), %zu live\n",
                    n, (unsigned long long)r.b.entries, (unsigned long long)r.b.exits, (unsigned long long)want,
                    strategy_count(r.b.e));
            ok = 0;
        }

        uint64_t chunk = WL_PERIOD * 100;
        if (profile) {
            double tps = timed(secs, step_decode_eval, &r, chunk);
            printf("%12d %14.0f (profile run)\n", n, tps);
            wire_decoder_destroy(&r.dec);
            strategy_free(r.b.e);
            continue;
        }
        double tps[RUNS], eval[RUNS], scan[RUNS];
        for (int k = 0; k < RUNS; k++) tps[k] = timed(secs, step_decode_eval, &r, chunk);
        for (int k = 0; k < RUNS; k++) eval[k] = 1e9 / timed(secs / 2, step_eval_only, &r, chunk);

        scanner s;
        memset(&s, 0, sizeof s);
        s.v = calloc((size_t)n, sizeof *s.v);
        s.n = n;
        s.enc = enc;
        wire_decoder_init(&s.dec);
        for (int i = 0; i < n; i++) wl_condition(&s.v[i], i, i + 1);
        if (n >= 1000) chunk = WL_PERIOD * 10;
        for (int k = 0; k < 3; k++) scan[k] = noscan ? 0 : timed(secs / 2, step_scan, &s, chunk);

        double m = median(tps, RUNS), me = median(eval, RUNS), ms = median(scan, 3);
        char orig[32] = "-";
        if (original[ci] > 0) snprintf(orig, sizeof orig, "%.0f", original[ci]);
        printf("%12d %14.0f %10.3f %16.1f %16.0f %14s\n", n, m, 1e6 / m, me, ms, orig);
        if (out) {
            fprintf(out, "inproc.%d.tps %.0f\n", n, m);
            fprintf(out, "inproc.%d.us %.4f\n", n, 1e6 / m);
            fprintf(out, "inproc.%d.eval_ns %.1f\n", n, me);
            fprintf(out, "inproc.%d.scan_tps %.0f\n", n, ms);
            fprintf(out, "inproc.%d.tps_min %.0f\n", n, tps[0]);
            fprintf(out, "inproc.%d.tps_max %.0f\n", n, tps[RUNS - 1]);
        }
        free(s.v);
        wire_decoder_destroy(&s.dec);
        wire_decoder_destroy(&r.dec);
        strategy_free(r.b.e);
    }
    if (out) {
        fprintf(out, "inproc.workload_ok %d\n", ok);
        fclose(out);
    }
    free(enc);
    return ok ? 0 : 1;
}
