/* See LICENSE file for copyright and license details. */
/*
 * The benchmark's floors: the least a receiver must do to store an event
 * the way the contract says, and nothing else. Per request it reads the
 * body, creates an unnamed file in SPOOL/assets/tmp/ (O_TMPFILE), writes
 * the body, fdatasyncs it, links it into SPOOL/assets/new/<name>.json
 * through /proc/self/fd, fsyncs the file (its inode, with the link
 * counted: without a journal nothing else writes it, and e2fsck would
 * clear the entry after a power cut), fsyncs new/, and answers 200 with
 * the name. The
 * two directories are opened once per process. No signature, no JSON, no
 * configuration, no log line: what makini-webhook does beyond this is what
 * its ratio to a floor measures.
 *
 * Built twice (Makefile, bench target): FLOOR_SYNC=1 is the durable floor;
 * FLOOR_SYNC=0, the no-sync floor, is the same program without its
 * syncs, to compare with makini-webhook run with MAKINI_WEBHOOK_FSYNC=0.
 * It serves FastCGI as makini-webhook does, from the same shipped configs;
 * MAKINI_WEBHOOK_SPOOL names the spool, as for the receiver.
 */
#include <fcgi_stdio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FLOOR_SYNC
#define FLOOR_SYNC 1
#endif

static int tmp_fd = -1, new_fd = -1;

/*
 * The benchmark moves new/ aside between runs, so that each run starts on
 * an empty directory; makini-webhook opens it by name for every event, and
 * SIGHUP makes the floor open its directories again before its next one.
 */
static volatile sig_atomic_t reopen;

static void
on_hup(int sig)
{
	(void)sig;
	reopen = 1;
}

/* SPOOL/assets/{tmp,new}, made when missing, opened once. */
static int
open_dirs(const char *spool)
{
	const char *sub[] = { "", "/assets", "/assets/tmp", "/assets/new" };
	char path[4096];

	for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++) {
		snprintf(path, sizeof(path), "%s%s", spool, sub[i]);
		if (mkdir(path, 0750) < 0 && errno != EEXIST)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/assets/tmp", spool);
	tmp_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/assets/new", spool);
	new_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return tmp_fd >= 0 && new_fd >= 0 ? 0 : -1;
}

static int
store(const char *body, size_t len, const char *name)
{
	char proc[64];
	int fd = openat(tmp_fd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0640);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, body, len);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (n != (ssize_t)len || (FLOOR_SYNC && fdatasync(fd) < 0) ||
	    linkat(AT_FDCWD, proc, new_fd, name, AT_SYMLINK_FOLLOW) < 0 ||
	    (FLOOR_SYNC && fsync(fd) < 0)) {
		close(fd);
		return -1;
	}
	if (close(fd) < 0 || (FLOOR_SYNC && fsync(new_fd) < 0))
		return -1;
	return 0;
}

int
main(void)
{
	static char body[1 << 20];
	const char *env = getenv("MAKINI_WEBHOOK_SPOOL");
	char *spool = env ? strdup(env) : NULL;
	unsigned long count = 0;
	long pid = (long)getpid();
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	while (FCGI_Accept() >= 0) {
		const char *cl = getenv("CONTENT_LENGTH");
		long want = cl ? strtol(cl, NULL, 10) : 0;
		size_t len = 0;
		char name[64];

		if (reopen && tmp_fd >= 0) {
			close(tmp_fd);
			close(new_fd);
			tmp_fd = new_fd = -1;
		}
		reopen = 0;
		/* Under CGI the spool comes with the request. */
		if (!spool && (env = getenv("MAKINI_WEBHOOK_SPOOL")))
			spool = strdup(env);
		if (want < 0 || want > (long)sizeof(body)) {
			fputs("Status: 413 Content Too Large\r\n"
			      "Content-Type: application/json\r\n\r\n"
			      "{\"status\":\"error\",\"error\":\"too large\"}\n",
			      stdout);
			continue;
		}
		while (len < (size_t)want) {
			size_t n = fread(body + len, 1, (size_t)want - len,
					 stdin);

			if (n == 0)
				break;
			len += n;
		}
		snprintf(name, sizeof(name), "%ld-%lu.json", pid, count++);
		if (!spool || (tmp_fd < 0 && open_dirs(spool) < 0) ||
		    store(body, len, name) < 0) {
			fputs("Status: 503 Service Unavailable\r\n"
			      "Content-Type: application/json\r\n\r\n"
			      "{\"status\":\"error\",\"error\":\"cannot store "
			      "event\"}\n", stdout);
			continue;
		}
		printf("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
		       "{\"status\":\"accepted\",\"id\":\"%s\"}\n", name);
	}
	return 0;
}
