/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SPOOL_RENAME_H
#define MAKINI_SPOOL_RENAME_H

#include <stddef.h>

#define SPOOL_RANDOM_HEX 16 /* digits of spool_random_hex() */

/*
 * A random part for a file name that nobody can plant in advance: 16
 * lower-case hex digits from getrandom(), and a NUL. Returns 0, or -1
 * with errno set.
 */
int spool_random_hex(char out[SPOOL_RANDOM_HEX + 1]);

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

#endif
