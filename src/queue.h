#ifndef MAKINI_QUEUE_H
#define MAKINI_QUEUE_H

#include <stdio.h>

#include "config.h"

/*
 * Queue mode: events wait in SPOOL/<type>/new/ and their hooks run from
 * there. A run claims the event with flock() on its file, which dies with
 * the runner (and, since the hook's standard input is that same open file,
 * with the hook), so racing drains never run one event twice at once and a
 * killed runner's event is simply taken up again. Hooks run at least once:
 * an event leaves new/ only after its hook succeeded (to cur/) or failed
 * for the last time (to failed/, with <id>.error beside it). Between
 * attempts new/<id>.state holds the attempt count, the earliest time of
 * the next attempt (exponential backoff from RETRY_DELAY) and the last
 * error.
 */

enum queue_outcome {
	QUEUE_DONE,     /* the hook succeeded, or there was none: now in cur/ */
	QUEUE_RETRY,    /* the hook failed; pending again, with backoff */
	QUEUE_FAILED,   /* the hook failed MAX_ATTEMPTS times: now in failed/ */
	QUEUE_SKIPPED,  /* not due yet, claimed by another runner, or gone */
	QUEUE_ERROR,    /* the spool could not be read or changed */
};

/*
 * Runs the hook of event <id> of <type> if it is due and unclaimed.
 * env_first and env_second are where MAKINI_WEBHOOK_HOOK_ENV's names are
 * looked up.
 */
enum queue_outcome queue_run(const struct config *cfg, const char *type,
			     const char *id, char *const *env_first,
			     char *const *env_second);

struct drain_counts {
	unsigned done, retried, failed, skipped, errors;
};

/*
 * Runs every due pending event of every type, oldest first. Returns 0, or
 * -1 when the spool cannot be read.
 */
int queue_drain(const struct config *cfg, char *const *env,
		struct drain_counts *counts);

/*
 * Prints per type the counts in new/, cur/ and failed/ and the age of the
 * oldest pending event, as text or JSON. Returns 0, or -1 when the spool
 * cannot be read.
 */
int queue_status(const struct config *cfg, int json, FILE *out);

#endif
