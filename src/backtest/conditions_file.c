#include "backtest/conditions_file.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool conditions_valid_uuid(const char *s) {
    if (!s) return false;
    if (!strncmp(s, "urn:uuid:", 9)) s += 9;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') s++, n -= 2;
    size_t hex = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-') continue;
        if (!isxdigit((unsigned char)s[i])) return false;
        hex++;
    }
    return hex == 32;
}

/* An integer field: absent -> fallback; an integer or an integral real -> its value; else false. */
static bool int_field(json_t *o, const char *key, int64_t fallback, bool required, int64_t *out, char *why,
                      size_t whylen) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required) {
            snprintf(why, whylen, "%s is required", key);
            return false;
        }
        *out = fallback;
        return true;
    }
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && fabs(d) < 9e15) {
            *out = (int64_t)d;
            return true;
        }
    }
    snprintf(why, whylen, "%s must be an integer", key);
    return false;
}

static bool parse_one(json_t *o, const char *default_symbol, int64_t id, condition *c, char *uuid, bool *repeat,
                      char *why, size_t whylen) {
    if (!json_is_object(o)) {
        snprintf(why, whylen, "not an object");
        return false;
    }
    const char *cid = json_string_value(json_object_get(o, "condition_id"));
    if (!cid) {
        snprintf(why, whylen, "Condition ID is required");
        return false;
    }
    if (!conditions_valid_uuid(cid) || strlen(cid) >= CONDITION_UUID_MAX) {
        snprintf(why, whylen, "condition_id '%.40s' is not a UUID", cid);
        return false;
    }
    json_t *act = json_object_get(o, "action");
    if (!act || json_is_null(act)) {
        snprintf(why, whylen, "Action is required");
        return false;
    }
    const char *a = json_string_value(act);
    if (!a || (strcmp(a, "BUY") && strcmp(a, "SELL"))) {
        snprintf(why, whylen, "Action is not valid (want \"BUY\" or \"SELL\")");
        return false;
    }
    int64_t trigger, qty, turning, tp, sl;
    if (!int_field(o, "trigger_price", 0, true, &trigger, why, whylen) ||
        !int_field(o, "quantity", 1, false, &qty, why, whylen) ||
        !int_field(o, "turning_point", DEFAULT_TURNING_POINT, false, &turning, why, whylen) ||
        !int_field(o, "take_profit_point", DEFAULT_TAKE_PROFIT_POINT, false, &tp, why, whylen) ||
        !int_field(o, "stop_loss_point", DEFAULT_STOP_LOSS_POINT, false, &sl, why, whylen))
        return false;
    if (trigger <= 0) {
        snprintf(why, whylen, "trigger_price must be > 0");
        return false;
    }
    if (qty <= 0) {
        snprintf(why, whylen, "quantity must be > 0");
        return false;
    }
    json_t *fol = json_object_get(o, "is_following");
    if (fol && !json_is_boolean(fol) && !json_is_null(fol)) {
        snprintf(why, whylen, "is_following must be true or false");
        return false;
    }
    json_t *rep = json_object_get(o, "repeat");
    if (rep && !json_is_boolean(rep) && !json_is_null(rep)) {
        snprintf(why, whylen, "repeat must be true or false");
        return false;
    }
    *repeat = rep && json_is_true(rep);
    const char *sym = default_symbol;
    json_t *js = json_object_get(o, "symbol");
    if (js && !json_is_null(js)) {
        sym = json_string_value(js);
        if (!sym || !*sym || strlen(sym) >= CONDITION_SYMBOL_MAX) {
            snprintf(why, whylen, "symbol must be a string of 1 to %d characters", CONDITION_SYMBOL_MAX - 1);
            return false;
        }
    }
    if (!sym) sym = "";
    condition_init(c, id, sym, strcmp(a, "BUY") ? SIDE_SELL : SIDE_BUY, trigger, turning, qty, tp, sl,
                   fol && json_is_true(fol));
    snprintf(uuid, CONDITION_UUID_MAX, "%s", cid);
    return true;
}

static bool parse_root(json_t *root, const char *origin, const char *default_symbol, condition_set *out,
                       char *err, size_t errlen) {
    if (!json_is_array(root)) {
        snprintf(err, errlen, "%s: expected a JSON array of conditions", origin);
        return false;
    }
    size_t n = json_array_size(root);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    out->uuids = calloc(n ? n : 1, sizeof *out->uuids);
    out->repeat = calloc(n ? n : 1, sizeof *out->repeat);
    if (!out->items || !out->uuids || !out->repeat) {
        snprintf(err, errlen, "out of memory");
        condition_set_free(out);
        return false;
    }
    size_t i;
    json_t *o;
    json_array_foreach(root, i, o) {
        char why[160];
        if (parse_one(o, default_symbol, (int64_t)out->n + 1, &out->items[out->n], out->uuids[out->n],
                      &out->repeat[out->n], why,
                      sizeof why)) {
            out->n++;
        } else {
            out->skipped++;
            fprintf(stderr, "conditions: %s: record %zu skipped: %s\n", origin, i, why);
        }
    }
    return true;
}

bool conditions_json_parse(const char *text, const char *default_symbol, condition_set *out, char *err,
                           size_t errlen) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return false;
    }
    bool ok = parse_root(root, "(JSON text)", default_symbol, out, err, errlen);
    json_decref(root);
    return ok;
}

bool conditions_file_load(const char *path, const char *default_symbol, condition_set *out, char *err,
                          size_t errlen) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        if (je.line <= 0)
            snprintf(err, errlen, "cannot read %s: %s", path, je.text);
        else
            snprintf(err, errlen, "%s: invalid JSON at line %d, column %d: %s", path, je.line, je.column, je.text);
        return false;
    }
    bool ok = parse_root(root, path, default_symbol, out, err, errlen);
    json_decref(root);
    return ok;
}

void condition_set_free(condition_set *s) {
    if (!s) return;
    free(s->items);
    free(s->uuids);
    free(s->repeat);
    memset(s, 0, sizeof *s);
}

bool condition_set_push(condition_set *s, const condition *c, const char *uuid) {
    if (!s || !c) return false;
    /* capacity: the next power of two at or above n + 1 (sets are small; no separate field) */
    size_t need = s->n + 1, cap = 1;
    while (cap < need) cap *= 2;
    if (s->n == 0 || (s->n & (s->n - 1)) == 0) { /* n is 0 or a power of two: grow to cap */
        condition *ni = realloc(s->items, cap * sizeof *ni);
        if (!ni) return false;
        s->items = ni;
        char(*nu)[CONDITION_UUID_MAX] = realloc(s->uuids, cap * sizeof *nu);
        if (!nu) return false;
        s->uuids = nu;
        bool *nr = realloc(s->repeat, cap * sizeof *nr);
        if (!nr) return false;
        s->repeat = nr;
    }
    s->repeat[s->n] = false;
    s->items[s->n] = *c;
    s->items[s->n].id = (int64_t)s->n + 1;
    if (uuid && *uuid) snprintf(s->uuids[s->n], CONDITION_UUID_MAX, "%s", uuid);
    else snprintf(s->uuids[s->n], CONDITION_UUID_MAX, "#%lld", (long long)c->id);
    s->n++;
    return true;
}

bool condition_set_check_ranges(const condition_set *cs, const char *origin, char *err, size_t errlen) {
    for (size_t i = 0; i < cs->n; i++) {
        char why[160];
        if (cs->items[i].quantity <= 0) continue;
        if (!condition_check_ranges(&cs->items[i], why, sizeof why)) {
            snprintf(err, errlen, "%s: condition %zu (%s): %s", origin, i, cs->uuids ? cs->uuids[i] : "-", why);
            return false;
        }
    }
    return true;
}
