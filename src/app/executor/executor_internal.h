/* The executor core's insides, shared by the files it is made of (executor_core.c and the
 * executor_*.c beside it, one concern each; executor_core.c lists them): the struct
 * executor_core, the small types it holds, and the functions one file of the core calls in
 * another (prefix xc_; the core's interface keeps the prefix exc_).
 *
 * Internal to the executor core: not for executor_main.c, the tests or any other process, which
 * use executor_core.h only. Not an interface: nothing here is kept stable, and what each
 * function decides is said where it is defined. */
#ifndef AFTM_EXECUTOR_INTERNAL_H
#define AFTM_EXECUTOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/executor/executor_core.h"
#include "app/executor/executor_proto.h"
#include "core/clock.h"
#include "domain/order.h"
#include "store/condition_store.h"
#include "store/db.h"
#include "store/held_exits.h"
#include "store/order_store.h"

#define MAX_SYMBOLS 64

typedef struct {
    char symbol[32];
    price_t last;
} last_price;

/* An order waiting for the gateway's answer (submit_order). */
typedef struct {
    char coid[ORDER_ID_MAX];
    broker_order_req req;
    int attempt;
    int64_t deadline_ms; /* wall clock (io.clock_us) */
} flight;

/* What a batch does once its transaction has committed. */
typedef enum { AFTER_SEND, AFTER_ACK, AFTER_ANSWER } after_kind;

typedef struct {
    after_kind kind;
    order_record r;
    bool has_ans;           /* AFTER_ANSWER: the gateway answered (false: none came) */
    exproto_send_reply ans; /* ... and what it said, kept again if the batch fails */
} deferred;

/* An answer from the gateway that could not be stored: applied again (exc_service). */
typedef struct {
    char coid[ORDER_ID_MAX];
    exproto_send_reply ans;
} held_answer;

/* An exit held until its entry's fill is in the books (store/held_exits.h): the signal as
 * received, and when to stop waiting for the report and ask the broker. */
typedef struct {
    wire_signal sig;
    int64_t due_ms;
} held_exit;

/* Client order ids: the orders a read of the gateway's report log is limited to. */
typedef struct {
    char (*ids)[ORDER_ID_MAX];
    size_t n;
} coid_set;

struct executor_core {
    executor_config cfg;
    executor_io io;
    sqlite3 *db;
    condition_store *cs;
    order_store *os;
    wire_decoder dec;
    risk_state risk;
    last_price prices[MAX_SYMBOLS];
    int nprices;
    long long report_seq;
    long long gw_last_seq; /* the gateway's last report seq at the last catch-up, -1: unknown */
    long long data_version;
    char instance[DB_INSTANCE_ID_LEN + 1];
    int64_t last_rescan_ms;
    int64_t last_mark_ms; /* when open positions were last marked at the last prices */
    uint64_t orig_counter;
    executor_stats st;
    flight *fl; /* orders in flight, unordered */
    size_t nfl, capfl;
    uint32_t *flix; /* open addressing over fl by client order id: index + 1, 0 empty */
    size_t nflix;   /* slots, a power of two, at least twice capfl */
    bool batch, batch_failed; /* a group commit is open; something in it failed */
    bool batch_filled;        /* a fill was booked in it: P&L after the commit */
    deferred *def;
    size_t ndef, capdef;
    size_t batch_signals, batch_answers, batch_reports;
    executor_stats batch_st; /* the counters and the report counter when the batch began */
    long long batch_seq;
    mp_reader reader;  /* msgpack answers and reports */
    held_answer *held; /* answers that could not be stored yet */
    size_t nheld, capheld;
    int64_t held_retry_ms;
    held_exit *held_exits; /* exits waiting for their entry's fill to be booked */
    size_t nheld_exits, held_exits_cap;
    bool held_exits_busy; /* deciding on them now: no second pass from inside */
};

static inline int64_t xc_now_us(executor_core *x) {
    return x->io.clock_us ? x->io.clock_us(x->io.ctx) : clock_wall_us();
}
static inline double xc_now_s(executor_core *x) { return (double)xc_now_us(x) / 1e6; }
static inline bool xc_stopping(executor_core *x) { return x->io.stopping && x->io.stopping(x->io.ctx); }

/* executor_core.c: life, polling, the account, the open-order counts */

/* Moves the product's pending lots by what changed between before (NULL: a new order) and after. */
void xc_pending_move(executor_core *x, const order *before, const order *after);
/* Counts the open orders and pending lots again from the database. */
void xc_reload_open(executor_core *x);
/* The minute of the day and the weekday at now_ms, in Taipei time. */
void xc_local_time(int64_t now_ms, int *minute, int *weekday);

/* executor_batch.c: group commit */

/* Keeps something to do once the batch's transaction has committed; false: the batch fails. */
bool xc_defer(executor_core *x, after_kind kind, const order_record *r, const exproto_send_reply *ans);
/* The open batch's transaction can take more writes. */
bool xc_batch_writable(executor_core *x);
/* Commits the batch and does what waited for it; false (state put back) when it failed. */
bool xc_batch_end(executor_core *x);
/* Tells the strategy that the signal of r is stored (after the batch's commit). */
void xc_acknowledge(executor_core *x, const order_record *r);

/* executor_signals.c: signals, refusals, exits */

/* Stores a refused signal (or order by hand) as a rejected order with its reason. */
void xc_record_refusal(executor_core *x, order_record *r, const char *reason);
/* Decides again on each held exit (sent, skipped, or held on). */
void xc_settle_held_exits(executor_core *x);
/* hexit_each's callback at start: one stored held exit back in memory. */
void xc_load_held_exit(void *ctx, const held_exit_row *row);

/* executor_send.c: sending, answers, orders in flight */

/* Sends the stored order (after the batch's commit) and applies the gateway's answer. */
void xc_send_order(executor_core *x, order_record *r);
/* After the answer to cur is durable: logged, and an order the gateway already had looked up. */
void xc_answered(executor_core *x, const order_record *cur, const exproto_send_reply *ans);
/* Keeps the answer to coid to apply again (exc_service). */
void xc_hold_answer(executor_core *x, const char *coid, const exproto_send_reply *ans);
/* The answer to coid kept to be stored again, or NULL. */
held_answer *xc_held_find(executor_core *x, const char *coid);
/* The order coid in flight (waiting for its answer), or NULL. */
flight *xc_flight_find(executor_core *x, const char *coid);
/* Takes f out of the orders in flight. */
void xc_flight_remove(executor_core *x, flight *f);

/* executor_reports.c: reports, orders aftm did not place, catch-up, condition feedback */

/* The round of a repeating condition an order belongs to (0: none). */
int64_t xc_order_round(const order *o);
/* Tells the strategy (through the condition row) how an entry ended. */
void xc_entry_feedback(executor_core *x, const order_record *r);
/* Stores a state change of r (from before) with the counts and feedback that follow it. */
bool xc_store_change(executor_core *x, const order *before, order_record *r, const char *serial);
/* One page of the gateway's reports after since (all, or only those of the orders in only). */
long long xc_fetch_page(executor_core *x, long long since, const coid_set *only, bool *more);

/* executor_reconcile.c: open orders settled with the gateway */

/* Asks the gateway about the open order coid now and books what it is behind on. */
void xc_settle_with_gateway(executor_core *x, const char *coid);

/* executor_manual.c: orders by hand */

/* At start: finishes the requests an executor took and did not finish. */
void xc_finish_taken(executor_core *x);

/* executor_marks.c: prices, P&L, marking to market */

/* The last price of symbol (created, at 0, when create and there is room), or NULL. */
price_t *xc_price_slot(executor_core *x, const char *symbol, bool create);
/* Today's P&L (and, after a fill, the equity row) brought up to date; may trip the kill switch. */
void xc_refresh_pnl(executor_core *x);

#endif
