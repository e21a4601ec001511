/* Execution reports on aftm's report PUBs (the exchange's market port and the gateway's report
 * port): each "REPORT" message carries one or more reports, one after another, in the order of
 * their sequence numbers: a msgpack stream of maps (broker/broker_pack.h, net/gw_pack.h), or one
 * JSON object from a publisher that speaks JSON. The reports committed together leave together:
 * over CURVE every message is sealed and opened on its own, and a burst of orders brings two
 * reports each.
 *
 * The publishing side collects reports and sends them at flush; the reading side walks the
 * reports of one message. Neither reads a report's fields. */
#ifndef AFTM_REPORT_BATCH_H
#define AFTM_REPORT_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#define REPORT_TOPIC "REPORT"
#define REPORT_BATCH_MAX (8 * 1024) /* bytes of one message's reports, at most (a larger report goes alone) */
#define REPORT_MSG_MAX (REPORT_BATCH_MAX + 8192) /* a reader's buffer for one message's body */

typedef struct {
    char *buf;
    size_t len, cap;
    size_t count;      /* reports waiting */
    unsigned long long sent; /* reports sent since the start */
} report_batch;

void report_batch_init(report_batch *b);
void report_batch_free(report_batch *b);
/* Adds one report (its whole encoding); sends what waits first when it would pass
 * REPORT_BATCH_MAX. False when the report could not be queued (out of memory, or the PUB
 * refused the message). */
bool report_batch_add(report_batch *b, void *pub, const void *report, size_t len);
/* Sends what waits as one message on pub (nothing when nothing waits). False when the PUB
 * refused it: those reports are dropped, as a PUB drops (the readers fetch a gap by number). */
bool report_batch_flush(report_batch *b, void *pub);

/* Calls each(ctx, report, len) for every report of one message's body, in order. A body that
 * does not start with a msgpack map is one report (JSON). Returns the number of reports
 * passed; *bad is set when the body ended in bytes that are no whole msgpack value (the
 * reports before them were passed). */
size_t report_batch_each(const char *body, size_t len, void (*each)(void *ctx, const char *report, size_t len),
                         void *ctx, bool *bad);

#endif
