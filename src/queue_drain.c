/* See LICENSE file for copyright and license details. */
/*
 * Queue mode's drain: each due event claimed, its hook run, the outcome
 * recorded (done, retry later, or failed), dead claims returned.
 */
#include "queue_drain.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "hook.h"
#include "id.h"
#include "log.h"
#include "metrics.h"
#include "queue_failed.h"
#include "queue_claim.h"
#include "queue_record.h"
#include "queue_slot.h"
#include "spool_rename.h"
#include "spool_type.h"

#define BACKOFF_MAX 21600 /* seconds: retries at least every six hours */

/* One drain: who it is, and what it is told to pass on to hooks. */
struct drain_pass {
	const struct config *cfg;
	char host[CLAIM_HOST_MAX + 1];
	char *const *env_first, *const *env_second;
	struct drain_counts *counts;
	int now; /* every pending event is due, whatever its backoff */
};

/* The event an id names: its type directory and the action ending the id. */
static int
event_of(const char *type, const char *id, struct event *ev)
{
	const char *dash = strrchr(id, '-');

	if (!dash || !dash[1] || strlen(type) > ENTITY_MAX ||
	    strlen(dash + 1) > ACTION_MAX)
		return -1;
	snprintf(ev->entity, sizeof(ev->entity), "%s", type);
	snprintf(ev->action, sizeof(ev->action), "%s", dash + 1);
	snprintf(ev->name, sizeof(ev->name), "%s.%s", type, dash + 1);
	return 0;
}

/*
 * Reads <id>.state from new/. A missing file is a first attempt; one that
 * exists but cannot be read or parsed is an error, never a fresh start.
 * Returns 0, or -1 with the reason in why.
 */
static int
read_state(int new_fd, const char *id, struct queue_record *st, char *why,
	   size_t why_size)
{
	char name[NAME_MAX + 1];
	int rc;

	snprintf(name, sizeof(name), "%s.state", id);
	rc = record_read(new_fd, name, st);
	if (rc == 0 && !st->has_next) {
		errno = EBADMSG;
		rc = -1;
	}
	if (rc < 0) {
		if (errno == EBADMSG)
			snprintf(why, why_size,
				 "its state file cannot be parsed");
		else
			snprintf(why, why_size, "cannot read its state: %s",
				 strerror(errno));
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
 * Records a failed attempt of the claimed event, with why and the last
 * lines of the hook's output: pending again after delay seconds, or, at
 * MAX_ATTEMPTS, to failed/ with <id>.error. The state is written before
 * the event is released, so the next runner to claim it sees the attempt.
 */
static enum queue_outcome
record_failure(const struct drain_pass *pass, struct claim *c,
	       const struct queue_record *st, long long delay, const char *why,
	       const char *output)
{
	const struct config *cfg = pass->cfg;
	struct queue_record r;
	char name[NAME_MAX + 1];

	memset(&r, 0, sizeof(r));
	r.attempts = st->attempts + 1;
	r.next = (long long)time(NULL) + delay;
	snprintf(r.error, sizeof(r.error), "%s", why);
	snprintf(r.output, sizeof(r.output), "%s", output ? output : "");
	if (r.attempts >= cfg->max_attempts) {
		snprintf(name, sizeof(name), "%s.error", c->id);
		if (record_write(c->t->failed, name, &r, 0, cfg->fsync) < 0 ||
		    claim_finish(c, c->t->failed) < 0) {
			log_line("queue %s: cannot move it to failed/: %s",
				 c->id, strerror(errno));
			claim_release(c);
			return QUEUE_ERROR;
		}
		remove_state(c->t, c->id);
		log_line("queue %s: gave up after %u attempts, moved to "
			 "failed/: %s", c->id, r.attempts, why);
		return QUEUE_FAILED;
	}
	snprintf(name, sizeof(name), "%s.state", c->id);
	if (record_write(c->t->new, name, &r, 1, cfg->fsync) < 0) {
		log_line("queue %s: cannot record attempt %u (%s): %s", c->id,
			 r.attempts, why, strerror(errno));
		claim_release(c);
		return QUEUE_ERROR;
	}
	if (claim_release(c) < 0)
		return QUEUE_ERROR;
	log_line("queue %s: attempt %u failed, next try in %llds: %s", c->id,
		 r.attempts, delay, why);
	return QUEUE_RETRY;
}

/* Runs the claimed event's hook, from its own file, with a heartbeat. */
static enum queue_outcome
run_claimed(const struct drain_pass *pass, struct claim *c,
	    const struct event *ev, const char *hook,
	    const struct queue_record *st)
{
	const struct config *cfg = pass->cfg;
	char file[PATH_MAX], why[256], tail[HOOK_TAIL_MAX];
	enum hook_result result;
	struct timespec start, end;
	long long us;
	int fd;

	fd = spool_open_regular(c->t->new, c->name);
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot read the event: %s",
			 strerror(errno));
		return record_failure(pass, c, st,
				      backoff(cfg, st->attempts + 1), why,
				      NULL);
	}
	/* config.c made SPOOL absolute: the hook runs in HOOKS. */
	if (snprintf(file, sizeof(file), "%s/%s/new/%s", cfg->spool,
		     ev->entity, c->name) >= (int)sizeof(file)) {
		close(fd);
		return record_failure(pass, c, st,
				      backoff(cfg, st->attempts + 1),
				      "the event's path is too long", NULL);
	}
	struct hook_call call = {
		.event = ev, .id = c->id, .attempt = st->attempts + 1,
		.event_file = file,
		.timeout = cfg->hook_timeout,
		.env_names = cfg->hook_env_names,
		.env_first = pass->env_first, .env_second = pass->env_second,
		.heartbeat = claim_touch, .heartbeat_ctx = c,
		.heartbeat_ms = cfg->claim_timeout * 1000 / 4,
		.tail = tail,
	};
	log_line("queue %s: claimed on %s (pid %ld), attempt %u, hook %s",
		 c->id, pass->host, (long)getpid(), call.attempt,
		 strrchr(hook, '/') + 1);
	clock_gettime(CLOCK_MONOTONIC, &start);
	result = hook_run(cfg->hooks, hook, &call, fd, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &end);
	close(fd);
	us = (long long)(end.tv_sec - start.tv_sec) * 1000000 +
	     (end.tv_nsec - start.tv_nsec) / 1000;
	/*
	 * Taken over by another runner, the event is its to record: a
	 * runner stopped for longer than CLAIM_TIMEOUT learns it here.
	 */
	if (claim_touch(c) < 0)
		return QUEUE_ERROR;
	if (result != HOOK_OK) {
		enum queue_outcome o = record_failure(
			pass, c, st, backoff(cfg, st->attempts + 1), why,
			tail);

		if (o == QUEUE_RETRY || o == QUEUE_FAILED)
			metrics_count_hook(cfg, ev->entity,
					   o == QUEUE_RETRY ? METRICS_RETRY
							    : METRICS_FAILED,
					   us);
		return o;
	}
	metrics_count_hook(cfg, ev->entity, METRICS_DONE, us);
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
queue_run(const struct drain_pass *pass, const char *type,
	  const struct spool_type *t, const char *id)
{
	const struct config *cfg = pass->cfg;
	char hook[PATH_MAX], why[256];
	enum queue_outcome outcome;
	struct queue_record st;
	struct event ev;
	struct claim c;
	int found, slot = -1, claimed;

	if (event_of(type, id, &ev) < 0) {
		log_line("queue %s: not run: an id without an action, which no "
			 "receiver makes", id);
		return QUEUE_ERROR;
	}
	if (read_state(t->new, id, &st, why, sizeof(why)) < 0) {
		log_line("queue %s: not run: %s", id, why);
		return QUEUE_ERROR;
	}
	if (!pass->now && st.next > (long long)time(NULL)) {
		if (!pass->counts->next_due || st.next < pass->counts->next_due)
			pass->counts->next_due = st.next;
		return QUEUE_NOT_DUE;
	}
	found = hook_find(cfg->hooks, &ev, hook, sizeof(hook));
	if (found < 0)
		snprintf(why, sizeof(why), "cannot look up its hook: %s",
			 strerror(errno));
	if (found == 0) {
		char name[NAME_MAX + 1];

		/*
		 * Waited for: the oldest waiting event runs next, as each
		 * waiter claims only once it has a slot.
		 */
		snprintf(name, sizeof(name), "hook-%s", strrchr(hook, '/') + 1);
		slot = slot_lock(cfg, name, cfg->hook_concurrency, 1);
		if (slot < 0) {
			log_line("queue %s: not run: cannot lock a hook slot: "
				 "%s", id, strerror(errno));
			return QUEUE_ERROR;
		}
	}
	claimed = claim_take(t, id, &c);
	if (claimed != 0) {
		if (claimed < 0)
			log_line("queue %s: cannot claim it: %s", id,
				 strerror(errno));
		outcome = claimed < 0 ? QUEUE_ERROR : QUEUE_BUSY;
		goto out;
	}
	/* Another runner may have recorded an attempt since we looked. */
	if (read_state(t->new, id, &st, why, sizeof(why)) < 0) {
		log_line("queue %s: not run: %s", id, why);
		outcome = QUEUE_ERROR;
		claim_release(&c);
		goto out;
	}
	if (!pass->now && st.next > (long long)time(NULL)) {
		outcome = QUEUE_NOT_DUE;
		claim_release(&c);
		goto out;
	}
	if (found < 0) {
		outcome = record_failure(pass, &c, &st,
					 backoff(cfg, st.attempts + 1), why,
					 NULL);
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
		outcome = run_claimed(pass, &c, &ev, hook, &st);
	}
out:
	if (slot >= 0)
		close(slot);
	if (outcome == QUEUE_FAILED)
		queue_failed_notify(cfg, t, &ev, id, pass->env_first,
				    pass->env_second);
	return outcome;
}

/*
 * Returns a dead claim (its heartbeat older than CLAIM_TIMEOUT) to the
 * pending events. It is first taken over as a claim of ours, so that of
 * several runners finding it only one returns it; its attempt is counted,
 * so a hook that kills its runner every time still ends in failed/.
 * Returns 1 when it is pending again, with its id in id, else 0.
 */
static int
return_dead_claim(const struct drain_pass *pass, const char *type,
		  const struct spool_type *t, const char *name, long long age,
		  char id[ID_LEN_MAX + 1])
{
	const char *owner = strstr(name, CLAIM_MARK) + sizeof(CLAIM_MARK) - 1;
	struct queue_record st;
	struct claim c;
	char why[256];

	if (claim_take_over(t, name, &c) < 0)
		return 0;
	snprintf(id, ID_LEN_MAX + 1, "%s", c.id);
	log_line("queue %s: claim of %s has had no heartbeat for %llds, "
		 "returned to pending", c.id, owner, age);
	if (read_state(t->new, c.id, &st, why, sizeof(why)) < 0) {
		log_line("queue %s: %s", c.id, why);
		return claim_release(&c) == 0;
	}
	snprintf(why, sizeof(why), "its runner %.100s stopped during the hook",
		 owner);
	pass->counts->returned++;
	metrics_count_returned(pass->cfg, type);
	switch (record_failure(pass, &c, &st, 0, why, NULL)) {
	case QUEUE_RETRY:
		return 1;
	case QUEUE_FAILED: {
		struct event ev;

		if (event_of(type, id, &ev) == 0)
			queue_failed_notify(pass->cfg, t, &ev, id,
					    pass->env_first, pass->env_second);
		return 0;
	}
	default:
		return 0;
	}
}

struct pending {
	char type[ENTITY_MAX + 1];
	char id[ID_LEN_MAX + 1];
};

struct drain_list {
	const struct drain_pass *pass;
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

/* Lists the pending events of one type, returning dead claims first. */
static int
collect(const char *type, struct spool_type *t, void *ctx)
{
	struct drain_list *l = ctx;
	char id[ID_LEN_MAX + 1];
	struct timespec now;
	int have_now = 0;
	struct dirent *de;
	DIR *dir;

	if (!t) {
		l->pass->counts->errors++;
		return 0;
	}
	if (t->new < 0)
		return 0;
	if (!(dir = spool_list(t->new)))
		return -1;
	while ((de = readdir(dir))) {
		const char *name = de->d_name;
		long long age;

		if (name[0] != '.' && strstr(name, CLAIM_MARK)) {
			if (!have_now) {
				have_now = claim_clock(t, &now) == 0 ? 1 : -1;
				if (have_now < 0)
					log_line("spool type %s: no clock of "
						 "the file system (%s): claims "
						 "not checked", type,
						 strerror(errno));
			}
			age = have_now > 0 ? claim_age(t, name, &now) : -1;
			if (age < (long long)l->pass->cfg->claim_timeout) {
				l->pass->counts->busy +=
					age >= 0 || have_now < 0;
				continue;
			}
			if (return_dead_claim(l->pass, type, t, name, age, id) &&
			    add_pending(l, type, id, strlen(id)) < 0)
				goto fail;
			continue;
		}
		if (spool_event_id(name, id) && add_pending(l, type, id,
							    strlen(id)) < 0)
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

/*
 * Leaves each id once in the sorted items, returning their new count. A
 * dead claim returned to new/<id>.json while readdir walks new/ may be
 * listed again under that name (POSIX leaves it open whether an entry made
 * during the walk is returned), and a second run of it would only find it
 * gone. Ids are unique across types, so equal ids are the same event.
 */
static size_t
drop_repeats(struct pending *items, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (kept == 0 || strcmp(items[kept - 1].id, items[i].id) != 0)
			items[kept++] = items[i];
	return kept;
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
queue_drain(const struct config *cfg, const char *type, int now,
	    char *const *env_first, char *const *env_second,
	    struct drain_counts *counts)
{
	struct drain_pass pass = { cfg, "", env_first, env_second, counts,
				   now };
	struct drain_list l = { &pass, NULL, 0, 0 };
	struct spool_type t;
	int rc;

	memset(counts, 0, sizeof(*counts));
	claim_host(pass.host);
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
	l.n = drop_repeats(l.items, l.n);
	for (size_t i = 0; i < l.n; i++) {
		/* Opened anew for each event: a type may be swapped. */
		if (spool_type_open(cfg->spool, l.items[i].type, 1, &t) < 0) {
			log_line("queue %s: cannot open its type's "
				 "directories: %s", l.items[i].id,
				 strerror(errno));
			counts->errors++;
			continue;
		}
		count(counts,
		      queue_run(&pass, l.items[i].type, &t, l.items[i].id));
		spool_type_close(&t);
	}
	free(l.items);
	return 0;
}
