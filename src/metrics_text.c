/* See LICENSE file for copyright and license details. */
/*
 * The metrics verb: the queue read now and the hosts' counters, in
 * Prometheus's text exposition format, to standard output or atomically
 * into node_exporter's textfile directory.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "id.h"
#include "io.h"
#include "queue_status.h"
#include "spool_rename.h"
#include "spool_type.h"

#ifndef MAKINI_VERSION
#define MAKINI_VERSION "unknown"
#endif

#define P "makini_webhook_"

struct view {
	struct queue_type_counts *types;
	size_t n, cap;
	int failed_types; /* types that could not be opened safely */
};

static int
add_type(const char *type, struct spool_type *t, void *ctx)
{
	struct view *v = ctx;

	if (!t) {
		v->failed_types++;
		return 0;
	}
	if (v->n == v->cap) {
		struct queue_type_counts *grown;

		v->cap = v->cap ? 2 * v->cap : 16;
		grown = realloc(v->types, v->cap * sizeof(*grown));
		if (!grown)
			return -1;
		v->types = grown;
	}
	queue_type_count(type, t, &v->types[v->n++]);
	return 0;
}

static void
header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help,
		name, type);
}

/* The per-type counters of every host, added up by type. */
struct totals {
	struct metrics_type types[METRICS_TYPES_MAX];
	size_t n;
};

static void
add_host_types(const char *host, const struct metrics_file *m, void *ctx)
{
	struct totals *tt = ctx;

	(void)host;
	for (size_t i = 0; i < METRICS_TYPES_MAX; i++) {
		const struct metrics_type *t = &m->types[i];
		struct metrics_type *sum = NULL;

		if (!__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE))
			break;
		for (size_t j = 0; j < tt->n && !sum; j++)
			if (strcmp(tt->types[j].name, t->name) == 0)
				sum = &tt->types[j];
		if (!sum) {
			if (tt->n == METRICS_TYPES_MAX)
				continue;
			sum = &tt->types[tt->n++];
			memset(sum, 0, sizeof(*sum));
			memcpy(sum->name, t->name, sizeof(sum->name));
			sum->name[ENTITY_MAX] = '\0';
		}
		for (size_t k = 0; k < METRICS_OUTCOMES; k++)
			sum->runs[k] += __atomic_load_n(&t->runs[k],
							__ATOMIC_RELAXED);
		for (size_t k = 0; k < METRICS_BUCKETS; k++)
			sum->bucket[k] += __atomic_load_n(&t->bucket[k],
							  __ATOMIC_RELAXED);
		sum->duration_us += __atomic_load_n(&t->duration_us,
						    __ATOMIC_RELAXED);
		sum->returned += __atomic_load_n(&t->returned,
						 __ATOMIC_RELAXED);
		for (size_t k = 0; k < 2; k++)
			sum->failure_hook[k] += __atomic_load_n(
				&t->failure_hook[k], __ATOMIC_RELAXED);
	}
}

static void
print_requests(const char *host, const struct metrics_file *m, void *ctx)
{
	FILE *out = ctx;

	for (size_t i = 0; i <= METRICS_STATUSES; i++) {
		uint64_t n = __atomic_load_n(&m->requests[i],
					     __ATOMIC_RELAXED);
		char status[16];

		if (i < METRICS_STATUSES)
			snprintf(status, sizeof(status), "%u",
				 metrics_statuses[i]);
		else
			snprintf(status, sizeof(status), "other");
		/* The usual answers always, so that rates start at zero. */
		if (n || i == 0 || metrics_statuses[i] == 401 ||
		    metrics_statuses[i] == 503)
			fprintf(out, P "requests_total{receiver=\"%s\","
				"status=\"%s\"} %llu\n", host, status,
				(unsigned long long)n);
	}
}

static void
print_seconds(FILE *out, uint64_t us)
{
	fprintf(out, "%llu.%06llu", (unsigned long long)(us / 1000000),
		(unsigned long long)(us % 1000000));
}

static void
print_counters(FILE *out, const struct totals *tt)
{
	header(out, "hook_runs_total", "counter",
	       "Hook runs of the queue by event type and outcome (done, "
	       "retry, failed for good).");
	for (size_t i = 0; i < tt->n; i++)
		for (size_t k = 0; k < METRICS_OUTCOMES; k++)
			fprintf(out, P "hook_runs_total{type=\"%s\","
				"outcome=\"%s\"} %llu\n", tt->types[i].name,
				metrics_outcome_names[k],
				(unsigned long long)tt->types[i].runs[k]);
	header(out, "hook_duration_seconds", "histogram",
	       "How long the queue's hook runs took, by event type.");
	for (size_t i = 0; i < tt->n; i++) {
		const struct metrics_type *t = &tt->types[i];
		uint64_t cum = 0, count = 0;

		for (size_t k = 0; k < METRICS_OUTCOMES; k++)
			count += t->runs[k];
		for (size_t k = 0; k < METRICS_BUCKETS; k++) {
			cum += t->bucket[k];
			fprintf(out, P "hook_duration_seconds_bucket{type=\"%s\","
				"le=\"", t->name);
			print_seconds(out, metrics_bucket_us[k]);
			fprintf(out, "\"} %llu\n", (unsigned long long)cum);
		}
		/* A run counted between two reads falls in +Inf, not below. */
		fprintf(out, P "hook_duration_seconds_bucket{type=\"%s\","
			"le=\"+Inf\"} %llu\n", t->name,
			(unsigned long long)(count > cum ? count : cum));
		fprintf(out, P "hook_duration_seconds_sum{type=\"%s\"} ",
			t->name);
		print_seconds(out, t->duration_us);
		fprintf(out, "\n" P "hook_duration_seconds_count{type=\"%s\"} "
			"%llu\n", t->name,
			(unsigned long long)(count > cum ? count : cum));
	}
	header(out, "claims_returned_total", "counter",
	       "Claims whose runner died, returned to the pending events.");
	for (size_t i = 0; i < tt->n; i++)
		fprintf(out, P "claims_returned_total{type=\"%s\"} %llu\n",
			tt->types[i].name,
			(unsigned long long)tt->types[i].returned);
	header(out, "failure_hook_runs_total", "counter",
	       "Runs of the failure hook, by event type and outcome.");
	for (size_t i = 0; i < tt->n; i++)
		for (int k = 0; k < 2; k++)
			fprintf(out, P "failure_hook_runs_total{type=\"%s\","
				"outcome=\"%s\"} %llu\n", tt->types[i].name,
				k ? "error" : "ok",
				(unsigned long long)tt->types[i].failure_hook[k]);
}

int
metrics_print(const struct config *cfg, FILE *out)
{
	static const char *const states[] = {
		"pending", "running", "done", "failed",
	};
	struct view v = { NULL, 0, 0, 0 };
	struct totals *tt = calloc(1, sizeof(*tt));
	time_t now = time(NULL);
	int rc = -1;

	if (!tt)
		return -1;
	if (spool_each_type(cfg->spool, 0, add_type, &v) < 0 &&
	    errno != ENOENT)
		goto out;
	if (metrics_each_file(cfg->spool, add_host_types, tt) < 0)
		goto out;

	header(out, "build_info", "gauge",
	       "The version of makini-webhook that wrote these metrics.");
	fprintf(out, P "build_info{version=\"%s\"} 1\n", MAKINI_VERSION);
	header(out, "metrics_timestamp_seconds", "gauge",
	       "When these metrics were written, in seconds since the epoch.");
	fprintf(out, P "metrics_timestamp_seconds %lld\n", (long long)now);
	header(out, "events", "gauge",
	       "Events in the spool by type and state: pending (new/), "
	       "running (claimed), done (cur/), failed (failed/).");
	for (size_t i = 0; i < v.n; i++) {
		const struct queue_type_counts *t = &v.types[i];
		long n[] = { t->pending, t->running, t->cur, t->failed };

		for (size_t k = 0; k < 4; k++)
			fprintf(out, P "events{type=\"%s\",state=\"%s\"} %ld\n",
				t->type, states[k], n[k]);
	}
	header(out, "oldest_pending_timestamp_seconds", "gauge",
	       "When the oldest pending event of a type was received.");
	for (size_t i = 0; i < v.n; i++)
		if (v.types[i].oldest)
			fprintf(out, P "oldest_pending_timestamp_seconds"
				"{type=\"%s\"} %lld\n", v.types[i].type,
				(long long)v.types[i].oldest);
	header(out, "oldest_pending_age_seconds", "gauge",
	       "How long the oldest pending event of a type has waited.");
	for (size_t i = 0; i < v.n; i++)
		if (v.types[i].oldest)
			fprintf(out, P "oldest_pending_age_seconds"
				"{type=\"%s\"} %lld\n", v.types[i].type,
				(long long)(now > v.types[i].oldest
						    ? now - v.types[i].oldest
						    : 0));
	header(out, "spool_types_unreadable", "gauge",
	       "Type directories skipped: a link or a file in a type's "
	       "place.");
	fprintf(out, P "spool_types_unreadable %d\n", v.failed_types);
	header(out, "requests_total", "counter",
	       "Requests answered, by receiving host and HTTP status.");
	if (metrics_each_file(cfg->spool, print_requests, out) < 0)
		goto out;
	print_counters(out, tt);
	rc = ferror(out) ? -1 : 0;
out:
	free(v.types);
	free(tt);
	return rc;
}

int
metrics_output(const struct config *cfg, const char *file)
{
	char tmp[PATH_MAX], random[SPOOL_RANDOM_HEX + 1];
	FILE *out = NULL;
	int fd;

	if (spool_random_hex(random) < 0)
		return -1;
	/* The collector reads *.prom only: the temporary name is skipped. */
	if (snprintf(tmp, sizeof(tmp), "%s.%s.tmp", file, random) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return -1;
	if (!(out = fdopen(fd, "w"))) {
		close_saving_errno(fd);
		goto fail;
	}
	if (metrics_print(cfg, out) < 0 || fflush(out) != 0 ||
	    fsync(fileno(out)) < 0) {
		int saved = errno; /* fclose's own errno is not the story */

		fclose(out);
		errno = saved;
		goto fail;
	}
	if (fclose(out) != 0 || rename(tmp, file) < 0)
		goto fail;
	return 0;
fail:
	unlink_saving_errno(AT_FDCWD, tmp);
	return -1;
}
