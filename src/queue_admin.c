/* See LICENSE file for copyright and license details. */
/* The spool verbs that queue events again: retry and replay. */
#include "queue_admin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "id.h"
#include "log.h"
#include "queue_claim.h"
#include "spool_type.h"

struct requeue {
	const char *what;   /* an id, a type, or NULL for all */
	int from_cur;       /* replay: from cur/, else retry: from failed/ */
	long moved;
	long due;           /* retry: pending events made due now */
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

/*
 * retry of a pending event that waits for its next try: its state goes,
 * so it is due now with a fresh count of attempts. It is claimed first,
 * so that no runner records an attempt meanwhile; one that runs it now
 * is left to finish.
 */
static void
make_due(struct spool_type *t, const char *id, struct requeue *rq)
{
	char name[NAME_MAX + 1];
	struct claim c;
	int claimed;

	snprintf(name, sizeof(name), "%s.state", id);
	if (faccessat(t->new, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return; /* never tried, or done meanwhile: due already */
	claimed = claim_take(t, id, &c);
	if (claimed != 0) {
		if (claimed < 0) {
			rq->error = errno;
			log_line("queue %s: cannot claim it to make it due: "
				 "%s", id, strerror(errno));
		}
		return;
	}
	if (unlinkat(t->new, name, 0) < 0 && errno != ENOENT) {
		rq->error = errno;
		log_line("queue %s: cannot remove its state: %s", id,
			 strerror(errno));
	} else {
		log_line("queue %s: due now, its failed attempts cleared", id);
		rq->due++;
	}
	if (claim_release(&c) < 0)
		rq->error = errno;
}

/* retry of a whole type: each of its pending events with a state. */
static int
make_type_due(struct spool_type *t, struct requeue *rq)
{
	char id[ID_LEN_MAX + 1];
	struct dirent *de;
	DIR *dir;

	if (!(dir = spool_list(t->new)))
		return -1;
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 6 || len - 6 > ID_LEN_MAX ||
		    strcmp(de->d_name + len - 6, ".state") != 0)
			continue;
		memcpy(id, de->d_name, len - 6);
		id[len - 6] = '\0';
		make_due(t, id, rq);
	}
	closedir(dir);
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
		if (strlen(rq->what) <= ID_LEN_MAX && !strchr(rq->what, '/')) {
			requeue_one(type, t, rq->what, rq);
			if (!rq->from_cur)
				make_due(t, rq->what, rq);
		}
		return 0;
	}
	/* Those waiting first: those moved back from failed/ have no state. */
	if (make_type_due(t, rq) < 0 || !(dir = spool_list(from)))
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
requeue(const struct config *cfg, const char *what, int from_cur, long *due)
{
	struct requeue rq = { what, from_cur, 0, 0, 0 };

	if (spool_each_type(cfg->spool, 1, requeue_type, &rq) < 0)
		return -1;
	if (due)
		*due = rq.due;
	if (rq.error) {
		errno = rq.error;
		return -1;
	}
	return rq.moved;
}

long
queue_retry(const struct config *cfg, const char *what, long *due)
{
	return requeue(cfg, what, 0, due);
}

long
queue_replay(const struct config *cfg, const char *what)
{
	return requeue(cfg, what, 1, NULL);
}
