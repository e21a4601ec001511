/* aftm run's session row: logged in while the run lasts, logged out when it stops. */
#include "app/launch/run_session.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "core/clock.h"
#include "net/gateway_client.h"
#include "store/order_store.h"
#include "store/session_store.h"

#define RENEW_EVERY_MS 60000
#define MAX_ACCOUNTS 64

/* The broker's order accounts as the gateway lists them; 0 when it does not answer. */
static size_t broker_accounts(const char *order_ep, json_t **holder, const char **out, size_t cap) {
    *holder = NULL;
    void *z = zmq_ctx_new();
    gateway_client *g = z ? gwc_new(z, order_ep, 2000) : NULL;
    char err[128];
    json_t *reply = g ? gwc_call(g, "list_accounts", NULL, err, sizeof err) : NULL;
    gwc_free(g);
    if (z) zmq_ctx_term(z);
    json_t *list = json_object_get(json_object_get(reply, "data"), "accounts");
    size_t n = 0;
    if (json_is_true(json_object_get(reply, "success")) && json_is_array(list))
        for (size_t i = 0; i < json_array_size(list) && n < cap; i++)
            if (json_is_string(json_array_get(list, i))) out[n++] = json_string_value(json_array_get(list, i));
    *holder = reply;
    return n;
}

bool run_session_begin(run_session *s, sqlite3 *db, const char *login, const char *broker, const char *account,
                       const char *item, const char *order_ep, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->db = db;
    snprintf(s->login, sizeof s->login, "%s", login);
    snprintf(s->broker, sizeof s->broker, "%s", broker);
    if (!db) {
        snprintf(err, errlen, "no database");
        return false;
    }
    /* the broker's accounts first, so that the session and its order account are recorded back
     * to back: nobody reading the status sees a session without its order account for long */
    json_t *holder;
    const char *list[MAX_ACCOUNTS];
    size_t n = broker_accounts(order_ep, &holder, list, MAX_ACCOUNTS);
    bool listed = false;
    for (size_t i = 0; i < n; i++) listed |= !strcmp(list[i], account);
    if (!listed && n < MAX_ACCOUNTS) list[n++] = account; /* --account names one the broker did not list */
    if (!session_login(db, login, broker, clock_wall_s(), NULL)) {
        snprintf(err, errlen, "cannot record the session: %s", sqlite3_errmsg(db));
        json_decref(holder);
        return false;
    }
    s->active = true;
    s->last_renew_ms = clock_mono_ms();
    bool ok = session_select_account(db, account, list, n);
    json_decref(holder);
    if (!ok) {
        snprintf(err, errlen, "cannot record the order account %s: %s", account, sqlite3_errmsg(db));
        return false;
    }
    char current[64];
    if (item && !session_item_code(db, current, sizeof current) && !session_register_item(db, item, clock_wall_s())) {
        snprintf(err, errlen, "cannot record the item %s: %s", item, sqlite3_errmsg(db));
        return false;
    }
    return true;
}

void run_session_renew(run_session *s) {
    if (!s->active) return;
    long long now = clock_mono_ms();
    if (now - s->last_renew_ms < RENEW_EVERY_MS) return;
    s->last_renew_ms = now;
    session_renew(s->db, clock_wall_s());
}

void run_session_end(run_session *s) {
    if (!s->active) return;
    session_logout(s->db);
    s->active = false;
}

typedef struct {
    FILE *out;
    const char *head, *indent;
    int n;
} open_ctx;

static void open_row(void *ctx, const position *p, price_t last) {
    open_ctx *o = ctx;
    if (p->net_qty == 0) return;
    if (!o->n++) fprintf(o->out, "%s\n", o->head);
    fprintf(o->out, "%s%s %lld %s on %s, average %.2f%s", o->indent, p->net_qty > 0 ? "long" : "short",
            (long long)(p->net_qty > 0 ? p->net_qty : -p->net_qty), p->symbol, p->account, position_avg_price(p),
            last > 0 ? "" : "\n");
    if (last > 0) fprintf(o->out, ", last %lld, unrealized %lld\n", (long long)last, (long long)position_unrealized(p, last));
}

int run_print_open_positions(sqlite3 *db, FILE *out, const char *head, const char *indent) {
    order_store *os = db ? ostore_open(db) : NULL;
    open_ctx o = {out, head, indent, 0};
    if (os) ostore_each_position(os, open_row, &o);
    ostore_close(os);
    fflush(out);
    return o.n;
}
