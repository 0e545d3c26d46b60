/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SPOOL_CACHE_H
#define MAKINI_SPOOL_CACHE_H

/*
 * The directory cache of spool_store(): a FastCGI process stores many
 * events of few types, so each type's tmp/ and new/ stay open between
 * requests, which saves opening four directories and closing them on
 * every event. A cached pair is used only while SPOOL/<type> and
 * SPOOL/<type>/new are still the same directories, neither of them a link
 * (two stats per event), so a type removed, renamed or replaced, by a link
 * too, is opened afresh, component by component, as on a first event.
 */

/*
 * Turns the cache on, for a process that serves many requests (FastCGI).
 * A CGI process stores one event and exits, and would only pay for the
 * checks.
 */
void spool_keep_dirs(void);

struct spool_sync;

/*
 * The cached tmp/ and new/ of root and type, checked: returns its slot,
 * with *tmp_fd, *new_fd and *sync (new/'s shared sync, or NULL) set, or
 * -1 when there is none or the cache is off (a pair that failed its check
 * is dropped). The descriptors and the sync stay the cache's.
 */
int spool_cache_find(const char *root, const char *type, int *tmp_fd,
		     int *new_fd, struct spool_sync **sync);

/*
 * Hands tmp_fd, new_fd and sync (spool_sync.h, may be NULL) of root and
 * type to the cache, in a free slot or in place of the oldest; they are
 * closed when the cache is off or cannot keep them.
 */
void spool_cache_keep(const char *root, const char *type, int tmp_fd,
		      int new_fd, struct spool_sync *sync);

/* Closes and forgets slot, after a failure that may be its directories'. */
void spool_cache_drop(int slot);

#endif
