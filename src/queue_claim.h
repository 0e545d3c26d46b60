/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_CLAIM_H
#define MAKINI_QUEUE_CLAIM_H

#include <limits.h>
#include <time.h>

#include "id.h"
#include "spool_type.h"

/*
 * Claims on queued events, the maildir way. A runner claims pending event
 * new/<id>.json by renaming it to new/<id>.json.claim.<host>.<pid>.<random>,
 * a name only it uses, so that of racing runners, on one host or on several
 * sharing the spool, exactly one wins. While the hook runs the runner
 * touches its claim (claim_touch, the heartbeat). A claim whose time is
 * older than CLAIM_TIMEOUT by the file system's own clock (claim_clock)
 * is dead: its runner stopped. Only renames and file times are used, so
 * claims hold on NFS and GlusterFS as on a local disk.
 */

#define CLAIM_MARK ".json.claim."
#define CLAIM_HOST_MAX 64

/* An event claimed by this process. */
struct claim {
	const struct spool_type *t;
	char id[ID_LEN_MAX + 1];
	char json[NAME_MAX + 1];  /* <id>.json, its pending name */
	char name[NAME_MAX + 1];  /* <id>.json.claim.<host>.<pid>.<random> */
	int lost;                 /* the heartbeat found it taken over */
};

/* This host's name as claims and slots carry it: file-name-safe. */
void claim_host(char out[CLAIM_HOST_MAX + 1]);

/*
 * Claims pending event id of type t: touched first, so that a claim is
 * never seen with the stale time of an old event, then renamed. Returns 0
 * when claimed, 1 when another runner has it (or it is gone), -1 with
 * errno set on an error.
 */
int claim_take(const struct spool_type *t, const char *id, struct claim *c);

/*
 * Takes over claim name of another runner (a dead one): renamed to a
 * claim of ours, so that of several runners finding it, one has it.
 * Fills c and returns 0, or returns -1.
 */
int claim_take_over(const struct spool_type *t, const char *name,
		    struct claim *c);

/* Returns the claimed event to pending, as <id>.json; logs a failure. */
int claim_release(struct claim *c);

/*
 * The heartbeat, a hook_call's: touches the claim. Returns 0, or -1 with
 * c->lost set when the claim is gone (taken over by another runner).
 */
int claim_touch(void *c);

/* Moves the claimed event to to_dir (cur/ or failed/) as <id>.json. */
int claim_finish(struct claim *c, int to_dir);

/*
 * The file system's clock, as heartbeats write it: the time a touch puts
 * on a file of our own in t's tmp/. Returns 0, or -1 with errno set.
 */
int claim_clock(const struct spool_type *t, struct timespec *now);

/*
 * The age in whole seconds of claim name by the clock now, or -1 when it
 * is gone.
 */
long long claim_age(const struct spool_type *t, const char *name,
		    const struct timespec *now);

#endif
