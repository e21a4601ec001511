#include "app/strategy/state_fold.h"

#include <stdlib.h>
#include <string.h>

bool state_change_folds(const state_change *earlier, const state_change *later) {
    const condition *a = &earlier->c, *b = &later->c;
    return a->id == b->id && a->round == b->round && a->entry == b->entry && a->filled_qty == b->filled_qty &&
           !a->is_exited;
}

void state_fold_into(state_change *earlier, const state_change *later) {
    bool keep_note = !later->has_note && earlier->has_note;
    char note[sizeof earlier->note];
    if (keep_note) memcpy(note, earlier->note, sizeof note);
    *earlier = *later;
    if (keep_note) {
        memcpy(earlier->note, note, sizeof note);
        earlier->has_note = true;
    }
}

static size_t slot_of(const state_fold_index *ix, int64_t id) {
    size_t mask = ix->cap - 1, i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 17) & mask;
    while (ix->ids[i] && ix->ids[i] != id) i = (i + 1) & mask;
    return i;
}

long state_fold_find(const state_fold_index *ix, int64_t id) {
    if (!ix->cap || id <= 0) return -1;
    size_t i = slot_of(ix, id);
    return ix->ids[i] == id ? (long)ix->pos[i] : -1;
}

/* Doubles the table (a power of two, at most half full) and puts the entries back. */
static bool grow(state_fold_index *ix) {
    size_t cap = ix->cap ? ix->cap * 2 : 64;
    state_fold_index big = {calloc(cap, sizeof *big.ids), malloc(cap * sizeof *big.pos), cap, 0};
    if (!big.ids || !big.pos) {
        free(big.ids);
        free(big.pos);
        return false;
    }
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->ids[i]) {
            size_t j = slot_of(&big, ix->ids[i]);
            big.ids[j] = ix->ids[i];
            big.pos[j] = ix->pos[i];
            big.n++;
        }
    state_fold_free(ix);
    *ix = big;
    return true;
}

bool state_fold_set(state_fold_index *ix, int64_t id, size_t pos) {
    if (id <= 0) return true; /* never folded: not in the database */
    if (2 * (ix->n + 1) > ix->cap && !grow(ix)) {
        state_fold_reset(ix);
        return false;
    }
    size_t i = slot_of(ix, id);
    if (!ix->ids[i]) ix->n++;
    ix->ids[i] = id;
    ix->pos[i] = pos;
    return true;
}

void state_fold_reset(state_fold_index *ix) {
    if (ix->n) memset(ix->ids, 0, ix->cap * sizeof *ix->ids);
    ix->n = 0;
}

void state_fold_free(state_fold_index *ix) {
    free(ix->ids);
    free(ix->pos);
    memset(ix, 0, sizeof *ix);
}
