/* The use-case context: the database, the gateway connection, hints and the session check. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "core/clock.h"
#include "net/secure.h"
#include "store/db.h"
#include "usecase/uc.h"
#include "usecase/uc_host.h"

bool uc_open(uc_ctx *c, uc_face face, const char *home_flag, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->face = face;
    endpoints_from_env(&c->ep);
    if (!home_resolve(home_flag, c->home, sizeof c->home, err, (int)errlen)) return false;
    /* the CLI's key on the links it opens (the gateway's order port, the exchange's health) */
    if (!net_secure_init(c->home, ROLE_CLI, false, err, errlen)) return false;
    if (!(c->db = db_open(c->home, err, errlen))) return false;
    if (!(c->cs = cstore_open(c->db))) {
        snprintf(err, errlen, "cannot prepare the condition store: %s", sqlite3_errmsg(c->db));
        db_close(c->db);
        c->db = NULL;
        return false;
    }
    return true;
}

void uc_close(uc_ctx *c) {
    if (c->host) {
        uc_host_free(c->host);
        c->host = NULL;
    }
    gwc_free(c->gw);
    c->gw = NULL;
    if (c->zctx) zmq_ctx_term(c->zctx);
    c->zctx = NULL;
    cstore_close(c->cs);
    c->cs = NULL;
    db_close(c->db);
    c->db = NULL;
}

const char *uc_hint(const uc_ctx *c, uc_hint_id h) {
    static const char *const menu[] = {"option 1", "option 2", "option 3", "option 4", "option 5",
                                       "option 10", "option 13", "option 14", "option 7"};
    static const char *const cli[] = {"aftm login",
                                      "aftm logout",
                                      "aftm item register CODE",
                                      "aftm condition add ...",
                                      "aftm account select N",
                                      "aftm start",
                                      "aftm status",
                                      "aftm stop",
                                      "aftm futures"};
    return c->face == UC_FACE_MENU ? menu[h] : cli[h];
}

void uc_set(uc_result *r, uc_status st, const char *fmt, ...) {
    r->st = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
}

bool uc_require_session(uc_ctx *c, session_info *s, uc_result *r) {
    session_info tmp;
    if (!s) s = &tmp;
    if (!session_load(c->db, s)) memset(s, 0, sizeof *s);
    double now = clock_wall_s();
    switch (session_state_at(s, now)) {
    case SESSION_ACTIVE:
        session_renew(c->db, now); /* in use: the 12 hours start again */
        uc_ok(r);
        return true;
    case SESSION_EXPIRED: {
        time_t t = (time_t)s->expires_at;
        struct tm tm;
        char when[32];
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        uc_set(r, UC_EXPIRED, "The session of %s expired at %s: log in again (%s).", s->account, when,
               uc_hint(c, HINT_LOGIN));
        return false;
    }
    default: uc_set(r, UC_NOT_LOGGED_IN, "Not logged in: log in first (%s).", uc_hint(c, HINT_LOGIN)); return false;
    }
}

json_t *uc_gateway(uc_ctx *c, const char *op, json_t *params, uc_result *r) {
    if (!c->zctx) c->zctx = zmq_ctx_new();
    if (!c->gw && c->zctx) c->gw = gwc_new(c->zctx, c->ep.order, UC_GATEWAY_TIMEOUT_MS);
    if (!c->gw) {
        json_decref(params);
        uc_set(r, UC_FAILED, "Cannot open a connection to the gateway at %s.", c->ep.order);
        return NULL;
    }
    char err[256];
    json_t *reply = gwc_call(c->gw, op, params, err, sizeof err);
    if (!reply) {
        uc_set(r, UC_FAILED,
               "The broker session is not answering (gateway at %s: %s). See the system status (%s); if the "
               "gateway is down, log in again (%s).",
               c->ep.order, err, uc_hint(c, HINT_STATUS), uc_hint(c, HINT_LOGIN));
        return NULL;
    }
    if (!json_is_true(json_object_get(reply, "success"))) {
        const char *msg = json_string_value(json_object_get(reply, "error_message"));
        const char *code = json_string_value(json_object_get(reply, "error_code"));
        uc_set(r, UC_FAILED, "The broker refused: %s%s%s%s", msg ? msg : "unknown error", code ? " (" : "",
               code ? code : "", code ? ")" : "");
        json_decref(reply);
        return NULL;
    }
    json_t *data = json_object_get(reply, "data");
    json_incref(data);
    json_decref(reply);
    if (!data) data = json_object();
    uc_ok(r);
    return data;
}
