/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_RECORD_H
#define MAKINI_QUEUE_RECORD_H

#include <stddef.h>

#include "hook.h"

/*
 * The record of an event's failed attempts: new/<id>.state while it waits
 * for its next try, failed/<id>.error once it has failed for good. Both
 * hold lines "KEY VALUE": "attempts N", "next T" (the state alone: the
 * earliest next try, in seconds since the epoch), "error TEXT" (why the
 * last attempt failed), then up to HOOK_TAIL_LINES lines "output TEXT",
 * the last lines the hook printed in that attempt. The drain writes them,
 * and status, retry and the failure hook read them.
 */

#define RECORD_ERROR_MAX 200

struct queue_record {
	unsigned attempts;
	long long next;                       /* 0: due now */
	char error[RECORD_ERROR_MAX + 1];
	char output[HOOK_TAIL_MAX];           /* lines, each ending '\n' */
	int has_attempts, has_next, has_error; /* the keys found */
};

/*
 * Reads record name from directory dir_fd into r. Returns 0; 1 when there
 * is none (a first attempt); -1 with errno set when it cannot be read, and
 * EBADMSG when its attempts are missing or not digits, so that a damaged
 * record is never taken for a fresh start.
 */
int record_read(int dir_fd, const char *name, struct queue_record *r);

/*
 * Writes r as record name in dir_fd, replacing any, synced when durable:
 * "next" only when with_next is set. Returns 0, or -1 with errno set.
 */
int record_write(int dir_fd, const char *name, const struct queue_record *r,
		 int with_next, int durable);

#endif
