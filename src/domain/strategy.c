/* Engine storage: conditions kept in creation order in one array; removal leaves a hole that
 * is compacted once holes outnumber live entries. */
#include "domain/strategy.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    condition c;
    bool live;
} slot;

struct strategy_engine {
    slot *slots;
    size_t len, cap, live;
    bool assume_fills;
};

strategy_engine *strategy_new(bool assume_fills) {
    strategy_engine *e = calloc(1, sizeof *e);
    if (e) e->assume_fills = assume_fills;
    return e;
}

void strategy_free(strategy_engine *e) {
    if (!e) return;
    free(e->slots);
    free(e);
}

static slot *find_slot(const strategy_engine *e, int64_t id) {
    for (size_t i = 0; i < e->len; i++)
        if (e->slots[i].live && e->slots[i].c.id == id) return &e->slots[i];
    return NULL;
}

static void compact(strategy_engine *e) {
    size_t j = 0;
    for (size_t i = 0; i < e->len; i++)
        if (e->slots[i].live) e->slots[j++] = e->slots[i];
    e->len = j;
}

bool strategy_add(strategy_engine *e, const condition *c) {
    if (find_slot(e, c->id)) return false;
    if (e->len == e->cap) {
        if (e->len > 2 * e->live) {
            compact(e);
        } else {
            size_t cap = e->cap ? e->cap * 2 : 64;
            slot *s = realloc(e->slots, cap * sizeof *s);
            if (!s) return false;
            e->slots = s;
            e->cap = cap;
        }
    }
    e->slots[e->len].c = *c;
    e->slots[e->len].live = true;
    e->len++;
    e->live++;
    return true;
}

bool strategy_remove(strategy_engine *e, int64_t id) {
    slot *s = find_slot(e, id);
    if (!s) return false;
    s->live = false;
    e->live--;
    return true;
}

const condition *strategy_find(const strategy_engine *e, int64_t id) {
    slot *s = find_slot(e, id);
    return s ? &s->c : NULL;
}

size_t strategy_count(const strategy_engine *e) { return e->live; }

void strategy_foreach(const strategy_engine *e, void (*fn)(void *ctx, const condition *c), void *ctx) {
    for (size_t i = 0; i < e->len; i++)
        if (e->slots[i].live) fn(ctx, &e->slots[i].c);
}

size_t strategy_on_tick(strategy_engine *e, const char *symbol, price_t price, strategy_event_fn fn,
                        void *ctx) {
    size_t changed = 0;
    for (size_t i = 0; i < e->len; i++) {
        slot *s = &e->slots[i];
        if (!s->live || strcmp(s->c.symbol, symbol) != 0) continue;
        unsigned ev = condition_on_price(&s->c, price, e->assume_fills);
        if (!ev) continue;
        changed++;
        if (fn) fn(ctx, &s->c, ev, price);
        if (ev & (COND_EXIT_TP | COND_EXIT_SL)) {
            s->live = false;
            e->live--;
        }
    }
    return changed;
}

bool strategy_entry_filled(strategy_engine *e, int64_t id, int64_t filled_qty) {
    slot *s = find_slot(e, id);
    if (!s) return false;
    condition_entry_filled(&s->c, filled_qty);
    return true;
}

bool strategy_entry_rejected(strategy_engine *e, int64_t id) {
    slot *s = find_slot(e, id);
    if (!s) return false;
    condition_entry_rejected(&s->c);
    return true;
}
