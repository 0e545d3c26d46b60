/* See LICENSE file for copyright and license details. */
/*
 * Queue mode's runner: the detached process that drains a type after an
 * answer, so that no client waits for a hook.
 */
#include "queue_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "queue_drain.h"
#include "queue_slot.h"

/* Seconds a runner stays for a failed event whose next try falls due. */
#define RUNNER_LINGER 300

static void
slot_name(const char *type, char *out, size_t size)
{
	/* Apart from hooks' slots ("hook-<name>"), whatever a hook is named. */
	snprintf(out, size, "runner-%s", type);
}

/*
 * Cuts the runner loose from the server: a session of its own, no pipe
 * of the server's held open (under CGI the server waits for standard
 * output to close; under FastCGI standard input is the listening socket),
 * and the default signal dispositions libfcgi changed.
 */
static void
detach(int keep_fd)
{
	struct stat st;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (fstat(2, &st) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
			dup2(null, 2);
	}
	if (keep_fd > 3)
		close_range(3, (unsigned)keep_fd - 1, 0);
	/* No open() on the way can return 0, 1 or 2 now. */
	close_range((unsigned)keep_fd + 1, ~0U, 0);
}

/*
 * Drain passes over the type until nothing is due, lingering for retries.
 * Returns how many events it ran or returned.
 */
static unsigned
run_passes(const struct config *cfg, const char *type, char *const *env_first,
	   char *const *env_second)
{
	struct drain_counts c;
	unsigned ran = 0;

	for (;;) {
		if (queue_drain(cfg, type, 0, env_first, env_second, &c) < 0) {
			log_line("queue runner for %s: cannot read the "
				 "spool: %s", type, strerror(errno));
			return ran;
		}
		if (c.done + c.retried + c.failed + c.returned > 0) {
			ran += c.done + c.retried + c.failed + c.returned;
			continue;
		}
		if (!c.next_due || c.next_due > (long long)time(NULL) +
							 RUNNER_LINGER)
			return ran;
		/* New deliveries rely on this runner meanwhile: look often. */
		sleep(1);
	}
}

static void
runner_main(const struct config *cfg, const char *type,
	    char *const *env_first, char *const *env_second, int slot)
{
	char name[128];
	int moved;

	/* Descriptors 0-2, closed at start, may have lent it their number. */
	if (slot < 3 && (moved = fcntl(slot, F_DUPFD_CLOEXEC, 3)) >= 0) {
		close(slot);
		slot = moved;
	}
	detach(slot);
	log_set_sink(NULL);
	if (log_to_file(cfg->spool, "queue.log") < 0)
		log_line("queue runner for %s: cannot open queue.log: %s", type,
			 strerror(errno));
	slot_name(type, name, sizeof(name));
	/*
	 * A delivery that found every slot taken counted on a runner to see
	 * its event: after letting the slot go, it looks once more, and goes
	 * on only when that look found work.
	 */
	run_passes(cfg, type, env_first, env_second);
	for (;;) {
		close(slot);
		slot = slot_lock(cfg, name, cfg->hook_concurrency, 0);
		if (slot < 0 ||
		    run_passes(cfg, type, env_first, env_second) == 0)
			break;
	}
	if (slot >= 0)
		close(slot);
}

void
runner_start(const struct config *cfg, const char *type,
	     char *const *env_first, char *const *env_second)
{
	char name[128];
	int slot, status;
	pid_t pid;

	slot_name(type, name, sizeof(name));
	slot = slot_lock(cfg, name, cfg->hook_concurrency, 0);
	if (slot < 0) {
		if (errno != EWOULDBLOCK)
			log_line("queue runner for %s: cannot lock its "
				 "slot: %s", type, strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		/* The intermediate child: its exit hands the runner to init. */
		setsid();
		if (fork() == 0) {
			runner_main(cfg, type, env_first, env_second, slot);
			_exit(0);
		}
		_exit(0);
	}
	if (pid < 0)
		log_line("queue runner for %s: cannot start: %s", type,
			 strerror(errno));
	close(slot);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}
