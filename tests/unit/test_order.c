/* The order state machine: every transition, then seeded random report sequences checked
 * against invariants and against an independent model after every step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domain/fillset.h"
#include "domain/order.h"
#include "domain/position.h"

static order make_order(int64_t qty) {
    order o;
    assert_true(order_init(&o, "C-sig1", "sig1", 7, "ACC1", "TXFF5", SIDE_BUY, qty));
    return o;
}

/* --- init, names -------------------------------------------------------------------------- */

static void test_init(void **state) {
    (void)state;
    order o = make_order(3);
    assert_int_equal(o.status, ORDER_NEW);
    assert_string_equal(o.client_order_id, "C-sig1");
    assert_string_equal(o.signal_id, "sig1");
    assert_int_equal(o.condition_id, 7);
    assert_string_equal(o.account, "ACC1");
    assert_string_equal(o.symbol, "TXFF5");
    assert_int_equal(o.qty, 3);
    assert_int_equal(o.filled_qty, 0);
    assert_int_equal(o.broker_cum_qty, -1);
    assert_string_equal(o.reason, "");
    assert_int_equal(order_remaining(&o), 3);
    assert_true(order_avg_fill_price(&o) == 0.0);

    order bad;
    memcpy(&bad, &o, sizeof o);
    assert_false(order_init(&bad, "C", "s", 0, "A", "TXF", SIDE_BUY, 0));
    assert_false(order_init(&bad, "C", "s", 0, "A", "TXF", SIDE_SELL, -1));
    assert_false(order_init(&bad, "", "s", 0, "A", "TXF", SIDE_BUY, 1));
    assert_false(order_init(&bad, "C", "s", 0, "A", "", SIDE_BUY, 1));
    assert_false(order_init(&bad, "C", "s", 0, "A", "TXF", (side_t)5, 1));
    char big[80];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(order_init(&bad, big, "s", 0, "A", "TXF", SIDE_BUY, 1));
    assert_false(order_init(&bad, "C", "s", 0, big, "TXF", SIDE_BUY, 1));
    /* A refused init leaves the order alone. */
    assert_memory_equal(&bad, &o, sizeof o);
}

static void test_status_names(void **state) {
    (void)state;
    const char *names[] = {"new",      "sent",     "accepted",  "partially_filled",
                           "filled",   "rejected", "cancelled", "expired"};
    for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
        assert_string_equal(order_status_name((order_status)i), names[i]);
        order_status s;
        assert_true(order_status_parse(names[i], &s));
        assert_int_equal(s, i);
    }
    order_status s = ORDER_NEW;
    assert_false(order_status_parse("FILLED", &s));
    assert_false(order_status_parse("fill", &s));
    assert_false(order_status_parse("", &s));
    assert_false(order_status_parse(NULL, &s));
    assert_string_equal(order_status_name((order_status)99), "unknown");
    assert_string_equal(order_outcome_name(ORDER_APPLIED), "applied");
    assert_string_equal(order_outcome_name(ORDER_LATE_FILL), "late_fill");
}

static void test_terminal_and_open(void **state) {
    (void)state;
    for (int i = 0; i < ORDER_STATUS_COUNT; i++) {
        bool term = i == ORDER_FILLED || i == ORDER_REJECTED || i == ORDER_CANCELLED ||
                    i == ORDER_EXPIRED;
        assert_int_equal(order_is_terminal((order_status)i), term);
        assert_int_equal(order_is_open((order_status)i), !term);
    }
}

/* --- transitions -------------------------------------------------------------------------- */

static void test_happy_path(void **state) {
    (void)state;
    order o = make_order(3);
    assert_int_equal(order_mark_sent(&o), ORDER_APPLIED);
    assert_int_equal(o.status, ORDER_SENT);
    assert_int_equal(order_mark_sent(&o), ORDER_IGNORED_DUPLICATE);
    assert_int_equal(order_apply_accepted(&o), ORDER_APPLIED);
    assert_int_equal(o.status, ORDER_ACCEPTED);
    assert_int_equal(order_apply_accepted(&o), ORDER_IGNORED_DUPLICATE);
    assert_int_equal(order_mark_sent(&o), ORDER_IGNORED_BACKWARD);
    assert_int_equal(order_apply_fill(&o, 1, 22150, 1), ORDER_APPLIED);
    assert_int_equal(o.status, ORDER_PARTIALLY_FILLED);
    assert_int_equal(order_remaining(&o), 2);
    assert_int_equal(order_apply_fill(&o, 2, 22153, 3), ORDER_APPLIED);
    assert_int_equal(o.status, ORDER_FILLED);
    assert_int_equal(o.filled_qty, 3);
    assert_int_equal(o.fill_notional, 22150 + 2 * 22153);
    assert_int_equal(o.broker_cum_qty, 3);
    assert_true(order_avg_fill_price(&o) == 22152.0);
    assert_int_equal(order_remaining(&o), 0);
}

static void test_fill_before_accept(void **state) {
    (void)state;
    order o = make_order(2);
    order_mark_sent(&o);
    assert_int_equal(order_apply_fill(&o, 1, 100, -1), ORDER_APPLIED);
    assert_int_equal(o.status, ORDER_PARTIALLY_FILLED);
    /* The late accept is older news than the fill. */
    assert_int_equal(order_apply_accepted(&o), ORDER_IGNORED_BACKWARD);
    assert_int_equal(o.status, ORDER_PARTIALLY_FILLED);
    /* A fill straight from NEW (the send was not recorded yet) also counts. */
    order n = make_order(1);
    assert_int_equal(order_apply_fill(&n, 1, 100, 1), ORDER_APPLIED);
    assert_int_equal(n.status, ORDER_FILLED);
    assert_int_equal(order_apply_accepted(&n), ORDER_IGNORED_BACKWARD);
    assert_int_equal(order_mark_sent(&n), ORDER_IGNORED_BACKWARD);
}

static void test_accept_from_new(void **state) {
    (void)state;
    order o = make_order(1);
    assert_int_equal(order_apply_accepted(&o), ORDER_APPLIED);
    assert_int_equal(o.status, ORDER_ACCEPTED);
}

static void test_reject(void **state) {
    (void)state;
    order_status from[] = {ORDER_NEW, ORDER_SENT, ORDER_ACCEPTED};
    for (size_t i = 0; i < 3; i++) {
        order o = make_order(2);
        o.status = from[i];
        assert_int_equal(order_apply_rejected(&o, "no margin"), ORDER_APPLIED);
        assert_int_equal(o.status, ORDER_REJECTED);
        assert_string_equal(o.reason, "no margin");
        assert_int_equal(order_apply_rejected(&o, "again"), ORDER_IGNORED_DUPLICATE);
        assert_string_equal(o.reason, "no margin");
        assert_int_equal(order_apply_accepted(&o), ORDER_IGNORED_BACKWARD);
        assert_int_equal(order_apply_cancelled(&o), ORDER_IGNORED_BACKWARD);
        assert_int_equal(order_apply_expired(&o), ORDER_IGNORED_BACKWARD);
        assert_int_equal(order_mark_sent(&o), ORDER_IGNORED_BACKWARD);
        assert_int_equal(o.status, ORDER_REJECTED);
    }
    /* Once something filled, a reject is impossible news. */
    order p = make_order(2);
    order_apply_fill(&p, 1, 100, 1);
    assert_int_equal(order_apply_rejected(&p, "x"), ORDER_IGNORED_BACKWARD);
    assert_int_equal(p.status, ORDER_PARTIALLY_FILLED);
    /* NULL reason and a reason longer than the field. */
    order q = make_order(1);
    assert_int_equal(order_apply_rejected(&q, NULL), ORDER_APPLIED);
    assert_string_equal(q.reason, "");
    order r = make_order(1);
    char longr[300];
    memset(longr, 'r', sizeof longr - 1);
    longr[sizeof longr - 1] = '\0';
    assert_int_equal(order_apply_rejected(&r, longr), ORDER_APPLIED);
    assert_int_equal(strlen(r.reason), ORDER_REASON_MAX - 1);
}

static void test_cancel_and_expire(void **state) {
    (void)state;
    order_status from[] = {ORDER_NEW, ORDER_SENT, ORDER_ACCEPTED};
    for (size_t i = 0; i < 3; i++) {
        order c = make_order(2), e = make_order(2);
        c.status = e.status = from[i];
        assert_int_equal(order_apply_cancelled(&c), ORDER_APPLIED);
        assert_int_equal(c.status, ORDER_CANCELLED);
        assert_int_equal(order_apply_cancelled(&c), ORDER_IGNORED_DUPLICATE);
        assert_int_equal(order_apply_expired(&c), ORDER_IGNORED_BACKWARD);
        assert_int_equal(order_apply_expired(&e), ORDER_APPLIED);
        assert_int_equal(e.status, ORDER_EXPIRED);
        assert_int_equal(order_apply_expired(&e), ORDER_IGNORED_DUPLICATE);
        assert_int_equal(order_apply_cancelled(&e), ORDER_IGNORED_BACKWARD);
        assert_int_equal(order_apply_rejected(&e, "x"), ORDER_IGNORED_BACKWARD);
    }
    /* An IOC remainder: the filled part stays. */
    order p = make_order(3);
    order_apply_fill(&p, 1, 100, 1);
    assert_int_equal(order_apply_cancelled(&p), ORDER_APPLIED);
    assert_int_equal(p.status, ORDER_CANCELLED);
    assert_int_equal(p.filled_qty, 1);
    assert_int_equal(order_remaining(&p), 0);
    /* Nothing ends a filled order. */
    order f = make_order(1);
    order_apply_fill(&f, 1, 100, 1);
    assert_int_equal(order_apply_cancelled(&f), ORDER_IGNORED_BACKWARD);
    assert_int_equal(order_apply_expired(&f), ORDER_IGNORED_BACKWARD);
    assert_int_equal(order_apply_rejected(&f, "x"), ORDER_IGNORED_BACKWARD);
    assert_int_equal(f.status, ORDER_FILLED);
}

static void test_overfill(void **state) {
    (void)state;
    order o = make_order(3);
    assert_int_equal(order_apply_fill(&o, 4, 100, -1), ORDER_REJECTED_OVERFILL);
    assert_int_equal(o.filled_qty, 0);
    assert_int_equal(o.status, ORDER_NEW);
    assert_int_equal(order_apply_fill(&o, 2, 100, 2), ORDER_APPLIED);
    assert_int_equal(order_apply_fill(&o, 2, 100, 4), ORDER_REJECTED_OVERFILL);
    /* The broker's cumulative past qty is an overfill even when this fill alone fits. */
    assert_int_equal(order_apply_fill(&o, 1, 100, 4), ORDER_REJECTED_OVERFILL);
    assert_int_equal(o.filled_qty, 2);
    assert_int_equal(order_apply_fill(&o, 1, 100, 3), ORDER_APPLIED);
    assert_int_equal(o.status, ORDER_FILLED);
    assert_int_equal(order_apply_fill(&o, 1, 100, -1), ORDER_REJECTED_OVERFILL);
    assert_int_equal(o.filled_qty, 3);
    assert_int_equal(o.status, ORDER_FILLED);
}

static void test_late_fill(void **state) {
    (void)state;
    order c = make_order(3);
    order_apply_fill(&c, 1, 100, 1);
    order_apply_cancelled(&c);
    assert_int_equal(order_apply_fill(&c, 1, 101, 2), ORDER_LATE_FILL);
    assert_int_equal(c.status, ORDER_CANCELLED);
    assert_int_equal(c.filled_qty, 1);
    order r = make_order(3);
    order_apply_rejected(&r, "x");
    assert_int_equal(order_apply_fill(&r, 1, 101, -1), ORDER_LATE_FILL);
    assert_int_equal(r.filled_qty, 0);
    order e = make_order(3);
    order_apply_expired(&e);
    assert_int_equal(order_apply_fill(&e, 1, 101, -1), ORDER_LATE_FILL);
    assert_int_equal(e.status, ORDER_EXPIRED);
}

static void test_invalid_fill(void **state) {
    (void)state;
    order o = make_order(3);
    assert_int_equal(order_apply_fill(&o, 0, 100, -1), ORDER_INVALID);
    assert_int_equal(order_apply_fill(&o, -1, 100, -1), ORDER_INVALID);
    assert_int_equal(order_apply_fill(&o, 1, 0, -1), ORDER_INVALID);
    assert_int_equal(order_apply_fill(&o, 1, -5, -1), ORDER_INVALID);
    assert_int_equal(order_apply_fill(&o, 2, 100, 1), ORDER_INVALID);
    /* A price that would wrap the notional, or just one no broker quotes (1e17 points once
     * overflowed the P&L times the contract multiplier). */
    assert_int_equal(order_apply_fill(&o, 2, INT64_MAX / 2 + 1, -1), ORDER_INVALID);
    assert_int_equal(order_apply_fill(&o, 2, 100000000000000000LL, -1), ORDER_INVALID);
    assert_int_equal(order_apply_fill(&o, 1, ORDER_PRICE_MAX + 1, -1), ORDER_INVALID);
    assert_int_equal(order_apply_fill(&o, ORDER_QTY_MAX + 1, 100, -1), ORDER_INVALID);
    assert_int_equal(o.status, ORDER_NEW);
    assert_int_equal(o.filled_qty, 0);
    assert_int_equal(o.fill_notional, 0);
}

static void test_bounds(void **state) {
    (void)state;
    order o;
    assert_false(order_init(&o, "c", "s", 0, "A", "TXFF5", SIDE_BUY, ORDER_QTY_MAX + 1));
    assert_true(order_init(&o, "c", "s", 0, "A", "TXFF5", SIDE_BUY, ORDER_QTY_MAX));
    assert_int_equal(order_apply_fill(&o, ORDER_QTY_MAX, ORDER_PRICE_MAX, -1), ORDER_APPLIED);
    assert_int_equal(o.fill_notional, ORDER_QTY_MAX * ORDER_PRICE_MAX);
}

static void test_broker_cum_tracks_highest(void **state) {
    (void)state;
    order o = make_order(5);
    /* Out of order: the fill with cum 3 arrives before the one with cum 1. */
    assert_int_equal(order_apply_fill(&o, 2, 100, 3), ORDER_APPLIED);
    assert_int_equal(o.broker_cum_qty, 3);
    assert_int_equal(order_apply_fill(&o, 1, 100, 1), ORDER_APPLIED);
    assert_int_equal(o.broker_cum_qty, 3);
    assert_int_equal(o.filled_qty, 3);
    assert_int_equal(order_apply_fill(&o, 1, 100, -1), ORDER_APPLIED);
    assert_int_equal(o.broker_cum_qty, 3);
}

static void test_fill_key(void **state) {
    (void)state;
    order o = make_order(5);
    char key[FILLSET_ID_MAX];
    assert_true(order_fill_key(&o, 3, key, sizeof key));
    assert_string_equal(key, "C-sig1#3");
    assert_false(order_fill_key(&o, -1, key, sizeof key));
    char tiny[4];
    assert_false(order_fill_key(&o, 3, tiny, sizeof tiny));
    /* A replay without a fill id is caught through the set. */
    fillset s;
    fillset_init(&s);
    assert_true(order_fill_key(&o, 2, key, sizeof key));
    assert_true(fillset_add(&s, key));
    assert_false(fillset_add(&s, key));
    fillset_free(&s);
}

/* --- property tests ----------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int64_t rng_range(int64_t lo, int64_t hi) { /* inclusive */
    return lo + (int64_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

#define MAX_FILLS 64

typedef struct {
    char id[FILLSET_ID_MAX];
    int64_t qty;
    price_t price;
    int64_t cum; /* the broker's cumulative after this fill */
} sim_fill;

typedef struct {
    side_t side;
    int64_t qty;
    price_t price;
} applied_fill;

/* The model the order must agree with, written from the rules rather than the code. */
typedef struct {
    order_status status;
    int64_t filled;
    int64_t notional;
} model;

static bool model_terminal(order_status s) { return s >= ORDER_FILLED; }

static order_outcome model_fill(model *m, int64_t qty_total, int64_t q, price_t p, int64_t cum) {
    if (m->status == ORDER_REJECTED || m->status == ORDER_CANCELLED || m->status == ORDER_EXPIRED)
        return ORDER_LATE_FILL;
    if (m->filled + q > qty_total || cum > qty_total) return ORDER_REJECTED_OVERFILL;
    m->filled += q;
    m->notional += p * q;
    m->status = m->filled == qty_total ? ORDER_FILLED : ORDER_PARTIALLY_FILLED;
    return ORDER_APPLIED;
}

/* Rank in the forward chain; terminal states rank last. */
static int model_rank(order_status s) { return model_terminal(s) ? 4 : (int)s; }

static order_outcome model_status(model *m, order_status to) {
    if (m->status == to) return ORDER_IGNORED_DUPLICATE;
    if (model_terminal(m->status)) return ORDER_IGNORED_BACKWARD;
    switch (to) {
    case ORDER_SENT:
        if (m->status != ORDER_NEW) return ORDER_IGNORED_BACKWARD;
        break;
    case ORDER_ACCEPTED:
    case ORDER_REJECTED:
        if (model_rank(m->status) >= ORDER_PARTIALLY_FILLED || m->filled > 0)
            return ORDER_IGNORED_BACKWARD;
        break;
    default: /* cancelled, expired: any open state */
        break;
    }
    m->status = to;
    return ORDER_APPLIED;
}

static void check_invariants(const order *o, const model *m, const order *before) {
    assert_true(o->filled_qty >= 0 && o->filled_qty <= o->qty);
    assert_int_equal(o->status, m->status);
    assert_int_equal(o->filled_qty, m->filled);
    assert_int_equal(o->fill_notional, m->notional);
    switch (o->status) {
    case ORDER_NEW:
    case ORDER_SENT:
    case ORDER_ACCEPTED:
    case ORDER_REJECTED:
        assert_int_equal(o->filled_qty, 0);
        break;
    case ORDER_PARTIALLY_FILLED:
        assert_true(o->filled_qty > 0 && o->filled_qty < o->qty);
        break;
    case ORDER_FILLED:
        assert_int_equal(o->filled_qty, o->qty);
        break;
    case ORDER_CANCELLED:
    case ORDER_EXPIRED:
        assert_true(o->filled_qty < o->qty);
        break;
    }
    /* Terminal states never change; open states only move forward. */
    if (order_is_terminal(before->status)) {
        assert_int_equal(o->status, before->status);
        assert_int_equal(o->filled_qty, before->filled_qty);
    } else if (!order_is_terminal(o->status)) {
        assert_true(o->status >= before->status);
    }
    assert_true(o->filled_qty >= before->filled_qty);
    assert_int_equal(order_is_open(o->status), !order_is_terminal(o->status));
}

static void check_position(const position *live, const applied_fill *fills, int nfills) {
    position replay;
    assert_true(position_init(&replay, "ACC1", "TXFF5"));
    int64_t net = 0;
    for (int i = 0; i < nfills; i++) {
        assert_true(position_apply_fill(&replay, fills[i].side, fills[i].qty, fills[i].price));
        net += fills[i].side == SIDE_BUY ? fills[i].qty : -fills[i].qty;
    }
    assert_int_equal(live->net_qty, replay.net_qty);
    assert_int_equal(live->open_cost, replay.open_cost);
    assert_int_equal(live->realized, replay.realized);
    assert_int_equal(live->net_qty, net);
    /* Total P&L at any mark is the sum over fills, however it splits into realized/unrealized. */
    const price_t marks[] = {1, 19000, 20000, 21000};
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
        int64_t want = 0;
        for (int i = 0; i < nfills; i++) {
            int64_t d = fills[i].side == SIDE_BUY ? 1 : -1;
            want += d * (marks[k] - fills[i].price) * fills[i].qty;
        }
        assert_int_equal(live->realized + position_unrealized(live, marks[k]), want);
    }
}

typedef struct {
    long steps, applied, dup_ids, overfills, late, backward, status_dups;
} prop_stats;

/* One order fed by a random broker: fills are created, held back, delivered in any order and
 * replayed; status reports arrive at any time. The executor side is mimicked exactly: fill ids
 * go through a fillset, applied fills go into the shared position. */
static void run_order(int n, position *pos, applied_fill *applied, int *napplied,
                      prop_stats *st) {
    int64_t qty = rng_range(1, 8);
    side_t side = rng_next() & 1 ? SIDE_BUY : SIDE_SELL;
    char coid[32];
    snprintf(coid, sizeof coid, "C%d", n);
    order o;
    assert_true(order_init(&o, coid, "sig", n, "ACC1", "TXFF5", side, qty));
    model m = {ORDER_NEW, 0, 0};

    fillset seen;
    fillset_init(&seen);
    sim_fill made[MAX_FILLS];      /* every fill the broker produced */
    int nmade = 0;
    int held[MAX_FILLS], nheld = 0; /* produced but not yet delivered */
    int delivered[MAX_FILLS], ndelivered = 0;
    bool model_seen[MAX_FILLS] = {false};
    int64_t broker_cum = 0;

    int steps = (int)rng_range(1, 40);
    for (int step = 0; step < steps; step++) {
        order before = o;
        int kind = (int)rng_range(0, 99);
        order_outcome got, want;
        if (kind < 30 && nmade < MAX_FILLS) {
            /* The broker produces a fill; sometimes more than is left, to force overfills. */
            int64_t left = qty - broker_cum;
            int64_t q = left > 0 && rng_range(0, 9) ? rng_range(1, left) : rng_range(1, 3);
            sim_fill *f = &made[nmade];
            snprintf(f->id, sizeof f->id, "%s-F%d", coid, nmade);
            f->qty = q;
            f->price = rng_range(19500, 20500);
            broker_cum += q;
            f->cum = broker_cum;
            held[nheld++] = nmade++;
            continue;
        } else if (kind < 60 && nheld > 0) {
            /* Deliver a held fill, not necessarily the oldest: out of order. */
            int k = (int)rng_range(0, nheld - 1);
            int fi = held[k];
            held[k] = held[--nheld];
            delivered[ndelivered++] = fi;
            sim_fill *f = &made[fi];
            int64_t cum = rng_next() & 1 ? f->cum : -1;
            assert_false(model_seen[fi]);
            model_seen[fi] = true;
            assert_true(fillset_add(&seen, f->id));
            want = model_fill(&m, qty, f->qty, f->price, cum);
            got = order_apply_fill(&o, f->qty, f->price, cum);
            assert_int_equal(got, want);
            if (got == ORDER_APPLIED) {
                applied[*napplied] = (applied_fill){side, f->qty, f->price};
                (*napplied)++;
                assert_true(position_apply_fill(pos, side, f->qty, f->price));
                st->applied++;
            } else if (got == ORDER_REJECTED_OVERFILL) {
                st->overfills++;
            } else if (got == ORDER_LATE_FILL) {
                st->late++;
            }
        } else if (kind < 72 && ndelivered > 0) {
            /* A replay of a delivered fill: the fillset stops it before the order sees it. */
            sim_fill *f = &made[delivered[rng_range(0, ndelivered - 1)]];
            assert_false(fillset_add(&seen, f->id));
            st->dup_ids++;
        } else {
            static const order_status to[] = {ORDER_SENT,      ORDER_ACCEPTED, ORDER_ACCEPTED,
                                              ORDER_SENT,      ORDER_REJECTED, ORDER_CANCELLED,
                                              ORDER_EXPIRED};
            order_status t = to[rng_range(0, 6)];
            /* Ends are rarer than progress reports, so sequences get somewhere first. */
            if (model_terminal(t) && rng_range(0, 2)) t = ORDER_ACCEPTED;
            want = model_status(&m, t);
            switch (t) {
            case ORDER_SENT: got = order_mark_sent(&o); break;
            case ORDER_ACCEPTED: got = order_apply_accepted(&o); break;
            case ORDER_REJECTED: got = order_apply_rejected(&o, "broker says no"); break;
            case ORDER_CANCELLED: got = order_apply_cancelled(&o); break;
            default: got = order_apply_expired(&o); break;
            }
            assert_int_equal(got, want);
            if (got == ORDER_IGNORED_BACKWARD) st->backward++;
            if (got == ORDER_IGNORED_DUPLICATE) st->status_dups++;
        }
        st->steps++;
        check_invariants(&o, &m, &before);
        check_position(pos, applied, *napplied);
    }
    fillset_free(&seen);
}

static void test_property_random_reports(void **state) {
    (void)state;
    rng_state = 20250617;
    prop_stats st = {0};
    static applied_fill applied[4 * MAX_FILLS];
    for (int seq = 0; seq < 5000; seq++) {
        /* A few orders in a row on one product, so the position opens, reduces and flips. */
        position pos;
        assert_true(position_init(&pos, "ACC1", "TXFF5"));
        int napplied = 0;
        int norders = (int)rng_range(1, 4);
        for (int k = 0; k < norders; k++) run_order(seq * 10 + k, &pos, applied, &napplied, &st);
    }
    /* The generator must actually reach every kind of report. */
    assert_true(st.steps > 50000);
    assert_true(st.applied > 1000);
    assert_true(st.dup_ids > 1000);
    assert_true(st.overfills > 100);
    assert_true(st.late > 100);
    assert_true(st.backward > 1000);
    assert_true(st.status_dups > 100);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_terminal_and_open),
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_fill_before_accept),
        cmocka_unit_test(test_accept_from_new),
        cmocka_unit_test(test_reject),
        cmocka_unit_test(test_cancel_and_expire),
        cmocka_unit_test(test_overfill),
        cmocka_unit_test(test_late_fill),
        cmocka_unit_test(test_invalid_fill),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_broker_cum_tracks_highest),
        cmocka_unit_test(test_fill_key),
        cmocka_unit_test(test_property_random_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
