/* Starting, watching and stopping aftm's processes: used by 'aftm run' and the menu. */
#ifndef AFTM_SUPERVISOR_H
#define AFTM_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SUP_MAX_ARGS 40

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
    char last_error[160];
} sup_child;

typedef struct {
    sup_child children[4];
    int n;
    bool restart; /* restart crashed children with backoff */
    bool quiet;   /* no lines of its own on stdout */
} supervisor;

void sup_init(supervisor *s);
/* Adds a child running this same binary with argv (copied). */
sup_child *sup_add(supervisor *s, const char *name, const char *const *argv);
bool sup_start(supervisor *s, sup_child *c);
/* Reaps exited children, reports them, and restarts those due. Never blocks. */
void sup_poll(supervisor *s);
/* SIGTERM in reverse start order, then SIGKILL after grace_ms. */
void sup_stop_all(supervisor *s, int grace_ms);
void sup_free(supervisor *s);
const char *child_state_name(child_state st);

/* The path of the running aftm binary. */
const char *sup_self_path(void);

/* False (with a message naming the port) when a TCP endpoint's port cannot be bound. */
bool sup_port_free(const char *endpoint, const char *what, char *err, size_t errlen);

#endif
