/* The broker's side of the session, always through the running gateway's order port. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/parse.h"
#include "core/str.h"
#include "net/gw_proto.h"
#include "store/manual_requests.h"
#include "store/order_store.h"
#include "usecase/uc.h"

static void upcase(char *s) {
    for (; *s; s++) *s = (char)toupper((unsigned char)*s);
}

static bool starts_with_ci(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++)
        if (toupper((unsigned char)*s) != toupper((unsigned char)*prefix)) return false;
    return true;
}

json_t *uc_futures(uc_ctx *c, const char *filter, uc_result *r) {
    if (!uc_require_session(c, NULL, r)) return NULL;
    if (filter && *filter && (!symbol_valid(filter))) {
        uc_set(r, UC_BAD_INPUT, "Futures code '%s' is not valid: use letters and digits only, e.g. TXF or MXFG5.",
               filter);
        return NULL;
    }
    json_t *data = uc_gateway(c, "list_products", NULL, r);
    if (!data) return NULL;
    json_t *all = json_object_get(data, "products"), *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(all, i, p) {
        const char *code = json_string_value(json_object_get(p, "code"));
        if (code && (!filter || !*filter || starts_with_ci(code, filter))) json_array_append(out, p);
    }
    json_decref(data);
    return out;
}

bool uc_register_item(uc_ctx *c, const char *code_in, char *name_out, size_t name_cap, uc_result *r) {
    if (!uc_require_session(c, NULL, r)) return false;
    if (!code_in || !*code_in) {
        uc_set(r, UC_BAD_INPUT, "Item_code: empty values not allowed. Enter a product code such as TXFF5 (%s lists them).",
               uc_hint(c, HINT_FUTURES));
        return false;
    }
    if (!symbol_valid(code_in)) {
        uc_set(r, UC_BAD_INPUT, "Item code '%s' is not valid: a product code is 1-31 letters and digits, e.g. TXFF5.",
               code_in);
        return false;
    }
    char code[SESSION_ITEM_MAX];
    snprintf(code, sizeof code, "%s", code_in);
    upcase(code);
    json_t *list = uc_futures(c, "", r);
    if (!list) return false;
    json_t *found = NULL, *p;
    size_t i;
    char listed[400] = "";
    json_array_foreach(list, i, p) {
        const char *pc = json_string_value(json_object_get(p, "code"));
        if (!pc) continue;
        if (!strcmp(pc, code)) found = p;
        size_t n = strlen(listed);
        if (n < sizeof listed - 40) snprintf(listed + n, sizeof listed - n, "%s%s", n ? ", " : "", pc);
    }
    if (!found) {
        uc_set(r, UC_BAD_INPUT, "Item not found: %s is not a listed product. Listed: %s (%s shows them).", code,
               listed[0] ? listed : "none", uc_hint(c, HINT_FUTURES));
        json_decref(list);
        return false;
    }
    if (name_out) snprintf(name_out, name_cap, "%s", json_string_value(json_object_get(found, "name")));
    json_decref(list);
    /* Ask the gateway for this product's quotes (a gateway without the operation still
     * serves orders for it; its market may then be another product's). */
    uc_result sub;
    json_t *d = uc_gateway(c, "subscribe", json_pack("{s:s}", "item_code", code), &sub);
    json_decref(d);
    if (!session_register_item(c->db, code, clock_wall_s())) {
        uc_set(r, UC_FAILED, "Cannot record the item in the session: %s.", sqlite3_errmsg(c->db));
        return false;
    }
    uc_set(r, UC_OK, "%s", code);
    return true;
}

json_t *uc_accounts(uc_ctx *c, uc_result *r) {
    if (!uc_require_session(c, NULL, r)) return NULL;
    json_t *data = uc_gateway(c, "list_accounts", NULL, r);
    if (!data) return NULL;
    json_t *accounts = json_object_get(data, "accounts");
    if (!json_is_array(accounts)) {
        json_decref(data);
        uc_set(r, UC_FAILED, "The gateway's answer has no account list.");
        return NULL;
    }
    json_incref(accounts);
    json_decref(data);
    return accounts;
}

bool uc_select_account(uc_ctx *c, const char *number, char *account_out, size_t cap, uc_result *r) {
    json_t *accounts = uc_accounts(c, r);
    if (!accounts) return false;
    size_t n = json_array_size(accounts);
    int64_t k;
    if (n == 0) {
        json_decref(accounts);
        uc_set(r, UC_FAILED, "The broker lists no order accounts for this login.");
        return false;
    }
    if (!number || !*number) {
        json_decref(accounts);
        uc_set(r, UC_BAD_INPUT, "No account number given: enter a number from 1 to %zu.", n);
        return false;
    }
    if (!parse_int64(number, &k)) {
        json_decref(accounts);
        uc_set(r, UC_BAD_INPUT, "'%s' is not a number: enter a number from 1 to %zu.", number, n);
        return false;
    }
    if (k < 1 || (uint64_t)k > n) {
        json_decref(accounts);
        uc_set(r, UC_BAD_INPUT, "There is no account number %lld: enter a number from 1 to %zu.", (long long)k, n);
        return false;
    }
    const char *list[64];
    size_t m = n < 64 ? n : 64;
    for (size_t i = 0; i < m; i++) list[i] = json_string_value(json_array_get(accounts, i));
    const char *pick = list[k - 1];
    bool ok = pick && session_select_account(c->db, pick, list, m);
    if (ok && account_out) snprintf(account_out, cap, "%s", pick);
    if (ok) uc_set(r, UC_OK, "%s", pick);
    else uc_set(r, UC_FAILED, "Cannot record the order account in the session: %s.", sqlite3_errmsg(c->db));
    json_decref(accounts);
    return ok;
}

static void client_order_id(char *out, size_t cap) {
    static unsigned counter;
    unsigned rnd = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&rnd, sizeof rnd, 1, f) != 1) rnd = 0;
        fclose(f);
    }
    snprintf(out, cap, "cli-%lld-%04x%02x", (long long)(clock_wall_us() / 1000), (rnd ^ (unsigned)getpid()) & 0xffff,
             ++counter & 0xff);
}

static void read_order(json_t *d, uc_order *o) {
    const char *s;
    if ((s = json_string_value(json_object_get(d, "order_serial"))) && *s)
        snprintf(o->order_serial, sizeof o->order_serial, "%s", s);
    if ((s = json_string_value(json_object_get(d, "status")))) snprintf(o->status, sizeof o->status, "%s", s);
    json_t *v = json_object_get(d, "filled_qty");
    if (json_is_integer(v)) o->filled_qty = json_integer_value(v);
    v = json_object_get(d, "avg_fill_price");
    if (json_is_number(v)) o->avg_price = json_number_value(v);
    if ((s = json_string_value(json_object_get(d, "reason")))) snprintf(o->reason, sizeof o->reason, "%s", s);
}

/* How long an order by hand waits for an executor to take it (it looks every 250 ms) before it
 * goes straight to the gateway, and then for the executor to store it. */
#define TAKE_WAIT_MS 1500
#define STORE_WAIT_MS 15000

static void read_booked(const order_record *rec, uc_order *o) {
    snprintf(o->status, sizeof o->status, "%s", order_status_name(rec->o.status));
    o->filled_qty = rec->o.filled_qty;
    o->avg_price = rec->o.filled_qty > 0 ? order_avg_fill_price(&rec->o) : 0;
    snprintf(o->reason, sizeof o->reason, "%s", rec->o.reason);
    snprintf(o->order_serial, sizeof o->order_serial, "%s", rec->order_serial);
}

/* The order as a request to the executor. 1: placed (or refused by its risk rules: r says so);
 * 0: failed (r says why); -1: no executor took it (withdrawn: the caller sends it itself). */
static int through_executor(uc_ctx *c, uc_order *o, int wait_ms, uc_result *r) {
    int64_t id;
    if (!mreq_add_limit(c->db, o->account, o->symbol, o->buy ? SIDE_BUY : SIDE_SELL, o->qty, o->limit_price, o->rests,
                        &id)) {
        uc_set(r, UC_FAILED, "Cannot record the order for the executor: %s.", sqlite3_errmsg(c->db));
        return 0;
    }
    manual_request q;
    int64_t start = clock_mono_ms();
    for (;;) {
        if (!mreq_get(c->db, id, &q)) q.state = MREQ_PENDING;
        if (q.state != MREQ_PENDING) break;
        if (clock_mono_ms() - start >= TAKE_WAIT_MS && mreq_move(c->db, id, MREQ_PENDING, MREQ_WITHDRAWN)) return -1;
        clock_sleep_ms(50);
    }
    while (q.state == MREQ_TAKEN && clock_mono_ms() - start < STORE_WAIT_MS) {
        clock_sleep_ms(50);
        if (!mreq_get(c->db, id, &q)) break;
    }
    if (q.state != MREQ_DONE) {
        uc_set(r, UC_FAILED, "The executor took the order (request %lld) but has not stored it yet; see 'aftm orders'.",
               (long long)id);
        return 0;
    }
    o->via_executor = true;
    snprintf(o->client_order_id, sizeof o->client_order_id, "%s", q.client_order_id);
    order_store *os = ostore_open(c->db);
    order_record rec;
    bool found = os && q.client_order_id[0] && ostore_get(os, q.client_order_id, &rec);
    int64_t deadline = clock_mono_ms() + wait_ms;
    while (found && !order_is_terminal(rec.o.status) && clock_mono_ms() < deadline) {
        clock_sleep_ms(50);
        found = ostore_get(os, q.client_order_id, &rec);
    }
    if (found) read_booked(&rec, o);
    ostore_close(os);
    if (!found) {
        uc_set(r, UC_FAILED, "The executor could not place the order: %s.", q.result[0] ? q.result : "no reason given");
        return 0;
    }
    if (rec.o.status == ORDER_REJECTED && strncmp(rec.o.reason, "risk ", 5) == 0) {
        o->refused = true;
        uc_set(r, UC_FAILED, "The executor refused the order: %s.", rec.o.reason);
        return 0;
    }
    uc_ok(r);
    return 1;
}

bool uc_send_market_order(uc_ctx *c, bool buy, const char *qty_text, const char *symbol, int wait_ms, uc_order *o,
                          uc_result *r) {
    return uc_send_order(c, buy, qty_text, symbol, NULL, false, wait_ms, o, r);
}

bool uc_send_order(uc_ctx *c, bool buy, const char *qty_text, const char *symbol, const char *limit_text, bool rests,
                   int wait_ms, uc_order *o, uc_result *r) {
    memset(o, 0, sizeof *o);
    int64_t limit = 0;
    if (limit_text && *limit_text && !uc_check_positive("Limit price", limit_text, ORDER_PRICE_MAX, &limit, r))
        return false;
    session_info s;
    if (!uc_require_session(c, &s, r)) return false;
    if (!s.order_account[0]) {
        uc_set(r, UC_PRECONDITION, "Please select an order account first (%s).", uc_hint(c, HINT_ACCOUNT));
        return false;
    }
    if (symbol && *symbol && !symbol_valid(symbol)) {
        uc_set(r, UC_BAD_INPUT, "Symbol '%s' is not valid: a product code is letters and digits, e.g. TXFF5.", symbol);
        return false;
    }
    if (!(symbol && *symbol) && !s.item_code[0]) {
        uc_set(r, UC_PRECONDITION, "Please register an item first (%s).", uc_hint(c, HINT_ITEM));
        return false;
    }
    int64_t qty;
    if (!uc_check_positive("Quantity", qty_text, UC_MAX_ORDER_QTY, &qty, r)) return false;
    snprintf(o->account, sizeof o->account, "%s", s.order_account);
    snprintf(o->symbol, sizeof o->symbol, "%s", symbol && *symbol ? symbol : s.item_code);
    upcase(o->symbol);
    o->buy = buy;
    o->qty = qty;
    o->limit_price = limit;
    o->rests = limit > 0 && rests;
    int placed = through_executor(c, o, wait_ms, r);
    if (placed >= 0) return placed == 1;
    client_order_id(o->client_order_id, sizeof o->client_order_id);
    broker_order_req req = {.side = buy ? SIDE_BUY : SIDE_SELL,
                            .qty = qty,
                            .type = BROKER_MARKET,
                            .tif = BROKER_IOC,
                            .open_close = BROKER_AUTO,
                            .day_trade = false};
    if (limit > 0) {
        req.type = BROKER_LIMIT;
        req.price = limit;
        req.tif = o->rests ? BROKER_ROD : BROKER_IOC;
    }
    str_copy(req.client_order_id, sizeof req.client_order_id, o->client_order_id);
    str_copy(req.account, sizeof req.account, o->account);
    str_copy(req.symbol, sizeof req.symbol, o->symbol); /* symbol_valid: it fits */
    json_t *params = gw_send_order_params(&req);
    /* The client order id makes a retry safe: the broker answers a repeat with the same order. */
    json_t *d = NULL;
    for (int attempt = 0; attempt < 2 && !d; attempt++) {
        json_incref(params);
        d = uc_gateway(c, "send_order", params, r);
        if (!d && r->st != UC_FAILED) break;
        if (!d && strstr(r->msg, "The broker refused")) break;
    }
    json_decref(params);
    if (!d) return false;
    bool sent = json_is_true(json_object_get(d, "is_send_order"));
    read_order(d, o);
    if (!sent) {
        const char *msg = json_string_value(json_object_get(d, "error_message"));
        const char *code = json_string_value(json_object_get(d, "error_code"));
        snprintf(o->reason, sizeof o->reason, "%s", msg ? msg : "");
        uc_set(r, UC_FAILED, "Send market order failed: the broker rejected it: %s (code %s).", msg ? msg : "no reason",
               code ? code : "?");
        json_decref(d);
        return false;
    }
    json_decref(d);
    int64_t deadline = clock_mono_ms() + wait_ms;
    while (wait_ms > 0 && clock_mono_ms() < deadline) {
        uc_result q;
        json_t *st = uc_gateway(c, "order_status", gw_order_status_params(o->client_order_id), &q);
        if (!st) break;
        read_order(st, o);
        json_decref(st);
        if (strcmp(o->status, "accepted") && strcmp(o->status, "new") && strcmp(o->status, "partially_filled")) break;
        clock_sleep_ms(50);
    }
    uc_ok(r);
    return true;
}

json_t *uc_broker_positions(uc_ctx *c, const char *product, char *account_out, size_t cap, uc_result *r) {
    session_info s;
    if (!uc_require_session(c, &s, r)) return NULL;
    if (account_out) snprintf(account_out, cap, "%s", s.order_account);
    if (!s.order_account[0]) {
        uc_set(r, UC_PRECONDITION, "order_account cannot be empty: select an order account first (%s).",
               uc_hint(c, HINT_ACCOUNT));
        return NULL;
    }
    if (product && *product && !symbol_valid(product)) {
        uc_set(r, UC_BAD_INPUT, "Product id '%s' is not valid: use letters and digits, e.g. TXFF5.", product);
        return NULL;
    }
    json_t *d = uc_gateway(c, "get_positions", gw_positions_params(s.order_account), r);
    if (!d) return NULL;
    json_t *all = json_object_get(d, "positions"), *out = json_array(), *p;
    size_t i;
    json_array_foreach(all, i, p) {
        const char *pid = json_string_value(json_object_get(p, "product_id"));
        if (!product || !*product || (pid && !strcasecmp(pid, product))) json_array_append(out, p);
    }
    json_decref(d);
    return out;
}
