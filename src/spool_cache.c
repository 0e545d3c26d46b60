/* See LICENSE file for copyright and license details. */
/*
 * The directory cache of the store: each type's tmp/ and new/ kept open
 * between a FastCGI process's requests, and checked before each use.
 */
#include "spool_cache.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "event.h"
#include "io.h"
#include "spool_sync.h"
#include "text.h"

#define SLOTS 16

struct slot {
	char root[PATH_MAX];
	char type[ENTITY_MAX + 1];
	int tmp_fd, new_fd;
	struct spool_sync *sync;
	struct stat type_st, new_st;
};

static struct slot slots[SLOTS];
static unsigned next_slot;
static int on;

void
spool_keep_dirs(void)
{
	on = 1;
}

void
spool_cache_drop(int i)
{
	struct slot *slot = &slots[i];

	close_saving_errno(slot->tmp_fd);
	close_saving_errno(slot->new_fd);
	spool_sync_close(slot->sync);
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

int
spool_cache_find(const char *root, const char *type, int *tmp_fd, int *new_fd,
		 struct spool_sync **sync)
{
	char path[PATH_MAX];
	struct text t;
	size_t len;

	if (!on)
		return -1;
	for (int i = 0; i < SLOTS; i++) {
		struct slot *slot = &slots[i];

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
			if (same_dir(path, &slot->type_st)) {
				*tmp_fd = slot->tmp_fd;
				*new_fd = slot->new_fd;
				*sync = slot->sync;
				return i;
			}
		}
		spool_cache_drop(i);
		return -1;
	}
	return -1;
}

void
spool_cache_keep(const char *root, const char *type, int tmp_fd, int new_fd,
		 struct spool_sync *sync)
{
	struct slot *slot = NULL;
	char path[PATH_MAX];
	struct stat type_st, new_st;

	for (size_t i = 0; i < SLOTS && on && !slot; i++)
		if (!slots[i].root[0])
			slot = &slots[i];
	if (on && !slot) {
		spool_cache_drop((int)next_slot);
		slot = &slots[next_slot];
		next_slot = (next_slot + 1) % SLOTS;
	}
	if (!on || strlen(root) >= sizeof(slot->root) ||
	    strlen(type) >= sizeof(slot->type) ||
	    snprintf(path, sizeof(path), "%s/%s", root, type) >=
		    (int)sizeof(path) ||
	    fstatat(AT_FDCWD, path, &type_st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstat(new_fd, &new_st) < 0) {
		close_saving_errno(tmp_fd);
		close_saving_errno(new_fd);
		spool_sync_close(sync);
		return;
	}
	snprintf(slot->root, sizeof(slot->root), "%s", root);
	snprintf(slot->type, sizeof(slot->type), "%s", type);
	slot->tmp_fd = tmp_fd;
	slot->new_fd = new_fd;
	slot->sync = sync;
	slot->type_st = type_st;
	slot->new_st = new_st;
}
