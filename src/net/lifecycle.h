/* Process lifecycle shared by every long-running role: stop on SIGINT/SIGTERM. */
#ifndef AFTM_LIFECYCLE_H
#define AFTM_LIFECYCLE_H

#include <signal.h>
#include <stdbool.h>

/* Installs SIGINT/SIGTERM handlers (without SA_RESTART, so blocking calls return EINTR)
 * and ignores SIGPIPE. */
void lifecycle_install(void);
bool lifecycle_stopping(void);
void lifecycle_request_stop(void);

/* As lifecycle_install, and the handler also writes the signal number to a pipe whose read
 * end is returned (-1 if it cannot be made): a loop polling it wakes at once on a signal. */
int lifecycle_install_wakeup(void);
/* Reads the signal number waiting in the pipe (0 if none). */
int lifecycle_take_signal(void);
/* Puts back the handlers found before lifecycle_install_wakeup and closes the pipe. */
void lifecycle_restore(void);

#endif
