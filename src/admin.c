/* The spool verbs for people: status, retry and replay. */
#include "admin.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "claim.h"
#include "id.h"
#include "log.h"
#include "spool.h"

/*
 * The time an id was received, from its leading UTC time; 0 when it does
 * not start with one.
 */
static time_t
id_time(const char *id)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(id, "%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* Counts the events in one directory; for new/, claims and the oldest. */
static long
count_events(int dir_fd, long *running, time_t *oldest)
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

static int
add_type_status(const char *type, struct spool_type *t, void *ctx)
{
	struct json_object *types = ctx, *o;
	time_t oldest = 0;
	long running = 0, pending;

	if (!t)
		return 0; /* logged: a link or a file where the type belongs */
	o = json_object_new_object();
	pending = count_events(t->new, &running, &oldest);

	json_object_object_add(o, "new", json_object_new_int64(pending));
	json_object_object_add(o, "running", json_object_new_int64(running));
	json_object_object_add(o, "cur", json_object_new_int64(
		count_events(t->cur, NULL, NULL)));
	json_object_object_add(o, "failed", json_object_new_int64(
		count_events(t->failed, NULL, NULL)));
	json_object_object_add(o, "oldest_pending",
			       oldest ? json_object_new_int64(oldest) : NULL);
	json_object_object_add(o, "oldest_pending_seconds",
			       oldest ? json_object_new_int64(time(NULL) -
							      oldest)
				      : NULL);
	json_object_object_add(types, type, o);
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

static long long
get_int(struct json_object *o, const char *key)
{
	return (long long)json_object_get_int64(json_object_object_get(o, key));
}

int
queue_status(const struct config *cfg, int json, FILE *out)
{
	struct json_object *types = json_object_new_object();

	if (spool_each_type(cfg->spool, 0, add_type_status, types) < 0) {
		json_object_put(types);
		return -1;
	}
	if (json) {
		struct json_object *root = json_object_new_object();

		json_object_object_add(root, "types", types);
		fprintf(out, "%s\n", json_object_to_json_string_ext(
					     root, JSON_C_TO_STRING_PLAIN));
		json_object_put(root);
		return 0;
	}
	fprintf(out, "%-24s %8s %8s %8s %8s  %s\n", "type", "new", "running",
		"cur", "failed", "oldest pending");
	json_object_object_foreach(types, type, o) {
		struct json_object *when = json_object_object_get(
			o, "oldest_pending");
		char text[96] = "-", age[32];

		if (when) {
			time_t t = (time_t)json_object_get_int64(when);
			struct tm tm;

			gmtime_r(&t, &tm);
			format_age(get_int(o, "oldest_pending_seconds"), age,
				   sizeof(age));
			snprintf(text, sizeof(text),
				 "%04d-%02d-%02d %02d:%02d:%02dZ (%s ago)",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec, age);
		}
		fprintf(out, "%-24s %8lld %8lld %8lld %8lld  %s\n", type,
			get_int(o, "new"), get_int(o, "running"),
			get_int(o, "cur"), get_int(o, "failed"), text);
	}
	json_object_put(types);
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
