/* The equity log: the original's `date,equity` CSV (rows `YYYY-MM-DD,<int>`), its dates, and
 * money as NT$. */
#ifndef AFTM_EQUITY_H
#define AFTM_EQUITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t day;   /* days since 1970-01-01 */
    double equity;
} equity_point;

typedef struct {
    equity_point *pts;
    size_t n, cap;
} equity_series;

/* Reads the CSV (header `date,equity`; CRLF, a BOM, blank lines and no final newline are fine).
 * Rows must be in date order. False with err (naming the line) on any bad row. An empty file or
 * a header alone gives an empty series (true). */
bool equity_read_csv(const char *path, equity_series *out, char *err, size_t errlen);
/* Writes it as the original does: header, rows `YYYY-MM-DD,<int>` (rounded), no final newline. */
bool equity_write_csv(const char *path, const equity_series *s, char *err, size_t errlen);
/* Appends a point; a point on the same day as the last one replaces it. False if out of memory
 * or the day goes backwards. */
bool equity_append(equity_series *s, int64_t day, double equity);
void equity_free(equity_series *s);

/* `YYYY-MM-DD` <-> days since the epoch. */
bool equity_parse_date(const char *s, size_t n, int64_t *day);
void equity_format_date(int64_t day, char out[11]);
/* Days since the epoch to y/m/d. */
void equity_civil(int64_t day, int *y, int *m, int *d);

/* "NT$175,532" / "-NT$1,234" (rounded to whole NT$). Figures of the log: report/figures.h. */
void equity_format_money(double v, char *out, size_t cap);

#endif
