#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_MODE 0750
#define FILE_MODE 0640

static const char *const subdirs[] = { "tmp", "new", "cur", "failed" };

static int
make_dir(const char *path)
{
	if (mkdir(path, DIR_MODE) == 0 || errno == EEXIST)
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
spool_prepare(const char *root, const char *type)
{
	char path[PATH_MAX];

	if (make_dirs(root) < 0)
		return -1;
	if (!type)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", root, type);
	if (make_dir(path) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		if (snprintf(path, sizeof(path), "%s/%s/%s", root, type,
			     subdirs[i]) >= (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (make_dir(path) < 0)
			return -1;
	}
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	if (rc < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

static int
create_tmp(const char *root, const char *type, const char *tmp_path)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(tmp_path, flags, FILE_MODE);

	/* The type's directories are made on its first event only. */
	if (fd < 0 && errno == ENOENT && spool_prepare(root, type) == 0)
		fd = open(tmp_path, flags, FILE_MODE);
	return fd;
}

enum status
spool_store(const char *root, const char *type, const char *id,
	    const void *body, size_t len, int durable, struct reply *rep,
	    const char **why)
{
	char tmp_path[PATH_MAX], new_path[PATH_MAX], new_dir[PATH_MAX];
	int fd = -1, saved;
	int in_tmp = 0, in_new = 0;

	if (snprintf(tmp_path, sizeof(tmp_path), "%s/%s/tmp/%s.json", root,
		     type, id) >= (int)sizeof(tmp_path) ||
	    snprintf(new_path, sizeof(new_path), "%s/%s/new/%s.json", root,
		     type, id) >= (int)sizeof(new_path) ||
	    snprintf(new_dir, sizeof(new_dir), "%s/%s/new", root, type) >=
		    (int)sizeof(new_dir)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	fd = create_tmp(root, type, tmp_path);
	if (fd < 0)
		goto fail;
	in_tmp = 1;
	if (write_all(fd, body, len) < 0)
		goto fail;
	/* fdatasync covers the data and the size, all a new file needs. */
	if (durable && fdatasync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp_path, new_path) < 0)
		goto fail;
	in_tmp = 0;
	in_new = 1;
	if (durable && fsync_dir(new_dir) < 0)
		goto fail;
	return STATUS_OK;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	/* Refused means absent: Makini sends the event again. */
	if (in_tmp)
		unlink(tmp_path);
	if (in_new)
		unlink(new_path);
	*why = strerror(saved);
	errno = saved;
	return reply_set(rep, STATUS_UNAVAILABLE, "cannot store event");
}
