/* The executor core's group commit (see exc_begin_batch in executor_core.h): the signals, answers
 * and reports read together are written in one transaction, and what must wait for it (sending,
 * acknowledging, saying what the gateway answered) is kept and done after the commit; when the
 * commit fails, the in-memory state is put back as it was before the batch.
 *
 * Not here: what a signal, an answer or a report writes (executor_signals.c, executor_send.c,
 * executor_reports.c); sending itself (executor_send.c). */
#include "app/executor/executor_internal.h"

#include <stdlib.h>

#include "app/executor/executor_proto.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "domain/order.h"
#include "store/db.h"
#include "store/order_store.h"

/* ---- group commit ------------------------------------------------------------------------- */

/* Something to do once the batch's transaction has committed (ans copied). False when it
 * cannot be kept (the batch then fails). */
bool xc_defer(executor_core *x, after_kind kind, const order_record *r, const exproto_send_reply *ans) {
    if (!buf_grow((void **)&x->def, &x->capdef, x->ndef + 1, sizeof *x->def)) {
        x->batch_failed = true;
        return false;
    }
    deferred *d = &x->def[x->ndef++];
    d->kind = kind;
    d->r = *r;
    d->has_ans = ans != NULL;
    if (ans) d->ans = *ans;
    return true;
}

/* The batch's transaction can take more: it is open, nothing in it failed, and SQLite did not
 * roll it back on its own (a full disk can end a transaction; a write after that would commit
 * on its own, outside the batch). */
bool xc_batch_writable(executor_core *x) {
    if (!x->batch || x->batch_failed) return false;
    if (sqlite3_get_autocommit(x->db)) x->batch_failed = true;
    return !x->batch_failed;
}

void exc_begin_batch(executor_core *x) {
    if (x->batch) return;
    x->ndef = 0;
    x->batch_failed = x->batch_filled = false;
    x->batch_signals = x->batch_answers = x->batch_reports = 0;
    x->batch_st = x->st;
    x->batch_seq = x->report_seq;
    /* busy: no batch, each signal stored on its own (and refused on its own if still busy) */
    x->batch = ostore_begin(x->os);
}

/* Commits the batch and does what waited for it: the sends and answers in the order received,
 * then the acknowledgements, then the P&L of the fills; when the commit
 * fails, puts the in-memory state back as it was before the batch: nothing of it was sent or
 * acknowledged, its answers are kept to be applied again, its reports fetched again. */
bool xc_batch_end(executor_core *x) {
    if (!x->batch) return false;
    x->batch = false;
    /* the report counter as the batch leaves it, in the same transaction as what it counts */
    if (!x->batch_failed && x->report_seq != x->batch_seq &&
        !db_meta_set_int(x->db, "executor_report_seq", x->report_seq))
        x->batch_failed = true;
    bool ok = !x->batch_failed && !sqlite3_get_autocommit(x->db) && ostore_commit(x->os);
    /* what waited is taken out first: sending and looking up can open batches of their own */
    deferred *list = x->def;
    size_t n = x->ndef, cap = x->capdef;
    x->def = NULL;
    x->ndef = x->capdef = 0;
    if (!ok) {
        log_error("cannot store what was received together (%zu signal(s), %zu answer(s), %zu report(s)): %s; "
                  "the signals come again, the answers are kept, the reports fetched again",
                  x->batch_signals, x->batch_answers, x->batch_reports, db_error(x->db));
        if (!sqlite3_get_autocommit(x->db)) ostore_rollback(x->os);
        xc_reload_open(x);
        x->st.orders = x->batch_st.orders;
        x->st.refused = x->batch_st.refused;
        x->st.fills = x->batch_st.fills;
        x->report_seq = x->batch_seq;
        for (size_t i = 0; i < n; i++)
            if (list[i].kind == AFTER_ANSWER && list[i].has_ans) xc_hold_answer(x, list[i].r.o.client_order_id, &list[i].ans);
    } else {
        /* the orders first: the acknowledgements (which wake the strategy) and the P&L (a
         * write of its own) would otherwise stand between a burst's orders and the wire */
        for (size_t i = 0; i < n; i++) {
            if (list[i].kind == AFTER_SEND) xc_send_order(x, &list[i].r);
            else if (list[i].kind == AFTER_ANSWER) xc_answered(x, &list[i].r, list[i].has_ans ? &list[i].ans : NULL);
        }
        for (size_t i = 0; i < n; i++)
            if (list[i].kind == AFTER_ACK) xc_acknowledge(x, &list[i].r);
        if (x->batch_filled) xc_refresh_pnl(x);
    }
    if (!x->def) {
        x->def = list;
        x->capdef = cap;
    } else {
        free(list);
    }
    return ok;
}

void exc_end_batch(executor_core *x) { xc_batch_end(x); }

/* Tells the strategy that the signal of r is stored (see net/signal_ack.h). */
void xc_acknowledge(executor_core *x, const order_record *r) {
    if (x->batch) {
        xc_defer(x, AFTER_ACK, r, NULL);
        return;
    }
    if (!x->io.acknowledge) return;
    signal_ack a = {.refused = r->o.status == ORDER_REJECTED};
    str_copy(a.signal_id, sizeof a.signal_id, r->o.signal_id);
    str_copy(a.client_order_id, sizeof a.client_order_id, r->o.client_order_id);
    if (a.refused) str_copy(a.reason, sizeof a.reason, r->o.reason);
    x->io.acknowledge(x->io.ctx, &a);
}
