/* The exit codes every aftm command and process uses. */
#ifndef AFTM_EXIT_CODES_H
#define AFTM_EXIT_CODES_H

#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 3 /* the gateway: the broker refused the login (not restarted) */

#endif
