/* aftm executor: PULL signals, check risk, store the order, send it to the gateway, and keep
 * the books from the gateway's execution reports.
 *
 * Never twice: the client order id is derived from the signal id and the order row is
 * committed before the order leaves. A signal whose order exists is not sent again; a retry
 * after a timeout reuses the same client order id, which the gateway answers with the first
 * order. On start, open orders are reconciled with the gateway before any signal is read. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "core/exit_codes.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/parse.h"
#include "app/executor/risk_config.h"
#include "domain/order.h"
#include "domain/position.h"
#include "domain/risk.h"
#include "net/gateway_client.h"
#include "net/lifecycle.h"
#include "net/zsock.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/equity_store.h"
#include "store/order_store.h"
#include "store/session_store.h"
#include "wire/codec.h"

#define RECONCILE_MS 1000
#define STATE_POLL_MS 250
#define MAX_SYMBOLS 64

typedef struct {
    char symbol[32];
    price_t last;
} last_price;

typedef struct {
    /* config */
    char account_flag[64];
    int timeout_ms, attempts;
    risk_limits limits;
    /* runtime */
    void *zctx, *pull, *reports, *ticks;
    gateway_client *gw;
    sqlite3 *db;
    condition_store *cs;
    order_store *os;
    wire_decoder dec;
    risk_state risk;
    last_price prices[MAX_SYMBOLS];
    int nprices;
    long long report_seq;
    long long data_version;
    uint64_t orig_counter;
    uint64_t signals, orders, fills, refused;
} exec;

static void usage(FILE *out) {
    fprintf(out,
            "usage: aftm executor [--signal-endpoint E] [--order-endpoint E] [--report-endpoint E]\n"
            "                     [--tick-endpoint E] [--home DIR] [--account A] [--risk FILE]\n"
            "                     [--trading-hours on|off] [--timeout-ms N] [--attempts N] [--quiet]\n\n"
            "Pulls signals, checks them against the risk limits, and sends each as one market order\n"
            "through the gateway. Orders, fills and positions are kept under --home.\n\n"
            "  --signal-endpoint  bind address for signals (default tcp://127.0.0.1:5556)\n"
            "  --order-endpoint   the gateway's order port (default tcp://127.0.0.1:5557)\n"
            "  --report-endpoint  the gateway's execution reports (default tcp://127.0.0.1:5558)\n"
            "  --tick-endpoint    ticks, for the price band and P&L (default tcp://127.0.0.1:5555)\n"
            "  --account          order account (default: the session's selected account)\n"
            "  --risk             INI file with a [risk] section overriding the default limits\n"
            "  --trading-hours    on (default): refuse entries outside TAIFEX sessions; off\n"
            "  --timeout-ms       wait for each gateway answer (default 2000)\n"
            "  --attempts         tries per order before leaving it to reconciliation (default 3)\n"
            "  --home             data directory (default $AFTM_HOME, else ./aftm-data)\n"
            "  --quiet            log warnings and errors only\n");
}

/* ---- prices and P&L ---------------------------------------------------------------------- */

static price_t *price_slot(exec *x, const char *symbol, bool create) {
    for (int i = 0; i < x->nprices; i++)
        if (!strcmp(x->prices[i].symbol, symbol)) return &x->prices[i].last;
    if (!create || x->nprices == MAX_SYMBOLS) return NULL;
    snprintf(x->prices[x->nprices].symbol, sizeof x->prices[0].symbol, "%s", symbol);
    x->prices[x->nprices].last = 0;
    return &x->prices[x->nprices++].last;
}

typedef struct {
    exec *x;
    int64_t total;
} pnl_ctx;

static void add_position_pnl(void *ctx, const position *p, price_t stored_last) {
    pnl_ctx *c = ctx;
    price_t *live = price_slot(c->x, p->symbol, false);
    price_t mark = live && *live > 0 ? *live : stored_last;
    c->total += (p->realized + (mark > 0 ? position_unrealized(p, mark) : 0)) * contract_multiplier(p->symbol);
    risk_set_position(&c->x->risk, p->symbol, p->net_qty);
}

/* Today's P&L is the total minus the total at the first look of the (local) day. */
static void refresh_pnl(exec *x) {
    pnl_ctx c = {x, 0};
    ostore_each_position(x->os, add_position_pnl, &c);
    time_t now = time(NULL) + 8 * 3600; /* Asia/Taipei has no daylight saving */
    struct tm tm;
    gmtime_r(&now, &tm);
    char key[48];
    snprintf(key, sizeof key, "pnl_base_%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    long long base;
    if (!db_meta_get_int(x->db, key, &base)) {
        base = c.total;
        db_meta_set_int(x->db, key, base);
    }
    /* the equity log: today's row = starting capital + total P&L, after each fill */
    if (x->fills && !estore_record_pnl(x->db, (int64_t)time(NULL), (long long)c.total))
        log_warn("cannot record today's equity: %s", sqlite3_errmsg(x->db));
    if (risk_update_pnl(&x->risk, &x->limits, c.total - base)) {
        log_error("KILL SWITCH: %s; new entries are refused, exits still allowed ('aftm resume' to clear)",
                  x->risk.kill_reason);
        db_meta_set_int(x->db, "kill_switch", 1);
        db_meta_set_text(x->db, "kill_reason", x->risk.kill_reason);
        db_journal(x->db, "executor", "kill_switch", "", x->risk.kill_reason);
    }
}

/* ---- condition feedback ------------------------------------------------------------------ */

/* Tells the strategy (through the condition row) how an entry ended. */
static void entry_feedback(exec *x, const order_record *r) {
    const order *o = &r->o;
    if (r->is_exit || o->condition_id <= 0 || !order_is_terminal(o->status)) return;
    if (o->filled_qty > 0) {
        cstore_set_entry(x->cs, o->condition_id, ENTRY_FILLED, o->filled_qty, NULL);
    } else {
        char note[160];
        snprintf(note, sizeof note, "entry %s: %s", order_status_name(o->status), o->reason[0] ? o->reason : "no reason given");
        cstore_set_entry(x->cs, o->condition_id, ENTRY_REJECTED, 0, note);
    }
}

/* ---- applying reports -------------------------------------------------------------------- */

static bool status_from_text(const char *s, order_status *out) { return s && order_status_parse(s, out); }

/* Applies one execution report (a JSON object from the gateway) in one transaction. */
static void apply_report(exec *x, json_t *rep) {
    const char *coid = json_string_value(json_object_get(rep, "client_order_id"));
    const char *status = json_string_value(json_object_get(rep, "status"));
    order_status st;
    if (!coid || !status_from_text(status, &st)) {
        log_warn("ignored an execution report without a client order id or a known status");
        return;
    }
    order_record r;
    if (!ostore_begin(x->os)) {
        log_error("database busy; report for %s not applied now (recovered by reconciliation)", coid);
        return;
    }
    if (!ostore_get(x->os, coid, &r)) {
        ostore_rollback(x->os);
        log_debug("report for an order not placed by this executor: %s", coid);
        return;
    }
    order before = r.o;
    order_outcome out = ORDER_APPLIED;
    const char *reason = json_string_value(json_object_get(rep, "reason"));
    const char *serial = json_string_value(json_object_get(rep, "order_serial"));
    json_t *fq = json_object_get(rep, "fill_qty");
    if ((st == ORDER_PARTIALLY_FILLED || st == ORDER_FILLED) && json_integer_value(fq) > 0) {
        const char *fill_id = json_string_value(json_object_get(rep, "fill_id"));
        int64_t qty = json_integer_value(fq);
        price_t price = (price_t)llround(json_number_value(json_object_get(rep, "fill_price")));
        json_t *cum = json_object_get(rep, "filled_qty");
        int64_t cum_qty = json_is_integer(cum) ? json_integer_value(cum) : -1;
        char key[128];
        if (!fill_id || !*fill_id) {
            order_fill_key(&r.o, cum_qty, key, sizeof key);
            fill_id = key;
        }
        order probe = r.o;
        out = order_apply_fill(&probe, qty, price, cum_qty);
        if (out == ORDER_APPLIED) {
            if (!ostore_add_fill(x->os, fill_id, &r.o, qty, price, clock_wall_s())) {
                out = ORDER_IGNORED_DUPLICATE;
            } else {
                r.o = probe;
                position p;
                ostore_position_get(x->os, r.o.account, r.o.symbol, &p);
                position_apply_fill(&p, r.o.side, qty, price);
                price_t *last = price_slot(x, r.o.symbol, true);
                if (last && *last <= 0) *last = price;
                ostore_position_put(x->os, &p, last ? *last : price);
                x->fills++;
                log_info("fill %s: %s %lld %s at %lld (%lld/%lld filled), position %s %+lld", fill_id,
                         r.o.side == SIDE_BUY ? "bought" : "sold", (long long)qty, r.o.symbol, (long long)price,
                         (long long)r.o.filled_qty, (long long)r.o.qty, r.o.account, (long long)p.net_qty);
            }
        }
    } else if (st == ORDER_ACCEPTED) {
        out = order_apply_accepted(&r.o);
    } else if (st == ORDER_REJECTED) {
        out = order_apply_rejected(&r.o, reason);
    } else if (st == ORDER_CANCELLED) {
        out = order_apply_cancelled(&r.o);
    } else if (st == ORDER_EXPIRED) {
        out = order_apply_expired(&r.o);
    }
    if (out == ORDER_APPLIED) {
        if ((st == ORDER_CANCELLED || st == ORDER_EXPIRED) && reason && !r.o.reason[0])
            snprintf(r.o.reason, sizeof r.o.reason, "%s", reason);
        ostore_update(x->os, &r.o, serial);
        char detail[256];
        snprintf(detail, sizeof detail, "%s -> %s", order_status_name(before.status), order_status_name(r.o.status));
        db_journal(x->db, "executor", "order", coid, detail);
        if (order_is_terminal(r.o.status) && !order_is_terminal(before.status)) {
            risk_order_closed(&x->risk);
            entry_feedback(x, &r);
            if (r.o.status == ORDER_REJECTED || (r.o.filled_qty == 0 && r.o.status != ORDER_FILLED))
                log_warn("order %s %s: %s", coid, order_status_name(r.o.status), r.o.reason[0] ? r.o.reason : "-");
            else if (r.o.status == ORDER_FILLED)
                log_info("order %s filled: %lld at avg %.2f", coid, (long long)r.o.filled_qty, order_avg_fill_price(&r.o));
        }
    } else if (out == ORDER_LATE_FILL || out == ORDER_REJECTED_OVERFILL || out == ORDER_INVALID) {
        log_error("order %s: report '%s' not applied (%s); the broker's book needs a look", coid, status,
                  order_outcome_name(out));
        db_journal(x->db, "executor", "report_refused", coid, order_outcome_name(out));
    }
    if (!ostore_commit(x->os)) {
        log_error("cannot commit report for %s: %s", coid, sqlite3_errmsg(x->db));
        ostore_rollback(x->os);
        return;
    }
    if (out == ORDER_APPLIED && json_integer_value(fq) > 0) refresh_pnl(x);
}

/* Fetches and applies every report after report_seq (gap recovery, start-up). */
static bool catch_up_reports(exec *x) {
    char err[256];
    json_t *reply = gwc_call(x->gw, "get_reports", json_pack("{s:I}", "since_seq", (json_int_t)x->report_seq), err,
                             sizeof err);
    if (!reply) {
        log_warn("cannot fetch missed execution reports: %s", err);
        return false;
    }
    json_t *list = json_object_get(json_object_get(reply, "data"), "reports");
    size_t i;
    json_t *rep;
    json_array_foreach(list, i, rep) {
        long long seq = json_integer_value(json_object_get(rep, "seq"));
        if (seq <= x->report_seq) continue;
        apply_report(x, rep);
        x->report_seq = seq;
    }
    db_meta_set_int(x->db, "executor_report_seq", x->report_seq);
    json_decref(reply);
    return true;
}

static void on_report_message(exec *x, const char *body, size_t len) {
    json_error_t jerr;
    json_t *rep = json_loadb(body, len, 0, &jerr);
    if (!rep || !json_is_object(rep)) {
        log_warn("skipped an execution report that is not JSON");
        json_decref(rep);
        return;
    }
    long long seq = json_integer_value(json_object_get(rep, "seq"));
    if (seq > 0 && seq <= x->report_seq) {
        /* already applied (or the gateway restarted and counts from 1 again: catch up) */
        if (seq == 1 && x->report_seq > 1) {
            log_warn("the gateway's report sequence restarted; re-reading its reports");
            x->report_seq = 0;
            catch_up_reports(x);
        }
        json_decref(rep);
        return;
    }
    if (seq > x->report_seq + 1) {
        log_warn("missed execution reports %lld..%lld; fetching them", x->report_seq + 1, seq - 1);
        if (catch_up_reports(x) && seq <= x->report_seq) {
            json_decref(rep);
            return;
        }
    }
    apply_report(x, rep);
    if (seq > 0) {
        x->report_seq = seq;
        db_meta_set_int(x->db, "executor_report_seq", x->report_seq);
    }
    json_decref(rep);
}

/* ---- sending ----------------------------------------------------------------------------- */

/* Sends the stored order; retries reuse the same client order id. Applies the reply. */
static void send_order(exec *x, order_record *r) {
    json_t *params = json_pack("{s:s,s:s,s:s,s:s,s:f,s:I,s:s,s:s,s:s,s:s,s:s}", "order_account", r->o.account,
                               "item_code", r->o.symbol, "side", r->o.side == SIDE_BUY ? "buy" : "sell", "order_type",
                               "Market", "price", 0.0, "quantity", (json_int_t)r->o.qty, "open_close", "AUTO", "note",
                               "aftm", "day_trade", "N", "time_in_force", "IOC", "client_order_id",
                               r->o.client_order_id);
    json_t *req = json_pack("{s:s,s:o}", "operation", "send_order", "parameters", params);
    json_t *reply = NULL;
    char err[256] = "";
    for (int attempt = 1; attempt <= x->attempts && !reply; attempt++) {
        reply = gwc_request(x->gw, req, err, sizeof err);
        if (!reply) log_warn("order %s: attempt %d/%d: %s", r->o.client_order_id, attempt, x->attempts, err);
        if (lifecycle_stopping()) break;
    }
    json_decref(req);
    if (!ostore_begin(x->os)) {
        log_error("database busy after sending %s; reconciliation will settle it", r->o.client_order_id);
        json_decref(reply);
        return;
    }
    order_record cur;
    if (!ostore_get(x->os, r->o.client_order_id, &cur)) cur = *r;
    if (!reply) {
        /* Unknown outcome: it may or may not have reached the broker. It stays 'sent' and is
         * settled by asking the gateway for this client order id. */
        order_mark_sent(&cur.o);
        snprintf(cur.o.reason, sizeof cur.o.reason, "no answer from the gateway (%.60s); reconciling", err);
        ostore_update(x->os, &cur.o, NULL);
        ostore_commit(x->os);
        log_error("order %s: the gateway did not answer after %d attempt(s); will reconcile", r->o.client_order_id,
                  x->attempts);
        return;
    }
    json_t *data = json_object_get(reply, "data");
    const char *serial = json_string_value(json_object_get(data, "order_serial"));
    order_mark_sent(&cur.o);
    if (!json_is_true(json_object_get(reply, "success"))) {
        const char *msg = json_string_value(json_object_get(reply, "error_message"));
        const char *code = json_string_value(json_object_get(reply, "error_code"));
        char reason[128];
        snprintf(reason, sizeof reason, "%s (%s)", msg ? msg : "refused", code ? code : "?");
        order_apply_rejected(&cur.o, reason);
    } else if (!json_is_true(json_object_get(data, "is_send_order"))) {
        const char *msg = json_string_value(json_object_get(data, "error_message"));
        order_apply_rejected(&cur.o, msg && *msg ? msg : "the broker did not accept the order");
    } else {
        order_apply_accepted(&cur.o);
        if (json_is_true(json_object_get(data, "duplicate")))
            log_info("order %s: the gateway already had it; not placed again", cur.o.client_order_id);
    }
    ostore_update(x->os, &cur.o, serial);
    db_journal(x->db, "executor", "order", cur.o.client_order_id, order_status_name(cur.o.status));
    if (order_is_terminal(cur.o.status)) {
        risk_order_closed(&x->risk);
        entry_feedback(x, &cur);
    }
    ostore_commit(x->os);
    if (cur.o.status == ORDER_REJECTED) log_warn("order %s rejected: %s", cur.o.client_order_id, cur.o.reason);
    else log_info("order %s accepted (serial %s)", cur.o.client_order_id, serial ? serial : "-");
    json_decref(reply);
}

/* Stores a refused signal as a rejected order, so it shows in 'aftm orders' with its reason. */
static void record_refusal(exec *x, order_record *r, const char *reason) {
    snprintf(r->o.reason, sizeof r->o.reason, "%s", reason);
    r->o.status = ORDER_REJECTED;
    x->refused++;
    if (ostore_begin(x->os)) {
        ostore_insert(x->os, r);
        db_journal(x->db, "executor", "refused", r->o.client_order_id, reason);
        entry_feedback(x, r);
        ostore_commit(x->os);
    }
    log_warn("signal %s refused: %s", r->o.signal_id, reason);
    if (r->is_exit) log_error("an EXIT was refused: the position in %s stays open", r->o.symbol);
}

static bool resolve_account(exec *x, char *out, size_t cap) {
    if (x->account_flag[0]) {
        snprintf(out, cap, "%s", x->account_flag);
        return true;
    }
    return session_order_account(x->db, out, cap);
}

static void local_time(int64_t now_ms, int *minute, int *weekday) {
    time_t t = (time_t)(now_ms / 1000) + 8 * 3600; /* Asia/Taipei, UTC+8 all year */
    struct tm tm;
    gmtime_r(&t, &tm);
    *minute = tm.tm_hour * 60 + tm.tm_min;
    *weekday = tm.tm_wday;
}

static void handle_signal(exec *x, const wire_signal *sig) {
    x->signals++;
    order_record r;
    memset(&r, 0, sizeof r);
    char signal_id[ORDER_ID_MAX - 5]; /* room for the "aftm-" prefix of the client order id */
    if (sig->has_ext && strlen(sig->signal_id) >= sizeof signal_id) {
        log_warn("signal id '%s' is longer than %zu characters; dropped", sig->signal_id, sizeof signal_id - 1);
        return;
    }
    if (sig->has_ext) memcpy(signal_id, sig->signal_id, strlen(sig->signal_id) + 1);
    else /* the original's signal has no id: one per message received */
        snprintf(signal_id, sizeof signal_id, "orig-%lld-%llu", (long long)llround(sig->when * 1e6),
                 (unsigned long long)++x->orig_counter);
    char coid[ORDER_ID_MAX];
    memcpy(coid, "aftm-", 5);
    memcpy(coid + 5, signal_id, strlen(signal_id) + 1);
    size_t n = strlen(signal_id);
    r.is_exit = n > 2 && !strcmp(signal_id + n - 2, ".X");
    r.ref_price = sig->price;
    r.signal_when = sig->when;

    order_record existing;
    if (ostore_get(x->os, coid, &existing)) {
        if (existing.o.status == ORDER_NEW) {
            log_warn("signal %s arrived again and its order never left; sending it now", signal_id);
            send_order(x, &existing);
        } else {
            log_warn("signal %s arrived again: its order %s is already %s; not sent twice", signal_id, coid,
                     order_status_name(existing.o.status));
            /* a restarted strategy may have lost what it knew of this entry: tell it again */
            entry_feedback(x, &existing);
        }
        return;
    }
    char account[64] = "";
    bool have_account = resolve_account(x, account, sizeof account);
    side_t side = sig->side == WIRE_BUY ? SIDE_BUY : SIDE_SELL;
    if (!order_init(&r.o, coid, signal_id, sig->condition_id, have_account ? account : "-", sig->commodity_id, side,
                    sig->quantity)) {
        log_warn("signal %s is not a valid order (quantity %lld); dropped", signal_id, (long long)sig->quantity);
        return;
    }
    if (!have_account) {
        char why[256];
        /* an expired session blocks new entries, and says so */
        if (!session_entry_blocked(x->db, clock_wall_s(), why, sizeof why))
            snprintf(why, sizeof why, "no order account selected (select one, or pass --account)");
        record_refusal(x, &r, why);
        return;
    }
    int64_t now_ms = clock_wall_us() / 1000;
    risk_request req = {.symbol = r.o.symbol, .side = side, .qty = r.o.qty, .ref_price = sig->price,
                        .signal_ms = (int64_t)llround(sig->when * 1000), .now_ms = now_ms, .duplicate = false};
    price_t *last = price_slot(x, r.o.symbol, false);
    req.last_price = last ? *last : 0;
    /* A signal without a price (the original's) is a market order at the last price. */
    if (req.ref_price <= 0) req.ref_price = req.last_price;
    local_time(now_ms, &req.minute_of_day, &req.weekday);
    char reason[RISK_REASON_MAX + 32], why[RISK_REASON_MAX];
    risk_verdict v = risk_check(&x->limits, &x->risk, &req, why, sizeof why);
    if (v != RISK_OK) {
        snprintf(reason, sizeof reason, "risk %s: %s", risk_rule_code(v), why);
        record_refusal(x, &r, reason);
        return;
    }
    /* is_exit stays what the signal says (a condition's exit); reducing the net position is
     * what the risk rules look at, and only that is logged here */
    bool reduces = risk_is_exit(&x->risk, &req);
    /* stored before it leaves: a crash from here on cannot produce a second order */
    if (!ostore_insert(x->os, &r)) {
        log_error("cannot store order %s (%s); not sent", coid, sqlite3_errmsg(x->db));
        return;
    }
    risk_record_order(&x->risk, now_ms);
    x->orders++;
    log_info("order %s: %s %lld %s for signal %s%s", coid, side == SIDE_BUY ? "buy" : "sell", (long long)r.o.qty,
             r.o.symbol, signal_id, r.is_exit ? " (exit)" : reduces ? " (entry; reduces the net position)" : " (entry)");
    send_order(x, &r);
}

/* ---- reconciliation ---------------------------------------------------------------------- */

static void reconcile_one(void *ctx, const order_record *r) {
    exec *x = ctx;
    if (r->o.status == ORDER_NEW) {
        order_record copy = *r;
        log_info("order %s was stored but never confirmed sent; sending (same id, so never twice)",
                 r->o.client_order_id);
        send_order(x, &copy);
        return;
    }
    char err[256];
    json_t *reply =
        gwc_call(x->gw, "order_status", json_pack("{s:s}", "client_order_id", r->o.client_order_id), err, sizeof err);
    if (!reply) return;
    json_t *data = json_object_get(reply, "data");
    if (json_is_true(json_object_get(reply, "success")) && json_is_false(json_object_get(data, "found")) &&
        r->o.status == ORDER_SENT && clock_wall_s() - r->updated_at > 2.0) {
        /* The broker never saw it: the send was lost before reaching it. Safe to send. */
        order_record copy = *r;
        log_warn("order %s never reached the broker; sending it again with the same id", r->o.client_order_id);
        send_order(x, &copy);
    }
    json_decref(reply);
}

static void reconcile(exec *x) {
    catch_up_reports(x);
    ostore_each_open(x->os, reconcile_one, x);
}

typedef struct {
    exec *x;
} open_ctx;

static void count_open(void *ctx, const order_record *r) {
    exec *x = ctx;
    (void)r;
    x->risk.open_orders++;
}

static void load_kill_switch(exec *x) {
    long long on = 0;
    db_meta_get_int(x->db, "kill_switch", &on);
    if (on && !x->risk.kill_switch) {
        char why[RISK_REASON_MAX] = "halted by hand";
        db_meta_get_text(x->db, "kill_reason", why, sizeof why);
        risk_trip_kill_switch(&x->risk, why);
        log_warn("kill switch ON (%s): new entries refused, exits allowed", why);
    } else if (!on && x->risk.kill_switch) {
        risk_reset_kill_switch(&x->risk);
        log_info("kill switch cleared: trading resumed");
    }
}

/* ---- main -------------------------------------------------------------------------------- */

static void on_tick(exec *x, const char *body, size_t len) {
    wire_msg m;
    if (wire_decode(&x->dec, body, len, &m) != WIRE_TICK) return;
    if (!isfinite(m.u.tick.match_price) || m.u.tick.match_price <= 0) return;
    price_t *p = price_slot(x, m.u.tick.commodity_id, true);
    if (p) *p = (price_t)trunc(m.u.tick.match_price);
}

static void drain(exec *x, void *sock, int which) {
    char topic[16], body[8192];
    for (int i = 0; i < 1024; i++) {
        size_t tlen;
        bool truncated;
        int n = zsock_recv_2(sock, topic, sizeof topic, body, sizeof body, &tlen, &truncated);
        if (n < 0) return;
        if (truncated) {
            log_warn("skipped an oversized message");
            continue;
        }
        if (which == 0) {
            wire_msg m;
            wire_kind k = wire_decode(&x->dec, body, (size_t)n, &m);
            if (k == WIRE_SIGNAL) handle_signal(x, &m.u.signal);
            else if (k == WIRE_ERROR)
                log_warn("failed to decode a signal message: %s (%s); skipped", m.error, m.error_class);
            else log_warn("received a message that is not a TradingSignal; skipped");
        } else if (which == 1) {
            on_report_message(x, body, (size_t)n);
        } else {
            on_tick(x, body, (size_t)n);
        }
    }
}

static int parse_args(int argc, char **argv, exec *x, endpoints *ep, const char **home, bool *quiet) {
    static const struct option opts[] = {
        {"signal-endpoint", 1, 0, 's'}, {"order-endpoint", 1, 0, 'o'}, {"report-endpoint", 1, 0, 'r'},
        {"tick-endpoint", 1, 0, 't'},   {"home", 1, 0, 'h'},           {"account", 1, 0, 'a'},
        {"risk", 1, 0, 'R'},            {"trading-hours", 1, 0, 'T'},  {"timeout-ms", 1, 0, 'm'},
        {"attempts", 1, 0, 'n'},        {"quiet", 0, 0, 'q'},          {"help", 0, 0, 'H'},
        {0, 0, 0, 0}};
    const char *risk_file = NULL, *hours = NULL;
    int64_t v;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 's': snprintf(ep->signal, sizeof ep->signal, "%s", optarg); break;
        case 'o': snprintf(ep->order, sizeof ep->order, "%s", optarg); break;
        case 'r': snprintf(ep->report, sizeof ep->report, "%s", optarg); break;
        case 't': snprintf(ep->tick, sizeof ep->tick, "%s", optarg); break;
        case 'h': *home = optarg; break;
        case 'a': snprintf(x->account_flag, sizeof x->account_flag, "%s", optarg); break;
        case 'R': risk_file = optarg; break;
        case 'T': hours = optarg; break;
        case 'm':
            if (!parse_int_range(optarg, 10, 600000, &v)) {
                fprintf(stderr, "aftm executor: --timeout-ms must be 10..600000, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            x->timeout_ms = (int)v;
            break;
        case 'n':
            if (!parse_int_range(optarg, 1, 100, &v)) {
                fprintf(stderr, "aftm executor: --attempts must be 1..100, got '%s'\n", optarg);
                return EXIT_USAGE;
            }
            x->attempts = (int)v;
            break;
        case 'q': *quiet = true; break;
        case 'H': usage(stdout); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aftm executor: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    char err[256];
    if (!risk_config_load(risk_file, &x->limits, err, sizeof err)) {
        fprintf(stderr, "aftm executor: %s\n", err);
        return EXIT_USAGE;
    }
    if (hours) {
        if (!strcmp(hours, "on")) x->limits.trading_hours = true;
        else if (!strcmp(hours, "off")) x->limits.trading_hours = false;
        else {
            fprintf(stderr, "aftm executor: --trading-hours must be on or off, got '%s'\n", hours);
            return EXIT_USAGE;
        }
    }
    return -1;
}

static void exec_close(exec *x) {
    ostore_close(x->os);
    cstore_close(x->cs);
    db_close(x->db);
    gwc_free(x->gw);
    wire_decoder_destroy(&x->dec);
    if (x->pull) zmq_close(x->pull);
    if (x->reports) zmq_close(x->reports);
    if (x->ticks) zmq_close(x->ticks);
    if (x->zctx) zmq_ctx_term(x->zctx);
}

int cmd_executor(int argc, char **argv) {
    exec x;
    memset(&x, 0, sizeof x);
    x.timeout_ms = 2000;
    x.attempts = 3;
    endpoints ep;
    endpoints_from_env(&ep);
    const char *home_flag = NULL;
    bool quiet = false;
    int rc = parse_args(argc, argv, &x, &ep, &home_flag, &quiet);
    if (rc >= 0) return rc;
    log_set_name("executor");
    log_set_quiet(quiet);
    lifecycle_install();
    wire_decoder_init(&x.dec);
    risk_state_init(&x.risk);

    char err[512], home[AFTM_PATH_MAX];
    rc = EXIT_RUNTIME;
    if (!home_resolve(home_flag, home, sizeof home, err, sizeof err) || !(x.db = db_open(home, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    if (!(x.cs = cstore_open(x.db)) || !(x.os = ostore_open(x.db))) {
        log_error("cannot prepare the stores: %s", sqlite3_errmsg(x.db));
        goto out;
    }
    db_meta_get_int(x.db, "executor_report_seq", &x.report_seq);
    x.zctx = zmq_ctx_new();
    if (!(x.pull = zsock_new(x.zctx, ZMQ_PULL, err, sizeof err)) ||
        !(x.reports = zsock_new(x.zctx, ZMQ_SUB, err, sizeof err)) ||
        !(x.ticks = zsock_new(x.zctx, ZMQ_SUB, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    zsock_set_int(x.pull, ZMQ_RCVHWM, 1000);
    if (!zsock_connect(x.reports, ep.report, err, sizeof err) || !zsock_connect(x.ticks, ep.tick, err, sizeof err)) {
        log_error("%s", err);
        goto out;
    }
    zmq_setsockopt(x.reports, ZMQ_SUBSCRIBE, "REPORT", 6);
    zmq_setsockopt(x.ticks, ZMQ_SUBSCRIBE, "TICK", 4);
    if (!(x.gw = gwc_new(x.zctx, ep.order, x.timeout_ms))) {
        log_error("cannot open the gateway connection to %s", ep.order);
        goto out;
    }
    /* Reconcile before reading any signal: what was in flight when we stopped is settled
     * first, and the signal port is bound only after, so nothing is read early. */
    ostore_each_open(x.os, count_open, &x);
    load_kill_switch(&x);
    refresh_pnl(&x);
    reconcile(&x);
    if (!zsock_bind(x.pull, ep.signal, false, err, sizeof err)) {
        log_error("%s", err);
        goto out;
    }
    char account[64];
    log_info("started: signals on %s, gateway %s, account %s, trading hours %s", ep.signal, ep.order,
             resolve_account(&x, account, sizeof account) ? account : "(none selected yet)",
             x.limits.trading_hours ? "on" : "off");

    int64_t last_reconcile = clock_mono_ms(), last_state = last_reconcile;
    x.data_version = db_data_version(x.db);
    while (!lifecycle_stopping()) {
        zmq_pollitem_t items[] = {{x.pull, 0, ZMQ_POLLIN, 0}, {x.reports, 0, ZMQ_POLLIN, 0}, {x.ticks, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, 3, STATE_POLL_MS);
        if (n < 0 && zmq_errno() != EINTR) {
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        /* signals first: an order waiting behind the bookkeeping of earlier fills is latency
         * the trader pays; the risk state lags by those fills at most, as it would by the
         * network anyway */
        if (n > 0 && (items[0].revents & ZMQ_POLLIN)) drain(&x, x.pull, 0);
        if (n > 0 && (items[1].revents & ZMQ_POLLIN)) drain(&x, x.reports, 1);
        if (n > 0 && (items[2].revents & ZMQ_POLLIN)) drain(&x, x.ticks, 2);
        int64_t now = clock_mono_ms();
        if (now - last_state >= STATE_POLL_MS) {
            long long v = db_data_version(x.db);
            if (v != x.data_version) {
                x.data_version = v;
                load_kill_switch(&x);
            }
            last_state = now;
        }
        if (now - last_reconcile >= RECONCILE_MS) {
            if (x.risk.open_orders > 0) reconcile(&x);
            last_reconcile = now;
        }
    }
    log_info("stopping: %llu signals, %llu orders, %llu fills, %llu refused", (unsigned long long)x.signals,
             (unsigned long long)x.orders, (unsigned long long)x.fills, (unsigned long long)x.refused);
    rc = EXIT_OK;
out:
    exec_close(&x);
    return rc;
}
