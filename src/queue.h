#ifndef MAKINI_QUEUE_H
#define MAKINI_QUEUE_H

#include <stdio.h>

#include "config.h"

/*
 * Queue mode: events wait in SPOOL/<type>/new/<id>.json and their hooks
 * run from there, at least once each.
 *
 * A runner claims an event the maildir way: it renames <id>.json to
 * <id>.json.claim.<host>.<pid>.<random>, a name only it uses, so of racing
 * runners, on one host or on several sharing the spool, exactly one wins.
 * While the hook runs the runner touches its claim (a heartbeat). Any
 * runner returns a claim whose heartbeat is older than CLAIM_TIMEOUT, as
 * the file system's own clock tells, to the pending events: its runner
 * died. An event leaves new/ only after its hook succeeded (to cur/) or
 * failed for the last time (to failed/, with <id>.error beside it).
 * Between attempts new/<id>.state holds the attempt count, the earliest
 * time of the next attempt (exponential backoff from RETRY_DELAY) and the
 * last error. Every operation works relative to the type's directory
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
 * alone when it is not NULL. Claims found dead are returned first (counted
 * in returned). env_first and env_second are where MAKINI_WEBHOOK_HOOK_ENV's
 * names are looked up. Returns 0, or -1 with errno set when the spool
 * cannot be read.
 */
int queue_drain(const struct config *cfg, const char *type,
		char *const *env_first, char *const *env_second,
		struct drain_counts *counts);

/*
 * Prints per type the counts in new/ (pending and running), cur/ and
 * failed/ and the date and age of the oldest pending event, as text or
 * JSON. Returns 0, or -1 with errno set when the spool cannot be read.
 */
int queue_status(const struct config *cfg, int json, FILE *out);

#define QUEUE_SLOTS_MAX 64

/*
 * Locks one of n slots named <what>@<host>.<i> in SPOOL/.locks/, so that
 * at most n holders of one name run at once on this host, whichever
 * process they are (workers, CGI processes, drains). With wait set it
 * waits until a slot is free; else it fails with EWOULDBLOCK when none
 * is. The lock is an flock, which dies with its holder. Returns the
 * locked descriptor, which the caller closes to release it, or -1.
 */
int queue_lock_slot(const struct config *cfg, const char *what, unsigned n,
		    int wait);

/*
 * retry: moves failed events back to pending with their error and state
 * cleared: all of them (what NULL), the one with id what, or those of type
 * what. replay: moves the finished event (in cur/) with id what back to
 * pending. Both return how many moved, or -1 with errno set.
 */
long queue_retry(const struct config *cfg, const char *what);
long queue_replay(const struct config *cfg, const char *what);

#endif
