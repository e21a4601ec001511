/* A msgpack-c packer that writes into a caller's fixed buffer, for messages whose size is known
 * to be small (ticks, signals, the market feed): no allocation, and an overflow is reported
 * instead of written. */
#ifndef AFTM_WIRE_PACKER_H
#define AFTM_WIRE_PACKER_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *buf;
    size_t cap, len;
    bool overflow; /* a write did not fit: the message is incomplete */
} wire_fixed_buf;

/* Starts packing into buf (cap bytes) through pk. */
void wire_packer_init(msgpack_packer *pk, wire_fixed_buf *w, char *buf, size_t cap);

/* Bytes written, or 0 when something did not fit. */
size_t wire_packer_done(const wire_fixed_buf *w);

#endif
