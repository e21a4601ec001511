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

#define CLOCK_ISO_MAX 40
/* POSIX seconds as ISO 8601 in the local time zone with its offset and microseconds, e.g.
 * "2026-12-01T12:34:56.250000+08:00": the one way aftm's --json output writes a time. "" for
 * t <= 0 (no time). Strings of one machine compare in time order. */
void clock_iso8601(double t, char out[CLOCK_ISO_MAX]);

#endif
