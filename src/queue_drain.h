/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_DRAIN_H
#define MAKINI_QUEUE_DRAIN_H

#include "config.h"

/*
 * Queue mode: events wait in SPOOL/<type>/new/<id>.json and their hooks run
 * from there, at least once each.
 *
 * The queue's files: queue_drain.c runs the due events, one drain pass at
 * a time (a drain verb, or a runner); queue_claim.c claims an event and
 * keeps its claim fresh; queue_slot.c bounds hooks and runners per host;
 * queue_runner.c starts the detached runner after an answer;
 * queue_admin.c holds the operators' verbs: status, retry and replay.
 *
 * A drain pass claims each event before its hook runs (queue_claim.h),
 * holds one of HOOK_CONCURRENCY slots of the hook meanwhile
 * (queue_slot.h), and returns claims whose runner died to the pending
 * events. An event leaves new/ only after its hook succeeded (to cur/) or
 * failed for the last time (to failed/, with <id>.error beside it).
 * Between attempts new/<id>.state holds the attempt count, the earliest
 * time of the next attempt (exponential backoff from RETRY_DELAY), the
 * last error and the hook's last lines of output (queue_record.h). Every operation works relative to the type's directory
 * descriptors (spool_type_open), never by path.
 */

enum queue_outcome {
	QUEUE_DONE,     /* the hook succeeded, or there was none: now in cur/ */
	QUEUE_RETRY,    /* the hook failed; pending again, with backoff */
	QUEUE_FAILED,   /* the hook failed MAX_ATTEMPTS times: now in failed/ */
	QUEUE_NOT_DUE,  /* its backoff has not passed yet */
	QUEUE_BUSY,     /* claimed by another runner, or gone */
	QUEUE_ERROR,    /* the spool could not be read or changed, or HOOKS */
};

struct drain_counts {
	unsigned done, retried, failed, not_due, busy, returned, errors;
	long long next_due; /* earliest next attempt of those not due, or 0 */
};

/*
 * Runs every due pending event, oldest first: of every type, or of type
 * alone when it is not NULL; with now set, every pending event, whatever
 * its backoff (its attempts still count). Claims found dead are returned first (counted
 * in returned). env_first and env_second are where MAKINI_WEBHOOK_HOOK_ENV's
 * names are looked up. Returns 0, or -1 with errno set when the spool
 * cannot be read.
 */
int queue_drain(const struct config *cfg, const char *type, int now,
		char *const *env_first, char *const *env_second,
		struct drain_counts *counts);

#endif
