#ifndef MAKINI_SPOOL_H
#define MAKINI_SPOOL_H

#include <dirent.h>
#include <stddef.h>

#include "id.h"

/*
 * The spool, maildir-style: SPOOL/<type>/{tmp,new,cur,failed}/.
 * Directories are created on first use, 0750; event files are 0640.
 */

/*
 * Makes spool_store() keep each type's tmp/ and new/ open from one event
 * to the next, checked before each use: for a process that serves many
 * requests (FastCGI). A CGI process stores one event and exits, and would
 * only pay for the checks.
 */
void spool_keep_dirs(void);

/*
 * Stores body as SPOOL/<type>/new/<id>.json: written in tmp/ as an unnamed
 * O_TMPFILE file (else as tmp/<id>.json, O_EXCL, O_NOFOLLOW), fsynced,
 * linked (or renamed) into new/, and new/ fsynced, so the event is whole
 * on disk or absent, and a killed process leaves nothing in tmp/; a file
 * system found shut down after that fsync makes it a failure. The
 * directories are opened below root without following links. With
 * durable 0 the fsyncs are skipped.
 * Returns 0, or -1 with errno set; then nothing is left in tmp/ or new/.
 */
int spool_store(const char *root, const char *type, const char *id,
		const void *body, size_t len, int durable);

/*
 * Creates SPOOL and SPOOL/<type>/{tmp,new,cur,failed} where missing
 * (type may be NULL for the root alone). Returns 0, or -1 with errno set.
 */
int spool_prepare(const char *root, const char *type);

/*
 * Whether events could be stored below root now, without making it: the
 * root, or the nearest directory above it where it does not exist yet,
 * is a directory we can write and search. Returns 0, or -1 with errno set.
 * For the health check, which creates nothing.
 */
int spool_ready(const char *root);

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
 * errno set (ELOOP or ENOTDIR for a link or a file where a directory
 * belongs); then nothing is left open.
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
 * Replaces dir/name with text, atomically: written under a name that
 * cannot be planted in advance (O_EXCL, O_NOFOLLOW, a random part),
 * synced when durable is set, then renamed over name. Returns 0, or -1
 * with errno set and nothing left behind.
 */
int spool_replace_file(int dir, const char *name, const char *text,
		       size_t len, int durable);

/*
 * renameat() that trusts what it finds, not what it is told: a rename on
 * NFS can report a failure after it succeeded, so on an error the rename
 * counts as done when from is gone and to is there. Use it only where to
 * is a name that nobody else would create.
 */
int spool_rename(int from_dir, const char *from, int to_dir, const char *to);

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
