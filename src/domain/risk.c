#include "domain/risk.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WEEKDAYS_MON_FRI 0x3Eu /* bits 1..5 */

risk_limits risk_limits_default(void) {
    risk_limits l;
    memset(&l, 0, sizeof l);
    l.max_lots_per_order = 10;
    l.max_position_per_product = 20;
    l.max_open_orders = 50;
    l.max_orders_per_second = 20;
    l.daily_loss_limit = 100000;
    l.trading_hours = true;
    l.day_session = (risk_session){8 * 60 + 45, 13 * 60 + 45};
    l.night_session = (risk_session){15 * 60, 5 * 60};
    l.trading_days = WEEKDAYS_MON_FRI;
    l.price_band_points = 500;
    l.stale_signal_ms = 5000;
    l.refuse_duplicates = true;
    return l;
}

void risk_state_init(risk_state *st) { memset(st, 0, sizeof *st); }

const char *risk_rule_code(risk_verdict v) {
    switch (v) {
    case RISK_OK: return "ok";
    case RISK_BAD_REQUEST: return "bad_request";
    case RISK_DUPLICATE: return "refuse_duplicates";
    case RISK_STALE: return "stale_signal_ms";
    case RISK_KILL_SWITCH: return "kill_switch";
    case RISK_DAILY_LOSS: return "daily_loss_limit";
    case RISK_TRADING_HOURS: return "trading_hours";
    case RISK_MAX_LOTS: return "max_lots_per_order";
    case RISK_MAX_POSITION: return "max_position_per_product";
    case RISK_MAX_OPEN_ORDERS: return "max_open_orders";
    case RISK_RATE: return "max_orders_per_second";
    case RISK_PRICE_BAND: return "price_band_points";
    }
    return "unknown";
}

/* Writes "<code>: <details>" into reason and returns v. */
__attribute__((format(printf, 4, 5))) static risk_verdict refuse(char *reason, size_t len,
                                                               risk_verdict v, const char *fmt,
                                                               ...) {
    if (!reason || len == 0) return v;
    int n = snprintf(reason, len, "%s: ", risk_rule_code(v));
    if (n < 0 || (size_t)n >= len) return v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason + n, len - (size_t)n, fmt, ap);
    va_end(ap);
    return v;
}

static bool day_allowed(unsigned days, int weekday) { return (days >> weekday) & 1u; }

static bool in_session(risk_session s, unsigned days, int minute, int weekday) {
    if (s.start_min == s.end_min) return false;
    if (s.start_min < s.end_min)
        return minute >= s.start_min && minute < s.end_min && day_allowed(days, weekday);
    /* Crosses midnight: the early-morning part belongs to the previous day's session. */
    if (minute >= s.start_min) return day_allowed(days, weekday);
    return minute < s.end_min && day_allowed(days, (weekday + 6) % 7);
}

bool risk_in_trading_hours(const risk_limits *lim, int minute_of_day, int weekday) {
    if (minute_of_day < 0 || minute_of_day >= 24 * 60 || weekday < 0 || weekday > 6) return false;
    return in_session(lim->day_session, lim->trading_days, minute_of_day, weekday) ||
           in_session(lim->night_session, lim->trading_days, minute_of_day, weekday);
}

const risk_product *risk_product_find(const risk_state *st, const char *symbol) {
    if (!symbol) return NULL;
    for (int i = 0; i < st->nproducts; i++)
        if (strcmp(st->products[i].symbol, symbol) == 0) return &st->products[i];
    return NULL;
}

risk_product *risk_product_get(risk_state *st, const char *symbol) {
    if (!symbol || !symbol[0] || strlen(symbol) >= RISK_SYMBOL_MAX) return NULL;
    const risk_product *found = risk_product_find(st, symbol);
    if (found) return &st->products[found - st->products];
    if (st->nproducts >= RISK_MAX_PRODUCTS) return NULL;
    risk_product *p = &st->products[st->nproducts++];
    memset(p, 0, sizeof *p);
    strcpy(p->symbol, symbol);
    return p;
}

bool risk_set_position(risk_state *st, const char *symbol, int64_t net_qty) {
    risk_product *p = risk_product_get(st, symbol);
    if (!p) return false;
    p->net_qty = net_qty;
    return true;
}

bool risk_set_pending(risk_state *st, const char *symbol, int64_t pending_buy,
                      int64_t pending_sell) {
    risk_product *p = risk_product_get(st, symbol);
    if (!p) return false;
    p->pending_buy = pending_buy > 0 ? pending_buy : 0;
    p->pending_sell = pending_sell > 0 ? pending_sell : 0;
    return true;
}

bool risk_is_exit(const risk_state *st, const risk_request *req) {
    const risk_product *p = risk_product_find(st, req->symbol);
    if (!p || req->qty <= 0) return false;
    if (req->side == SIDE_SELL) return p->net_qty > 0 && req->qty <= p->net_qty - p->pending_sell;
    return p->net_qty < 0 && req->qty <= -p->net_qty - p->pending_buy;
}

/* Orders sent in the last second (now - 1000, now]. Times later than now also count, so a clock
 * step backwards errs on the side of refusing. */
static int64_t orders_last_second(const risk_state *st, int64_t now_ms) {
    int64_t n = 0;
    for (int i = 0; i < st->rate_count; i++) {
        int idx = (st->rate_head - 1 - i + RISK_RATE_CAP) % RISK_RATE_CAP;
        if (st->order_times[idx] > now_ms - 1000) n++;
    }
    return n;
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

risk_verdict risk_check(const risk_limits *lim, const risk_state *st, const risk_request *req,
                        char *reason, size_t reasonlen) {
    if (reason && reasonlen) reason[0] = '\0';

    if (!req->symbol || !req->symbol[0])
        return refuse(reason, reasonlen, RISK_BAD_REQUEST, "no symbol");
    if (req->side != SIDE_BUY && req->side != SIDE_SELL)
        return refuse(reason, reasonlen, RISK_BAD_REQUEST, "unknown side %d", (int)req->side);
    if (req->qty <= 0)
        return refuse(reason, reasonlen, RISK_BAD_REQUEST, "quantity %" PRId64 " is not positive",
                      req->qty);
    if (req->minute_of_day < 0 || req->minute_of_day >= 24 * 60 || req->weekday < 0 ||
        req->weekday > 6)
        return refuse(reason, reasonlen, RISK_BAD_REQUEST, "local time %d/%d out of range",
                      req->weekday, req->minute_of_day);

    if (lim->refuse_duplicates && req->duplicate)
        return refuse(reason, reasonlen, RISK_DUPLICATE, "signal already seen");

    /* An exit only reduces what is open: it is never refused for being late or for a price
     * off the band, since refusing it would leave the position without its exit. */
    bool is_exit = req->closes_holding || req->flatten || risk_is_exit(st, req);

    if (lim->stale_signal_ms > 0 && !is_exit) {
        int64_t age = req->now_ms - req->signal_ms;
        if (age > lim->stale_signal_ms)
            return refuse(reason, reasonlen, RISK_STALE,
                          "signal is %" PRId64 " ms old > limit %" PRId64 " ms", age,
                          lim->stale_signal_ms);
        if (-age > lim->stale_signal_ms)
            return refuse(reason, reasonlen, RISK_STALE,
                          "signal is %" PRId64 " ms in the future > limit %" PRId64 " ms", -age,
                          lim->stale_signal_ms);
    }


    /* halted: nothing but cancels, which are not orders; a flatten is the trader's own exit */
    if (st->halted && !req->flatten)
        return refuse(reason, reasonlen, RISK_KILL_SWITCH, "trading halted (%s): nothing but cancels and flatten",
                      st->kill_reason[0] ? st->kill_reason : "no reason given");

    if (st->kill_switch && !is_exit)
        return refuse(reason, reasonlen, RISK_KILL_SWITCH, "entries halted (%s)",
                      st->kill_reason[0] ? st->kill_reason : "no reason given");

    if (lim->daily_loss_limit > 0 && st->pnl_today <= -lim->daily_loss_limit && !is_exit)
        return refuse(reason, reasonlen, RISK_DAILY_LOSS,
                      "today's P&L %" PRId64 " reached the loss limit -%" PRId64, st->pnl_today,
                      lim->daily_loss_limit);

    if (lim->trading_hours && !risk_in_trading_hours(lim, req->minute_of_day, req->weekday))
        return refuse(reason, reasonlen, RISK_TRADING_HOURS,
                      "market closed at %02d:%02d local (weekday %d)", req->minute_of_day / 60,
                      req->minute_of_day % 60, req->weekday);

    if (lim->max_lots_per_order > 0 && req->qty > lim->max_lots_per_order)
        return refuse(reason, reasonlen, RISK_MAX_LOTS, "%" PRId64 " lots > limit %" PRId64,
                      req->qty, lim->max_lots_per_order);

    if (lim->max_position_per_product > 0 && !is_exit) {
        const risk_product *p = risk_product_find(st, req->symbol);
        int64_t net = p ? p->net_qty : 0;
        /* Worst case: every pending order on this side fills too. */
        int64_t projected = req->side == SIDE_BUY ? net + (p ? p->pending_buy : 0) + req->qty
                                                  : net - (p ? p->pending_sell : 0) - req->qty;
        if (abs64(projected) > lim->max_position_per_product)
            return refuse(reason, reasonlen, RISK_MAX_POSITION,
                          "%s position would reach %" PRId64 " lots > limit %" PRId64,
                          req->symbol, projected, lim->max_position_per_product);
    }

    if (lim->max_open_orders > 0 && st->open_orders >= lim->max_open_orders)
        return refuse(reason, reasonlen, RISK_MAX_OPEN_ORDERS,
                      "%" PRId64 " orders open, limit %" PRId64, st->open_orders,
                      lim->max_open_orders);

    if (lim->max_orders_per_second > 0) {
        int64_t n = orders_last_second(st, req->now_ms);
        if (n >= lim->max_orders_per_second)
            return refuse(reason, reasonlen, RISK_RATE,
                          "%" PRId64 " orders in the last second, limit %" PRId64, n,
                          lim->max_orders_per_second);
    }

    if (lim->price_band_points > 0 && !is_exit) {
        if (req->ref_price <= 0 || req->last_price <= 0)
            return refuse(reason, reasonlen, RISK_PRICE_BAND,
                          "cannot check the band: %s price unknown",
                          req->ref_price <= 0 ? "signal" : "last traded");
        int64_t dist = abs64(req->ref_price - req->last_price);
        if (dist > lim->price_band_points)
            return refuse(reason, reasonlen, RISK_PRICE_BAND,
                          "signal price %" PRId64 " is %" PRId64
                          " points from last traded %" PRId64 " > band %" PRId64,
                          req->ref_price, dist, req->last_price, lim->price_band_points);
    }

    return RISK_OK;
}

void risk_record_order(risk_state *st, int64_t now_ms) {
    st->order_times[st->rate_head] = now_ms;
    st->rate_head = (st->rate_head + 1) % RISK_RATE_CAP;
    if (st->rate_count < RISK_RATE_CAP) st->rate_count++;
    st->open_orders++;
}

void risk_order_closed(risk_state *st) {
    if (st->open_orders > 0) st->open_orders--;
}

bool risk_trip_kill_switch(risk_state *st, const char *reason) {
    if (st->kill_switch) return false;
    st->kill_switch = true;
    snprintf(st->kill_reason, sizeof st->kill_reason, "%s", reason ? reason : "");
    return true;
}

void risk_halt(risk_state *st, const char *reason) {
    st->kill_switch = st->halted = true;
    snprintf(st->kill_reason, sizeof st->kill_reason, "%s", reason ? reason : "");
}

void risk_reset_kill_switch(risk_state *st) {
    st->kill_switch = st->halted = false;
    st->kill_reason[0] = '\0';
}

bool risk_update_pnl(risk_state *st, const risk_limits *lim, int64_t pnl_today) {
    st->pnl_today = pnl_today;
    if (lim->daily_loss_limit <= 0 || pnl_today > -lim->daily_loss_limit) return false;
    char why[RISK_REASON_MAX];
    snprintf(why, sizeof why, "daily loss limit: P&L %" PRId64 " <= -%" PRId64, pnl_today,
             lim->daily_loss_limit);
    return risk_trip_kill_switch(st, why);
}
