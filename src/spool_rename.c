/* See LICENSE file for copyright and license details. */
/*
 * The spool's rename helpers: a file replaced atomically, a rename judged
 * by what it left, and the random part of names nobody can plant.
 */
#include "spool_rename.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "spool_type.h"
#include "text.h"

int
spool_random_hex(char out[SPOOL_RANDOM_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char r[SPOOL_RANDOM_HEX / 2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = digits[r[i] >> 4];
		out[2 * i + 1] = digits[r[i] & 15];
	}
	out[SPOOL_RANDOM_HEX] = '\0';
	return 0;
}

int
spool_replace_file(int dir, const char *name, const char *text, size_t len,
		   int durable)
{
	char random[SPOOL_RANDOM_HEX + 1], tmp[NAME_MAX + 1];
	struct text t;
	int fd;

	if (spool_random_hex(random) < 0)
		return -1;
	text_init(&t, tmp, sizeof(tmp));
	text_add(&t, ".");
	text_add(&t, name);
	text_add(&t, ".");
	text_add(&t, random);
	if (!text_done(&t)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC, SPOOL_FILE_MODE);
	if (fd < 0)
		return -1;
	if (write_all(fd, (const unsigned char *)text, len) < 0 ||
	    (durable && fdatasync(fd) < 0)) {
		close_saving_errno(fd);
		goto fail;
	}
	if (close(fd) < 0 || renameat(dir, tmp, dir, name) < 0)
		goto fail;
	return 0;
fail:
	unlink_saving_errno(dir, tmp);
	return -1;
}

static int
exists_at(int dir, const char *name)
{
	struct stat st;

	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int
spool_rename(int from_dir, const char *from, int to_dir, const char *to)
{
	int saved;

	if (renameat(from_dir, from, to_dir, to) == 0)
		return 0;
	saved = errno;
	if (!exists_at(from_dir, from) && exists_at(to_dir, to))
		return 0;
	errno = saved;
	return -1;
}
