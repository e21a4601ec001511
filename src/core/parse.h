/* Strict parsing of user-supplied numbers: the whole string must be a number in range. */
#ifndef AFTM_PARSE_H
#define AFTM_PARSE_H

#include <stdbool.h>
#include <stdint.h>

bool parse_int64(const char *s, int64_t *out);                 /* optional sign, decimal digits */
bool parse_int_range(const char *s, int64_t lo, int64_t hi, int64_t *out);
bool parse_double(const char *s, double *out);                 /* finite values only */

/* A product code: 1-31 ASCII letters and digits. */
bool symbol_valid(const char *s);

#endif
