/* See LICENSE file for copyright and license details. */
/*
 * Claims on queued events, maildir style: taking one, its heartbeat,
 * and taking over a claim whose runner is gone, on one host or several.
 */
#include "queue_claim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spool_rename.h"

void
claim_host(char out[CLAIM_HOST_MAX + 1])
{
	char name[256] = "";

	if (gethostname(name, sizeof(name) - 1) < 0 || !name[0])
		snprintf(name, sizeof(name), "localhost");
	snprintf(out, CLAIM_HOST_MAX + 1, "%s", name);
	for (char *p = out; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", *p))
			*p = '_';
}

/* Fills c for event id of t, with a claim name of our own. */
static int
claim_init(const struct spool_type *t, const char *id, struct claim *c)
{
	char host[CLAIM_HOST_MAX + 1], random[SPOOL_RANDOM_HEX + 1];

	memset(c, 0, sizeof(*c));
	c->t = t;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->json, sizeof(c->json), "%s.json", id);
	claim_host(host);
	if (spool_random_hex(random) < 0)
		return -1;
	if (snprintf(c->name, sizeof(c->name), "%s" CLAIM_MARK "%s.%ld.%s", id,
		     host, (long)getpid(), random) >= (int)sizeof(c->name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
claim_take(const struct spool_type *t, const char *id, struct claim *c)
{
	if (claim_init(t, id, c) < 0)
		return -1;
	if (utimensat(t->new, c->json, NULL, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 1 : -1;
	if (spool_rename(t->new, c->json, t->new, c->name) < 0)
		return errno == ENOENT ? 1 : -1;
	utimensat(t->new, c->name, NULL, AT_SYMLINK_NOFOLLOW);
	return 0;
}

int
claim_take_over(const struct spool_type *t, const char *name,
		struct claim *c)
{
	char id[ID_LEN_MAX + 1];
	const char *mark = strstr(name, CLAIM_MARK);
	size_t len = mark ? (size_t)(mark - name) : 0;

	if (!mark || len == 0 || len > ID_LEN_MAX) {
		errno = EINVAL;
		return -1;
	}
	memcpy(id, name, len);
	id[len] = '\0';
	/* Touched first, like a claim taken anew, so none takes it from us. */
	if (claim_init(t, id, c) < 0 ||
	    utimensat(t->new, name, NULL, AT_SYMLINK_NOFOLLOW) < 0 ||
	    spool_rename(t->new, name, t->new, c->name) < 0)
		return -1;
	utimensat(t->new, c->name, NULL, AT_SYMLINK_NOFOLLOW);
	return 0;
}

int
claim_release(struct claim *c)
{
	if (spool_rename(c->t->new, c->name, c->t->new, c->json) == 0)
		return 0;
	log_line("queue %s: cannot return it to pending: %s; it will be "
		 "after CLAIM_TIMEOUT", c->id, strerror(errno));
	return -1;
}

int
claim_touch(void *ctx)
{
	struct claim *c = ctx;

	if (c->lost)
		return -1;
	if (utimensat(c->t->new, c->name, NULL, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT)
		return 0;
	c->lost = 1;
	log_line("queue %s: its claim was taken over while the hook ran: the "
		 "runner was too slow to keep it fresh", c->id);
	return -1;
}

int
claim_finish(struct claim *c, int to_dir)
{
	if (c->lost) {
		errno = ENOENT;
		return -1;
	}
	return spool_rename(c->t->new, c->name, to_dir, c->json);
}

/*
 * On NFS a touch takes the server's clock, for every host; on GlusterFS,
 * which has no clock of its own, the touching host's, as heartbeats do;
 * locally the kernel's. A file's creation time would not do: GlusterFS
 * takes it from the client.
 */
int
claim_clock(const struct spool_type *t, struct timespec *now)
{
	char name[NAME_MAX + 1] = "", random[SPOOL_RANDOM_HEX + 1];
	struct stat st;
	int fd, rc;

	/* Unnamed where it can be, so that a killed runner leaves nothing. */
	fd = openat(t->tmp, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC,
		    SPOOL_FILE_MODE);
	if (fd < 0) {
		if (spool_random_hex(random) < 0)
			return -1;
		snprintf(name, sizeof(name), ".clock.%s", random);
		fd = openat(t->tmp, name, O_WRONLY | O_CREAT | O_EXCL |
					    O_NOFOLLOW | O_CLOEXEC,
			    SPOOL_FILE_MODE);
	}
	if (fd < 0)
		return -1;
	rc = futimens(fd, NULL) == 0 && fstat(fd, &st) == 0 ? 0 : -1;
	close(fd);
	if (name[0])
		unlinkat(t->tmp, name, 0);
	if (rc == 0)
		*now = st.st_mtim;
	return rc;
}

long long
claim_age(const struct spool_type *t, const char *name,
	  const struct timespec *now)
{
	struct stat st;
	long long age;

	if (fstatat(t->new, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	age = (long long)(now->tv_sec - st.st_mtim.tv_sec);
	if (now->tv_nsec < st.st_mtim.tv_nsec)
		age--;
	return age < 0 ? 0 : age;
}
