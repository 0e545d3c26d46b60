/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SPOOL_H
#define MAKINI_SPOOL_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * The spool's store. The spool's files, by concern:
 *   spool.c         the store: an event made durable in SPOOL/<type>/new/
 *   spool_cache.c   the store's directory cache, for FastCGI processes
 *   spool_sync.c    one sync of new/ shared by deliveries at once
 *   spool_type.c    the layout, a type's directories opened safely, the
 *                   walk over the types and the listing of their files
 *   spool_rename.c  atomic replacement, NFS-proof renames, random names
 *   spool_space.c   the room left on the spool's file system, for the
 *                   health check and check
 */

/*
 * Stores body as SPOOL/<type>/new/<id>.json: written in tmp/ as an unnamed
 * O_TMPFILE file (else as tmp/<id>.json, O_EXCL, O_NOFOLLOW), fsynced,
 * linked (or renamed) into new/, the unnamed file fsynced again for its
 * link count, and new/ synced (a sync shared with the deliveries linked
 * meanwhile: spool_sync.h), so the event is whole
 * on disk or absent, and a killed process leaves nothing in tmp/; a file
 * system found shut down after that fsync makes it a failure. The
 * directories are opened below root without following links, and kept
 * open when spool_keep_dirs() was called (spool_cache.h). type must be a
 * valid type (event_part_valid), else EINVAL. With durable 0 the fsyncs
 * are skipped.
 * Returns 0, or -1 with errno set; then nothing is left in tmp/ or new/.
 */
int spool_store(const char *root, const char *type, const char *id,
		const void *body, size_t len, int durable);

/*
 * Whether events could be stored below root now, without making it: the
 * root, or the nearest directory above it where it does not exist yet,
 * is a directory we can write and search. Returns 0, or -1 with errno set.
 * For the health check, which creates nothing.
 */
int spool_ready(const char *root);

/*
 * The root, or while it does not exist the nearest path above it that
 * does (where the first event will create it): copied into path, which
 * holds size bytes, with its stat in *st. Returns 0, or -1 with errno set.
 */
int spool_nearest(const char *root, char *path, size_t size,
		  struct stat *st);

#endif
