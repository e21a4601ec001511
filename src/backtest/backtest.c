#include "backtest/backtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "domain/id_index.h"
#include "domain/matching.h"
#include "domain/position.h"
#include "domain/strategy.h"
#include "report/figures.h"

/* Where a trade stands (private, parallel to the public trades array). */
enum { ST_ENTRY_SENT = 0, ST_OPEN = 1, ST_EXIT_SENT = 2, ST_CLOSED = 3, ST_REJECTED = 4 };

typedef struct {
    char name[CONDITION_SYMBOL_MAX];
    size_t ticks;
    price_t last;
    int64_t qty_mult;   /* sum of direction x qty x multiplier of the open positions */
    int64_t cost_mult;  /* sum of direction x qty x entry price x multiplier */
    double unreal;      /* last marked unrealized P&L */
} bt_symbol;

struct backtest {
    backtest_config cfg;
    strategy_engine *eng;
    matcher *m;
    backtest_trade *trades;
    unsigned char *st;
    size_t ntrades, cap;
    id_index by_cond; /* condition id -> trade index, while the trade is not closed */
    bt_symbol *syms;
    size_t nsyms, syms_cap, last_sym;
    size_t open_positions;
    double cash, unreal_total;
    size_t ticks, ticks_exposed;
    int64_t cur_day;
    bool have_day;
    bool pending;        /* in a night session whose trading day is not known yet */
    int64_t night_from;  /* the local date the pending night session started on */
    double last_equity;
    equity_series daily;
    backtest_point *curve; /* per minute: the highest, the lowest and the last equity */
    size_t ncurve, curve_cap;
    struct {
        backtest_point pt;
        size_t seq;        /* the tick's number, to keep the minute's points in order */
    } mpts[3];             /* the minute being accumulated: high, low, last */
    int64_t minute;
    bool minute_open;
    int64_t first_ts, last_ts;
    size_t entry_signals, exit_signals, unfilled;
    struct bt_pending {
        size_t idx;          /* the trade */
        bool exit;
        int64_t release_ts;  /* the order reaches the market at the first tick at or after this */
        price_t limit;       /* > 0: a limit order at this price */
    } *pend;                 /* orders on their way (latency) or resting limits, in order sent */
    size_t npend, pend_cap;
    id_index repeat;     /* ids (original or re-armed) that are armed again after their exit */
    int64_t rearms;      /* re-armed copies made so far */
    bool oom, finished;
    /* the tick being processed */
    int64_t tick_ts;
};

void backtest_config_default(backtest_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->fill = BT_FILL_NEXT_TICK;
    cfg->tax_rate = BT_DEFAULT_TAX_RATE;
    cfg->capital = BT_DEFAULT_CAPITAL;
    cfg->utc_offset_s = BT_DEFAULT_UTC_OFFSET_S;
}

const char *bt_reason_name(bt_exit_reason r) {
    switch (r) {
    case BT_EXIT_TAKE_PROFIT: return "take profit";
    case BT_EXIT_STOP_LOSS: return "stop loss";
    default: return "end of data";
    }
}

backtest *backtest_new(const backtest_config *cfg) {
    backtest *bt = calloc(1, sizeof *bt);
    if (!bt) return NULL;
    if (cfg) bt->cfg = *cfg;
    else backtest_config_default(&bt->cfg);
    if (bt->cfg.slippage_points < 0) bt->cfg.slippage_points = 0;
    match_config mc = {.slippage_points = bt->cfg.slippage_points};
    bt->eng = strategy_new(false);
    bt->m = matcher_new(&mc);
    id_index_init(&bt->by_cond);
    id_index_init(&bt->repeat);
    bt->cash = bt->last_equity = bt->cfg.capital;
    if (!bt->eng || !bt->m) {
        backtest_free(bt);
        return NULL;
    }
    return bt;
}

void backtest_free(backtest *bt) {
    if (!bt) return;
    strategy_free(bt->eng);
    matcher_free(bt->m);
    id_index_free(&bt->by_cond);
    id_index_free(&bt->repeat);
    free(bt->trades);
    free(bt->st);
    free(bt->syms);
    equity_free(&bt->daily);
    free(bt->curve);
    free(bt->pend);
    free(bt);
}

#define REARM_SHIFT 32 /* a re-armed copy's id: the original's in the low 32 bits, its count above */

bool backtest_add_condition(backtest *bt, const condition *c) { return backtest_add_condition_repeat(bt, c, false); }

bool backtest_add_condition_repeat(backtest *bt, const condition *c, bool repeat) {
    if (!bt || !c || !c->symbol[0] || c->quantity <= 0 || c->id <= 0 || c->id >= (INT64_C(1) << REARM_SHIFT))
        return false;
    if (!strategy_add(bt->eng, c)) return false;
    if (repeat && !id_index_put(&bt->repeat, c->id, 1)) return false;
    return true;
}

/* Live trading's re-arming (the strategy process with --rearm): a copy from the original
 * trigger price, added while the engine walks this tick, so it is evaluated from the next one. */
static void rearm(backtest *bt, const condition *c) {
    if (id_index_get(&bt->repeat, c->id) == ID_INDEX_NONE) return;
    int64_t origin = c->id & ((INT64_C(1) << REARM_SHIFT) - 1);
    condition again;
    condition_init(&again, origin | (++bt->rearms << REARM_SHIFT), c->symbol, c->side, c->base_trigger,
                   c->turning_point, c->quantity, c->take_profit_point, c->stop_loss_point, c->is_following);
    if (!strategy_add(bt->eng, &again) || !id_index_put(&bt->repeat, again.id, 1)) bt->oom = true;
    id_index_del(&bt->repeat, c->id);
}

/* ---- symbols ---------------------------------------------------------------------------- */

static bt_symbol *symbol_get(backtest *bt, const char *name, bool create) {
    if (bt->nsyms && !strcmp(bt->syms[bt->last_sym].name, name)) return &bt->syms[bt->last_sym];
    for (size_t i = 0; i < bt->nsyms; i++)
        if (!strcmp(bt->syms[i].name, name)) {
            bt->last_sym = i;
            return &bt->syms[i];
        }
    if (!create || strlen(name) >= CONDITION_SYMBOL_MAX) return NULL;
    if (!buf_grow((void **)&bt->syms, &bt->syms_cap, bt->nsyms + 1, sizeof *bt->syms)) return NULL;
    bt_symbol *s = &bt->syms[bt->nsyms];
    memset(s, 0, sizeof *s);
    strcpy(s->name, name);
    bt->last_sym = bt->nsyms++;
    return s;
}

static void mark(backtest *bt, bt_symbol *s) {
    double u = (double)s->last * (double)s->qty_mult - (double)s->cost_mult;
    bt->unreal_total += u - s->unreal;
    s->unreal = u;
}

/* ---- fills ------------------------------------------------------------------------------ */

double backtest_tax_per_contract(double rate, price_t price, int64_t multiplier) {
    /* TAIFEX computes the tax per contract and rounds it to a whole NT$ */
    return (double)llround(rate * (double)price * (double)multiplier);
}

static double side_cost(const backtest *bt, const backtest_trade *t, price_t price) {
    return (bt->cfg.fee_per_lot + backtest_tax_per_contract(bt->cfg.tax_rate, price, t->multiplier)) * (double)t->qty;
}

static void apply_fill(backtest *bt, size_t idx, bool exit, price_t price, int64_t ts_us) {
    backtest_trade *t = &bt->trades[idx];
    bt_symbol *s = symbol_get(bt, t->symbol, true);
    int64_t dir = t->side == SIDE_BUY ? 1 : -1;
    double cost = side_cost(bt, t, price);
    bt->cash -= cost;
    t->costs += cost;
    if (!exit) {
        t->entry_price = price;
        t->entry_ts_us = ts_us;
        bt->st[idx] = ST_OPEN;
        bt->open_positions++;
        if (s) {
            s->qty_mult += dir * t->qty * t->multiplier;
            s->cost_mult += dir * t->qty * price * t->multiplier;
        }
        strategy_entry_filled(bt->eng, t->engine_id, t->qty);
    } else {
        t->exit_price = price;
        t->exit_ts_us = ts_us;
        t->points = (price - t->entry_price) * dir * t->qty;
        t->gross = (double)t->points * (double)t->multiplier;
        t->net = t->gross - t->costs;
        t->closed = true;
        bt->cash += t->gross;
        bt->st[idx] = ST_CLOSED;
        bt->open_positions--;
        if (s) {
            s->qty_mult -= dir * t->qty * t->multiplier;
            s->cost_mult -= dir * t->qty * t->entry_price * t->multiplier;
        }
        id_index_del(&bt->by_cond, t->engine_id);
    }
    if (s) mark(bt, s);
}

static void on_fill(void *ctx, const match_fill *f) {
    backtest *bt = ctx;
    size_t idx = (size_t)(f->order_id / 2);
    if (idx >= bt->ntrades) return;
    apply_fill(bt, idx, f->order_id % 2 == 1, f->price, f->ts_us);
}

/* ---- signals ---------------------------------------------------------------------------- */

static bool submit_market(backtest *bt, size_t idx, bool exit) {
    const backtest_trade *t = &bt->trades[idx];
    match_order o;
    memset(&o, 0, sizeof o);
    o.order_id = (int64_t)idx * 2 + (exit ? 1 : 0);
    memcpy(o.symbol, t->symbol, sizeof o.symbol < sizeof t->symbol ? sizeof o.symbol : sizeof t->symbol);
    o.symbol[sizeof o.symbol - 1] = '\0';
    o.side = exit ? side_opposite(t->side) : t->side;
    o.kind = MATCH_MARKET;
    o.qty = t->qty;
    return matcher_submit(bt->m, &o);
}

/* An order leaves at the signal's tick. With the same-tick model it goes to the matcher at
 * once; otherwise it waits here until the first tick of its symbol at least latency_ms after
 * the signal (with no latency: the next tick), where a market order goes to the matcher and
 * fills at that tick, and a limit order starts resting (fill_pending). */
static bool submit(backtest *bt, size_t idx, bool exit, price_t signal_price) {
    if (bt->cfg.fill == BT_FILL_SAME_TICK) return submit_market(bt, idx, exit);
    if (!buf_grow((void **)&bt->pend, &bt->pend_cap, bt->npend + 1, sizeof *bt->pend)) return false;
    bt->pend[bt->npend++] = (struct bt_pending){idx, exit, bt->tick_ts + bt->cfg.latency_ms * 1000,
                                                !exit && bt->cfg.limit_entries ? signal_price : 0};
    return true;
}

/* Before the matcher sees a tick: orders whose time has come go to it (market), and resting
 * limits of this symbol fill at their price when the tick trades through it (a buy below
 * the limit, a sell above it; a tick at the limit price is not enough: the queue ahead of
 * the order would take it). */
static void fill_pending(backtest *bt, const char *symbol, price_t price, int64_t ts_us) {
    size_t k = 0;
    for (size_t i = 0; i < bt->npend; i++) {
        struct bt_pending o = bt->pend[i];
        const backtest_trade *t = &bt->trades[o.idx];
        bool keep = true;
        if (ts_us >= o.release_ts && !strcmp(t->symbol, symbol)) {
            if (!o.limit) {
                if (!submit_market(bt, o.idx, o.exit)) bt->oom = true;
                keep = false;
            } else if (t->side == SIDE_BUY ? price < o.limit : price > o.limit) {
                apply_fill(bt, o.idx, o.exit, o.limit, ts_us);
                keep = false;
            }
        }
        if (keep) bt->pend[k++] = o;
    }
    bt->npend = k;
}

static void on_event(void *ctx, const condition *c, unsigned ev, price_t price) {
    backtest *bt = ctx;
    if (ev & COND_ENTRY) {
        if (bt->ntrades == bt->cap) {
            size_t ncap = bt->cap ? bt->cap * 2 : 64;
            backtest_trade *nt = realloc(bt->trades, ncap * sizeof *nt);
            if (!nt) {
                bt->oom = true;
                return;
            }
            bt->trades = nt;
            unsigned char *ns = realloc(bt->st, ncap);
            if (!ns) {
                bt->oom = true;
                return;
            }
            bt->st = ns;
            bt->cap = ncap;
        }
        size_t idx = bt->ntrades;
        backtest_trade *t = &bt->trades[idx];
        memset(t, 0, sizeof *t);
        t->condition_id = c->id & ((INT64_C(1) << REARM_SHIFT) - 1);
        t->engine_id = c->id;
        memcpy(t->symbol, c->symbol, sizeof t->symbol);
        t->side = c->side;
        t->qty = c->quantity;
        t->multiplier = bt->cfg.multiplier > 0 ? bt->cfg.multiplier : contract_multiplier(c->symbol);
        t->signal_ts_us = bt->tick_ts;
        t->entry_signal_price = price;
        bt->st[idx] = ST_ENTRY_SENT;
        bt->ntrades++;
        if (!id_index_put(&bt->by_cond, c->id, (uint32_t)idx) || !submit(bt, idx, false, price)) {
            bt->ntrades--;
            bt->oom = true;
            return;
        }
        bt->entry_signals++;
    }
    if (ev & (COND_EXIT_TP | COND_EXIT_SL)) {
        uint32_t idx = id_index_get(&bt->by_cond, c->id);
        if (idx == ID_INDEX_NONE || bt->st[idx] != ST_OPEN) return;
        backtest_trade *t = &bt->trades[idx];
        t->reason = (ev & COND_EXIT_TP) ? BT_EXIT_TAKE_PROFIT : BT_EXIT_STOP_LOSS;
        t->exit_signal_price = price;
        bt->st[idx] = ST_EXIT_SENT;
        if (!submit(bt, idx, true, price)) bt->oom = true;
        bt->exit_signals++;
        rearm(bt, c);
    }
}

/* ---- ticks ------------------------------------------------------------------------------ */

#define DAY_OPEN_S (8 * 3600 + 45 * 60)
#define NIGHT_OPEN_S (15 * 3600)

static int64_t local_seconds(const backtest *bt, int64_t ts_us) {
    return (ts_us >= 0 ? ts_us / 1000000 : -((-ts_us + 999999) / 1000000)) + bt->cfg.utc_offset_s;
}

static int64_t day_of(const backtest *bt, int64_t ts_us) {
    int64_t s = local_seconds(bt, ts_us);
    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

static int64_t minute_of(int64_t ts_us) {
    return ts_us >= 0 ? ts_us / 60000000 : -((-ts_us + 59999999) / 60000000);
}

static void curve_push(backtest *bt, backtest_point p) {
    if (!buf_grow((void **)&bt->curve, &bt->curve_cap, bt->ncurve + 1, sizeof *bt->curve)) {
        bt->oom = true;
        return;
    }
    bt->curve[bt->ncurve++] = p;
}

/* The minute's high, low and last, in tick order, each once: a drawdown measured on these
 * points is the one measured on every tick (its peak is some minute's high, its trough some
 * minute's low), so the chart and the report agree with a curve 3 points a minute long. */
static void curve_flush(backtest *bt) {
    if (!bt->minute_open) return;
    bt->minute_open = false;
    int order[3] = {0, 1, 2};
    for (int i = 1; i < 3; i++)
        for (int j = i; j > 0 && bt->mpts[order[j]].seq < bt->mpts[order[j - 1]].seq; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    size_t last_seq = (size_t)-1;
    for (int i = 0; i < 3; i++) {
        backtest_point p = bt->mpts[order[i]].pt;
        if (bt->mpts[order[i]].seq == last_seq) continue;
        last_seq = bt->mpts[order[i]].seq;
        /* a point the same as the one before adds nothing (the start, the end of data) */
        if (bt->ncurve && bt->curve[bt->ncurve - 1].ts_us == p.ts_us && bt->curve[bt->ncurve - 1].equity == p.equity)
            continue;
        curve_push(bt, p);
    }
}

static void curve_add(backtest *bt, int64_t ts_us, double eq) {
    int64_t minute = minute_of(ts_us);
    if (bt->minute_open && minute != bt->minute) curve_flush(bt);
    backtest_point p = {ts_us, eq};
    size_t seq = bt->ticks + (bt->finished ? 1 : 0);
    if (!bt->minute_open) {
        for (int i = 0; i < 3; i++) bt->mpts[i].pt = p, bt->mpts[i].seq = seq;
        bt->minute = minute;
        bt->minute_open = true;
        return;
    }
    if (eq > bt->mpts[0].pt.equity) bt->mpts[0].pt = p, bt->mpts[0].seq = seq;
    if (eq < bt->mpts[1].pt.equity) bt->mpts[1].pt = p, bt->mpts[1].seq = seq;
    bt->mpts[2].pt = p, bt->mpts[2].seq = seq;
}

/* Ends the trading day being accumulated with the equity of its last tick. A night session
 * not followed by any day session is dated by the calendar: the next weekday. */
static void close_day(backtest *bt) {
    int64_t day = bt->cur_day;
    if (bt->pending) {
        day = bt->night_from + 1;
        while ((day + 4) % 7 == 0 || (day + 4) % 7 == 6) day++; /* 1970-01-01 was a Thursday */
        bt->pending = false;
    } else if (!bt->have_day) {
        return;
    }
    bt->have_day = false;
    if (!equity_append(&bt->daily, day, bt->last_equity)) bt->oom = true;
}

static void account(backtest *bt, int64_t ts_us) {
    double eq = bt->cash + bt->unreal_total;
    if (!bt->ncurve) curve_push(bt, (backtest_point){ts_us, bt->cfg.capital}); /* the start */
    curve_add(bt, ts_us, eq);
    int64_t day = day_of(bt, ts_us);
    int64_t tod = local_seconds(bt, ts_us) - day * 86400;
    if (bt->cfg.taifex_sessions && (tod >= NIGHT_OPEN_S || tod < DAY_OPEN_S)) {
        /* a night tick: the day session before it has closed; its own trading day is the next
         * day session's, known when that session's first tick arrives */
        int64_t from = tod >= NIGHT_OPEN_S ? day : day - 1;
        if (bt->pending && from != bt->night_from) close_day(bt); /* nights with no day between */
        if (bt->have_day && !bt->pending) close_day(bt);
        if (!bt->pending) bt->pending = true, bt->night_from = from;
    } else if (bt->pending) {
        bt->pending = false;
        bt->have_day = true;
        bt->cur_day = day;
    } else if (!bt->have_day) {
        bt->have_day = true;
        bt->cur_day = day;
    } else if (day > bt->cur_day) {
        close_day(bt);
        bt->have_day = true;
        bt->cur_day = day;
    }
    bt->last_equity = eq;
}

bool backtest_on_tick(backtest *bt, const char *symbol, double price, int64_t ts_us) {
    if (!bt || !symbol || bt->finished) return false;
    if (!(price >= 1.0) || price > 9.0e15) return !bt->oom; /* bad prices never reach the strategy */
    price_t p = (price_t)price;                              /* int(), as the original */
    bt_symbol *s = symbol_get(bt, symbol, true);
    if (!s) {
        bt->oom = true;
        return false;
    }
    s->ticks++;
    s->last = p;
    if (!bt->ticks) bt->first_ts = ts_us;
    bt->ticks++;
    bt->last_ts = ts_us;
    bt->tick_ts = ts_us;

    if (bt->npend) fill_pending(bt, symbol, p, ts_us);
    matcher_on_tick(bt->m, symbol, p, ts_us, on_fill, bt);
    strategy_on_tick(bt->eng, symbol, p, on_event, bt);
    if (bt->cfg.fill == BT_FILL_SAME_TICK) matcher_on_tick(bt->m, symbol, p, ts_us, on_fill, bt);

    s = symbol_get(bt, symbol, false);
    if (s) mark(bt, s);
    if (bt->open_positions) bt->ticks_exposed++;
    account(bt, ts_us);
    return !bt->oom;
}

static price_t slipped(const backtest *bt, side_t side, price_t p) {
    price_t q = side == SIDE_BUY ? p + bt->cfg.slippage_points : p - bt->cfg.slippage_points;
    return q < 1 ? 1 : q;
}

void backtest_finish(backtest *bt) {
    if (!bt || bt->finished) return;
    bt->finished = true;
    bt->npend = 0; /* orders still on their way: entries go unfilled, exits fill below */
    for (size_t i = 0; i < bt->ntrades; i++) {
        backtest_trade *t = &bt->trades[i];
        bt_symbol *s = symbol_get(bt, t->symbol, false);
        price_t last = s ? s->last : 0;
        if (bt->st[i] == ST_ENTRY_SENT) {
            matcher_cancel(bt->m, (int64_t)i * 2);
            strategy_entry_rejected(bt->eng, t->engine_id);
            id_index_del(&bt->by_cond, t->engine_id);
            bt->st[i] = ST_REJECTED;
            bt->unfilled++;
        } else if (bt->st[i] == ST_EXIT_SENT) {
            matcher_cancel(bt->m, (int64_t)i * 2 + 1);
            apply_fill(bt, i, true, slipped(bt, side_opposite(t->side), last), bt->last_ts);
        } else if (bt->st[i] == ST_OPEN) {
            t->reason = BT_EXIT_END_OF_DATA;
            t->exit_signal_price = last;
            apply_fill(bt, i, true, slipped(bt, side_opposite(t->side), last), bt->last_ts);
        }
    }
    /* drop the entries that never filled: they were never positions */
    size_t k = 0;
    for (size_t i = 0; i < bt->ntrades; i++) {
        if (bt->st[i] == ST_REJECTED) continue;
        if (k != i) {
            bt->trades[k] = bt->trades[i];
            bt->st[k] = bt->st[i];
        }
        k++;
    }
    bt->ntrades = k;
    if (bt->ticks) {
        account(bt, bt->last_ts);
        close_day(bt);
    }
    curve_flush(bt);
}

/* ---- results ---------------------------------------------------------------------------- */

const backtest_trade *backtest_trades(const backtest *bt, size_t *n) {
    *n = bt ? bt->ntrades : 0;
    return bt ? bt->trades : NULL;
}

const equity_series *backtest_daily_equity(const backtest *bt) { return bt ? &bt->daily : NULL; }

const backtest_point *backtest_equity_curve(const backtest *bt, size_t *n) {
    *n = bt ? bt->ncurve : 0;
    return bt ? bt->curve : NULL;
}

size_t backtest_symbol_ticks(const backtest *bt, const char *symbol) {
    if (!bt || !symbol) return 0;
    for (size_t i = 0; i < bt->nsyms; i++)
        if (!strcmp(bt->syms[i].name, symbol)) return bt->syms[i].ticks;
    return 0;
}

void backtest_get_summary(const backtest *bt, backtest_summary *out) {
    memset(out, 0, sizeof *out);
    if (!bt) return;
    out->ticks = bt->ticks;
    out->entry_signals = bt->entry_signals;
    out->exit_signals = bt->exit_signals;
    out->unfilled_entries = bt->unfilled;
    out->days = bt->daily.n;
    double *net = malloc((bt->ntrades ? bt->ntrades : 1) * sizeof *net);
    size_t closed = 0;
    for (size_t i = 0; i < bt->ntrades; i++) {
        const backtest_trade *t = &bt->trades[i];
        if (!t->closed) continue;
        out->points += t->points;
        out->gross_pnl += t->gross;
        out->costs += t->costs;
        if (net) net[closed] = t->net;
        closed++;
    }
    fig_trades ft;
    fig_trades_compute(net, net ? closed : 0, out->days, &ft);
    free(net);
    out->trades = ft.trades;
    out->wins = ft.wins;
    out->losses = ft.losses;
    out->win_rate = ft.win_rate;
    out->net_pnl = ft.net;
    out->gross_profit = ft.gross_profit;
    out->gross_loss = ft.gross_loss;
    out->profit_factor = ft.profit_factor;
    out->avg_win = ft.avg_win;
    out->avg_loss = ft.avg_loss;
    out->expectancy = ft.expectancy;
    out->win_streak = ft.win_streak;
    out->loss_streak = ft.loss_streak;
    out->trades_per_day = ft.trades_per_day;

    out->exposure = bt->ticks ? (double)bt->ticks_exposed / (double)bt->ticks : 0;
    out->capital = bt->cfg.capital;
    out->final_equity = bt->cash + bt->unreal_total;
    out->return_pct = bt->cfg.capital > 0 ? (out->final_equity - bt->cfg.capital) / bt->cfg.capital * 100.0 : 0;
    out->first_ts_us = bt->first_ts;
    out->last_ts_us = bt->last_ts;

    fig_curve daily;
    if (fig_curve_daily(&bt->daily, bt->cfg.capital, &daily)) {
        out->max_drawdown = daily.max_dd;
        out->max_drawdown_pct = daily.max_dd_pct;
        out->drawdown_days = (double)daily.dd_points;
    }
    fig_point *p = malloc((bt->ncurve ? bt->ncurve : 1) * sizeof *p);
    if (p && bt->ncurve) {
        for (size_t i = 0; i < bt->ncurve; i++)
            p[i] = (fig_point){(double)bt->curve[i].ts_us / 86400e6, bt->curve[i].equity};
        fig_collapse_closed(p, bt->ncurve, FIG_INTRADAY_GAP_MAX);
        fig_curve intra;
        if (fig_curve_compute(p, bt->ncurve, bt->cfg.capital, &intra)) {
            out->intraday_max_drawdown = intra.max_dd;
            out->intraday_max_drawdown_pct = intra.max_dd_pct;
            out->intraday_drawdown_s = intra.dd_duration * 86400.0;
        }
    }
    free(p);
    fig_ratios fr;
    fig_ratios_compute(&bt->daily, bt->cfg.capital, &fr);
    out->sharpe = fr.sharpe;
    out->sharpe_valid = fr.sharpe_valid;
    out->sortino = fr.sortino;
    out->sortino_valid = fr.sortino_valid;
    out->calmar = fr.calmar;
    out->calmar_valid = fr.calmar_valid;
}
