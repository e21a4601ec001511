/* The equity log: the original's `date,equity` CSV (rows `YYYY-MM-DD,<int>`) and the figures
 * its chart script prints (return %, max drawdown %). */
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

typedef struct {
    size_t rows;
    double initial, final, peak, trough;
    size_t peak_index;     /* first row at the peak */
    double return_pct;     /* (final - initial) / initial * 100; 0 when initial <= 0 */
    double max_dd_pct;     /* min over rows of (equity - running max) / running max * 100; <= 0 */
    int64_t first_day, last_day;
} equity_stats;

/* False for an empty series. A single row gives return 0 and drawdown 0 (the original crashes). */
bool equity_compute_stats(const equity_series *s, equity_stats *st);

/* "$175,532" / "-$1,234" (rounded to whole dollars). */
void equity_format_money(double v, char *out, size_t cap);

#endif
