/* Risk limits from an INI file. Keys live in a [risk] section and are named like the
 * risk_limits fields; keys not given keep their defaults (risk_limits_default):
 *
 *   [risk]
 *   max_lots_per_order = 10          ; integers: 0 or negative switches the rule off
 *   max_position_per_product = 20
 *   max_open_orders = 50
 *   max_orders_per_second = 20       ; at most RISK_RATE_CAP
 *   daily_loss_limit = 100000        ; money
 *   trading_hours = on               ; on|off|true|false|yes|no|1|0
 *   day_session = 08:45-13:45        ; HH:MM-HH:MM local, or off
 *   night_session = 15:00-05:00      ; an end before the start means the next day
 *   trading_days = mon-fri           ; days a session may start: names and ranges, comma-separated
 *   price_band_points = 500
 *   stale_signal_ms = 5000
 *   refuse_duplicates = on
 *
 * Other sections are left to their owners, so the file can hold other settings too. */
#ifndef AFTM_RISK_CONFIG_H
#define AFTM_RISK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/risk.h"

/* Loads path into *out. path NULL gives the defaults. False, with a message naming the file,
 * line and key in err, when the file cannot be read, a key is unknown or repeated, or a value is
 * bad; *out is then untouched. */
bool risk_config_load(const char *path, risk_limits *out, char *err, size_t errlen);

/* The same from INI text in memory; messages name the line and key. */
bool risk_config_parse(const char *text, risk_limits *out, char *err, size_t errlen);

/* How many keys there are, and each one's name (NULL past the end). */
#define RISK_CONFIG_NKEYS 12
const char *risk_config_key_name(size_t i);
/* The index of key name, or -1 when there is no such key. */
int risk_config_key_index(const char *name);
/* Key i's value in lim, as a file would write it ("10", "on", "08:45-13:45", "mon,tue"). */
void risk_config_format(const risk_limits *lim, size_t i, char *out, size_t cap);

/* The layered forms: INI text (where names it in messages) or a file (NULL: nothing) applied
 * over *inout; given (RISK_CONFIG_NKEYS flags, may be NULL) says which keys it set. False with
 * err, *inout untouched, as above. */
bool risk_config_parse_over(const char *text, const char *where, risk_limits *inout, bool *given, char *err,
                            size_t errlen);
bool risk_config_load_over(const char *path, risk_limits *inout, bool *given, char *err, size_t errlen);

/* One key = value over *inout ('aftm risk set'): false with "key: why" in err (an unknown key
 * lists the keys), *inout untouched. */
bool risk_config_check(const char *key, const char *value, risk_limits *inout, char *err, size_t errlen);

#endif
