/* Time helpers: wall clock for wire timestamps, monotonic for intervals. */
#ifndef AFTM_CLOCK_H
#define AFTM_CLOCK_H

#include <stdint.h>

double clock_wall_s(void);     /* POSIX seconds, CLOCK_REALTIME, microsecond resolution */
int64_t clock_wall_us(void);   /* POSIX microseconds */
int64_t clock_mono_ns(void);   /* CLOCK_MONOTONIC nanoseconds */
int64_t clock_mono_ms(void);
/* Sleeps ms milliseconds (a signal may cut it short); for polling loops in the CLI, never in a
 * process loop, which waits in zmq_poll instead. */
void clock_sleep_ms(int ms);

#endif
