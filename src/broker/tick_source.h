/* The simulated market's tick feed: a seeded random walk at a fixed rate, or a replay of a
 * tick file paced by its own timestamps. Pull-style and clock-explicit: the caller asks when
 * the next tick is due and takes the ticks that are due, so an event loop can block until then
 * (no sleeps) and tests can drive time by hand. */
#ifndef AFTM_TICK_SOURCE_H
#define AFTM_TICK_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/sim_broker.h"

#define TICK_SOURCE_DEFAULT_START 20000 /* points, TXF-like */
#define TICK_SOURCE_MAX_RATE 1000000.0  /* ticks per second */

typedef struct tick_source tick_source;

/* A random walk of symbol from about 20000 points (start <= 0), steps of -2..+2 points, never
 * below 1; rate ticks per second (0 < rate <= TICK_SOURCE_MAX_RATE). The same seed gives the
 * same prices. The first tick is due at now_ns. NULL on bad arguments or out of memory. */
tick_source *tick_source_random_walk(const char *symbol, uint64_t seed, double rate, price_t start, int64_t now_ns);

/* Makes the walk a market for these products too, moving together with its own symbol: every
 * step of the walk is one tick of its symbol, then one tick at the same price of each of these
 * (the simulated exchange's listed products, TX and MTX of each month). The step's pace and
 * tick_source_count are the walk's steps. Duplicates and the walk's own symbol are ignored.
 * false when it is not a walk or memory ran out. */
bool tick_source_walk_together(tick_source *s, const char *const *symbols, size_t n);

/* A replay of a tick file (tickfile.h formats) at speed times real time by the file's
 * timestamps; speed 0 = as fast as possible. as_symbol non-NULL: every tick is published under
 * that symbol instead of the file's. Prices are rounded to whole points; rows with a price
 * below one point are skipped. NULL with err when the file cannot be opened or read. */
tick_source *tick_source_replay(const char *path, double speed, const char *as_symbol, int64_t now_ns, char *err,
                                size_t errlen);

/* Milliseconds until the next tick is due (rounded up): 0 = due now, -1 = finished. */
int64_t tick_source_due_in_ms(tick_source *s, int64_t now_ns);
/* 1: the next due tick in out (ts_us = wall clock for the walk, the file's time for a replay);
 * 0: none due yet; -1: finished (end of file or read error, see tick_source_error). */
int tick_source_next(tick_source *s, int64_t now_ns, broker_tick *out);

/* Restarts the schedule at now_ns: the next tick is due at once and the pace goes on from
 * there (used to hold a feed until its subscribers are connected). */
void tick_source_restart_clock(tick_source *s, int64_t now_ns);

uint64_t tick_source_count(const tick_source *s);     /* ticks delivered so far */
size_t tick_source_bad_rows(const tick_source *s);    /* replay: malformed rows skipped */
const char *tick_source_error(const tick_source *s);  /* "" unless a read failed */
bool tick_source_is_replay(const tick_source *s);

/* The feed the simulated exchange pulls from, on the monotonic clock. */
sim_feed tick_source_feed(tick_source *s);

void tick_source_free(tick_source *s);


/* The flags that make a simulated market, shared by `aftm exchange` and the gateway's
 * in-process simulator: --seed, --rate, --ticks, --speed, --symbol. */
typedef struct {
    bool have_seed, have_rate, have_speed, have_symbol;
    uint64_t seed;
    double rate, speed;            /* defaults 10 ticks/s and 1x */
    char symbol[BROKER_SYMBOL_MAX]; /* default TXFF5 */
    const char *ticks;
} market_flags;

void market_flags_init(market_flags *m);
/* Applies one flag given by its short option ('s' seed, 'r' rate, 't' ticks, 'x' speed,
 * 'y' symbol); false with a usage message in err. */
bool market_flags_set(market_flags *m, int opt, const char *value, char *err, size_t errlen);
/* The rules between them (the walk's flags do not go with --ticks; --speed needs it). */
bool market_flags_check(const market_flags *m, char *err, size_t errlen);

#endif
