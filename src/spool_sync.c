/* See LICENSE file for copyright and license details. */
/*
 * Group commit of new/'s fsync, across the processes of one host.
 *
 * Each delivery, once its link is in new/, takes a ticket: the count of
 * links made so far ("linked"), raised by one. Whoever syncs reads
 * "linked" first, then fsyncs new/, then raises "synced" to what it read:
 * every ticket up to "synced" belongs to a link made before a sync that
 * began after it, and has succeeded. A delivery answers once "synced"
 * reaches its ticket. One process at a time syncs (flock on the shared
 * file elects it); the others sleep on a futex in the shared page and are
 * woken when a sync ends. The lock is only there to keep the syncs from
 * piling up: any process may sync and raise "synced" without it, which is
 * what a waiter does when the lock's holder is stopped (SIGSTOP) for
 * longer than WAIT_MAX_MS. A holder that dies frees the lock with its
 * last descriptor, and the waiters find that out within POLL_MS.
 *
 * The shared file, /dev/shm/makini-webhook.sync.<dev>.<ino> (new/'s
 * device and inode in hex), holds struct shared and nothing else. It is
 * in memory, not in the spool: a page of the spool's file system that
 * was written back can fault with SIGBUS once that file system shuts
 * down on an I/O error, and a sync's state need not outlive a reboot.
 * It must be ours (its owner our effective user), so that nobody else
 * can make a delivery believe that its link was synced.
 */
#include "spool_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/magic.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* How long a waiter sleeps between looks at the lock. */
#define POLL_MS 10
/* How long a waiter waits for another process's sync before its own. */
#define WAIT_MAX_MS 200

#define SHARED_MAGIC 0x6d6b7331u /* "mks1" */

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
	       "the shared counters need lock-free atomics");

struct shared {
	_Atomic uint32_t magic;
	_Atomic uint32_t wake;	 /* futex word: raised when a sync ends */
	_Atomic uint64_t linked; /* tickets handed out */
	_Atomic uint64_t synced; /* tickets up to here are durable */
	_Atomic uint64_t failed; /* a sync covering tickets up to here failed */
	_Atomic uint64_t syncs;	 /* syncs run, for the tests and the curious */
	_Atomic uint32_t waiters; /* processes asleep on wake */
};

struct spool_sync {
	int fd;
	struct shared *sh;
};

/*
 * File systems whose fsync of a directory is the local kernel's, so that
 * one process's sync covers another's link on this host. Anything else,
 * above all a spool that other hosts share (NFS, CIFS, GlusterFS and
 * other FUSE file systems, Ceph), keeps one sync per delivery: there the
 * coordination would only cover this host's processes, and what a
 * directory's fsync promises is the remote side's business. tmpfs is left
 * out as its fsync returns at once: there is nothing to share.
 */
static int
fs_is_local_disk(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	switch ((unsigned long)sf.f_type) {
	case EXT4_SUPER_MAGIC: /* ext2, ext3 and ext4 alike */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
		return 1;
	default:
		return 0;
	}
}

struct spool_sync *
spool_sync_open(int new_fd)
{
	struct spool_sync *s = NULL;
	struct shared *sh = MAP_FAILED;
	char name[80];
	struct stat st;
	uint32_t zero = 0;
	int fd = -1;

	if (!fs_is_local_disk(new_fd) || fstat(new_fd, &st) < 0)
		return NULL;
	snprintf(name, sizeof(name), "/makini-webhook.sync.%llx.%llx",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	fd = shm_open(name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid())
		goto fail;
	/*
	 * The page is allocated now, so that a full /dev/shm is an error
	 * here rather than a SIGBUS at the first store to it.
	 */
	if (st.st_size < (off_t)sizeof(*sh) &&
	    posix_fallocate(fd, 0, sizeof(*sh)) != 0)
		goto fail;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sh == MAP_FAILED)
		goto fail;
	/* A new file is all zeros, a valid state: nothing linked yet. */
	if (!atomic_compare_exchange_strong(&sh->magic, &zero, SHARED_MAGIC) &&
	    zero != SHARED_MAGIC)
		goto fail;
	s = malloc(sizeof(*s));
	if (!s)
		goto fail;
	s->fd = fd;
	s->sh = sh;
	return s;
fail:
	if (sh != MAP_FAILED)
		munmap(sh, sizeof(*sh));
	if (fd >= 0)
		close(fd);
	return NULL;
}

void
spool_sync_close(struct spool_sync *s)
{
	if (!s)
		return;
	munmap(s->sh, sizeof(*s->sh));
	close(s->fd);
	free(s);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Raises *counter to v, unless another process raised it further. */
static void
raise_to(_Atomic uint64_t *counter, uint64_t v)
{
	uint64_t cur = atomic_load(counter);

	while (cur < v && !atomic_compare_exchange_weak(counter, &cur, v))
		;
}

/*
 * Syncs new/ on behalf of every ticket handed out so far. "linked" is read
 * before the fsync begins, and each ticket was taken after its link
 * returned, so the fsync covers every ticket up to what was read. A
 * failure is recorded as well: a later fsync can return 0 without having
 * written what the failed one could not, so the tickets it covered fail.
 */
static int
sync_now(struct spool_sync *s, int new_fd)
{
	struct shared *sh = s->sh;
	uint64_t upto = atomic_load(&sh->linked);
	int rc = fsync(new_fd), saved = errno;

	atomic_fetch_add(&sh->syncs, 1);
	raise_to(rc == 0 ? &sh->synced : &sh->failed, upto);
	atomic_fetch_add(&sh->wake, 1);
	errno = saved;
	return rc;
}

/*
 * Whether ticket's link is settled: 1 synced, -1 with errno EIO when a
 * sync that covered it failed, 0 not yet. A failure is looked at first:
 * a later sync's success does not prove that the failed one's blocks were
 * written, so a ticket both failed and synced counts as failed. At worst a
 * ticket synced before an unrelated failure answers 503 too, and Makini's
 * retry stores the event again.
 */
static int
settled(struct shared *sh, uint64_t ticket)
{
	if (atomic_load(&sh->failed) >= ticket) {
		errno = EIO;
		return -1;
	}
	return atomic_load(&sh->synced) >= ticket;
}

static void
wake_all(struct shared *sh)
{
	/* Read after "wake" was raised: a waiter counted later saw it. */
	if (atomic_load(&sh->waiters))
		syscall(SYS_futex, &sh->wake, FUTEX_WAKE, INT_MAX, NULL, NULL,
			0);
}

/* Sleeps until "wake" moves from seen, or for ms at most. */
static void
sleep_on(struct shared *sh, uint32_t seen, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	atomic_fetch_add(&sh->waiters, 1);
	syscall(SYS_futex, &sh->wake, FUTEX_WAIT, seen, &ts, NULL, 0);
	atomic_fetch_sub(&sh->waiters, 1);
}

unsigned long long
spool_sync_ticket(struct spool_sync *s)
{
	return s ? atomic_fetch_add(&s->sh->linked, 1) + 1 : 0;
}

int
spool_sync_dir(struct spool_sync *s, int new_fd)
{
	return spool_sync_wait(s, new_fd, spool_sync_ticket(s));
}

int
spool_sync_wait(struct spool_sync *s, int new_fd, unsigned long long ticket)
{
	struct shared *sh;
	uint32_t seen;
	long deadline = 0, now;
	int rc, busy;

	if (!s)
		return fsync(new_fd);
	sh = s->sh;
	for (;;) {
		seen = atomic_load(&sh->wake);
		if ((rc = settled(sh, ticket)) != 0)
			return rc > 0 ? 0 : -1;
		if (flock(s->fd, LOCK_EX | LOCK_NB) == 0) {
			/* A sync may have covered us while we took the lock. */
			rc = settled(sh, ticket);
			rc = rc == 0 ? sync_now(s, new_fd) : rc > 0 ? 0 : -1;
			flock(s->fd, LOCK_UN);
			wake_all(sh);
			return rc;
		}
		busy = errno == EWOULDBLOCK;
#ifdef MAKINI_TEST_EARLY_ACK
		/*
		 * The power-cut test's build that answers while another
		 * process's sync runs, before it has finished: it must lose
		 * events, or the test could not tell.
		 */
		return 0;
#endif
		now = now_ms();
		if (!deadline)
			deadline = now + WAIT_MAX_MS;
		if (now >= deadline || !busy) {
			/* The holder is stopped, or flock cannot be had. */
			rc = sync_now(s, new_fd);
			wake_all(sh);
			return rc;
		}
		sleep_on(sh, seen,
			 deadline - now < POLL_MS ? deadline - now : POLL_MS);
	}
}
