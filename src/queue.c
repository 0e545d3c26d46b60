#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "hook.h"
#include "id.h"
#include "log.h"
#include "spool.h"

#define BACKOFF_MAX 21600 /* seconds: retries at least every six hours */
#define ERROR_MAX 200

struct state {
	unsigned attempts;
	long long next; /* earliest time of the next attempt, epoch seconds */
	char error[ERROR_MAX];
};

static int
has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

/* The event an id names: its type directory and the action ending the id. */
static int
event_of(const char *type, const char *id, struct event *ev)
{
	const char *dash = strrchr(id, '-');

	if (!dash || strlen(type) > ENTITY_MAX || strlen(dash + 1) > ACTION_MAX ||
	    !dash[1])
		return -1;
	snprintf(ev->entity, sizeof(ev->entity), "%s", type);
	snprintf(ev->action, sizeof(ev->action), "%s", dash + 1);
	snprintf(ev->name, sizeof(ev->name), "%s.%s", type, dash + 1);
	return 0;
}

static void
read_state(const char *path, struct state *st)
{
	char buf[ERROR_MAX + 64], *error;
	FILE *f = fopen(path, "re");

	memset(st, 0, sizeof(*st));
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f))
		sscanf(buf, "attempts %u", &st->attempts);
	if (fgets(buf, sizeof(buf), f))
		sscanf(buf, "next %lld", &st->next);
	if (fgets(buf, sizeof(buf), f) && (error = strchr(buf, ' '))) {
		error[strcspn(error, "\n")] = '\0';
		snprintf(st->error, sizeof(st->error), "%s", error + 1);
	}
	fclose(f);
}

/* Replaces the file at path with text, through a temporary and a rename. */
static int
write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0640);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) == (ssize_t)len && close(fd) == 0) {
		fd = -1;
		rc = rename(tmp, path);
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static long long
backoff(const struct config *cfg, unsigned attempts)
{
	long long delay = cfg->retry_delay;

	for (unsigned i = 1; i < attempts && delay < BACKOFF_MAX; i++)
		delay *= 2;
	return delay < BACKOFF_MAX ? delay : BACKOFF_MAX;
}

/* The paths of one event: its file in new/, state, cur/, failed/, error. */
struct event_paths {
	char file[PATH_MAX], state[PATH_MAX], cur[PATH_MAX];
	char failed[PATH_MAX], error[PATH_MAX];
};

static int
make_paths(const char *root, const char *type, const char *id,
	   struct event_paths *p)
{
	int over = 0;

	over |= snprintf(p->file, PATH_MAX, "%s/%s/new/%s.json", root, type,
			 id) >= PATH_MAX;
	over |= snprintf(p->state, PATH_MAX, "%s/%s/new/%s.state", root, type,
			 id) >= PATH_MAX;
	over |= snprintf(p->cur, PATH_MAX, "%s/%s/cur/%s.json", root, type,
			 id) >= PATH_MAX;
	over |= snprintf(p->failed, PATH_MAX, "%s/%s/failed/%s.json", root,
			 type, id) >= PATH_MAX;
	over |= snprintf(p->error, PATH_MAX, "%s/%s/failed/%s.error", root,
			 type, id) >= PATH_MAX;
	return over ? -1 : 0;
}

/* Makes path absolute against the working directory, when it is not. */
static void
absolute_path(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)) ||
	    snprintf(out, size, "%s/%s", cwd, path) >= (int)size)
		snprintf(out, size, "%s", path);
}

/*
 * Claims the event: an exclusive flock on its file, then a check that the
 * file locked is still the one in new/ (a runner that finished between our
 * open and our lock has moved it). Returns the locked descriptor, or -1.
 */
static int
claim(const char *path)
{
	struct stat locked, now;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &locked) < 0 ||
	    stat(path, &now) < 0 || locked.st_ino != now.st_ino ||
	    locked.st_dev != now.st_dev) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Records a failed attempt: pending again with backoff, or to failed/. */
static enum queue_outcome
record_failure(const struct config *cfg, const struct event_paths *p,
	       const struct state *st, const char *name, const char *why)
{
	char text[ERROR_MAX + 64];
	unsigned attempts = st->attempts + 1;

	if (attempts >= cfg->max_attempts) {
		snprintf(text, sizeof(text), "attempts %u\nerror %.200s\n", attempts,
			 why);
		if (write_file(p->error, text) < 0 || rename(p->file, p->failed) < 0)
			return QUEUE_ERROR;
		unlink(p->state);
		log_line("queue %s: gave up after %u attempts: %s", name,
			 attempts, why);
		return QUEUE_FAILED;
	}
	snprintf(text, sizeof(text), "attempts %u\nnext %lld\nerror %.200s\n",
		 attempts, (long long)time(NULL) + backoff(cfg, attempts), why);
	if (write_file(p->state, text) < 0)
		return QUEUE_ERROR;
	log_line("queue %s: attempt %u failed, retry in %llds: %s", name,
		 attempts, backoff(cfg, attempts), why);
	return QUEUE_RETRY;
}

enum queue_outcome
queue_run(const struct config *cfg, const char *type, const char *id,
	  char *const *env_first, char *const *env_second)
{
	struct event_paths p;
	struct event ev;
	struct state st;
	char hook[PATH_MAX], file[PATH_MAX], why[256];
	enum queue_outcome outcome;
	enum hook_result result;
	int fd;

	if (event_of(type, id, &ev) < 0 || make_paths(cfg->spool, type, id, &p) < 0)
		return QUEUE_SKIPPED;
	/* The paths below must not lead out of the spool through a link. */
	if (spool_type_sane(cfg->spool, type) < 0)
		return QUEUE_SKIPPED;
	fd = claim(p.file);
	if (fd < 0)
		return QUEUE_SKIPPED;
	read_state(p.state, &st);
	if (st.next > (long long)time(NULL)) {
		close(fd);
		return QUEUE_SKIPPED;
	}
	if (hook_find(cfg->hooks, &ev, hook, sizeof(hook)) < 0) {
		outcome = rename(p.file, p.cur) == 0 ? QUEUE_DONE : QUEUE_ERROR;
		if (outcome == QUEUE_DONE) {
			unlink(p.state);
			log_line("queue %s %s: no hook, moved to cur/", ev.name, id);
		}
		close(fd);
		return outcome;
	}
	/* The hook runs in HOOKS, so it is told an absolute path. */
	absolute_path(p.file, file, sizeof(file));
	struct hook_call call = {
		.event = &ev, .id = id, .attempt = st.attempts + 1,
		.event_file = file, .env_first = env_first,
		.env_second = env_second,
	};
	result = hook_run(cfg, hook, &call, fd, why, sizeof(why));
	if (result == HOOK_OK) {
		outcome = rename(p.file, p.cur) == 0 ? QUEUE_DONE : QUEUE_ERROR;
		if (outcome == QUEUE_DONE)
			unlink(p.state);
	} else {
		outcome = record_failure(cfg, &p, &st, ev.name, why);
	}
	close(fd);
	return outcome;
}

struct pending {
	char type[ENTITY_MAX + 1];
	char id[ID_LEN_MAX + 1];
};

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->id,
		      ((const struct pending *)b)->id);
}

/* Appends the events in <root>/<type>/new/ to *list. */
static int
list_pending(const char *root, const char *type, struct pending **list,
	     size_t *n, size_t *cap)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/%s/new", root, type);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".json") ||
		    len - 5 > ID_LEN_MAX)
			continue;
		if (*n == *cap) {
			struct pending *grown;

			*cap = *cap ? 2 * *cap : 256;
			grown = realloc(*list, *cap * sizeof(**list));
			if (!grown) {
				closedir(dir);
				return -1;
			}
			*list = grown;
		}
		snprintf((*list)[*n].type, sizeof((*list)[*n].type), "%s", type);
		memcpy((*list)[*n].id, de->d_name, len - 5);
		(*list)[*n].id[len - 5] = '\0';
		(*n)++;
	}
	closedir(dir);
	return 0;
}

/* Only names that an event could have made are types: [a-z0-9][a-z0-9_]*. */
static int
is_type_name(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= ENTITY_MAX && name[0] != '_' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
}

/* Calls fn for each type directory name below root. */
static int
each_type(const char *root, int (*fn)(const char *type, void *ctx), void *ctx)
{
	DIR *dir = opendir(root);
	struct dirent *de;
	int rc = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir)) && rc == 0) {
		if (!is_type_name(de->d_name))
			continue;
		/* A link planted in the spool is never followed out of it. */
		if (spool_type_sane(root, de->d_name) < 0) {
			log_line("spool type %s skipped: %s", de->d_name,
				 errno == ENOTDIR || errno == ELOOP
					 ? "a link or a file where a directory "
					   "belongs"
					 : strerror(errno));
			continue;
		}
		rc = fn(de->d_name, ctx);
	}
	closedir(dir);
	return rc;
}

struct drain_list {
	const char *root;
	struct pending *items;
	size_t n, cap;
};

static int
collect(const char *type, void *ctx)
{
	struct drain_list *l = ctx;

	return list_pending(l->root, type, &l->items, &l->n, &l->cap);
}

int
queue_drain(const struct config *cfg, char *const *env,
	    struct drain_counts *counts)
{
	struct drain_list l = { cfg->spool, NULL, 0, 0 };

	memset(counts, 0, sizeof(*counts));
	if (each_type(cfg->spool, collect, &l) < 0) {
		free(l.items);
		return -1;
	}
	if (l.n > 1)
		qsort(l.items, l.n, sizeof(*l.items), by_id);
	for (size_t i = 0; i < l.n; i++) {
		switch (queue_run(cfg, l.items[i].type, l.items[i].id, env,
				  NULL)) {
		case QUEUE_DONE: counts->done++; break;
		case QUEUE_RETRY: counts->retried++; break;
		case QUEUE_FAILED: counts->failed++; break;
		case QUEUE_SKIPPED: counts->skipped++; break;
		case QUEUE_ERROR: counts->errors++; break;
		}
	}
	free(l.items);
	return 0;
}

/* Counts the events in one of a type's directories; oldest mtime too. */
static long
count_events(const char *root, const char *type, const char *sub,
	     time_t *oldest)
{
	char path[PATH_MAX];
	struct dirent *de;
	long n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/%s/%s", root, type, sub);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		struct stat st;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".json"))
			continue;
		n++;
		if (oldest && fstatat(dirfd(dir), de->d_name, &st, 0) == 0 &&
		    (*oldest == 0 || st.st_mtime < *oldest))
			*oldest = st.st_mtime;
	}
	closedir(dir);
	return n;
}

struct status_ctx {
	const char *root;
	struct json_object *types;
};

static int
add_type_status(const char *type, void *ctx)
{
	struct status_ctx *sc = ctx;
	struct json_object *t = json_object_new_object();
	time_t oldest = 0;

	json_object_object_add(t, "new", json_object_new_int64(
		count_events(sc->root, type, "new", &oldest)));
	json_object_object_add(t, "cur", json_object_new_int64(
		count_events(sc->root, type, "cur", NULL)));
	json_object_object_add(t, "failed", json_object_new_int64(
		count_events(sc->root, type, "failed", NULL)));
	json_object_object_add(t, "oldest_pending_seconds",
			       oldest ? json_object_new_int64(time(NULL) - oldest)
				      : NULL);
	json_object_object_add(sc->types, type, t);
	return 0;
}

int
queue_status(const struct config *cfg, int json, FILE *out)
{
	struct status_ctx sc = { cfg->spool, json_object_new_object() };

	if (each_type(cfg->spool, add_type_status, &sc) < 0) {
		json_object_put(sc.types);
		return -1;
	}
	if (json) {
		struct json_object *root = json_object_new_object();

		json_object_object_add(root, "types", sc.types);
		fprintf(out, "%s\n", json_object_to_json_string_ext(
					     root, JSON_C_TO_STRING_PLAIN));
		json_object_put(root);
		return 0;
	}
	fprintf(out, "%-24s %8s %8s %8s  %s\n", "type", "new", "cur", "failed",
		"oldest pending");
	json_object_object_foreach(sc.types, type, t) {
		struct json_object *age = json_object_object_get(
			t, "oldest_pending_seconds");
		char age_text[32] = "-";

		if (age)
			snprintf(age_text, sizeof(age_text), "%llds",
				 (long long)json_object_get_int64(age));
		fprintf(out, "%-24s %8lld %8lld %8lld  %s\n", type,
			(long long)json_object_get_int64(json_object_object_get(t, "new")),
			(long long)json_object_get_int64(json_object_object_get(t, "cur")),
			(long long)json_object_get_int64(json_object_object_get(t, "failed")),
			age_text);
	}
	json_object_put(sc.types);
	return 0;
}
