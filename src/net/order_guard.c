/* The order port's rule (see order_guard.h). */
#include "net/order_guard.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "net/gw_proto.h"
#include "net/secure.h"

static char *refuse(json_t *reply, size_t *reply_len) {
    char *text = gw_dumps(reply);
    json_decref(reply);
    *reply_len = text ? strlen(text) : 0;
    return text;
}

/* The session's accounts, asked of the broker at most every CACHE_MS while orders name known
 * accounts (the simulated exchange answers over the network: not a round trip per order). An
 * unknown account asks again at once. One gateway loop per process. */
#define CACHE_MS 5000
static struct {
    broker *b;
    int64_t at_ms;
    size_t n;
    char accounts[32][BROKER_ACCOUNT_MAX];
} g_cache;

static bool cached(const char *account) {
    for (size_t i = 0; i < g_cache.n; i++)
        if (!strcmp(g_cache.accounts[i], account)) return true;
    return false;
}

/* Whether account is one of the session's (the broker's list of order accounts). */
static bool session_account(broker *b, const char *account, char *list, size_t cap) {
    int64_t now = clock_mono_ms();
    if (g_cache.b == b && now - g_cache.at_ms < CACHE_MS && cached(account)) return true;
    broker_account acc[32];
    size_t n = broker_list_accounts(b, acc, 32);
    g_cache.b = b;
    g_cache.at_ms = now;
    g_cache.n = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && i < 32; i++) {
        str_copy(g_cache.accounts[g_cache.n++], BROKER_ACCOUNT_MAX, acc[i].account);
        snprintf(list + strlen(list), cap - strlen(list), "%s%.*s", i ? ", " : "", BROKER_ACCOUNT_MAX - 1, acc[i].account);
    }
    return cached(account);
}

char *order_guard_check(broker *b, const char *user_id, const char *req, size_t req_len, size_t *reply_len) {
    json_t *root = json_loadb(req ? req : "", req ? req_len : 0, JSON_DECODE_ANY, NULL);
    char *out = order_guard_check_parsed(b, user_id, root, reply_len);
    json_decref(root);
    return out;
}

bool order_guard_allows(broker *b, const char *user_id, const char *op, const char *account, char *code,
                        size_t code_cap, char *msg, size_t msg_cap) {
    if (!op || (strcmp(op, "send_order") != 0 && strcmp(op, "cancel_order") != 0))
        return true; /* not an order: the gateway answers it, bad JSON included */
    net_role role;
    char key[CURVE_KEY_Z85];
    bool curve = net_user_parse(user_id, &role, key);
    char who[96];
    if (curve) snprintf(who, sizeof who, "%s key %s", net_role_name(role), key);
    else snprintf(who, sizeof who, "a plain-text peer (--insecure)");
    if (curve && role != ROLE_EXECUTOR && role != ROLE_CLI) {
        log_warn("refused %s from %s: only the executor's and the CLI's keys may place or cancel orders", op, who);
        snprintf(code, code_cap, "PERMISSION_DENIED");
        snprintf(msg, msg_cap, "%s: only the executor and the CLI may place or cancel orders", op);
        return false;
    }
    char list[512];
    if (!strcmp(op, "send_order") && account && *account && b && !session_account(b, account, list, sizeof list)) {
        log_warn("refused send_order from %s: account '%s' is not one of the session's accounts (%s)", who, account,
                 list[0] ? list : "none: not logged in");
        snprintf(code, code_cap, "ACCOUNT_NOT_IN_SESSION");
        snprintf(msg, msg_cap, "Account %s is not an account of this session (%s)", account,
                 list[0] ? list : "no account: not logged in");
        return false;
    }
    return true;
}

char *order_guard_check_parsed(broker *b, const char *user_id, const json_t *root, size_t *reply_len) {
    *reply_len = 0;
    const char *op = json_string_value(json_object_get(root, "operation"));
    const char *account = json_string_value(json_object_get(json_object_get(root, "parameters"), "order_account"));
    char code[32], msg[768];
    if (order_guard_allows(b, user_id, op, account, code, sizeof code, msg, sizeof msg)) return NULL;
    return refuse(gw_err(code, "%s", msg), reply_len);
}
