/* buf_grow (see buf.h). */
#include "core/buf.h"

#include <stdint.h>
#include <stdlib.h>

bool buf_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    if (elem == 0) return false;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2) return false;
        c *= 2;
    }
    if (c > SIZE_MAX / elem) return false;
    void *q = realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}
