/* See LICENSE file for copyright and license details. */
/* Slots: at most N of something at once on one host, through flock. */
#include "queue_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "queue_claim.h"

#define LOCKS_DIR ".locks"
#define SLOT_WAIT_MS 20 /* between looks at the slots while all are taken */

int
slot_lock(const struct config *cfg, const char *what, unsigned n, int wait)
{
	int root_fd, dir = -1, fds[SLOTS_MAX], fd = -1;
	char host[CLAIM_HOST_MAX + 1];
	unsigned i = 0;

	if (n > SLOTS_MAX)
		n = SLOTS_MAX;
	claim_host(host);
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
	while (i > 0)
		if (fds[--i] != fd)
			close_saving_errno(fds[i]);
	close_saving_errno(dir);
	close_saving_errno(root_fd);
	return fd;
}
