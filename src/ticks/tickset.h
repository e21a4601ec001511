/* Several tick files read as one stream: the --ticks arguments of a backtest, each a file (CSV
 * or TAIFEX's Daily_*.zip) or a directory of them (its *.csv and *.zip files). Every file is
 * opened and checked before the first row is returned, so a bad file is an error before any
 * work is done; then the files are replayed one after another, in the order of their first
 * tick (TAIFEX's daily files do not overlap: each holds the night session before its day and
 * the day itself). A row earlier than the last row of the previous file is skipped and counted
 * (tick_set_out_of_order); files are never interleaved.
 *
 * Not a merge of overlapping files, and not a reader of its own: rows come from tickfile.h. */
#ifndef AFTM_TICKSET_H
#define AFTM_TICKSET_H

#include <stdbool.h>
#include <stddef.h>

#include "ticks/tickfile.h"

#define TICK_SET_MAX_FILES 4096

typedef struct tick_set tick_set;

/* NULL with err when a path cannot be read, a directory holds no tick file, a file is not a
 * tick file, or the files mix the plain and the TAIFEX format. */
tick_set *tick_set_open(const char *const *paths, size_t npaths, const tick_filter *filter, char *err,
                        size_t errlen);
/* 1: a row; 0: the end of the last file; -1: a read error (tick_set_error). */
int tick_set_next(tick_set *s, tick_row *out);
size_t tick_set_file_count(const tick_set *s);
const char *tick_set_file(const tick_set *s, size_t i); /* in replay order */
const char *tick_set_format(const tick_set *s);          /* "plain" or "taifex" */
size_t tick_set_bad_rows(const tick_set *s);             /* malformed rows, all files */
size_t tick_set_out_of_order(const tick_set *s);
const char *tick_set_error(const tick_set *s);
double tick_set_progress(const tick_set *s);             /* 0..1 over the files */
/* TAIFEX without a product filter: the products of the first file (tick_reader_products), and
 * whether TX, the usual default, is one of them. */
size_t tick_set_products(const tick_set *s);
bool tick_set_has_tx(const tick_set *s);
void tick_set_close(tick_set *s);

#endif
