/* The declared sizes of a msgpack message checked against its bytes (see sizecheck.h). */
#include "wire/sizecheck.h"

#include <stdint.h>

msgpack_unpack_return wire_check_first(const void *data, size_t len, size_t *used) {
    const unsigned char *p = data;
    size_t pos = 0;
    uint64_t pending = 1;
    while (pending > 0) {
        if (pos >= len) return MSGPACK_UNPACK_CONTINUE;
        unsigned b = p[pos++];
        pending--;
        uint64_t items = 0, skip = 0;
        size_t width = 0; /* bytes of a length field that follows */
        int kind = 0;     /* 0 scalar/payload, 1 array, 2 map */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        } else if (b >= 0x80 && b <= 0x8f) { items = b & 0x0f; kind = 2; }
        else if (b >= 0x90 && b <= 0x9f) { items = b & 0x0f; kind = 1; }
        else if (b >= 0xa0 && b <= 0xbf) { skip = b & 0x1f; }
        else switch (b) {
            case 0xc1: return MSGPACK_UNPACK_PARSE_ERROR;
            case 0xc4: case 0xd9: width = 1; break;
            case 0xc5: case 0xda: width = 2; break;
            case 0xc6: case 0xdb: width = 4; break;
            case 0xc7: width = 1; skip = 1; break;
            case 0xc8: width = 2; skip = 1; break;
            case 0xc9: width = 4; skip = 1; break;
            case 0xca: skip = 4; break;
            case 0xcb: skip = 8; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: width = 2; kind = 1; break;
            case 0xdd: width = 4; kind = 1; break;
            case 0xde: width = 2; kind = 2; break;
            case 0xdf: width = 4; kind = 2; break;
            default: return MSGPACK_UNPACK_PARSE_ERROR;
            }
        if (width) {
            if (len - pos < width) return MSGPACK_UNPACK_CONTINUE;
            uint64_t n = 0;
            for (size_t i = 0; i < width; i++) n = (n << 8) | p[pos + i];
            pos += width;
            if (kind) items = n;
            else skip += n;
        }
        if (kind == 2) items *= 2;
        pending += items;
        if (skip > len - pos) return MSGPACK_UNPACK_CONTINUE;
        pos += skip;
        if (pending > len - pos) return MSGPACK_UNPACK_CONTINUE;
    }
    if (used) *used = pos;
    return MSGPACK_UNPACK_SUCCESS;
}

msgpack_unpack_return wire_check_sizes(const void *data, size_t len) { return wire_check_first(data, len, NULL); }
