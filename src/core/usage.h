/* The one way a command reports bad usage: "aftm CMD: message" and where to read its options,
 * on stderr, returning EXIT_USAGE. */
#ifndef AFTM_USAGE_H
#define AFTM_USAGE_H

__attribute__((format(printf, 2, 3))) int usage_error(const char *command, const char *fmt, ...);

#endif
