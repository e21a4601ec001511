/* The executor core's execution reports: each one checked, applied to its order (a fill booked
 * once, the position and the entry's condition following), and counted with the report counter
 * in one transaction; a report for an order aftm did not place is booked as external; a gap in
 * the report sequence is caught up from the gateway's report log, page by page.
 *
 * Not here: the wire shapes of reports (executor_proto.c), open orders asked about one by one
 * (executor_reconcile.c), P&L (executor_marks.c). */
#include "app/executor/executor_internal.h"

#include <stdio.h>
#include <string.h>

#include "app/executor/executor_proto.h"
#include "core/log.h"
#include "domain/order.h"
#include "domain/position.h"
#include "net/gw_proto.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/order_store.h"

/* ---- condition feedback ------------------------------------------------------------------ */

/* The round of a repeating condition an order belongs to, from its client order id (0 for one
 * that never repeats, and for ids aftm did not make). */
int64_t xc_order_round(const order *o) {
    gw_coid c;
    return gw_coid_parse(o->client_order_id, &c) ? c.round : 0;
}

/* Tells the strategy (through the condition row) how an entry ended. */
void xc_entry_feedback(executor_core *x, const order_record *r) {
    const order *o = &r->o;
    if (r->is_exit || o->condition_id <= 0 || !order_is_terminal(o->status)) return;
    if (o->filled_qty > 0) {
        cstore_set_entry(x->cs, o->condition_id, xc_order_round(o), ENTRY_FILLED, o->filled_qty, NULL);
    } else {
        char note[160];
        snprintf(note, sizeof note, "entry %s: %s", order_status_name(o->status), o->reason[0] ? o->reason : "no reason given");
        cstore_set_entry(x->cs, o->condition_id, xc_order_round(o), ENTRY_REJECTED, 0, note);
    }
}

/* ---- applying reports -------------------------------------------------------------------- */

/* Books a fill of the report on r (inside the caller's transaction). A fill id already booked
 * is a duplicate and changes nothing. *failed: the database failed (the transaction is void). */
static order_outcome apply_fill(executor_core *x, order_record *r, const exproto_report *rep, bool *failed) {
    char key[128];
    const char *fill_id = rep->fill_id;
    if (!fill_id || !*fill_id) {
        order_fill_key(&r->o, rep->cum_qty, key, sizeof key);
        fill_id = key;
    }
    order probe = r->o;
    order_outcome out = order_apply_fill(&probe, rep->fill_qty, rep->fill_price, rep->cum_qty);
    if (out != ORDER_APPLIED) return out;
    int added = ostore_add_fill(x->os, fill_id, &r->o, rep->fill_qty, rep->fill_price, xc_now_s(x));
    if (added <= 0) {
        *failed = added < 0;
        return ORDER_IGNORED_DUPLICATE;
    }
    r->o = probe;
    position p;
    ostore_position_get(x->os, r->o.account, r->o.symbol, &p);
    position_apply_fill(&p, r->o.side, rep->fill_qty, rep->fill_price);
    price_t *last = xc_price_slot(x, r->o.symbol, true);
    if (last && *last <= 0) *last = rep->fill_price;
    if (!ostore_position_put(x->os, &p, last ? *last : rep->fill_price)) *failed = true;
    x->st.fills++;
    log_info("fill %s: %s %lld %s at %lld (%lld/%lld filled), position %s %+lld", fill_id,
             r->o.side == SIDE_BUY ? "bought" : "sold", (long long)rep->fill_qty, r->o.symbol,
             (long long)rep->fill_price, (long long)r->o.filled_qty, (long long)r->o.qty, r->o.account,
             (long long)p.net_qty);
    return ORDER_APPLIED;
}

/* A state change of an order inside the caller's transaction: stored, journaled, and when it
 * ends the order, the open-order count and the entry's outcome follow. False on a database
 * failure. */
bool xc_store_change(executor_core *x, const order *before, order_record *r, const char *serial) {
    if (!ostore_update(x->os, &r->o, serial)) return false;
    char detail[256];
    snprintf(detail, sizeof detail, "%s -> %s", order_status_name(before->status), order_status_name(r->o.status));
    db_journal(x->db, "executor", "order", r->o.client_order_id, detail);
    xc_pending_move(x, before, &r->o);
    if (order_is_terminal(r->o.status) && !order_is_terminal(before->status)) {
        risk_order_closed(&x->risk);
        xc_entry_feedback(x, r);
    }
    return true;
}

/* ---- orders aftm did not place ----------------------------------------------------------- */

#define EXTERNAL_PREFIX "external-"

/* A report for an order that is not in the books, on this executor's account: an order placed
 * at the broker some other way (its own screen, an aftm that could not reach the executor). Its
 * first accepted or fill report stores it as an external order (signal id "external-<client
 * order id>", no condition), so its fills are booked like any other and the books stay the
 * account's truth. Inside the caller's transaction. 1: stored in *r; 0: not ours to book (another
 * account, or nothing to book yet); -1: the database failed. */
static int book_external(executor_core *x, const exproto_report *rep, order_record *r) {
    bool opens = rep->status == ORDER_ACCEPTED ||
                 ((rep->status == ORDER_PARTIALLY_FILLED || rep->status == ORDER_FILLED) && rep->fill_qty > 0);
    char account[64];
    if (!opens || !rep->has_order || !exc_account(x, account, sizeof account) || strcmp(rep->account, account))
        return 0;
    memset(r, 0, sizeof *r);
    char signal_id[ORDER_ID_MAX];
    snprintf(signal_id, sizeof signal_id, EXTERNAL_PREFIX "%.*s", (int)(sizeof signal_id - sizeof EXTERNAL_PREFIX),
             rep->client_order_id);
    if (!order_init(&r->o, rep->client_order_id, signal_id, 0, rep->account, rep->symbol, rep->side, rep->qty)) return 0;
    r->o.status = ORDER_ACCEPTED;
    snprintf(r->o.reason, sizeof r->o.reason, "placed outside aftm; booked from the broker's reports");
    if (!ostore_insert(x->os, r)) return -1;
    x->risk.open_orders++;
    xc_pending_move(x, NULL, &r->o);
    db_journal(x->db, "executor", "external_order", rep->client_order_id, rep->symbol);
    log_warn("order %s was placed outside aftm (%s %lld %s on %s); booked as external", rep->client_order_id,
             rep->side == SIDE_BUY ? "buy" : "sell", (long long)rep->qty, rep->symbol, rep->account);
    return 1;
}

/* What one valid report does to its order, inside the caller's transaction. *filled: a fill
 * was booked. False on a database failure. */
static bool report_effects(executor_core *x, const exproto_report *rep, bool *filled) {
    const char *coid = rep->client_order_id;
    order_status st = rep->status;
    order_record r;
    if (!ostore_get(x->os, coid, &r)) {
        int booked = book_external(x, rep, &r);
        if (booked < 0) return false;
        if (!booked) {
            log_debug("report for an order not placed by this executor: %s", coid);
            return true;
        }
    }
    order before = r.o;
    order_outcome out = ORDER_APPLIED;
    bool failed = false;
    bool is_fill = (st == ORDER_PARTIALLY_FILLED || st == ORDER_FILLED) && rep->fill_qty > 0;
    if (is_fill) out = apply_fill(x, &r, rep, &failed);
    else if (st == ORDER_ACCEPTED) out = order_apply_accepted(&r.o);
    else if (st == ORDER_REJECTED) out = order_apply_rejected(&r.o, rep->reason);
    else if (st == ORDER_CANCELLED) out = order_apply_cancelled(&r.o);
    else if (st == ORDER_EXPIRED) out = order_apply_expired(&r.o);
    if (failed) return false;
    if (out == ORDER_APPLIED) {
        if ((st == ORDER_CANCELLED || st == ORDER_EXPIRED) && rep->reason && !r.o.reason[0])
            snprintf(r.o.reason, sizeof r.o.reason, "%s", rep->reason);
        if (!xc_store_change(x, &before, &r, rep->serial)) return false;
        *filled = is_fill;
        if (order_is_terminal(r.o.status) && !order_is_terminal(before.status)) {
            if (r.o.status == ORDER_REJECTED || (r.o.filled_qty == 0 && r.o.status != ORDER_FILLED))
                log_warn("order %s %s: %s", coid, order_status_name(r.o.status), r.o.reason[0] ? r.o.reason : "-");
            else if (r.o.status == ORDER_FILLED)
                log_info("order %s filled: %lld at avg %.2f", coid, (long long)r.o.filled_qty, order_avg_fill_price(&r.o));
        }
    } else if (out == ORDER_LATE_FILL || out == ORDER_REJECTED_OVERFILL || out == ORDER_INVALID) {
        log_error("order %s: report '%s' not applied (%s); the broker's book needs a look", coid, rep->status_text,
                  order_outcome_name(out));
        db_journal(x->db, "executor", "report_refused", coid, order_outcome_name(out));
    }
    return true;
}

/* Applies one execution report (its fields, JSON or msgpack) and, when seq is past the
 * counter, moves the counter to seq, in the open batch's transaction (else in one of its own):
 * a report whose effects could not be stored leaves the counter where it was (the batch's
 * failure puts it back), and is fetched again. A report with a value out of bounds is refused
 * with its reason (journaled) and counted as handled. False when the database failed. */
static bool apply_report(executor_core *x, const gw_fields *fields, long long seq) {
    exproto_report rep;
    char why[160] = "";
    bool valid = exproto_parse_report(fields, &rep, why, sizeof why);
    bool own = !x->batch;
    if (own) exc_begin_batch(x);
    if (!x->batch) {
        log_error("database busy (%s); report %lld for %s not applied now (fetched again from the gateway)",
                  db_error(x->db), seq, rep.client_order_id ? rep.client_order_id : "?");
        return false;
    }
    x->batch_reports++;
    bool ok = xc_batch_writable(x), filled = false;
    if (ok && !valid) {
        log_warn("refused execution report %lld%s%.64s: %s", seq, rep.client_order_id ? " for " : "",
                 rep.client_order_id ? rep.client_order_id : "", why);
        db_journal(x->db, "executor", "report_refused", rep.client_order_id ? rep.client_order_id : "", why);
    } else if (ok) {
        ok = report_effects(x, &rep, &filled);
    }
    /* the counter itself is stored once, when the batch commits (xc_batch_end) */
    if (!ok) {
        x->batch_failed = true;
        log_error("cannot store report %lld for %s: %s; fetched again from the gateway", seq,
                  rep.client_order_id ? rep.client_order_id : "?", db_error(x->db));
    } else {
        if (seq > x->report_seq) x->report_seq = seq;
        if (filled) x->batch_filled = true;
    }
    if (own && !xc_batch_end(x)) ok = false;
    return ok;
}

/* ---- the report stream, catch-up --------------------------------------------------------- */

static bool in_set(const coid_set *set, const char *coid) {
    for (size_t i = 0; coid && i < set->n; i++)
        if (!strcmp(set->ids[i], coid)) return true;
    return false;
}

/* One page of reports after since from the gateway: applied in order when only is NULL
 * (the counter moves with each), else only the reports of those orders (the counter stays).
 * Returns the highest seq seen, or -1 when the gateway did not answer or the database failed;
 * *more: the gateway has more after this page. */
long long xc_fetch_page(executor_core *x, long long since, const coid_set *only, bool *more) {
    char err[256] = "";
    *more = false;
    json_t *req = exproto_get_reports_request(since);
    json_t *reply = x->io.gateway_call(x->io.ctx, req, err, sizeof err);
    json_decref(req);
    if (!reply) {
        log_warn("cannot fetch execution reports: %s", err);
        return -1;
    }
    long long last;
    exproto_reports_page(reply, &last, more);
    if (!only) x->gw_last_seq = last;
    json_t *list = exproto_reports_of(reply);
    long long top = since;
    size_t i;
    json_t *rep;
    /* the page is applied in one transaction */
    bool own = !x->batch;
    if (own) exc_begin_batch(x);
    json_array_foreach(list, i, rep) {
        json_t *sv = json_object_get(rep, "seq");
        long long seq = json_is_integer(sv) ? json_integer_value(sv) : 0;
        if (seq <= since || (!only && seq <= x->report_seq)) continue;
        if (last >= 0 && seq > last) {
            log_warn("refused execution report %lld: beyond the gateway's last report %lld", seq, last);
            continue;
        }
        gw_fields fields = gw_fields_of_json(rep);
        if (only) {
            if (in_set(only, json_string_value(json_object_get(rep, "client_order_id"))) && !apply_report(x, &fields, 0)) {
                top = -1;
                break;
            }
        } else if (!apply_report(x, &fields, seq)) {
            top = -1;
            break;
        }
        if (seq > top) top = seq;
    }
    if (own && x->batch && !xc_batch_end(x)) top = -1;
    json_decref(reply);
    return top;
}

bool exc_catch_up(executor_core *x) {
    for (int page = 0; page < 100000; page++) {
        bool more;
        long long before = x->report_seq, top = xc_fetch_page(x, x->report_seq, NULL, &more);
        if (top < 0) return false;
        if (!more || x->report_seq == before) break;
    }
    return true;
}

/* One report's fields: its seq checked against the counter (a gap is fetched first), then
 * applied. */
static void report_message(executor_core *x, const gw_fields *rep) {
    gwf_value sv = gw_field(rep, "seq");
    if (sv.type != GWF_ABSENT && sv.type != GWF_NULL && (sv.type != GWF_INT || sv.i < 1)) {
        log_warn("refused an execution report whose seq is not a positive integer");
        return;
    }
    long long seq = sv.type == GWF_INT ? sv.i : 0;
    if (x->batch && !xc_batch_writable(x)) {
        /* the batch it would join failed: the counter stays before it, so it is fetched again */
        return;
    }
    /* a catch-up asks the gateway: not with the batch's transaction open, which would hold
     * every other writer for as long (what the batch holds so far is committed first) */
    bool in_batch = x->batch;
    if (seq > 0 && seq <= x->report_seq) {
        /* already applied (or the gateway restarted and counts from 1 again: catch up) */
        if (seq == 1 && x->report_seq > 1) {
            log_warn("the gateway's report sequence restarted; re-reading its reports");
            if (in_batch) xc_batch_end(x);
            x->report_seq = 0;
            exc_catch_up(x);
            if (in_batch) exc_begin_batch(x);
        }
        return;
    }
    if (seq > x->report_seq + 1) {
        log_warn("missed execution reports %lld..%lld; fetching them", x->report_seq + 1, seq - 1);
        if (in_batch) xc_batch_end(x);
        bool fetched = exc_catch_up(x);
        if (in_batch) exc_begin_batch(x);
        if (fetched && seq <= x->report_seq) return;
        if (fetched && x->gw_last_seq >= 0 && seq > x->gw_last_seq) {
            /* a seq the gateway says it never sent: taking it would skip every report up to it */
            log_warn("refused execution report %lld: beyond the gateway's last report %lld", seq, x->gw_last_seq);
            return;
        }
        if (!fetched) seq = 0; /* applied now, the counter stays: the gap is fetched later */
    }
    apply_report(x, rep, seq);
}

/* One report from the report port: a msgpack map (the gateway's) or a JSON object. */
static void on_report_message(executor_core *x, const char *body, size_t len) {
    json_t *json = NULL;
    msgpack_object map;
    gw_fields rep;
    if (mp_is_map(body, len)) {
        if (!mp_read(&x->reader, body, len, &map)) {
            log_warn("skipped an execution report that is not one msgpack map");
            return;
        }
        rep = gw_fields_of_map(&map);
    } else {
        json = json_loadb(body, len, 0, NULL);
        if (!json || !json_is_object(json)) {
            log_warn("skipped an execution report that is neither a msgpack map nor a JSON object");
            json_decref(json);
            return;
        }
        rep = gw_fields_of_json(json);
    }
    report_message(x, &rep);
    json_decref(json);
}

void exc_on_report_message(executor_core *x, const char *body, size_t len) {
    on_report_message(x, body, len);
    /* a fill booked now may be what a held exit waits for */
    xc_settle_held_exits(x);
}
