#include "domain/position.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

bool position_init(position *p, const char *account, const char *symbol) {
    if (!symbol || !symbol[0] || strlen(symbol) >= sizeof p->symbol) return false;
    if (!account) account = "";
    if (strlen(account) >= sizeof p->account) return false;
    memset(p, 0, sizeof *p);
    strcpy(p->account, account);
    strcpy(p->symbol, symbol);
    return true;
}

static int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

bool position_apply_fill(position *p, side_t side, int64_t qty, price_t price) {
    if (qty <= 0 || price <= 0 || (side != SIDE_BUY && side != SIDE_SELL)) return false;
    int64_t dir = side == SIDE_BUY ? 1 : -1;
    int64_t open = abs64(p->net_qty);

    /* Flat or same side: the fill adds to the open quantity. */
    if (p->net_qty == 0 || (p->net_qty > 0) == (dir > 0)) {
        p->net_qty += dir * qty;
        p->open_cost += price * qty;
        return true;
    }

    /* Opposite side: close up to the open quantity, open the rest at the fill price. */
    int64_t closing = qty < open ? qty : open;
    int64_t cost_closed = closing == open ? p->open_cost : p->open_cost / open * closing +
                                                               p->open_cost % open * closing / open;
    int64_t proceeds = price * closing;
    p->realized += p->net_qty > 0 ? proceeds - cost_closed : cost_closed - proceeds;
    p->open_cost -= cost_closed;
    p->net_qty += dir * closing;

    int64_t opening = qty - closing;
    if (opening > 0) {
        p->net_qty = dir * opening;
        p->open_cost = price * opening;
    }
    return true;
}

double position_avg_price(const position *p) {
    return p->net_qty ? (double)p->open_cost / (double)abs64(p->net_qty) : 0.0;
}

int64_t position_unrealized(const position *p, price_t mark) {
    if (p->net_qty == 0) return 0;
    int64_t value = mark * abs64(p->net_qty);
    return p->net_qty > 0 ? value - p->open_cost : p->open_cost - value;
}

static bool has_prefix(const char *s, const char *prefix) {
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int64_t contract_multiplier(const char *symbol) {
    if (!symbol) return 1;
    if (has_prefix(symbol, "MXF") || has_prefix(symbol, "MTX")) return 50;
    if (has_prefix(symbol, "TXF")) return 200;
    /* Bare "TX" or "TX" + contract digits ("TX00"); "TXO" (options) is another product. */
    if (has_prefix(symbol, "TX") && (symbol[2] == '\0' || isdigit((unsigned char)symbol[2])))
        return 200;
    return 1;
}
