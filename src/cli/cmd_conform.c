/* aftm conform CASES.jsonl: replays conformance cases through the strategy in
 * seed-compatible mode (every entry filled at once) and compares with the expected output. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "domain/strategy.h"

typedef struct {
    json_t *signals;   /* [[tick, side, index], ...] */
    condition *last;   /* state of each condition as last seen */
    size_t tick;
} case_run;

static void on_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    (void)price;
    case_run *r = ctx;
    size_t idx = (size_t)(c->id - 1);
    r->last[idx] = *c;
    if (ev & COND_ENTRY)
        json_array_append_new(r->signals, json_pack("[I,s,I]", (json_int_t)r->tick, side_name(c->side), (json_int_t)idx));
    if (ev & (COND_EXIT_TP | COND_EXIT_SL))
        json_array_append_new(r->signals, json_pack("[I,s,I]", (json_int_t)r->tick,
                                                    side_name(side_opposite(c->side)), (json_int_t)idx));
}

static json_int_t int_or(json_t *obj, const char *key, json_int_t fallback, bool *ok) {
    json_t *v = json_object_get(obj, key);
    if (!v) return fallback;
    if (!json_is_integer(v)) {
        *ok = false;
        return fallback;
    }
    return json_integer_value(v);
}

/* Builds the engine from the case's conditions; false (with err) on malformed input. */
static bool load_conditions(strategy_engine *e, json_t *conds, const char *symbol, char *err, size_t errlen) {
    size_t i;
    json_t *jc;
    json_array_foreach(conds, i, jc) {
        bool ok = json_is_object(jc);
        const char *action = json_string_value(json_object_get(jc, "action"));
        if (!ok || !action || (strcmp(action, "BUY") && strcmp(action, "SELL"))) {
            snprintf(err, errlen, "condition %zu: action must be \"BUY\" or \"SELL\"", i);
            return false;
        }
        if (!json_is_integer(json_object_get(jc, "trigger_price"))) {
            snprintf(err, errlen, "condition %zu: trigger_price must be an integer", i);
            return false;
        }
        condition c;
        json_t *fol = json_object_get(jc, "is_following");
        condition_init(&c, (int64_t)i + 1, symbol, strcmp(action, "BUY") ? SIDE_SELL : SIDE_BUY,
                       json_integer_value(json_object_get(jc, "trigger_price")),
                       int_or(jc, "turning_point", DEFAULT_TURNING_POINT, &ok), int_or(jc, "quantity", 1, &ok),
                       int_or(jc, "take_profit_point", DEFAULT_TAKE_PROFIT_POINT, &ok),
                       int_or(jc, "stop_loss_point", DEFAULT_STOP_LOSS_POINT, &ok), fol && json_is_true(fol));
        if (!ok) {
            snprintf(err, errlen, "condition %zu: points and quantity must be integers", i);
            return false;
        }
        strategy_add(e, &c);
    }
    return true;
}

static json_t *final_state(const strategy_engine *e, const condition *last, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const condition *live = strategy_find(e, (int64_t)i + 1);
        const condition *c = live ? live : &last[i];
        json_array_append_new(arr, json_pack("{s:I,s:b,s:I,s:I,s:I,s:I,s:b,s:b,s:b}", "index", (json_int_t)i,
                                             "alive", live != NULL, "trigger_price", (json_int_t)c->trigger_price,
                                             "order_price", (json_int_t)c->order_price, "take_profit_price",
                                             (json_int_t)c->take_profit_price, "stop_loss_price",
                                             (json_int_t)c->stop_loss_price, "is_trigger", c->is_trigger,
                                             "is_ordered", c->is_ordered, "is_exited", c->is_exited));
    }
    return arr;
}

/* Runs one case; returns the result object or NULL with err set. */
static json_t *run_case(json_t *jcase, char *err, size_t errlen) {
    json_t *conds = json_object_get(jcase, "conditions"), *prices = json_object_get(jcase, "prices");
    if (!json_is_array(conds) || !json_is_array(prices)) {
        snprintf(err, errlen, "a case needs \"conditions\" and \"prices\" arrays");
        return NULL;
    }
    const char *symbol = json_string_value(json_object_get(jcase, "commodity_id"));
    if (!symbol) symbol = "TXFF5";
    strategy_engine *e = strategy_new(true);
    size_t n = json_array_size(conds);
    case_run r = {json_array(), calloc(n ? n : 1, sizeof(condition)), 0};
    json_t *result = NULL;
    if (!e || !r.last || !load_conditions(e, conds, symbol, err, errlen)) goto done;
    for (size_t i = 0; i < n; i++) r.last[i] = *strategy_find(e, (int64_t)i + 1);
    json_t *jp;
    json_array_foreach(prices, r.tick, jp) {
        if (!json_is_number(jp)) {
            snprintf(err, errlen, "price %zu is not a number", r.tick);
            goto done;
        }
        /* the original truncates prices with int() */
        strategy_on_tick(e, symbol, (price_t)json_number_value(jp), on_event, &r);
    }
    result = json_pack("{s:O,s:O,s:o}", "case", json_object_get(jcase, "case") ? json_object_get(jcase, "case") : json_null(),
                       "signals", r.signals, "final", final_state(e, r.last, n));
done:
    json_decref(r.signals);
    free(r.last);
    strategy_free(e);
    return result;
}

int cmd_conform(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: aftm conform CASES.jsonl\n\n"
                "Runs each case (conditions in creation order + prices) through aftm's strategy in\n"
                "seed-compatible mode and prints one JSON line per case with its signals\n"
                "[tick, side, condition_index] and final condition states. When a case carries the\n"
                "expected \"signals\"/\"final\", they are compared and the run ends with\n"
                "'N passed, N failed' (exit 1 if any failed).\n");
        return argc == 2 ? EXIT_OK : EXIT_USAGE;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        fprintf(stderr, "aftm conform: cannot open %s\n", argv[1]);
        return EXIT_USAGE;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int passed = 0, failed = 0, compared = 0, bad = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == strlen(line)) continue;
        json_error_t jerr;
        json_t *jcase = json_loads(line, 0, &jerr);
        char err[256] = "";
        json_t *res = jcase && json_is_object(jcase) ? run_case(jcase, err, sizeof err) : NULL;
        if (!res) {
            fprintf(stderr, "aftm conform: line %zu: %s\n", lineno, jcase ? err : jerr.text);
            bad++;
            failed++;
            json_decref(jcase);
            continue;
        }
        char *out = json_dumps(res, JSON_COMPACT);
        printf("%s\n", out);
        free(out);
        json_t *want_sig = json_object_get(jcase, "signals"), *want_fin = json_object_get(jcase, "final");
        if (want_sig) {
            compared++;
            bool ok = json_equal(want_sig, json_object_get(res, "signals")) &&
                      (!want_fin || json_equal(want_fin, json_object_get(res, "final")));
            if (ok) passed++;
            else {
                failed++;
                fprintf(stderr, "aftm conform: case %s differs from the expected output\n",
                        json_string_value(json_object_get(jcase, "case")) ? json_string_value(json_object_get(jcase, "case")) : "?");
            }
        }
        json_decref(res);
        json_decref(jcase);
    }
    free(line);
    fclose(f);
    if (compared || bad) printf("%d passed, %d failed\n", passed, failed);
    if (bad) return EXIT_USAGE;
    return failed ? EXIT_RUNTIME : EXIT_OK;
}
