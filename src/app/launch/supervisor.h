/* Starting, watching and stopping aftm's processes: used by 'aftm run', the menu and the
 * background session of 'aftm login'. With a database attached it records every process's
 * state in the processes table, so 'aftm status' in any shell can show it. */
#ifndef AFTM_SUPERVISOR_H
#define AFTM_SUPERVISOR_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SUP_MAX_ARGS 40
#define SUP_MAX_ENV 4

typedef enum { CHILD_STOPPED, CHILD_STARTING, CHILD_RUNNING, CHILD_BACKOFF, CHILD_FAILED } child_state;

typedef struct {
    const char *name; /* "gateway", "strategy", "executor" */
    char *argv[SUP_MAX_ARGS];
    int argc;
    pid_t pid;
    child_state state;
    int64_t started_ms, restart_at_ms;
    int restarts;
    int backoff_ms;
    int quick_failures;         /* exits in a row, each soon after its start, with the same error */
    char last_error[160];
    /* Optional, set after sup_add: */
    char *env[SUP_MAX_ENV + 1]; /* NAME=VALUE added to the child's environment (memory only; wiped by sup_free) */
    char log_path[1100];        /* non-empty: the child's stdout and stderr are appended to this file */
    int settle_ms;              /* STARTING until alive this long (0: RUNNING at once) */
    bool wait_ready;            /* STARTING until sup_mark_ready (e.g. after a health check) */
    /* Filled in: */
    double started_wall;        /* wall clock of the last start */
    long long pid_start;        /* the process's start time, see sup_pid_start */
    int exit_code;              /* of the last exit: >= 0 exit status, -N killed by signal N */
} sup_child;

typedef struct {
    sup_child children[4];
    int n;
    bool restart; /* restart crashed children with backoff */
    /* > 0: a child that fails this many times in a row with the same error, each time within
     * SUP_QUICK_MS of its start, is not restarted again (CHILD_FAILED, reason in last_error):
     * a newer schema or a damaged database fails the same way forever. 0: no limit. */
    int give_up_after;
    bool quiet;   /* no lines of its own on stdout */
    sqlite3 *db;  /* non-NULL: state changes are recorded in the processes table */
    char owner[16];
} supervisor;

/* Exit codes after which a child is not restarted: it would only fail the same way. */
#define SUP_EXIT_USAGE 2
#define SUP_EXIT_REFUSED 3 /* e.g. the broker refused the login */
#define SUP_QUICK_MS 10000 /* an exit this soon after the start counts toward give_up_after */

void sup_init(supervisor *s);
/* Adds a child running this same binary with argv (copied). */
sup_child *sup_add(supervisor *s, const char *name, const char *const *argv);
/* Sets NAME=VALUE in the child's environment for its next starts. */
bool sup_setenv(sup_child *c, const char *name, const char *value);
bool sup_start(supervisor *s, sup_child *c);
/* Reaps exited children, reports them, and restarts those due. Never blocks. */
void sup_poll(supervisor *s);
/* STARTING -> RUNNING for a child with wait_ready (it answered its health check). */
void sup_mark_ready(supervisor *s, sup_child *c);
/* SIGTERM in reverse start order, then SIGKILL after grace_ms. */
void sup_stop_all(supervisor *s, int grace_ms);
/* The same for the given children only (in the order given). */
void sup_stop(supervisor *s, sup_child *const *list, int n, int grace_ms);
/* Frees the argument copies and wipes the environment strings. */
void sup_free(supervisor *s);
const char *child_state_name(child_state st);
bool sup_child_alive(const sup_child *c); /* STARTING, RUNNING */

/* Records this supervisor ("supervisor" row, owner e.g. "run", "menu", "login") and, from
 * now on, every child's state in the processes table of db. db stays the caller's. */
void sup_attach_db(supervisor *s, sqlite3 *db, const char *owner);
/* Marks the supervisor row stopped and stops recording. */
void sup_detach_db(supervisor *s);
/* Writes the child's current state to the table now (no-op without a database). */
void sup_record(supervisor *s, const sup_child *c);

/* The path of the running aftm binary. */
const char *sup_self_path(void);

/* The start time of a process (clock ticks since boot, from /proc), 0 if it does not exist. */
long long sup_pid_start(pid_t pid);
/* true when pid is running and, if start != 0, is the process that started at start. */
bool sup_pid_alive(pid_t pid, long long start);

/* False (with a message naming the port) when a TCP endpoint's port cannot be bound. */
bool sup_port_free(const char *endpoint, const char *what, char *err, size_t errlen);

/* Takes <home>/run.lock, which marks the one trading system of a data directory, and writes
 * this pid in it. Returns the fd to keep open while running; -2 when another process holds it
 * (its pid in holder), -1 when the file cannot be opened. */
int sup_take_home_lock(const char *home, char *holder, size_t cap);

/* Waits until the child answers op (e.g. "health_check") with success on endpoint, while it
 * is alive and within timeout_ms; crashes meanwhile are reaped, not restarted. */
bool sup_wait_healthy(supervisor *s, sup_child *c, const char *endpoint, const char *op, int timeout_ms);

#endif
