#include "domain/fillset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FILLSET_MIN_CAP 64

/* FNV-1a: short ids, no adversary worth a keyed hash. */
static uint64_t hash_id(const char *id) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static bool id_valid(const char *id) {
    if (!id || !id[0]) return false;
    return strnlen(id, FILLSET_ID_MAX) < FILLSET_ID_MAX;
}

/* The slot holding id, or the free slot where it would go. Needs at least one free slot. */
static size_t find_slot(char (*slots)[FILLSET_ID_MAX], size_t cap, const char *id) {
    size_t mask = cap - 1;
    size_t i = (size_t)hash_id(id) & mask;
    while (slots[i][0] && strcmp(slots[i], id) != 0) i = (i + 1) & mask;
    return i;
}

static bool grow(fillset *s) {
    size_t ncap = s->cap ? s->cap * 2 : FILLSET_MIN_CAP;
    if (ncap < s->cap) return false;
    char (*nslots)[FILLSET_ID_MAX] = calloc(ncap, sizeof *nslots);
    if (!nslots) return false;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i][0]) continue;
        size_t j = find_slot(nslots, ncap, s->slots[i]);
        memcpy(nslots[j], s->slots[i], FILLSET_ID_MAX);
    }
    free(s->slots);
    s->slots = nslots;
    s->cap = ncap;
    return true;
}

void fillset_init(fillset *s) {
    s->slots = NULL;
    s->cap = 0;
    s->count = 0;
}

void fillset_free(fillset *s) {
    free(s->slots);
    fillset_init(s);
}

fillset_result fillset_insert(fillset *s, const char *id) {
    if (!id_valid(id)) return FILLSET_INVALID;
    if (s->cap && fillset_contains(s, id)) return FILLSET_PRESENT;
    /* Keep the load at or below 3/4 so probes stay short and a free slot always exists. */
    if ((s->count + 1) * 4 > s->cap * 3 && !grow(s)) return FILLSET_NOMEM;
    size_t i = find_slot(s->slots, s->cap, id);
    strcpy(s->slots[i], id);
    s->count++;
    return FILLSET_ADDED;
}

bool fillset_add(fillset *s, const char *id) { return fillset_insert(s, id) == FILLSET_ADDED; }

bool fillset_contains(const fillset *s, const char *id) {
    if (!s->cap || !id_valid(id)) return false;
    size_t i = find_slot(s->slots, s->cap, id);
    return s->slots[i][0] != '\0';
}

size_t fillset_count(const fillset *s) { return s->count; }
