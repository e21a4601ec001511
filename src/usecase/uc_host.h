/* The supervisor of a logged-in session: it owns the gateway (the broker session) and, once
 * trading starts, the strategy and the executor. The menu runs one in its own process; 'aftm
 * login' runs one in the background ('aftm session-host'). Either records every process in the
 * processes table and serves the requests other shells post (aftm stop, aftm logout, aftm
 * start). The password lives only in its memory and in the gateway's environment. */
#ifndef AFTM_UC_HOST_H
#define AFTM_UC_HOST_H

#include "usecase/uc.h"

typedef struct uc_host uc_host;

#define UC_HOST_SETTLE_MS 1000 /* strategy and executor count as running after this long alive */
#define UC_HOST_LOGIN_WAIT_MS 15000

/* owner: "menu" or "login" (recorded in the processes table). */
uc_host *uc_host_new(uc_ctx *c, const char *owner);
/* Stops whatever it still runs (once) and frees it. */
void uc_host_free(uc_host *h);

/* Starts the gateway logged in as account, waits for its health check. */
bool uc_host_login(uc_host *h, const char *account, const char *password, uc_result *r);
bool uc_host_start_trading(uc_host *h, uc_prereqs *p, uc_start_report *rep, uc_result *r);
/* Stops strategy and executor; returns false when they were not running. */
bool uc_host_stop_trading(uc_host *h);
/* Stops everything, forgets the password; logout: also marks the session logged out. */
void uc_host_stop_all(uc_host *h, bool logout);

bool uc_host_gateway_alive(const uc_host *h);
bool uc_host_trading(const uc_host *h);
bool uc_host_owns_anything(const uc_host *h);

/* Supervises: restarts crashes, promotes processes that answered, serves requests from other
 * shells, renews the session while trading, ends an expired one. Cheap; call every ~250 ms. */
void uc_host_poll(uc_host *h);
/* Takes the messages queued for the user since the last call; returns how many. */
int uc_host_notices(uc_host *h, char (*out)[320], int cap);

/* 'aftm login' from a shell: starts 'aftm session-host' in the background (its own session,
 * output to <home>/logs/session.log) with the password in its environment, and waits for its
 * answer. */
bool uc_host_spawn_login(uc_ctx *c, const char *account, const char *password, uc_result *r);
/* The body of 'aftm session-host': logs in, reports on status_fd, supervises until logout,
 * 'aftm stop --all' or SIGTERM. Returns the exit code. */
int uc_host_daemon(uc_ctx *c, const char *account, int status_fd);

#endif
