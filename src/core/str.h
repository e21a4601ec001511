/* Bounded string copies into fixed-size fields (the broker structs, configs, ids).
 * Not a string type: plain NUL-terminated char arrays. */
#ifndef AFTM_STR_H
#define AFTM_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Copies src (NULL counts as "") into dst of cap bytes (cap > 0), always NUL-terminated,
 * cut to cap - 1 bytes when longer. Returns true when the whole of src fitted. */
bool str_copy(char *dst, size_t cap, const char *src);

#endif
