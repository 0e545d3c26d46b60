/* See LICENSE file for copyright and license details. */
/*
 * The shared counter file: made once per host, mapped once per process,
 * added to with atomic adds (metrics.h).
 */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "queue_claim.h"
#include "spool_rename.h"

#define MAGIC "makini-metrics-1" /* a new layout takes a new magic */

const unsigned metrics_statuses[METRICS_STATUSES] = {
	200, 400, 401, 403, 405, 411, 413, 422, 500, 502, 503, 504,
};

const char *const metrics_outcome_names[METRICS_OUTCOMES] = {
	"done", "retry", "failed",
};

const uint64_t metrics_bucket_us[METRICS_BUCKETS] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	30000000, 60000000, 300000000,
};

_Static_assert(sizeof(MAGIC) - 1 == sizeof(((struct metrics_file *)0)->magic),
	       "the magic fills its field");

/*
 * This process's mapping: of the spool it was made for, so that a
 * FastCGI worker whose requests name another spool counts there.
 */
static struct metrics_file *mapped;
static int mapped_fd = -1;
static char mapped_spool[PATH_MAX];
static int failed_once;

/*
 * Makes <host>.counters whole in the counters' directory: zeros and the magic written
 * under a temporary name, synced, then linked into place. Of racing
 * processes one link wins; the others find its file. Returns 0 when the
 * file is there, or -1 with errno set.
 */
static int
create_file(int dir, const char *name)
{
	static const struct metrics_file zero = { .magic = MAGIC };
	char random[SPOOL_RANDOM_HEX + 1];
	char tmp[CLAIM_HOST_MAX + sizeof(METRICS_SUFFIX) + 20];
	int fd, rc = -1;

	if (spool_random_hex(random) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), ".%s.%s", name, random);
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	/* Written, not truncated: every block is there before any add. */
	if (write(fd, &zero, sizeof(zero)) == (ssize_t)sizeof(zero) &&
	    fsync(fd) == 0 &&
	    (linkat(dir, tmp, dir, name, 0) == 0 || errno == EEXIST))
		rc = 0;
	close_saving_errno(fd);
	unlink_saving_errno(dir, tmp);
	return rc;
}

/*
 * The directory of spool's counter files, in memory: METRICS_DIR followed
 * by the spool's device and inode. Not in the spool itself, so that a
 * mapping held open for writing never keeps the spool's file system from
 * being remounted read-only, a refused request leaves nothing in the
 * spool, and no counter page lives on a network file system. Returns 0,
 * or -1 with errno set (ENOENT: no spool yet).
 */
static int
counters_dir(const char *spool, char *out, size_t size)
{
	struct stat st;

	if (stat(spool, &st) < 0)
		return -1;
	if (snprintf(out, size, METRICS_DIR ".%llx.%llx",
		     (unsigned long long)st.st_dev,
		     (unsigned long long)st.st_ino) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Opens (making it when missing) this host's counter file for spool. */
static int
open_counters(const char *spool)
{
	char host[CLAIM_HOST_MAX + 1], path[PATH_MAX], dirpath[PATH_MAX];
	char name[CLAIM_HOST_MAX + sizeof(METRICS_SUFFIX)];
	int dir = -1, fd = -1;

	claim_host(host);
	snprintf(name, sizeof(name), "%s" METRICS_SUFFIX, host);
	if (counters_dir(spool, dirpath, sizeof(dirpath)) < 0)
		return -1;
	if (snprintf(path, sizeof(path), "%s/%s", dirpath, name) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* The usual case, one open: the file is there. */
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if ((mkdir(dirpath, 0750) == 0 || errno == EEXIST) &&
	    (dir = open(dirpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC)) >= 0) {
		if (create_file(dir, name) == 0)
			fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	}
	close_saving_errno(dir);
	return fd;
}

/*
 * This process's counters for cfg's spool, mapped on first use; NULL when
 * they cannot be had. The descriptor stays open: type slots are handed
 * out under its lock, and closing it would only cost a call.
 */
static struct metrics_file *
counters(const struct config *cfg)
{
	struct metrics_file *m;
	int fd;

	if (!cfg->spool)
		return NULL;
	if (mapped && strcmp(mapped_spool, cfg->spool) == 0)
		return mapped;
	if (strlen(cfg->spool) >= sizeof(mapped_spool))
		return NULL;
	fd = open_counters(cfg->spool);
	m = fd < 0 ? MAP_FAILED
		   : mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd, 0);
	if (m == MAP_FAILED) {
		/* No spool yet: the first event makes it, and counts. */
		if (!failed_once && errno != ENOENT)
			log_line("metrics: cannot map the counter file: %s",
				 strerror(errno));
		failed_once = 1;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (memcmp(m->magic, MAGIC, sizeof(m->magic)) != 0) {
		log_line("metrics: the counter file is not one of ours");
		munmap(m, sizeof(*m));
		close(fd);
		return NULL;
	}
	if (mapped) {
		munmap(mapped, sizeof(*mapped));
		close(mapped_fd);
	}
	mapped = m;
	mapped_fd = fd;
	snprintf(mapped_spool, sizeof(mapped_spool), "%s", cfg->spool);
	return m;
}

static void
add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

void
metrics_count_request(const struct config *cfg, unsigned status)
{
	struct metrics_file *m = counters(cfg);
	unsigned i = 0;

	if (!m)
		return;
	while (i < METRICS_STATUSES && metrics_statuses[i] != status)
		i++;
	add(&m->requests[i], 1);
}

static struct metrics_type *
find_type(struct metrics_file *m, const char *type)
{
	for (size_t i = 0; i < METRICS_TYPES_MAX; i++) {
		struct metrics_type *t = &m->types[i];

		if (!__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE))
			return NULL; /* slots are handed out in order */
		if (strcmp(t->name, type) == 0)
			return t;
	}
	return NULL;
}

/*
 * The slot of type, handed out on its first count under the file's lock
 * (once per type and host, never on the request path of spool mode).
 */
static struct metrics_type *
type_slot(const struct config *cfg, const char *type)
{
	struct metrics_file *m = counters(cfg);
	struct metrics_type *t;

	if (!m || strlen(type) > ENTITY_MAX)
		return NULL;
	if ((t = find_type(m, type)))
		return t;
	if (flock(mapped_fd, LOCK_EX) < 0)
		return NULL;
	if (!(t = find_type(m, type))) {
		size_t i = 0;

		while (i < METRICS_TYPES_MAX &&
		       __atomic_load_n(&m->types[i].ready, __ATOMIC_ACQUIRE))
			i++;
		if (i < METRICS_TYPES_MAX) {
			t = &m->types[i];
			snprintf(t->name, sizeof(t->name), "%s", type);
			__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
		} else {
			log_line("metrics: more than %d types, %s not counted",
				 METRICS_TYPES_MAX, type);
		}
	}
	flock(mapped_fd, LOCK_UN);
	return t;
}

void
metrics_count_hook(const struct config *cfg, const char *type,
		   enum metrics_outcome outcome, long long duration_us)
{
	struct metrics_type *t = type_slot(cfg, type);
	uint64_t us = duration_us > 0 ? (uint64_t)duration_us : 0;

	if (!t || outcome >= METRICS_OUTCOMES)
		return;
	for (size_t i = 0; i < METRICS_BUCKETS; i++)
		if (us <= metrics_bucket_us[i]) {
			add(&t->bucket[i], 1);
			break;
		}
	add(&t->duration_us, us);
	add(&t->runs[outcome], 1);
}

void
metrics_count_returned(const struct config *cfg, const char *type)
{
	struct metrics_type *t = type_slot(cfg, type);

	if (t)
		add(&t->returned, 1);
}

void
metrics_count_failure_hook(const struct config *cfg, const char *type,
			   int ok)
{
	struct metrics_type *t = type_slot(cfg, type);

	if (t)
		add(&t->failure_hook[ok ? 0 : 1], 1);
}

int
metrics_each_file(const char *spool,
		  void (*fn)(const char *host, const struct metrics_file *m,
			     void *ctx),
		  void *ctx)
{
	size_t suffix = sizeof(METRICS_SUFFIX) - 1;
	char path[PATH_MAX];
	struct dirent *de;
	int dir;
	DIR *d;

	if (counters_dir(spool, path, sizeof(path)) < 0)
		return errno == ENOENT ? 0 : -1;
	dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(d = fdopendir(dir))) {
		close(dir);
		return -1;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char host[CLAIM_HOST_MAX + 1];
		const struct metrics_file *m;
		struct stat st;
		int fd;

		if (de->d_name[0] == '.' || len <= suffix ||
		    len - suffix > CLAIM_HOST_MAX ||
		    strcmp(de->d_name + len - suffix, METRICS_SUFFIX) != 0)
			continue;
		fd = openat(dir, de->d_name,
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_size < (off_t)sizeof(*m) ||
		    (m = mmap(NULL, sizeof(*m), PROT_READ, MAP_SHARED, fd,
			      0)) == MAP_FAILED) {
			close(fd);
			continue;
		}
		close(fd);
		memcpy(host, de->d_name, len - suffix);
		host[len - suffix] = '\0';
		if (memcmp(m->magic, MAGIC, sizeof(m->magic)) == 0)
			fn(host, m, ctx);
		munmap((void *)m, sizeof(*m));
	}
	closedir(d);
	return 0;
}
