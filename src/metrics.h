/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_METRICS_H
#define MAKINI_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "event.h"

/*
 * The counters behind the metrics verb, kept in a small file per host,
 * /dev/shm/makini-webhook.metrics.<dev>.<ino>/<host>.counters (the spool's
 * device and inode), that every process of that host maps
 * once (MAP_SHARED) and updates with atomic adds: CGI processes, FastCGI
 * workers, runners and drains all add to the same words, so counts
 * survive the short life of each process, and concurrent adds lose
 * nothing. A file is created whole (written in full, synced, then linked
 * into its name), so a mapping never reaches past its end and a full
 * disk never faults an add. Once mapped, counting costs no system call.
 *
 * The counters live in memory, so they start again from zero when the
 * host restarts, as a daemon's would: Prometheus's rate() and increase()
 * take such a reset in their stride.
 *
 * Counting never fails a request or a hook: a counter file that cannot
 * be made or mapped is logged once, and its counts are dropped.
 */

#define METRICS_DIR "/dev/shm/makini-webhook.metrics"
#define METRICS_SUFFIX ".counters"
#define METRICS_TYPES_MAX 128
#define METRICS_BUCKETS 10 /* hook duration buckets, +Inf apart */

/* The answers counted, in this order; every other status is "other". */
#define METRICS_STATUSES 12
extern const unsigned metrics_statuses[METRICS_STATUSES];

/* A hook run's outcome as the queue recorded it. */
enum metrics_outcome {
	METRICS_DONE,   /* succeeded: the event moved to cur/ */
	METRICS_RETRY,  /* failed: pending again, with backoff */
	METRICS_FAILED, /* failed for good: the event moved to failed/ */
	METRICS_OUTCOMES,
};
extern const char *const metrics_outcome_names[METRICS_OUTCOMES];

/* Upper bounds of the duration buckets, in microseconds. */
extern const uint64_t metrics_bucket_us[METRICS_BUCKETS];

struct metrics_type {
	uint32_t ready; /* set, with release, once name is written */
	char name[ENTITY_MAX + 1];
	uint64_t runs[METRICS_OUTCOMES];
	uint64_t bucket[METRICS_BUCKETS]; /* runs up to each bound, apart */
	uint64_t duration_us;             /* sum of all runs' durations */
	uint64_t returned;                /* claims returned from dead runners */
	uint64_t failure_hook[2];         /* failure hook runs: ok, failed */
};

struct metrics_file {
	char magic[16];
	uint64_t requests[METRICS_STATUSES + 1]; /* the last: other */
	struct metrics_type types[METRICS_TYPES_MAX];
};

/*
 * Counts one answered request with status, on this host: every request but
 * the health checks (GET and HEAD).
 */
void metrics_count_request(const struct config *cfg, unsigned status);

/* Counts one hook run of type with its outcome and duration. */
void metrics_count_hook(const struct config *cfg, const char *type,
			enum metrics_outcome outcome, long long duration_us);

/* Counts one claim of type returned from a dead runner. */
void metrics_count_returned(const struct config *cfg, const char *type);

/* Counts one run of the failure hook for an event of type. */
void metrics_count_failure_hook(const struct config *cfg, const char *type,
				int ok);

/*
 * Calls fn for each host's counter file of spool, mapped
 * read-only, with the host's name. Returns 0 (also when there is none),
 * or -1 with errno set when the directory cannot be read.
 */
int metrics_each_file(const char *spool,
		      void (*fn)(const char *host,
				 const struct metrics_file *m, void *ctx),
		      void *ctx);

/*
 * Prints the metrics in Prometheus's text format: the queue's gauges,
 * read from the spool now, and every host's counters. Returns 0, or -1
 * with errno set.
 */
int metrics_print(const struct config *cfg, FILE *out);

/*
 * metrics_print() into file, atomically: written under a temporary name
 * in the same directory, synced, then renamed over file, so that
 * node_exporter's textfile collector never reads half a file. Returns 0,
 * or -1 with errno set and nothing left behind.
 */
int metrics_output(const struct config *cfg, const char *file);

#endif
