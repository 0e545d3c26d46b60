/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SPOOL_TYPE_H
#define MAKINI_SPOOL_TYPE_H

#include <dirent.h>

#include "id.h"

/*
 * The spool's layout, maildir-style: SPOOL/<type>/{tmp,new,cur,failed}/.
 * Directories are created on first use, 0750; event files are 0640. A
 * type's name is an event's entity (event_part_valid).
 */
#define SPOOL_DIR_MODE 0750
#define SPOOL_FILE_MODE 0640

/*
 * Opens directory name below dirfd without following a symbolic link, so
 * that a link planted in the spool can never lead a write out of it. With
 * create set, a missing directory is made first. Returns the descriptor,
 * or -1 with errno set (ELOOP or ENOTDIR for a link or a file in its place).
 */
int spool_subdir_open(int dirfd, const char *name, int create);

/*
 * Creates SPOOL (and its parents) and SPOOL/<type>/{tmp,new,cur,failed}
 * where missing (type may be NULL for the root alone), the new entries
 * synced. Returns 0, or -1 with errno set.
 */
int spool_prepare(const char *root, const char *type);

/*
 * A type's directories, each opened below the spool root with O_NOFOLLOW:
 * every queue operation works relative to these descriptors, so a link
 * planted in the spool, or a directory swapped for one while a hook runs,
 * never leads a rename or a write outside. A descriptor is -1 when that
 * directory is missing (and was not to be created).
 */
struct spool_type {
	int dir, tmp, new, cur, failed;
};

/*
 * Opens SPOOL/<type> and its four directories. With create set, missing
 * subdirectories are made (never the type itself). Returns 0, or -1 with
 * errno set (EINVAL for a name no event has, ELOOP or ENOTDIR for a link
 * or a file where a directory belongs); then nothing is left open.
 */
int spool_type_open(const char *root, const char *type, int create,
		    struct spool_type *t);
void spool_type_close(struct spool_type *t);

/*
 * Calls fn for each type below root, with its directories open as
 * spool_type_open() gives them; stops at the first non-zero return and
 * returns it. A type that cannot be opened safely is logged and given to
 * fn as NULL, so that the caller can count it. Returns -1 with errno set
 * when the root cannot be read.
 */
int spool_each_type(const char *root, int create,
		    int (*fn)(const char *type, struct spool_type *t,
			      void *ctx),
		    void *ctx);

/*
 * A listing of directory fd, which stays open for the caller: closedir()
 * closes the listing's own descriptor only. NULL with errno set on error.
 */
DIR *spool_list(int fd);

/*
 * Opens name below dir for reading, only when it is a regular file: never
 * through a link, and never blocking on a FIFO planted in its place.
 * Returns the descriptor, or -1 with errno set (EINVAL for another kind).
 */
int spool_open_regular(int dir, const char *name);

/*
 * When name is an event's file, "<id>.json" with an id of at most
 * ID_LEN_MAX characters, copies the id into id and returns 1; else 0.
 */
int spool_event_id(const char *name, char id[ID_LEN_MAX + 1]);

#endif
