/* See LICENSE file for copyright and license details. */
/*
 * Log lines: where they go (the server's error log, the file
 * MAKINI_WEBHOOK_LOG names, or queue.log in the spool for runners and
 * drains), one line per write.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io.h"

#define LOG_FILE_MAX (1L << 20) /* bytes before queue.log is rotated */

static void
stderr_sink(const char *line, size_t len)
{
	fwrite(line, 1, len, stderr);
	fflush(stderr);
}

static log_sink_fn *current_sink = stderr_sink;

/* The spool's log file, when one is open: its directory, name and file. */
static int file_dir = -1, file_fd = -1;
static char file_name[64];

void
log_set_sink(log_sink_fn *sink)
{
	current_sink = sink ? sink : stderr_sink;
}

/* Never through a link, and never onto a FIFO or a device planted there. */
static int
open_log_file(void)
{
	struct stat st;

	file_fd = openat(file_dir, file_name,
			 O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
				 O_NONBLOCK | O_CLOEXEC, 0640);
	if (file_fd >= 0 && (fstat(file_fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(file_fd);
		file_fd = -1;
		errno = EINVAL;
	}
	return file_fd;
}

int
log_to_file(const char *dir, const char *name)
{
	log_close_file();
	snprintf(file_name, sizeof(file_name), "%s", name);
	file_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (file_dir < 0 || open_log_file() < 0) {
		log_close_file();
		return -1;
	}
	return 0;
}

void
log_close_file(void)
{
	close_saving_errno(file_fd);
	close_saving_errno(file_dir);
	file_fd = file_dir = -1;
}

/*
 * Past LOG_FILE_MAX the file becomes <name>.1, replacing the one before,
 * and a new one is started. A writer that finds its full file already
 * renamed only reopens: it never renames the fresh one over <name>.1.
 * Lines of writers racing here land whole in one of the two files.
 */
static void
rotate_if_full(void)
{
	char old[sizeof(file_name) + 2];
	struct stat st, named;

	if (fstat(file_fd, &st) < 0 || st.st_size < LOG_FILE_MAX)
		return;
	/* Rotated already by another writer: only the new file is reopened. */
	if (fstatat(file_dir, file_name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	    named.st_ino == st.st_ino && named.st_dev == st.st_dev) {
		snprintf(old, sizeof(old), "%s.1", file_name);
		renameat(file_dir, file_name, file_dir, old);
	}
	close(file_fd);
	open_log_file();
}

/*
 * Writes line to fd stamped with the UTC time and the pid, in one write:
 * with O_APPEND, lines of concurrent writers never mix.
 */
static void
write_stamped(int fd, const char *line, size_t len)
{
	char stamped[1100];
	struct timespec now;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = snprintf(stamped, sizeof(stamped),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%ld] %.*s",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000,
		     (long)getpid(), (int)len, line);
	/* A line that cannot be written has nowhere left to be told. */
	if (n > 0 && (size_t)n < sizeof(stamped))
		(void)write_all(fd, stamped, (size_t)n);
}

static void
file_sink(const char *line, size_t len)
{
	if (file_fd < 0)
		return;
	rotate_if_full();
	if (file_fd >= 0)
		write_stamped(file_fd, line, len);
}

/* The request log named by MAKINI_WEBHOOK_LOG, and its path. */
static int request_fd = -1;
static char *request_path;

int
log_open_request_file(const char *path)
{
	char *copy;
	int fd;

	if (request_fd >= 0 && strcmp(request_path, path) == 0)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC,
		  0640);
	if (fd < 0)
		return -1;
	copy = strdup(path);
	if (!copy) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	if (request_fd >= 0)
		close(request_fd);
	free(request_path);
	request_fd = fd;
	request_path = copy;
	return 0;
}

void
log_request_file_sink(const char *line, size_t len)
{
	if (request_fd >= 0)
		write_stamped(request_fd, line, len);
}

#define LINE_MAX_BYTES 1024 /* with the prefix and the newline */

void
log_text(const char *msg, size_t len)
{
	static const char prefix[] = "makini-webhook: ";
	char line[LINE_MAX_BYTES];
	size_t n = sizeof(prefix) - 1;

	memcpy(line, prefix, n);
	if (len > sizeof(line) - n - 1)
		len = sizeof(line) - n - 1;
	memcpy(line + n, msg, len);
	n += len;
	line[n++] = '\n';
	current_sink(line, n);
	file_sink(line, n);
}

void
log_line(const char *fmt, ...)
{
	char msg[LINE_MAX_BYTES];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_text(msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}
