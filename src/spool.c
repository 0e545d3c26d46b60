/*
 * The spool: its layout, the durable store of an event (tmp/ to new/,
 * fsynced), and the walks over its types and events.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "io.h"
#include "log.h"
#include "text.h"

#define DIR_MODE 0750
#define FILE_MODE 0640

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

/*
 * Opens directory name below dirfd without following a symbolic link, so
 * that a link planted in the spool can never lead a write out of it. With
 * create set, a missing directory is made first. Returns the descriptor,
 * or -1 with errno set (ELOOP or ENOTDIR for a link or a file in its place).
 */
static int
open_subdir(int dirfd, const char *name, int create)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, name, flags);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, DIR_MODE) < 0 && errno != EEXIST)
			return -1;
		fd = openat(dirfd, name, flags);
	}
	return fd;
}

static void
close_saving_errno(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
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
	type_fd = open_subdir(root_fd, type, 1);
	if (type_fd < 0) {
		close_saving_errno(root_fd);
		return -1;
	}
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		fd = open_subdir(type_fd, subdirs[i], 1);
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
	if (root_fd < 0 && errno == ENOENT && make_dirs(root) == 0)
		root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		goto out;
	type_fd = open_subdir(root_fd, type, 0);
	if (type_fd < 0 && errno == ENOENT && spool_prepare(root, type) == 0)
		type_fd = open_subdir(root_fd, type, 0);
	if (type_fd < 0)
		goto out;
	*tmp_fd = open_subdir(type_fd, "tmp", 1);
	if (*tmp_fd < 0)
		goto out;
	*new_fd = open_subdir(type_fd, "new", 1);
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
 * A FastCGI process stores many events of few types: each type's tmp/
 * and new/ stay open between requests, which saves opening four
 * directories and closing them on every event. A cached pair is used only
 * while SPOOL/<type> and SPOOL/<type>/new are still the same directories,
 * neither of them a link (two stats per event), so a type removed,
 * renamed or replaced, by a link too, is opened afresh, component by
 * component, as on a first event.
 */
#define DIR_CACHE_SLOTS 16

struct dir_cache_slot {
	char root[PATH_MAX];
	char type[ENTITY_MAX + 1];
	int tmp_fd, new_fd;
	struct stat type_st, new_st;
};

static struct dir_cache_slot dir_cache[DIR_CACHE_SLOTS];
static unsigned dir_cache_next;
static int dir_cache_on;

void
spool_keep_dirs(void)
{
	dir_cache_on = 1;
}

static void
dir_cache_drop(struct dir_cache_slot *slot)
{
	close_saving_errno(slot->tmp_fd);
	close_saving_errno(slot->new_fd);
	memset(slot, 0, sizeof(*slot));
	slot->tmp_fd = slot->new_fd = -1;
}

/* Whether path is, without following a link, the directory seen before. */
static int
same_dir(const char *path, const struct stat *seen)
{
	struct stat st;

	return fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_dev == seen->st_dev &&
	       st.st_ino == seen->st_ino;
}

/* The slot of root and type, its directories checked; or NULL. */
static struct dir_cache_slot *
dir_cache_find(const char *root, const char *type)
{
	char path[PATH_MAX];
	struct text t;
	size_t len;

	for (size_t i = 0; i < DIR_CACHE_SLOTS; i++) {
		struct dir_cache_slot *slot = &dir_cache[i];

		if (!slot->root[0] || strcmp(slot->type, type) != 0 ||
		    strcmp(slot->root, root) != 0)
			continue;
		text_init(&t, path, sizeof(path));
		text_add(&t, root);
		text_add(&t, "/");
		text_add(&t, type);
		text_add(&t, "/new");
		len = text_done(&t);
		if (len > 0 && same_dir(path, &slot->new_st)) {
			path[len - 4] = '\0';
			if (same_dir(path, &slot->type_st))
				return slot;
		}
		dir_cache_drop(slot);
		return NULL;
	}
	return NULL;
}

/*
 * Keeps tmp_fd and new_fd for root and type, in a free slot or in place
 * of the oldest; closes them when they cannot be kept.
 */
static void
dir_cache_keep(const char *root, const char *type, int tmp_fd, int new_fd)
{
	struct dir_cache_slot *slot = NULL;
	char path[PATH_MAX];
	struct stat type_st, new_st;

	for (size_t i = 0; i < DIR_CACHE_SLOTS && !slot; i++)
		if (!dir_cache[i].root[0])
			slot = &dir_cache[i];
	if (!slot) {
		slot = &dir_cache[dir_cache_next];
		dir_cache_next = (dir_cache_next + 1) % DIR_CACHE_SLOTS;
		dir_cache_drop(slot);
	}
	if (strlen(root) >= sizeof(slot->root) ||
	    strlen(type) >= sizeof(slot->type) ||
	    snprintf(path, sizeof(path), "%s/%s", root, type) >=
		    (int)sizeof(path) ||
	    fstatat(AT_FDCWD, path, &type_st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstat(new_fd, &new_st) < 0) {
		close_saving_errno(tmp_fd);
		close_saving_errno(new_fd);
		return;
	}
	snprintf(slot->root, sizeof(slot->root), "%s", root);
	snprintf(slot->type, sizeof(slot->type), "%s", type);
	slot->tmp_fd = tmp_fd;
	slot->new_fd = new_fd;
	slot->type_st = type_st;
	slot->new_st = new_st;
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
			    FILE_MODE);
		if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
				errno != EINVAL))
			return fd;
	}
	*named = 1;
	return openat(tmp_fd, name,
		      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      FILE_MODE);
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
	struct dir_cache_slot *slot = NULL;
	struct text t;
	struct stat st;
	int tmp_fd = -1, new_fd = -1, fd = -1, saved;
	int named, in_tmp = 0, in_new = 0;

	text_init(&t, name, sizeof(name));
	text_add(&t, id);
	text_add(&t, ".json");
	if (!text_done(&t) || strchr(type, '/') || type[0] == '.' || !type[0]) {
		errno = EINVAL;
		goto fail;
	}
	if (dir_cache_on)
		slot = dir_cache_find(root, type);
	if (slot) {
		tmp_fd = slot->tmp_fd;
		new_fd = slot->new_fd;
	} else if (open_type_dirs(root, type, &tmp_fd, &new_fd) < 0) {
		goto fail;
	}
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
	}
	if (durable && SYNC_DIR && fsync(new_fd) < 0)
		goto fail;
	/*
	 * On a file system that has shut down (an I/O error, or the shutdown
	 * ioctl), XFS's fsync of a directory can return 0 although the link
	 * never reached the log; its fstat fails with EIO then, at no cost.
	 * ext4 already failed the fsync above.
	 */
	if (durable && fstat(new_fd, &st) < 0)
		goto fail;
	if (dir_cache_on && !slot) {
		dir_cache_keep(root, type, tmp_fd, new_fd);
	} else if (!slot) {
		close(tmp_fd);
		close(new_fd);
	}
	return 0;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	/* Refused means absent: Makini sends the event again. */
	if (in_tmp)
		unlinkat(tmp_fd, name, 0);
	if (in_new)
		unlinkat(new_fd, name, 0);
	/* A failure may be the directories': the next event opens them anew. */
	if (slot) {
		dir_cache_drop(slot);
	} else {
		if (tmp_fd >= 0)
			close(tmp_fd);
		if (new_fd >= 0)
			close(new_fd);
	}
	errno = saved;
	return -1;
}

static int
is_type_name(const char *name)
{
	size_t len = strlen(name);

	/* Only names that an event could have made: [a-z0-9][a-z0-9_]*. */
	return len > 0 && len <= ENTITY_MAX && name[0] != '_' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
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
	if (!is_type_name(type)) {
		errno = EINVAL;
		return -1;
	}
	t->dir = open_subdir(root_fd, type, 0);
	if (t->dir < 0)
		return -1;
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++) {
		*subs[i] = open_subdir(t->dir, subdirs[i], create);
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

		if (!is_type_name(de->d_name))
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

int
spool_replace_file(int dir, const char *name, const char *text, size_t len,
		   int durable)
{
	unsigned char random[8];
	char tmp[NAME_MAX + 1];
	int fd;

	if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
		return -1;
	if (snprintf(tmp, sizeof(tmp), ".%s.%02x%02x%02x%02x%02x%02x%02x%02x",
		     name, random[0], random[1], random[2], random[3],
		     random[4], random[5], random[6], random[7]) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC, FILE_MODE);
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
	{
		int saved = errno;

		unlinkat(dir, tmp, 0);
		errno = saved;
	}
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

int
spool_ready(const char *root)
{
	char path[PATH_MAX];
	struct stat st;
	char *slash;

	if (snprintf(path, sizeof(path), "%s", root) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* The root, or the nearest directory above it that exists. */
	while (stat(path, &st) < 0) {
		if (errno != ENOENT || !(slash = strrchr(path, '/')))
			return -1;
		slash[slash == path] = '\0';
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return access(path, W_OK | X_OK);
}
