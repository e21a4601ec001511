/* The account's trading state, stored in aftm.db's meta table so every process agrees on it:
 * active (everything the risk rules allow), reducing ('aftm kill', or the daily loss limit: only
 * orders that reduce a position pass), halted ('aftm kill --halt': nothing is sent but cancels;
 * 'aftm flatten' is the one way out of a position). The meta key "kill_switch" keeps its old
 * meaning (0 off, 1 reducing) and gains 2 (halted), so a database written before this reads the
 * same. 'aftm resume' sets it back to active and re-arms the conditions the switch refused.
 *
 * Not here: what each state lets through (domain/risk.c), who reads it when (the executor polls
 * the database's data_version). */
#ifndef AFTM_TRADING_STATE_H
#define AFTM_TRADING_STATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { TSTATE_ACTIVE = 0, TSTATE_REDUCING = 1, TSTATE_HALTED = 2 } tstate_kind;

typedef struct {
    tstate_kind kind;
    char reason[128];
    double since; /* epoch seconds of the last change, 0 when never changed */
} trading_state;

/* "active", "reducing", "halted". */
const char *tstate_name(tstate_kind k);
/* Reads the stored state; a database without one is active. False on a database error. */
bool tstate_get(sqlite3 *db, trading_state *out);
/* Stores kind with its reason and the time, journaled under source. */
bool tstate_set(sqlite3 *db, tstate_kind kind, const char *reason, const char *source);
/* One line for a person: "halted (since 2025-01-02 09:00:00: why)", "active". */
void tstate_describe(const trading_state *ts, char *out, size_t cap);

/* 'aftm resume': conditions whose entry the kill switch refused (status rejected, note naming
 * the kill_switch rule) are armed again: active, no entry, not triggered. Their refused entry
 * order never left aftm, so its row is kept under a new signal and client order id (suffix
 * "~r<condition id>-<n>") and the condition's next entry can use its own ids again. One
 * transaction; the count in *n. False on a database error (nothing changed). */
bool tstate_rearm_refused(sqlite3 *db, int *n);

#endif
