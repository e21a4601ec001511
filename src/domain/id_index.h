/* Hash index from a condition id (int64) to a slot number (uint32).
 * Open addressing, linear probing, deletion by backward shift (no tombstones), load <= 1/2.
 * Pure data structure: no I/O. */
#ifndef AFTM_ID_INDEX_H
#define AFTM_ID_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_INDEX_NONE UINT32_MAX

typedef struct {
    int64_t *keys;
    uint32_t *vals; /* ID_INDEX_NONE marks a free bucket */
    size_t cap;     /* power of two, or 0 before the first insert */
    size_t count;
} id_index;

void id_index_init(id_index *x);
void id_index_free(id_index *x);
/* Forgets every entry and keeps the room (for an index refilled over and over). */
void id_index_clear(id_index *x);
/* Makes room for n entries without rehashing later; false if memory ran out. */
bool id_index_reserve(id_index *x, size_t n);
/* The slot stored for id, or ID_INDEX_NONE. */
uint32_t id_index_get(const id_index *x, int64_t id);
/* Inserts or replaces; false if memory ran out. */
bool id_index_put(id_index *x, int64_t id, uint32_t slot);
/* Removes id; false if it was not there. */
bool id_index_del(id_index *x, int64_t id);

#endif
