#include "core/clock.h"

#include <stdio.h>
#include <string.h>

#include <time.h>

double clock_wall_s(void) { return (double)clock_wall_us() / 1e6; }

int64_t clock_wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_ms(void) { return clock_mono_ns() / 1000000; }

void clock_sleep_ms(int ms) {
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void clock_iso8601(double t, char out[CLOCK_ISO_MAX]) {
    out[0] = '\0';
    if (!(t > 0) || t > 253402300799.0) return; /* not a time, or past year 9999 */
    time_t whole = (time_t)t;
    long us = (long)((t - (double)whole) * 1e6 + 0.5);
    if (us >= 1000000) {
        whole++;
        us -= 1000000;
    }
    struct tm tm;
    if (!localtime_r(&whole, &tm)) return;
    char date[24], zone[8];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof zone, "%z", &tm); /* +0800 */
    int frac = (int)(us < 0 ? 0 : us > 999999 ? 999999 : us);
    snprintf(out, CLOCK_ISO_MAX, "%.19s.%06d%.3s:%.2s", date, frac, zone, strlen(zone) >= 5 ? zone + 3 : "00");
}
