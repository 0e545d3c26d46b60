/* See LICENSE file for copyright and license details. */
/*
 * The shared sync of new/ (src/spool_sync.c) against one sync per event,
 * without a web server: P processes store 1 KB events the durable floor's
 * way (tests/bench/floor.c: an O_TMPFILE file in tmp/, write, fdatasync,
 * link into new/, fsync of the file) for S seconds, then either fsync
 * new/ each ("naive") or wait for the shared sync ("shared"). Prints one
 * line: the mode, P and the events per second.
 *
 *	groupsync DIR PROCS SECONDS naive|shared
 *
 * DIR must not exist yet; DIR/tmp and DIR/new are made in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spool_sync.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
store(int tmp_fd, int new_fd, struct spool_sync *s, int shared,
      const char *name)
{
	static char body[1024];
	char proc[64];
	int fd = openat(tmp_fd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0640);

	if (fd < 0)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (write(fd, body, sizeof(body)) != (ssize_t)sizeof(body) ||
	    fdatasync(fd) < 0 ||
	    linkat(AT_FDCWD, proc, new_fd, name, AT_SYMLINK_FOLLOW) < 0 ||
	    fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return shared ? spool_sync_dir(s, new_fd) : fsync(new_fd);
}

int
main(int argc, char **argv)
{
	char path[4096];
	unsigned long *counts, total = 0;
	int procs, shared, tmp_fd, new_fd;
	double seconds, start;

	if (argc != 5 ||
	    (strcmp(argv[4], "naive") && strcmp(argv[4], "shared"))) {
		fputs("usage: groupsync DIR PROCS SECONDS naive|shared\n",
		      stderr);
		return 2;
	}
	procs = atoi(argv[2]);
	seconds = atof(argv[3]);
	shared = strcmp(argv[4], "shared") == 0;
	snprintf(path, sizeof(path), "%s/tmp", argv[1]);
	if (mkdir(argv[1], 0750) < 0 || mkdir(path, 0750) < 0)
		return perror(argv[1]), 1;
	tmp_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/new", argv[1]);
	if (mkdir(path, 0750) < 0)
		return perror(path), 1;
	new_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	counts = mmap(NULL, sizeof(*counts) * procs, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tmp_fd < 0 || new_fd < 0 || counts == MAP_FAILED)
		return perror("groupsync"), 1;
	start = now();
	for (int p = 0; p < procs; p++) {
		if (fork() == 0) {
			/* Each process opens its own, as the receiver's do. */
			struct spool_sync *s = spool_sync_open(new_fd);
			char name[64];

			if (shared && !s)
				fputs("groupsync: no shared sync here\n",
				      stderr);
			while (now() - start < seconds) {
				snprintf(name, sizeof(name), "%d-%lu", p,
					 counts[p]);
				if (store(tmp_fd, new_fd, s, shared, name) < 0)
					_exit(1);
				counts[p]++;
			}
			_exit(0);
		}
	}
	for (int p = 0; p < procs; p++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			return fputs("groupsync: a writer failed\n", stderr), 1;
	}
	for (int p = 0; p < procs; p++)
		total += counts[p];
	printf("%s %d %.0f\n", argv[4], procs, total / (now() - start));
	return 0;
}
