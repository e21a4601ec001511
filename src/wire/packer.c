#include "wire/packer.h"

#include <string.h>

static int fixed_write(void *data, const char *src, size_t n) {
    wire_fixed_buf *w = data;
    if (w->len + n > w->cap) {
        w->overflow = true;
        return -1;
    }
    memcpy(w->buf + w->len, src, n);
    w->len += n;
    return 0;
}

void wire_packer_init(msgpack_packer *pk, wire_fixed_buf *w, char *buf, size_t cap) {
    *w = (wire_fixed_buf){buf, cap, 0, false};
    msgpack_packer_init(pk, w, fixed_write);
}

size_t wire_packer_done(const wire_fixed_buf *w) { return w->overflow ? 0 : w->len; }
