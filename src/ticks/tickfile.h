/* Reading tick files: the plain UTF-8 CSV (datetime,symbol,price,volume) and TAIFEX's daily
 * futures tick CSV as published (CP950, CRLF, night session crossing midnight), either as a
 * file or inside the zip archive TAIFEX serves (the archive's .csv member, read as a stream).
 * The format is detected from the header. Malformed rows are counted, reported with their
 * line number, and skipped; they never end the read. */
#ifndef AFTM_TICKFILE_H
#define AFTM_TICKFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TICK_SYMBOL_MAX 32

typedef struct {
    int64_t ts_us;                 /* POSIX microseconds (plain CSV times are UTC; TAIFEX's are Asia/Taipei) */
    char symbol[TICK_SYMBOL_MAX];  /* plain CSV: as written; TAIFEX: product code + expiry as in the file, e.g. TX202507, MTX202506W4 */
    double price;
    int64_t volume;
} tick_row;

typedef struct {
    const char *product; /* TAIFEX: product code filter, e.g. "TX"; NULL = every product.
                            Plain CSV: keep only rows whose symbol is product (+ expiry if set) */
    const char *expiry;  /* TAIFEX: e.g. "202507" or "202506W4"; NULL = the front month of each
                            product (its nearest regular monthly expiry in the file) */
} tick_filter;

typedef struct tick_reader tick_reader;

/* NULL with err filled when the file cannot be read or is not a tick file (e.g. an HTML page). */
tick_reader *tick_reader_open(const char *path, const tick_filter *filter, char *err, size_t errlen);
/* 1: a row in out; 0: end of file; -1: read error (err in tick_reader_error). */
int tick_reader_next(tick_reader *r, tick_row *out);
size_t tick_reader_bad_rows(const tick_reader *r);
const char *tick_reader_error(const tick_reader *r);
void tick_reader_close(tick_reader *r);
/* Share of the file read so far, 0..1 (0 when its size is unknown): for progress bars. */
double tick_reader_progress(const tick_reader *r);
/* TAIFEX without a product filter: how many products (with a monthly expiry) the file holds,
 * and whether one of them is code. 0 / false otherwise. */
size_t tick_reader_products(const tick_reader *r);
bool tick_reader_has_product(const tick_reader *r, const char *code);
/* The detected format: "plain" or "taifex". */
const char *tick_reader_format(const tick_reader *r);

#endif
