/* The guard every msgpack message from outside passes before msgpack-c reads it. msgpack-c
 * allocates a container's declared size up front, so a corrupted or hostile header claiming
 * 2^32 entries would exhaust memory (or, under AddressSanitizer, end the process). This pass
 * checks every declared size against the bytes that remain (each entry needs at least one
 * byte) without allocating anything. Not a decoder: what passes still goes to msgpack-c. */
#ifndef AFTM_WIRE_SIZECHECK_H
#define AFTM_WIRE_SIZECHECK_H

#include <msgpack.h>
#include <stddef.h>

/* MSGPACK_UNPACK_SUCCESS when every declared size fits in len bytes, _CONTINUE when the
 * message is cut short (or claims more than it holds), _PARSE_ERROR for a byte that starts no
 * msgpack value. */
msgpack_unpack_return wire_check_sizes(const void *data, size_t len);

/* The same check of the first value in data; on success *used is that value's length in bytes,
 * where the next value of a stream (values one after another) starts. */
msgpack_unpack_return wire_check_first(const void *data, size_t len, size_t *used);

#endif
