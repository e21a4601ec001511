/* The original's conditions.json (BEHAVIOUR §7.1), read as is: a JSON array of objects with
 * condition_id (UUID), action ("BUY"/"SELL", the enum NAME), trigger_price, quantity,
 * turning_point, take_profit_point, stop_loss_point, is_following and the derived prices and
 * state flags. As in the original, only the init fields are used: the derived prices are
 * recomputed from the (possibly trailed) trigger_price and the state flags start cleared.
 *
 * aftm reads two extra, optional keys: "symbol", the product the condition trades (without it a
 * condition takes the default symbol given by the caller, the backtest's symbol), and
 * "repeat": true, the condition is armed again after each exit (aftm run --rearm's meaning).
 *
 * Differences from the original's loader, which silently gives an empty store: a missing or
 * unparsable file is an error here (with the JSON error's line and column); bad records are
 * skipped as in the original, but each one is reported on stderr with its index and reason.
 * Missing optional keys take the original's defaults: quantity 1, turning_point 15,
 * take_profit_point 90, stop_loss_point 30, is_following false. */
#ifndef AFTM_CONDITIONS_FILE_H
#define AFTM_CONDITIONS_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/condition.h"

#define CONDITION_UUID_MAX 40

typedef struct {
    condition *items;                   /* ids 1..n in file order (creation order) */
    char (*uuids)[CONDITION_UUID_MAX];  /* the file's condition_id of each item */
    bool *repeat;                       /* the optional "repeat": true of each item */
    size_t n;
    size_t skipped;                     /* bad records */
} condition_set;

/* False with err when the file cannot be read or is not a JSON array. */
bool conditions_file_load(const char *path, const char *default_symbol, condition_set *out, char *err,
                          size_t errlen);
/* Same, from JSON text (for tests). */
bool conditions_json_parse(const char *text, const char *default_symbol, condition_set *out, char *err,
                           size_t errlen);
/* false (with err naming the first one) when a condition's numbers are out of the ranges a
 * stored condition must keep (condition_check_ranges): such a file is refused whole, in a
 * backtest as at import. Conditions with quantity 0 (skipped, as the original skips them) pass. */
bool condition_set_check_ranges(const condition_set *cs, const char *origin, char *err, size_t errlen);

void condition_set_free(condition_set *s);
/* Appends a copy of c with the next id (n + 1) and the given uuid (may be NULL or empty: then
 * "#<c's id>"). For sets built by hand (aftm backtest --from-db); s starts zeroed. False if
 * out of memory. */
bool condition_set_push(condition_set *s, const condition *c, const char *uuid);

/* The original's UUID(): 32 hex digits, hyphens anywhere, optional braces or urn:uuid: prefix. */
bool conditions_valid_uuid(const char *s);

#endif
