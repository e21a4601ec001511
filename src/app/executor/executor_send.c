/* The executor core's sending: a stored order goes to the gateway (in flight through
 * submit_order, or through the blocking sink), is tried again under the same client order id
 * when no answer comes, and the answer is applied to the books; an answer that cannot be stored
 * is kept and applied again.
 *
 * Not here: deciding to send (executor_signals.c, executor_manual.c), the commit an order waits
 * for before it leaves (executor_batch.c), the request's wire shape (executor_proto.c). */
#include "app/executor/executor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/executor/executor_proto.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "domain/order.h"
#include "net/gw_proto.h"
#include "store/db.h"
#include "store/order_store.h"

#define HELD_RETRY_MS 200

/* ---- sending ----------------------------------------------------------------------------- */

/* What the gateway said to the send of r (reply NULL: no usable answer after every attempt,
 * err says why), written in the open batch's transaction; *cur: the order as it is then (r
 * itself when fresh: the caller has just read it). False when the database failed. */
static bool answer_effects(executor_core *x, const order_record *r, bool fresh, const exproto_send_reply *ans,
                           const char *err, order_record *cur) {
    if (fresh || !ostore_get(x->os, r->o.client_order_id, cur)) *cur = *r;
    order before = cur->o;
    if (!ans) {
        /* Unknown outcome: it may or may not have reached the broker. It stays 'sent' and is
         * settled by asking the gateway for this client order id. (A report may have moved it
         * further already: then there is nothing to say.) */
        if (cur->o.status != ORDER_NEW && cur->o.status != ORDER_SENT) return true;
        order_mark_sent(&cur->o);
        snprintf(cur->o.reason, sizeof cur->o.reason, "no answer from the gateway (%.60s); reconciling", err);
        return ostore_update(x->os, &cur->o, NULL);
    }
    order_mark_sent(&cur->o);
    if (!ans->accepted) order_apply_rejected(&cur->o, ans->reason);
    else order_apply_accepted(&cur->o);
    return xc_store_change(x, &before, cur, ans->serial[0] ? ans->serial : NULL);
}

/* After the answer to cur is durable: said, and an order the gateway already had looked up. */
void xc_answered(executor_core *x, const order_record *cur, const exproto_send_reply *ans) {
    if (!ans) {
        log_error("order %s: the gateway did not answer after %d attempt(s); will reconcile", cur->o.client_order_id,
                  x->cfg.attempts);
        return;
    }
    if (cur->o.status == ORDER_REJECTED) log_warn("order %s rejected: %s", cur->o.client_order_id, cur->o.reason);
    else log_info("order %s accepted (serial %s)", cur->o.client_order_id, ans->serial[0] ? ans->serial : "-");
    if (ans->accepted && ans->duplicate) {
        /* sent before (a retry, or a send whose answer was lost): what became of it is asked
         * for now, not left to reports that may have gone by already */
        log_info("order %s: the gateway already had it; not placed again, looking it up", cur->o.client_order_id);
        xc_settle_with_gateway(x, cur->o.client_order_id);
    }
}

held_answer *xc_held_find(executor_core *x, const char *coid) {
    for (size_t i = 0; i < x->nheld; i++)
        if (!strcmp(x->held[i].coid, coid)) return &x->held[i];
    return NULL;
}

/* Keeps the answer to coid to apply again: the broker's word is not dropped because the disk
 * was full or the database busy when it came. */
void xc_hold_answer(executor_core *x, const char *coid, const exproto_send_reply *ans) {
    held_answer *h = xc_held_find(x, coid);
    if (h) { /* the newer answer is the one kept */
        h->ans = *ans;
        return;
    }
    if (!buf_grow((void **)&x->held, &x->capheld, x->nheld + 1, sizeof *x->held)) {
        log_error("out of memory: the answer to order %s is left to reconciliation", coid);
        return;
    }
    if (!x->nheld) x->held_retry_ms = xc_now_us(x) / 1000 + HELD_RETRY_MS;
    str_copy(x->held[x->nheld].coid, sizeof x->held[0].coid, coid);
    x->held[x->nheld++].ans = *ans;
}

/* Applies what the gateway said to the send of r, in the open batch (else in one of its own).
 * An answer that cannot be stored now is kept and applied again; that no answer came, when it
 * cannot be stored, leaves the order to reconciliation, which asks the gateway. */
static void apply_answer(executor_core *x, const order_record *r, bool fresh, const exproto_send_reply *ans,
                         const char *err) {
    bool own = !x->batch;
    if (own) exc_begin_batch(x);
    order_record cur;
    if (x->batch) x->batch_answers++;
    if (!xc_batch_writable(x) || !answer_effects(x, r, fresh, ans, err, &cur) || !xc_defer(x, AFTER_ANSWER, &cur, ans)) {
        if (x->batch) x->batch_failed = true;
        if (ans) {
            log_error("cannot store what the gateway said to %s (%s); kept, and applied again", r->o.client_order_id,
                      db_error(x->db));
            xc_hold_answer(x, r->o.client_order_id, ans);
        } else {
            log_error("cannot store that the gateway did not answer %s (%s); reconciliation will settle it",
                      r->o.client_order_id, db_error(x->db));
        }
    }
    if (own && x->batch) xc_batch_end(x);
}

/* The answers kept because they could not be stored, applied again together (at most every
 * HELD_RETRY_MS). */
static void retry_held(executor_core *x) {
    if (!x->nheld || x->batch || xc_now_us(x) / 1000 < x->held_retry_ms) return;
    held_answer *list = x->held;
    size_t n = x->nheld;
    x->held = NULL;
    x->nheld = x->capheld = 0;
    exc_begin_batch(x);
    for (size_t i = 0; i < n; i++) {
        order_record r;
        if (ostore_get(x->os, list[i].coid, &r)) apply_answer(x, &r, true, &list[i].ans, NULL);
        else log_warn("order %s is no longer in the books; its answer is dropped", list[i].coid);
    }
    if (x->batch) xc_batch_end(x);
    free(list);
    if (x->nheld) x->held_retry_ms = xc_now_us(x) / 1000 + HELD_RETRY_MS;
}

/* ---- orders in flight (submit_order) ------------------------------------------------------ */

static int timeout_ms(const executor_core *x) { return x->cfg.timeout_ms > 0 ? x->cfg.timeout_ms : 2000; }

/* Orders in flight are found by client order id through a hash index (a burst keeps thousands
 * in flight, and each answer looks its order up). */
static size_t coid_hash(const char *coid) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)coid; *c; c++) h = (h ^ *c) * 1099511628211ULL;
    return (size_t)h;
}

static size_t flix_slot(const executor_core *x, const char *coid) {
    size_t mask = x->nflix - 1, i = coid_hash(coid) & mask;
    while (x->flix[i] && strcmp(x->fl[x->flix[i] - 1].coid, coid)) i = (i + 1) & mask;
    return i;
}

flight *xc_flight_find(executor_core *x, const char *coid) {
    if (!x->nflix) return NULL;
    uint32_t v = x->flix[flix_slot(x, coid)];
    return v ? &x->fl[v - 1] : NULL;
}

/* Rebuilds the index for room for cap flights; false when out of memory (nothing changed). */
static bool flix_rebuild(executor_core *x, size_t cap) {
    size_t n = 16;
    while (n < cap * 2) n *= 2;
    uint32_t *ix = calloc(n, sizeof *ix);
    if (!ix) return false;
    free(x->flix);
    x->flix = ix;
    x->nflix = n;
    for (size_t i = 0; i < x->nfl; i++) x->flix[flix_slot(x, x->fl[i].coid)] = (uint32_t)(i + 1);
    return true;
}

/* Takes the slot i out of the index, moving later entries of its run back (no tombstones). */
static void flix_delete(executor_core *x, size_t i) {
    size_t mask = x->nflix - 1, j = i;
    x->flix[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!x->flix[j]) return;
        size_t home = coid_hash(x->fl[x->flix[j] - 1].coid) & mask;
        /* the entry at j may move to i when its home is not cyclically within (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            x->flix[i] = x->flix[j];
            x->flix[j] = 0;
            i = j;
        }
    }
}

void xc_flight_remove(executor_core *x, flight *f) {
    size_t at = (size_t)(f - x->fl), last = x->nfl - 1;
    flix_delete(x, flix_slot(x, f->coid));
    if (at != last) {
        /* the last one moves into the hole: its index entry follows */
        size_t s = flix_slot(x, x->fl[last].coid);
        x->fl[at] = x->fl[last];
        x->flix[s] = (uint32_t)(at + 1);
    }
    x->nfl--;
}

/* One try of f; a send that could not leave counts as a try and waits out its timeout. */
static void flight_try(executor_core *x, flight *f) {
    char err[256] = "";
    f->attempt++;
    f->deadline_ms = xc_now_us(x) / 1000 + timeout_ms(x);
    if (!x->io.submit_order(x->io.ctx, f->coid, &f->req, err, sizeof err))
        log_warn("order %s: attempt %d/%d: %s", f->coid, f->attempt, x->cfg.attempts, err);
}

/* Puts the stored order r in flight (once: an order already waiting for its answer is not
 * sent again before that answer or its timeout). */
static void submit(executor_core *x, const order_record *r) {
    if (xc_flight_find(x, r->o.client_order_id)) return;
    if (x->nfl == x->capfl) {
        size_t cap = x->capfl ? x->capfl * 2 : 64;
        flight *fl = realloc(x->fl, cap * sizeof *fl);
        if (fl) x->fl = fl;
        if (!fl || !flix_rebuild(x, cap)) {
            log_error("out of memory: order %s left to reconciliation", r->o.client_order_id);
            return;
        }
        x->capfl = cap;
    }
    flight *f = &x->fl[x->nfl];
    memset(f, 0, sizeof *f);
    str_copy(f->coid, sizeof f->coid, r->o.client_order_id);
    exproto_order_req(&r->o, &f->req);
    x->flix[flix_slot(x, f->coid)] = (uint32_t)(x->nfl + 1);
    x->nfl++;
    flight_try(x, f);
}

void exc_on_order_reply(executor_core *x, const char *coid, const char *body, size_t len) {
    exproto_send_reply ans;
    if (!exproto_read_send_reply(&x->reader, body, len, &ans)) {
        /* not an answer: the order waits for one (or its timeout and a retry) */
        log_warn("order %.64s: the gateway's answer is neither a JSON object nor a msgpack map; skipped",
                 coid ? coid : "?");
        return;
    }
    flight *f = coid ? xc_flight_find(x, coid) : NULL;
    order_record r;
    if (f) xc_flight_remove(x, f);
    if (!coid || !ostore_get(x->os, coid, &r)) {
        log_warn("an answer for order %.64s, which this executor did not place; skipped", coid ? coid : "?");
    } else if (f || r.o.status == ORDER_NEW || r.o.status == ORDER_SENT) {
        /* a late answer to an order given up on is still the broker's word on it */
        apply_answer(x, &r, true, &ans, NULL);
    }
}

void exc_service(executor_core *x) {
    retry_held(x);
    int64_t now = xc_now_us(x) / 1000;
    for (size_t i = 0; i < x->nfl;) {
        flight *f = &x->fl[i];
        if (f->deadline_ms > now) {
            i++;
        } else if (f->attempt < x->cfg.attempts && !xc_stopping(x)) {
            log_warn("order %s: attempt %d/%d: no answer within %d ms; trying again with the same id", f->coid,
                     f->attempt, x->cfg.attempts, timeout_ms(x));
            flight_try(x, f);
            i++;
        } else {
            char coid[ORDER_ID_MAX], err[64];
            str_copy(coid, sizeof coid, f->coid);
            snprintf(err, sizeof err, "no answer within %d ms", timeout_ms(x));
            xc_flight_remove(x, f); /* the last one moved to i: looked at next */
            order_record r;
            if (ostore_get(x->os, coid, &r)) apply_answer(x, &r, true, NULL, err);
        }
    }
}

int exc_next_timeout_ms(executor_core *x) {
    if (!x->nfl && !x->nheld) return -1;
    int64_t now = xc_now_us(x) / 1000, due = x->nheld ? x->held_retry_ms : INT64_MAX;
    for (size_t i = 0; i < x->nfl; i++)
        if (x->fl[i].deadline_ms < due) due = x->fl[i].deadline_ms;
    return due <= now ? 0 : due - now > 60000 ? 60000 : (int)(due - now);
}

size_t exc_in_flight(const executor_core *x) { return x->nfl; }

/* ---- sending a stored order -------------------------------------------------------------- */

/* Sends the stored order: in flight through submit_order, else through the blocking sink,
 * retries reusing the same client order id, and applies the answer. Inside a batch, after its
 * commit. */
void xc_send_order(executor_core *x, order_record *r) {
    if (x->batch) {
        xc_defer(x, AFTER_SEND, r, NULL);
        return;
    }
    if (x->io.submit_order) {
        submit(x, r);
        return;
    }
    broker_order_req breq;
    exproto_order_req(&r->o, &breq);
    json_t *req = exproto_send_order_request(&breq);
    json_t *reply = NULL;
    char err[256] = "";
    for (int attempt = 1; attempt <= x->cfg.attempts && !reply; attempt++) {
        reply = req ? x->io.send_order(x->io.ctx, req, err, sizeof err) : NULL;
        if (!req) snprintf(err, sizeof err, "out of memory");
        if (!reply) log_warn("order %s: attempt %d/%d: %s", r->o.client_order_id, attempt, x->cfg.attempts, err);
        if (xc_stopping(x)) break;
    }
    json_decref(req);
    exproto_send_reply ans;
    if (reply) {
        gw_fields f = gw_fields_of_json(reply);
        exproto_parse_send_reply(&f, &ans);
    }
    apply_answer(x, r, false, reply ? &ans : NULL, err);
    json_decref(reply);
}
