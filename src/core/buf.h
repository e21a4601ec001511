/* Growing a heap array: the one doubling-realloc helper every module uses for its lists.
 * Not a container type: the caller keeps the pointer, the count and the capacity. */
#ifndef AFTM_BUF_H
#define AFTM_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Makes *p (an array of elem-byte items with room for *cap) hold at least need items,
 * doubling from 8. On failure (out of memory, or a size that would overflow) *p and *cap are
 * left as they were and false is returned, so the caller loses nothing it had. */
bool buf_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
