/* str_copy (see str.h). */
#include "core/str.h"

#include <string.h>

bool str_copy(char *dst, size_t cap, const char *src) {
    if (!src) src = "";
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return src[n] == '\0';
}
