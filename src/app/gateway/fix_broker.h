/* The FIX 4.4 broker adapter (an initiator on QuickFIX) behind the broker interface.
 *
 * QuickFIX owns the session layer: logon, heartbeats, sequence numbers (its FileStore under
 * the data directory, so a kill -9 keeps them), resend and gap fill. This adapter maps orders
 * to NewOrderSingle / OrderCancelRequest / OrderStatusRequest and ExecutionReports back to
 * broker reports, keeps an order journal of its own (so that a restarted gateway still knows
 * what it sent and never sends a client order id twice) and reconciles open orders after
 * every logon before new orders go out. It carries no market data: ticks come from the feed
 * given in the config (a tick-file replay or the simulator's random walk).
 *
 * The implementation is C++ (fix_broker.cpp, the only C++ in aftm); this header is plain C. */
#ifndef AFTM_FIX_BROKER_H
#define AFTM_FIX_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where ticks come from when the FIX session carries none (optional). */
typedef struct {
    void *ctx;
    int64_t (*due_in_ms)(void *ctx);               /* 0 = now, -1 = no more ticks */
    int (*next)(void *ctx, broker_tick *out);      /* 1 a tick, 0 none due, -1 finished */
} fix_feed;

typedef struct {
    const char *config_path; /* QuickFIX settings plus an [AFTM] section */
    const char *home;        /* data directory: default FileStorePath and the order journal */
    fix_feed feed;           /* feed.next NULL: no ticks */
} fix_broker_config;

/* Reads the settings and starts the initiator (it connects in the background). false with a
 * clear message in err when the settings are unusable. */
bool fix_broker_new(const fix_broker_config *cfg, broker *out, char *err, size_t errlen);

/* The session's state in words: "logged on", "connecting", "logon refused: <reason>",
 * "reconciling", "disconnected: <reason>". */
const char *fix_broker_state(broker *b);

/* Only for the [AFTM] section's parser tests: parse one settings text; false with err. */
bool fix_settings_check(const char *text, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
