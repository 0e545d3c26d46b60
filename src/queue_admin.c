/* See LICENSE file for copyright and license details. */
/* The spool verbs for people: status, retry and replay. */
#include "queue_admin.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "id.h"
#include "log.h"
#include "queue_claim.h"
#include "spool_type.h"

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

/* One type's line of the status. */
struct type_status {
	char type[ENTITY_MAX + 1];
	long pending, running, cur, failed;
	time_t oldest; /* the oldest pending event's time, or 0 */
};

struct status_list {
	struct type_status *items;
	size_t n, cap;
};

static int
add_type_status(const char *type, struct spool_type *t, void *ctx)
{
	struct status_list *l = ctx;
	struct type_status *ts;

	if (!t)
		return 0; /* logged: a link or a file where the type belongs */
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct type_status *grown = realloc(l->items,
						    cap * sizeof(*grown));

		if (!grown)
			return -1;
		l->items = grown;
		l->cap = cap;
	}
	ts = &l->items[l->n++];
	memset(ts, 0, sizeof(*ts));
	snprintf(ts->type, sizeof(ts->type), "%s", type);
	ts->pending = queue_count(t->new, &ts->running, &ts->oldest);
	ts->cur = queue_count(t->cur, NULL, NULL);
	ts->failed = queue_count(t->failed, NULL, NULL);
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

/* {"types":{"<type>":{"new":N,...},...}}, built with json-c. */
static void
print_json(const struct status_list *l, time_t now, FILE *out)
{
	struct json_object *root = json_object_new_object();
	struct json_object *types = json_object_new_object();

	json_object_object_add(root, "types", types);
	for (size_t i = 0; i < l->n; i++) {
		const struct type_status *ts = &l->items[i];
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
							    now - ts->oldest)
						  : NULL);
		json_object_object_add(types, ts->type, o);
	}
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
}

/* The table for people, from the counts themselves. */
static void
print_table(const struct status_list *l, time_t now, FILE *out)
{
	fprintf(out, "%-24s %8s %8s %8s %8s  %s\n", "type", "new", "running",
		"cur", "failed", "oldest pending");
	for (size_t i = 0; i < l->n; i++) {
		const struct type_status *ts = &l->items[i];
		char text[96] = "-", age[32];

		if (ts->oldest) {
			struct tm tm;

			gmtime_r(&ts->oldest, &tm);
			format_age((long long)(now - ts->oldest), age,
				   sizeof(age));
			snprintf(text, sizeof(text),
				 "%04d-%02d-%02d %02d:%02d:%02dZ (%s ago)",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec, age);
		}
		fprintf(out, "%-24s %8ld %8ld %8ld %8ld  %s\n", ts->type,
			ts->pending, ts->running, ts->cur, ts->failed, text);
	}
}

int
queue_status(const struct config *cfg, int json, FILE *out)
{
	struct status_list l = { NULL, 0, 0 };
	time_t now;

	if (spool_each_type(cfg->spool, 0, add_type_status, &l) < 0) {
		free(l.items);
		return -1;
	}
	now = time(NULL);
	if (json)
		print_json(&l, now, out);
	else
		print_table(&l, now, out);
	free(l.items);
	return 0;
}

struct requeue {
	const char *what;   /* an id, a type, or NULL for all */
	int from_cur;       /* replay: from cur/, else retry: from failed/ */
	long moved;
	int error;
};

/* Moves <id>.json from failed/ or cur/ back to new/, with a fresh state. */
static int
requeue_one(const char *type, struct spool_type *t, const char *id,
	    struct requeue *rq)
{
	char json[NAME_MAX + 1], name[NAME_MAX + 1];
	int from = rq->from_cur ? t->cur : t->failed;

	snprintf(json, sizeof(json), "%s.json", id);
	/*
	 * A plain rename, judged by its own result: new/<id>.json may be
	 * there already (a pending or repeated event), so what is found
	 * after a failure proves nothing. The state goes only once moved.
	 */
	if (renameat(from, json, t->new, json) < 0) {
		if (errno == ENOENT)
			return 0;
		rq->error = errno;
		log_line("queue %s: cannot move it back to pending: %s", id,
			 strerror(rq->error));
		return 0;
	}
	snprintf(name, sizeof(name), "%s.state", id);
	if (unlinkat(t->new, name, 0) < 0 && errno != ENOENT)
		log_line("queue %s: its old state stays: %s", id,
			 strerror(errno));
	snprintf(name, sizeof(name), "%s.error", id);
	if (t->failed >= 0)
		unlinkat(t->failed, name, 0);
	log_line("queue %s: back to pending from %s/%s", id, type,
		 rq->from_cur ? "cur" : "failed");
	rq->moved++;
	return 0;
}

static int
requeue_type(const char *type, struct spool_type *t, void *ctx)
{
	struct requeue *rq = ctx;
	int from, whole_type;
	struct dirent *de;
	DIR *dir;

	if (!t) {
		rq->error = ELOOP;
		return 0;
	}
	from = rq->from_cur ? t->cur : t->failed;

	/* replay takes one id only: a type would replay all its history. */
	whole_type = !rq->from_cur &&
		     (!rq->what || strcmp(rq->what, type) == 0);
	if (from < 0 || t->new < 0)
		return 0;
	if (!whole_type) {
		if (strlen(rq->what) <= ID_LEN_MAX && !strchr(rq->what, '/'))
			requeue_one(type, t, rq->what, rq);
		return 0;
	}
	if (!(dir = spool_list(from)))
		return -1;
	while ((de = readdir(dir))) {
		char id[ID_LEN_MAX + 1];

		if (spool_event_id(de->d_name, id))
			requeue_one(type, t, id, rq);
	}
	closedir(dir);
	return 0;
}

static long
requeue(const struct config *cfg, const char *what, int from_cur)
{
	struct requeue rq = { what, from_cur, 0, 0 };

	if (spool_each_type(cfg->spool, 1, requeue_type, &rq) < 0)
		return -1;
	if (rq.error) {
		errno = rq.error;
		return -1;
	}
	return rq.moved;
}

long
queue_retry(const struct config *cfg, const char *what)
{
	return requeue(cfg, what, 0);
}

long
queue_replay(const struct config *cfg, const char *what)
{
	return requeue(cfg, what, 1);
}
