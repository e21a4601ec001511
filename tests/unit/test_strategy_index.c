/* Property test: the price-indexed strategy engine against a plain scan.
 *
 * The reference below is the obvious engine: every live condition, in creation order, through
 * condition_on_price on every tick of its symbol. Thousands of random scenarios (condition sets
 * in any state, several symbols, random walks, spikes, repeated prices, adds and removes between
 * ticks, re-creation from inside the event callback, entry fills and rejections, assume_fills
 * off and on) must give identical events, in identical order, and identical condition states.
 * A failure prints the seed and case; AFTM_TEST_SEED=N and AFTM_TEST_CASES=N reproduce it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domain/id_index.h"
#include "domain/price_index.h"
#include "domain/strategy.h"

/* ---- random numbers --------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static int64_t rnd_range(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }
static bool chance(unsigned percent) { return rnd() % 100 < percent; }

static uint64_t base_seed(void) {
    const char *s = getenv("AFTM_TEST_SEED");
    return s ? strtoull(s, NULL, 10) : 20250617;
}
static int case_count(int dflt) {
    const char *s = getenv("AFTM_TEST_CASES");
    return s ? atoi(s) : dflt;
}

/* ---- comparing conditions --------------------------------------------------------------- */

static bool cond_eq(const condition *a, const condition *b) {
    return a->id == b->id && !strcmp(a->symbol, b->symbol) && a->side == b->side &&
           a->trigger_price == b->trigger_price && a->base_trigger == b->base_trigger &&
           a->turning_point == b->turning_point && a->quantity == b->quantity &&
           a->take_profit_point == b->take_profit_point && a->stop_loss_point == b->stop_loss_point &&
           a->is_following == b->is_following && a->order_price == b->order_price &&
           a->take_profit_price == b->take_profit_price && a->stop_loss_price == b->stop_loss_price &&
           a->is_trigger == b->is_trigger && a->is_ordered == b->is_ordered && a->is_exited == b->is_exited &&
           a->entry == b->entry && a->filled_qty == b->filled_qty;
}

static void describe(const char *what, const condition *c) {
    fprintf(stderr, "  %s: id %lld %s %s trig %lld (base %lld) turn %lld tp %lld sl %lld fol %d | order %lld tp %lld sl %lld | trig %d ord %d exit %d entry %d filled %lld\n",
            what, (long long)c->id, c->symbol, side_name(c->side), (long long)c->trigger_price,
            (long long)c->base_trigger, (long long)c->turning_point, (long long)c->take_profit_point,
            (long long)c->stop_loss_point, c->is_following, (long long)c->order_price,
            (long long)c->take_profit_price, (long long)c->stop_loss_price, c->is_trigger, c->is_ordered,
            c->is_exited, c->entry, (long long)c->filled_qty);
}

/* ---- the reference: a straightforward scan ---------------------------------------------- */

typedef struct {
    condition *v;
    bool *live;
    size_t n, cap;
    bool assume_fills;
} ref_engine;

static condition *ref_find(ref_engine *r, int64_t id) {
    for (size_t i = 0; i < r->n; i++)
        if (r->live[i] && r->v[i].id == id) return &r->v[i];
    return NULL;
}

static bool ref_add(ref_engine *r, const condition *c) {
    if (ref_find(r, c->id)) return false;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        r->live = realloc(r->live, r->cap * sizeof *r->live);
        assert_non_null(r->v);
        assert_non_null(r->live);
    }
    r->v[r->n] = *c;
    r->v[r->n].symbol[CONDITION_SYMBOL_MAX - 1] = '\0';
    r->live[r->n++] = true;
    return true;
}

static bool ref_remove(ref_engine *r, int64_t id) {
    for (size_t i = 0; i < r->n; i++)
        if (r->live[i] && r->v[i].id == id) {
            r->live[i] = false;
            return true;
        }
    return false;
}

static size_t ref_count(const ref_engine *r) {
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) k += r->live[i];
    return k;
}

typedef struct {
    int64_t id;
    unsigned ev;
    price_t price;
    condition after;
} event_rec;

typedef struct {
    event_rec *v;
    size_t n, cap;
} event_log;

static void log_push(event_log *l, const condition *c, unsigned ev, price_t price) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = (event_rec){c->id, ev, price, *c};
}

/* Re-creation after an exit, as `aftm strategy --rearm` does it. */
static int64_t next_rearm_id;
static void make_rearm(condition *out, const condition *c, int64_t id) {
    condition_init(out, id, c->symbol, c->side, c->base_trigger, c->turning_point, c->quantity,
                   c->take_profit_point, c->stop_loss_point, c->is_following);
}

static size_t ref_tick(ref_engine *r, const char *sym, price_t price, event_log *log, bool rearm) {
    size_t changed = 0, n = r->n;
    condition *again = malloc((n ? n : 1) * sizeof *again);
    size_t nagain = 0;
    assert_non_null(again);
    for (size_t i = 0; i < n; i++) {
        if (!r->live[i] || strcmp(r->v[i].symbol, sym) != 0) continue;
        unsigned ev = condition_on_price(&r->v[i], price, r->assume_fills);
        if (!ev) continue;
        changed++;
        log_push(log, &r->v[i], ev, price);
        if (ev & (COND_EXIT_TP | COND_EXIT_SL)) {
            r->live[i] = false;
            if (rearm) {
                make_rearm(&again[nagain++], &r->v[i], next_rearm_id--);
            }
        }
    }
    /* conditions created during a tick join after it */
    for (size_t i = 0; i < nagain; i++) assert_true(ref_add(r, &again[i]));
    free(again);
    return changed;
}

/* ---- the engine under test -------------------------------------------------------------- */

typedef struct {
    strategy_engine *e;
    event_log *log;
    bool rearm;
    int64_t next_id;
} sut_ctx;

static void sut_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    sut_ctx *s = ctx;
    log_push(s->log, c, ev, price);
    if (s->rearm && (ev & (COND_EXIT_TP | COND_EXIT_SL))) {
        condition again;
        make_rearm(&again, c, s->next_id--);
        assert_true(strategy_add(s->e, &again)); /* from inside the tick */
    }
}

typedef struct {
    const condition **v;
    size_t n, cap;
} cond_list;

static void collect(void *ctx, const condition *c) {
    cond_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = c;
}

static uint64_t cur_case;
#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "seed %llu case %llu: ", (unsigned long long)base_seed(),             \
                    (unsigned long long)cur_case);                                                \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fprintf(stderr, "\n");                                                                \
            fail();                                                                               \
        }                                                                                         \
    } while (0)

static void compare_states(strategy_engine *e, ref_engine *r, cond_list *l) {
    l->n = 0;
    strategy_foreach(e, collect, l);
    CHECK(l->n == ref_count(r) && strategy_count(e) == l->n, "count %zu/%zu vs reference %zu", l->n,
          strategy_count(e), ref_count(r));
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (!r->live[i]) continue;
        if (!cond_eq(l->v[k], &r->v[i])) {
            describe("indexed  ", l->v[k]);
            describe("reference", &r->v[i]);
        }
        CHECK(cond_eq(l->v[k], &r->v[i]), "condition #%zu in creation order differs", k);
        CHECK(strategy_find(e, r->v[i].id) == l->v[k], "find(%lld) does not give the live condition",
              (long long)r->v[i].id);
        k++;
    }
}

static void compare_events(const event_log *a, const event_log *b, size_t from_a, size_t from_b, price_t price) {
    CHECK(a->n - from_a == b->n - from_b, "tick at %lld: %zu events, reference %zu", (long long)price,
          a->n - from_a, b->n - from_b);
    for (size_t i = 0; i < a->n - from_a; i++) {
        const event_rec *x = &a->v[from_a + i], *y = &b->v[from_b + i];
        if (x->id != y->id || x->ev != y->ev || !cond_eq(&x->after, &y->after)) {
            describe("indexed  ", &x->after);
            describe("reference", &y->after);
        }
        CHECK(x->id == y->id && x->ev == y->ev && x->price == y->price && cond_eq(&x->after, &y->after),
              "tick at %lld: event %zu: id %lld ev %#x, reference id %lld ev %#x", (long long)price, i,
              (long long)x->id, x->ev, (long long)y->id, y->ev);
    }
}

/* ---- random scenarios ------------------------------------------------------------------- */

static const char *const SYMBOLS[] = {"TXFF5", "MXFF5", "TE", "A_SYMBOL_OF_THIRTY_ONE_CHARS_XX"};
#define NSYM 4

typedef struct {
    price_t price;
    int mode;     /* 0 walk, 1 triangle, 2 sticky (many repeats), 3 wild */
    int64_t step; /* unit */
    int dir;
} walker;

static price_t walk(walker *w) {
    switch (w->mode) {
    case 1:
        if (chance(8)) w->dir = -w->dir;
        w->price += w->dir * w->step;
        break;
    case 2:
        if (chance(30)) w->price += rnd_range(-2, 2) * w->step;
        break;
    case 3: w->price += rnd_range(-40, 40) * w->step; break;
    default: w->price += rnd_range(-3, 3) * w->step; break;
    }
    if (chance(3)) w->price += rnd_range(-60, 60) * w->step; /* spike */
    if (w->price < 1) w->price = 1 + (int64_t)(rnd() % 100);
    return w->price;
}

/* A random condition near price, sometimes in a state reached earlier (as loaded from a store). */
static void random_condition(condition *c, int64_t id, const char *sym, price_t price, int64_t unit, bool assume) {
    static const int64_t turns[] = {0, 1, 5, 10, 15, 30, -10};
    int64_t turn = chance(85) ? turns[rnd() % 7] * unit / 5 : rnd_range(-20, 50);
    condition_init(c, id, sym, chance(50) ? SIDE_BUY : SIDE_SELL, price + rnd_range(-30, 30) * unit, turn,
                   rnd_range(1, 5), rnd_range(0, 30) * unit, rnd_range(0, 15) * unit, chance(50));
    if (chance(25)) {
        /* walk it through some prices on its own to reach an arbitrary state */
        price_t p = c->trigger_price;
        int n = (int)rnd_range(1, 12);
        for (int i = 0; i < n && !c->is_exited; i++) {
            p += rnd_range(-15, 15) * unit;
            unsigned ev = condition_on_price(c, p, assume);
            if ((ev & COND_ENTRY) && !assume && chance(60)) {
                if (chance(75)) condition_entry_filled(c, c->quantity);
                else condition_entry_rejected(c);
            }
        }
    }
}

typedef struct {
    int64_t *v;
    size_t n, cap;
} id_pool;

static void pool_add(id_pool *p, int64_t id) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->v = realloc(p->v, p->cap * sizeof *p->v);
        assert_non_null(p->v);
    }
    p->v[p->n++] = id;
}

static void run_case(uint64_t k, size_t *total_events, size_t *total_ticks) {
    cur_case = k;
    rng_state = (base_seed() * 0x9e3779b97f4a7c15ull) ^ (k * 0xbf58476d1ce4e5b9ull) ^ 0x1234567;
    if (!rng_state) rng_state = 1;
    for (int i = 0; i < 4; i++) rnd();
    bool assume = chance(50), rearm = chance(40);
    int nsym = (int)rnd_range(1, NSYM);
    walker w[NSYM];
    int64_t unit = chance(50) ? 1 : (chance(50) ? 5 : 10);
    for (int s = 0; s < nsym; s++) w[s] = (walker){rnd_range(500, 30000), (int)rnd_range(0, 3), unit, 1};
    size_t ncond = chance(10) ? (size_t)rnd_range(100, 400) : (size_t)rnd_range(0, 40);
    size_t steps = (size_t)rnd_range(50, 400);

    strategy_engine *e = strategy_new(assume);
    assert_non_null(e);
    ref_engine r = {NULL, NULL, 0, 0, assume};
    event_log la = {0}, lb = {0};
    cond_list l = {0};
    id_pool ids = {0};
    int64_t next_id = 1;
    sut_ctx sc = {e, &la, rearm, 0};
    next_rearm_id = -1;
    sc.next_id = -1;

    for (size_t i = 0; i < ncond; i++) {
        condition c;
        int s = (int)(rnd() % (uint64_t)nsym);
        random_condition(&c, next_id++, SYMBOLS[s], w[s].price, unit, assume);
        CHECK(strategy_add(e, &c) == ref_add(&r, &c), "add differs");
        pool_add(&ids, c.id);
    }
    compare_states(e, &r, &l);

    for (size_t step = 0; step < steps; step++) {
        unsigned op = (unsigned)(rnd() % 100);
        if (op < 72) {
            int s = (int)(rnd() % (uint64_t)nsym);
            const char *sym = SYMBOLS[s];
            price_t p;
            if (chance(3)) sym = chance(50) ? "NOPE" : "TXFF"; /* unknown symbol, or a prefix */
            p = chance(10) ? w[s].price : walk(&w[s]);          /* repeated prices too */
            size_t fa = la.n, fb = lb.n;
            sc.next_id = next_rearm_id; /* both sides hand out the same re-arm ids */
            size_t ca = strategy_on_tick(e, sym, p, sut_event, &sc);
            size_t cb = ref_tick(&r, sym, p, &lb, rearm);
            CHECK(sc.next_id == next_rearm_id, "re-created a different number of conditions");
            CHECK(ca == cb, "tick at %lld: %zu changed, reference %zu", (long long)p, ca, cb);
            compare_events(&la, &lb, fa, fb, p);
            (*total_ticks)++;
        } else if (op < 80) {
            condition c;
            int s = (int)(rnd() % (uint64_t)nsym);
            int64_t id = next_id++;
            if (chance(10) && ids.n) id = ids.v[rnd() % ids.n]; /* a duplicate or a re-used id */
            random_condition(&c, id, SYMBOLS[s], w[s].price, unit, assume);
            CHECK(strategy_add(e, &c) == ref_add(&r, &c), "add of %lld differs", (long long)id);
            pool_add(&ids, c.id);
        } else if (op < 86) {
            int64_t id = ids.n && chance(90) ? ids.v[rnd() % ids.n] : rnd_range(-5, 5);
            CHECK(strategy_remove(e, id) == ref_remove(&r, id), "remove of %lld differs", (long long)id);
        } else {
            /* entry outcomes, mostly for conditions waiting on one */
            int64_t id = 0;
            for (size_t i = 0; i < r.n; i++) {
                size_t j = (i + (size_t)rnd()) % r.n;
                if (r.live[j] && r.v[j].entry == ENTRY_PENDING) {
                    id = r.v[j].id;
                    break;
                }
            }
            if (!id || chance(20)) id = ids.n ? ids.v[rnd() % ids.n] : 0;
            condition *rc = ref_find(&r, id);
            if (op < 96) {
                int64_t q = rnd_range(1, 5);
                CHECK(strategy_entry_filled(e, id, q) == (rc != NULL), "entry_filled(%lld) result", (long long)id);
                if (rc) condition_entry_filled(rc, q);
            } else {
                CHECK(strategy_entry_rejected(e, id) == (rc != NULL), "entry_rejected(%lld) result", (long long)id);
                if (rc) condition_entry_rejected(rc);
            }
        }
        compare_states(e, &r, &l);
    }
    *total_events += la.n;
    strategy_free(e);
    free(r.v);
    free(r.live);
    free(la.v);
    free(lb.v);
    free(l.v);
    free(ids.v);
}

static void test_indexed_equals_scan(void **state) {
    (void)state;
    int cases = case_count(3000);
    size_t events = 0, ticks = 0;
    for (int k = 0; k < cases; k++) run_case((uint64_t)k, &events, &ticks);
    fprintf(stderr, "  %d scenarios, %zu ticks, %zu events compared\n", cases, ticks, events);
    assert_true(events > 1000); /* the scenarios do exercise the state machine */
}

/* ---- the band itself: inside it, nothing changes ---------------------------------------- */

static void test_idle_band_is_idle(void **state) {
    (void)state;
    rng_state = base_seed() ^ 0xabcdef;
    size_t checked = 0;
    for (int n = 0; n < 20000; n++) {
        cur_case = (uint64_t)n;
        bool assume = chance(50);
        condition c;
        random_condition(&c, 1, "TXFF5", 20000, chance(50) ? 1 : 5, assume);
        price_t lo, hi;
        condition_idle_band(&c, &lo, &hi);
        for (int t = 0; t < 20; t++) {
            price_t p = 20000 + rnd_range(-400, 400);
            if (t == 0 && lo != INT64_MIN) p = lo + 1;
            if (t == 1 && hi != INT64_MAX) p = hi - 1;
            if (!(lo < p && p < hi)) continue;
            condition copy = c;
            unsigned ev = condition_on_price(&copy, p, assume);
            if (ev || !cond_eq(&copy, &c)) describe("condition", &c);
            CHECK(ev == 0 && cond_eq(&copy, &c), "price %lld inside band (%lld, %lld) changed it (ev %#x)",
                  (long long)p, (long long)lo, (long long)hi, ev);
            checked++;
        }
    }
    assert_true(checked > 10000);
}

/* ---- the helper structures on their own ------------------------------------------------- */

static void test_id_index_random(void **state) {
    (void)state;
    rng_state = base_seed() ^ 0x5555;
    id_index x;
    id_index_init(&x);
    enum { SPACE = 2000 };
    static uint32_t model[SPACE]; /* ID_INDEX_NONE = absent */
    for (int i = 0; i < SPACE; i++) model[i] = ID_INDEX_NONE;
    for (int op = 0; op < 200000; op++) {
        int64_t k = rnd_range(0, SPACE - 1);
        int64_t id = k * 1000003 - 1000000000; /* negative and positive ids, clustered hashes */
        if (chance(55)) {
            uint32_t v = (uint32_t)rnd_range(0, 1000000);
            assert_true(id_index_put(&x, id, v));
            model[k] = v;
        } else {
            assert_int_equal(id_index_del(&x, id), model[k] != ID_INDEX_NONE);
            model[k] = ID_INDEX_NONE;
        }
        if (op % 997 == 0)
            for (int i = 0; i < SPACE; i++) assert_int_equal(id_index_get(&x, (int64_t)i * 1000003 - 1000000000), model[i]);
    }
    id_index_free(&x);
}

static void test_id_index_clear_keeps_room(void **state) {
    (void)state;
    id_index x;
    id_index_init(&x);
    for (int64_t id = 1; id <= 1000; id++) assert_true(id_index_put(&x, id * 7919, (uint32_t)id));
    size_t cap = x.cap;
    id_index_clear(&x);
    assert_int_equal(x.count, 0);
    assert_int_equal(x.cap, cap);
    for (int64_t id = 1; id <= 1000; id++) assert_int_equal(id_index_get(&x, id * 7919), ID_INDEX_NONE);
    assert_true(id_index_put(&x, 7919, 42)); /* usable again, without growing */
    assert_int_equal(id_index_get(&x, 7919), 42);
    assert_int_equal(x.cap, cap);
    id_index_clear(&x); /* twice, and on an empty one */
    id_index_clear(&x);
    assert_int_equal(id_index_get(&x, 7919), ID_INDEX_NONE);
    id_index_free(&x);
    id_index_clear(&x);
}

typedef struct {
    uint64_t limit;
    const uint64_t *model;
    int seen[3000];
    size_t n;
} walk_ctx;

static void saw(void *ctx, uint32_t owner) {
    walk_ctx *w = ctx;
    assert_true(w->model[owner] <= w->limit);
    w->seen[owner]++;
    w->n++;
}

static void test_pheap_random(void **state) {
    (void)state;
    rng_state = base_seed() ^ 0x7777;
    enum { OWNERS = 3000 };
    static uint32_t pos[OWNERS];
    static uint64_t model[OWNERS]; /* key, or UINT64_MAX when absent */
    pheap h;
    pheap_init(&h);
    assert_true(pheap_reserve(&h, OWNERS));
    for (int i = 0; i < OWNERS; i++) pos[i] = PHEAP_NONE, model[i] = UINT64_MAX;
    for (int op = 0; op < 300000; op++) {
        uint32_t o = (uint32_t)(rnd() % OWNERS);
        uint64_t key = chance(50) ? pkey_lo(rnd_range(-1000, 1000)) : pkey_hi(rnd_range(-1000, 1000));
        if (model[o] == UINT64_MAX) {
            assert_true(pheap_insert(&h, pos, o, key));
            model[o] = key;
        } else if (chance(60)) {
            pheap_update(&h, pos, o, key);
            model[o] = key;
        } else {
            pheap_remove(&h, pos, o);
            assert_int_equal(pos[o], PHEAP_NONE);
            model[o] = UINT64_MAX;
        }
        if (op % 1009 == 0) {
            assert_true(pheap_check(&h, pos));
            walk_ctx w;
            memset(&w, 0, sizeof w);
            w.model = model;
            w.limit = pkey_hi(rnd_range(-1000, 1000));
            pheap_each_at_most(&h, w.limit, saw, &w);
            for (int i = 0; i < OWNERS; i++)
                assert_int_equal(w.seen[i], model[i] != UINT64_MAX && model[i] <= w.limit ? 1 : 0);
        }
    }
    /* key order: lo keys descend with price, hi keys ascend */
    assert_true(pkey_lo(5) < pkey_lo(-5) && pkey_lo(INT64_MAX) < pkey_lo(0));
    assert_true(pkey_hi(-5) < pkey_hi(5) && pkey_hi(INT64_MIN) < pkey_hi(0));
    pheap_free(&h);
    /* a full heap refuses an insert and stays intact */
    pheap_init(&h);
    assert_true(pheap_reserve(&h, 4));
    for (uint32_t i = 0; i < OWNERS; i++) pos[i] = PHEAP_NONE;
    uint32_t n = 0;
    while (pheap_insert(&h, pos, n, pkey_hi(100 - n))) n++;
    assert_int_equal(n, h.cap);
    assert_int_equal(pos[n], PHEAP_NONE);
    assert_true(pheap_check(&h, pos));
    pheap_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pheap_random),
        cmocka_unit_test(test_id_index_random),
        cmocka_unit_test(test_id_index_clear_keeps_room),
        cmocka_unit_test(test_idle_band_is_idle),
        cmocka_unit_test(test_indexed_equals_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
