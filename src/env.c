/* See LICENSE file for copyright and license details. */
/*
 * Where variables come from: lookups in an environment, the process
 * environment kept across FastCGI requests, and makini-webhook.env.
 */
#include "env.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define CAPTURE_MAX 512 /* process environment entries kept */

const char *
env_find(char *const *env, const char *name)
{
	size_t len = strlen(name);

	for (; env && *env; env++)
		if (**env == *name && strncmp(*env, name, len) == 0 &&
		    (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

int
env_is_ours(const char *entry)
{
	return strncmp(entry, CONFIG_PREFIX, sizeof(CONFIG_PREFIX) - 1) == 0;
}

static char *captured[CAPTURE_MAX + 1];

void
env_capture(char *const *process_env)
{
	size_t n = 0;

	for (; process_env && *process_env && n < CAPTURE_MAX; process_env++)
		captured[n++] = strdup(*process_env);
	captured[n] = NULL;
}

char *const *
env_process(void)
{
	return captured;
}

static struct env_file the_file;
static char *no_entries[1];

static void
refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
refuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(the_file.problem, sizeof(the_file.problem), fmt, ap);
	va_end(ap);
}

/*
 * Whoever can write the file or replace it in its directory chooses the
 * secret and the spool, so only the program's owner and root may. uid is
 * the executable's owner.
 */
static int
safely_owned(const struct stat *st, uid_t uid)
{
	mode_t others_write = S_IWGRP | S_IWOTH;

	if (st->st_uid != 0 && st->st_uid != uid)
		return 0;
	return S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)
		       ? 1 : !(st->st_mode & others_write);
}

/* One "MAKINI_WEBHOOK_<name>=value" line, its quotes removed. */
static int
add_entry(char **entries, size_t n, char *line, unsigned lineno)
{
	size_t plen = sizeof(CONFIG_PREFIX) - 1, name_len, len;
	char *value;

	if (!env_is_ours(line)) {
		refuse(ENV_FILE_NAME " line %u: not a " CONFIG_PREFIX
		       "* variable", lineno);
		return -1;
	}
	name_len = plen + strspn(line + plen, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789_");
	if (name_len == plen || line[name_len] != '=') {
		refuse(ENV_FILE_NAME " line %u: not NAME=value", lineno);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(entries[i], line, name_len + 1) == 0) {
			refuse(ENV_FILE_NAME " line %u: %.*s is set twice",
			       lineno, (int)(name_len > 64 ? 64 : name_len),
			       line);
			return -1;
		}
	value = line + name_len + 1;
	len = strlen(value);
	if (len >= 2 && (value[0] == '"' || value[0] == '\'') &&
	    value[len - 1] == value[0]) {
		memmove(value, value + 1, len - 2);
		value[len - 2] = '\0';
	}
	entries[n] = strdup(line);
	return entries[n] ? 0 : -1;
}

static int
parse(char *text, size_t len, char **entries)
{
	unsigned lineno = 0;
	size_t n = 0;
	char *line = text, *end;

	if (memchr(text, '\0', len)) {
		refuse(ENV_FILE_NAME " holds a NUL byte");
		return -1;
	}
	for (; line < text + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(text + len - line));
		if (!end)
			end = text + len;
		*end = '\0';
		lineno++;
		if (end > line && end[-1] == '\r')
			end[-1] = '\0';
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		if (n == ENV_FILE_LINES) {
			refuse(ENV_FILE_NAME " has more than %d settings",
			       ENV_FILE_LINES);
			return -1;
		}
		if (add_entry(entries, n, line, lineno) < 0)
			return -1;
		n++;
	}
	return 0;
}

static void
load(void)
{
	char exe[PATH_MAX], *slash, *text = NULL, **entries = NULL;
	struct stat exe_st, dir_st, st;
	ssize_t len;
	size_t got = 0;
	int fd = -1;

	the_file.entries = no_entries;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return; /* no /proc (a chroot): no file to look for */
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	if (asprintf(&the_file.path, "%.*s/" ENV_FILE_NAME,
		     (int)(slash - exe), exe) < 0) {
		the_file.path = NULL;
		refuse("out of memory");
		return;
	}
	fd = open(the_file.path, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
				 O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			refuse(ENV_FILE_NAME " is a symbolic link");
		else if (errno != ENOENT)
			refuse("cannot read " ENV_FILE_NAME ": %s",
			       strerror(errno));
		return;
	}
	*slash = '\0';
	/* The program's owner is asked for only when there is a file. */
	if (stat("/proc/self/exe", &exe_st) < 0) {
		refuse("cannot look up the program's owner: %s",
		       strerror(errno));
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		refuse(ENV_FILE_NAME " is not a regular file");
	} else if (!safely_owned(&st, exe_st.st_uid)) {
		refuse(ENV_FILE_NAME " can be written by another user than "
		       "the program's owner or root");
	} else if (stat(*exe ? exe : "/", &dir_st) < 0 ||
		   !safely_owned(&dir_st, exe_st.st_uid)) {
		refuse("the directory of " ENV_FILE_NAME " can be written by "
		       "another user than the program's owner or root");
	} else if (st.st_size > ENV_FILE_MAX) {
		refuse(ENV_FILE_NAME " is larger than %d bytes", ENV_FILE_MAX);
	} else if (!(text = malloc((size_t)st.st_size + 1)) ||
		   !(entries = calloc(ENV_FILE_LINES + 1, sizeof(*entries)))) {
		refuse("out of memory");
	} else {
		while (got < (size_t)st.st_size &&
		       (len = read(fd, text + got,
				   (size_t)st.st_size - got)) != 0) {
			if (len < 0 && errno == EINTR)
				continue;
			if (len < 0)
				break;
			got += (size_t)len;
		}
		if (len < 0)
			refuse("cannot read " ENV_FILE_NAME ": %s",
			       strerror(errno));
		else if (parse(text, got, entries) == 0)
			the_file.entries = entries, entries = NULL;
	}
	if (entries) {
		for (char **e = entries; *e; e++) {
			explicit_bzero(*e, strlen(*e));
			free(*e);
		}
		free(entries);
	}
	if (text) {
		explicit_bzero(text, got);
		free(text);
	}
	close(fd);
}

const struct env_file *
env_file(void)
{
	static int loaded;

	if (!loaded) {
		loaded = 1;
		load();
	}
	return &the_file;
}
