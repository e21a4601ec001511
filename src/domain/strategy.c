/* The strategy engine, indexed by price.
 *
 * A tick must only cost what it changes. Each live condition sits in its symbol's price index
 * (domain/price_index.h) by its idle band: the largest "lo" and the smallest "hi" are on top of
 * two indexed heaps, so a tick at price p finds the entries with lo >= p or hi <= p without
 * looking at any other, evaluates just those conditions (sorted by creation sequence, so events
 * come out in creation order, as the scan of every condition would give them) and moves their
 * bounds in place. Every condition not visited provably does nothing at p, by the definition
 * of the band. Cost per tick: O(symbol lookup + k log N) for k conditions visited, not O(N).
 *
 * Storage: slots in fixed-size blocks, so a condition never moves while it is live (pointers
 * handed to callbacks and returned by strategy_find stay valid until it is removed). Freed
 * slots are reused; creation order is kept by a doubly linked list and a sequence number.
 * Ids are found through a hash index, symbols are interned once per condition and once per
 * tick (one string compare per tick when the symbol repeats).
 *
 * Callbacks may call strategy_add, strategy_remove, strategy_entry_filled/rejected. Conditions
 * added from a callback are not evaluated before the next tick; a condition removed from a
 * callback is not evaluated afterwards in the same tick. */
#include "domain/strategy.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "domain/id_index.h"
#include "domain/price_index.h"

#define NONE UINT32_MAX
#define BLOCK_SHIFT 8
#define BLOCK_SIZE (1u << BLOCK_SHIFT)

typedef struct {
    condition c;
    uint64_t seq;   /* creation sequence, unique for the engine's lifetime */
    uint64_t visit; /* stamp of the last tick that visited it */
    uint32_t sym;
    uint32_t prev, next; /* creation order list; for a free slot, next is the free list */
    bool live;
} slot;

typedef struct {
    char name[CONDITION_SYMBOL_MAX];
    pheap lo, hi;
    size_t count; /* live conditions of this symbol */
} symbol_entry;

typedef struct {
    uint64_t seq;
    uint32_t idx;
} visit;

struct strategy_engine {
    bool assume_fills;
    /* slots */
    slot **blocks;
    size_t nblocks, blocks_cap;
    uint32_t nslots;     /* slots ever handed out */
    uint32_t free_head;  /* free list */
    uint32_t head, tail; /* creation order */
    size_t live;
    uint64_t next_seq;
    id_index ids;
    uint32_t *pos_lo, *pos_hi; /* per slot: node index in its symbol's heaps, or PHEAP_NONE */
    /* symbols */
    symbol_entry *syms;
    size_t nsyms, syms_cap;
    uint32_t *sym_table; /* open addressing: symbol index or NONE */
    size_t sym_table_cap;
    uint32_t last_sym;
    /* per tick */
    visit *vis;
    size_t vis_cap, nvis;
    uint64_t stamp;
};

static inline slot *slot_at(const strategy_engine *e, uint32_t i) { return &e->blocks[i >> BLOCK_SHIFT][i & (BLOCK_SIZE - 1)]; }

/* ---- symbols ---------------------------------------------------------------------------- */

static size_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static uint32_t sym_find(strategy_engine *e, const char *name) {
    if (e->last_sym != NONE && strcmp(e->syms[e->last_sym].name, name) == 0) return e->last_sym;
    if (!e->sym_table_cap) return NONE;
    size_t mask = e->sym_table_cap - 1;
    for (size_t j = hash_str(name) & mask;; j = (j + 1) & mask) {
        uint32_t s = e->sym_table[j];
        if (s == NONE) return NONE;
        if (strcmp(e->syms[s].name, name) == 0) return e->last_sym = s;
    }
}

static bool sym_table_grow(strategy_engine *e) {
    size_t cap = e->sym_table_cap ? e->sym_table_cap * 2 : 16;
    uint32_t *t = malloc(cap * sizeof *t);
    if (!t) return false;
    for (size_t i = 0; i < cap; i++) t[i] = NONE;
    for (size_t s = 0; s < e->nsyms; s++) {
        size_t j = hash_str(e->syms[s].name) & (cap - 1);
        while (t[j] != NONE) j = (j + 1) & (cap - 1);
        t[j] = (uint32_t)s;
    }
    free(e->sym_table);
    e->sym_table = t;
    e->sym_table_cap = cap;
    return true;
}

/* Finds or creates the symbol; NONE if memory ran out. name is shorter than CONDITION_SYMBOL_MAX. */
static uint32_t sym_intern(strategy_engine *e, const char *name) {
    uint32_t s = sym_find(e, name);
    if (s != NONE) return s;
    if (2 * (e->nsyms + 1) > e->sym_table_cap && !sym_table_grow(e)) return NONE;
    if (!buf_grow((void **)&e->syms, &e->syms_cap, e->nsyms + 1, sizeof *e->syms)) return NONE;
    symbol_entry *se = &e->syms[e->nsyms];
    memset(se, 0, sizeof *se);
    memcpy(se->name, name, strlen(name) + 1);
    pheap_init(&se->lo);
    pheap_init(&se->hi);
    size_t mask = e->sym_table_cap - 1, j = hash_str(name) & mask;
    while (e->sym_table[j] != NONE) j = (j + 1) & mask;
    e->sym_table[j] = (uint32_t)e->nsyms;
    return (uint32_t)e->nsyms++;
}

/* ---- price index upkeep ----------------------------------------------------------------- */

static void set_bound(pheap *h, uint32_t *pos, uint32_t idx, bool want, uint64_t key) {
    if (pos[idx] == PHEAP_NONE) {
        if (want) pheap_insert(h, pos, idx, key); /* room reserved by strategy_add */
    } else if (!want) {
        pheap_remove(h, pos, idx);
    } else if (pheap_key_of(h, pos, idx) != key) {
        pheap_update(h, pos, idx, key);
    }
}

/* Brings the slot's index entries in line with its condition's current idle band. */
static void reband(strategy_engine *e, uint32_t idx) {
    slot *s = slot_at(e, idx);
    symbol_entry *se = &e->syms[s->sym];
    price_t lo, hi;
    condition_idle_band(&s->c, &lo, &hi);
    set_bound(&se->lo, e->pos_lo, idx, lo != INT64_MIN, pkey_lo(lo));
    set_bound(&se->hi, e->pos_hi, idx, hi != INT64_MAX, pkey_hi(hi));
}

static void unindex(strategy_engine *e, uint32_t idx) {
    symbol_entry *se = &e->syms[slot_at(e, idx)->sym];
    set_bound(&se->lo, e->pos_lo, idx, false, 0);
    set_bound(&se->hi, e->pos_hi, idx, false, 0);
}

/* ---- slots ------------------------------------------------------------------------------ */

static uint32_t slot_alloc(strategy_engine *e) {
    if (e->free_head != NONE) {
        uint32_t i = e->free_head;
        e->free_head = slot_at(e, i)->next;
        return i;
    }
    if (e->nslots == NONE - 1) return NONE;
    if ((e->nslots >> BLOCK_SHIFT) == e->nblocks) {
        if (!buf_grow((void **)&e->blocks, &e->blocks_cap, e->nblocks + 1, sizeof *e->blocks)) return NONE;
        size_t n = (e->nblocks + 1) * BLOCK_SIZE;
        uint32_t *pl = realloc(e->pos_lo, n * sizeof *pl);
        if (!pl) return NONE;
        e->pos_lo = pl;
        uint32_t *ph = realloc(e->pos_hi, n * sizeof *ph);
        if (!ph) return NONE;
        e->pos_hi = ph;
        slot *blk = calloc(BLOCK_SIZE, sizeof *blk);
        if (!blk) return NONE;
        e->blocks[e->nblocks++] = blk;
    }
    e->pos_lo[e->nslots] = e->pos_hi[e->nslots] = PHEAP_NONE;
    return e->nslots++;
}

static void slot_release(strategy_engine *e, uint32_t idx) {
    slot *s = slot_at(e, idx);
    id_index_del(&e->ids, s->c.id);
    unindex(e, idx);
    if (s->prev != NONE) slot_at(e, s->prev)->next = s->next;
    else e->head = s->next;
    if (s->next != NONE) slot_at(e, s->next)->prev = s->prev;
    else e->tail = s->prev;
    symbol_entry *se = &e->syms[s->sym];
    se->count--;
    s->live = false;
    s->prev = NONE;
    s->next = e->free_head;
    e->free_head = idx;
    e->live--;
}

/* ---- API -------------------------------------------------------------------------------- */

strategy_engine *strategy_new(bool assume_fills) {
    strategy_engine *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->assume_fills = assume_fills;
    e->free_head = e->head = e->tail = e->last_sym = NONE;
    id_index_init(&e->ids);
    return e;
}

void strategy_free(strategy_engine *e) {
    if (!e) return;
    for (size_t i = 0; i < e->nblocks; i++) free(e->blocks[i]);
    free(e->blocks);
    for (size_t i = 0; i < e->nsyms; i++) {
        pheap_free(&e->syms[i].lo);
        pheap_free(&e->syms[i].hi);
    }
    free(e->syms);
    free(e->sym_table);
    free(e->vis);
    free(e->pos_lo);
    free(e->pos_hi);
    id_index_free(&e->ids);
    free(e);
}

static slot *find_slot(const strategy_engine *e, int64_t id) {
    uint32_t i = id_index_get(&e->ids, id);
    return i == ID_INDEX_NONE ? NULL : slot_at(e, i);
}

bool strategy_add(strategy_engine *e, const condition *c) {
    if (find_slot(e, c->id)) return false;
    char name[CONDITION_SYMBOL_MAX];
    memcpy(name, c->symbol, sizeof name);
    name[sizeof name - 1] = '\0';
    uint32_t si = sym_intern(e, name);
    if (si == NONE) return false;
    symbol_entry *se = &e->syms[si];
    /* room for one node per condition in each heap, so a tick never allocates */
    size_t need = se->count + 1;
    if (!pheap_reserve(&se->lo, need) || !pheap_reserve(&se->hi, need)) return false;
    if (!id_index_reserve(&e->ids, e->live + 1)) return false;
    if (e->vis_cap < e->live + 1) {
        size_t cap = e->vis_cap ? e->vis_cap : 64;
        while (cap < e->live + 1) cap *= 2;
        visit *v = realloc(e->vis, cap * sizeof *v);
        if (!v) return false;
        e->vis = v;
        e->vis_cap = cap;
    }
    uint32_t idx = slot_alloc(e);
    if (idx == NONE) return false;
    id_index_put(&e->ids, c->id, idx); /* cannot fail: reserved above */
    slot *s = slot_at(e, idx);
    s->c = *c;
    memcpy(s->c.symbol, name, sizeof name);
    s->seq = ++e->next_seq;
    s->visit = 0;
    s->sym = si;
    s->live = true;
    s->next = NONE;
    s->prev = e->tail;
    if (e->tail != NONE) slot_at(e, e->tail)->next = idx;
    else e->head = idx;
    e->tail = idx;
    se->count++;
    e->live++;
    reband(e, idx);
    return true;
}

bool strategy_remove(strategy_engine *e, int64_t id) {
    uint32_t i = id_index_get(&e->ids, id);
    if (i == ID_INDEX_NONE) return false;
    slot_release(e, i);
    return true;
}

const condition *strategy_find(const strategy_engine *e, int64_t id) {
    slot *s = find_slot(e, id);
    return s ? &s->c : NULL;
}

size_t strategy_count(const strategy_engine *e) { return e->live; }

void strategy_foreach(const strategy_engine *e, void (*fn)(void *ctx, const condition *c), void *ctx) {
    for (uint32_t i = e->head; i != NONE; i = slot_at(e, i)->next) fn(ctx, &slot_at(e, i)->c);
}

static void sort_visits(visit *v, size_t n) {
    for (size_t i = 1; i < n; i++) { /* n is small: only the conditions a tick crosses */
        visit x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1].seq > x.seq; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

static int cmp_visit(const void *a, const void *b) {
    uint64_t x = ((const visit *)a)->seq, y = ((const visit *)b)->seq;
    return (x > y) - (x < y);
}

/* Collects a crossed condition once per tick (it may be crossed in both heaps). */
static void on_crossed(void *ctx, uint32_t idx) {
    strategy_engine *e = ctx;
    slot *s = slot_at(e, idx);
    if (s->visit == e->stamp) return;
    s->visit = e->stamp;
    e->vis[e->nvis++] = (visit){s->seq, idx}; /* vis_cap >= live, reserved by strategy_add */
}

size_t strategy_on_tick(strategy_engine *e, const char *symbol, price_t price, strategy_event_fn fn,
                        void *ctx) {
    uint32_t si = symbol ? sym_find(e, symbol) : NONE;
    if (si == NONE) return 0;
    symbol_entry *se = &e->syms[si];
    uint64_t klo = pkey_lo(price), khi = pkey_hi(price);
    bool lo_hit = se->lo.len && se->lo.v[0].key <= klo, hi_hit = se->hi.len && se->hi.v[0].key <= khi;
    if (!lo_hit && !hi_hit) return 0; /* the common case: nothing is near enough to change */
    e->stamp++;
    e->nvis = 0;
    if (lo_hit) pheap_each_at_most(&se->lo, klo, on_crossed, e);
    if (hi_hit) pheap_each_at_most(&se->hi, khi, on_crossed, e);
    size_t nvis = e->nvis;
    if (nvis <= 32) sort_visits(e->vis, nvis);
    else qsort(e->vis, nvis, sizeof *e->vis, cmp_visit);

    /* e->vis is indexed afresh each time: a callback's strategy_add may reallocate it (the
     * contents are kept). Its own ticks are not reentrant. */
    size_t changed = 0;
    for (size_t k = 0; k < nvis; k++) {
        uint32_t idx = e->vis[k].idx;
        uint64_t seq = e->vis[k].seq;
        slot *s = slot_at(e, idx);
        if (!s->live || s->seq != seq) continue; /* removed by an earlier callback */
        unsigned ev = condition_on_price(&s->c, price, e->assume_fills);
        if (!ev) continue; /* unchanged: its band and index entries are still right */
        changed++;
        if (fn) fn(ctx, &s->c, ev, price);
        if (!s->live || s->seq != seq) continue; /* the callback removed it */
        if (ev & (COND_EXIT_TP | COND_EXIT_SL)) slot_release(e, idx);
        else reband(e, idx);
    }
    return changed;
}

bool strategy_entry_filled(strategy_engine *e, int64_t id, int64_t filled_qty) {
    uint32_t i = id_index_get(&e->ids, id);
    if (i == ID_INDEX_NONE) return false;
    condition_entry_filled(&slot_at(e, i)->c, filled_qty);
    reband(e, i);
    return true;
}

unsigned strategy_entry_filled_at(strategy_engine *e, int64_t id, int64_t filled_qty, price_t price,
                                  strategy_event_fn fn, void *ctx) {
    uint32_t i = id_index_get(&e->ids, id);
    if (i == ID_INDEX_NONE) return 0;
    slot *s = slot_at(e, i);
    uint64_t seq = s->seq;
    condition_entry_filled(&s->c, filled_qty);
    unsigned ev = s->c.entry == ENTRY_FILLED ? condition_on_price(&s->c, price, e->assume_fills) : 0;
    if (ev && fn) fn(ctx, &s->c, ev, price);
    if (!s->live || s->seq != seq) return ev; /* the callback removed it */
    if (ev & (COND_EXIT_TP | COND_EXIT_SL)) slot_release(e, i);
    else reband(e, i);
    return ev;
}

bool strategy_entry_rejected(strategy_engine *e, int64_t id) {
    uint32_t i = id_index_get(&e->ids, id);
    if (i == ID_INDEX_NONE) return false;
    condition_entry_rejected(&slot_at(e, i)->c);
    reband(e, i);
    return true;
}
