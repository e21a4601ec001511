/* The strategy process's decisions without its sockets: decoded ticks go through the domain
 * engine (domain/strategy.h) and come out as signals handed to a sink; execution reports
 * settle an entry (filled: the exit stage starts, evaluated at once at the fill price;
 * refused: the condition is parked); conditions are kept in step with the database (added and
 * cancelled ones picked up); changed condition rows are handed to a state sink (the writer
 * thread, state_writer.h) in batches.
 *
 * Delivery is end to end: every signal stays in the outbox (kept in the database with the
 * condition states it goes with) until the executor acknowledges it by storing it, as an order
 * row or a stored refusal, and is sent again under the same signal id until then, also after a
 * restart of either side.
 *
 * Not here: sockets, decoding ticks off the wire, argument parsing (strategy_main.c), and the
 * database writes themselves (state_writer.c). Time comes in as a parameter (milliseconds of a
 * monotonic clock), so tests drive the flush and sync cadence. One thread only. */
#ifndef AFTM_STRATEGY_CORE_H
#define AFTM_STRATEGY_CORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/strategy/state_writer.h"
#include "domain/condition.h"
#include "wire/codec.h"

#define STRATEGY_FLUSH_MS 50  /* changed rows wait at most this long for the writer */
#define STRATEGY_SYNC_MS 200  /* the database is checked for other processes' changes this often */
#define STRATEGY_RETRY_MS 10  /* an undelivered signal is offered again this often */
#define STRATEGY_ACK_MS 200   /* the outbox is checked for acknowledged signals this often */
#define STRATEGY_RESEND_MS 2000 /* a signal sent but not acknowledged is sent again after this */
#define STRATEGY_MAX_TICK_PRICE 1e12

/* One signal as decided, and as it goes on the wire. */
typedef struct {
    wire_signal sig;        /* side, symbol, signal_id, condition_id, quantity, seq, price, when */
    char buf[WIRE_BUF_MAX]; /* sig encoded by strategy_signal_encode */
    size_t len;
    char desc[160];         /* one line for the log: id, side, symbol, lots, price, why, whose */
} strategy_signal;

typedef struct {
    void *ctx;
    /* Offers one signal to the executor; false when it cannot take it now (no executor
     * connected, or its queue full): the core keeps it and offers it again, oldest first. */
    bool (*send_signal)(void *ctx, const strategy_signal *s);
    /* Takes changed condition rows (in order), the signal counter and the outbox changes to
     * store together; false when it could not take them (they are kept and handed over again). */
    bool (*save_states)(void *ctx, const state_batch *b);
} strategy_core_sinks;

typedef struct {
    /* --wire original: the original's 4-key signal; entries taken as filled at once, as the
     * original executor sends no fill feedback. */
    bool original_wire;
    /* --rearm: every condition repeats (armed again after each exit under the same id, as one
     * added with --repeat), whatever its stored flag says. */
    bool rearm;
    /* The process id: names the in-memory copies that strategies before repeating conditions
     * made ("m<tag>_<n>.E"), so that the reports of another process's copies are not ours. */
    int rearm_tag;
} strategy_core_config;

typedef struct {
    uint64_t ticks, bad_ticks, signals;
    size_t undelivered;    /* signals kept because the sink could not take them yet */
    size_t unacknowledged; /* signals sent or not, that the executor has not stored yet */
    uint64_t resent;       /* signals sent again because no acknowledgement came */
    size_t conditions;  /* live in the engine */
} strategy_core_stats;

typedef struct strategy_core strategy_core;

/* Loads the active conditions of db (which stays the caller's and must outlive the core) and
 * the stored signal counter. now_ms starts the flush and sync clocks. NULL with err. */
strategy_core *strategy_core_new(sqlite3 *db, const strategy_core_config *cfg, const strategy_core_sinks *sinks,
                                 int64_t now_ms, char *err, size_t errlen);
/* Hands what is still unsaved to save_states, then frees everything. */
void strategy_core_free(strategy_core *sc);

/* One decoded tick. A bad price (not finite, <= 0, absurdly large) is counted and logged,
 * never evaluated. */
void strategy_core_on_tick(strategy_core *sc, const wire_tick *t);

/* What an execution report meant to the strategy. */
typedef enum {
    STRATEGY_REPORT_BAD = -1,      /* not a JSON object with a status */
    STRATEGY_REPORT_IGNORED = 0,   /* not an entry of a live condition of ours, or no outcome yet */
    STRATEGY_REPORT_FILLED = 1,    /* entry filled: the exit stage runs */
    STRATEGY_REPORT_REJECTED = 2,  /* entry rejected, cancelled or expired unfilled: parked */
} strategy_report_outcome;

/* An acknowledgement from the executor (net/signal_ack.h, the JSON body): the signal leaves the
 * outbox, the executor's instance id is learnt (so reports of its orders are followed when its
 * database is not ours), and a refused entry is parked. false (logged) for a malformed one. */
bool strategy_core_on_ack(strategy_core *sc, const char *body, size_t len);

/* One execution report, the body of the gateway's REPORT frame: a msgpack map (net/gw_pack.h),
 * or the same fields as a JSON object. */
strategy_report_outcome strategy_core_on_report(strategy_core *sc, const char *body, size_t len);

/* Offers the undelivered signals again, oldest first, and sends again those sent more than
 * STRATEGY_RESEND_MS ago and not acknowledged yet; stops at the first one the sink refuses. */
void strategy_core_retry_signals(strategy_core *sc, int64_t now_ms);

/* Time-driven work: hands changed rows to save_states (at once after a signal, else after
 * STRATEGY_FLUSH_MS), checks the outbox for acknowledged signals every STRATEGY_ACK_MS and the
 * database for other processes' changes every STRATEGY_SYNC_MS. */
void strategy_core_housekeep(strategy_core *sc, int64_t now_ms);
/* How long the caller may wait for input before housekeep or retry_signals is due (>= 0). */
long strategy_core_timeout_ms(const strategy_core *sc, int64_t now_ms);
/* Reads the database now: adds new active conditions, drops those no longer active, applies
 * entry fills written by the executor. */
void strategy_core_sync(strategy_core *sc);

strategy_core_stats strategy_core_get_stats(const strategy_core *sc);
/* The live condition with that id, or NULL; valid until the next call into the core. */
const condition *strategy_core_find(const strategy_core *sc, int64_t id);

/* Encodes s->sig into s->buf: aftm's signal, or with original_wire exactly the original's
 * 4-key TradingSignal. False if it does not fit (never with aftm's own sizes). */
bool strategy_signal_encode(strategy_signal *s, bool original_wire);

/* The client order id scheme of signals: "aftm-<instance>-<condition id>.E" (entry) or ".X"
 * (exit), instance being the database's instance id (db_instance_id); a later round of a
 * repeating condition "aftm-<instance>-<condition id>r<round>.E"; in-memory copies of older
 * strategies "aftm-<instance>-m<tag>_<n>.E", condition id -n, ours only when tag is rearm_tag.
 * True when coid is one of ours, with *condition_id, *is_exit and (unless NULL) *round set. */
bool strategy_parse_client_order_id(const char *coid, const char *instance, int rearm_tag, int64_t *condition_id,
                                    bool *is_exit, int64_t *round);

#endif
