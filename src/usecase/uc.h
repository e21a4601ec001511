/* The use cases of the trader's session, shared by the interactive menu and the subcommands:
 * login/logout, items, order accounts, manual orders, futures, positions, conditions, and the
 * trading system (start, stop, status). They print nothing: each returns a uc_result (what went
 * wrong and what is allowed) and data; the menu and the subcommands present them (uc_view.h). */
#ifndef AFTM_UC_H
#define AFTM_UC_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "net/gateway_client.h"
#include "store/condition_store.h"
#include "store/session_store.h"

typedef enum {
    UC_OK = 0,
    UC_BAD_INPUT,     /* the user's input is wrong: exit code 2 */
    UC_NOT_LOGGED_IN, /* log in first */
    UC_EXPIRED,       /* the session expired: log in again */
    UC_PRECONDITION,  /* something else must be done first (item, account, ...) */
    UC_FAILED,        /* at run time: the broker refused, the gateway is down, ... */
} uc_status;

typedef struct {
    uc_status st;
    char msg[768];
} uc_result;

/* Who presents the results: the hints name menu options or subcommands. */
typedef enum { UC_FACE_MENU, UC_FACE_CLI, UC_FACE_DAEMON } uc_face;

typedef enum {
    HINT_LOGIN,
    HINT_LOGOUT,
    HINT_ITEM,
    HINT_CONDITION,
    HINT_ACCOUNT,
    HINT_START,
    HINT_STATUS,
    HINT_STOP,
    HINT_FUTURES,
} uc_hint_id;

/* How the simulated exchange's market is made when the gateway starts (login). */
typedef struct {
    const char *seed, *rate, *ticks, *speed, *symbol; /* NULL = the gateway's default */
} uc_sim_opts;

struct uc_host;

typedef struct uc_ctx {
    uc_face face;
    char home[AFTM_PATH_MAX];
    sqlite3 *db;
    condition_store *cs;
    endpoints ep;
    void *zctx;          /* created on first use */
    gateway_client *gw;  /* created on first use */
    struct uc_host *host; /* the supervisor this process runs (the menu), or NULL */
    uc_sim_opts sim;
} uc_ctx;

#define UC_GATEWAY_TIMEOUT_MS 3000
#define UC_ACCOUNT_MIN 10 /* the simulator's login id A123456789 has 10 characters */
#define UC_ACCOUNT_MAX 80
#define UC_PASSWORD_MIN 5
#define UC_PASSWORD_MAX 200
#define UC_MAX_ORDER_QTY 1000

/* Opens the data directory's database. false with err. */
bool uc_open(uc_ctx *c, uc_face face, const char *home_flag, char *err, size_t errlen);
void uc_close(uc_ctx *c);

const char *uc_hint(const uc_ctx *c, uc_hint_id h);
void uc_set(uc_result *r, uc_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void uc_ok(uc_result *r) { r->st = UC_OK, r->msg[0] = '\0'; }

/* ---- session ---- */

/* Loads the session; UC_OK when logged in and not expired (and renews it), else
 * UC_NOT_LOGGED_IN / UC_EXPIRED with a message naming how to log in. */
bool uc_require_session(uc_ctx *c, session_info *s, uc_result *r);
/* Validation as the original: "Account: min length is 10" etc., one line per field. */
bool uc_validate_login(const char *account, const char *password, uc_result *r);
/* Logs in: starts the gateway (the broker session) in the background with the password handed
 * over in its environment, waits for its health check, then records the session. kept: the
 * same account's order account and items were kept. */
bool uc_login(uc_ctx *c, const char *account, const char *password, bool *kept, uc_result *r);
/* Stops the trading system and the gateway, then marks the session logged out. When trading
 * runs and stop_trading is false, refuses with UC_PRECONDITION (ask the user first). */
bool uc_logout(uc_ctx *c, bool stop_trading, uc_result *r);

/* ---- the broker, through the running gateway ---- */

/* Calls the gateway; returns the reply's "data" (caller decrefs) or NULL with r set. */
json_t *uc_gateway(uc_ctx *c, const char *op, json_t *params, uc_result *r);
/* Products whose code starts with filter (case-insensitive; "" = all): a JSON array of
 * {code, name, delivery_month, market, reference_price, max_price, min_price}. */
json_t *uc_futures(uc_ctx *c, const char *filter, uc_result *r);
bool uc_register_item(uc_ctx *c, const char *code, char *name_out, size_t name_cap, uc_result *r);
/* The broker's order accounts: a JSON array of strings. */
json_t *uc_accounts(uc_ctx *c, uc_result *r);
/* Selects account number n (1-based, as listed by uc_accounts); number is the user's text. */
bool uc_select_account(uc_ctx *c, const char *number, char *account_out, size_t cap, uc_result *r);

typedef struct {
    char client_order_id[64];
    char order_serial[64];
    char account[64], symbol[32];
    bool buy;
    int64_t qty, filled_qty;
    double avg_price;
    char status[24];
    char reason[160];
    int64_t limit_price; /* a limit order's price; 0: market */
    bool rests;          /* a limit that rests (ROD) until filled or cancelled; else IOC */
    bool via_executor; /* placed by the executor (in aftm's books, marked manual) */
    bool refused;      /* the executor's risk rules refused it (reason says which) */
} uc_order;
/* A market order (IOC) for the session's order account; symbol NULL = the current item.
 * Placed by the running executor (store/manual_requests.h: stored, risk rules, marked manual);
 * when no executor takes it within a moment, sent straight to the gateway, and booked as an
 * external order when an executor next reads the broker's reports. Waits up to wait_ms for its
 * fill. */
bool uc_send_market_order(uc_ctx *c, bool buy, const char *qty_text, const char *symbol, int wait_ms, uc_order *out,
                          uc_result *r);
/* The same, or a limit order when limit_text is a price (NULL or empty: market): the exchange
 * fills it only when the price crosses it; rests: it waits there (ROD) until filled or
 * cancelled ('aftm order cancel'), else what is not filled at once expires (IOC). A limit price
 * that is not a positive whole number of points is bad input. */
bool uc_send_order(uc_ctx *c, bool buy, const char *qty_text, const char *symbol, const char *limit_text, bool rests,
                   int wait_ms, uc_order *out, uc_result *r);
/* The broker's positions of the session's order account (product "" = all): JSON array of
 * the gateway's position objects. */
json_t *uc_broker_positions(uc_ctx *c, const char *product, char *account_out, size_t cap, uc_result *r);

/* ---- conditions ---- */

typedef struct {
    const char *side;     /* b/s/buy/sell */
    const char *trigger, *turning, *qty;
    const char *tp, *sl;  /* NULL or "" = defaults */
    bool following;
    bool repeat;          /* armed again after each exit */
    const char *symbol;   /* NULL = the registered item */
} uc_condition_input;

/* Each field checked by itself; the message names the field and what is allowed. */
bool uc_check_side(const char *text, bool *buy, uc_result *r);
bool uc_check_positive(const char *field, const char *text, int64_t max, int64_t *out, uc_result *r);
/* Validates and stores a condition; a missing symbol takes default_symbol. No session needed
 * (scripts and imports); uc_condition_add is the session's version (default: the item). */
bool uc_condition_create(uc_ctx *c, const uc_condition_input *in, const char *default_symbol, condition_record *out,
                         uc_result *r);
bool uc_condition_add(uc_ctx *c, const uc_condition_input *in, condition_record *out, uc_result *r);
bool uc_condition_cancel(uc_ctx *c, const char *id_text, int64_t *id_out, uc_result *r);
/* true when the condition holds lots (its entry filled, its exit not done): cancelling it would
 * leave them open with no take profit or stop loss. qty: the lots it holds. */
bool uc_condition_holding(const condition_record *r, int64_t *qty);
/* "long 2 TXFF5 (condition 3, entry at 20010)" */
void uc_condition_position_text(const condition_record *r, char *out, size_t cap);

/* What removing a condition that holds a position does with the position. */
typedef enum {
    UC_RM_REFUSE,  /* nothing: UC_BAD_INPUT naming the position, the condition stays */
    UC_RM_KEEP,    /* cancel; the lots stay open, unmanaged */
    UC_RM_FLATTEN, /* cancel, then close the lots at market (the manual order path) */
} uc_rm_position;
/* Cancels a condition; one that holds a position is handled as what says. flattened: set when
 * a closing order was sent (its outcome in *flat). held: the position text ("" when none). */
bool uc_condition_remove(uc_ctx *c, const char *id_text, uc_rm_position what, int64_t *id_out, bool *flattened,
                         uc_order *flat, char *held, size_t held_cap, uc_result *r);
/* Visits conditions (active only unless all); returns the count or -1. */
int uc_conditions(uc_ctx *c, bool all, cstore_row_fn fn, void *ctx);
const char *uc_condition_stage(const condition_record *r);

/* ---- the trading system ---- */

typedef struct {
    bool logged_in, item_registered, account_selected, has_conditions;
    int n_conditions;
} uc_prereqs;
void uc_check_prereqs(uc_ctx *c, uc_prereqs *p);
/* true (with r set) when the prerequisites refuse a start: not logged in, or no item, account
 * or condition. */
bool uc_start_refused(const uc_ctx *c, const uc_prereqs *p, uc_result *r);

typedef struct {
    char name[16];
    char state[16];      /* running, starting, restarting, crashed, stopped */
    int pid;
    double uptime_s;     /* while running */
    int restarts;
    char last_error[160];
    char owner[16];
} uc_proc;

typedef struct {
    session_info session;
    session_state sstate;
    char items[SESSION_MAX_ITEMS][SESSION_ITEM_MAX];
    int n_items;
    uc_proc procs[4]; /* gateway, executor, strategy, supervisor */
    int n_procs;
    uc_proc exchange;    /* the simulated exchange: the market and the account's book */
    bool has_exchange;   /* its row exists (no exchange with --broker fix) */
    /* the executor's trading state (active, reducing, halted) with its reason; "" while
     * nothing records one */
    char trading_state[16];
    char trading_state_reason[160];
    double trading_state_since; /* epoch seconds of its last change, 0 when never changed */
    char supervisor[96]; /* "the menu (pid N)" / "aftm login (pid N)" / "aftm run (pid N)" / "" */
    bool trading;        /* strategy and executor running */
    bool gateway_up;
    int n_conditions, n_orders, n_fills;
    /* aftm's books: open positions, realized P&L and unrealized P&L marked at the last price the
     * executor stored (points x lots, all products summed) */
    int open_positions;
    long long realized_pnl, unrealized_pnl;
    struct {
        char symbol[32], side[8];
        int64_t qty, price;
        double time;
    } fills[5]; /* newest first */
    int n_recent;
} uc_system_status;
void uc_read_status(uc_ctx *c, uc_system_status *out);

typedef struct {
    bool ok;
    bool already_running;
    uc_proc gateway, strategy, executor;
    char error[640];
} uc_start_report;
/* Option 10: checks the prerequisites (UC_PRECONDITION when one is missing, *p filled), then
 * starts strategy and executor next to the running gateway and reports each one's state. */
bool uc_start_trading(uc_ctx *c, uc_prereqs *p, uc_start_report *rep, uc_result *r);
/* Prints aftm's open positions (its books) after head, one indented line each; returns how
 * many (0: nothing printed). A start lists them first; a stop that leaves them asks. */
int uc_print_open_positions(uc_ctx *c, FILE *out, const char *head);
/* Stops strategy and executor (all: the gateway too, which ends the broker session). */
bool uc_stop_trading(uc_ctx *c, bool all, uc_result *r);
bool uc_trading_running(uc_ctx *c);

/* What the trading system did since the menu last looked: fills (an entry's or an exit's),
 * signals the executor refused and exits it skipped, the kill switch. The menu prints them as
 * they happen; the cursor is where it stopped reading (fills rowid, journal id). */
typedef enum { UC_NEWS_FILL, UC_NEWS_EXIT_FILL, UC_NEWS_REFUSED, UC_NEWS_EXIT_SKIPPED, UC_NEWS_KILL_SWITCH } uc_news_kind;
typedef struct {
    uc_news_kind kind;
    char symbol[32], side[8], client_order_id[64];
    long long qty, price, condition_id;
    char detail[256]; /* the reason of a refusal, a skipped exit or the kill switch */
} uc_news;
typedef struct {
    long long fill, journal; /* -1 = not started */
} uc_news_cursor;
typedef void (*uc_news_fn)(void *ctx, const uc_news *n);
/* Visits what was recorded after *cur (first call with -1s: only remembers where the tables
 * end now) and moves *cur on. Returns how many were visited. */
int uc_news_since(uc_ctx *c, uc_news_cursor *cur, uc_news_fn fn, void *ctx);

#endif
