/* Reports collected and sent together, and walked one by one (see report_batch.h). */
#include "net/report_batch.h"

#include <stdlib.h>
#include <string.h>

#include "net/zsock.h"
#include "wire/mpmap.h"
#include "wire/sizecheck.h"

void report_batch_init(report_batch *b) { memset(b, 0, sizeof *b); }

void report_batch_free(report_batch *b) {
    free(b->buf);
    memset(b, 0, sizeof *b);
}

bool report_batch_flush(report_batch *b, void *pub) {
    if (!b->count) return true;
    bool ok = zsock_send_topic(pub, REPORT_TOPIC, b->buf, b->len);
    if (ok) b->sent += b->count;
    b->len = b->count = 0;
    return ok;
}

bool report_batch_add(report_batch *b, void *pub, const void *report, size_t len) {
    if (b->count && b->len + len > REPORT_BATCH_MAX && !report_batch_flush(b, pub)) return false;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len) cap *= 2;
        char *buf = realloc(b->buf, cap);
        if (!buf) return false;
        b->buf = buf;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, report, len);
    b->len += len;
    b->count++;
    return true;
}

size_t report_batch_each(const char *body, size_t len, void (*each)(void *ctx, const char *report, size_t len),
                         void *ctx, bool *bad) {
    *bad = false;
    if (!mp_is_map(body, len)) {
        each(ctx, body, len);
        return 1;
    }
    size_t n = 0, off = 0;
    while (off < len) {
        size_t used = 0;
        if (wire_check_first(body + off, len - off, &used) != MSGPACK_UNPACK_SUCCESS || used == 0) {
            *bad = true;
            break;
        }
        each(ctx, body + off, used);
        off += used;
        n++;
    }
    return n;
}
