/* The simulated exchange over ZeroMQ (see sim_remote.h). One thread; every wait is a
 * zmq_poll with a deadline; nothing here sleeps. */
#include "app/gateway/sim_remote.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "broker/broker_json.h"
#include "broker/broker_pack.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "net/gw_proto.h"
#include "net/market_feed.h"
#include "net/secure.h"
#include "net/report_batch.h"
#include "net/zsock.h"

#define MAX_SUBS 32
#define UNKNOWN_KEEP 256
#define SUB_DRAIN_MAX 4096
#define CATCH_UP_PAGE 1000
#define MAX_REPLY (64 << 20)
#define MAX_MARKET_MSG 65536 /* a tick, or one message of execution reports (net/report_batch.h) */

typedef enum { ASYNC_NONE = 0, ASYNC_HEARTBEAT, ASYNC_LOGIN, ASYNC_NOTE } async_kind;

typedef struct {
    async_kind kind;
    uint64_t id;
    int64_t deadline_ms;
} async_req;

/* An order sent without waiting (send_order_async), until its answer. */
typedef struct {
    uint64_t id, token;
    int64_t deadline_ms;
    broker_order_req req;
} pending_send;

typedef struct {
    /* config */
    char endpoint[256], market[256];
    int timeout_ms, connect_wait_ms, heartbeat_ms, retry_ms;
    void *zctx;
    bool own_ctx;
    /* sockets */
    void *dealer, *sub;
    /* session */
    broker_callbacks cb;
    char login_id[96], password[128];
    bool have_creds;
    bool logged_in; /* the exchange took our login on this connection */
    bool link_up;   /* the last request or heartbeat was answered */
    bool announced; /* on_connection(CONNECTED) was told and not yet taken back */
    bool reached;   /* the exchange answered at least once */
    int64_t instance;
    uint64_t last_seq; /* the newest report delivered */
    bool have_seq;
    uint64_t next_id;
    async_req hb, login, note;
    int64_t next_hb_ms, next_attempt_ms;
    bool replay_over_said; /* the exchange's replay ended and this gateway said so */
    uint64_t behind_seq; /* a heartbeat saw the exchange's log this far ahead of us... */
    int64_t behind_ms;   /* ...at this time: if no report fills it soon, fetch */
    /* ticks wanted */
    bool sub_all;
    char subs[MAX_SUBS][BROKER_SYMBOL_MAX];
    size_t n_subs;
    int64_t feed_subs;
    /* what the login told, for when the exchange cannot be asked */
    broker_account *accounts;
    size_t n_accounts;
    broker_product *products;
    size_t n_products;
    /* client order ids whose send had no answer */
    char unknown[UNKNOWN_KEEP][BROKER_ID_MAX];
    size_t unknown_next;
    size_t n_unknown; /* entries of unknown in use: none (the usual case) skips the search */
    char last_problem[BROKER_MSG_MAX];
    uint64_t bad_ticks; /* market feed messages that did not decode */
    /* orders in flight, oldest first: ps[ps_head] to ps[nps - 1]. Answers come in order, so
     * the oldest goes by moving ps_head; one answered out of order leaves a hole (id 0) until
     * those before it go. ps[ps_head] is never a hole. */
    pending_send *ps;
    size_t ps_head, nps, capps;
    /* msgpack: the orders sent (packed here, kept for the next) and the answers and reports read */
    msgpack_sbuffer out;
    mp_reader rd;
} remote;

/* One answer from the exchange: JSON (every request but send_order) or the msgpack answer to a
 * send_order. */
typedef struct {
    json_t *j;        /* the JSON answer; NULL for a msgpack one */
    bp_send_reply mp; /* the msgpack answer, when j is NULL */
} xreply;

static void reply_free(xreply *x) {
    json_decref(x->j);
    x->j = NULL;
}
static bool reply_ok(const xreply *x) { return x->j ? gw_reply_ok(x->j) : x->mp.success; }
static const char *reply_code(const xreply *x) { return x->j ? gw_reply_code(x->j) : x->mp.error_code; }
static const char *reply_message(const xreply *x) { return x->j ? gw_reply_message(x->j) : x->mp.error_message; }

/* What a request sends: a JSON operation with its parameters (borrowed; NULL: none), or an order
 * as the msgpack send_order. */
typedef struct {
    const char *op;
    json_t *params;
    const broker_order_req *order;
} outgoing;

static const broker_ops remote_ops;

/* ---- sockets ---------------------------------------------------------------------------- */

static bool open_dealer(remote *r) {
    char err[160];
    r->dealer = zsock_new(r->zctx, ZMQ_DEALER, err, sizeof err);
    if (!r->dealer) return false;
    int64_t maxmsg = MAX_REPLY; /* a page of reports can be larger than a request */
    zmq_setsockopt(r->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* queue only to a live connection: with the exchange down a send fails at once instead of
     * waiting in a pipe to be delivered, late, when it comes back */
    zsock_set_int(r->dealer, ZMQ_IMMEDIATE, 1);
    zsock_set_int(r->dealer, ZMQ_SNDHWM, ORDER_QUEUE_HWM); /* a burst of orders in flight queues here */
    zsock_set_int(r->dealer, ZMQ_RCVHWM, ORDER_QUEUE_HWM);
    zsock_set_int(r->dealer, ZMQ_RECONNECT_IVL, 100);
    zsock_set_int(r->dealer, ZMQ_RECONNECT_IVL_MAX, 1000);
    if (!zsock_connect_to(r->zctx, r->dealer, r->endpoint, ROLE_EXCHANGE, err, sizeof err)) {
        zmq_close(r->dealer);
        r->dealer = NULL;
        return false;
    }
    return true;
}

/* Drops the connection and whatever is queued on it: nothing sent before may arrive later. */
static void reset_dealer(remote *r) {
    if (r->dealer) zmq_close(r->dealer);
    r->dealer = NULL;
    open_dealer(r);
    memset(&r->hb, 0, sizeof r->hb);
    memset(&r->login, 0, sizeof r->login);
    memset(&r->note, 0, sizeof r->note);
}

/* ---- link state ------------------------------------------------------------------------- */

static void pending_unknown_all(remote *r, const char *why);

static void link_down(remote *r, const char *why) {
    pending_unknown_all(r, why);
    bool was = r->announced;
    r->link_up = false;
    r->logged_in = false;
    r->announced = false;
    str_copy(r->last_problem, sizeof r->last_problem, why);
    reset_dealer(r);
    r->next_attempt_ms = clock_mono_ms() + r->retry_ms;
    if (was && r->cb.on_connection) {
        char msg[BROKER_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "connection to the simulated exchange lost: %s", why);
        r->cb.on_connection(r->cb.ctx, BROKER_DISCONNECTED, msg);
    }
}

static bool connected(const remote *r) { return r->link_up && r->logged_in; }

static void not_connected(const remote *r, char *err, size_t errlen) {
    char tmp[512];
    if (!r->have_creds)
        snprintf(tmp, sizeof tmp, "not logged in to the simulated exchange");
    else
        snprintf(tmp, sizeof tmp, "broker connection lost: the simulated exchange at %s: %s", r->endpoint,
                 r->last_problem[0] ? r->last_problem : "no answer");
    str_copy(err, errlen, tmp);
}

/* ---- messages --------------------------------------------------------------------------- */

/* Sends o with the next id. false when nothing left (no connection to the exchange, or out of
 * memory). */
static bool send_out(remote *r, const outgoing *o, uint64_t *id_out) {
    if (!r->dealer && !open_dealer(r)) return false;
    uint64_t id = ++r->next_id;
    int rc;
    if (o->order) {
        msgpack_sbuffer_clear(&r->out);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &r->out, msgpack_sbuffer_write);
        if (!bp_pack_send_request(&pk, id, o->order)) return false;
        rc = zmq_send(r->dealer, r->out.data, r->out.size, ZMQ_DONTWAIT);
    } else {
        json_t *req = json_pack("{s:s,s:o,s:I}", "operation", o->op, "parameters",
                                o->params ? json_incref(o->params) : json_object(), "id", (json_int_t)id);
        char *text = req ? json_dumps(req, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        json_decref(req);
        if (!text) return false;
        rc = zmq_send(r->dealer, text, strlen(text), ZMQ_DONTWAIT);
        free(text);
    }
    if (rc < 0) return false;
    *id_out = id;
    return true;
}

/* Sends {"operation", "parameters", "id"}; params consumed. */
static bool send_request(remote *r, const char *op, json_t *params, uint64_t *id_out) {
    outgoing o = {.op = op, .params = params};
    bool ok = send_out(r, &o, id_out);
    json_decref(params);
    return ok;
}

static void handle_async(remote *r, const xreply *reply, uint64_t id);

/* Reads one reply from the dealer (without waiting) into *out: msgpack (the answer to a
 * send_order) or JSON, by its first byte. false when none (or garbage). */
static bool read_reply(remote *r, uint64_t *id, xreply *out) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, r->dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return false;
    }
    /* a ROUTER answering a DEALER may put an empty delimiter first: skip it */
    while (zmq_msg_size(&m) == 0 && zmq_msg_more(&m)) {
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, r->dealer, 0) < 0) {
            zmq_msg_close(&m);
            return false;
        }
    }
    bool ok = false;
    out->j = NULL;
    if (mp_is_map(zmq_msg_data(&m), zmq_msg_size(&m))) {
        ok = bp_read_send_reply(&r->rd, zmq_msg_data(&m), zmq_msg_size(&m), &out->mp);
        if (ok) *id = out->mp.id;
    } else {
        json_error_t jerr;
        json_t *j = json_loadb(zmq_msg_data(&m), zmq_msg_size(&m), 0, &jerr);
        json_t *jid = json_object_get(j, "id");
        if (json_is_object(j) && json_is_integer(jid)) {
            *id = (uint64_t)json_integer_value(jid);
            out->j = j;
            ok = true;
        } else {
            json_decref(j);
        }
    }
    while (zmq_msg_more(&m)) { /* extra frames: not ours to read */
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, r->dealer, 0) < 0) break;
    }
    zmq_msg_close(&m);
    return ok;
}

/* One request, waiting for its answer up to the timeout. false with err when there is none:
 * *sent tells whether it left (then the exchange may have acted on it). */
static bool call(remote *r, const outgoing *o, xreply *out, char *err, size_t errlen, bool *sent) {
    bool dummy;
    if (!sent) sent = &dummy;
    *sent = false;
    uint64_t id;
    if (!send_out(r, o, &id)) {
        snprintf(err, errlen, "the simulated exchange at %s is not connected", r->endpoint);
        return false;
    }
    *sent = true;
    int64_t deadline = clock_mono_ms() + r->timeout_ms;
    for (;;) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) break;
        zmq_pollitem_t it = {r->dealer, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, (long)left);
        if (n < 0) {
            if (zmq_errno() == EINTR) continue;
            break;
        }
        if (n == 0) continue;
        uint64_t got;
        while (read_reply(r, &got, out)) {
            r->reached = true;
            if (got == id) return true;
            handle_async(r, out, got); /* a heartbeat's answer, or a late one */
            reply_free(out);
        }
    }
    snprintf(err, errlen, "no answer to %s within %d ms", o->op, r->timeout_ms);
    return false;
}

/* The JSON answer of a JSON request; NULL with err when none (or it came in msgpack). */
static json_t *json_answer(bool answered, xreply *rep, const char *op, char *err, size_t errlen) {
    if (!answered) return NULL;
    if (!rep->j) snprintf(err, errlen, "the simulated exchange answered %s in msgpack", op);
    return rep->j;
}

/* call() for a JSON operation; params consumed. */
static json_t *request(remote *r, const char *op, json_t *params, char *err, size_t errlen, bool *sent) {
    outgoing o = {.op = op, .params = params};
    xreply rep;
    bool answered = call(r, &o, &rep, err, errlen, sent);
    json_decref(params);
    return json_answer(answered, &rep, op, err, errlen);
}

/* ---- reports ---------------------------------------------------------------------------- */

static void deliver(remote *r, const broker_report *rep) {
    if (r->have_seq && rep->seq <= r->last_seq) return;
    r->last_seq = rep->seq;
    r->have_seq = true;
    if (r->cb.on_report) r->cb.on_report(r->cb.ctx, rep);
}

/* Fetches and delivers the reports after last_seq up to (not including) upto (0: all).
 * false when the exchange could not be asked. */
static bool catch_up(remote *r, uint64_t upto) {
    broker_report *buf = calloc(CATCH_UP_PAGE, sizeof *buf);
    if (!buf) return false;
    bool ok = true;
    for (int pages = 0; pages < 1000; pages++) {
        char err[BROKER_MSG_MAX];
        json_t *j = request(r, "get_reports", json_pack("{s:I,s:i}", "since_seq", (json_int_t)r->last_seq, "limit",
                                                         CATCH_UP_PAGE),
                            err, sizeof err, NULL);
        if (!j) {
            link_down(r, err);
            ok = false;
            break;
        }
        if (!gw_reply_ok(j)) {
            json_decref(j);
            ok = false;
            break;
        }
        json_t *list = json_object_get(gw_reply_data(j), "reports");
        bool more = json_is_true(json_object_get(gw_reply_data(j), "more"));
        size_t i, n = 0;
        json_t *v;
        bool reached = false;
        json_array_foreach(list, i, v) {
            if (!bj_to_report(v, &buf[n])) continue;
            if (upto && buf[n].seq >= upto) {
                reached = true;
                break;
            }
            n++;
        }
        json_decref(j);
        for (size_t k = 0; k < n; k++) deliver(r, &buf[k]);
        if (reached || !more || n == 0) break;
    }
    free(buf);
    return ok;
}

/* One report of a "REPORT" message from the market PUB: a msgpack map (JSON from an exchange
 * that publishes so). */
static void take_report(void *ctx, const char *body, size_t len) {
    remote *r = ctx;
    broker_report rep;
    bool ok;
    if (mp_is_map(body, len)) {
        ok = bp_read_report(&r->rd, body, len, &rep);
    } else {
        json_error_t jerr;
        json_t *j = json_loadb(body, len, 0, &jerr);
        ok = bj_to_report(j, &rep);
        json_decref(j);
    }
    if (!ok) {
        log_warn("skipped an execution report from the exchange that is not readable");
        return;
    }
    if (r->have_seq && rep.seq <= r->last_seq) return;
    if (r->have_seq && rep.seq > r->last_seq + 1) {
        /* never past a gap: the reports in it are fetched first, or, with the link down, this
         * one waits in the exchange's log with them for the catch-up of the next login */
        if (!connected(r)) return;
        log_warn("missed execution reports %llu..%llu from the exchange; fetching them",
                 (unsigned long long)r->last_seq + 1, (unsigned long long)rep.seq - 1);
        if (!catch_up(r, rep.seq)) return;
    }
    deliver(r, &rep);
}

static void on_tick_message(remote *r, const char *body, size_t len) {
    broker_tick t;
    char why[128];
    if (market_feed_decode(body, len, &t, why, sizeof why)) {
        r->cb.on_tick(r->cb.ctx, &t);
        return;
    }
    /* the first, then one in 1000: a broken feed must not drown the log */
    if (r->bad_ticks++ % 1000 == 0)
        log_warn("skipped a tick from the exchange that is not readable: %s (%llu so far)", why,
                 (unsigned long long)r->bad_ticks);
}

/* ---- login ------------------------------------------------------------------------------ */

static bool wants(const remote *r, const char *symbol) {
    if (r->sub_all) return true;
    for (size_t i = 0; i < r->n_subs; i++)
        if (!strcmp(r->subs[i], symbol)) return true;
    return false;
}

static void send_note(remote *r, const char *op, json_t *params) {
    uint64_t id;
    if (send_request(r, op, params, &id)) r->note = (async_req){ASYNC_NOTE, id, clock_mono_ms() + r->timeout_ms};
}

/* What a login answer tells; false (with err) when it refused. */
static bool take_login(remote *r, json_t *reply, char *err, size_t errlen) {
    if (!gw_reply_ok(reply)) {
        snprintf(err, errlen, "%s", gw_reply_message(reply));
        return false;
    }
    json_t *d = gw_reply_data(reply);
    json_t *accs = json_object_get(d, "accounts"), *prods = json_object_get(d, "products");
    size_t na = json_array_size(accs), np = json_array_size(prods);
    broker_account *a = calloc(na ? na : 1, sizeof *a);
    broker_product *p = calloc(np ? np : 1, sizeof *p);
    if (a && p) {
        size_t k = 0;
        for (size_t i = 0; i < na; i++)
            if (bj_to_account(json_array_get(accs, i), &a[k])) k++;
        na = k;
        k = 0;
        for (size_t i = 0; i < np; i++)
            if (bj_to_product(json_array_get(prods, i), &p[k])) k++;
        np = k;
        free(r->accounts);
        free(r->products);
        r->accounts = a, r->n_accounts = na;
        r->products = p, r->n_products = np;
    } else {
        free(a);
        free(p);
    }
    r->instance = (int64_t)json_integer_value(json_object_get(d, "instance"));
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(d, "last_seq"));
    r->logged_in = r->link_up = true;
    r->last_problem[0] = '\0';
    r->next_hb_ms = clock_mono_ms() + r->heartbeat_ms;
    if (!r->have_seq) { /* a new session: reports from now on (earlier ones: get_reports) */
        r->last_seq = seq;
        r->have_seq = true;
    } else if (seq < r->last_seq) {
        log_warn("the exchange's report log ends at %llu, before the %llu already seen: a new book; following it",
                 (unsigned long long)seq, (unsigned long long)r->last_seq);
        r->last_seq = seq;
    } else if (seq > r->last_seq) {
        log_info("fetching the %llu execution report(s) made while the exchange was out of reach",
                 (unsigned long long)(seq - r->last_seq));
        if (!catch_up(r, 0)) return true; /* the link went down again; link_down told why */
    }
    /* what this session asked of the exchange before: again */
    for (size_t i = 0; i < r->n_subs && connected(r); i++) {
        char e[BROKER_MSG_MAX];
        json_decref(request(r, "subscribe", json_pack("{s:s}", "symbol", r->subs[i]), e, sizeof e, NULL));
    }
    if (connected(r) && r->feed_subs > 0) send_note(r, "feed_subscribers", json_pack("{s:I}", "count", (json_int_t)r->feed_subs));
    if (connected(r) && !r->announced) {
        r->announced = true;
        if (r->cb.on_connection) {
            char msg[320];
            snprintf(msg, sizeof msg, "logged in as %.90s on the simulated exchange at %.120s", r->login_id, r->endpoint);
            r->cb.on_connection(r->cb.ctx, BROKER_CONNECTED, msg);
        }
    }
    return true;
}

static json_t *login_params(const remote *r) {
    return json_pack("{s:s,s:s}", "login_id", r->login_id, "password", r->password);
}

/* A login on the current connection, waiting for the answer. */
static bool login_now(remote *r, char *err, size_t errlen) {
    bool sent;
    json_t *j = request(r, "login", login_params(r), err, errlen, &sent);
    if (!j) {
        link_down(r, err);
        return false;
    }
    bool ok = take_login(r, j, err, errlen);
    json_decref(j);
    return ok;
}

static bool pending_answer(remote *r, const xreply *reply, uint64_t id);

/* The answer to a request that was not waited for. */
static void handle_async(remote *r, const xreply *rep, uint64_t id) {
    if (pending_answer(r, rep, id)) return;
    json_t *reply = rep->j; /* NULL (a msgpack answer) reads as a refusal below */
    int64_t now = clock_mono_ms();
    if (r->hb.kind && id == r->hb.id) {
        memset(&r->hb, 0, sizeof r->hb);
        r->next_hb_ms = now + r->heartbeat_ms;
        json_t *d = gw_reply_data(reply);
        int64_t inst = (int64_t)json_integer_value(json_object_get(d, "instance"));
        uint64_t seq = (uint64_t)json_integer_value(json_object_get(d, "last_seq"));
        if (json_is_true(json_object_get(d, "replay_over")) && !r->replay_over_said) {
            r->replay_over_said = true;
            log_info("the exchange's replay is over after %lld ticks; its market stays at its last prices",
                     (long long)json_integer_value(json_object_get(d, "replay_ticks")));
        }
        if (!gw_reply_ok(reply) || !json_is_true(json_object_get(d, "logged_in")) || inst != r->instance) {
            /* the exchange restarted (or forgot this connection): log in again at once */
            r->logged_in = false;
            r->next_attempt_ms = now;
        } else if (r->have_seq && seq > r->last_seq && !r->behind_seq) {
            r->behind_seq = seq;
            r->behind_ms = now;
        }
    } else if (r->login.kind && id == r->login.id) {
        memset(&r->login, 0, sizeof r->login);
        char err[BROKER_MSG_MAX];
        if (!take_login(r, reply, err, sizeof err)) {
            str_copy(r->last_problem, sizeof r->last_problem, err);
            log_warn("the simulated exchange refused the login: %s", err);
            r->next_attempt_ms = now + 5 * r->retry_ms;
        }
    } else if (r->note.kind && id == r->note.id) {
        memset(&r->note, 0, sizeof r->note);
    }
}

/* ---- the interface ---------------------------------------------------------------------- */

static void rm_set_callbacks(void *self, const broker_callbacks *cb) {
    remote *r = self;
    if (cb) r->cb = *cb;
    else memset(&r->cb, 0, sizeof r->cb);
}

static bool rm_login(void *self, const char *id, const char *pw, char *err, size_t errlen) {
    remote *r = self;
    if (!id || !pw || strlen(id) >= sizeof r->login_id || strlen(pw) >= sizeof r->password) {
        snprintf(err, errlen, "login refused: login id or password too long");
        return false;
    }
    str_copy(r->login_id, sizeof r->login_id, id);
    str_copy(r->password, sizeof r->password, pw);
    r->have_creds = true;
    /* the exchange may still be starting: wait for a connection to it, then for its answer */
    int64_t deadline = clock_mono_ms() + r->connect_wait_ms;
    char why[BROKER_MSG_MAX] = "";
    while (clock_mono_ms() < deadline) {
        if (!r->dealer && !open_dealer(r)) break;
        zmq_pollitem_t it = {r->dealer, 0, ZMQ_POLLOUT, 0};
        int64_t left = deadline - clock_mono_ms();
        if (zmq_poll(&it, 1, left > 100 ? 100 : (long)(left > 0 ? left : 0)) <= 0) continue;
        bool sent;
        json_t *j = request(r, "login", login_params(r), why, sizeof why, &sent);
        if (!j) {
            reset_dealer(r);
            continue;
        }
        bool ok = take_login(r, j, why, sizeof why);
        json_decref(j);
        if (ok) return true;
        /* the exchange's reason already says it was refused */
        if (strncmp(why, "login refused", 13) == 0) snprintf(err, errlen, "%s", why);
        else snprintf(err, errlen, "login refused: %s", why);
        memset(r->password, 0, sizeof r->password);
        r->have_creds = false;
        return false;
    }
    snprintf(err, errlen, "the simulated exchange at %s did not answer within %d ms%s%s (is 'aftm exchange' running?)",
             r->endpoint, r->connect_wait_ms, why[0] ? ": " : "", why);
    memset(r->password, 0, sizeof r->password);
    r->have_creds = false;
    return false;
}

static void rm_logout(void *self) {
    remote *r = self;
    if (connected(r)) {
        char err[BROKER_MSG_MAX];
        json_decref(request(r, "logout", NULL, err, sizeof err, NULL));
    }
    bool was = r->announced;
    r->logged_in = r->announced = false;
    r->have_creds = false;
    memset(r->password, 0, sizeof r->password);
    if (was && r->cb.on_connection) r->cb.on_connection(r->cb.ctx, BROKER_DISCONNECTED, "logged out");
}

static bool rm_is_connected(void *self) { return connected(self); }

/* A request that needs the session; re-logs in once when the exchange has forgotten it. */
static bool session_call(remote *r, const outgoing *o, xreply *out, char *err, size_t errlen, bool *sent) {
    if (!connected(r)) {
        if (sent) *sent = false;
        not_connected(r, err, errlen);
        return false;
    }
    bool ok = call(r, o, out, err, errlen, sent);
    if (!ok) link_down(r, err);
    else if (!reply_ok(out) && !strcmp(reply_code(out), "NOT_LOGGED_IN")) {
        reply_free(out);
        ok = false;
        r->logged_in = false;
        char lerr[BROKER_MSG_MAX];
        if (login_now(r, lerr, sizeof lerr) && connected(r)) ok = call(r, o, out, err, errlen, sent);
        else snprintf(err, errlen, "broker connection lost: the simulated exchange forgot the session: %s", lerr);
        if (!ok && connected(r)) link_down(r, err);
    }
    return ok;
}

/* session_call() for a JSON operation; params consumed. */
static json_t *session_request(remote *r, const char *op, json_t *params, char *err, size_t errlen, bool *sent) {
    outgoing o = {.op = op, .params = params};
    xreply rep;
    bool answered = session_call(r, &o, &rep, err, errlen, sent);
    json_decref(params);
    return json_answer(answered, &rep, op, err, errlen);
}

static size_t rm_list_accounts(void *self, broker_account *out, size_t cap) {
    remote *r = self;
    char err[BROKER_MSG_MAX];
    json_t *j = connected(r) ? session_request(r, "list_accounts", NULL, err, sizeof err, NULL) : NULL;
    if (j && gw_reply_ok(j)) {
        json_t *list = json_object_get(gw_reply_data(j), "accounts");
        size_t n = 0, i;
        json_t *v;
        json_array_foreach(list, i, v) {
            broker_account a;
            if (!bj_to_account(v, &a)) continue;
            if (n < cap) out[n] = a;
            n++;
        }
        json_decref(j);
        return n;
    }
    json_decref(j);
    for (size_t i = 0; i < r->n_accounts && i < cap; i++) out[i] = r->accounts[i];
    return r->n_accounts;
}

static size_t rm_list_products(void *self, broker_product *out, size_t cap) {
    remote *r = self;
    char err[BROKER_MSG_MAX];
    json_t *j = connected(r) ? session_request(r, "list_products", NULL, err, sizeof err, NULL) : NULL;
    if (j && gw_reply_ok(j)) {
        json_t *list = json_object_get(gw_reply_data(j), "products");
        size_t n = 0, i;
        json_t *v;
        json_array_foreach(list, i, v) {
            broker_product p;
            if (!bj_to_product(v, &p)) continue;
            if (n < cap) out[n] = p;
            n++;
        }
        json_decref(j);
        return n;
    }
    json_decref(j);
    for (size_t i = 0; i < r->n_products && i < cap; i++) out[i] = r->products[i];
    return r->n_products;
}

static bool rm_subscribe(void *self, const char *symbol, char *err, size_t errlen) {
    remote *r = self;
    if (!symbol || !*symbol || strlen(symbol) >= BROKER_SYMBOL_MAX) {
        snprintf(err, errlen, "subscribe: invalid product code");
        return false;
    }
    if (!strcmp(symbol, "*")) {
        r->sub_all = true;
        return true;
    }
    bool known = false;
    for (size_t i = 0; i < r->n_subs; i++) known = known || !strcmp(r->subs[i], symbol);
    if (!known) {
        if (r->n_subs == MAX_SUBS) {
            snprintf(err, errlen, "subscribe: at most %d products", MAX_SUBS);
            return false;
        }
        str_copy(r->subs[r->n_subs++], BROKER_SYMBOL_MAX, symbol);
    }
    if (!connected(r)) return true; /* asked again at the next login */
    json_t *j = session_request(r, "subscribe", json_pack("{s:s}", "symbol", symbol), err, errlen, NULL);
    bool ok = j && gw_reply_ok(j);
    if (j && !ok) snprintf(err, errlen, "%s", gw_reply_message(j));
    json_decref(j);
    return ok;
}

static bool unknown_has(const remote *r, const char *cid) {
    if (!cid[0] || !r->n_unknown) return false;
    for (size_t i = 0; i < UNKNOWN_KEEP; i++)
        if (!strcmp(r->unknown[i], cid)) return true;
    return false;
}

static void unknown_set(remote *r, const char *cid, bool on) {
    if (!cid[0] || (!on && !r->n_unknown)) return;
    for (size_t i = 0; i < UNKNOWN_KEEP; i++)
        if (!strcmp(r->unknown[i], cid)) {
            if (!on) {
                r->unknown[i][0] = '\0';
                r->n_unknown--;
            }
            return;
        }
    if (!on) return;
    if (!r->unknown[r->unknown_next][0]) r->n_unknown++;
    str_copy(r->unknown[r->unknown_next], BROKER_ID_MAX, cid);
    r->unknown_next = (r->unknown_next + 1) % UNKNOWN_KEEP;
}

/* The exchange's answer to send_order req (msgpack; JSON from an exchange that answers so), into
 * res: true when it answered with the order's result; false with res the refusal it sent (or
 * "unreadable" for an answer it could not read). */
static bool read_answer(const broker_order_req *req, const xreply *rep, broker_send_result *res) {
    if (!reply_ok(rep)) {
        broker_send_refused(req, reply_code(rep), reply_message(rep), res);
        return false;
    }
    if (!rep->j) {
        *res = rep->mp.result;
        return true;
    }
    if (bj_to_send_result(json_object_get(gw_reply_data(rep->j), "result"), res)) return true;
    broker_send_refused(req, "BROKER_ERROR", "the simulated exchange sent an unreadable answer", res);
    return false;
}

static bool rm_send_order(void *self, const broker_order_req *req, broker_send_result *res) {
    remote *r = self;
    char err[BROKER_MSG_MAX + 64];
    if (!connected(r)) {
        not_connected(r, err, sizeof err);
        broker_send_refused(req, "BROKER_DISCONNECTED", err, res);
        /* an earlier send of this id may have reached the exchange: not a refusal then */
        res->unknown = unknown_has(r, req->client_order_id);
        return false;
    }
    bool sent = false;
    outgoing o = {.op = "send_order", .order = req};
    xreply rep;
    if (!session_call(r, &o, &rep, err, sizeof err, &sent)) {
        broker_send_refused(req, sent ? "BROKER_TIMEOUT" : "BROKER_DISCONNECTED", err, res);
        if (sent || unknown_has(r, req->client_order_id)) {
            res->unknown = true;
            unknown_set(r, req->client_order_id, true);
        }
        return false;
    }
    bool read = read_answer(req, &rep, res);
    reply_free(&rep);
    if (!read) return false;
    unknown_set(r, req->client_order_id, false);
    return res->is_send_order;
}

/* ---- orders in flight ------------------------------------------------------------------ */

static bool pending_any(const remote *r) { return r->ps_head < r->nps; }

static void pending_done(remote *r, size_t i, const broker_send_result *res) {
    uint64_t token = r->ps[i].token;
    r->ps[i].id = 0;
    while (r->ps_head < r->nps && r->ps[r->ps_head].id == 0) r->ps_head++;
    if (r->ps_head == r->nps) r->ps_head = r->nps = 0;
    if (r->cb.on_send_result) r->cb.on_send_result(r->cb.ctx, token, res);
}

/* Whatever the exchange did with them is unknown (their ids settle it later). */
static void pending_unknown_all(remote *r, const char *why) {
    while (pending_any(r)) {
        size_t i = r->ps_head;
        broker_send_result res;
        broker_send_refused(&r->ps[i].req, "BROKER_TIMEOUT", why, &res);
        res.unknown = true;
        unknown_set(r, r->ps[i].req.client_order_id, true);
        pending_done(r, i, &res);
    }
}

/* The exchange's answer to an order in flight: true when id was one. */
static bool pending_answer(remote *r, const xreply *rep, uint64_t id) {
    size_t i = r->ps_head;
    while (i < r->nps && r->ps[i].id != id) i++;
    if (id == 0 || i == r->nps) return false;
    broker_send_result res;
    const broker_order_req *req = &r->ps[i].req;
    if (!reply_ok(rep) && !strcmp(reply_code(rep), "NOT_LOGGED_IN")) {
        /* a restarted exchange forgot the session: not placed; the client's retry (same id)
         * goes after the login that service() sends now */
        broker_send_refused(req, "BROKER_DISCONNECTED", "the simulated exchange forgot the session", &res);
        res.unknown = true;
        r->logged_in = false;
        r->next_attempt_ms = clock_mono_ms();
    } else if (read_answer(req, rep, &res)) {
        unknown_set(r, req->client_order_id, false);
    }
    pending_done(r, i, &res);
    return true;
}

static bool rm_send_order_async(void *self, const broker_order_req *req, uint64_t token, broker_send_result *res) {
    remote *r = self;
    char err[BROKER_MSG_MAX + 64];
    if (!connected(r)) {
        not_connected(r, err, sizeof err);
        broker_send_refused(req, "BROKER_DISCONNECTED", err, res);
        res->unknown = unknown_has(r, req->client_order_id);
        return false;
    }
    if (r->nps == r->capps && r->ps_head > 0) { /* room at the front: close it up */
        memmove(r->ps, &r->ps[r->ps_head], (r->nps - r->ps_head) * sizeof *r->ps);
        r->nps -= r->ps_head;
        r->ps_head = 0;
    }
    if (!buf_grow((void **)&r->ps, &r->capps, r->nps + 1, sizeof *r->ps)) {
        broker_send_refused(req, "BROKER_ERROR", "out of memory", res);
        return false;
    }
    uint64_t id;
    outgoing o = {.op = "send_order", .order = req};
    if (!send_out(r, &o, &id)) {
        /* EAGAIN: with ZMQ_IMMEDIATE no live connection, or its queue (ORDER_QUEUE_HWM) full */
        bool full = zmq_errno() == EAGAIN && r->dealer && pending_any(r);
        if (full)
            snprintf(err, sizeof err, "the queue to the simulated exchange at %.100s is full (%zu orders waiting)",
                     r->endpoint, r->nps - r->ps_head);
        else
            snprintf(err, sizeof err, "the simulated exchange at %.150s is not connected", r->endpoint);
        broker_send_refused(req, full ? "BROKER_BUSY" : "BROKER_DISCONNECTED", err, res);
        res->unknown = unknown_has(r, req->client_order_id);
        return false;
    }
    r->ps[r->nps++] = (pending_send){.id = id, .token = token, .deadline_ms = clock_mono_ms() + r->timeout_ms,
                                      .req = *req};
    return true;
}

static bool rm_cancel_order(void *self, const char *cid, char *err, size_t errlen) {
    remote *r = self;
    json_t *j = session_request(r, "cancel_order", json_pack("{s:s}", "client_order_id", cid ? cid : ""), err, errlen,
                                NULL);
    if (!j) return false;
    bool ok = gw_reply_ok(j);
    if (!ok) snprintf(err, errlen, "%s", gw_reply_message(j));
    json_decref(j);
    return ok;
}

static bool rm_order_status(void *self, const char *cid, broker_order_info *out) {
    remote *r = self;
    char err[BROKER_MSG_MAX];
    json_t *j = session_request(r, "order_status", json_pack("{s:s}", "client_order_id", cid ? cid : ""), err,
                                sizeof err, NULL);
    bool found = j && gw_reply_ok(j) && json_is_true(json_object_get(gw_reply_data(j), "found")) &&
                 bj_to_order_info(json_object_get(gw_reply_data(j), "order"), out);
    json_decref(j);
    return found;
}

static long rm_query_positions(void *self, const char *account, broker_position *out, size_t cap, char *err,
                               size_t errlen) {
    remote *r = self;
    json_t *j = session_request(r, "query_positions", json_pack("{s:s}", "account", account ? account : ""), err,
                                errlen, NULL);
    if (!j) return -1;
    if (!gw_reply_ok(j)) {
        snprintf(err, errlen, "%s", gw_reply_message(j));
        json_decref(j);
        return -1;
    }
    json_t *list = json_object_get(gw_reply_data(j), "positions");
    long n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        broker_position p;
        if (!bj_to_position(v, &p)) continue;
        if ((size_t)n < cap) out[n] = p;
        n++;
    }
    json_decref(j);
    return n;
}

static long rm_get_reports(void *self, uint64_t since, broker_report *out, size_t cap, broker_report_page *page,
                           char *err, size_t errlen) {
    remote *r = self;
    memset(page, 0, sizeof *page);
    if (cap == 0) cap = 1;
    if (cap > 1000) cap = 1000;
    json_t *j = session_request(r, "get_reports", json_pack("{s:I,s:I}", "since_seq", (json_int_t)since, "limit",
                                                            (json_int_t)cap),
                                err, errlen, NULL);
    if (!j) return -1;
    if (!gw_reply_ok(j)) {
        snprintf(err, errlen, "%s", gw_reply_message(j));
        json_decref(j);
        return -1;
    }
    json_t *d = gw_reply_data(j);
    page->first_seq = (uint64_t)json_integer_value(json_object_get(d, "first_seq"));
    page->last_seq = (uint64_t)json_integer_value(json_object_get(d, "last_seq"));
    page->more = json_is_true(json_object_get(d, "more"));
    page->epoch = (int64_t)json_integer_value(json_object_get(d, "epoch"));
    long n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(d, "reports"), i, v) {
        if ((size_t)n == cap) break;
        if (bj_to_report(v, &out[n])) n++;
    }
    json_decref(j);
    return n;
}

static void rm_feed_subscribers(void *self, int64_t count) {
    remote *r = self;
    if (count == r->feed_subs) return;
    r->feed_subs = count;
    if (connected(r)) send_note(r, "feed_subscribers", json_pack("{s:I}", "count", (json_int_t)count));
}

static int rm_poll_fd(void *self) {
    (void)self;
    return -1;
}

static size_t rm_poll_sockets(void *self, void **out, size_t cap) {
    remote *r = self;
    size_t n = 0;
    if (n < cap && r->sub) out[n++] = r->sub;
    if (n < cap && r->dealer) out[n++] = r->dealer;
    return n;
}

static int64_t rm_next_timeout_ms(void *self) {
    remote *r = self;
    if (!r->have_creds) return -1;
    int64_t now = clock_mono_ms(), due = INT64_MAX;
    if (connected(r)) {
        due = r->hb.kind ? r->hb.deadline_ms : r->next_hb_ms;
        if (r->behind_seq && r->behind_ms + 250 < due) due = r->behind_ms + 250;
    } else {
        due = r->login.kind ? r->login.deadline_ms : r->next_attempt_ms;
    }
    if (r->note.kind && r->note.deadline_ms < due) due = r->note.deadline_ms;
    if (pending_any(r) && r->ps[r->ps_head].deadline_ms < due) due = r->ps[r->ps_head].deadline_ms;
    return due <= now ? 0 : due - now;
}

static void drain_sub(remote *r) {
    static char body[MAX_MARKET_MSG]; /* one thread: the adapter's service() */
    for (int k = 0; k < SUB_DRAIN_MAX; k++) {
        char topic[ZSOCK_TOPIC_MAX];
        bool truncated;
        int len = zsock_recv_topic(r->sub, topic, body, sizeof body, &truncated);
        if (len < 0) return;
        if (truncated) {
            log_warn("skipped a %s message from the exchange larger than %d bytes", topic[0] ? topic : "market",
                     MAX_MARKET_MSG);
            continue;
        }
        if (!strcmp(topic, REPORT_TOPIC)) {
            bool bad;
            report_batch_each(body, (size_t)len, take_report, r, &bad);
            if (bad) log_warn("skipped the end of a report message from the exchange that is not msgpack");
        } else if (!strncmp(topic, "TICK:", 5) && r->cb.on_tick && wants(r, topic + 5)) {
            on_tick_message(r, body, (size_t)len);
        }
    }
}

static void rm_service(void *self) {
    remote *r = self;
    drain_sub(r);
    if (r->dealer) {
        uint64_t id;
        xreply rep;
        while (read_reply(r, &id, &rep)) {
            handle_async(r, &rep, id);
            reply_free(&rep);
        }
    }
    if (!r->have_creds) return;
    int64_t now = clock_mono_ms();
    if (r->note.kind && now >= r->note.deadline_ms) memset(&r->note, 0, sizeof r->note);
    if (pending_any(r) && now >= r->ps[r->ps_head].deadline_ms) {
        /* the oldest order had no answer in time: the link is taken for gone, as for a
         * request waited for */
        char why[96];
        snprintf(why, sizeof why, "no answer to send_order within %d ms", r->timeout_ms);
        link_down(r, why);
        return;
    }
    if (connected(r)) {
        if (r->hb.kind && now >= r->hb.deadline_ms) {
            char why[96];
            snprintf(why, sizeof why, "no answer to a heartbeat within %d ms", r->timeout_ms);
            link_down(r, why);
            return;
        }
        if (!r->hb.kind && now >= r->next_hb_ms) {
            uint64_t id;
            if (send_request(r, "health", NULL, &id))
                r->hb = (async_req){ASYNC_HEARTBEAT, id, now + r->timeout_ms};
            else {
                link_down(r, "connection closed");
                return;
            }
        }
        if (r->behind_seq) {
            if (r->last_seq >= r->behind_seq) r->behind_seq = 0;
            else if (now >= r->behind_ms + 250) {
                r->behind_seq = 0;
                catch_up(r, 0);
            }
        }
        return;
    }
    /* down, or forgotten by a restarted exchange: log in again */
    if (r->login.kind) {
        if (now >= r->login.deadline_ms) {
            char why[96];
            snprintf(why, sizeof why, "no answer to a login within %d ms", r->timeout_ms);
            link_down(r, why);
        }
        return;
    }
    if (now < r->next_attempt_ms) return;
    uint64_t id;
    if (send_request(r, "login", login_params(r), &id)) r->login = (async_req){ASYNC_LOGIN, id, now + r->timeout_ms};
    else {
        if (r->link_up) link_down(r, "connection closed");
        r->next_attempt_ms = now + r->retry_ms;
    }
}

static void rm_destroy(void *self) {
    remote *r = self;
    if (!r) return;
    if (r->dealer) zmq_close(r->dealer);
    if (r->sub) zmq_close(r->sub);
    if (r->own_ctx && r->zctx) zmq_ctx_term(r->zctx);
    memset(r->password, 0, sizeof r->password);
    free(r->ps);
    msgpack_sbuffer_destroy(&r->out);
    mp_reader_destroy(&r->rd);
    free(r->accounts);
    free(r->products);
    free(r);
}

static const broker_ops remote_ops = {
    .name = "sim",
    .set_callbacks = rm_set_callbacks,
    .login = rm_login,
    .logout = rm_logout,
    .is_connected = rm_is_connected,
    .list_accounts = rm_list_accounts,
    .list_products = rm_list_products,
    .subscribe = rm_subscribe,
    .send_order = rm_send_order,
    .cancel_order = rm_cancel_order,
    .order_status = rm_order_status,
    .query_positions = rm_query_positions,
    .poll_fd = rm_poll_fd,
    .next_timeout_ms = rm_next_timeout_ms,
    .service = rm_service,
    .destroy = rm_destroy,
    .poll_sockets = rm_poll_sockets,
    .send_order_async = rm_send_order_async,
    .get_reports = rm_get_reports,
    .feed_subscribers = rm_feed_subscribers,
};

bool sim_remote_new(const sim_remote_config *cfg, broker *out, char *err, size_t errlen) {
    if (!cfg || !cfg->endpoint || !*cfg->endpoint || !cfg->market_endpoint || !*cfg->market_endpoint ||
        strlen(cfg->endpoint) >= 256 || strlen(cfg->market_endpoint) >= 256) {
        snprintf(err, errlen, "the simulated exchange needs a request and a market endpoint");
        return false;
    }
    remote *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    msgpack_sbuffer_init(&r->out);
    mp_reader_init(&r->rd);
    str_copy(r->endpoint, sizeof r->endpoint, cfg->endpoint);
    str_copy(r->market, sizeof r->market, cfg->market_endpoint);
    r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1000;
    r->connect_wait_ms = cfg->connect_wait_ms > 0 ? cfg->connect_wait_ms : 10000;
    r->heartbeat_ms = cfg->heartbeat_ms > 0 ? cfg->heartbeat_ms : 500;
    r->retry_ms = cfg->retry_ms > 0 ? cfg->retry_ms : 500;
    r->zctx = cfg->zctx;
    if (!r->zctx) {
        r->zctx = zmq_ctx_new();
        r->own_ctx = true;
    }
    r->sub = r->zctx ? zsock_new(r->zctx, ZMQ_SUB, err, errlen) : NULL;
    if (!r->sub) {
        if (!r->zctx) snprintf(err, errlen, "cannot create a ZeroMQ context: %s", zmq_strerror(zmq_errno()));
        rm_destroy(r);
        return false;
    }
    zsock_set_int(r->sub, ZMQ_RCVHWM, 100000);
    /* "TICK", not "TICK:": a relay's subscription is not counted as a subscriber of the market
     * (exchange --wait-subscribers); feed_subscribers tells the exchange its own instead */
    zmq_setsockopt(r->sub, ZMQ_SUBSCRIBE, "TICK", 4);
    zmq_setsockopt(r->sub, ZMQ_SUBSCRIBE, REPORT_TOPIC, strlen(REPORT_TOPIC));
    if (!zsock_connect_to(r->zctx, r->sub, r->market, ROLE_EXCHANGE, err, errlen)) {
        rm_destroy(r);
        return false;
    }
    if (!open_dealer(r)) {
        snprintf(err, errlen, "cannot connect to %s: %s", r->endpoint, zmq_strerror(zmq_errno()));
        rm_destroy(r);
        return false;
    }
    out->ops = &remote_ops;
    out->self = r;
    return true;
}

bool sim_remote_reached(const broker *b) { return b && b->ops == &remote_ops && ((const remote *)b->self)->reached; }
