/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_STATUS_H
#define MAKINI_QUEUE_STATUS_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "spool_type.h"

/*
 * The operators' view of the queue, for people, cron and monitoring
 * checks: the status verb, and the counting the metrics share. It reads
 * the spool only through the spool layer's directory descriptors.
 */

/*
 * Counts the events in directory dir_fd (none when it is -1): with
 * running set, the claims there too, into *running; with oldest set, the
 * receive time of the oldest event, into *oldest when older than what it
 * holds (0 for nothing yet). For status and for the metrics.
 */
long queue_count(int dir_fd, long *running, time_t *oldest);

/* One type's queue as the spool shows it now: status's line, a metric's. */
struct queue_type_counts {
	char type[ENTITY_MAX + 1];
	long pending, running, cur, failed;
	time_t oldest; /* the oldest pending event's receive time, or 0 */
};

/* Counts the queue of type, whose directories t holds open. */
void queue_type_count(const char *type, const struct spool_type *t,
		      struct queue_type_counts *c);

/*
 * Prints, as text or JSON: the version; per type the counts in new/
 * (pending and running), cur/ and failed/ and the date and age of the
 * oldest pending event; each event that has failed an attempt, with its
 * attempts, next try, last error and the hook's last lines of output;
 * and what needs attention: an event failed for good, or a pending event
 * older than OVERDUE_AGE. Returns 0 when nothing needs attention, 1 when
 * something does, or -1 with errno set when the spool cannot be read.
 */
int queue_status(const struct config *cfg, int json, FILE *out);

#endif
