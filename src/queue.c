#include "queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "hook.h"
#include "id.h"
#include "log.h"
#include "sig.h"
#include "spool.h"

#define BACKOFF_MAX 21600 /* seconds: retries at least every six hours */
#define ERROR_MAX 200
#define HOST_MAX 64
#define CLAIM_MARK ".json.claim."
#define LOCKS_DIR ".locks"
#define SLOT_WAIT_MS 20

struct state {
	unsigned attempts;
	long long next; /* earliest time of the next attempt, epoch seconds */
	char error[ERROR_MAX];
};

/* One drain: who it is, and what it is told to pass on to hooks. */
struct runner {
	const struct config *cfg;
	char host[HOST_MAX + 1];
	char *const *env_first, *const *env_second;
	struct drain_counts *counts;
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

/*
 * This host's name as a claim may carry it: the characters a file name
 * can hold safely, at most HOST_MAX of them.
 */
static void
host_name(char out[HOST_MAX + 1])
{
	char name[256] = "";

	if (gethostname(name, sizeof(name) - 1) < 0 || !name[0])
		snprintf(name, sizeof(name), "localhost");
	snprintf(out, HOST_MAX + 1, "%s", name);
	for (char *p = out; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-.", *p))
			*p = '_';
}

/*
 * Opens name below dir for reading, only if it is a regular file: never
 * through a link, and never blocking on a FIFO planted in its place.
 * Returns the descriptor, or -1 with errno set (EINVAL for another kind).
 */
static int
open_regular(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					   O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int saved = S_ISREG(st.st_mode) ? errno : EINVAL;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Reads <id>.state from new/. A missing file is a first attempt; one that
 * exists but cannot be read or parsed is an error, never a fresh start.
 * Returns 0, or -1 with the reason in why.
 */
static int
read_state(int new_fd, const char *id, struct state *st, char *why,
	   size_t why_size)
{
	char name[NAME_MAX + 1], buf[ERROR_MAX + 64], *error;
	int fd, ok = 0;
	FILE *f;

	memset(st, 0, sizeof(*st));
	snprintf(name, sizeof(name), "%s.state", id);
	fd = open_regular(new_fd, name);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		snprintf(why, why_size, "cannot read its state: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) && sscanf(buf, "attempts %u",
						  &st->attempts) == 1)
		ok++;
	if (fgets(buf, sizeof(buf), f) && sscanf(buf, "next %lld",
						  &st->next) == 1)
		ok++;
	if (fgets(buf, sizeof(buf), f) && (error = strchr(buf, ' '))) {
		error[strcspn(error, "\n")] = '\0';
		snprintf(st->error, sizeof(st->error), "%s", error + 1);
	}
	fclose(f);
	if (ok < 2) {
		snprintf(why, why_size, "its state file cannot be parsed");
		return -1;
	}
	return 0;
}

static long long
backoff(const struct config *cfg, unsigned attempts)
{
	long long delay = cfg->retry_delay;

	for (unsigned i = 1; i < attempts && delay < BACKOFF_MAX; i++)
		delay *= 2;
	return delay < BACKOFF_MAX ? delay : BACKOFF_MAX;
}

/* An event claimed by this runner. */
struct claim {
	const struct spool_type *t;
	const char *id;
	char json[NAME_MAX + 1];  /* <id>.json, its pending name */
	char name[NAME_MAX + 1];  /* <id>.json.claim.<host>.<pid>.<random> */
	int lost;                 /* the heartbeat found it taken over */
};

static int
claim_name(const struct runner *r, const char *id, char *out, size_t size)
{
	unsigned char random[8];

	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
		return -1;
	if (snprintf(out, size,
		     "%s" CLAIM_MARK "%s.%ld.%02x%02x%02x%02x%02x%02x%02x%02x",
		     id, r->host, (long)getpid(), random[0], random[1],
		     random[2], random[3], random[4], random[5], random[6],
		     random[7]) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Claims pending event id by renaming it to a name of our own. It is
 * touched first, so that a claim is never seen with the stale time of an
 * old event. Returns 0 when claimed, 1 when another runner has it (or it
 * is gone), -1 with errno set on an error.
 */
static int
claim_take(const struct runner *r, const struct spool_type *t, const char *id,
	   struct claim *c)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->id = id;
	snprintf(c->json, sizeof(c->json), "%s.json", id);
	if (claim_name(r, id, c->name, sizeof(c->name)) < 0)
		return -1;
	if (utimensat(t->new, c->json, NULL, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 1 : -1;
	if (spool_rename(t->new, c->json, t->new, c->name) < 0)
		return errno == ENOENT ? 1 : -1;
	utimensat(t->new, c->name, NULL, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* Returns the claimed event to the pending ones, under its own name. */
static int
claim_release(struct claim *c)
{
	if (spool_rename(c->t->new, c->name, c->t->new, c->json) == 0)
		return 0;
	log_line("queue %s: cannot return it to pending: %s; it will be "
		 "after CLAIM_TIMEOUT", c->id, strerror(errno));
	return -1;
}

/* The hook's heartbeat: the claim's time, kept fresh while it runs. */
static void
claim_touch(void *ctx)
{
	struct claim *c = ctx;

	if (c->lost || utimensat(c->t->new, c->name, NULL,
				 AT_SYMLINK_NOFOLLOW) == 0)
		return;
	if (errno == ENOENT) {
		c->lost = 1;
		log_line("queue %s: its claim was taken over while the hook "
			 "ran: the runner was too slow to keep it fresh", c->id);
	}
}

/*
 * Moves the claimed event to cur/ or failed/ as <id>.json, where the
 * name came from nobody else; a lost claim cannot be moved.
 */
static int
claim_finish(struct claim *c, int to_dir)
{
	if (c->lost) {
		errno = ENOENT;
		return -1;
	}
	return spool_rename(c->t->new, c->name, to_dir, c->json);
}

static void
remove_state(const struct spool_type *t, const char *id)
{
	char name[NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s.state", id);
	if (unlinkat(t->new, name, 0) < 0 && errno != ENOENT)
		log_line("queue %s: cannot remove its state: %s", id,
			 strerror(errno));
}

/*
 * Records a failed attempt of the claimed event: pending again after
 * delay seconds, or, at MAX_ATTEMPTS, to failed/ with <id>.error. The
 * state is written before the event is released, so the next runner to
 * claim it sees the attempt.
 */
static enum queue_outcome
record_failure(const struct runner *r, struct claim *c,
	       const struct state *st, long long delay, const char *why)
{
	const struct config *cfg = r->cfg;
	char text[ERROR_MAX + 64], name[NAME_MAX + 1];
	unsigned attempts = st->attempts + 1;
	int len;

	if (attempts >= cfg->max_attempts) {
		len = snprintf(text, sizeof(text), "attempts %u\nerror %.200s\n",
			       attempts, why);
		snprintf(name, sizeof(name), "%s.error", c->id);
		if (spool_replace_file(c->t->failed, name, text, (size_t)len,
				       cfg->fsync) < 0 ||
		    claim_finish(c, c->t->failed) < 0) {
			log_line("queue %s: cannot move it to failed/: %s",
				 c->id, strerror(errno));
			claim_release(c);
			return QUEUE_ERROR;
		}
		remove_state(c->t, c->id);
		log_line("queue %s: gave up after %u attempts, moved to "
			 "failed/: %s", c->id, attempts, why);
		return QUEUE_FAILED;
	}
	len = snprintf(text, sizeof(text),
		       "attempts %u\nnext %lld\nerror %.200s\n", attempts,
		       (long long)time(NULL) + delay, why);
	snprintf(name, sizeof(name), "%s.state", c->id);
	if (spool_replace_file(c->t->new, name, text, (size_t)len,
			       cfg->fsync) < 0) {
		log_line("queue %s: cannot record attempt %u (%s): %s", c->id,
			 attempts, why, strerror(errno));
		claim_release(c);
		return QUEUE_ERROR;
	}
	if (claim_release(c) < 0)
		return QUEUE_ERROR;
	log_line("queue %s: attempt %u failed, next try in %llds: %s", c->id,
		 attempts, delay, why);
	return QUEUE_RETRY;
}

int
queue_lock_slot(const struct config *cfg, const char *what, unsigned n,
		int wait)
{
	int root_fd, dir = -1, fds[QUEUE_SLOTS_MAX], fd = -1;
	char host[HOST_MAX + 1];
	unsigned i = 0;

	if (n > QUEUE_SLOTS_MAX)
		n = QUEUE_SLOTS_MAX;
	host_name(host);
	root_fd = open(cfg->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -1;
	if (mkdirat(root_fd, LOCKS_DIR, 0750) < 0 && errno != EEXIST)
		goto out;
	dir = openat(root_fd, LOCKS_DIR,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		goto out;
	for (i = 0; i < n; i++) {
		char name[NAME_MAX + 1];

		snprintf(name, sizeof(name), "%s@%s.%u", what, host, i);
		/* Opened for writing: NFS emulates flock with fcntl locks. */
		fds[i] = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW |
						   O_CLOEXEC, 0640);
		if (fds[i] < 0)
			goto out;
	}
	for (;;) {
		for (unsigned j = 0; j < n && fd < 0; j++)
			if (flock(fds[j], LOCK_EX | LOCK_NB) == 0)
				fd = fds[j];
		if (fd >= 0 || !wait)
			break;
		usleep(SLOT_WAIT_MS * 1000);
	}
	if (fd < 0 && !wait)
		errno = EWOULDBLOCK;
out:
	{
		int saved = errno;

		while (i > 0)
			if (fds[--i] != fd)
				close(fds[i]);
		if (dir >= 0)
			close(dir);
		close(root_fd);
		errno = saved;
	}
	return fd;
}

/* Runs the claimed event's hook, from its own file, with a heartbeat. */
static enum queue_outcome
run_claimed(const struct runner *r, struct claim *c, const struct event *ev,
	    const char *hook, const struct state *st)
{
	const struct config *cfg = r->cfg;
	char file[PATH_MAX], key[DELIVERY_KEY_LEN + 1], why[256];
	enum hook_result result;
	int fd;

	fd = open_regular(c->t->new, c->name);
	if (fd < 0 || sig_delivery_key_fd(fd, key) < 0) {
		snprintf(why, sizeof(why), "cannot read the event: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return record_failure(r, c, st, backoff(cfg, st->attempts + 1),
				      why);
	}
	/* config.c made SPOOL absolute: the hook runs in HOOKS. */
	snprintf(file, sizeof(file), "%s/%s/new/%s", cfg->spool, ev->entity,
		 c->name);
	struct hook_call call = {
		.event = ev, .id = c->id, .attempt = st->attempts + 1,
		.event_file = file, .delivery_key = key,
		.env_first = r->env_first, .env_second = r->env_second,
		.heartbeat = claim_touch, .heartbeat_ctx = c,
		.heartbeat_ms = cfg->claim_timeout * 1000 / 4,
	};
	log_line("queue %s: claimed on %s (pid %ld), attempt %u, hook %s",
		 c->id, r->host, (long)getpid(), call.attempt,
		 strrchr(hook, '/') + 1);
	result = hook_run(cfg, hook, &call, fd, why, sizeof(why));
	close(fd);
	if (c->lost)
		return QUEUE_ERROR;
	if (result != HOOK_OK)
		return record_failure(r, c, st, backoff(cfg, st->attempts + 1),
				      why);
	if (claim_finish(c, c->t->cur) < 0) {
		log_line("queue %s: the hook succeeded, but the event cannot "
			 "move to cur/: %s", c->id, strerror(errno));
		claim_release(c);
		return QUEUE_ERROR;
	}
	remove_state(c->t, c->id);
	log_line("queue %s: done, moved to cur/", c->id);
	return QUEUE_DONE;
}

/* Runs the hook of pending event id if it is due and nobody has it. */
static enum queue_outcome
queue_run(const struct runner *r, const char *type,
	  const struct spool_type *t, const char *id)
{
	const struct config *cfg = r->cfg;
	char hook[PATH_MAX], why[256];
	enum queue_outcome outcome;
	struct event ev;
	struct state st;
	struct claim c;
	int found, slot = -1, claimed;

	if (event_of(type, id, &ev) < 0)
		return QUEUE_BUSY;
	if (read_state(t->new, id, &st, why, sizeof(why)) < 0) {
		log_line("queue %s: not run: %s", id, why);
		return QUEUE_ERROR;
	}
	if (st.next > (long long)time(NULL)) {
		if (!r->counts->next_due || st.next < r->counts->next_due)
			r->counts->next_due = st.next;
		return QUEUE_NOT_DUE;
	}
	found = hook_find(cfg->hooks, &ev, hook, sizeof(hook));
	if (found < 0)
		snprintf(why, sizeof(why), "cannot look up its hook: %s",
			 strerror(errno));
	if (found == 0) {
		/* Waited for: the oldest waiting event runs next, as each
		 * waiter claims only once it has a slot. */
		slot = queue_lock_slot(cfg, strrchr(hook, '/') + 1,
				       cfg->hook_concurrency, 1);
		if (slot < 0) {
			log_line("queue %s: not run: cannot lock a hook slot: "
				 "%s", id, strerror(errno));
			return QUEUE_ERROR;
		}
	}
	claimed = claim_take(r, t, id, &c);
	if (claimed != 0) {
		if (claimed < 0)
			log_line("queue %s: cannot claim it: %s", id,
				 strerror(errno));
		outcome = claimed < 0 ? QUEUE_ERROR : QUEUE_BUSY;
		goto out;
	}
	/* Another runner may have recorded an attempt since we looked. */
	if (read_state(t->new, id, &st, why, sizeof(why)) < 0 ||
	    st.next > (long long)time(NULL)) {
		outcome = st.next ? QUEUE_NOT_DUE : QUEUE_ERROR;
		if (outcome == QUEUE_ERROR)
			log_line("queue %s: not run: %s", id, why);
		claim_release(&c);
		goto out;
	}
	if (found < 0) {
		outcome = record_failure(r, &c, &st,
					 backoff(cfg, st.attempts + 1), why);
	} else if (found > 0) {
		outcome = claim_finish(&c, t->cur) == 0 ? QUEUE_DONE
							: QUEUE_ERROR;
		if (outcome == QUEUE_DONE) {
			remove_state(t, id);
			log_line("queue %s: no hook, moved to cur/", id);
		} else {
			log_line("queue %s: cannot move it to cur/: %s", id,
				 strerror(errno));
			claim_release(&c);
		}
	} else {
		outcome = run_claimed(r, &c, &ev, hook, &st);
	}
out:
	if (slot >= 0)
		close(slot);
	return outcome;
}

/*
 * The file system's clock, as a heartbeat reads it: the time a touch
 * (utimensat with no time given, as claim_touch does) puts on a file of
 * our own in tmp/. On NFS that is the server's clock for every host; on
 * GlusterFS, which has no clock of its own, the touching host's, as for
 * heartbeats; locally the kernel's. A file's creation time would not do:
 * GlusterFS takes it from the client. Returns 0, or -1.
 */
static int
fs_now(const struct runner *r, const struct spool_type *t,
       struct timespec *now)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), ".clock.%s.%ld", r->host, (long)getpid());
	fd = openat(t->tmp, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				       O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (futimens(fd, NULL) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		unlinkat(t->tmp, name, 0);
		return -1;
	}
	close(fd);
	unlinkat(t->tmp, name, 0);
	*now = st.st_mtim;
	return 0;
}

/*
 * Returns a dead claim (its heartbeat older than CLAIM_TIMEOUT) to the
 * pending events. It is first renamed to a claim of ours, so that of
 * several runners finding it only one returns it; its attempt is counted,
 * so a hook that kills its runner every time still ends in failed/.
 * Returns 1 when it is pending again, else 0.
 */
static int
return_dead_claim(const struct runner *r, const struct spool_type *t,
		  const char *name, long long age)
{
	char id[ID_LEN_MAX + 1], why[256];
	const char *owner = strstr(name, CLAIM_MARK);
	struct state st;
	struct claim c;
	size_t len = (size_t)(owner - name);

	if (len > ID_LEN_MAX)
		return 0;
	memcpy(id, name, len);
	id[len] = '\0';
	owner += sizeof(CLAIM_MARK) - 1;
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.id = id;
	snprintf(c.json, sizeof(c.json), "%s.json", id);
	if (claim_name(r, id, c.name, sizeof(c.name)) < 0 ||
	    spool_rename(t->new, name, t->new, c.name) < 0)
		return 0;
	utimensat(t->new, c.name, NULL, AT_SYMLINK_NOFOLLOW);
	log_line("queue %s: claim of %s has had no heartbeat for %llds, "
		 "returned to pending", id, owner, age);
	snprintf(why, sizeof(why), "its runner %.100s stopped during the hook",
		 owner);
	if (read_state(t->new, id, &st, why, sizeof(why)) < 0) {
		log_line("queue %s: %s", id, why);
		return claim_release(&c) == 0;
	}
	r->counts->returned++;
	return record_failure(r, &c, &st, 0, why) == QUEUE_RETRY;
}

/* A listing of directory fd, which stays open for the caller. */
static DIR *
open_listing(int fd)
{
	int copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = copy >= 0 ? fdopendir(copy) : NULL;

	if (!dir && copy >= 0)
		close(copy);
	return dir;
}

struct pending {
	char type[ENTITY_MAX + 1];
	char id[ID_LEN_MAX + 1];
};

struct drain_list {
	const struct runner *r;
	struct pending *items;
	size_t n, cap;
};

static int
add_pending(struct drain_list *l, const char *type, const char *id,
	    size_t id_len)
{
	if (l->n == l->cap) {
		struct pending *grown;

		l->cap = l->cap ? 2 * l->cap : 256;
		grown = realloc(l->items, l->cap * sizeof(*l->items));
		if (!grown)
			return -1;
		l->items = grown;
	}
	snprintf(l->items[l->n].type, sizeof(l->items[l->n].type), "%s", type);
	memcpy(l->items[l->n].id, id, id_len);
	l->items[l->n].id[id_len] = '\0';
	l->n++;
	return 0;
}

/* Is claim name dead, by the file system's clock? Its age goes in *age. */
static int
claim_is_dead(const struct runner *r, const struct spool_type *t,
	      const char *name, const struct timespec *now, long long *age)
{
	struct stat st;

	if (fstatat(t->new, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	*age = (long long)(now->tv_sec - st.st_mtim.tv_sec);
	if (now->tv_nsec < st.st_mtim.tv_nsec)
		(*age)--;
	return *age >= (long long)r->cfg->claim_timeout;
}

/* Lists the pending events of one type, returning dead claims first. */
static int
collect(const char *type, struct spool_type *t, void *ctx)
{
	struct drain_list *l = ctx;
	struct timespec now;
	int have_now = 0;
	struct dirent *de;
	DIR *dir;

	if (!t) {
		l->r->counts->errors++;
		return 0;
	}
	if (t->new < 0)
		return 0;
	if (!(dir = open_listing(t->new)))
		return -1;
	while ((de = readdir(dir))) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		long long age;

		if (name[0] == '.')
			continue;
		if (strstr(name, CLAIM_MARK)) {
			if (!have_now && fs_now(l->r, t, &now) < 0) {
				log_line("spool type %s: cannot read the file "
					 "system's clock: %s; claims are not "
					 "checked", type, strerror(errno));
				have_now = -1;
			} else if (!have_now) {
				have_now = 1;
			}
			if (have_now <= 0 ||
			    !claim_is_dead(l->r, t, name, &now, &age)) {
				l->r->counts->busy++;
				continue;
			}
			if (return_dead_claim(l->r, t, name, age) &&
			    add_pending(l, type, name,
					(size_t)(strstr(name, CLAIM_MARK) -
						 name)) < 0)
				goto fail;
			continue;
		}
		if (!has_suffix(name, ".json") || len - 5 > ID_LEN_MAX)
			continue;
		if (add_pending(l, type, name, len - 5) < 0)
			goto fail;
	}
	closedir(dir);
	return 0;
fail:
	closedir(dir);
	return -1;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->id,
		      ((const struct pending *)b)->id);
}

static void
count(struct drain_counts *c, enum queue_outcome outcome)
{
	switch (outcome) {
	case QUEUE_DONE: c->done++; break;
	case QUEUE_RETRY: c->retried++; break;
	case QUEUE_FAILED: c->failed++; break;
	case QUEUE_NOT_DUE: c->not_due++; break;
	case QUEUE_BUSY: c->busy++; break;
	case QUEUE_ERROR: c->errors++; break;
	}
}

int
queue_drain(const struct config *cfg, const char *type,
	    char *const *env_first, char *const *env_second,
	    struct drain_counts *counts)
{
	struct runner r = { cfg, "", env_first, env_second, counts };
	struct drain_list l = { &r, NULL, 0, 0 };
	struct spool_type t;
	int rc;

	memset(counts, 0, sizeof(*counts));
	host_name(r.host);
	if (type) {
		if (spool_type_open(cfg->spool, type, 1, &t) < 0)
			return errno == ENOENT ? 0 : -1;
		rc = collect(type, &t, &l);
		spool_type_close(&t);
	} else {
		rc = spool_each_type(cfg->spool, 1, collect, &l);
	}
	if (rc < 0) {
		free(l.items);
		return -1;
	}
	if (l.n > 1)
		qsort(l.items, l.n, sizeof(*l.items), by_id);
	for (size_t i = 0; i < l.n; i++) {
		/* Opened anew for each event: a type may be swapped meanwhile. */
		if (spool_type_open(cfg->spool, l.items[i].type, 1, &t) < 0) {
			log_line("queue %s: cannot open its type's directories: "
				 "%s", l.items[i].id, strerror(errno));
			counts->errors++;
			continue;
		}
		count(counts, queue_run(&r, l.items[i].type, &t, l.items[i].id));
		spool_type_close(&t);
	}
	free(l.items);
	return 0;
}

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

	if (dir_fd < 0 || !(dir = open_listing(dir_fd)))
		return 0;
	while ((de = readdir(dir))) {
		time_t t;

		if (de->d_name[0] == '.')
			continue;
		if (running && strstr(de->d_name, CLAIM_MARK)) {
			(*running)++;
		} else if (has_suffix(de->d_name, ".json")) {
			n++;
			t = oldest ? id_time(de->d_name) : 0;
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
			       oldest ? json_object_new_int64(time(NULL) - oldest)
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
	snprintf(name, sizeof(name), "%s.state", id);
	if (unlinkat(t->new, name, 0) < 0 && errno != ENOENT)
		goto fail;
	if (spool_rename(from, json, t->new, json) < 0) {
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	snprintf(name, sizeof(name), "%s.error", id);
	if (t->failed >= 0)
		unlinkat(t->failed, name, 0);
	log_line("queue %s: back to pending from %s/%s", id, type,
		 rq->from_cur ? "cur" : "failed");
	rq->moved++;
	return 0;
fail:
	log_line("queue %s: cannot move it back to pending: %s", id,
		 strerror(errno));
	rq->error = errno;
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
	whole_type = !rq->from_cur && (!rq->what || strcmp(rq->what, type) == 0);
	if (from < 0 || t->new < 0)
		return 0;
	if (!whole_type) {
		if (strlen(rq->what) <= ID_LEN_MAX && !strchr(rq->what, '/'))
			requeue_one(type, t, rq->what, rq);
		return 0;
	}
	if (!(dir = open_listing(from)))
		return -1;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		char id[ID_LEN_MAX + 1];

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".json") ||
		    len - 5 > ID_LEN_MAX)
			continue;
		memcpy(id, de->d_name, len - 5);
		id[len - 5] = '\0';
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
