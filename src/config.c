#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env.h"

#ifndef MAKINI_DEFAULT_SPOOL
#define MAKINI_DEFAULT_SPOOL "/var/spool/makini-webhook"
#endif

#define SECRET_MAX 4096       /* bytes in one secret */
#define PATH_VALUE_MAX 2048   /* bytes in SPOOL or HOOKS */
#define MAX_BODY_LIMIT (256UL << 20)

static const char *const known_names[] = {
	"SECRET", "SECRET_FILE", "SECRET_PREVIOUS", "SECRET_PREVIOUS_FILE",
	"MODE", "SPOOL", "HOOKS", "HOOK_ENV", "MAX_BODY", "HOOK_TIMEOUT",
	"MAX_ATTEMPTS", "RETRY_DELAY", "FSYNC", "ALLOW_FROM", "CLAIM_TIMEOUT",
	"HOOK_CONCURRENCY",
};

/*
 * The value of CONFIG_PREFIX name in env, or NULL. An empty value counts
 * as unset: environment files and server configurations often leave an
 * unused variable empty.
 */
static const char *
env_value(char *const *env, const char *name)
{
	char full[64];
	const char *v;

	snprintf(full, sizeof(full), CONFIG_PREFIX "%s", name);
	v = env_find(env, full);
	return v && *v ? v : NULL;
}

/* The request's variables win over the process's, which win over the file's. */
static const char *
lookup(char *const *base, char *const *overlay, const char *name)
{
	const char *v = env_value(overlay, name);

	if (!v)
		v = env_value(base, name);
	return v ? v : env_value(env_file()->entries, name);
}

static void
fail(struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (!cfg->usable)
		return; /* keep the first problem */
	cfg->usable = 0;
	va_start(ap, fmt);
	vsnprintf(cfg->problem, sizeof(cfg->problem), fmt, ap);
	va_end(ap);
}

/* Parses a decimal in [min, max], strtonum-style: digits only. */
static int
parse_number(const char *s, unsigned long min, unsigned long max,
	     unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (ULONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
number_var(struct config *cfg, char *const *base, char *const *overlay,
	   const char *name, unsigned long min, unsigned long max,
	   unsigned long *out)
{
	const char *v = lookup(base, overlay, name);

	if (v && parse_number(v, min, max, out) < 0)
		fail(cfg, CONFIG_PREFIX "%s is not a whole number from %lu to %lu",
		     name, min, max);
}

/* number_var() for an unsigned field, which keeps its default if unset. */
static void
unsigned_var(struct config *cfg, char *const *base, char *const *overlay,
	     const char *name, unsigned min, unsigned max, unsigned *field)
{
	unsigned long n = *field;

	number_var(cfg, base, overlay, name, min, max, &n);
	*field = (unsigned)n;
}

static char *
path_var(struct config *cfg, char *const *base, char *const *overlay,
	 const char *name, const char *fallback)
{
	const char *v = lookup(base, overlay, name);

	if (!v)
		v = fallback;
	if (!v)
		return NULL;
	if (!*v || strlen(v) > PATH_VALUE_MAX) {
		fail(cfg, CONFIG_PREFIX "%s is empty or too long", name);
		return NULL;
	}
	return strdup(v);
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
		*why = "the file is longer than 4096 bytes";
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

/* Loads one secret, given directly or as a file, into the next free slot. */
static void
secret_var(struct config *cfg, char *const *base, char *const *overlay,
	   const char *name, const char *file_name)
{
	const char *value = lookup(base, overlay, name);
	const char *file = lookup(base, overlay, file_name);
	struct secret *secret = &cfg->secrets[cfg->secret_count];
	struct secret_origin *origin = &cfg->origins[cfg->secret_count];
	const char *why;

	if (value && file) {
		fail(cfg, "set either " CONFIG_PREFIX "%s or " CONFIG_PREFIX
		     "%s, not both", name, file_name);
		return;
	}
	if (value) {
		size_t len = strlen(value);

		if (len == 0 || len > SECRET_MAX) {
			fail(cfg, CONFIG_PREFIX "%s is empty or longer than "
			     "4096 bytes", name);
			return;
		}
		secret->bytes = malloc(len);
		if (!secret->bytes) {
			fail(cfg, "out of memory");
			return;
		}
		memcpy(secret->bytes, value, len);
		secret->len = len;
		cfg->secret_count++;
	} else if (file) {
		if (read_secret_file(file, secret, &origin->seen, &why) < 0) {
			fail(cfg, "cannot read the file named by " CONFIG_PREFIX
			     "%s: %s", file_name, why);
			return;
		}
		origin->file = strdup(file);
		origin->var = file_name;
		cfg->secret_count++;
	}
}

static void
mode_var(struct config *cfg, char *const *base, char *const *overlay)
{
	const char *v = lookup(base, overlay, "MODE");

	cfg->mode = MODE_SPOOL;
	if (!v || strcmp(v, "spool") == 0)
		return;
	if (strcmp(v, "hook") == 0)
		cfg->mode = MODE_HOOK;
	else if (strcmp(v, "queue") == 0)
		cfg->mode = MODE_QUEUE;
	else
		fail(cfg, CONFIG_PREFIX "MODE must be spool, hook or queue");
}

/* Names a hook's environment sets itself. */
static const char *const hook_own_names[] = {
	"MAKINI_EVENT", "MAKINI_ENTITY", "MAKINI_ACTION", "MAKINI_EVENT_ID",
	"MAKINI_ATTEMPT", "MAKINI_EVENT_FILE", "MAKINI_DELIVERY_KEY",
};

static int
is_reserved_for_hooks(const char *name, size_t len)
{
	static const char signature[] = "HTTP_X_WEBHOOK_SIGNATURE";

	if (len >= sizeof(CONFIG_PREFIX) - 1 &&
	    strncmp(name, CONFIG_PREFIX, sizeof(CONFIG_PREFIX) - 1) == 0)
		return 1;
	if (len == sizeof(signature) - 1 && strncmp(name, signature, len) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(hook_own_names) / sizeof(*hook_own_names); i++)
		if (strlen(hook_own_names[i]) == len &&
		    strncmp(name, hook_own_names[i], len) == 0)
			return 1;
	return 0;
}

/*
 * MAKINI_WEBHOOK_HOOK_ENV names variables to pass to hooks: plain names,
 * never one of our own, so that no secret reaches a hook.
 */
static void
hook_env_var(struct config *cfg, char *const *base, char *const *overlay)
{
	const char *v = lookup(base, overlay, "HOOK_ENV");
	size_t names = 0;

	cfg->hook_env = strdup(v ? v : "");
	if (!v)
		return;
	if (strlen(v) > HOOK_ENV_TEXT_MAX) {
		fail(cfg, CONFIG_PREFIX "HOOK_ENV is longer than %d bytes",
		     HOOK_ENV_TEXT_MAX);
		return;
	}
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");

		if (len == 0 || (p[0] >= '0' && p[0] <= '9') ||
		    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789_") < len ||
		    is_reserved_for_hooks(p, len) ||
		    ++names > HOOK_ENV_NAMES_MAX) {
			fail(cfg, CONFIG_PREFIX "HOOK_ENV must list at most %d "
			     "variable names, comma-separated, none of them "
			     CONFIG_PREFIX "*, a MAKINI_EVENT* variable or "
			     "the signature",
			     HOOK_ENV_NAMES_MAX);
			return;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	names = 0;
	for (char *p = cfg->hook_env; p && *p; p++) {
		cfg->hook_env_names[names++] = p;
		p += strcspn(p, ",");
		if (!*p)
			break;
		*p = '\0';
	}
	cfg->hook_env_names[names] = NULL;
}

/*
 * Makes *path absolute against the working directory: hooks run in HOOKS
 * and are told where their event's file is. Left as it is when the
 * working directory cannot be had.
 */
static void
make_absolute(char **path)
{
	char cwd[PATH_MAX], *absolute;

	if (*path && (*path)[0] != '/' && getcwd(cwd, sizeof(cwd)) &&
	    asprintf(&absolute, "%s/%s", cwd, *path) >= 0) {
		free(*path);
		*path = absolute;
	}
}

/*
 * In modes hook and queue, HOOKS must be a directory: a missing one would
 * make every event look as if it had no hook. It is made absolute, as
 * hooks run with it as their working directory.
 */
static void
hooks_dir_var(struct config *cfg)
{
	struct stat st;

	if (!cfg->hooks) {
		fail(cfg, CONFIG_PREFIX "HOOKS is required in modes hook "
		     "and queue");
	} else if (stat(cfg->hooks, &st) < 0) {
		fail(cfg, "cannot use " CONFIG_PREFIX "HOOKS: %s",
		     strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		fail(cfg, CONFIG_PREFIX "HOOKS is not a directory");
	} else {
		make_absolute(&cfg->hooks);
		return;
	}
	cfg->only_secret_missing = 0;
}

/* A misspelt variable would otherwise be ignored without a word. */
static void
check_unknown(struct config *cfg, char *const *env)
{
	size_t plen = sizeof(CONFIG_PREFIX) - 1;

	for (; env && *env; env++) {
		const char *name = *env + plen;
		size_t len, i;

		if (!env_is_ours(*env))
			continue;
		len = strcspn(name, "=");
		for (i = 0; i < sizeof(known_names) / sizeof(*known_names); i++)
			if (strlen(known_names[i]) == len &&
			    strncmp(known_names[i], name, len) == 0)
				break;
		if (i == sizeof(known_names) / sizeof(*known_names))
			fail(cfg, "unknown variable " CONFIG_PREFIX "%.*s",
			     (int)(len > 40 ? 40 : len), name);
	}
}

void
config_load(struct config *cfg, char *const *base, char *const *overlay)
{
	unsigned long n;
	const char *v, *why;

	memset(cfg, 0, sizeof(*cfg));
	cfg->usable = 1;
	cfg->max_body = 1048576;
	cfg->hook_timeout = 8;
	cfg->max_attempts = 10;
	cfg->retry_delay = 30;
	cfg->claim_timeout = 600;
	cfg->hook_concurrency = 1;
	cfg->fsync = 1;

	if (env_file()->problem[0])
		fail(cfg, "%s", env_file()->problem);
	check_unknown(cfg, env_file()->entries);
	check_unknown(cfg, base);
	check_unknown(cfg, overlay);
	mode_var(cfg, base, overlay);
	cfg->spool = path_var(cfg, base, overlay, "SPOOL", MAKINI_DEFAULT_SPOOL);
	make_absolute(&cfg->spool);
	cfg->hooks = path_var(cfg, base, overlay, "HOOKS", NULL);
	hook_env_var(cfg, base, overlay);

	n = cfg->max_body;
	number_var(cfg, base, overlay, "MAX_BODY", 1, MAX_BODY_LIMIT, &n);
	cfg->max_body = n;
	unsigned_var(cfg, base, overlay, "HOOK_TIMEOUT", 1, 3600,
		     &cfg->hook_timeout);
	unsigned_var(cfg, base, overlay, "MAX_ATTEMPTS", 1, 1000,
		     &cfg->max_attempts);
	unsigned_var(cfg, base, overlay, "RETRY_DELAY", 0, 86400,
		     &cfg->retry_delay);
	unsigned_var(cfg, base, overlay, "CLAIM_TIMEOUT", 1, 86400,
		     &cfg->claim_timeout);
	unsigned_var(cfg, base, overlay, "HOOK_CONCURRENCY", 1, 64,
		     &cfg->hook_concurrency);
	n = (unsigned long)cfg->fsync;
	number_var(cfg, base, overlay, "FSYNC", 0, 1, &n);
	cfg->fsync = (int)n;

	v = lookup(base, overlay, "ALLOW_FROM");
	if (v) {
		cfg->allow_set = 1;
		if (allow_parse(&cfg->allow, v, &why) < 0) {
			fail(cfg, CONFIG_PREFIX "ALLOW_FROM %s", why);
			cfg->allow_bad = 1;
		}
	}

	secret_var(cfg, base, overlay, "SECRET", "SECRET_FILE");
	secret_var(cfg, base, overlay, "SECRET_PREVIOUS", "SECRET_PREVIOUS_FILE");
	if (cfg->usable && cfg->secret_count == 0) {
		fail(cfg, "no secret: set " CONFIG_PREFIX "SECRET or "
		     CONFIG_PREFIX "SECRET_FILE");
		cfg->only_secret_missing = 1;
	}
	if (cfg->mode != MODE_SPOOL)
		hooks_dir_var(cfg);
	if (!cfg->spool || !cfg->hook_env) {
		fail(cfg, "out of memory");
		cfg->only_secret_missing = 0;
	}
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < SECRETS_MAX; i++) {
		secret_clear(&cfg->secrets[i]);
		free(cfg->origins[i].file);
	}
	free(cfg->spool);
	free(cfg->hooks);
	free(cfg->hook_env);
	memset(cfg, 0, sizeof(*cfg));
}

static int
same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * A secret file that can no longer be read takes its secret with it: a
 * leaked secret is revoked by emptying or removing its file too. The
 * configuration is then unusable (500) until the file is back.
 */
static void
lose_secret(struct config *cfg, size_t i, const char *why)
{
	struct secret_origin *origin = &cfg->origins[i];

	if (origin->lost)
		return;
	secret_clear(&cfg->secrets[i]);
	origin->lost = 1;
	if (cfg->usable) {
		fail(cfg, "cannot read the file named by " CONFIG_PREFIX "%s: %s",
		     origin->var, why);
		cfg->unusable_for_lost_secret = 1;
	}
}

int
config_reload_secrets(struct config *cfg)
{
	int changed = 0, lost = 0;

	for (size_t i = 0; i < cfg->secret_count; i++) {
		struct secret_origin *origin = &cfg->origins[i];
		struct secret fresh = { 0 };
		struct stat now;
		const char *why;

		if (!origin->file)
			continue;
		if (stat(origin->file, &now) < 0) {
			lose_secret(cfg, i, strerror(errno));
		} else if (origin->lost || !same_file_state(&now, &origin->seen)) {
			if (read_secret_file(origin->file, &fresh, &now, &why) < 0) {
				lose_secret(cfg, i, why);
			} else {
				secret_clear(&cfg->secrets[i]);
				cfg->secrets[i] = fresh;
				origin->seen = now;
				origin->lost = 0;
				changed = 1;
			}
		}
		lost |= origin->lost;
	}
	if (!lost && cfg->unusable_for_lost_secret) {
		cfg->usable = 1;
		cfg->unusable_for_lost_secret = 0;
		cfg->problem[0] = '\0';
	}
	return changed;
}

void
config_recheck_secrets(struct config *cfg)
{
	struct timespec now;

	if (!cfg->origins[0].file && !cfg->origins[1].file)
		return;
	/* The coarse clock is read without a system call. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if ((long long)now.tv_sec == cfg->secrets_checked)
		return;
	cfg->secrets_checked = (long long)now.tv_sec;
	config_reload_secrets(cfg);
}

/* The cached per-request config. */
static struct config cached;
static char *cached_key;
static int cache_valid;

/*
 * The request's MAKINI_WEBHOOK_* entries joined with newlines: the cache
 * key. Returns a malloc'd string, or NULL when out of memory.
 */
static char *
overlay_key(char *const *request_env)
{
	size_t len = 1;
	char *key, *p;

	for (char *const *e = request_env; e && *e; e++)
		if (env_is_ours(*e))
			len += strlen(*e) + 1;
	key = malloc(len);
	if (!key)
		return NULL;
	p = key;
	for (char *const *e = request_env; e && *e; e++) {
		if (env_is_ours(*e)) {
			size_t l = strlen(*e);

			memcpy(p, *e, l);
			p[l] = '\n';
			p += l + 1;
		}
	}
	*p = '\0';
	return key;
}

/* Keys may hold a secret given per request, so they are wiped. */
static void
free_key(char *key)
{
	if (key) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
}

struct config *
config_for_request(char *const *request_env)
{
	char *key = overlay_key(request_env);

	if (cache_valid && key && strcmp(key, cached_key) == 0) {
		free_key(key);
		return &cached;
	}
	if (cache_valid)
		config_free(&cached);
	free_key(cached_key);
	cached_key = key;
	config_load(&cached, env_process(), request_env);
	if (!key)
		fail(&cached, "out of memory");
	cache_valid = key != NULL;
	return &cached;
}
