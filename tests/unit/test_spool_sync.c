/* See LICENSE file for copyright and license details. */
/*
 * The shared sync of new/ (src/spool_sync.c): processes that link at once
 * share syncs and each returns only after one that began after its link;
 * a process stopped or killed while it holds the sync holds nobody up for
 * long; where the coordination cannot be had, each syncs for itself.
 * Runs in tests/trash (a disk file system), as root for the owner check.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spool_sync.h"
#include "unit.h"

#define PROCS 8
#define EACH 50

/* The shared file's counters, as src/spool_sync.c lays them out. */
struct counters {
	uint32_t magic, wake;
	uint64_t linked, synced, failed, syncs;
	uint32_t waiters;
};

static char dir[256];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
shm_name(int new_fd, char *name, size_t size)
{
	struct stat st;

	fstat(new_fd, &st);
	snprintf(name, size, "/makini-webhook.sync.%llx.%llx",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
}

static struct counters
counters(int new_fd)
{
	struct counters c = { 0 };
	char name[80];
	int fd;

	shm_name(new_fd, name, sizeof(name));
	fd = shm_open(name, O_RDONLY, 0);
	if (fd >= 0) {
		if (read(fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
			memset(&c, 0, sizeof(c));
		close(fd);
	}
	return c;
}

/* A fresh new/ directory below dir, opened. */
static int
fresh_dir(const char *sub)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0750) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

static int
link_one(int new_fd, const char *name)
{
	int fd = openat(new_fd, name, O_WRONLY | O_CREAT | O_EXCL, 0640);

	return fd < 0 ? -1 : close(fd);
}

/* PROCS processes link and sync EACH events each, all at once. */
static void
test_shared(void)
{
	int new_fd = fresh_dir("shared");
	struct counters c;
	int failed = 0;

	CHECK("a directory to work in", new_fd >= 0);
	for (int p = 0; p < PROCS; p++) {
		if (fork() == 0) {
			struct spool_sync *s = spool_sync_open(new_fd);
			char name[32];

			if (!s)
				_exit(2);
			for (int i = 0; i < EACH; i++) {
				snprintf(name, sizeof(name), "%d-%d", p, i);
				if (link_one(new_fd, name) < 0 ||
				    spool_sync_dir(s, new_fd) < 0)
					_exit(1);
			}
			spool_sync_close(s);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	}
	c = counters(new_fd);
	CHECK("every writer opened the shared sync and stored", failed == 0);
	CHECK("every link took a ticket", c.linked == PROCS * EACH);
	CHECK("every ticket is synced", c.synced == c.linked);
	CHECK("no sync failed", c.failed == 0);
	CHECK("syncs ran, no more than one a link",
	      c.syncs > 0 && c.syncs <= c.linked);
	CHECK("nobody is left asleep", c.waiters == 0);
	printf("# %d processes, %d links: %llu syncs\n", PROCS, PROCS * EACH,
	       (unsigned long long)c.syncs);
	close(new_fd);
}

/*
 * A process that holds the sync's lock, then stops (SIGSTOP) or is
 * killed (SIGKILL): another process's sync still returns within a bound,
 * after a sync of its own that began after its link.
 */
static void
test_holder(int sig)
{
	int new_fd = fresh_dir(sig == SIGSTOP ? "stopped" : "killed");
	struct spool_sync *s = spool_sync_open(new_fd);
	struct counters before, after;
	char name[80];
	int pipefd[2], status;
	pid_t pid;
	double t;
	char c;

	CHECK("the shared sync opens", s != NULL);
	if (!s || pipe(pipefd) < 0)
		return;
	shm_name(new_fd, name, sizeof(name));
	pid = fork();
	if (pid == 0) {
		int fd = shm_open(name, O_RDWR, 0);

		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		write(pipefd[1], "x", 1);
		if (sig == SIGSTOP)
			raise(SIGSTOP);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	CHECK("the holder took the lock", read(pipefd[0], &c, 1) == 1);
	close(pipefd[0]);
	if (sig == SIGKILL) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	} else {
		waitpid(pid, &status, WUNTRACED);
	}
	before = counters(new_fd);
	t = now();
	CHECK("a link", link_one(new_fd, "event") == 0);
	CHECK("its sync succeeds", spool_sync_dir(s, new_fd) == 0);
	t = now() - t;
	after = counters(new_fd);
	printf("# holder %s: the sync returned after %.3f s\n",
	       sig == SIGSTOP ? "stopped" : "killed", t);
	CHECK("within a bound", t < 2.0);
	CHECK("after a sync that ran since the link",
	      after.syncs == before.syncs + 1 && after.synced == after.linked);
	if (sig == SIGSTOP) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	spool_sync_close(s);
	close(new_fd);
}

/* Where the coordination cannot be had, no handle: each syncs alone. */
static void
test_alone(void)
{
	int new_fd = fresh_dir("foreign"), fd, shm;
	char name[80];

	/* tmpfs: a sync there costs nothing to share. */
	fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		CHECK("none on tmpfs", spool_sync_open(fd) == NULL);
		CHECK("a sync without one", spool_sync_dir(NULL, fd) == 0);
		close(fd);
	}
	/* A shared file that another user made is not trusted. */
	if (geteuid() == 0 && new_fd >= 0) {
		shm_name(new_fd, name, sizeof(name));
		shm = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
		CHECK("a file made first",
		      shm >= 0 && fchown(shm, 65534, 65534) == 0);
		CHECK("none through another user's file",
		      spool_sync_open(new_fd) == NULL);
		if (shm >= 0)
			close(shm);
		shm_unlink(name);
	}
	if (new_fd >= 0)
		close(new_fd);
}

/*
 * A failed sync fails the tickets it covered, even once a later sync has
 * succeeded: that success does not prove the failed blocks were written.
 */
static void
test_failed(void)
{
	int new_fd = fresh_dir("failed"), shm;
	struct spool_sync *s;
	struct counters c;
	char name[80];

	s = new_fd >= 0 ? spool_sync_open(new_fd) : NULL;
	CHECK("a handle for the failure case", s != NULL);
	if (!s)
		return;
	shm_name(new_fd, name, sizeof(name));
	shm = shm_open(name, O_RDWR, 0);
	c = counters(new_fd);
	/* Ticket 1 of 1: synced and failed both past it. */
	c.linked = 0;
	c.synced = 5;
	c.failed = 5;
	CHECK("the counters set",
	      shm >= 0 && pwrite(shm, &c, sizeof(c), 0) == (ssize_t)sizeof(c));
	errno = 0;
	CHECK("a ticket a failed sync covered fails",
	      spool_sync_dir(s, new_fd) == -1 && errno == EIO);
	/* Ticket 7: past the failure, and synced. */
	c.linked = 6;
	c.synced = 9;
	CHECK("the counters set again",
	      pwrite(shm, &c, sizeof(c), 0) == (ssize_t)sizeof(c));
	CHECK("a ticket past the failure is synced",
	      spool_sync_dir(s, new_fd) == 0);
	if (shm >= 0)
		close(shm);
	spool_sync_close(s);
	close(new_fd);
}

/* Removes the shared files that the tests made. */
static void
cleanup(const char *sub)
{
	char path[512], name[80];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		shm_name(fd, name, sizeof(name));
		shm_unlink(name);
		close(fd);
	}
}

int
main(void)
{
	const char *subs[] = { "shared", "stopped", "killed", "foreign",
			       "failed" };
	char cmd[300];

	mkdir("tests/trash", 0755);
	snprintf(dir, sizeof(dir), "tests/trash/unit-spool-sync.%ld",
		 (long)getpid());
	if (mkdir(dir, 0750) < 0) {
		perror(dir);
		return 1;
	}
	test_shared();
	test_holder(SIGSTOP);
	test_holder(SIGKILL);
	test_alone();
	test_failed();
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		cleanup(subs[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return unit_report();
}
