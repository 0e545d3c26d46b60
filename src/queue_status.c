/* See LICENSE file for copyright and license details. */
/* The status verb: what waits, what failed, and whether someone must look. */
#include "queue_status.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event.h"
#include "id.h"
#include "queue_claim.h"
#include "queue_record.h"
#include "spool_type.h"

#ifndef MAKINI_VERSION
#define MAKINI_VERSION "unknown"
#endif

/* Events listed per section of the text; --json lists them all. */
#define TEXT_EVENTS_MAX 20

long
queue_count(int dir_fd, long *running, time_t *oldest)
{
	struct dirent *de;
	long n = 0;
	DIR *dir;

	if (dir_fd < 0 || !(dir = spool_list(dir_fd)))
		return 0;
	while ((de = readdir(dir))) {
		char id[ID_LEN_MAX + 1];
		time_t t;

		if (de->d_name[0] == '.')
			continue;
		if (running && strstr(de->d_name, CLAIM_MARK)) {
			(*running)++;
		} else if (spool_event_id(de->d_name, id)) {
			n++;
			t = oldest ? id_time(id) : 0;
			if (t && (*oldest == 0 || t < *oldest))
				*oldest = t;
		}
	}
	closedir(dir);
	return n;
}

void
queue_type_count(const char *type, const struct spool_type *t,
		 struct queue_type_counts *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->type, sizeof(c->type), "%s", type);
	c->pending = queue_count(t->new, &c->running, &c->oldest);
	c->cur = queue_count(t->cur, NULL, NULL);
	c->failed = queue_count(t->failed, NULL, NULL);
}

enum event_where { WAITING, RUNNING, FAILED };

/* An event with failed attempts: waiting, running again, or failed. */
struct event_status {
	char type[ENTITY_MAX + 1];
	char id[ID_LEN_MAX + 1];
	enum event_where where;
	struct queue_record r; /* zero when failed/ holds no record of it */
};

struct status_view {
	const struct config *cfg;
	struct queue_type_counts *types;
	size_t n_types, cap_types;
	struct event_status *events;
	size_t n_events, cap_events;
	long failed, overdue_types;
	time_t now;
};

static void *
grow(void *items, size_t *cap, size_t n, size_t size)
{
	void *grown;

	if (n < *cap)
		return items;
	grown = realloc(items, (*cap ? 2 * *cap : 16) * size);
	if (grown)
		*cap = *cap ? 2 * *cap : 16;
	return grown;
}

/* Adds the event of record name in dir (an <id>.state or <id>.error). */
static int
add_event(struct status_view *s, const char *type, int dir, const char *name,
	  enum event_where where)
{
	const char *dot = strrchr(name, '.');
	struct event_status *e, *grown;

	if (!dot || dot == name || (size_t)(dot - name) > ID_LEN_MAX)
		return 0;
	grown = grow(s->events, &s->cap_events, s->n_events, sizeof(*grown));
	if (!grown)
		return -1;
	s->events = grown;
	e = &s->events[s->n_events];
	memset(e, 0, sizeof(*e));
	snprintf(e->type, sizeof(e->type), "%s", type);
	memcpy(e->id, name, (size_t)(dot - name));
	e->where = where;
	/* A record that cannot be read shows as none; drain logs why. */
	if (record_read(dir, name, &e->r) != 0)
		memset(&e->r, 0, sizeof(e->r));
	s->n_events++;
	return 0;
}

/*
 * The events of one directory with a record: new/<id>.state (waiting,
 * or running when <id>.json is claimed) or failed/<id>.json.
 */
static int
add_events(struct status_view *s, const char *type, int dir, int failed)
{
	char name[NAME_MAX + 1], id[ID_LEN_MAX + 1];
	struct dirent *de;
	struct stat st;
	DIR *list;
	int rc = 0;

	if (dir < 0 || !(list = spool_list(dir)))
		return 0;
	while (rc == 0 && (de = readdir(list))) {
		size_t len = strlen(de->d_name);

		if (failed) {
			if (!spool_event_id(de->d_name, id))
				continue;
			snprintf(name, sizeof(name), "%s.error", id);
			rc = add_event(s, type, dir, name, FAILED);
		} else if (de->d_name[0] != '.' && len > 6 &&
			   strcmp(de->d_name + len - 6, ".state") == 0 &&
			   len - 6 <= ID_LEN_MAX) {
			snprintf(name, sizeof(name), "%.*s.json",
				 (int)(len - 6), de->d_name);
			rc = add_event(s, type, dir, de->d_name,
				       fstatat(dir, name, &st,
					       AT_SYMLINK_NOFOLLOW) == 0
					       ? WAITING
					       : RUNNING);
		}
	}
	closedir(list);
	return rc;
}

static int
add_type(const char *type, struct spool_type *t, void *ctx)
{
	struct status_view *s = ctx;
	struct queue_type_counts *ts, *grown;

	if (!t)
		return 0; /* logged: a link or a file where the type belongs */
	grown = grow(s->types, &s->cap_types, s->n_types, sizeof(*grown));
	if (!grown)
		return -1;
	s->types = grown;
	ts = &s->types[s->n_types++];
	queue_type_count(type, t, ts);
	s->failed += ts->failed;
	if (ts->oldest && s->cfg->overdue_age &&
	    (unsigned long long)(s->now - ts->oldest) > s->cfg->overdue_age)
		s->overdue_types++;
	if (add_events(s, type, t->new, 0) < 0 ||
	    add_events(s, type, t->failed, 1) < 0)
		return -1;
	return 0;
}

/* "3d 4h", "2h 5m", "4m 10s" or "12s". */
static void
format_age(long long s, char *out, size_t size)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(out, size, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, size, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, size, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(out, size, "%llds", s);
}

static void
format_date(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, size, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "%lld", (long long)t);
}

/*
 * What needs attention, one sentence each, for the text and the JSON:
 * calls say(text, ctx) for each. Returns how many.
 */
static int
attention(const struct status_view *s, void (*say)(const char *, void *),
	  void *ctx)
{
	char text[512], age[32], limit[32];
	int n = 0;

	if (s->failed > 0) {
		snprintf(text, sizeof(text), "%ld event%s failed for good: "
			 "once the cause is fixed, 'makini-webhook retry' "
			 "queues %s again", s->failed,
			 s->failed == 1 ? "" : "s",
			 s->failed == 1 ? "it" : "them");
		say(text, ctx);
		n++;
	}
	for (size_t i = 0; i < s->n_types; i++) {
		const struct queue_type_counts *ts = &s->types[i];

		if (!ts->oldest || !s->cfg->overdue_age ||
		    (unsigned long long)(s->now - ts->oldest) <=
			    s->cfg->overdue_age)
			continue;
		format_age((long long)(s->now - ts->oldest), age,
			   sizeof(age));
		format_age((long long)s->cfg->overdue_age, limit,
			   sizeof(limit));
		snprintf(text, sizeof(text), "%s: the oldest pending event "
			 "has waited %s, longer than " CONFIG_PREFIX
			 "OVERDUE_AGE (%s)", ts->type, age, limit);
		say(text, ctx);
		n++;
	}
	return n;
}

static void
add_json_string(const char *text, void *ctx)
{
	json_object_array_add(ctx, json_object_new_string(text));
}

static struct json_object *
event_json(const struct event_status *e, time_t now)
{
	static const char *const where[] = { "waiting", "running", "failed" };
	struct json_object *o = json_object_new_object();
	struct json_object *output = json_object_new_array();
	int next = e->where != FAILED && e->r.has_next;

	json_object_object_add(o, "type", json_object_new_string(e->type));
	json_object_object_add(o, "id", json_object_new_string(e->id));
	json_object_object_add(o, "state", json_object_new_string(
						   where[e->where]));
	json_object_object_add(o, "attempts",
			       json_object_new_int64(e->r.attempts));
	json_object_object_add(o, "next_try",
			       next ? json_object_new_int64(e->r.next) : NULL);
	json_object_object_add(o, "next_try_seconds",
			       next ? json_object_new_int64(e->r.next - now)
				    : NULL);
	json_object_object_add(o, "error",
			       e->r.has_error
				       ? json_object_new_string(e->r.error)
				       : NULL);
	for (const char *line = e->r.output; *line;) {
		size_t n = strcspn(line, "\n");

		json_object_array_add(output,
				      json_object_new_string_len(line, (int)n));
		line += n + (line[n] == '\n');
	}
	json_object_object_add(o, "output", output);
	return o;
}

/* {"version":…,"types":{"<type>":{"new":N,…}},"events":[…],…} */
static void
print_json(const struct status_view *s, FILE *out)
{
	struct json_object *root = json_object_new_object();
	struct json_object *types = json_object_new_object();
	struct json_object *events = json_object_new_array();
	struct json_object *notes = json_object_new_array();

	json_object_object_add(root, "version",
			       json_object_new_string(MAKINI_VERSION));
	json_object_object_add(root, "types", types);
	for (size_t i = 0; i < s->n_types; i++) {
		const struct queue_type_counts *ts = &s->types[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "new",
				       json_object_new_int64(ts->pending));
		json_object_object_add(o, "running",
				       json_object_new_int64(ts->running));
		json_object_object_add(o, "cur",
				       json_object_new_int64(ts->cur));
		json_object_object_add(o, "failed",
				       json_object_new_int64(ts->failed));
		json_object_object_add(o, "oldest_pending",
				       ts->oldest ? json_object_new_int64(
							    ts->oldest)
						  : NULL);
		json_object_object_add(o, "oldest_pending_seconds",
				       ts->oldest ? json_object_new_int64(
							    s->now - ts->oldest)
						  : NULL);
		json_object_object_add(types, ts->type, o);
	}
	json_object_object_add(root, "events", events);
	for (size_t i = 0; i < s->n_events; i++)
		json_object_array_add(events,
				      event_json(&s->events[i], s->now));
	json_object_object_add(root, "attention", notes);
	attention(s, add_json_string, notes);
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

/* One event of the text: its line, its error, its output. */
static void
print_event(const struct event_status *e, time_t now, FILE *out)
{
	char when[96] = "", date[32], age[32];

	if (e->where == WAITING && e->r.has_next) {
		format_date((time_t)e->r.next, date, sizeof(date));
		format_age(e->r.next - now, age, sizeof(age));
		snprintf(when, sizeof(when), ", next try %s (%s%s)", date,
			 e->r.next > now ? "in " : "due now",
			 e->r.next > now ? age : "");
	} else if (e->where == RUNNING) {
		snprintf(when, sizeof(when), ", running now");
	}
	fprintf(out, "  %s %s: %u attempt%s%s\n", e->type, e->id,
		e->r.attempts, e->r.attempts == 1 ? "" : "s", when);
	if (e->r.has_error)
		fprintf(out, "    error: %s\n", e->r.error);
	for (const char *line = e->r.output; *line;) {
		size_t n = strcspn(line, "\n");

		fprintf(out, "    output: %.*s\n", (int)n, line);
		line += n + (line[n] == '\n');
	}
}

static void
print_section(const struct status_view *s, int failed, const char *title,
	      FILE *out)
{
	size_t shown = 0, all = 0;

	for (size_t i = 0; i < s->n_events; i++) {
		const struct event_status *e = &s->events[i];

		if ((e->where == FAILED) != failed)
			continue;
		if (all++ == 0)
			fprintf(out, "\n%s\n", title);
		if (shown < TEXT_EVENTS_MAX) {
			print_event(e, s->now, out);
			shown++;
		}
	}
	if (all > shown)
		fprintf(out, "  and %zu more: status --json lists them all\n",
			all - shown);
}

static void
print_note(const char *text, void *ctx)
{
	fprintf(ctx, "attention: %s\n", text);
}

/* The tables for people, from the counts themselves. */
static void
print_text(const struct status_view *s, FILE *out)
{
	fprintf(out, "makini-webhook %s, spool %s\n", MAKINI_VERSION,
		s->cfg->spool);
	fprintf(out, "%-24s %8s %8s %8s %8s  %s\n", "type", "new", "running",
		"cur", "failed", "oldest pending");
	for (size_t i = 0; i < s->n_types; i++) {
		const struct queue_type_counts *ts = &s->types[i];
		char text[96] = "-", date[32], age[32];

		if (ts->oldest) {
			format_date(ts->oldest, date, sizeof(date));
			format_age((long long)(s->now - ts->oldest), age,
				   sizeof(age));
			snprintf(text, sizeof(text), "%s (%s ago)", date, age);
		}
		fprintf(out, "%-24s %8ld %8ld %8ld %8ld  %s\n", ts->type,
			ts->pending, ts->running, ts->cur, ts->failed, text);
	}
	print_section(s, 0, "failed attempts, to be tried again:", out);
	print_section(s, 1, "failed for good:", out);
	if (s->failed > 0 || s->overdue_types > 0)
		fputc('\n', out);
	attention(s, print_note, out);
}

static int
by_type_and_id(const void *a, const void *b)
{
	const struct event_status *x = a, *y = b;
	int c = strcmp(x->type, y->type);

	return c ? c : strcmp(x->id, y->id);
}

int
queue_status(const struct config *cfg, int json, FILE *out)
{
	struct status_view s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.now = time(NULL);
	if (spool_each_type(cfg->spool, 0, add_type, &s) < 0) {
		rc = -1;
		goto out;
	}
	if (s.n_events > 1)
		qsort(s.events, s.n_events, sizeof(*s.events), by_type_and_id);
	if (json)
		print_json(&s, out);
	else
		print_text(&s, out);
	rc = s.failed > 0 || s.overdue_types > 0;
out:
	free(s.types);
	free(s.events);
	return rc;
}
