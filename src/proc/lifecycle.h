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

#endif
