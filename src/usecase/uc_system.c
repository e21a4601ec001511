/* The trading system as a whole: prerequisites, start, stop and status, whether this process
 * supervises it (the menu) or another one does (the background session of 'aftm login', another
 * menu, or 'aftm run'). */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/str.h"
#include "app/launch/run_session.h"
#include "app/launch/supervisor.h"
#include "store/trading_state.h"
#include "usecase/uc.h"
#include "usecase/uc_host.h"

#define REMOTE_WAIT_MS 20000

static void count_row(void *ctx, const condition_record *r) {
    (void)r;
    (*(int *)ctx)++;
}

bool uc_start_refused(const uc_ctx *c, const uc_prereqs *p, uc_result *r) {
    if (!p->logged_in) {
        uc_set(r, UC_NOT_LOGGED_IN, "Please log in first (%s).", uc_hint(c, HINT_LOGIN));
        return true;
    }
    if (!p->item_registered || !p->account_selected || !p->has_conditions) {
        uc_set(r, UC_PRECONDITION, "The system is not ready to start: some prerequisites are missing.");
        return true;
    }
    return false;
}

void uc_check_prereqs(uc_ctx *c, uc_prereqs *p) {
    memset(p, 0, sizeof *p);
    session_info s;
    if (!session_load(c->db, &s)) memset(&s, 0, sizeof s);
    p->logged_in = session_active(&s, clock_wall_s());
    p->item_registered = p->logged_in && s.item_code[0];
    p->account_selected = p->logged_in && s.order_account[0];
    int n = 0;
    cstore_list(c->cs, false, count_row, &n);
    p->n_conditions = n;
    p->has_conditions = n > 0;
}

/* ---- what the processes table says, checked against the live processes ---- */

static bool row_alive(const process_row *r) { return r->pid > 0 && sup_pid_alive(r->pid, r->pid_start); }

static bool supervisor_row(uc_ctx *c, process_row *sup) {
    return proc_row_get(c->db, "supervisor", sup) && !strcmp(sup->state, "running") && row_alive(sup);
}

static void display(const process_row *r, bool sup_alive, uc_proc *p) {
    memset(p, 0, sizeof *p);
    str_copy(p->name, sizeof p->name, r->name);
    str_copy(p->owner, sizeof p->owner, r->owner);
    p->restarts = r->restarts;
    str_copy(p->last_error, sizeof p->last_error, r->last_error);
    bool alive = row_alive(r);
    if (!strcmp(r->state, "running") || !strcmp(r->state, "starting")) {
        if (alive) {
            str_copy(p->state, sizeof p->state, r->state);
            p->pid = r->pid;
            p->uptime_s = clock_wall_s() - r->started_at;
        } else {
            snprintf(p->state, sizeof p->state, "crashed");
            if (!p->last_error[0] || sup_alive)
                snprintf(p->last_error, sizeof p->last_error, "process %d is gone%s", r->pid,
                         sup_alive ? "" : " (its supervisor ended without stopping it)");
        }
    } else if (!strcmp(r->state, "restarting")) {
        snprintf(p->state, sizeof p->state, "%s", sup_alive ? "restarting" : "crashed");
    } else {
        str_copy(p->state, sizeof p->state, r->state);
    }
}

static void describe_supervisor(const process_row *sup, char *out, size_t cap) {
    if (!strcmp(sup->owner, "menu")) snprintf(out, cap, "the menu (pid %d)", sup->pid);
    else if (!strcmp(sup->owner, "login")) snprintf(out, cap, "the background session of 'aftm login' (pid %d)", sup->pid);
    else if (!strcmp(sup->owner, "run")) snprintf(out, cap, "'aftm run' (pid %d)", sup->pid);
    else snprintf(out, cap, "%s (pid %d)", sup->owner, sup->pid);
}

void uc_read_status(uc_ctx *c, uc_system_status *out) {
    memset(out, 0, sizeof *out);
    if (c->host) uc_host_poll(c->host);
    if (!session_load(c->db, &out->session)) memset(&out->session, 0, sizeof out->session);
    out->sstate = session_state_at(&out->session, clock_wall_s());
    out->n_items = session_items(c->db, out->items, SESSION_MAX_ITEMS);
    trading_state ts;
    if (tstate_get(c->db, &ts)) {
        str_copy(out->trading_state, sizeof out->trading_state, tstate_name(ts.kind));
        str_copy(out->trading_state_reason, sizeof out->trading_state_reason, ts.reason);
        out->trading_state_since = ts.since;
    }
    process_row rows[8], sup;
    int n = proc_rows(c->db, rows, 8);
    bool sup_alive = supervisor_row(c, &sup);
    if (sup_alive) describe_supervisor(&sup, out->supervisor, sizeof out->supervisor);
    const char *names[] = {"gateway", "executor", "strategy"};
    for (size_t k = 0; k < 3; k++) {
        uc_proc *p = &out->procs[out->n_procs++];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", names[k]);
        snprintf(p->state, sizeof p->state, "stopped");
        for (int i = 0; i < n; i++)
            if (!strcmp(rows[i].name, names[k])) display(&rows[i], sup_alive, p);
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].name, "exchange")) {
            display(&rows[i], sup_alive, &out->exchange);
            out->has_exchange = true;
        }
    out->gateway_up = !strcmp(out->procs[0].state, "running");
    out->trading = !strcmp(out->procs[1].state, "running") && !strcmp(out->procs[2].state, "running");
    int nc = 0;
    cstore_list(c->cs, false, count_row, &nc);
    out->n_conditions = nc;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM fills)", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            out->n_orders = sqlite3_column_int(st, 0);
            out->n_fills = sqlite3_column_int(st, 1);
        }
        sqlite3_finalize(st);
    }
    /* unrealized as domain/position.c's position_unrealized, at the stored last price */
    if (sqlite3_prepare_v2(c->db,
                           "SELECT count(*) FILTER (WHERE net_qty != 0), coalesce(sum(realized), 0), coalesce(sum("
                           "CASE WHEN net_qty > 0 AND last_price > 0 THEN last_price * net_qty - open_cost "
                           "WHEN net_qty < 0 AND last_price > 0 THEN open_cost + last_price * net_qty ELSE 0 END), 0) "
                           "FROM positions",
                           -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            out->open_positions = sqlite3_column_int(st, 0);
            out->realized_pnl = sqlite3_column_int64(st, 1);
            out->unrealized_pnl = sqlite3_column_int64(st, 2);
        }
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(c->db, "SELECT symbol, side, qty, price, time FROM fills ORDER BY time DESC, rowid DESC LIMIT 5",
                           -1, &st, NULL) == SQLITE_OK) {
        while (out->n_recent < 5 && sqlite3_step(st) == SQLITE_ROW) {
            int i = out->n_recent++;
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(out->fills[i].symbol, sizeof out->fills[i].symbol, "%s", t ? (const char *)t : "");
            t = sqlite3_column_text(st, 1);
            snprintf(out->fills[i].side, sizeof out->fills[i].side, "%s", t ? (const char *)t : "");
            out->fills[i].qty = sqlite3_column_int64(st, 2);
            out->fills[i].price = sqlite3_column_int64(st, 3);
            out->fills[i].time = sqlite3_column_double(st, 4);
        }
        sqlite3_finalize(st);
    }
}

bool uc_trading_running(uc_ctx *c) {
    if (c->host && uc_host_owns_anything(c->host)) return uc_host_trading(c->host);
    uc_system_status s;
    uc_read_status(c, &s);
    for (int i = 1; i < s.n_procs; i++)
        if (!strcmp(s.procs[i].state, "running") || !strcmp(s.procs[i].state, "starting") ||
            !strcmp(s.procs[i].state, "restarting"))
            return true;
    return false;
}

/* ---- asking the supervisor of another process ---- */

/* Posts request and waits for the answer while the supervisor lives. */
static bool remote(uc_ctx *c, const process_row *sup, const char *request, char *result, size_t cap) {
    long long seq = host_request_post(c->db, request);
    if (seq < 0) return false;
    int64_t deadline = clock_mono_ms() + REMOTE_WAIT_MS;
    while (clock_mono_ms() < deadline) {
        if (host_request_result(c->db, seq, result, cap)) return true;
        if (!row_alive(sup)) return false;
        clock_sleep_ms(50);
    }
    return false;
}

/* Stops the recorded processes directly (their supervisor is gone or does not answer). */
static int stop_pids(uc_ctx *c, bool all) {
    const char *names[] = {"strategy", "executor", "gateway"};
    process_row rows[3];
    bool live[3] = {false, false, false};
    int n = 0;
    for (int i = 0; i < (all ? 3 : 2); i++)
        if (proc_row_get(c->db, names[i], &rows[i]) && row_alive(&rows[i])) {
            live[i] = true;
            kill(rows[i].pid, SIGTERM);
            n++;
        }
    int64_t deadline = clock_mono_ms() + 5000;
    for (int i = 0; i < 3; i++) {
        if (!live[i]) continue;
        while (row_alive(&rows[i]) && clock_mono_ms() < deadline) clock_sleep_ms(20);
        if (row_alive(&rows[i])) kill(rows[i].pid, SIGKILL);
        rows[i].pid = 0;
        rows[i].pid_start = 0;
        snprintf(rows[i].state, sizeof rows[i].state, "stopped");
        rows[i].updated_at = clock_wall_s();
        proc_row_put(c->db, &rows[i]);
    }
    return n;
}

bool uc_stop_trading(uc_ctx *c, bool all, uc_result *r) {
    if (c->host && uc_host_owns_anything(c->host)) {
        if (all) {
            uc_host_stop_all(c->host, true);
            uc_set(r, UC_OK, "Stopped the strategy, the executor and the gateway; logged out.");
        } else if (uc_host_stop_trading(c->host)) {
            uc_set(r, UC_OK, "The trading system is stopped (strategy and executor). You are still logged in.");
        } else {
            uc_set(r, UC_OK, "The trading system is not running: nothing to stop.");
        }
        return true;
    }
    process_row sup;
    char result[600];
    if (supervisor_row(c, &sup)) {
        if (!strcmp(sup.owner, "run")) {
            kill(sup.pid, SIGTERM); /* aftm run stops as a whole */
            int64_t deadline = clock_mono_ms() + REMOTE_WAIT_MS;
            while (row_alive(&sup) && clock_mono_ms() < deadline) clock_sleep_ms(50);
            if (row_alive(&sup)) {
                uc_set(r, UC_FAILED, "'aftm run' (pid %d) did not stop within %d s.", sup.pid, REMOTE_WAIT_MS / 1000);
                return false;
            }
            uc_set(r, UC_OK, "Stopped 'aftm run' (pid %d): gateway, executor and strategy.", sup.pid);
            return true;
        }
        if (remote(c, &sup, all ? "stop_all" : "stop_trading", result, sizeof result)) {
            uc_set(r, UC_OK, "%s", result);
            return true;
        }
    }
    int n = stop_pids(c, all);
    if (n) uc_set(r, UC_OK, "Stopped %d process%s directly (no supervisor answered).", n, n == 1 ? "" : "es");
    else uc_set(r, UC_OK, "The trading system is not running: nothing to stop.");
    return true;
}

bool uc_start_trading(uc_ctx *c, uc_prereqs *p, uc_start_report *rep, uc_result *r) {
    memset(rep, 0, sizeof *rep);
    if (c->host && uc_host_gateway_alive(c->host)) return uc_host_start_trading(c->host, p, rep, r);
    uc_check_prereqs(c, p);
    uc_system_status now;
    uc_read_status(c, &now);
    if (p->logged_in && now.trading) {
        rep->ok = rep->already_running = true;
        rep->gateway = now.procs[0];
        rep->executor = now.procs[1];
        rep->strategy = now.procs[2];
        uc_set(r, UC_OK, "The trading system is already running.");
        return true;
    }
    if (uc_start_refused(c, p, r)) return false;
    process_row sup;
    if (!supervisor_row(c, &sup)) {
        uc_set(r, UC_FAILED, "The broker session (gateway) is not running: log in again (%s).", uc_hint(c, HINT_LOGIN));
        return false;
    }
    if (!strcmp(sup.owner, "run")) {
        uc_set(r, UC_PRECONDITION, "'aftm run' (pid %d) runs the trading system in the foreground already.", sup.pid);
        return false;
    }
    char result[600];
    if (!remote(c, &sup, "start_trading", result, sizeof result)) {
        uc_set(r, UC_FAILED, "The supervisor (pid %d) did not answer the start request.", sup.pid);
        return false;
    }
    json_error_t jerr;
    json_t *j = json_loads(result, 0, &jerr);
    if (!j) {
        uc_set(r, UC_FAILED, "%s", result);
        return false;
    }
    rep->ok = json_is_true(json_object_get(j, "ok"));
    rep->already_running = json_is_true(json_object_get(j, "already_running"));
    snprintf(rep->gateway.name, sizeof rep->gateway.name, "gateway");
    snprintf(rep->executor.name, sizeof rep->executor.name, "executor");
    snprintf(rep->strategy.name, sizeof rep->strategy.name, "strategy");
    const char *s;
    if ((s = json_string_value(json_object_get(j, "gateway")))) snprintf(rep->gateway.state, sizeof rep->gateway.state, "%s", s);
    if ((s = json_string_value(json_object_get(j, "executor")))) snprintf(rep->executor.state, sizeof rep->executor.state, "%s", s);
    if ((s = json_string_value(json_object_get(j, "strategy")))) snprintf(rep->strategy.state, sizeof rep->strategy.state, "%s", s);
    rep->executor.pid = (int)json_integer_value(json_object_get(j, "executor_pid"));
    rep->strategy.pid = (int)json_integer_value(json_object_get(j, "strategy_pid"));
    rep->gateway.pid = (int)json_integer_value(json_object_get(j, "gateway_pid"));
    p->logged_in = json_is_true(json_object_get(j, "logged_in"));
    p->item_registered = json_is_true(json_object_get(j, "item_registered"));
    p->account_selected = json_is_true(json_object_get(j, "account_selected"));
    p->has_conditions = json_is_true(json_object_get(j, "has_conditions"));
    uc_status st = (uc_status)json_integer_value(json_object_get(j, "status"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    uc_set(r, st, "%s", msg ? msg : "");
    if (!rep->ok && msg) snprintf(rep->error, sizeof rep->error, "%s", msg);
    json_decref(j);
    (void)errno;
    return st == UC_OK;
}

static long long max_rowid(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st;
    long long v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

static void text_into(sqlite3_stmt *st, int col, char *out, size_t cap) {
    const char *t = (const char *)sqlite3_column_text(st, col);
    str_copy(out, cap, t ? t : "");
}

/* Fills after cur->fill, an exit's marked by its order. */
static int fills_since(uc_ctx *c, uc_news_cursor *cur, uc_news_fn fn, void *ctx) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT f.rowid, f.symbol, f.side, f.qty, f.price, f.client_order_id, "
                           "coalesce(o.is_exit, 0), coalesce(o.condition_id, 0) FROM fills f "
                           "LEFT JOIN orders o ON o.client_order_id = f.client_order_id "
                           "WHERE f.rowid > ?1 ORDER BY f.rowid LIMIT 50",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, cur->fill);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cur->fill = sqlite3_column_int64(st, 0);
        uc_news e;
        memset(&e, 0, sizeof e);
        e.kind = sqlite3_column_int(st, 6) ? UC_NEWS_EXIT_FILL : UC_NEWS_FILL;
        text_into(st, 1, e.symbol, sizeof e.symbol);
        text_into(st, 2, e.side, sizeof e.side);
        e.qty = sqlite3_column_int64(st, 3);
        e.price = sqlite3_column_int64(st, 4);
        text_into(st, 5, e.client_order_id, sizeof e.client_order_id);
        e.condition_id = sqlite3_column_int64(st, 7);
        if (fn) fn(ctx, &e);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

/* The executor's refusals, skipped exits and kill switch, from the journal. */
static int journal_since(uc_ctx *c, uc_news_cursor *cur, uc_news_fn fn, void *ctx) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT j.id, j.kind, j.ref, j.detail, coalesce(o.symbol, ''), coalesce(o.side, ''), "
                           "coalesce(o.qty, 0), coalesce(o.condition_id, 0) FROM journal j "
                           "LEFT JOIN orders o ON o.client_order_id = j.ref AND j.ref <> '' "
                           "WHERE j.id > ?1 AND j.source = 'executor' "
                           "AND j.kind IN ('refused', 'exit_skipped', 'kill_switch') ORDER BY j.id LIMIT 50",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, cur->journal);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        cur->journal = sqlite3_column_int64(st, 0);
        uc_news e;
        memset(&e, 0, sizeof e);
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        e.kind = kind && !strcmp(kind, "refused")        ? UC_NEWS_REFUSED
                 : kind && !strcmp(kind, "exit_skipped") ? UC_NEWS_EXIT_SKIPPED
                                                         : UC_NEWS_KILL_SWITCH;
        text_into(st, 2, e.client_order_id, sizeof e.client_order_id);
        text_into(st, 3, e.detail, sizeof e.detail);
        text_into(st, 4, e.symbol, sizeof e.symbol);
        text_into(st, 5, e.side, sizeof e.side);
        e.qty = sqlite3_column_int64(st, 6);
        e.condition_id = sqlite3_column_int64(st, 7);
        if (fn) fn(ctx, &e);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int uc_news_since(uc_ctx *c, uc_news_cursor *cur, uc_news_fn fn, void *ctx) {
    if (cur->fill < 0 || cur->journal < 0) {
        cur->fill = max_rowid(c->db, "SELECT coalesce(max(rowid), 0) FROM fills");
        cur->journal = max_rowid(c->db, "SELECT coalesce(max(id), 0) FROM journal");
        return 0;
    }
    return journal_since(c, cur, fn, ctx) + fills_since(c, cur, fn, ctx);
}

int uc_print_open_positions(uc_ctx *c, FILE *out, const char *head) {
    return run_print_open_positions(c->db, out, head, "  ");
}
