/* The account's risk limits as stored in aftm.db ('aftm risk set KEY VALUE', 'aftm risk import
 * FILE'): one row a key, its value as the user wrote it (checked before it is stored). Read back
 * as the INI text of a [risk] section, so the one parser of risk files (app/executor/
 * risk_config.h) reads both. Keys not stored keep their defaults.
 *
 * Not here: what a key means or which values are good (risk_config). */
#ifndef AFTM_RISK_STORE_H
#define AFTM_RISK_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* Stores key = value; false on a database error. */
bool rstore_set(sqlite3 *db, const char *key, const char *value);
/* Replaces every stored key with the n given ones, in one transaction; false (nothing changed)
 * on a database error. */
bool rstore_replace(sqlite3 *db, const char *const *keys, const char *const *values, size_t n);
/* "[risk]\nkey = value\n..." of the stored keys into out; the count of keys, or -1 when the
 * database failed or the text does not fit. */
int rstore_ini(sqlite3 *db, char *out, size_t cap);

#endif
