/* See LICENSE file for copyright and license details. */
/*
 * The accepted secrets: read from the environment or from files, and
 * re-read when a file changes, so that a rotated or revoked secret takes
 * effect without a restart.
 */
#include "secrets.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

/* SECRET_MAX as text, for a reason that is a string constant. */
#define TEXT_OF(n) #n
#define NUMBER_TEXT(n) TEXT_OF(n)
#define SECRET_MAX_TEXT NUMBER_TEXT(SECRET_MAX)

static void
broken(struct secrets *s, enum secrets_state state, const char *path,
       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records the first problem; a BROKEN state is never left. */
static void
broken(struct secrets *s, enum secrets_state state, const char *path,
       const char *fmt, ...)
{
	va_list ap;

	if (s->state == SECRETS_BROKEN || s->state == SECRETS_LOST)
		return;
	s->state = state;
	s->problem_path = path;
	va_start(ap, fmt);
	vsnprintf(s->problem, sizeof(s->problem), fmt, ap);
	va_end(ap);
}

/*
 * Reads a secret file: at most SECRET_MAX bytes, one trailing newline
 * ("\n" or "\r\n") stripped. Returns 0, or -1 with a reason in *why.
 */
static int
read_secret_file(const char *path, struct secret *secret, struct stat *seen,
		 const char **why)
{
	unsigned char buf[SECRET_MAX + 2];
	size_t len = 0;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, seen) < 0) {
		*why = strerror(errno);
		goto out;
	}
	while (len < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*why = strerror(errno);
			goto out;
		}
		len += (size_t)n;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0) {
		*why = "the file is empty";
		goto out;
	}
	if (len > SECRET_MAX) {
		*why = "the file is longer than " SECRET_MAX_TEXT " bytes";
		goto out;
	}
	secret->bytes = malloc(len);
	if (!secret->bytes) {
		*why = "out of memory";
		goto out;
	}
	memcpy(secret->bytes, buf, len);
	secret->len = len;
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/*
 * A secret file that cannot be read takes its secret with it: a leaked
 * secret is revoked by emptying or removing its file too. The state is
 * LOST until the file can be read again.
 */
static void
lose(struct secrets *s, size_t i, const char *why)
{
	struct secret_origin *origin = &s->origin[i];

	secret_clear(&s->secret[i]);
	broken(s, SECRETS_LOST, origin->file, "cannot read the file named by "
	       CONFIG_PREFIX "%s: %s", origin->var, why);
}

/* The monotonic second, from the coarse clock: no system call. */
static long long
now_second(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	return (long long)now.tv_sec;
}

void
secrets_add(struct secrets *s, enum secret_role role, const char *var,
	    const char *value, const char *file_var, const char *file)
{
	struct secret *secret = &s->secret[s->count];
	struct secret_origin *origin = &s->origin[s->count];
	const char *why;

	if (value && file) {
		broken(s, SECRETS_BROKEN, NULL, "set either " CONFIG_PREFIX
		       "%s or " CONFIG_PREFIX "%s, not both", var, file_var);
		return;
	}
	if (value || file)
		origin->role = role;
	if (value) {
		size_t len = strlen(value);

		if (len > SECRET_MAX) {
			broken(s, SECRETS_BROKEN, NULL, CONFIG_PREFIX
			       "%s is longer than %d bytes", var, SECRET_MAX);
			return;
		}
		secret->bytes = malloc(len);
		if (!secret->bytes) {
			broken(s, SECRETS_BROKEN, NULL, "out of memory");
			return;
		}
		memcpy(secret->bytes, value, len);
		secret->len = len;
		s->count++;
	} else if (file) {
		origin->file = strdup(file);
		origin->var = file_var;
		if (!origin->file) {
			broken(s, SECRETS_BROKEN, NULL, "out of memory");
			return;
		}
		/* Kept even when unreadable: the file may appear later. */
		s->count++;
		if (read_secret_file(file, secret, &origin->seen, &why) < 0)
			lose(s, s->count - 1, why);
		/* Just read: the first request need not look again. */
		s->checked = now_second();
	}
}

const struct secret *
secrets_current(const struct secrets *s)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->origin[i].role == SECRET_CURRENT)
			return &s->secret[i];
	return NULL;
}

void
secrets_finish(struct secrets *s)
{
	if (s->state != SECRETS_NONE)
		return;
	if (s->count == 0)
		snprintf(s->problem, sizeof(s->problem), "no secret: set "
			 CONFIG_PREFIX "SECRET or " CONFIG_PREFIX
			 "SECRET_FILE");
	else
		s->state = SECRETS_READY;
}

void
secrets_free(struct secrets *s)
{
	for (size_t i = 0; i < SECRETS_MAX; i++) {
		secret_clear(&s->secret[i]);
		free(s->origin[i].file);
	}
	memset(s, 0, sizeof(*s));
}

static int
same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int
secrets_reload(struct secrets *s)
{
	int changed = 0;

	if (s->state != SECRETS_READY && s->state != SECRETS_LOST)
		return 0;
	if (s->state == SECRETS_LOST) {
		/* Looked at afresh: whatever is still unreadable says so. */
		s->state = SECRETS_READY;
		s->problem[0] = '\0';
		s->problem_path = NULL;
	}
	for (size_t i = 0; i < s->count; i++) {
		struct secret_origin *origin = &s->origin[i];
		struct secret fresh = { 0 };
		struct stat now;
		const char *why;

		if (!origin->file)
			continue;
		if (stat(origin->file, &now) < 0) {
			lose(s, i, strerror(errno));
		} else if (s->secret[i].len == 0 ||
			   !same_file_state(&now, &origin->seen)) {
			if (read_secret_file(origin->file, &fresh, &now,
					     &why) < 0) {
				lose(s, i, why);
			} else {
				secret_clear(&s->secret[i]);
				s->secret[i] = fresh;
				origin->seen = now;
				changed = 1;
			}
		}
	}
	return changed;
}

void
secrets_recheck(struct secrets *s)
{
	long long now;

	if (!s->origin[0].file && !s->origin[1].file)
		return;
	now = now_second();
	if (now == s->checked)
		return;
	s->checked = now;
	secrets_reload(s);
}

int
secrets_verify(struct secrets *s, const void *data, size_t len,
	       const unsigned char sig[SIG_LEN])
{
	secrets_recheck(s);
	if (s->state != SECRETS_READY)
		return 0;
	if (sig_verify(s->secret, s->count, data, len, sig))
		return 1;
	/* A secret file may have been rotated since it was read. */
	return secrets_reload(s) && s->state == SECRETS_READY &&
	       sig_verify(s->secret, s->count, data, len, sig);
}

int
secrets_padded(const struct secrets *s, size_t i)
{
	const struct secret *secret = &s->secret[i];

	return secret->len > 0 &&
	       (isspace(secret->bytes[0]) ||
		isspace(secret->bytes[secret->len - 1]));
}
