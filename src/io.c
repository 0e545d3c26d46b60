/* See LICENSE file for copyright and license details. */
/*
 * The one write loop, where short writes and interruptions are retried,
 * and the cleanups that keep errno.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int
write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

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

void
close_saving_errno(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}

void
unlink_saving_errno(int dir, const char *name)
{
	int saved = errno;

	unlinkat(dir, name, 0);
	errno = saved;
}
