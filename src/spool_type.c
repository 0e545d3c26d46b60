/* See LICENSE file for copyright and license details. */
/*
 * The spool's layout: a type's directories made and opened safely, the
 * walk over the types, and the listing and opening of a type's files.
 */
#include "spool_type.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "io.h"
#include "log.h"

static const char *const subdirs[] = { "tmp", "new", "cur", "failed" };

static int
make_dir(const char *path)
{
	if (mkdir(path, SPOOL_DIR_MODE) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

/* mkdir -p for the spool root, whose parents may be missing too. */
static int
make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (make_dir(buf) < 0)
			return -1;
		*p = '/';
	}
	return make_dir(buf);
}

int
spool_subdir_open(int dirfd, const char *name, int create)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, name, flags);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, SPOOL_DIR_MODE) < 0 && errno != EEXIST)
			return -1;
		fd = openat(dirfd, name, flags);
	}
	return fd;
}

int
spool_prepare(const char *root, const char *type)
{
	int root_fd, type_fd, fd, rc;

	if (make_dirs(root) < 0)
		return -1;
	if (!type)
		return 0;
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -1;
	type_fd = spool_subdir_open(root_fd, type, 1);
	if (type_fd < 0) {
		close_saving_errno(root_fd);
		return -1;
	}
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		fd = spool_subdir_open(type_fd, subdirs[i], 1);
		if (fd < 0) {
			close_saving_errno(type_fd);
			close_saving_errno(root_fd);
			return -1;
		}
		close(fd);
	}
	/*
	 * The new directories' own entries must reach the disk too, or an
	 * event acknowledged in them could vanish with them in a crash. This
	 * runs on a type's first event only.
	 */
	rc = fsync(type_fd) == 0 && fsync(root_fd) == 0 ? 0 : -1;
	close_saving_errno(type_fd);
	close_saving_errno(root_fd);
	return rc;
}

void
spool_type_close(struct spool_type *t)
{
	int *fds[] = { &t->dir, &t->tmp, &t->new, &t->cur, &t->failed };

	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++) {
		close_saving_errno(*fds[i]);
		*fds[i] = -1;
	}
}

static int
open_type_below(int root_fd, const char *type, int create,
		struct spool_type *t)
{
	int *subs[] = { &t->tmp, &t->new, &t->cur, &t->failed };

	t->dir = t->tmp = t->new = t->cur = t->failed = -1;
	if (!event_part_valid(type, ENTITY_MAX)) {
		errno = EINVAL;
		return -1;
	}
	t->dir = spool_subdir_open(root_fd, type, 0);
	if (t->dir < 0)
		return -1;
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++) {
		*subs[i] = spool_subdir_open(t->dir, subdirs[i], create);
		if (*subs[i] < 0 && (create || errno != ENOENT)) {
			spool_type_close(t);
			return -1;
		}
	}
	return 0;
}

int
spool_type_open(const char *root, const char *type, int create,
		struct spool_type *t)
{
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (root_fd < 0) {
		t->dir = t->tmp = t->new = t->cur = t->failed = -1;
		return -1;
	}
	rc = open_type_below(root_fd, type, create, t);
	close_saving_errno(root_fd);
	return rc;
}

int
spool_each_type(const char *root, int create,
		int (*fn)(const char *type, struct spool_type *t, void *ctx),
		void *ctx)
{
	struct dirent *de;
	DIR *dir;
	int rc = 0;

	/* The root is the administrator's choice, and may be a link. */
	dir = opendir(root);
	if (!dir)
		return -1;
	while (rc == 0 && (de = readdir(dir))) {
		struct spool_type t;

		if (!event_part_valid(de->d_name, ENTITY_MAX))
			continue;
		if (open_type_below(dirfd(dir), de->d_name, create, &t) < 0) {
			log_line("spool type %s skipped: %s", de->d_name,
				 errno == ENOTDIR || errno == ELOOP
					 ? "a link or a file where a directory "
					   "belongs"
					 : strerror(errno));
			rc = fn(de->d_name, NULL, ctx);
			continue;
		}
		rc = fn(de->d_name, &t, ctx);
		spool_type_close(&t);
	}
	closedir(dir);
	return rc;
}

DIR *
spool_list(int fd)
{
	int copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = copy >= 0 ? fdopendir(copy) : NULL;

	if (!dir && copy >= 0)
		close_saving_errno(copy);
	return dir;
}

int
spool_open_regular(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					   O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close_saving_errno(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

int
spool_event_id(const char *name, char id[ID_LEN_MAX + 1])
{
	size_t len = strlen(name);

	if (name[0] == '.' || len <= 5 || len - 5 > ID_LEN_MAX ||
	    strcmp(name + len - 5, ".json") != 0)
		return 0;
	memcpy(id, name, len - 5);
	id[len - 5] = '\0';
	return 1;
}
