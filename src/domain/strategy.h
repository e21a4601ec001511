/* The strategy engine: a set of conditions driven by ticks, in creation order.
 * Pure domain code; the process around it does the I/O. */
#ifndef AFTM_STRATEGY_H
#define AFTM_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/condition.h"

typedef struct strategy_engine strategy_engine;

/* Called for every condition a tick changed (events != 0), in creation order. A condition
 * with COND_EXIT_* set is removed from the engine right after the call returns.
 * The callback may call strategy_add / strategy_remove / strategy_entry_*: a condition added
 * there is first evaluated on the next tick; one removed there is not evaluated afterwards.
 * c stays valid until its condition is removed (conditions never move in memory). */
typedef void (*strategy_event_fn)(void *ctx, const condition *c, unsigned events, price_t price);

/* assume_fills: the original's seed-compatible mode, every entry taken as filled at once. */
strategy_engine *strategy_new(bool assume_fills);
void strategy_free(strategy_engine *e);

/* Copies c in; false if a condition with that id is already there or memory ran out. */
bool strategy_add(strategy_engine *e, const condition *c);
bool strategy_remove(strategy_engine *e, int64_t id);
const condition *strategy_find(const strategy_engine *e, int64_t id);
size_t strategy_count(const strategy_engine *e);
/* Visits the live conditions in creation order. */
void strategy_foreach(const strategy_engine *e, void (*fn)(void *ctx, const condition *c), void *ctx);

/* Feeds one tick of symbol at price. Returns the number of conditions changed.
 * Cost: a symbol lookup plus O(log N) per condition whose price levels the tick crosses
 * (conditions are indexed by the prices at which they can change; see condition_idle_band). */
size_t strategy_on_tick(strategy_engine *e, const char *symbol, price_t price, strategy_event_fn fn,
                        void *ctx);

/* The entry's outcome, from the executor's order reports. False if no such live condition. */
bool strategy_entry_filled(strategy_engine *e, int64_t id, int64_t filled_qty);
bool strategy_entry_rejected(strategy_engine *e, int64_t id);
/* The entry filled at price: marks it, then evaluates that condition alone at that price, as
 * the tick that filled it would have if the fill had been known first (the fill report and
 * the tick come on different sockets, in either order). Returns the events (0 if none). */
unsigned strategy_entry_filled_at(strategy_engine *e, int64_t id, int64_t filled_qty, price_t price,
                                  strategy_event_fn fn, void *ctx);

#endif
