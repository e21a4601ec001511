/* Conditions: created for the registered item, listed with their stage, cancelled. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/parse.h"
#include "usecase/uc.h"

bool uc_check_side(const char *text, bool *buy, uc_result *r) {
    char t[8] = "";
    if (text) {
        size_t i = 0;
        for (; text[i] && i < sizeof t - 1; i++) t[i] = (char)tolower((unsigned char)text[i]);
        t[i] = '\0';
        if (text[i]) t[0] = '\0'; /* too long */
    }
    if (!strcmp(t, "b") || !strcmp(t, "buy")) *buy = true;
    else if (!strcmp(t, "s") || !strcmp(t, "sell")) *buy = false;
    else {
        if (!text || !*text) uc_set(r, UC_BAD_INPUT, "The side is required: enter b (buy) or s (sell).");
        else uc_set(r, UC_BAD_INPUT, "'%s' is not a side: enter b (buy) or s (sell).", text);
        return false;
    }
    uc_ok(r);
    return true;
}

bool uc_check_positive(const char *field, const char *text, int64_t max, int64_t *out, uc_result *r) {
    int64_t v;
    if (!text || !*text) {
        uc_set(r, UC_BAD_INPUT, "%s is required: enter a whole number from 1 to %lld.", field, (long long)max);
        return false;
    }
    if (!parse_int64(text, &v)) {
        uc_set(r, UC_BAD_INPUT, "%s: '%s' is not a whole number; enter a number from 1 to %lld.", field, text,
               (long long)max);
        return false;
    }
    if (v < 1 || v > max) {
        uc_set(r, UC_BAD_INPUT, "%s: %lld is out of range; enter a number from 1 to %lld.", field, (long long)v,
               (long long)max);
        return false;
    }
    *out = v;
    uc_ok(r);
    return true;
}

#define PRICE_MAX 100000000LL
#define POINTS_MAX 1000000LL

bool uc_condition_create(uc_ctx *c, const uc_condition_input *in, const char *default_symbol, condition_record *out,
                         uc_result *r) {
    char sym[CONDITION_SYMBOL_MAX];
    if (in->symbol && *in->symbol) {
        if (!symbol_valid(in->symbol)) {
            uc_set(r, UC_BAD_INPUT, "Symbol '%s' is not valid: a product code is letters and digits, e.g. TXFF5.",
                   in->symbol);
            return false;
        }
        snprintf(sym, sizeof sym, "%s", in->symbol);
    } else if (default_symbol && *default_symbol) {
        snprintf(sym, sizeof sym, "%s", default_symbol);
    } else {
        uc_set(r, UC_PRECONDITION, "Please register an item first (%s) or name the product: a condition trades one product.",
               uc_hint(c, HINT_ITEM));
        return false;
    }
    for (char *p = sym; *p; p++) *p = (char)toupper((unsigned char)*p);
    bool buy;
    int64_t trigger, turning, qty, tp = DEFAULT_TAKE_PROFIT_POINT, sl = DEFAULT_STOP_LOSS_POINT;
    if (!uc_check_side(in->side, &buy, r) || !uc_check_positive("Target price", in->trigger, PRICE_MAX, &trigger, r) ||
        !uc_check_positive("Turning point", in->turning, POINTS_MAX, &turning, r) ||
        !uc_check_positive("Quantity", in->qty, UC_MAX_ORDER_QTY, &qty, r))
        return false;
    if (in->tp && *in->tp && !uc_check_positive("Take profit point", in->tp, POINTS_MAX, &tp, r)) return false;
    if (in->sl && *in->sl && !uc_check_positive("Stop loss point", in->sl, POINTS_MAX, &sl, r)) return false;
    condition cond;
    condition_init(&cond, 0, sym, buy ? SIDE_BUY : SIDE_SELL, trigger, turning, qty, tp, sl, in->following);
    cond.repeat = in->repeat;
    char err[256];
    int64_t id = cstore_add(c->cs, &cond, NULL, err, sizeof err);
    if (id < 0) {
        uc_set(r, UC_FAILED, "The condition was not created: %s.", err);
        return false;
    }
    if (out && !cstore_get(c->cs, id, out)) {
        memset(out, 0, sizeof *out);
        out->c = cond;
        out->c.id = id;
    }
    uc_ok(r);
    return true;
}

bool uc_condition_add(uc_ctx *c, const uc_condition_input *in, condition_record *out, uc_result *r) {
    session_info s;
    if (!uc_require_session(c, &s, r)) return false;
    return uc_condition_create(c, in, s.item_code, out, r);
}

/* A condition id as typed: a positive number; false with the reason in r. */
static bool parse_condition_id(const char *id_text, int64_t *id, uc_result *r) {
    if (!id_text || !*id_text) {
        uc_set(r, UC_BAD_INPUT, "The condition id is required: enter the id shown in the list.");
        return false;
    }
    if (!parse_int64(id_text, id) || *id < 1) {
        uc_set(r, UC_BAD_INPUT, "'%s' is not a condition id: enter the number shown in the id column.", id_text);
        return false;
    }
    return true;
}

bool uc_condition_cancel(uc_ctx *c, const char *id_text, int64_t *id_out, uc_result *r) {
    int64_t id;
    if (!parse_condition_id(id_text, &id, r)) return false;
    if (id_out) *id_out = id;
    char err[256];
    if (!cstore_cancel(c->cs, id, err, sizeof err)) {
        uc_set(r, UC_BAD_INPUT, "Cannot cancel: %s.", err);
        return false;
    }
    uc_ok(r);
    return true;
}

bool uc_condition_holding(const condition_record *r, int64_t *qty) {
    const condition *c = &r->c;
    bool held = !strcmp(r->status, "active") && c->is_ordered && c->entry == ENTRY_FILLED && !c->is_exited;
    if (qty) *qty = held ? (c->filled_qty > 0 ? c->filled_qty : c->quantity) : 0;
    return held;
}

void uc_condition_position_text(const condition_record *r, char *out, size_t cap) {
    int64_t qty;
    uc_condition_holding(r, &qty);
    snprintf(out, cap, "%s %lld %s (condition %lld, entry at %lld)", r->c.side == SIDE_BUY ? "long" : "short",
             (long long)qty, r->c.symbol, (long long)r->c.id, (long long)r->c.order_price);
}

bool uc_condition_remove(uc_ctx *c, const char *id_text, uc_rm_position what, int64_t *id_out, bool *flattened,
                         uc_order *flat, char *held, size_t held_cap, uc_result *r) {
    int64_t id;
    *flattened = false;
    if (held_cap) held[0] = '\0';
    if (!parse_condition_id(id_text, &id, r)) return false;
    if (id_out) *id_out = id;
    condition_record rec;
    int64_t qty = 0;
    bool holding = cstore_get(c->cs, id, &rec) && uc_condition_holding(&rec, &qty);
    if (holding) uc_condition_position_text(&rec, held, held_cap);
    if (holding && what == UC_RM_REFUSE) {
        uc_set(r, UC_BAD_INPUT,
               "Condition %lld holds a position: %s. Removing it would leave the lots open with no take profit or "
               "stop loss: %s.",
               (long long)id, held,
               c->face == UC_FACE_MENU ? "answer f to flatten or k to keep it"
                                       : "pass --flatten to close them at market, or --keep-position to keep them");
        return false;
    }
    if (!uc_condition_cancel(c, id_text, NULL, r)) return false;
    if (!holding || what != UC_RM_FLATTEN) return true;
    char qty_text[24];
    snprintf(qty_text, sizeof qty_text, "%lld", (long long)qty);
    *flattened = true;
    uc_result sent;
    if (!uc_send_market_order(c, rec.c.side != SIDE_BUY, qty_text, rec.c.symbol, 5000, flat, &sent)) {
        uc_set(r, UC_FAILED, "Condition %lld is cancelled, but closing its position (%s) failed: %s", (long long)id,
               held, sent.msg);
        return false;
    }
    uc_ok(r);
    return true;
}

int uc_conditions(uc_ctx *c, bool all, cstore_row_fn fn, void *ctx) { return cstore_list(c->cs, all, fn, ctx); }

const char *uc_condition_stage(const condition_record *r) {
    const condition *c = &r->c;
    if (strcmp(r->status, "active")) return r->status;
    if (!c->is_trigger) return "waiting trigger";
    if (!c->is_ordered) return "triggered";
    switch (c->entry) {
    case ENTRY_PENDING: return "entry sent";
    case ENTRY_FILLED: return "in position";
    case ENTRY_REJECTED: return "entry rejected";
    default: return "ordered";
    }
}
