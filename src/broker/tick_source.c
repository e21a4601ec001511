/* Tick feeds for the simulated exchange: seeded random walk, or tick-file replay. */
#include "broker/tick_source.h"

#include "core/parse.h"

#include <math.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "ticks/tickfile.h"

#define NS_PER_S 1000000000LL
#define CATCH_UP_LIMIT_NS NS_PER_S /* a walk that fell this far behind skips ahead instead */

struct tick_source {
    bool replay;
    bool done;
    uint64_t count;
    char symbol[BROKER_SYMBOL_MAX]; /* walk: its symbol; replay: as_symbol or "" */
    char error[160];

    /* random walk */
    uint64_t rng;
    price_t price;
    double interval_ns;
    int64_t anchor_ns; /* due time of tick number anchor_index */
    uint64_t anchor_index;
    char (*together)[BROKER_SYMBOL_MAX]; /* products moving with the walk: one tick each per step */
    size_t ntogether;
    size_t pending; /* of those, how many have had this step's tick (ntogether: all) */
    int64_t last_volume, last_ts_us;

    /* replay */
    tick_reader *reader;
    double speed;
    bool have_row;
    tick_row row;       /* the next row, read ahead */
    int64_t row_due_ns; /* when it is due */
    bool started;
    int64_t file_t0_us, mono_t0_ns, last_due_ns;
};

/* splitmix64: small, fast, and well spread even for seeds 0, 1, 2... */
static uint64_t rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

tick_source *tick_source_random_walk(const char *symbol, uint64_t seed, double rate, price_t start, int64_t now_ns) {
    if (!symbol || !*symbol || strlen(symbol) >= BROKER_SYMBOL_MAX) return NULL;
    if (!(rate > 0) || rate > TICK_SOURCE_MAX_RATE) return NULL;
    tick_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->symbol, sizeof s->symbol, "%s", symbol);
    s->rng = seed;
    s->price = start > 0 ? start : TICK_SOURCE_DEFAULT_START - 50 + (price_t)(rng_next(&s->rng) % 101);
    s->interval_ns = (double)NS_PER_S / rate;
    s->anchor_ns = now_ns;
    s->anchor_index = 0;
    return s;
}

bool tick_source_walk_together(tick_source *s, const char *const *symbols, size_t n) {
    if (!s || s->replay) return false;
    char(*v)[BROKER_SYMBOL_MAX] = realloc(s->together, (s->ntogether + n + 1) * sizeof *v);
    if (!v) return false;
    s->together = v;
    for (size_t i = 0; i < n; i++) {
        if (!symbols[i] || !*symbols[i] || strlen(symbols[i]) >= BROKER_SYMBOL_MAX || !strcmp(symbols[i], s->symbol))
            continue;
        bool dup = false;
        for (size_t k = 0; k < s->ntogether && !dup; k++) dup = !strcmp(s->together[k], symbols[i]);
        if (!dup) snprintf(s->together[s->ntogether++], BROKER_SYMBOL_MAX, "%s", symbols[i]);
    }
    s->pending = s->ntogether; /* nothing owed before the first step */
    return true;
}

static int64_t walk_due_ns(const tick_source *s) {
    return s->anchor_ns + (int64_t)((double)(s->count - s->anchor_index) * s->interval_ns);
}

/* Reads ahead to the next usable row and computes when it is due. false at the end. */
static bool replay_advance(tick_source *s, int64_t now_ns) {
    s->have_row = false;
    for (;;) {
        int r = tick_reader_next(s->reader, &s->row);
        if (r < 0) {
            const char *e = tick_reader_error(s->reader);
            snprintf(s->error, sizeof s->error, "%s", e && *e ? e : "read error");
            return false;
        }
        if (r == 0) return false;
        if (!isfinite(s->row.price) || s->row.price < 0.5 || s->row.price > 1e15) continue;
        break;
    }
    if (!s->started) {
        s->started = true;
        s->file_t0_us = s->row.ts_us;
        s->mono_t0_ns = now_ns;
        s->last_due_ns = now_ns;
    }
    int64_t due = s->last_due_ns;
    if (s->speed > 0) {
        double offset_ns = (double)(s->row.ts_us - s->file_t0_us) * 1000.0 / s->speed;
        int64_t d = s->mono_t0_ns + (int64_t)offset_ns;
        if (d > due) due = d; /* a file going back in time never schedules into the past */
    }
    s->row_due_ns = s->last_due_ns = due;
    s->have_row = true;
    return true;
}

tick_source *tick_source_replay(const char *path, double speed, const char *as_symbol, int64_t now_ns, char *err,
                                size_t errlen) {
    if (!(speed >= 0) || !isfinite(speed)) {
        snprintf(err, errlen, "replay speed must be a number >= 0");
        return NULL;
    }
    if (as_symbol && strlen(as_symbol) >= BROKER_SYMBOL_MAX) {
        snprintf(err, errlen, "symbol too long: %s", as_symbol);
        return NULL;
    }
    tick_source *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->replay = true;
    s->speed = speed;
    if (as_symbol) snprintf(s->symbol, sizeof s->symbol, "%s", as_symbol);
    s->reader = tick_reader_open(path, NULL, err, errlen);
    if (!s->reader) {
        free(s);
        return NULL;
    }
    if (!replay_advance(s, now_ns)) {
        if (s->error[0]) snprintf(err, errlen, "%s: %s", path, s->error);
        else snprintf(err, errlen, "%s: no usable ticks in the file (%zu malformed rows)", path,
                      tick_reader_bad_rows(s->reader));
        tick_source_free(s);
        return NULL;
    }
    return s;
}

int64_t tick_source_due_in_ms(tick_source *s, int64_t now_ns) {
    if (!s || s->done) return -1;
    int64_t due;
    if (s->replay) {
        if (!s->have_row) return -1;
        due = s->row_due_ns;
    } else {
        if (s->pending < s->ntogether) return 0; /* this step's ticks of the products moving with it */
        due = walk_due_ns(s);
    }
    if (due <= now_ns) return 0;
    return (due - now_ns + 999999) / 1000000;
}

int tick_source_next(tick_source *s, int64_t now_ns, broker_tick *out) {
    if (!s || s->done) return -1;
    if (s->replay) {
        if (!s->have_row) {
            s->done = true;
            return -1;
        }
        if (s->row_due_ns > now_ns) return 0;
        memset(out, 0, sizeof *out);
        snprintf(out->symbol, sizeof out->symbol, "%s", s->symbol[0] ? s->symbol : s->row.symbol);
        out->price = (price_t)llround(s->row.price);
        out->volume = s->row.volume;
        out->ts_us = s->row.ts_us;
        s->count++;
        replay_advance(s, now_ns); /* at the end have_row is false: the next call reports it */
        return 1;
    }
    if (s->pending < s->ntogether) {
        memset(out, 0, sizeof *out);
        snprintf(out->symbol, sizeof out->symbol, "%s", s->together[s->pending++]);
        out->price = s->price;
        out->volume = s->last_volume;
        out->ts_us = s->last_ts_us;
        return 1;
    }
    int64_t due = walk_due_ns(s);
    if (due > now_ns) return 0;
    if (now_ns - due > CATCH_UP_LIMIT_NS) { /* stalled (suspended, debugger): do not burst */
        s->anchor_ns = now_ns;
        s->anchor_index = s->count;
    }
    uint64_t r = rng_next(&s->rng);
    price_t step = (price_t)(r % 5) - 2;
    price_t p = s->price + step;
    if (p < 1) p = 1 + (step < 0 ? -step : step);
    s->price = p;
    memset(out, 0, sizeof *out);
    snprintf(out->symbol, sizeof out->symbol, "%s", s->symbol);
    out->price = p;
    out->volume = 1 + (int64_t)((r >> 32) % 5);
    out->ts_us = clock_wall_us();
    s->last_volume = out->volume;
    s->last_ts_us = out->ts_us;
    s->pending = 0;
    s->count++;
    return 1;
}

void tick_source_restart_clock(tick_source *s, int64_t now_ns) {
    if (!s) return;
    if (!s->replay) {
        s->anchor_ns = now_ns;
        s->anchor_index = s->count;
        return;
    }
    if (!s->have_row) return;
    /* the pending row becomes due now; later rows keep their spacing from it */
    s->file_t0_us = s->row.ts_us;
    s->mono_t0_ns = now_ns;
    s->row_due_ns = s->last_due_ns = now_ns;
}

uint64_t tick_source_count(const tick_source *s) { return s ? s->count : 0; }

size_t tick_source_bad_rows(const tick_source *s) {
    return s && s->reader ? tick_reader_bad_rows(s->reader) : 0;
}

const char *tick_source_error(const tick_source *s) { return s ? s->error : ""; }

bool tick_source_is_replay(const tick_source *s) { return s && s->replay; }

static int64_t feed_due(void *ctx) { return tick_source_due_in_ms(ctx, clock_mono_ns()); }

static int feed_next(void *ctx, broker_tick *out) { return tick_source_next(ctx, clock_mono_ns(), out); }

sim_feed tick_source_feed(tick_source *s) {
    sim_feed f = {.ctx = s, .due_in_ms = feed_due, .next = feed_next};
    return f;
}

void tick_source_free(tick_source *s) {
    if (!s) return;
    if (s->reader) tick_reader_close(s->reader);
    free(s->together);
    free(s);
}

void market_flags_init(market_flags *m) {
    memset(m, 0, sizeof *m);
    m->rate = 10;
    m->speed = 1;
    snprintf(m->symbol, sizeof m->symbol, "TXFF5");
}

bool market_flags_set(market_flags *m, int opt, const char *value, char *err, size_t errlen) {
    int64_t i64;
    switch (opt) {
    case 's':
        if (!parse_int64(value, &i64) || i64 < 0) {
            snprintf(err, errlen, "--seed must be an integer >= 0, got '%s'", value);
            return false;
        }
        m->seed = (uint64_t)i64;
        m->have_seed = true;
        return true;
    case 'r':
        if (!parse_double(value, &m->rate) || !(m->rate > 0) || m->rate > TICK_SOURCE_MAX_RATE) {
            snprintf(err, errlen, "--rate must be a number of ticks per second in (0, 1000000], got '%s'", value);
            return false;
        }
        m->have_rate = true;
        return true;
    case 't': m->ticks = value; return true;
    case 'x':
        if (!parse_double(value, &m->speed) || m->speed < 0 || m->speed > 1e6) {
            snprintf(err, errlen, "--speed must be a number >= 0 (0 = as fast as possible), got '%s'", value);
            return false;
        }
        m->have_speed = true;
        return true;
    case 'y':
        if (!symbol_valid(value) || strlen(value) >= sizeof m->symbol) {
            snprintf(err, errlen, "--symbol must be a product code of 1-31 letters and digits, got '%s'", value);
            return false;
        }
        snprintf(m->symbol, sizeof m->symbol, "%s", value);
        for (char *p = m->symbol; *p; p++) *p = (char)toupper((unsigned char)*p);
        m->have_symbol = true;
        return true;
    default: snprintf(err, errlen, "not a market flag"); return false;
    }
}

bool market_flags_check(const market_flags *m, char *err, size_t errlen) {
    if (m->ticks && (m->have_seed || m->have_rate)) {
        snprintf(err, errlen, "--seed and --rate drive the random walk; they do not apply with --ticks");
        return false;
    }
    if (!m->ticks && m->have_speed) {
        snprintf(err, errlen, "--speed applies only with --ticks FILE");
        return false;
    }
    return true;
}
