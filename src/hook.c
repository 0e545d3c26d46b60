/* See LICENSE file for copyright and license details. */
/*
 * Hooks: finding the executable for an event, and running it with a
 * timeout, its output logged.
 */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook_env.h"
#include "io.h"
#include "log.h"

#define HOOK_LINE_MAX 512    /* longest output line logged whole */

int
hook_find(const char *hooks_dir, const struct event *ev, char *path,
	  size_t size)
{
	const char *names[3] = { ev->name, ev->entity, "default" };
	struct stat dir;

	/* A HOOKS gone since start-up is an error, never "no hook". */
	if (stat(hooks_dir, &dir) < 0)
		return -1;
	if (!S_ISDIR(dir.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		struct stat st;

		if (snprintf(path, size, "%s/%s", hooks_dir, names[i]) >=
		    (int)size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (stat(path, &st) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return -1;
		}
		/* Not executable by us: the next name in the order is tried. */
		if (S_ISREG(st.st_mode) && access(path, X_OK) == 0)
			return 0;
	}
	return 1;
}

int
hook_input_from_memory(const void *data, size_t len)
{
	int fd = memfd_create("makini-event", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps line as the newest of the tail's lines, dropping the oldest. */
static void
tail_add(char *tail, const char *line, size_t n)
{
	size_t len = strlen(tail), lines = 0;
	char *p;

	if (n > HOOK_TAIL_LINE_MAX)
		n = HOOK_TAIL_LINE_MAX;
	for (p = tail; (p = strchr(p, '\n')); p++)
		lines++;
	if (lines == HOOK_TAIL_LINES) {
		p = strchr(tail, '\n') + 1;
		len -= (size_t)(p - tail);
		memmove(tail, p, len + 1);
	}
	/* One line each in the record: no newline, no terminal controls. */
	for (size_t i = 0; i < n; i++)
		tail[len + i] = (unsigned char)line[i] < 0x20 ||
					line[i] == 0x7f ? '?' : line[i];
	tail[len + n] = '\n';
	tail[len + n + 1] = '\0';
}

/*
 * Logs complete lines from buf, keeping a partial last line for later,
 * and the last lines in tail when it is set.
 */
static void
log_lines(const char *name, char *buf, size_t *len, int flush, char *tail)
{
	size_t start = 0;

	for (size_t i = 0; i < *len; i++) {
		if (buf[i] != '\n')
			continue;
		log_line("hook %s: %.*s", name, (int)(i - start), buf + start);
		if (tail)
			tail_add(tail, buf + start, i - start);
		start = i + 1;
	}
	/*
	 * What is left is a partial line. It goes out as it is when it fills
	 * the whole buffer (a line too long to hold) or when the output ended.
	 */
	if (start < *len && (flush || *len - start == HOOK_LINE_MAX)) {
		log_line("hook %s: %.*s", name, (int)(*len - start),
			 buf + start);
		if (tail)
			tail_add(tail, buf + start, *len - start);
		start = *len;
	}
	memmove(buf, buf + start, *len - start);
	*len -= start;
}

/*
 * Whether the hook has exited, without reaping it (WNOWAIT). A child that
 * cannot be waited for (SIGCHLD ignored by whoever started us) counts as
 * exited, so the loop cannot spin.
 */
static int
hook_exited(pid_t pid)
{
	siginfo_t info;

	info.si_pid = 0;
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	return info.si_pid == pid;
}

/* Reaps the hook; its wait status, or a failure if it cannot be had. */
static int
reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return W_EXITCODE(127, 0);
	return status;
}

/*
 * Starts the hook, as git's run-command does: fork, then in the child only
 * what is async-signal-safe, then execve; an exec failure comes back
 * through a close-on-exec pipe. The hook gets its own process group and
 * default signals, and it dies with its runner (PR_SET_PDEATHSIG): a runner
 * killed mid-hook leaves no hook behind to run on while another runner
 * takes up the event again. Returns the pid, or -1 with the error in *err.
 */
static pid_t
spawn_hook(const char *hooks_dir, const char *path, int input_fd,
	   int output_fd, char **envp, int *err)
{
	static const int defaults[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP,
					SIGCHLD, SIGALRM };
	char *argv[2] = { (char *)path, NULL };
	pid_t parent = getpid(), pid;
	int report[2], e = 0;
	ssize_t n;

	if (pipe2(report, O_CLOEXEC) < 0) {
		*err = errno;
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		struct sigaction dfl;
		sigset_t none;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults);
		     i++)
			sigaction(defaults[i], &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
		    getppid() != parent || dup2(input_fd, 0) < 0 ||
		    dup2(output_fd, 1) < 0 ||
		    dup2(output_fd, 2) < 0 || chdir(hooks_dir) < 0)
			goto fail;
		/* The FastCGI connection, and what libraries opened, stay. */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		execve(path, argv, envp);
fail:
		e = errno;
		n = write(report[1], &e, sizeof(e));
		_exit(n == (ssize_t)sizeof(e) ? 127 : 126);
	}
	close_saving_errno(report[1]); /* fork's errno is read below */
	if (pid < 0) {
		*err = errno;
		close(report[0]);
		return -1;
	}
	/* Here too: kill(-pid) must find the group before the child ran. */
	setpgid(pid, pid);
	while ((n = read(report[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*err = e;
		return -1;
	}
	return pid;
}

/* The hook and its group: a hook that left its group is still reached. */
static void
signal_hook(pid_t pid, int sig)
{
	kill(-pid, sig);
	kill(pid, sig);
}

enum hook_result
hook_run(const char *hooks_dir, const char *path,
	 const struct hook_call *call, int input_fd, char *why,
	 size_t why_size)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *envp[HOOK_ENV_MAX + 1];
	char buf[HOOK_LINE_MAX];
	size_t buf_len = 0;
	int pipefd[2], pidfd, err = 0, status = 0, exited = 0, term_sent = 0;
	int abandoned = 0;
	long long deadline, kill_at, next_beat;
	enum hook_result result;
	pid_t pid;

	if (call->tail)
		call->tail[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(why, why_size, "cannot make a pipe: %s",
			 strerror(errno));
		return HOOK_FAILED;
	}
	hook_env_build(call, envp);
	pid = spawn_hook(hooks_dir, path, input_fd, pipefd[1], envp, &err);
	hook_env_release(envp);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		snprintf(why, why_size, "cannot run hook %s: %s", name,
			 strerror(err));
		return HOOK_FAILED;
	}

	/*
	 * A pidfd turns readable when the hook exits, so one poll waits for
	 * output, exit and deadline together; without one (kernels before
	 * 5.3) the loop looks at waitpid every 20 ms instead.
	 */
	pidfd = pidfd_open(pid, 0);
	deadline = now_ms() + (long long)call->timeout * 1000;
	kill_at = deadline + HOOK_KILL_GRACE * 1000;
	next_beat = now_ms() + call->heartbeat_ms;
	while (!exited) {
		struct pollfd pfds[2] = {
			{ pipefd[0], POLLIN, 0 }, { pidfd, POLLIN, 0 }
		};
		long long now = now_ms(), wait_ms;

		if (!term_sent && now >= deadline) {
			signal_hook(pid, SIGTERM);
			term_sent = 1;
		}
		if (term_sent && now >= kill_at)
			signal_hook(pid, SIGKILL);
		if (call->heartbeat && now >= next_beat && !abandoned) {
			/* Another runner has the event: never two at once. */
			if (call->heartbeat(call->heartbeat_ctx) < 0) {
				signal_hook(pid, SIGKILL);
				abandoned = 1;
			}
			next_beat = now + call->heartbeat_ms;
		}
		wait_ms = (term_sent ? kill_at : deadline) - now;
		if (wait_ms < 0 || wait_ms > 1000)
			wait_ms = term_sent ? 100 : 1000;
		if (call->heartbeat && wait_ms > next_beat - now)
			wait_ms = next_beat - now;
		if (pidfd < 0 && wait_ms > 20)
			wait_ms = 20;
		if (poll(pfds, 2, (int)wait_ms) > 0 && pfds[0].revents) {
			ssize_t n = read(pipefd[0], buf + buf_len,
					 sizeof(buf) - buf_len);

			if (n > 0) {
				buf_len += (size_t)n;
				log_lines(name, buf, &buf_len, 0, call->tail);
			} else if (n == 0 || errno != EINTR) {
				close(pipefd[0]);
				pipefd[0] = -1;
			}
		}
		exited = hook_exited(pid);
	}
	if (pidfd >= 0)
		close(pidfd);
	/*
	 * What the hook left behind in its group ends with it. The hook is
	 * not reaped yet, so its group id cannot have passed to another.
	 */
	signal_hook(pid, SIGKILL);
	status = reap(pid);
	if (pipefd[0] >= 0) {
		ssize_t n;

		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		while ((n = read(pipefd[0], buf + buf_len,
				 sizeof(buf) - buf_len)) > 0) {
			buf_len += (size_t)n;
			log_lines(name, buf, &buf_len, 0, call->tail);
		}
		close(pipefd[0]);
	}
	log_lines(name, buf, &buf_len, 1, call->tail);

	if (abandoned) {
		snprintf(why, why_size, "hook %s stopped: its event was taken "
			 "over", name);
		result = HOOK_FAILED;
	} else if (term_sent) {
		snprintf(why, why_size, "hook %s timed out after %us", name,
			 call->timeout);
		result = HOOK_TIMEOUT;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		why[0] = '\0';
		result = HOOK_OK;
	} else if (WIFEXITED(status)) {
		snprintf(why, why_size, "hook %s exited with status %d", name,
			 WEXITSTATUS(status));
		result = HOOK_FAILED;
	} else {
		snprintf(why, why_size, "hook %s killed by signal %d", name,
			 WTERMSIG(status));
		result = HOOK_FAILED;
	}
	return result;
}
