/* Price index for the strategy engine: indexed binary heaps.
 *
 * Every live condition has an idle band (lo, hi) (see condition_idle_band): it can only change
 * on a tick whose price is <= lo or >= hi. Per symbol the engine keeps a heap of the lo bounds
 * with the largest on top and a heap of the hi bounds with the smallest on top. The entries a
 * tick at price p crosses (lo >= p, hi <= p) form a subtree that contains the root, so they are
 * enumerated in O(k) for k crossed, without touching the rest. Each heap records where every
 * owner's node sits (pos[owner]), so a changed bound is moved in place in O(log N) and nothing
 * stale is ever left behind.
 *
 * Keys are stored as order-preserving unsigned integers so both heaps are min-heaps of the
 * same kind: hi heap key = u(hi), lo heap key = ~u(lo), with u(x) = x with its sign bit flipped.
 * Pure data structure: no I/O. */
#ifndef AFTM_PRICE_INDEX_H
#define AFTM_PRICE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHEAP_NONE UINT32_MAX

typedef struct {
    uint64_t key;   /* ordered key, see above */
    uint32_t owner; /* the owner's number, an index into pos[] */
} pheap_node;

typedef struct {
    pheap_node *v;
    size_t len, cap;
} pheap;

static inline uint64_t pkey_hi(int64_t hi) { return (uint64_t)hi ^ ((uint64_t)1 << 63); }
static inline uint64_t pkey_lo(int64_t lo) { return ~((uint64_t)lo ^ ((uint64_t)1 << 63)); }

void pheap_init(pheap *h);
void pheap_free(pheap *h);
/* Makes room for at least n nodes; false if memory ran out. */
bool pheap_reserve(pheap *h, size_t n);

/* pos[owner] is the owner's node index in h, or PHEAP_NONE; the heap keeps it up to date for
 * every node it moves. Each owner has at most one node per heap. */
/* Adds owner's node; false (nothing changed) if there is no room left. */
bool pheap_insert(pheap *h, uint32_t *pos, uint32_t owner, uint64_t key);
/* Changes owner's key in place. */
void pheap_update(pheap *h, uint32_t *pos, uint32_t owner, uint64_t key);
/* Removes owner's node (it must be in h). */
void pheap_remove(pheap *h, uint32_t *pos, uint32_t owner);
static inline uint64_t pheap_key_of(const pheap *h, const uint32_t *pos, uint32_t owner) { return h->v[pos[owner]].key; }

/* Calls visit(ctx, owner) for every node with key <= limit (any order). */
void pheap_each_at_most(const pheap *h, uint64_t limit, void (*visit)(void *ctx, uint32_t owner), void *ctx);

/* For tests: true when every parent <= its children and pos[] matches. */
bool pheap_check(const pheap *h, const uint32_t *pos);

#endif
