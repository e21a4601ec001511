/* Shared between tickfile.c (reader, detection, plain CSV) and tickfile_taifex.c.
 * Not part of the public API. */
#ifndef AFTM_TICKFILE_INTERNAL_H
#define AFTM_TICKFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zip.h>

#include "ticks/tickfile.h"

#define TF_BUF_SIZE (1u << 20)  /* read buffer; also the longest line accepted */
#define TF_MAX_FIELDS 16
#define TF_CODE_MAX 16          /* product code / expiry text, trimmed */
#define TF_REPORT_MAX 20        /* malformed rows reported one by one, then only counted */

typedef struct {
    const char *p;
    size_t n;
} tf_span;

typedef enum { TF_PLAIN = 1, TF_TAIFEX = 2 } tf_format;

/* Front month per product (TAIFEX, no expiry asked): a small open-addressing table. */
typedef struct {
    char product[TF_CODE_MAX];
    int32_t front; /* YYYYMM of the nearest regular monthly expiry seen; 0 = none */
} tf_front;

struct tick_reader {
    int fd;            /* a plain file; -1 when reading from a zip */
    zip_t *zip;        /* a TAIFEX Daily_*.zip: its CSV member is streamed (no temp file) */
    zip_file_t *zf;
    zip_uint64_t zip_index;
    char *path;
    char *buf;
    size_t pos, len;   /* unread bytes are buf[pos, len) */
    uint64_t bytes_read, file_size;
    bool eof;
    bool skipping;     /* inside an over-long line, dropping bytes up to its newline */
    size_t line_no;    /* 1-based number of the line last returned */
    size_t bad;
    size_t reported;
    bool summary_done;
    bool quiet;        /* pre-scan: do not count or report malformed rows */
    tf_format format;
    char err[256];

    /* column positions from the header */
    int col_dt, col_sym, col_price, col_vol;                 /* plain */
    int col_date, col_prod, col_exp, col_time;                /* TAIFEX (col_price/col_vol shared) */
    int min_fields;

    /* filter */
    char product[TF_CODE_MAX];
    char expiry[TF_CODE_MAX];
    char plain_symbol[TICK_SYMBOL_MAX];
    bool has_product, has_expiry;

    /* TAIFEX front months, used when has_expiry is false */
    tf_front *fronts;
    size_t fronts_cap; /* power of two */
    size_t fronts_used;

    /* TAIFEX night session: day number (from the date column) of the last selected row at or
     * after 15:00. A row before 08:45 carrying that same date belongs to the next day. */
    int64_t last_evening_day;

    /* TAIFEX, no product asked: how many products the pre-scan saw, and whether TX is one */
    size_t products_seen;
};

/* Line reader: 1 with the line (without CR/LF/\x1a at its end) in *line, 0 at the end, -1 on a
 * read error (r->err set). Over-long lines are counted as malformed and skipped. */
int tf_next_line(tick_reader *r, tf_span *line);
/* Back to the first byte of the file (reopens it if it cannot seek). */
bool tf_rewind(tick_reader *r);
/* Splits on commas; returns the field count (at most max; extra fields are folded into the last). */
size_t tf_split(tf_span line, tf_span *fields, size_t max);
tf_span tf_trim(tf_span s);
bool tf_span_eq(tf_span s, const char *z);
void tf_bad_row(tick_reader *r, const char *why);

/* Numbers and dates on spans (no allocation, no locale). */
bool tf_parse_i64(tf_span s, int64_t *out);
bool tf_parse_price(tf_span s, double *out);  /* decimal, > 0 */
int64_t tf_days_from_civil(int64_t y, unsigned m, unsigned d);
bool tf_valid_date(int64_t y, unsigned m, unsigned d);

/* TAIFEX parts (tickfile_taifex.c). */
bool tf_taifex_header(tick_reader *r, tf_span header);       /* recognises and maps the columns */
bool tf_taifex_prepare(tick_reader *r);                       /* resolves the front month(s) */
int tf_taifex_row(tick_reader *r, tf_span *f, size_t nf, tick_row *out); /* 1 row, 0 skip */

#endif
