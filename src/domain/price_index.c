#include "domain/price_index.h"

#include <stdlib.h>

void pheap_init(pheap *h) {
    h->v = NULL;
    h->len = h->cap = 0;
}

void pheap_free(pheap *h) {
    free(h->v);
    pheap_init(h);
}

bool pheap_reserve(pheap *h, size_t n) {
    if (n <= h->cap) return true;
    size_t cap = h->cap ? h->cap : 16;
    while (cap < n) cap *= 2;
    pheap_node *v = realloc(h->v, cap * sizeof *v);
    if (!v) return false;
    h->v = v;
    h->cap = cap;
    return true;
}

static void sift_up(pheap *h, uint32_t *pos, size_t i) {
    pheap_node x = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->v[p].key <= x.key) break;
        h->v[i] = h->v[p];
        pos[h->v[i].owner] = (uint32_t)i;
        i = p;
    }
    h->v[i] = x;
    pos[x.owner] = (uint32_t)i;
}

static void sift_down(pheap *h, uint32_t *pos, size_t i) {
    pheap_node x = h->v[i];
    size_t n = h->len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h->v[c + 1].key < h->v[c].key) c++;
        if (h->v[c].key >= x.key) break;
        h->v[i] = h->v[c];
        pos[h->v[i].owner] = (uint32_t)i;
        i = c;
    }
    h->v[i] = x;
    pos[x.owner] = (uint32_t)i;
}

bool pheap_insert(pheap *h, uint32_t *pos, uint32_t owner, uint64_t key) {
    if (h->len == h->cap) return false;
    size_t i = h->len++;
    h->v[i] = (pheap_node){key, owner};
    sift_up(h, pos, i);
    return true;
}

void pheap_update(pheap *h, uint32_t *pos, uint32_t owner, uint64_t key) {
    size_t i = pos[owner];
    uint64_t old = h->v[i].key;
    h->v[i].key = key;
    if (key < old) sift_up(h, pos, i);
    else if (key > old) sift_down(h, pos, i);
}

void pheap_remove(pheap *h, uint32_t *pos, uint32_t owner) {
    size_t i = pos[owner];
    pos[owner] = PHEAP_NONE;
    size_t last = --h->len;
    if (i == last) return;
    uint64_t old = h->v[i].key;
    h->v[i] = h->v[last];
    pos[h->v[i].owner] = (uint32_t)i;
    if (h->v[i].key < old) sift_up(h, pos, i);
    else sift_down(h, pos, i);
}

/* The nodes with key <= limit form a subtree containing the root (a parent is never larger
 * than its children), so the walk stops at the first node above the limit on every path. */
static void walk(const pheap *h, size_t i, uint64_t limit, void (*visit)(void *ctx, uint32_t owner), void *ctx) {
    while (i < h->len && h->v[i].key <= limit) {
        visit(ctx, h->v[i].owner);
        walk(h, 2 * i + 1, limit, visit, ctx);
        i = 2 * i + 2; /* the right child, iteratively */
    }
}

void pheap_each_at_most(const pheap *h, uint64_t limit, void (*visit)(void *ctx, uint32_t owner), void *ctx) {
    walk(h, 0, limit, visit, ctx);
}

bool pheap_check(const pheap *h, const uint32_t *pos) {
    for (size_t i = 0; i < h->len; i++) {
        if (pos[h->v[i].owner] != i) return false;
        if (i > 0 && h->v[(i - 1) / 2].key > h->v[i].key) return false;
    }
    return true;
}
