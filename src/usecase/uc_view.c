#include "usecase/uc_view.h"

#include <string.h>
#include <time.h>

#include "core/clock.h"

void uc_view_duration(double seconds, char *out, size_t cap) {
    long s = seconds > 0 ? (long)seconds : 0;
    if (s >= 86400) snprintf(out, cap, "%ldd%02ldh%02ldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
    else if (s >= 3600) snprintf(out, cap, "%ldh%02ldm%02lds", s / 3600, s % 3600 / 60, s % 60);
    else if (s >= 60) snprintf(out, cap, "%ldm%02lds", s / 60, s % 60);
    else snprintf(out, cap, "%lds", s);
}

static const char *str(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long num(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? (long long)json_number_value(v) : 0;
}

void uc_view_futures(FILE *out, json_t *list) {
    size_t n = json_array_size(list);
    if (!n) {
        fprintf(out, "\nNo futures data found\n\n");
        return;
    }
    fprintf(out, "\nFound %zu futures items\n\n==== Futures Data ====\n", n);
    fprintf(out, "%-10s %-30s %-8s %-8s %10s %10s %10s\n", "code", "name", "month", "market", "reference", "limit up",
            "limit down");
    fprintf(out, "%.92s\n", "--------------------------------------------------------------------------------------------");
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        fprintf(out, "%-10s %-30.30s %-8s %-8s %10lld %10lld %10lld\n", str(p, "code"), str(p, "name"),
                str(p, "delivery_month"), str(p, "market"), num(p, "reference_price"), num(p, "max_price"),
                num(p, "min_price"));
    }
    fprintf(out, "%.92s\n", "--------------------------------------------------------------------------------------------");
    fprintf(out, "Total items: %zu\n\n", n);
}

void uc_view_accounts(FILE *out, json_t *accounts, const char *selected) {
    size_t i;
    json_t *a;
    json_array_foreach(accounts, i, a) {
        const char *s = json_string_value(a);
        fprintf(out, "%zu. %s%s\n", i + 1, s ? s : "?", selected && s && !strcmp(s, selected) ? "  (selected)" : "");
    }
}

void uc_view_order(FILE *out, const uc_order *o) {
    char how[64] = "at market (IOC)";
    if (o->limit_price > 0)
        snprintf(how, sizeof how, "limit %lld (%s)", (long long)o->limit_price, o->rests ? "ROD, rests" : "IOC");
    fprintf(out, "Order %s sent: %s %lld %s %s, account %s, client id %s.\n",
            o->order_serial[0] ? o->order_serial : "-", o->buy ? "buy" : "sell", (long long)o->qty, o->symbol, how,
            o->account, o->client_order_id);
    if (o->via_executor)
        fprintf(out, "Placed by the executor as a manual order: in aftm's orders, fills and positions.\n");
    else
        fprintf(out, "No executor is running: sent straight to the broker. The executor books it as an external "
                     "order when it next runs.\n");
    if (o->filled_qty > 0)
        fprintf(out, "Filled %lld of %lld at %.2f (%s).\n", (long long)o->filled_qty, (long long)o->qty, o->avg_price,
                o->status);
    else if ((!strcmp(o->status, "accepted") || !strcmp(o->status, "new") || !o->status[0]) && o->limit_price > 0)
        fprintf(out, "Accepted by the broker; not filled yet: it fills when %s's price crosses %lld ('aftm order "
                     "cancel %s' to cancel it).\n", o->symbol, (long long)o->limit_price, o->client_order_id);
    else if (!strcmp(o->status, "accepted") || !strcmp(o->status, "new") || !o->status[0])
        fprintf(out, "Accepted by the broker; not filled yet (it fills at the next price of %s).\n", o->symbol);
    else
        fprintf(out, "Status: %s%s%s.\n", o->status, o->reason[0] ? ": " : "", o->reason);
}

void uc_view_positions(FILE *out, json_t *positions, const char *account) {
    fprintf(out, "%-10s %-9s %6s %6s %6s %10s %10s %12s %12s\n", "account", "product", "net", "long", "short",
            "avg cost", "reference", "unrealized", "realized");
    size_t i;
    json_t *p;
    json_array_foreach(positions, i, p) {
        double avg = json_number_value(json_object_get(p, "avg_cost_long"));
        if (avg == 0) avg = json_number_value(json_object_get(p, "avg_cost_short"));
        fprintf(out, "%-10s %-9s %+6lld %6lld %6lld %10.2f %10lld %12lld %12lld\n", str(p, "investor_account"),
                str(p, "product_id"), num(p, "net_qty"), num(p, "current_long"), num(p, "current_short"), avg,
                num(p, "reference_price"), num(p, "unrealized_pl"), num(p, "realized_pl"));
    }
    if (!json_array_size(positions)) fprintf(out, "(no positions for %s)\n", account);
}

void uc_view_condition_created(FILE *out, const condition_record *r) {
    const condition *c = &r->c;
    fprintf(out, "Condition %lld created: %s %s %lld lot(s); trigger %lld, entry at %lld (turning %lld), take profit %lld "
                 "(+%lld), stop loss %lld (-%lld)%s%s.\n",
            (long long)c->id, c->side == SIDE_BUY ? "buy" : "sell", c->symbol, (long long)c->quantity,
            (long long)c->trigger_price, (long long)c->order_price, (long long)c->turning_point,
            (long long)c->take_profit_price, (long long)c->take_profit_point, (long long)c->stop_loss_price,
            (long long)c->stop_loss_point, c->is_following ? ", following the price" : "",
            c->repeat ? ", armed again after each exit" : "");
}

void uc_view_conditions_header(FILE *out) {
    fprintf(out, "%5s  %-8s %-4s %4s %8s %8s %8s %8s  %-5s %-6s %-16s %s\n", "id", "symbol", "side", "qty", "trigger",
            "entry", "profit", "stop", "trail", "repeat", "stage", "note");
}

void uc_view_condition_row(FILE *out, const condition_record *r) {
    const condition *c = &r->c;
    /* a repeating condition shows its round: "#3" is its third time armed */
    char rep[24] = "no";
    if (c->repeat) snprintf(rep, sizeof rep, "#%lld", (long long)c->round + 1);
    fprintf(out, "%5lld  %-8s %-4s %4lld %8lld %8lld %8lld %8lld  %-5s %-6s %-16s %s\n", (long long)c->id, c->symbol,
            c->side == SIDE_BUY ? "buy" : "sell", (long long)c->quantity, (long long)c->trigger_price,
            (long long)c->order_price, (long long)c->take_profit_price, (long long)c->stop_loss_price,
            c->is_following ? "yes" : "no", rep, uc_condition_stage(r), r->note);
}

json_t *uc_view_condition_json(const condition_record *r) {
    const condition *c = &r->c;
    char created[CLOCK_ISO_MAX], updated[CLOCK_ISO_MAX];
    clock_iso8601(r->created_at, created);
    clock_iso8601(r->updated_at, updated);
    /* "qty" as every other --json names lots; "quantity", the original's conditions.json name, kept */
    return json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:I,s:I,s:I,s:b,s:b,s:b,s:s,s:I,s:s,s:s,s:s,s:b,s:I,s:s,s:s}",
                     "id", (json_int_t)c->id, "symbol", c->symbol, "side", c->side == SIDE_BUY ? "buy" : "sell",
                     "trigger_price", (json_int_t)c->trigger_price, "turning_point", (json_int_t)c->turning_point,
                     "qty", (json_int_t)c->quantity, "quantity", (json_int_t)c->quantity, "take_profit_point", (json_int_t)c->take_profit_point,
                     "stop_loss_point", (json_int_t)c->stop_loss_point, "is_following", c->is_following,
                     "order_price", (json_int_t)c->order_price, "take_profit_price", (json_int_t)c->take_profit_price,
                     "stop_loss_price", (json_int_t)c->stop_loss_price, "is_trigger", c->is_trigger, "is_ordered",
                     c->is_ordered, "is_exited", c->is_exited, "entry_state", entry_state_name(c->entry),
                     "filled_qty", (json_int_t)c->filled_qty, "status", r->status, "stage", uc_condition_stage(r),
                     "note", r->note, "repeat", c->repeat, "round", (json_int_t)c->round + 1, "created_at", created,
                     "updated_at", updated);
}

static const char *mark(bool ok) { return ok ? "\u2713" : "\u2717"; }

void uc_view_prereqs(FILE *out, const uc_prereqs *p, const uc_ctx *c) {
    fprintf(out, "=== System Prerequisites ===\n");
    fprintf(out, "User logged in: %s%s%s%s\n", mark(p->logged_in), p->logged_in ? "" : "  (log in: ",
            p->logged_in ? "" : uc_hint(c, HINT_LOGIN), p->logged_in ? "" : ")");
    fprintf(out, "Item registered: %s%s%s%s\n", mark(p->item_registered), p->item_registered ? "" : "  (register one: ",
            p->item_registered ? "" : uc_hint(c, HINT_ITEM), p->item_registered ? "" : ")");
    fprintf(out, "Order account selected: %s%s%s%s\n", mark(p->account_selected),
            p->account_selected ? "" : "  (select one: ", p->account_selected ? "" : uc_hint(c, HINT_ACCOUNT),
            p->account_selected ? "" : ")");
    if (p->has_conditions) fprintf(out, "Trading conditions defined: %s  (%d active)\n", mark(true), p->n_conditions);
    else fprintf(out, "Trading conditions defined: %s  (create one: %s)\n", mark(false), uc_hint(c, HINT_CONDITION));
    fprintf(out, "===========================\n");
}

static void proc_line(FILE *out, const char *label, const uc_proc *p, bool is_gateway) {
    if (!strcmp(p->state, "running"))
        fprintf(out, "%-16s \u2713 Running (pid %d%s)\n", label, p->pid,
                is_gateway ? ", answered its health check" : ", alive after start-up");
    else if (!strcmp(p->state, "starting") || !strcmp(p->state, "restarting"))
        fprintf(out, "%-16s \u27f3 %s%s\n", label, !strcmp(p->state, "starting") ? "Starting" : "Restarting",
                is_gateway ? " (no answer to its health check yet)" : "");
    else if (!strcmp(p->state, "crashed"))
        fprintf(out, "%-16s \u2717 Error: %s\n", label, p->last_error[0] ? p->last_error : "it stopped");
    else if (!strcmp(p->state, "not answering"))
        fprintf(out, "%-16s \u2717 Error: does not answer its health check\n", label);
    else fprintf(out, "%-16s \u2717 Stopped\n", label);
}

void uc_view_start(FILE *out, const uc_start_report *rep) {
    fprintf(out, "=== System Startup Results ===\n");
    fprintf(out, "Overall Status: %s\n", rep->ok ? "\u2713 Success" : "\u2717 Failed");
    proc_line(out, "Gateway:", &rep->gateway, true);
    proc_line(out, "Strategy:", &rep->strategy, false);
    proc_line(out, "Order Executor:", &rep->executor, false);
    fprintf(out, "==============================\n");
}

void uc_view_status(FILE *out, const uc_system_status *s) {
    char when[32] = "", left[32] = "";
    time_t t = (time_t)s->session.expires_at;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    switch (s->sstate) {
    case SESSION_ACTIVE: {
        uc_view_duration(s->session.expires_at - (double)time(NULL), left, sizeof left);
        fprintf(out, "Session:        logged in as %s (%s); expires %s (in %s, renewed while in use)\n",
                s->session.account, !strcmp(s->session.broker, "fix") ? "FIX" : "simulated exchange", when, left);
        break;
    }
    case SESSION_EXPIRED: fprintf(out, "Session:        %s, EXPIRED at %s: log in again\n", s->session.account, when); break;
    case SESSION_LOGGED_OUT: fprintf(out, "Session:        logged out (last account %s)\n", s->session.account); break;
    default: fprintf(out, "Session:        nobody has logged in yet\n"); break;
    }
    if (s->sstate != SESSION_NONE) {
        fprintf(out, "Order account:  %s\n", s->session.order_account[0] ? s->session.order_account : "(none selected)");
        fprintf(out, "Item:           %s", s->session.item_code[0] ? s->session.item_code : "(none registered)");
        if (s->n_items > 1) {
            fprintf(out, "  (registered:");
            for (int i = 0; i < s->n_items; i++) fprintf(out, " %s", s->items[i]);
            fprintf(out, ")");
        }
        fprintf(out, "\n");
    }
    if (s->trading_state[0]) {
        char since[40] = "";
        if (s->trading_state_since > 0) {
            time_t since_t = (time_t)s->trading_state_since;
            struct tm since_tm;
            localtime_r(&since_t, &since_tm);
            strftime(since, sizeof since, " since %Y-%m-%d %H:%M:%S", &since_tm);
        }
        fprintf(out, "Trading state:  %s%s%s%s\n", s->trading_state, since, s->trading_state_reason[0] ? " - " : "",
                s->trading_state_reason);
    }
    fprintf(out, "Conditions:     %d active;  orders: %d;  fills: %d\n", s->n_conditions, s->n_orders, s->n_fills);
    fprintf(out, "P&L (points):   %d open position(s);  unrealized %+lld at the last price;  realized %+lld\n",
            s->open_positions, s->unrealized_pnl, s->realized_pnl);
    fprintf(out, "\n%-10s %-11s %8s %10s %8s  %s\n", "process", "state", "pid", "uptime", "restarts", "last error");
    for (int i = 0; i < s->n_procs + (s->has_exchange ? 1 : 0); i++) {
        const uc_proc *p = i < s->n_procs ? &s->procs[i] : &s->exchange;
        char up[32] = "-", pid[16] = "-";
        if (p->pid > 0) {
            uc_view_duration(p->uptime_s, up, sizeof up);
            snprintf(pid, sizeof pid, "%d", p->pid);
        }
        fprintf(out, "%-10s %-11s %8s %10s %8d  %s\n", p->name, p->state, pid, up, p->restarts,
                p->last_error[0] ? p->last_error : "-");
    }
    if (s->supervisor[0]) fprintf(out, "Supervised by %s.\n", s->supervisor);
    if (s->n_recent) {
        fprintf(out, "\nLatest fills:\n");
        for (int i = 0; i < s->n_recent; i++) {
            time_t ft = (time_t)s->fills[i].time;
            char at[16];
            localtime_r(&ft, &tm);
            strftime(at, sizeof at, "%H:%M:%S", &tm);
            fprintf(out, "  %s  %-4s %lld %s at %lld\n", at, s->fills[i].side, (long long)s->fills[i].qty,
                    s->fills[i].symbol, (long long)s->fills[i].price);
        }
    }
}

json_t *uc_view_status_json(const uc_system_status *s) {
    static const char *states[] = {"none", "logged_out", "expired", "active"};
    json_t *items = json_array();
    for (int i = 0; i < s->n_items; i++) json_array_append_new(items, json_string(s->items[i]));
    json_t *procs = json_array();
    for (int i = 0; i < s->n_procs + (s->has_exchange ? 1 : 0); i++) {
        const uc_proc *p = i < s->n_procs ? &s->procs[i] : &s->exchange;
        json_array_append_new(procs, json_pack("{s:s,s:s,s:i,s:f,s:i,s:s}", "name", p->name, "state", p->state, "pid",
                                               p->pid, "uptime_s", p->uptime_s, "restarts", p->restarts, "last_error",
                                               p->last_error));
    }
    json_t *fills = json_array();
    for (int i = 0; i < s->n_recent; i++) {
        char when[CLOCK_ISO_MAX];
        clock_iso8601(s->fills[i].time, when);
        json_array_append_new(fills, json_pack("{s:s,s:s,s:I,s:I,s:s}", "symbol", s->fills[i].symbol, "side",
                                               s->fills[i].side, "qty", (json_int_t)s->fills[i].qty, "price",
                                               (json_int_t)s->fills[i].price, "time", when));
    }
    char expires[CLOCK_ISO_MAX], since[CLOCK_ISO_MAX];
    clock_iso8601(s->session.expires_at, expires);
    clock_iso8601(s->trading_state_since, since);
    json_t *j = json_pack("{s:{s:s,s:s,s:s,s:s?,s:s,s:s,s:o},s:o,s:s?,s:s?,s:s?,s:b,s:b,s:i,s:i,s:i,s:o}", "session",
                     "state", states[s->sstate], "account", s->session.account, "broker", s->session.broker,
                     "expires_at", expires[0] ? expires : NULL, "order_account", s->session.order_account, "item_code",
                     s->session.item_code, "items", items, "processes", procs, "trading_state",
                     s->trading_state[0] ? s->trading_state : NULL, "trading_state_reason",
                     s->trading_state_reason[0] ? s->trading_state_reason : NULL, "supervisor", s->supervisor[0] ? s->supervisor : NULL, "trading", s->trading,
                     "gateway_up", s->gateway_up, "active_conditions", s->n_conditions, "orders", s->n_orders,
                     "fills", s->n_fills, "latest_fills", fills);
    json_object_set_new(j, "open_positions", json_integer(s->open_positions));
    json_object_set_new(j, "unrealized_pnl", json_integer(s->unrealized_pnl));
    json_object_set_new(j, "realized_pnl", json_integer(s->realized_pnl));
    json_object_set_new(j, "pnl_unit", json_string("points"));
    if (j && since[0]) json_object_set_new(j, "trading_state_since", json_string(since));
    return j;
}
