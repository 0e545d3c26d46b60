/* See LICENSE file for copyright and license details. */
/*
 * The spool's store: an event made durable, tmp/ to new/, fsynced; and
 * whether the spool could take one now.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "io.h"
#include "spool_cache.h"
#include "spool_sync.h"
#include "spool_type.h"
#include "text.h"

/*
 * Builds for the power-cut test only (tests/t6700-power-cut.sh), which
 * shows that each sync is needed: never set these in a real build.
 */
#ifdef MAKINI_TEST_SKIP_FDATASYNC
#define SYNC_FILE 0
#else
#define SYNC_FILE 1
#endif
#ifdef MAKINI_TEST_SKIP_DIR_FSYNC
#define SYNC_DIR 0
#else
#define SYNC_DIR 1
#endif
#ifdef MAKINI_TEST_SKIP_INODE_FSYNC
#define SYNC_INODE 0
#else
#define SYNC_INODE 1
#endif

/*
 * Opens SPOOL/<type>/tmp and SPOOL/<type>/new, one component at a time
 * below the root (which the administrator chose, and which may itself be
 * a link). The type's directories are made on its first event only.
 * Returns 0 with both descriptors set, or -1 with errno set.
 */
static int
open_type_dirs(const char *root, const char *type, int *tmp_fd, int *new_fd)
{
	int root_fd = -1, type_fd = -1, rc = -1;

	*tmp_fd = *new_fd = -1;
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0 && errno == ENOENT && spool_prepare(root, NULL) == 0)
		root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		goto out;
	type_fd = spool_subdir_open(root_fd, type, 0);
	if (type_fd < 0 && errno == ENOENT && spool_prepare(root, type) == 0)
		type_fd = spool_subdir_open(root_fd, type, 0);
	if (type_fd < 0)
		goto out;
	*tmp_fd = spool_subdir_open(type_fd, "tmp", 1);
	if (*tmp_fd < 0)
		goto out;
	*new_fd = spool_subdir_open(type_fd, "new", 1);
	if (*new_fd < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		close_saving_errno(*tmp_fd);
		*tmp_fd = -1;
	}
	close_saving_errno(type_fd);
	close_saving_errno(root_fd);
	return rc;
}

/*
 * Whether an O_TMPFILE file can be given its name through /proc/self/fd:
 * checked once per process, as a chroot may lack /proc.
 */
static int
proc_fd_usable(void)
{
	static int usable = -1;

	if (usable < 0)
		usable = access("/proc/self/fd", X_OK) == 0;
	return usable;
}

/*
 * Creates the event's file in tmp/. Where the file system allows, it is
 * unnamed (O_TMPFILE): a process killed before publishing it then leaves
 * nothing behind, where a named tmp/ file would stay forever. Elsewhere
 * (NFS, no /proc) it is tmp/<name>, and *named is set.
 */
static int
create_tmp(int tmp_fd, const char *name, int *named)
{
	int fd;

	*named = 0;
	if (proc_fd_usable()) {
		fd = openat(tmp_fd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC,
			    SPOOL_FILE_MODE);
		if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
				errno != EINVAL))
			return fd;
	}
	*named = 1;
	return openat(tmp_fd, name,
		      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      SPOOL_FILE_MODE);
}

/* Gives the unnamed file fd its name in new/; fails if the name exists. */
static int
link_tmpfile(int fd, int new_fd, const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, path, new_fd, name, AT_SYMLINK_FOLLOW);
}

int
spool_store(const char *root, const char *type, const char *id,
	    const void *body, size_t len, int durable)
{
	char name[NAME_MAX + 1];
	struct spool_sync *sync = NULL;
	struct text t;
	struct stat st;
	int tmp_fd = -1, new_fd = -1, fd = -1, slot = -1;
	int named, in_tmp = 0, in_new = 0;
	unsigned long long ticket = 0;

	text_init(&t, name, sizeof(name));
	text_add(&t, id);
	text_add(&t, ".json");
	if (!text_done(&t) || !event_part_valid(type, ENTITY_MAX)) {
		errno = EINVAL;
		goto fail;
	}
	slot = spool_cache_find(root, type, &tmp_fd, &new_fd, &sync);
	if (slot < 0 && open_type_dirs(root, type, &tmp_fd, &new_fd) < 0)
		goto fail;
	if (slot < 0 && durable)
		sync = spool_sync_open(new_fd);
	fd = create_tmp(tmp_fd, name, &named);
	if (fd < 0)
		goto fail;
	in_tmp = named;
	if (write_all(fd, body, len) < 0)
		goto fail;
	/* fdatasync covers the data and the size, all a new file needs. */
	if (durable && SYNC_FILE && fdatasync(fd) < 0)
		goto fail;
	if (!named) {
		if (link_tmpfile(fd, new_fd, name) < 0)
			goto fail;
		in_new = 1;
		/*
		 * A sync of new/ that began after the link makes the link
		 * durable, whichever process runs it: the ticket marks the
		 * moment, and the wait below returns after such a sync, which
		 * another process may run while this one syncs its file.
		 */
		ticket = spool_sync_ticket(sync);
		/*
		 * The unnamed file's inode reached the disk with no link
		 * counted. Without a journal nothing else writes the count
		 * the link raised (ext4 without one: the sync of new/ writes
		 * the directory's blocks only), and after a power cut e2fsck
		 * takes the inode for a deleted one and clears its entry in
		 * new/. fsync writes the inode; fdatasync would skip it, as
		 * a link count is not needed to read the data.
		 */
		if (durable && SYNC_INODE && fsync(fd) < 0)
			goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (named) {
		if (renameat(tmp_fd, name, new_fd, name) < 0)
			goto fail;
		in_tmp = 0;
		in_new = 1;
		ticket = spool_sync_ticket(sync);
	}
	if (durable && SYNC_DIR && spool_sync_wait(sync, new_fd, ticket) < 0)
		goto fail;
	/*
	 * On a file system that has shut down (an I/O error, or the shutdown
	 * ioctl), XFS's fsync of a directory can return 0 although the link
	 * never reached the log; its fstat fails with EIO then, at no cost.
	 * ext4 already failed the fsync above.
	 */
	if (durable && fstat(new_fd, &st) < 0)
		goto fail;
	if (slot < 0)
		spool_cache_keep(root, type, tmp_fd, new_fd, sync);
	return 0;

fail:
	close_saving_errno(fd);
	/* Refused means absent: Makini sends the event again. */
	if (in_tmp)
		unlink_saving_errno(tmp_fd, name);
	if (in_new)
		unlink_saving_errno(new_fd, name);
	/* A failure may be the directories': the next event opens them anew. */
	if (slot >= 0) {
		spool_cache_drop(slot);
	} else {
		close_saving_errno(tmp_fd);
		close_saving_errno(new_fd);
		spool_sync_close(sync);
	}
	return -1;
}

int
spool_nearest(const char *root, char *path, size_t size, struct stat *st)
{
	char *slash;

	if (snprintf(path, size, "%s", root) >= (int)size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	while (stat(path, st) < 0) {
		if (errno != ENOENT || !(slash = strrchr(path, '/')))
			return -1;
		slash[slash == path] = '\0';
	}
	return 0;
}

int
spool_ready(const char *root)
{
	char path[PATH_MAX];
	struct stat st;

	if (spool_nearest(root, path, sizeof(path), &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return access(path, W_OK | X_OK);
}
