/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_ADMIN_H
#define MAKINI_QUEUE_ADMIN_H

#include <stdio.h>
#include <time.h>

#include "config.h"

/*
 * The operators' view of the queue: status, retry and replay. They reach
 * the spool only through the spool layer's directory descriptors.
 */

/*
 * Counts the events in directory dir_fd (none when it is -1): with
 * running set, the claims there too, into *running; with oldest set, the
 * receive time of the oldest event, into *oldest when older than what it
 * holds (0 for nothing yet). For status and for the metrics.
 */
long queue_count(int dir_fd, long *running, time_t *oldest);

/*
 * Prints per type the counts in new/ (pending and running), cur/ and
 * failed/ and the date and age of the oldest pending event, as text or
 * JSON. Returns 0, or -1 with errno set when the spool cannot be read.
 */
int queue_status(const struct config *cfg, int json, FILE *out);

/*
 * retry: moves failed events back to pending with their error and state
 * cleared: all of them (what NULL), the one with id what, or those of type
 * what. replay: moves the finished event (in cur/) with id what back to
 * pending. Both return how many moved, or -1 with errno set.
 */
long queue_retry(const struct config *cfg, const char *what);
long queue_replay(const struct config *cfg, const char *what);

#endif
