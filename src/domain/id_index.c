#include "domain/id_index.h"

#include <stdlib.h>

static inline size_t hash_id(int64_t id) {
    uint64_t z = (uint64_t)id + 0x9e3779b97f4a7c15ull; /* splitmix64 finaliser */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (size_t)(z ^ (z >> 31));
}

void id_index_init(id_index *x) {
    x->keys = NULL;
    x->vals = NULL;
    x->cap = x->count = 0;
}

void id_index_free(id_index *x) {
    free(x->keys);
    free(x->vals);
    id_index_init(x);
}

void id_index_clear(id_index *x) {
    if (!x->count) return;
    for (size_t i = 0; i < x->cap; i++) x->vals[i] = ID_INDEX_NONE;
    x->count = 0;
}

static bool rehash(id_index *x, size_t cap) {
    int64_t *keys = malloc(cap * sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return false;
    }
    for (size_t i = 0; i < cap; i++) vals[i] = ID_INDEX_NONE;
    size_t mask = cap - 1;
    for (size_t i = 0; i < x->cap; i++) {
        if (x->vals[i] == ID_INDEX_NONE) continue;
        size_t j = hash_id(x->keys[i]) & mask;
        while (vals[j] != ID_INDEX_NONE) j = (j + 1) & mask;
        keys[j] = x->keys[i];
        vals[j] = x->vals[i];
    }
    free(x->keys);
    free(x->vals);
    x->keys = keys;
    x->vals = vals;
    x->cap = cap;
    return true;
}

bool id_index_reserve(id_index *x, size_t n) {
    if (2 * n <= x->cap) return true;
    size_t cap = x->cap ? x->cap : 16;
    while (cap < 2 * n) cap *= 2;
    return rehash(x, cap);
}

uint32_t id_index_get(const id_index *x, int64_t id) {
    if (!x->cap) return ID_INDEX_NONE;
    size_t mask = x->cap - 1;
    for (size_t j = hash_id(id) & mask;; j = (j + 1) & mask) {
        if (x->vals[j] == ID_INDEX_NONE) return ID_INDEX_NONE;
        if (x->keys[j] == id) return x->vals[j];
    }
}

bool id_index_put(id_index *x, int64_t id, uint32_t slot) {
    if (!id_index_reserve(x, x->count + 1)) return false;
    size_t mask = x->cap - 1;
    size_t j = hash_id(id) & mask;
    while (x->vals[j] != ID_INDEX_NONE) {
        if (x->keys[j] == id) {
            x->vals[j] = slot;
            return true;
        }
        j = (j + 1) & mask;
    }
    x->keys[j] = id;
    x->vals[j] = slot;
    x->count++;
    return true;
}

bool id_index_del(id_index *x, int64_t id) {
    if (!x->cap) return false;
    size_t mask = x->cap - 1;
    size_t i = hash_id(id) & mask;
    for (;; i = (i + 1) & mask) {
        if (x->vals[i] == ID_INDEX_NONE) return false;
        if (x->keys[i] == id) break;
    }
    /* backward shift: pull later members of the cluster into the hole when their home allows */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (x->vals[j] == ID_INDEX_NONE) break;
        size_t home = hash_id(x->keys[j]) & mask;
        /* the entry at j may move to i only if its home is not in (i, j] cyclically */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays) continue;
        x->keys[i] = x->keys[j];
        x->vals[i] = x->vals[j];
        i = j;
    }
    x->vals[i] = ID_INDEX_NONE;
    x->count--;
    return true;
}
