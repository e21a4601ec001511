/* Login and logout: the gateway process is the broker session. */
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "core/clock.h"
#include "net/gateway_client.h"
#include "usecase/uc.h"
#include "usecase/uc_host.h"

/* One field's rule as the original words it (Cerberus): "<Field>: <rule>". */
static void check_len(const char *field, const char *v, size_t lo, size_t hi, char *out, size_t cap) {
    size_t n = strlen(out), len = strlen(v);
    if (len == 0) snprintf(out + n, cap - n, "%s%s: empty values not allowed", n ? "\n" : "", field);
    else if (len < lo) snprintf(out + n, cap - n, "%s%s: min length is %zu", n ? "\n" : "", field, lo);
    else if (len > hi) snprintf(out + n, cap - n, "%s%s: max length is %zu", n ? "\n" : "", field, hi);
}

bool uc_validate_login(const char *account, const char *password, uc_result *r) {
    char msg[512] = "";
    check_len("Account", account ? account : "", UC_ACCOUNT_MIN, UC_ACCOUNT_MAX, msg, sizeof msg);
    check_len("Password", password ? password : "", UC_PASSWORD_MIN, UC_PASSWORD_MAX, msg, sizeof msg);
    if (!msg[0] && account)
        for (const char *p = account; *p; p++)
            if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
                snprintf(msg, sizeof msg, "Account: spaces and control characters are not allowed");
                break;
            }
    if (msg[0]) {
        uc_set(r, UC_BAD_INPUT, "%s", msg);
        return false;
    }
    uc_ok(r);
    return true;
}

/* true when a gateway answers a health check at the order endpoint right now. */
static bool gateway_answers(uc_ctx *c, int timeout_ms) {
    if (!c->zctx) c->zctx = zmq_ctx_new();
    gateway_client *g = c->zctx ? gwc_new(c->zctx, c->ep.order, timeout_ms) : NULL;
    char err[128];
    json_t *reply = g ? gwc_call(g, "health_check", NULL, err, sizeof err) : NULL;
    bool ok = reply && json_is_true(json_object_get(reply, "success"));
    json_decref(reply);
    gwc_free(g);
    return ok;
}

bool uc_login(uc_ctx *c, const char *account, const char *password, bool *kept, uc_result *r) {
    if (kept) *kept = false;
    if (!uc_validate_login(account, password, r)) return false;
    session_info s;
    if (!session_load(c->db, &s)) memset(&s, 0, sizeof s);
    if (session_active(&s, clock_wall_s()) &&
        ((c->host && uc_host_gateway_alive(c->host)) || gateway_answers(c, 500))) {
        if (!strcmp(s.account, account))
            uc_set(r, UC_PRECONDITION, "Already logged in as %s.", s.account);
        else
            uc_set(r, UC_PRECONDITION, "Already logged in as %s: log out first (%s) to log in as %s.", s.account,
                   uc_hint(c, HINT_LOGOUT), account);
        return false;
    }
    bool same = !strcmp(s.account, account) && (s.order_account[0] || s.item_code[0]);
    bool ok;
    if (c->face == UC_FACE_MENU) {
        if (!c->host && !(c->host = uc_host_new(c, "menu"))) {
            uc_set(r, UC_FAILED, "Out of memory.");
            return false;
        }
        ok = uc_host_login(c->host, account, password, r);
    } else {
        ok = uc_host_spawn_login(c, account, password, r);
    }
    if (ok && kept) *kept = same;
    return ok;
}

bool uc_logout(uc_ctx *c, bool stop_trading, uc_result *r) {
    session_info s;
    if (!session_load(c->db, &s)) memset(&s, 0, sizeof s);
    session_state st = session_state_at(&s, clock_wall_s());
    bool owned = c->host && uc_host_owns_anything(c->host);
    if (st != SESSION_ACTIVE && st != SESSION_EXPIRED && !owned) {
        uc_set(r, UC_NOT_LOGGED_IN, "Not logged in: there is nothing to log out from.");
        return false;
    }
    if (uc_trading_running(c) && !stop_trading) {
        uc_set(r, UC_PRECONDITION,
               "The trading system is running. Logging out stops it first: strategy and executor, then the "
               "gateway.");
        return false;
    }
    uc_result stop;
    uc_ok(&stop);
    if (owned) uc_host_stop_all(c->host, true);
    else uc_stop_trading(c, true, &stop);
    session_logout(c->db);
    if (stop.st != UC_OK) {
        uc_set(r, UC_FAILED, "Logged out %s, but: %s", s.account, stop.msg);
        return false;
    }
    uc_set(r, UC_OK, "Logged out %s. The broker session (gateway) is stopped%s.", s.account,
           st == SESSION_EXPIRED ? " (the session had expired)" : "");
    return true;
}
