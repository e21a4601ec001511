/* The executor's logic (see executor_core.h): signals to stored orders, reports to the books.
 *
 * Never twice: the client order id is derived from the signal id and this database's instance
 * id, and the order row is committed before the order leaves. A signal whose order exists is not
 * sent again (the strategy resends a signal until it sees its order row: a resend is a no-op);
 * a retry after a timeout reuses the same client order id, which the gateway answers with the
 * first order, looked up then with order_status.
 *
 * Never lost: a report's effects and the report counter move in one transaction, so a report
 * that could not be stored is fetched again from the gateway (catch-up); an answer to an order
 * that could not be stored is kept and applied again; an open order the broker shows further
 * along than the books is caught up from the gateway's report log. Every number from the wire
 * is checked against sane bounds before it can reach the books.
 *
 * Group commit: what is read together (signals, answers, reports) is written in one
 * transaction, and nothing of it leaves, is acknowledged or counted before that commits; when
 * it fails, the in-memory state (open orders, counters, the report counter) is put back. */
#include "app/executor/executor_core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/executor/executor_proto.h"
#include "core/clock.h"
#include "core/log.h"
#include "domain/order.h"
#include "domain/position.h"
#include "core/str.h"
#include "net/gw_proto.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/equity_store.h"
#include "store/held_exits.h"
#include "store/manual_requests.h"
#include "store/trading_state.h"
#include "store/order_store.h"
#include "store/session_store.h"

#define MAX_SYMBOLS 64

typedef struct {
    char symbol[32];
    price_t last;
} last_price;

/* An order waiting for the gateway's answer (submit_order). */
typedef struct {
    char coid[ORDER_ID_MAX];
    broker_order_req req;
    int attempt;
    int64_t deadline_ms; /* wall clock (io.clock_us) */
} flight;

/* What a batch does once its transaction has committed. */
typedef enum { AFTER_SEND, AFTER_ACK, AFTER_ANSWER } after_kind;

typedef struct {
    after_kind kind;
    order_record r;
    bool has_ans;           /* AFTER_ANSWER: the gateway answered (false: none came) */
    exproto_send_reply ans; /* ... and what it said, kept again if the batch fails */
} deferred;

/* An answer from the gateway that could not be stored: applied again (exc_service). */
typedef struct {
    char coid[ORDER_ID_MAX];
    exproto_send_reply ans;
} held_answer;

#define HELD_RETRY_MS 200
/* An exit held until its entry's fill is in the books (store/held_exits.h): the signal as
 * received, and when to stop waiting for the report and ask the broker. */
typedef struct {
    wire_signal sig;
    int64_t due_ms;
} held_exit;

struct executor_core {
    executor_config cfg;
    executor_io io;
    sqlite3 *db;
    condition_store *cs;
    order_store *os;
    wire_decoder dec;
    risk_state risk;
    last_price prices[MAX_SYMBOLS];
    int nprices;
    long long report_seq;
    long long gw_last_seq; /* the gateway's last report seq at the last catch-up, -1: unknown */
    long long data_version;
    char instance[DB_INSTANCE_ID_LEN + 1];
    int64_t last_rescan_ms;
    int64_t last_mark_ms; /* when open positions were last marked at the last prices */
    uint64_t orig_counter;
    executor_stats st;
    flight *fl; /* orders in flight, unordered */
    size_t nfl, capfl;
    uint32_t *flix; /* open addressing over fl by client order id: index + 1, 0 empty */
    size_t nflix;   /* slots, a power of two, at least twice capfl */
    bool batch, batch_failed; /* a group commit is open; something in it failed */
    bool batch_filled;        /* a fill was booked in it: P&L after the commit */
    deferred *def;
    size_t ndef, capdef;
    size_t batch_signals, batch_answers, batch_reports;
    executor_stats batch_st; /* the counters and the report counter when the batch began */
    long long batch_seq;
    mp_reader reader;  /* msgpack answers and reports */
    held_answer *held; /* answers that could not be stored yet */
    size_t nheld, capheld;
    int64_t held_retry_ms;
    held_exit *held_exits; /* exits waiting for their entry's fill to be booked */
    size_t nheld_exits, held_exits_cap;
    bool held_exits_busy; /* deciding on them now: no second pass from inside */
};

static int64_t now_us(executor_core *x) { return x->io.clock_us ? x->io.clock_us(x->io.ctx) : clock_wall_us(); }
static double now_s(executor_core *x) { return (double)now_us(x) / 1e6; }
static bool stopping(executor_core *x) { return x->io.stopping && x->io.stopping(x->io.ctx); }

static void send_order(executor_core *x, order_record *r);
static void settle_with_gateway(executor_core *x, const char *coid);
static bool batch_end(executor_core *x);
static bool batch_writable(executor_core *x);

/* ---- orders in flight, for the risk limits ------------------------------------------------ */

/* Lots an order may still fill: what the position limit and the reduce-only test count. */
static int64_t open_remaining(const order *o) {
    if (!order_is_open(o->status)) return 0;
    return o->qty > o->filled_qty ? o->qty - o->filled_qty : 0;
}

/* Moves the product's pending lots by what changed between before (NULL: a new order) and
 * after. */
static void pending_move(executor_core *x, const order *before, const order *after) {
    int64_t delta = open_remaining(after) - (before ? open_remaining(before) : 0);
    risk_product *p = delta ? risk_product_get(&x->risk, after->symbol) : NULL;
    if (!p) return;
    int64_t *slot = after->side == SIDE_BUY ? &p->pending_buy : &p->pending_sell;
    *slot += delta;
    if (*slot < 0) *slot = 0;
}

static void count_open(void *ctx, const order_record *r) {
    executor_core *x = ctx;
    x->risk.open_orders++;
    pending_move(x, NULL, &r->o);
}

/* Open orders and pending lots from the database: at start, and after a transaction that
 * failed (the in-memory counts may have moved with it). */
static void reload_open(executor_core *x) {
    x->risk.open_orders = 0;
    for (int i = 0; i < x->risk.nproducts; i++) x->risk.products[i].pending_buy = x->risk.products[i].pending_sell = 0;
    if (ostore_each_open(x->os, count_open, x) < 0)
        log_warn("cannot count the open orders: %s", db_error(x->db));
}

/* ---- prices and P&L ---------------------------------------------------------------------- */

static price_t *price_slot(executor_core *x, const char *symbol, bool create) {
    for (int i = 0; i < x->nprices; i++)
        if (!strcmp(x->prices[i].symbol, symbol)) return &x->prices[i].last;
    if (!create || x->nprices == MAX_SYMBOLS) return NULL;
    snprintf(x->prices[x->nprices].symbol, sizeof x->prices[0].symbol, "%s", symbol);
    x->prices[x->nprices].last = 0;
    return &x->prices[x->nprices++].last;
}

typedef struct {
    executor_core *x;
    int64_t total;
} pnl_ctx;

/* Bounds a stored position must be within for its P&L to be computed without overflow; one
 * outside them (written by an older aftm from an absurd report) is reported, not summed. */
#define SANE_QTY (ORDER_QTY_MAX * 1000)
#define SANE_MONEY (ORDER_PRICE_MAX * ORDER_QTY_MAX * 1000)

static void add_position_pnl(void *ctx, const position *p, price_t stored_last) {
    pnl_ctx *c = ctx;
    price_t *live = price_slot(c->x, p->symbol, false);
    price_t mark = live && *live > 0 ? *live : stored_last;
    risk_set_position(&c->x->risk, p->symbol, p->net_qty);
    if (p->net_qty > SANE_QTY || p->net_qty < -SANE_QTY || p->open_cost > SANE_MONEY || p->open_cost < -SANE_MONEY ||
        p->realized > SANE_MONEY || p->realized < -SANE_MONEY || mark > ORDER_PRICE_MAX || mark < 0) {
        log_error("position %s %s holds values out of range (net %lld, cost %lld, realized %lld); its P&L is not counted",
                  p->account, p->symbol, (long long)p->net_qty, (long long)p->open_cost, (long long)p->realized);
        return;
    }
    int64_t points = p->realized + (mark > 0 ? position_unrealized(p, mark) : 0), money;
    if (__builtin_mul_overflow(points, contract_multiplier(p->symbol), &money) ||
        __builtin_add_overflow(c->total, money, &c->total))
        log_error("position %s %s: P&L out of range; not counted", p->account, p->symbol);
}

/* Today's P&L is the total minus the total at the first look of the (local) day. */
static void refresh_pnl_at(executor_core *x, bool record);
static void refresh_pnl(executor_core *x) { refresh_pnl_at(x, x->st.fills > 0); }

static void refresh_pnl_at(executor_core *x, bool record) {
    pnl_ctx c = {x, 0};
    ostore_each_position(x->os, add_position_pnl, &c);
    int64_t wall = now_us(x) / 1000000;
    time_t local = (time_t)wall + 8 * 3600; /* Asia/Taipei has no daylight saving */
    struct tm tm;
    gmtime_r(&local, &tm);
    char key[48];
    snprintf(key, sizeof key, "pnl_base_%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    long long base;
    if (!db_meta_get_int(x->db, key, &base)) {
        base = c.total;
        db_meta_set_int(x->db, key, base);
    }
    /* the equity log: today's row = starting capital + total P&L, after each fill and at each
     * marking of the open positions */
    if (record && !estore_record_pnl(x->db, wall, (long long)c.total))
        log_warn("cannot record today's equity: %s", db_error(x->db));
    if (risk_update_pnl(&x->risk, &x->cfg.limits, c.total - base)) {
        log_error("KILL SWITCH: %s; new entries are refused, exits still allowed ('aftm resume' to clear)",
                  x->risk.kill_reason);
        if (!x->risk.halted) tstate_set(x->db, TSTATE_REDUCING, x->risk.kill_reason, "executor");
    }
}

/* ---- condition feedback ------------------------------------------------------------------ */

/* The round of a repeating condition an order belongs to, from its client order id (0 for one
 * that never repeats, and for ids aftm did not make). */
static int64_t order_round(const order *o) {
    gw_coid c;
    return gw_coid_parse(o->client_order_id, &c) ? c.round : 0;
}

/* Tells the strategy (through the condition row) how an entry ended. */
static void entry_feedback(executor_core *x, const order_record *r) {
    const order *o = &r->o;
    if (r->is_exit || o->condition_id <= 0 || !order_is_terminal(o->status)) return;
    if (o->filled_qty > 0) {
        cstore_set_entry(x->cs, o->condition_id, order_round(o), ENTRY_FILLED, o->filled_qty, NULL);
    } else {
        char note[160];
        snprintf(note, sizeof note, "entry %s: %s", order_status_name(o->status), o->reason[0] ? o->reason : "no reason given");
        cstore_set_entry(x->cs, o->condition_id, order_round(o), ENTRY_REJECTED, 0, note);
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
    int added = ostore_add_fill(x->os, fill_id, &r->o, rep->fill_qty, rep->fill_price, now_s(x));
    if (added <= 0) {
        *failed = added < 0;
        return ORDER_IGNORED_DUPLICATE;
    }
    r->o = probe;
    position p;
    ostore_position_get(x->os, r->o.account, r->o.symbol, &p);
    position_apply_fill(&p, r->o.side, rep->fill_qty, rep->fill_price);
    price_t *last = price_slot(x, r->o.symbol, true);
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
static bool store_change(executor_core *x, const order *before, order_record *r, const char *serial) {
    if (!ostore_update(x->os, &r->o, serial)) return false;
    char detail[256];
    snprintf(detail, sizeof detail, "%s -> %s", order_status_name(before->status), order_status_name(r->o.status));
    db_journal(x->db, "executor", "order", r->o.client_order_id, detail);
    pending_move(x, before, &r->o);
    if (order_is_terminal(r->o.status) && !order_is_terminal(before->status)) {
        risk_order_closed(&x->risk);
        entry_feedback(x, r);
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
    pending_move(x, NULL, &r->o);
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
        if (!store_change(x, &before, &r, rep->serial)) return false;
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
    bool ok = batch_writable(x), filled = false;
    if (ok && !valid) {
        log_warn("refused execution report %lld%s%.64s: %s", seq, rep.client_order_id ? " for " : "",
                 rep.client_order_id ? rep.client_order_id : "", why);
        db_journal(x->db, "executor", "report_refused", rep.client_order_id ? rep.client_order_id : "", why);
    } else if (ok) {
        ok = report_effects(x, &rep, &filled);
    }
    /* the counter itself is stored once, when the batch commits (batch_end) */
    if (!ok) {
        x->batch_failed = true;
        log_error("cannot store report %lld for %s: %s; fetched again from the gateway", seq,
                  rep.client_order_id ? rep.client_order_id : "?", db_error(x->db));
    } else {
        if (seq > x->report_seq) x->report_seq = seq;
        if (filled) x->batch_filled = true;
    }
    if (own && !batch_end(x)) ok = false;
    return ok;
}

/* One page of reports after since from the gateway: applied in order when for_coids is NULL
 * (the counter moves with each), else only the reports of those orders (the counter stays).
 * Returns the highest seq seen, or -1 when the gateway did not answer or the database failed;
 * *more: the gateway has more after this page. */
typedef struct {
    char (*ids)[ORDER_ID_MAX];
    size_t n;
} coid_set;

static bool in_set(const coid_set *set, const char *coid) {
    for (size_t i = 0; coid && i < set->n; i++)
        if (!strcmp(set->ids[i], coid)) return true;
    return false;
}

static long long fetch_page(executor_core *x, long long since, const coid_set *only, bool *more) {
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
    if (own && x->batch && !batch_end(x)) top = -1;
    json_decref(reply);
    return top;
}

bool exc_catch_up(executor_core *x) {
    for (int page = 0; page < 100000; page++) {
        bool more;
        long long before = x->report_seq, top = fetch_page(x, x->report_seq, NULL, &more);
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
    if (x->batch && !batch_writable(x)) {
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
            if (in_batch) batch_end(x);
            x->report_seq = 0;
            exc_catch_up(x);
            if (in_batch) exc_begin_batch(x);
        }
        return;
    }
    if (seq > x->report_seq + 1) {
        log_warn("missed execution reports %lld..%lld; fetching them", x->report_seq + 1, seq - 1);
        if (in_batch) batch_end(x);
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

static void settle_held_exits(executor_core *x);

void exc_on_report_message(executor_core *x, const char *body, size_t len) {
    on_report_message(x, body, len);
    /* a fill booked now may be what a held exit waits for */
    settle_held_exits(x);
}

/* ---- sending ----------------------------------------------------------------------------- */

static void acknowledge(executor_core *x, const order_record *r);

/* What the gateway said to the send of r (reply NULL: no usable answer after every attempt,
 * err says why), written in the open batch's transaction; *cur: the order as it is then (r
 * itself when fresh: the caller has just read it). False when the database failed. */
static bool answer_effects(executor_core *x, const order_record *r, bool fresh, const exproto_send_reply *ans,
                           const char *err, order_record *cur) {
    if (fresh || !ostore_get(x->os, r->o.client_order_id, cur)) *cur = *r;
    order before = cur->o;
    if (!ans) {
        /* Unknown outcome: it may or may not have reached the broker. It stays 'sent' and is
         * settled by asking the gateway for this client order id. (A report may have moved it
         * further already: then there is nothing to say.) */
        if (cur->o.status != ORDER_NEW && cur->o.status != ORDER_SENT) return true;
        order_mark_sent(&cur->o);
        snprintf(cur->o.reason, sizeof cur->o.reason, "no answer from the gateway (%.60s); reconciling", err);
        return ostore_update(x->os, &cur->o, NULL);
    }
    order_mark_sent(&cur->o);
    if (!ans->accepted) order_apply_rejected(&cur->o, ans->reason);
    else order_apply_accepted(&cur->o);
    return store_change(x, &before, cur, ans->serial[0] ? ans->serial : NULL);
}

/* After the answer to cur is durable: said, and an order the gateway already had looked up. */
static void answered(executor_core *x, const order_record *cur, const exproto_send_reply *ans) {
    if (!ans) {
        log_error("order %s: the gateway did not answer after %d attempt(s); will reconcile", cur->o.client_order_id,
                  x->cfg.attempts);
        return;
    }
    if (cur->o.status == ORDER_REJECTED) log_warn("order %s rejected: %s", cur->o.client_order_id, cur->o.reason);
    else log_info("order %s accepted (serial %s)", cur->o.client_order_id, ans->serial[0] ? ans->serial : "-");
    if (ans->accepted && ans->duplicate) {
        /* sent before (a retry, or a send whose answer was lost): what became of it is asked
         * for now, not left to reports that may have gone by already */
        log_info("order %s: the gateway already had it; not placed again, looking it up", cur->o.client_order_id);
        settle_with_gateway(x, cur->o.client_order_id);
    }
}

static held_answer *held_find(executor_core *x, const char *coid) {
    for (size_t i = 0; i < x->nheld; i++)
        if (!strcmp(x->held[i].coid, coid)) return &x->held[i];
    return NULL;
}

/* Keeps the answer to coid to apply again: the broker's word is not dropped because the disk
 * was full or the database busy when it came. */
static void hold_answer(executor_core *x, const char *coid, const exproto_send_reply *ans) {
    held_answer *h = held_find(x, coid);
    if (h) { /* the newer answer is the one kept */
        h->ans = *ans;
        return;
    }
    if (x->nheld == x->capheld) {
        size_t cap = x->capheld ? x->capheld * 2 : 16;
        held_answer *hl = realloc(x->held, cap * sizeof *hl);
        if (!hl) {
            log_error("out of memory: the answer to order %s is left to reconciliation", coid);
            return;
        }
        x->held = hl;
        x->capheld = cap;
    }
    if (!x->nheld) x->held_retry_ms = now_us(x) / 1000 + HELD_RETRY_MS;
    str_copy(x->held[x->nheld].coid, sizeof x->held[0].coid, coid);
    x->held[x->nheld++].ans = *ans;
}

static bool defer(executor_core *x, after_kind kind, const order_record *r, const exproto_send_reply *ans);

/* Applies what the gateway said to the send of r, in the open batch (else in one of its own).
 * An answer that cannot be stored now is kept and applied again; that no answer came, when it
 * cannot be stored, leaves the order to reconciliation, which asks the gateway. */
static void apply_answer(executor_core *x, const order_record *r, bool fresh, const exproto_send_reply *ans,
                         const char *err) {
    bool own = !x->batch;
    if (own) exc_begin_batch(x);
    order_record cur;
    if (x->batch) x->batch_answers++;
    if (!batch_writable(x) || !answer_effects(x, r, fresh, ans, err, &cur) || !defer(x, AFTER_ANSWER, &cur, ans)) {
        if (x->batch) x->batch_failed = true;
        if (ans) {
            log_error("cannot store what the gateway said to %s (%s); kept, and applied again", r->o.client_order_id,
                      db_error(x->db));
            hold_answer(x, r->o.client_order_id, ans);
        } else {
            log_error("cannot store that the gateway did not answer %s (%s); reconciliation will settle it",
                      r->o.client_order_id, db_error(x->db));
        }
    }
    if (own && x->batch) batch_end(x);
}

/* The answers kept because they could not be stored, applied again together (at most every
 * HELD_RETRY_MS). */
static void retry_held(executor_core *x) {
    if (!x->nheld || x->batch || now_us(x) / 1000 < x->held_retry_ms) return;
    held_answer *list = x->held;
    size_t n = x->nheld;
    x->held = NULL;
    x->nheld = x->capheld = 0;
    exc_begin_batch(x);
    for (size_t i = 0; i < n; i++) {
        order_record r;
        if (ostore_get(x->os, list[i].coid, &r)) apply_answer(x, &r, true, &list[i].ans, NULL);
        else log_warn("order %s is no longer in the books; its answer is dropped", list[i].coid);
    }
    if (x->batch) batch_end(x);
    free(list);
    if (x->nheld) x->held_retry_ms = now_us(x) / 1000 + HELD_RETRY_MS;
}

/* ---- orders in flight (submit_order) ------------------------------------------------------ */

static int timeout_ms(const executor_core *x) { return x->cfg.timeout_ms > 0 ? x->cfg.timeout_ms : 2000; }

/* Orders in flight are found by client order id through a hash index (a burst keeps thousands
 * in flight, and each answer looks its order up). */
static size_t coid_hash(const char *coid) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)coid; *c; c++) h = (h ^ *c) * 1099511628211ULL;
    return (size_t)h;
}

static size_t flix_slot(const executor_core *x, const char *coid) {
    size_t mask = x->nflix - 1, i = coid_hash(coid) & mask;
    while (x->flix[i] && strcmp(x->fl[x->flix[i] - 1].coid, coid)) i = (i + 1) & mask;
    return i;
}

static flight *flight_find(executor_core *x, const char *coid) {
    if (!x->nflix) return NULL;
    uint32_t v = x->flix[flix_slot(x, coid)];
    return v ? &x->fl[v - 1] : NULL;
}

/* Rebuilds the index for room for cap flights; false when out of memory (nothing changed). */
static bool flix_rebuild(executor_core *x, size_t cap) {
    size_t n = 16;
    while (n < cap * 2) n *= 2;
    uint32_t *ix = calloc(n, sizeof *ix);
    if (!ix) return false;
    free(x->flix);
    x->flix = ix;
    x->nflix = n;
    for (size_t i = 0; i < x->nfl; i++) x->flix[flix_slot(x, x->fl[i].coid)] = (uint32_t)(i + 1);
    return true;
}

/* Takes the slot i out of the index, moving later entries of its run back (no tombstones). */
static void flix_delete(executor_core *x, size_t i) {
    size_t mask = x->nflix - 1, j = i;
    x->flix[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!x->flix[j]) return;
        size_t home = coid_hash(x->fl[x->flix[j] - 1].coid) & mask;
        /* the entry at j may move to i when its home is not cyclically within (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            x->flix[i] = x->flix[j];
            x->flix[j] = 0;
            i = j;
        }
    }
}

static void flight_remove(executor_core *x, flight *f) {
    size_t at = (size_t)(f - x->fl), last = x->nfl - 1;
    flix_delete(x, flix_slot(x, f->coid));
    if (at != last) {
        /* the last one moves into the hole: its index entry follows */
        size_t s = flix_slot(x, x->fl[last].coid);
        x->fl[at] = x->fl[last];
        x->flix[s] = (uint32_t)(at + 1);
    }
    x->nfl--;
}

/* One try of f; a send that could not leave counts as a try and waits out its timeout. */
static void flight_try(executor_core *x, flight *f) {
    char err[256] = "";
    f->attempt++;
    f->deadline_ms = now_us(x) / 1000 + timeout_ms(x);
    if (!x->io.submit_order(x->io.ctx, f->coid, &f->req, err, sizeof err))
        log_warn("order %s: attempt %d/%d: %s", f->coid, f->attempt, x->cfg.attempts, err);
}

/* Puts the stored order r in flight (once: an order already waiting for its answer is not
 * sent again before that answer or its timeout). */
static void submit(executor_core *x, const order_record *r) {
    if (flight_find(x, r->o.client_order_id)) return;
    if (x->nfl == x->capfl) {
        size_t cap = x->capfl ? x->capfl * 2 : 64;
        flight *fl = realloc(x->fl, cap * sizeof *fl);
        if (fl) x->fl = fl;
        if (!fl || !flix_rebuild(x, cap)) {
            log_error("out of memory: order %s left to reconciliation", r->o.client_order_id);
            return;
        }
        x->capfl = cap;
    }
    flight *f = &x->fl[x->nfl];
    memset(f, 0, sizeof *f);
    str_copy(f->coid, sizeof f->coid, r->o.client_order_id);
    exproto_order_req(&r->o, &f->req);
    x->flix[flix_slot(x, f->coid)] = (uint32_t)(x->nfl + 1);
    x->nfl++;
    flight_try(x, f);
}

void exc_on_order_reply(executor_core *x, const char *coid, const char *body, size_t len) {
    exproto_send_reply ans;
    if (!exproto_read_send_reply(&x->reader, body, len, &ans)) {
        /* not an answer: the order waits for one (or its timeout and a retry) */
        log_warn("order %.64s: the gateway's answer is neither a JSON object nor a msgpack map; skipped",
                 coid ? coid : "?");
        return;
    }
    flight *f = coid ? flight_find(x, coid) : NULL;
    order_record r;
    if (f) flight_remove(x, f);
    if (!coid || !ostore_get(x->os, coid, &r)) {
        log_warn("an answer for order %.64s, which this executor did not place; skipped", coid ? coid : "?");
    } else if (f || r.o.status == ORDER_NEW || r.o.status == ORDER_SENT) {
        /* a late answer to an order given up on is still the broker's word on it */
        apply_answer(x, &r, true, &ans, NULL);
    }
}

void exc_service(executor_core *x) {
    retry_held(x);
    int64_t now = now_us(x) / 1000;
    for (size_t i = 0; i < x->nfl;) {
        flight *f = &x->fl[i];
        if (f->deadline_ms > now) {
            i++;
        } else if (f->attempt < x->cfg.attempts && !stopping(x)) {
            log_warn("order %s: attempt %d/%d: no answer within %d ms; trying again with the same id", f->coid,
                     f->attempt, x->cfg.attempts, timeout_ms(x));
            flight_try(x, f);
            i++;
        } else {
            char coid[ORDER_ID_MAX], err[64];
            str_copy(coid, sizeof coid, f->coid);
            snprintf(err, sizeof err, "no answer within %d ms", timeout_ms(x));
            flight_remove(x, f); /* the last one moved to i: looked at next */
            order_record r;
            if (ostore_get(x->os, coid, &r)) apply_answer(x, &r, true, NULL, err);
        }
    }
}

int exc_next_timeout_ms(executor_core *x) {
    if (!x->nfl && !x->nheld) return -1;
    int64_t now = now_us(x) / 1000, due = x->nheld ? x->held_retry_ms : INT64_MAX;
    for (size_t i = 0; i < x->nfl; i++)
        if (x->fl[i].deadline_ms < due) due = x->fl[i].deadline_ms;
    return due <= now ? 0 : due - now > 60000 ? 60000 : (int)(due - now);
}

size_t exc_in_flight(const executor_core *x) { return x->nfl; }

/* ---- group commit ------------------------------------------------------------------------- */

/* Something to do once the batch's transaction has committed (ans copied). False when it
 * cannot be kept (the batch then fails). */
static bool defer(executor_core *x, after_kind kind, const order_record *r, const exproto_send_reply *ans) {
    if (x->ndef == x->capdef) {
        size_t cap = x->capdef ? x->capdef * 2 : 64;
        deferred *d = realloc(x->def, cap * sizeof *d);
        if (!d) {
            x->batch_failed = true;
            return false;
        }
        x->def = d;
        x->capdef = cap;
    }
    deferred *d = &x->def[x->ndef++];
    d->kind = kind;
    d->r = *r;
    d->has_ans = ans != NULL;
    if (ans) d->ans = *ans;
    return true;
}

/* The batch's transaction can take more: it is open, nothing in it failed, and SQLite did not
 * roll it back on its own (a full disk can end a transaction; a write after that would commit
 * on its own, outside the batch). */
static bool batch_writable(executor_core *x) {
    if (!x->batch || x->batch_failed) return false;
    if (sqlite3_get_autocommit(x->db)) x->batch_failed = true;
    return !x->batch_failed;
}

void exc_begin_batch(executor_core *x) {
    if (x->batch) return;
    x->ndef = 0;
    x->batch_failed = x->batch_filled = false;
    x->batch_signals = x->batch_answers = x->batch_reports = 0;
    x->batch_st = x->st;
    x->batch_seq = x->report_seq;
    /* busy: no batch, each signal stored on its own (and refused on its own if still busy) */
    x->batch = ostore_begin(x->os);
}

/* Commits the batch and does what waited for it, in the order received; when the commit
 * fails, puts the in-memory state back as it was before the batch: nothing of it was sent or
 * acknowledged, its answers are kept to be applied again, its reports fetched again. */
static bool batch_end(executor_core *x) {
    if (!x->batch) return false;
    x->batch = false;
    /* the report counter as the batch leaves it, in the same transaction as what it counts */
    if (!x->batch_failed && x->report_seq != x->batch_seq &&
        !db_meta_set_int(x->db, "executor_report_seq", x->report_seq))
        x->batch_failed = true;
    bool ok = !x->batch_failed && !sqlite3_get_autocommit(x->db) && ostore_commit(x->os);
    /* what waited is taken out first: sending and looking up can open batches of their own */
    deferred *list = x->def;
    size_t n = x->ndef, cap = x->capdef;
    x->def = NULL;
    x->ndef = x->capdef = 0;
    if (!ok) {
        log_error("cannot store what was received together (%zu signal(s), %zu answer(s), %zu report(s)): %s; "
                  "the signals come again, the answers are kept, the reports fetched again",
                  x->batch_signals, x->batch_answers, x->batch_reports, db_error(x->db));
        if (!sqlite3_get_autocommit(x->db)) ostore_rollback(x->os);
        reload_open(x);
        x->st.orders = x->batch_st.orders;
        x->st.refused = x->batch_st.refused;
        x->st.fills = x->batch_st.fills;
        x->report_seq = x->batch_seq;
        for (size_t i = 0; i < n; i++)
            if (list[i].kind == AFTER_ANSWER && list[i].has_ans) hold_answer(x, list[i].r.o.client_order_id, &list[i].ans);
    } else {
        if (x->batch_filled) refresh_pnl(x);
        for (size_t i = 0; i < n; i++) {
            if (list[i].kind == AFTER_SEND) send_order(x, &list[i].r);
            else if (list[i].kind == AFTER_ACK) acknowledge(x, &list[i].r);
            else answered(x, &list[i].r, list[i].has_ans ? &list[i].ans : NULL);
        }
    }
    if (!x->def) {
        x->def = list;
        x->capdef = cap;
    } else {
        free(list);
    }
    return ok;
}

void exc_end_batch(executor_core *x) { batch_end(x); }

/* Sends the stored order: in flight through submit_order, else through the blocking sink,
 * retries reusing the same client order id, and applies the answer. Inside a batch, after its
 * commit. */
static void send_order(executor_core *x, order_record *r) {
    if (x->batch) {
        defer(x, AFTER_SEND, r, NULL);
        return;
    }
    if (x->io.submit_order) {
        submit(x, r);
        return;
    }
    broker_order_req breq;
    exproto_order_req(&r->o, &breq);
    json_t *req = exproto_send_order_request(&breq);
    json_t *reply = NULL;
    char err[256] = "";
    for (int attempt = 1; attempt <= x->cfg.attempts && !reply; attempt++) {
        reply = req ? x->io.send_order(x->io.ctx, req, err, sizeof err) : NULL;
        if (!req) snprintf(err, sizeof err, "out of memory");
        if (!reply) log_warn("order %s: attempt %d/%d: %s", r->o.client_order_id, attempt, x->cfg.attempts, err);
        if (stopping(x)) break;
    }
    json_decref(req);
    exproto_send_reply ans;
    if (reply) {
        gw_fields f = gw_fields_of_json(reply);
        exproto_parse_send_reply(&f, &ans);
    }
    apply_answer(x, r, false, reply ? &ans : NULL, err);
    json_decref(reply);
}

/* Tells the strategy that the signal of r is stored (see net/signal_ack.h). */
static void acknowledge(executor_core *x, const order_record *r) {
    if (x->batch) {
        defer(x, AFTER_ACK, r, NULL);
        return;
    }
    if (!x->io.acknowledge) return;
    signal_ack a = {.refused = r->o.status == ORDER_REJECTED};
    str_copy(a.signal_id, sizeof a.signal_id, r->o.signal_id);
    str_copy(a.client_order_id, sizeof a.client_order_id, r->o.client_order_id);
    if (a.refused) str_copy(a.reason, sizeof a.reason, r->o.reason);
    x->io.acknowledge(x->io.ctx, &a);
}

/* Stores a refused signal as a rejected order, so it shows in 'aftm orders' with its reason (and
 * the strategy sees its signal acknowledged). */
static void record_refusal(executor_core *x, order_record *r, const char *reason) {
    snprintf(r->o.reason, sizeof r->o.reason, "%s", reason);
    r->o.status = ORDER_REJECTED;
    bool in_batch = x->batch, stored = in_batch || ostore_begin(x->os);
    if (stored) {
        stored = ostore_insert(x->os, r) && db_journal(x->db, "executor", "refused", r->o.client_order_id, reason);
        if (stored) entry_feedback(x, r);
        if (in_batch) {
            if (!stored) x->batch_failed = true; /* the whole batch is rolled back */
        } else if (!stored || !ostore_commit(x->os)) {
            ostore_rollback(x->os);
            stored = false;
        }
    }
    if (!stored) {
        /* not acknowledged: the strategy sends it again */
        log_error("signal %s refused (%s), but the refusal cannot be stored now (%s)", r->o.signal_id, reason,
                  db_error(x->db));
        return;
    }
    x->st.refused++;
    log_warn("signal %s refused: %s", r->o.signal_id, reason);
    acknowledge(x, r);
    if (r->is_exit) log_error("an EXIT was refused: the position in %s stays open", r->o.symbol);
}

/* ---- exits never open a position ------------------------------------------------------- */

/* The entry an exit closes, as the books show it. */
typedef struct {
    bool open;      /* the entry order is still open in the books */
    int64_t filled; /* lots it filled that the exit may close */
    char coid[ORDER_ID_MAX];
} exit_entry;

/* What an exit may close: at most what its condition holds (its entry's fills) and what the
 * account still holds for it (the net position less what the other conditions hold), so an
 * exit never opens or flips a position, whatever was done by hand in between. The other
 * conditions are taken out because on a netting account a buy and a sell condition can hold
 * +1 and -1 with the account flat: each exit still closes its own lot. 0 with why: nothing
 * left to close; -1: the books could not be read. *attributed: the entry is in the books, so the
 * size is the condition's own (the risk rules then take it as an exit whatever the net). */
static int64_t exit_size(executor_core *x, const order *o, const char *signal_id, bool *attributed,
                         exit_entry *ent, char *why, size_t whylen) {
    *attributed = false;
    memset(ent, 0, sizeof *ent);
    char entry_id[ORDER_ID_MAX];
    snprintf(entry_id, sizeof entry_id, "%s", signal_id);
    entry_id[strlen(entry_id) - 1] = 'E'; /* an exit's id ends in ".X" (gw_is_exit) */
    side_t held = o->side == SIDE_BUY ? SIDE_SELL : SIDE_BUY;
    /* no entry in the books (the original's signals, an exit leg of something aftm did not
     * enter): nothing to attribute; the risk rules' own reduce-only test decides */
    order_record entry;
    if (!ostore_get_by_signal(x->os, entry_id, &entry)) return o->qty;
    *attributed = true;
    int64_t holds = entry.o.side == held ? entry.o.filled_qty : 0;
    ent->open = order_is_open(entry.o.status);
    ent->filled = holds;
    snprintf(ent->coid, sizeof ent->coid, "%s", entry.o.client_order_id);
    position p;
    int64_t others;
    if (!ostore_position_get(x->os, o->account, o->symbol, &p) ||
        !ostore_conditions_hold(x->os, o->account, o->symbol, entry_id, &others))
        return -1;
    int64_t mine = held == SIDE_BUY ? p.net_qty - others : others - p.net_qty;
    if (mine < 0) mine = 0;
    int64_t qty = o->qty < holds ? o->qty : holds;
    if (mine < qty) qty = mine;
    if (qty < o->qty)
        snprintf(why, whylen, "the condition holds %lld lot(s); the account holds %+lld %s, of which the other "
                 "conditions hold %+lld", (long long)holds, (long long)p.net_qty, o->symbol, (long long)others);
    return qty;
}

/* An exit with nothing left to close: not sent; its order row (rejected, with the reason)
 * acknowledges the signal and the condition ends as closed by hand. */
static void skip_exit(executor_core *x, order_record *r, const char *why) {
    snprintf(r->o.reason, sizeof r->o.reason, "closed by hand: %.100s", why);
    r->o.status = ORDER_REJECTED;
    char note[160];
    snprintf(note, sizeof note, "closed by hand: the exit found no position left to close");
    /* inside a batch of signals, in its transaction (rolled back whole if this fails) */
    bool in_batch = x->batch, stored = in_batch || ostore_begin(x->os);
    if (stored) {
        stored = ostore_insert(x->os, r) && db_journal(x->db, "executor", "exit_skipped", r->o.client_order_id, why) &&
                 (r->o.condition_id <= 0 || cstore_set_closed(x->cs, r->o.condition_id, order_round(&r->o), note));
        if (in_batch) {
            if (!stored) x->batch_failed = true;
        } else if (!stored || !ostore_commit(x->os)) {
            ostore_rollback(x->os);
            stored = false;
        }
    }
    if (!stored) {
        /* not acknowledged: the strategy sends it again */
        log_error("exit %s has nothing to close, but that cannot be stored now (%s)", r->o.signal_id,
                  db_error(x->db));
        return;
    }
    log_warn("exit %s skipped: %s; condition %lld closed by hand", r->o.signal_id, why, (long long)r->o.condition_id);
    acknowledge(x, r);
}

bool exc_account(executor_core *x, char *out, size_t cap) {
    if (x->cfg.account[0]) {
        snprintf(out, cap, "%s", x->cfg.account);
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

/* ---- exits held until their entry is booked ------------------------------------------------ */

/* How long an exit waits for its entry's fill to arrive on the report stream before the broker
 * is asked about the entry; then, while the broker shows the entry open and unfilled, how often
 * it is asked again. */
#define HOLD_MS 3000
#define HOLD_AGAIN_MS 15000

/* What may happen to an exit whose entry is not booked as filled: a signal just received is held
 * (stored, acknowledged); a held one decided again stays held; after the broker was asked, it is
 * decided on what the books now say, and stays held only while the entry is open with nothing
 * filled (sending would find nothing to close, skipping would leave the fill to come unmanaged). */
typedef enum { HOLD_NEW, HOLD_AGAIN, HOLD_FINAL } hold_mode;

static held_exit *held_exit_find(executor_core *x, const char *signal_id) {
    for (size_t i = 0; i < x->nheld_exits; i++)
        if (!strcmp(x->held_exits[i].sig.signal_id, signal_id)) return &x->held_exits[i];
    return NULL;
}

static bool held_exit_add(executor_core *x, const wire_signal *sig, int64_t due_ms) {
    if (held_exit_find(x, sig->signal_id)) return true;
    if (x->nheld_exits == x->held_exits_cap) {
        size_t cap = x->held_exits_cap ? x->held_exits_cap * 2 : 8;
        held_exit *h = realloc(x->held_exits, cap * sizeof *h);
        if (!h) return false;
        x->held_exits = h;
        x->held_exits_cap = cap;
    }
    x->held_exits[x->nheld_exits].sig = *sig;
    x->held_exits[x->nheld_exits].due_ms = due_ms;
    x->nheld_exits++;
    return true;
}

/* Stores the exit as received (that acknowledges it) and keeps it in memory. False when it
 * could not be stored: then it is not acknowledged, and the strategy sends it again. */
static bool hold_exit(executor_core *x, const wire_signal *sig, const order_record *r, const exit_entry *entry) {
    char body[HELD_EXIT_BODY_MAX];
    size_t len = wire_encode_signal(sig, true, body, sizeof body);
    if (!len || !hexit_put(x->db, sig->signal_id, body, len, now_s(x))) {
        log_error("exit %s waits for its entry's fill, but cannot be stored now (%s); not acknowledged",
                  sig->signal_id, sqlite3_errmsg(x->db));
        return false;
    }
    if (!held_exit_add(x, sig, now_us(x) / 1000 + HOLD_MS)) {
        log_error("exit %s: out of memory holding it; decided again at the next start", sig->signal_id);
        return false;
    }
    db_journal(x->db, "executor", "exit_held", r->o.client_order_id, entry->coid);
    log_warn("exit %s held: its entry %s is not booked as filled yet (%lld lot(s) so far); decided when its fill "
             "is booked, or after asking the broker in %d s", sig->signal_id, entry->coid, (long long)entry->filled,
             HOLD_MS / 1000);
    return true;
}

/* ---- signals ----------------------------------------------------------------------------- */

/* Room for "aftm-<instance>-" in front of a signal id. */
#define COID_PREFIX_LEN (5 + DB_INSTANCE_ID_LEN + 1)

/* One signal: refused, skipped, held (an exit whose entry is not booked yet; see hold_mode) or
 * stored and sent. */
static void take_signal(executor_core *x, const wire_signal *sig, hold_mode mode) {
    /* inside a batch that failed already: not stored, not acknowledged (the strategy sends it
     * again; a held exit is decided again later) */
    if (x->batch && !batch_writable(x)) return;
    order_record r;
    memset(&r, 0, sizeof r);
    char signal_id[ORDER_ID_MAX - COID_PREFIX_LEN];
    if (sig->has_ext && strlen(sig->signal_id) >= sizeof signal_id) {
        log_warn("signal id '%.80s' is longer than %zu characters; dropped", sig->signal_id, sizeof signal_id - 1);
        return;
    }
    if (sig->has_ext) memcpy(signal_id, sig->signal_id, strlen(sig->signal_id) + 1);
    else /* the original's signal has no id: one per message received */
        snprintf(signal_id, sizeof signal_id, "orig-%lld-%llu", (long long)llround(sig->when * 1e6),
                 (unsigned long long)++x->orig_counter);
    char coid[ORDER_ID_MAX];
    if (!gw_coid_from_signal(coid, sizeof coid, x->instance, signal_id)) {
        log_warn("signal id '%.80s' does not make a client order id (printable, no spaces); dropped", signal_id);
        return;
    }
    r.is_exit = gw_is_exit(signal_id);
    r.ref_price = sig->price;
    r.signal_when = sig->when;

    order_record existing;
    if (ostore_get_by_signal(x->os, signal_id, &existing)) {
        if (existing.o.status == ORDER_NEW) {
            log_warn("signal %s arrived again and its order never left; sending it now", signal_id);
            send_order(x, &existing);
        } else {
            /* the strategy resends until it sees the order row: this is the acknowledgement */
            log_info("signal %s arrived again: its order %s is already %s; not sent twice", signal_id,
                     existing.o.client_order_id, order_status_name(existing.o.status));
            /* a restarted strategy may have lost what it knew of this entry: tell it again */
            entry_feedback(x, &existing);
        }
        acknowledge(x, &existing);
        return;
    }
    char account[64] = "";
    bool have_account = exc_account(x, account, sizeof account);
    side_t side = sig->side == WIRE_BUY ? SIDE_BUY : SIDE_SELL;
    if (!order_init(&r.o, coid, signal_id, sig->condition_id, have_account ? account : "-", sig->commodity_id, side,
                    sig->quantity)) {
        log_warn("signal %s is not a valid order (quantity %lld, 1..%lld); dropped", signal_id,
                 (long long)sig->quantity, (long long)ORDER_QTY_MAX);
        return;
    }
    if (mode == HOLD_NEW && held_exit_find(x, signal_id)) {
        /* held already: this resend is acknowledged again, and waits with the first */
        acknowledge(x, &r);
        return;
    }
    if (!have_account) {
        char why[256];
        /* an expired session blocks new entries, and says so */
        if (!session_entry_blocked(x->db, now_s(x), why, sizeof why))
            snprintf(why, sizeof why, "no order account selected (select one, or pass --account)");
        record_refusal(x, &r, why);
        return;
    }
    bool sized_exit = false;
    if (r.is_exit) {
        char why[256] = "";
        exit_entry entry;
        int64_t qty = exit_size(x, &r.o, signal_id, &sized_exit, &entry, why, sizeof why);
        if (qty < 0) {
            /* not acknowledged: the strategy sends it again (a held one is decided again later) */
            log_error("cannot read the books to size exit %s (%s); not sent now", signal_id, db_error(x->db));
            return;
        }
        /* The strategy follows the report stream too and may start the exit before the entry's
         * fill is booked here: sized now, the exit would find nothing to close and leave the
         * position unmanaged. It waits for the fill (or the broker's word) instead. */
        bool wait = entry.open && qty < r.o.qty && (mode != HOLD_FINAL || entry.filled == 0);
        if (wait) {
            if (mode == HOLD_NEW && hold_exit(x, sig, &r, &entry)) acknowledge(x, &r);
            return;
        }
        if (qty == 0) {
            skip_exit(x, &r, why);
            return;
        }
        if (qty < r.o.qty) {
            log_warn("exit %s sized down from %lld to %lld lot(s): %s", signal_id, (long long)r.o.qty,
                     (long long)qty, why);
            r.o.qty = qty;
        }
    }
    int64_t now_ms = now_us(x) / 1000;
    risk_request req = {.symbol = r.o.symbol, .side = side, .qty = r.o.qty, .ref_price = sig->price,
                        .signal_ms = (int64_t)llround(sig->when * 1000), .now_ms = now_ms, .duplicate = false,
                        .closes_holding = sized_exit};
    price_t *last = price_slot(x, r.o.symbol, false);
    req.last_price = last ? *last : 0;
    /* A signal without a price (the original's) is a market order at the last price. */
    if (req.ref_price <= 0) req.ref_price = req.last_price;
    local_time(now_ms, &req.minute_of_day, &req.weekday);
    char reason[RISK_REASON_MAX + 32], why[RISK_REASON_MAX];
    risk_verdict v = risk_check(&x->cfg.limits, &x->risk, &req, why, sizeof why);
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
        log_error("cannot store order %s (%s); not sent (the strategy sends the signal again)", coid,
                  db_error(x->db));
        if (x->batch) x->batch_failed = true; /* the whole batch is rolled back */
        return;
    }
    risk_record_order(&x->risk, now_ms);
    pending_move(x, NULL, &r.o);
    x->st.orders++;
    acknowledge(x, &r);
    log_info("order %s: %s %lld %s for signal %s%s", coid, side == SIDE_BUY ? "buy" : "sell", (long long)r.o.qty,
             r.o.symbol, signal_id, r.is_exit ? " (exit)" : reduces ? " (entry; reduces the net position)" : " (entry)");
    send_order(x, &r);
}

void exc_on_signal(executor_core *x, const wire_signal *sig) {
    x->st.signals++;
    if (x->batch) x->batch_signals++;
    take_signal(x, sig, HOLD_NEW);
}

/* Decides again on each held exit: once its entry's fill is booked (or the entry ended), it is
 * sized and sent (or skipped) as any exit; past its deadline, the entry is first settled with
 * the broker (its status, then the gateway's report log), and the exit decided on that. An exit
 * leaves the hold once its order row (sent, refused or skipped) is stored. */
static void settle_held_exits(executor_core *x) {
    if (!x->nheld_exits || x->held_exits_busy) return;
    x->held_exits_busy = true;
    for (size_t i = 0; i < x->nheld_exits;) {
        wire_signal sig = x->held_exits[i].sig;
        order_record r;
        bool decided = ostore_get_by_signal(x->os, sig.signal_id, &r);
        hold_mode mode = HOLD_AGAIN;
        if (!decided) {
            int64_t now = now_us(x) / 1000;
            if (now >= x->held_exits[i].due_ms) {
                char entry_id[WIRE_SIGNAL_ID_MAX];
                snprintf(entry_id, sizeof entry_id, "%s", sig.signal_id);
                entry_id[strlen(entry_id) - 1] = 'E';
                order_record entry;
                if (ostore_get_by_signal(x->os, entry_id, &entry) && order_is_open(entry.o.status)) {
                    log_warn("exit %s: no fill of its entry %s booked after %d s; asking the broker", sig.signal_id,
                             entry.o.client_order_id, HOLD_MS / 1000);
                    exc_catch_up(x);
                    settle_with_gateway(x, entry.o.client_order_id);
                }
                mode = HOLD_FINAL;
                x->held_exits[i].due_ms = now + HOLD_AGAIN_MS;
            }
            take_signal(x, &sig, mode);
            decided = ostore_get_by_signal(x->os, sig.signal_id, &r);
        }
        if (!decided) {
            if (mode == HOLD_FINAL)
                log_error("exit %s still waits: the broker shows its entry open with nothing filled; asked again in "
                          "%d s", sig.signal_id, HOLD_AGAIN_MS / 1000);
            i++;
            continue;
        }
        if (!hexit_remove(x->db, sig.signal_id)) {
            i++; /* the row goes next time; its order row already answers for it */
            continue;
        }
        log_info("held exit %s decided: order %s %s", sig.signal_id, r.o.client_order_id,
                 order_status_name(r.o.status));
        memmove(&x->held_exits[i], &x->held_exits[i + 1], (x->nheld_exits - i - 1) * sizeof *x->held_exits);
        x->nheld_exits--;
    }
    x->held_exits_busy = false;
}

static void load_held_exit(void *ctx, const held_exit_row *row) {
    executor_core *x = ctx;
    wire_msg m;
    if (wire_decode(&x->dec, row->body, row->len, &m) != WIRE_SIGNAL || !m.u.signal.has_ext ||
        strcmp(m.u.signal.signal_id, row->signal_id)) {
        log_error("held exit %s is not a signal aftm stored; left in the database for a look", row->signal_id);
        return;
    }
    if (!held_exit_add(x, &m.u.signal, now_us(x) / 1000 + HOLD_MS))
        log_error("held exit %s: out of memory; decided at the next start", row->signal_id);
    else log_warn("exit %s was held when the executor stopped; deciding on it again", row->signal_id);
}

/* ---- orders by hand ---------------------------------------------------------------------- */

#define MANUAL_PREFIX "manual-"

/* One order by hand, placed as any order is (stored first under a client order id of this
 * database, the risk rules, then sent), marked by its signal id (no condition): "manual-<request
 * id>" for 'aftm order send', "flatten-<request id>-<product>" for 'aftm flatten', whose orders
 * carry risk_request.flatten (they pass in every trading state). Returns false when the order
 * could not be stored (the request stays taken and is tried again); *coid and result say what
 * happened otherwise. An order already stored under signal_id (the executor stopped between
 * storing it and finishing the request) is only reported. */
static bool place_by_hand(executor_core *x, const char *signal_id, const char *account, const char *symbol,
                          side_t side, int64_t qty, price_t limit_price, bool rests, bool flatten, char *coid,
                          char *result, size_t cap) {
    order_record r;
    memset(&r, 0, sizeof r);
    coid[0] = 0;
    if (ostore_get_by_signal(x->os, signal_id, &r)) {
        snprintf(coid, ORDER_ID_MAX, "%s", r.o.client_order_id);
        snprintf(result, cap, "%s", r.o.status == ORDER_REJECTED ? r.o.reason : "placed");
        return true;
    }
    if (!gw_coid_from_signal(coid, ORDER_ID_MAX, x->instance, signal_id) ||
        !order_init(&r.o, coid, signal_id, 0, account, symbol, side, qty)) {
        coid[0] = 0;
        snprintf(result, cap, "not a valid order (quantity or product)");
        return true;
    }
    r.o.limit_price = limit_price > 0 ? limit_price : 0;
    r.o.rests = r.o.limit_price > 0 && rests;
    int64_t now_ms = now_us(x) / 1000;
    price_t *last = price_slot(x, r.o.symbol, false);
    risk_request req = {.symbol = r.o.symbol, .side = side, .qty = r.o.qty, .now_ms = now_ms, .signal_ms = now_ms,
                        .duplicate = false, .closes_holding = flatten, .flatten = flatten};
    req.last_price = last ? *last : 0;
    /* a market order by hand: at the last price; a limit: at its limit (the price band checks it) */
    req.ref_price = r.o.limit_price > 0 ? r.o.limit_price : req.last_price;
    r.ref_price = req.ref_price;
    r.signal_when = now_s(x);
    local_time(now_ms, &req.minute_of_day, &req.weekday);
    char why[RISK_REASON_MAX];
    risk_verdict v = risk_check(&x->cfg.limits, &x->risk, &req, why, sizeof why);
    if (v != RISK_OK) {
        snprintf(result, cap, "risk %s: %s", risk_rule_code(v), why);
        record_refusal(x, &r, result);
        return true;
    }
    if (!ostore_insert(x->os, &r)) {
        log_error("cannot store order %s by hand (%s); tried again", coid, db_error(x->db));
        return false;
    }
    risk_record_order(&x->risk, now_ms);
    pending_move(x, NULL, &r.o);
    x->st.orders++;
    db_journal(x->db, "executor", flatten ? "flatten_order" : "manual_order", coid, signal_id);
    snprintf(result, cap, "placed");
    char how[48] = "market";
    if (r.o.limit_price > 0)
        snprintf(how, sizeof how, "limit %lld %s", (long long)r.o.limit_price, r.o.rests ? "ROD" : "IOC");
    log_info("order %s: %s %lld %s %s by hand (%s)", coid, side == SIDE_BUY ? "buy" : "sell", (long long)r.o.qty,
             r.o.symbol, how, signal_id);
    send_order(x, &r);
    return true;
}

static void place_manual(executor_core *x, const manual_request *q) {
    char signal_id[32], coid[ORDER_ID_MAX], result[sizeof q->result];
    snprintf(signal_id, sizeof signal_id, MANUAL_PREFIX "%lld", (long long)q->id);
    if (place_by_hand(x, signal_id, q->account, q->symbol, q->side, q->qty, q->limit_price, q->rests, false, coid,
                      result, sizeof result))
        mreq_finish(x->db, q->id, coid, result);
}

/* ---- flatten ------------------------------------------------------------------------------ */

#define FLATTEN_MAX 64

typedef struct {
    const manual_request *q;
    struct {
        char symbol[ORDER_SYMBOL_MAX];
        int64_t net;
    } open[FLATTEN_MAX];
    int n;
} flatten_ctx;

static void note_open(void *ctx, const position *p, price_t last) {
    (void)last;
    flatten_ctx *c = ctx;
    if (!p->net_qty || strcmp(p->account, c->q->account) || (c->q->target[0] && strcmp(p->symbol, c->q->target)) ||
        c->n == FLATTEN_MAX)
        return;
    snprintf(c->open[c->n].symbol, sizeof c->open[c->n].symbol, "%s", p->symbol);
    c->open[c->n].net = p->net_qty;
    c->n++;
}

/* 'aftm flatten': one market order per open position of the account (or of target), against
 * the whole net, in any trading state. The result names each order (or the refusal). */
static void flatten_all(executor_core *x, const manual_request *in) {
    manual_request req = *in, *q = &req;
    /* written without an account (no session's order account): the one this executor runs for */
    char account[64] = "";
    if (!q->account[0] && !exc_account(x, account, sizeof account)) {
        mreq_finish(x->db, q->id, "", "no order account selected (select one, or pass --account to the executor)");
        return;
    }
    if (!q->account[0]) str_copy(q->account, sizeof q->account, account);
    flatten_ctx c;
    memset(&c, 0, sizeof c);
    c.q = q;
    if (ostore_each_position(x->os, note_open, &c) < 0) {
        log_error("cannot read the books to flatten (request %lld): %s; tried again", (long long)q->id,
                  db_error(x->db));
        return;
    }
    char result[sizeof q->result] = "", one[256], coid[ORDER_ID_MAX];
    size_t used = 0;
    for (int i = 0; i < c.n; i++) {
        char signal_id[64], res[RISK_REASON_MAX + 32];
        snprintf(signal_id, sizeof signal_id, "flatten-%lld-%s", (long long)q->id, c.open[i].symbol);
        int64_t net = c.open[i].net;
        if (!place_by_hand(x, signal_id, q->account, c.open[i].symbol, net > 0 ? SIDE_SELL : SIDE_BUY,
                           net > 0 ? net : -net, 0, false, true, coid, res, sizeof res))
            return; /* left taken: done again (orders already stored are only reported) */
        snprintf(one, sizeof one, "%s%s %+lld: %s %.60s", used ? "; " : "", c.open[i].symbol, (long long)-net,
                 coid[0] ? coid : "-", res);
        if (used + strlen(one) < sizeof result) used += (size_t)snprintf(result + used, sizeof result - used, "%s", one);
    }
    if (!c.n) snprintf(result, sizeof result, "nothing to flatten: no open position%s%.32s", q->target[0] ? " in " : "",
                       q->target);
    log_warn("flatten (request %lld): %s", (long long)q->id, result);
    mreq_finish(x->db, q->id, "", result);
}

/* ---- cancel ------------------------------------------------------------------------------- */

/* 'aftm order cancel ID': an open order of the books is cancelled through the gateway's
 * cancel_order (in any trading state); the books follow the broker's report of it. */
static void cancel_by_hand(executor_core *x, const manual_request *q) {
    order_record r;
    char result[sizeof q->result], err[256] = "";
    if (!ostore_get(x->os, q->target, &r)) snprintf(result, sizeof result, "no order %s in the books", q->target);
    else if (!order_is_open(r.o.status))
        snprintf(result, sizeof result, "order %s is already %s; nothing to cancel", q->target,
                 order_status_name(r.o.status));
    else {
        json_t *req = json_pack("{s:s,s:o}", "operation", "cancel_order", "parameters", gw_cancel_params(q->target));
        json_t *reply = req ? x->io.gateway_call(x->io.ctx, req, err, sizeof err) : NULL;
        json_decref(req);
        if (!reply) snprintf(result, sizeof result, "the gateway did not answer: %.120s", err[0] ? err : "no reason");
        else if (!gw_reply_ok(reply)) {
            const char *m = json_string_value(json_object_get(reply, "message"));
            json_t *d = gw_reply_data(reply);
            if (!m && d) m = json_string_value(json_object_get(d, "error_message"));
            snprintf(result, sizeof result, "the broker refused the cancel: %.120s", m ? m : "no reason given");
        } else
            snprintf(result, sizeof result, "cancel sent");
        json_decref(reply);
        db_journal(x->db, "executor", "cancel_order", q->target, result);
        /* the broker's answer is booked now, not at the next reconciliation */
        if (reply) settle_with_gateway(x, q->target);
    }
    log_warn("cancel %s (request %lld): %s", q->target, (long long)q->id, result);
    mreq_finish(x->db, q->id, q->target, result);
}

static void take_request(executor_core *x, const manual_request *q) {
    if (q->kind == MREQ_FLATTEN) flatten_all(x, q);
    else if (q->kind == MREQ_CANCEL) cancel_by_hand(x, q);
    else place_manual(x, q);
}

void exc_take_manual(executor_core *x) {
    manual_request q;
    for (int i = 0; i < 64 && mreq_next_pending(x->db, &q); i++)
        if (mreq_move(x->db, q.id, MREQ_PENDING, MREQ_TAKEN)) take_request(x, &q);
}

/* At start: requests taken by an executor that stopped before finishing them. */
static void finish_taken(executor_core *x) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db, "SELECT id FROM manual_requests WHERE state='taken' ORDER BY id LIMIT 64", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    int64_t ids[64];
    int n = 0;
    while (n < 64 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    manual_request q;
    for (int i = 0; i < n; i++)
        if (mreq_get(x->db, ids[i], &q)) take_request(x, &q);
}

void exc_on_signal_message(executor_core *x, const void *body, size_t len) {
    wire_msg m;
    wire_kind k = wire_decode(&x->dec, body, len, &m);
    if (k == WIRE_SIGNAL) exc_on_signal(x, &m.u.signal);
    else if (k == WIRE_ERROR) log_warn("failed to decode a signal message: %s (%s); skipped", m.error, m.error_class);
    else log_warn("received a message that is not a TradingSignal; skipped");
}

/* ---- ticks ------------------------------------------------------------------------------- */

void exc_set_last_price(executor_core *x, const char *symbol, price_t price) {
    if (price <= 0) return;
    price_t *p = price_slot(x, symbol, true);
    if (p) *p = price;
}

void exc_on_tick_message(executor_core *x, const void *body, size_t len) {
    wire_msg m;
    if (wire_decode(&x->dec, body, len, &m) != WIRE_TICK) return;
    if (!isfinite(m.u.tick.match_price) || m.u.tick.match_price < 1 || m.u.tick.match_price > ORDER_PRICE_MAX) return;
    price_t *p = price_slot(x, m.u.tick.commodity_id, true);
    if (p) *p = (price_t)trunc(m.u.tick.match_price);
}

/* ---- reconciliation ---------------------------------------------------------------------- */

#define RESCAN_EVERY_MS 5000

/* The order's broker view is final or further along than the books: the books apply what the
 * broker says when no fill is missing (a cancel, a reject, an expiry whose report went by); a
 * missing fill is left to the report log and said. */
static void settle_from_status(executor_core *x, const char *coid, const exproto_status *st) {
    order_record r;
    if (!ostore_get(x->os, coid, &r) || !order_is_open(r.o.status)) return;
    if (st->filled_qty != r.o.filled_qty) {
        log_error("order %s: the broker has %lld filled, the books %lld, and the report log did not say why; the "
                  "broker's book needs a look", coid, (long long)st->filled_qty, (long long)r.o.filled_qty);
        return;
    }
    if (!order_is_terminal(st->status) || st->status == ORDER_FILLED) return; /* a fill comes with its report */
    if (!ostore_begin(x->os)) return;
    order before = r.o;
    if (st->status == ORDER_REJECTED && r.o.filled_qty == 0) order_apply_rejected(&r.o, st->reason);
    else if (st->status == ORDER_EXPIRED) order_apply_expired(&r.o);
    else order_apply_cancelled(&r.o);
    if (st->reason[0] && !r.o.reason[0]) snprintf(r.o.reason, sizeof r.o.reason, "%s", st->reason);
    if (!store_change(x, &before, &r, NULL) || !ostore_commit(x->os)) {
        ostore_rollback(x->os);
        reload_open(x);
        return;
    }
    log_warn("order %s is %s at the broker (%s); booked so", coid, order_status_name(r.o.status),
             r.o.reason[0] ? r.o.reason : "no reason given");
}

/* Reads the gateway's whole report log for the reports of the orders in set (the counter does
 * not move: what it passed was applied or refused). */
static void rescan(executor_core *x, const coid_set *set) {
    int64_t now = now_us(x) / 1000;
    if (x->last_rescan_ms && now - x->last_rescan_ms < RESCAN_EVERY_MS) return;
    x->last_rescan_ms = now;
    log_warn("%zu open order(s) are behind the broker; reading the gateway's report log for them", set->n);
    long long since = 0;
    for (int page = 0; page < 100000; page++) {
        bool more;
        long long top = fetch_page(x, since, set, &more);
        if (top < 0 || !more || top <= since) break;
        since = top;
    }
}

typedef struct {
    executor_core *x;
    coid_set behind;
    exproto_status *status; /* the broker's view of each order in behind */
    size_t cap;
} recon_ctx;

static void note_behind(recon_ctx *c, const char *coid, const exproto_status *st) {
    if (c->behind.n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char(*ids)[ORDER_ID_MAX] = realloc(c->behind.ids, cap * sizeof *ids);
        if (!ids) return;
        c->behind.ids = ids;
        exproto_status *sts = realloc(c->status, cap * sizeof *sts);
        if (!sts) return;
        c->status = sts;
        c->cap = cap;
    }
    snprintf(c->behind.ids[c->behind.n], ORDER_ID_MAX, "%s", coid);
    c->status[c->behind.n] = *st;
    c->behind.n++;
}

/* Asks the gateway about one order; false when it did not answer. */
static bool ask_status(executor_core *x, const order_record *r, recon_ctx *c) {
    char err[256] = "";
    json_t *req = exproto_order_status_request(r->o.client_order_id);
    json_t *reply = x->io.gateway_call(x->io.ctx, req, err, sizeof err);
    json_decref(req);
    if (!reply) return false;
    exproto_status st;
    /* updated_at is stamped by the store from the system clock */
    if (exproto_status_not_found(reply) && r->o.status == ORDER_SENT && clock_wall_s() - r->updated_at > 2.0) {
        /* The broker never saw it: the send was lost before reaching it. Safe to send. */
        order_record copy = *r;
        log_warn("order %s never reached the broker; sending it again with the same id", r->o.client_order_id);
        send_order(x, &copy);
    } else if (exproto_parse_status(reply, &st) &&
               (st.filled_qty > r->o.filled_qty || (order_is_terminal(st.status) && order_is_open(r->o.status)))) {
        note_behind(c, r->o.client_order_id, &st);
    }
    json_decref(reply);
    return true;
}

static void reconcile_one(void *ctx, const order_record *r) {
    recon_ctx *c = ctx;
    /* its answer (waited for, or kept to be stored), or its timeout, settles it */
    if (flight_find(c->x, r->o.client_order_id) || held_find(c->x, r->o.client_order_id)) return;
    if (r->o.status == ORDER_NEW) {
        order_record copy = *r;
        log_info("order %s was stored but never confirmed sent; sending (same id, so never twice)",
                 r->o.client_order_id);
        send_order(c->x, &copy);
        return;
    }
    ask_status(c->x, r, c);
}

/* Catches up the orders in c->behind from the report log, then books the broker's final state
 * of those that stay behind. */
static void settle_behind(recon_ctx *c) {
    if (!c->behind.n) return;
    rescan(c->x, &c->behind);
    for (size_t i = 0; i < c->behind.n; i++) settle_from_status(c->x, c->behind.ids[i], &c->status[i]);
    free(c->behind.ids);
    free(c->status);
}

static void settle_with_gateway(executor_core *x, const char *coid) {
    order_record r;
    recon_ctx c;
    memset(&c, 0, sizeof c);
    c.x = x;
    if (ostore_get(x->os, coid, &r) && order_is_open(r.o.status)) ask_status(x, &r, &c);
    x->last_rescan_ms = 0; /* asked for this order now: not held back by an earlier rescan */
    settle_behind(&c);
}

void exc_reconcile(executor_core *x) {
    exc_catch_up(x);
    recon_ctx c;
    memset(&c, 0, sizeof c);
    c.x = x;
    ostore_each_open(x->os, reconcile_one, &c);
    settle_behind(&c);
}

/* ---- kill switch ------------------------------------------------------------------------- */

void exc_load_kill_switch(executor_core *x) {
    trading_state ts;
    if (!tstate_get(x->db, &ts)) return; /* read again at the next change */
    tstate_kind was = x->risk.halted ? TSTATE_HALTED : x->risk.kill_switch ? TSTATE_REDUCING : TSTATE_ACTIVE;
    if (ts.kind == was && (was == TSTATE_ACTIVE || !strcmp(ts.reason, x->risk.kill_reason))) return;
    if (ts.kind == TSTATE_HALTED) {
        risk_halt(&x->risk, ts.reason);
        log_warn("trading state HALTED (%s): nothing is sent but cancels and 'aftm flatten'", ts.reason);
    } else if (ts.kind == TSTATE_REDUCING) {
        risk_reset_kill_switch(&x->risk);
        risk_trip_kill_switch(&x->risk, ts.reason);
        log_warn("trading state REDUCING, kill switch ON (%s): new entries refused, exits allowed", ts.reason);
    } else {
        risk_reset_kill_switch(&x->risk);
        log_info("trading state ACTIVE: kill switch cleared, trading resumed");
    }
}

/* ---- marking to market ------------------------------------------------------------------ */

#define MARK_EVERY_MS 1000
#define MARK_MAX 64

typedef struct {
    executor_core *x;
    position moved[MARK_MAX];
    price_t mark[MARK_MAX];
    int n;
} mark_ctx;

static void note_mark(void *ctx, const position *p, price_t stored) {
    mark_ctx *c = ctx;
    price_t *live = price_slot(c->x, p->symbol, false);
    if (!p->net_qty || !live || *live <= 0 || *live == stored || c->n == MARK_MAX) return;
    c->moved[c->n] = *p;
    c->mark[c->n++] = *live;
}

/* Between fills, the open positions' stored last price follows the ticks (at most once a
 * second), so 'aftm positions' and 'aftm status' show unrealized P&L at the last price, and
 * today's equity row and the daily loss limit follow it too. Positions are read first and
 * written after (no write while the position statement is stepping), read again inside the
 * transaction, so a position another connection changed in between is never written back as
 * it was. */
void exc_mark_to_market(executor_core *x) {
    int64_t now = now_us(x) / 1000;
    if (x->last_mark_ms && now - x->last_mark_ms < MARK_EVERY_MS) return;
    x->last_mark_ms = now;
    mark_ctx c;
    c.x = x;
    c.n = 0;
    if (ostore_each_position(x->os, note_mark, &c) < 0 || !c.n) return; /* nothing moved: no lock taken */
    if (!ostore_begin(x->os)) return;
    c.n = 0;
    if (ostore_each_position(x->os, note_mark, &c) < 0 || !c.n) {
        ostore_rollback(x->os);
        return;
    }
    bool ok = true;
    for (int i = 0; ok && i < c.n; i++) ok = ostore_position_put(x->os, &c.moved[i], c.mark[i]);
    if (!ok || !ostore_commit(x->os)) {
        ostore_rollback(x->os);
        log_warn("cannot mark the open positions at the last price: %s", db_error(x->db));
        return;
    }
    refresh_pnl_at(x, true);
}

void exc_poll_state(executor_core *x) {
    exc_mark_to_market(x);
    long long v = db_data_version(x->db);
    if (v != x->data_version) {
        x->data_version = v;
        exc_load_kill_switch(x);
        exc_take_manual(x);
    }
    settle_held_exits(x); /* and, past its deadline, asks the broker */
}

/* ---- life -------------------------------------------------------------------------------- */

executor_core *exc_new(sqlite3 *db, const executor_config *cfg, const executor_io *io, char *err, size_t errlen) {
    if ((!io->send_order && !io->submit_order) || !io->gateway_call || cfg->attempts < 1) {
        snprintf(err, errlen, "the executor needs an order sink, a gateway call and at least one attempt");
        return NULL;
    }
    executor_core *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->cfg = *cfg;
    x->io = *io;
    x->db = db;
    wire_decoder_init(&x->dec);
    mp_reader_init(&x->reader);
    risk_state_init(&x->risk);
    if (!(x->cs = cstore_open(db)) || !(x->os = ostore_open(db))) {
        snprintf(err, errlen, "cannot prepare the stores: %s", sqlite3_errmsg(db));
        exc_free(x);
        return NULL;
    }
    if (!db_instance_id(db, x->instance, sizeof x->instance)) {
        snprintf(err, errlen, "the database has no instance id (it names this database's client order ids)");
        exc_free(x);
        return NULL;
    }
    db_meta_get_int(db, "executor_report_seq", &x->report_seq);
    x->gw_last_seq = -1;
    x->data_version = db_data_version(db);
    return x;
}

void exc_free(executor_core *x) {
    if (!x) return;
    if (x->batch) ostore_rollback(x->os);
    free(x->held);
    while (x->nfl) flight_remove(x, &x->fl[x->nfl - 1]);
    free(x->fl);
    free(x->flix);
    free(x->def);
    ostore_close(x->os);
    cstore_close(x->cs);
    wire_decoder_destroy(&x->dec);
    mp_reader_destroy(&x->reader);
    free(x->held_exits);
    free(x);
}

void exc_start(executor_core *x) {
    reload_open(x);
    exc_load_kill_switch(x);
    /* every run says which trading state it starts in, active included */
    trading_state ts;
    char line[320];
    if (tstate_get(x->db, &ts)) {
        tstate_describe(&ts, line, sizeof line);
        log_info("trading state at start: %s", line);
    }
    refresh_pnl(x);
    exc_reconcile(x);
    /* exits held when the executor stopped: decided on the books as reconciled now */
    if (hexit_each(x->db, load_held_exit, x) < 0)
        log_error("cannot read the held exits: %s; read again at the next start", sqlite3_errmsg(x->db));
    settle_held_exits(x);
    finish_taken(x);
    exc_take_manual(x);
    x->data_version = db_data_version(x->db);
}

int64_t exc_open_orders(const executor_core *x) { return x->risk.open_orders; }
long long exc_report_seq(const executor_core *x) { return x->report_seq; }
bool exc_kill_switch_on(const executor_core *x) { return x->risk.kill_switch; }
executor_stats exc_stats(const executor_core *x) { return x->st; }
