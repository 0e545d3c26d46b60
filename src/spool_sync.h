/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SPOOL_SYNC_H
#define MAKINI_SPOOL_SYNC_H

/*
 * The sync of a type's new/ directory, shared by the deliveries that wait
 * for it at the same time (group commit). One fsync of a directory makes
 * durable every link made in it before the fsync began, so deliveries
 * whose links are made while a sync runs can all be covered by the next
 * one, across the processes of one host (lighttpd's FastCGI workers,
 * mod_fcgid's, CGI processes). The processes meet in a small file in
 * /dev/shm named after new/'s device and inode, which each one maps.
 *
 * The caller owns the directory descriptors; spool_sync_open() returns a
 * handle that the caller owns and gives back with spool_sync_close().
 */

struct spool_sync;

/*
 * The shared sync of directory new_fd, or NULL when each delivery is to
 * sync new/ for itself: on a file system not known to be local to this
 * host (NFS, GlusterFS and other FUSE file systems, anything unknown),
 * on tmpfs (where a sync costs nothing to share), or where the shared
 * file cannot be made, owned by us, and mapped. NULL is never an error.
 */
struct spool_sync *spool_sync_open(int new_fd);

/*
 * Returns once every link made in new_fd before the call is durable: after
 * a sync of new_fd that began after the call did, run by this process or
 * by another. With s NULL that is one fsync(new_fd). Returns 0, or -1 with
 * errno set when that sync failed (the delivery is then a failure).
 */
int spool_sync_dir(struct spool_sync *s, int new_fd);

/*
 * spool_sync_dir() in two halves, so that a delivery can sync its own file
 * while another process's sync of new/ covers its link: the ticket, taken
 * right after the link (0 with s NULL), and the wait for a sync that began
 * after it was taken.
 */
unsigned long long spool_sync_ticket(struct spool_sync *s);
int spool_sync_wait(struct spool_sync *s, int new_fd,
		    unsigned long long ticket);

/* Unmaps and closes s; NULL is fine. */
void spool_sync_close(struct spool_sync *s);

#endif
