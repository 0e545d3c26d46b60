/* See LICENSE file for copyright and license details. */
/*
 * The configuration: MAKINI_WEBHOOK_* variables turned into a struct
 * config, every problem named, decided once per process (or per change
 * of a request's variables) and not changed after.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decimal.h"
#include "env.h"

#ifndef MAKINI_DEFAULT_SPOOL
#define MAKINI_DEFAULT_SPOOL "/var/spool/makini-webhook"
#endif

#define PATH_VALUE_MAX 2048   /* bytes in SPOOL or HOOKS */
#define MAX_BODY_LIMIT (256UL << 20)
#define OVERLAY_MAX 64        /* a request's MAKINI_WEBHOOK_* parameters */
#define MIN_FREE_INODES_LIMIT 1000000000UL

static const char *const known_names[] = {
	"SECRET", "SECRET_FILE", "SECRET_PREVIOUS", "SECRET_PREVIOUS_FILE",
	"MODE", "SPOOL", "HOOKS", "HOOK_ENV", "MAX_BODY", "HOOK_TIMEOUT",
	"MAX_ATTEMPTS", "RETRY_DELAY", "FSYNC", "ALLOW_FROM", "CLAIM_TIMEOUT",
	"HOOK_CONCURRENCY", "PRUNE_AGE", "FAILURE_HOOK", "LOG", "OVERDUE_AGE",
	"MIN_FREE", "MIN_FREE_INODES",
};

/*
 * The value of the variable full in env, or NULL. An empty value counts
 * as unset: environment files and server configurations often leave an
 * unused variable empty.
 */
static const char *
env_value(char *const *env, const char *full)
{
	const char *v = env_find(env, full);

	return v && *v ? v : NULL;
}

/*
 * The value of CONFIG_PREFIX name: the request's variables win over the
 * process's, which win over the file's. The full name is put together
 * once, by hand: under CGI this runs for every variable of every
 * request, and snprintf was then a third of the receiver's instructions.
 */
static const char *
lookup(char *const *base, char *const *overlay, const char *name)
{
	char full[64];
	size_t prefix = sizeof(CONFIG_PREFIX) - 1, len = strlen(name);
	const char *v;

	if (prefix + len >= sizeof(full))
		return NULL;
	memcpy(full, CONFIG_PREFIX, prefix);
	memcpy(full + prefix, name, len + 1);
	v = env_value(overlay, full);
	if (!v)
		v = env_value(base, full);
	return v ? v : env_value(env_file()->entries, full);
}

static void
problem(struct config *cfg, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a problem; past CONFIG_PROBLEMS_MAX the last slot says so. */
static void
problem(struct config *cfg, const char *path, const char *fmt, ...)
{
	struct config_problem *p;
	va_list ap;

	if (cfg->problem_count == CONFIG_PROBLEMS_MAX) {
		p = &cfg->problems[CONFIG_PROBLEMS_MAX - 1];
		snprintf(p->text, sizeof(p->text), "and more problems");
		p->path = NULL;
		return;
	}
	p = &cfg->problems[cfg->problem_count++];
	p->path = path;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
}

static void
number_var(struct config *cfg, char *const *base, char *const *overlay,
	   const char *name, unsigned long min, unsigned long max,
	   unsigned long *out)
{
	const char *v = lookup(base, overlay, name);
	unsigned long long n;

	if (v && (decimal_parse(v, max, &n) != 0 || n < min))
		problem(cfg, NULL, CONFIG_PREFIX "%s is not a whole number "
			"from %lu to %lu", name, min, max);
	else if (v)
		*out = (unsigned long)n;
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

/*
 * PRUNE_AGE and OVERDUE_AGE: a whole number of seconds, or of minutes,
 * hours or days with the suffix m, h or d ("30d"). PRUNE_AGE 0, unset,
 * means prune needs --older-than; OVERDUE_AGE 0 means never overdue.
 */
static void
age_var(struct config *cfg, char *const *base, char *const *overlay,
	const char *name, unsigned long long *field)
{
	const char *v = lookup(base, overlay, name);

	if (v && config_parse_age(v, field) < 0)
		problem(cfg, NULL, CONFIG_PREFIX "%s is not an age such as "
			"3600, 90m, 12h or 30d", name);
}

int
config_parse_age(const char *text, unsigned long long *seconds)
{
	unsigned long long n = 0, unit = 1;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n > 100000000ULL)
			return -1;
	}
	switch (*p) {
	case '\0': break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	default: return -1;
	}
	if (*p)
		return -1;
	*seconds = n * unit;
	return 0;
}

int
config_parse_size(const char *text, unsigned long long *bytes)
{
	static const char suffixes[] = "KkMmGg";
	const char *suffix;
	char digits[24];
	size_t len = strlen(text);
	unsigned long long n, unit = 1;

	if (len > 0 && (suffix = strchr(suffixes, text[len - 1]))) {
		unit = 1ULL << (10 * (1 + (suffix - suffixes) / 2));
		len--;
	}
	if (len == 0 || len >= sizeof(digits))
		return -1;
	memcpy(digits, text, len);
	digits[len] = '\0';
	if (decimal_parse(digits, ULLONG_MAX / unit, &n) != 0)
		return -1;
	*bytes = n * unit;
	return 0;
}

/*
 * MIN_FREE and MIN_FREE_INODES: what the spool's file system must keep
 * free for the health check to answer 200 (spool_space.h); 0 turns either
 * check off.
 */
static void
space_vars(struct config *cfg, char *const *base, char *const *overlay)
{
	const char *v = lookup(base, overlay, "MIN_FREE");
	unsigned long n = (unsigned long)cfg->min_free_inodes;

	if (v && config_parse_size(v, &cfg->min_free) < 0)
		problem(cfg, NULL, CONFIG_PREFIX "MIN_FREE is not a size such "
			"as 1048576, 512K, 64M or 1G");
	number_var(cfg, base, overlay, "MIN_FREE_INODES", 0,
		   MIN_FREE_INODES_LIMIT, &n);
	cfg->min_free_inodes = n;
}

static char *
path_var(struct config *cfg, char *const *base, char *const *overlay,
	 const char *name, const char *fallback)
{
	const char *v = lookup(base, overlay, name);
	char *copy;

	if (!v)
		v = fallback;
	if (!v)
		return NULL;
	if (strlen(v) > PATH_VALUE_MAX) {
		problem(cfg, NULL, CONFIG_PREFIX "%s is too long", name);
		return NULL;
	}
	copy = strdup(v);
	if (!copy)
		problem(cfg, NULL, "out of memory");
	return copy;
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
		problem(cfg, NULL, CONFIG_PREFIX "MODE must be spool, hook or "
			"queue");
}

/*
 * LOG names where request lines go: "stderr", "fastcgi", or an absolute
 * file path. A relative path is refused: a FastCGI process's working
 * directory is the server's choice, not the administrator's.
 */
static void
log_var(struct config *cfg, char *const *base, char *const *overlay)
{
	const char *v = lookup(base, overlay, "LOG");

	cfg->log_to = LOG_AUTO;
	if (!v)
		return;
	if (strcmp(v, "stderr") == 0)
		cfg->log_to = LOG_STDERR;
	else if (strcmp(v, "fastcgi") == 0)
		cfg->log_to = LOG_FASTCGI;
	else if (v[0] == '/' && strlen(v) <= PATH_VALUE_MAX) {
		cfg->log_file = strdup(v);
		if (cfg->log_file)
			cfg->log_to = LOG_FILE;
		else
			problem(cfg, NULL, "out of memory");
	} else
		problem(cfg, NULL, CONFIG_PREFIX "LOG must be stderr, fastcgi "
			"or an absolute file path");
}

static void
hook_env_var(struct config *cfg, char *const *base, char *const *overlay)
{
	const char *v = lookup(base, overlay, "HOOK_ENV");

	cfg->hook_env = strdup(v ? v : "");
	if (!cfg->hook_env)
		problem(cfg, NULL, "out of memory");
	else if (hook_env_parse(cfg->hook_env, cfg->hook_env_names) < 0)
		problem(cfg, NULL, CONFIG_PREFIX "HOOK_ENV must be at most "
			"%d names, comma-separated, in %d bytes, none of them "
			CONFIG_PREFIX "*, MAKINI_EVENT* or the signature",
			HOOK_ENV_NAMES_MAX, HOOK_ENV_TEXT_MAX);
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

	if (!cfg->hooks)
		problem(cfg, NULL, CONFIG_PREFIX "HOOKS is required in modes "
			"hook and queue");
	else if (stat(cfg->hooks, &st) < 0)
		problem(cfg, cfg->hooks, "cannot use " CONFIG_PREFIX
			"HOOKS: %s", strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		problem(cfg, cfg->hooks, CONFIG_PREFIX "HOOKS is not a "
			"directory");
	else
		make_absolute(&cfg->hooks);
}

/* Whether env has a variable named as entry's ("NAME=..."), len long. */
static int
has_name(char *const *env, const char *entry, size_t len)
{
	for (; env && *env; env++)
		if (strncmp(*env, entry, len) == 0 && (*env)[len] == '=')
			return 1;
	return 0;
}

/*
 * A misspelt variable would otherwise be ignored without a word. Each is
 * named once: one already in seen (where an earlier call looked) is not
 * named again. Under CGI the request's variables are the process's.
 */
static void
check_unknown(struct config *cfg, char *const *env, char *const *seen1,
	      char *const *seen2)
{
	size_t plen = sizeof(CONFIG_PREFIX) - 1;

	for (; env && *env; env++) {
		const char *name = *env + plen;
		size_t len, i;

		if (!env_is_ours(*env))
			continue;
		len = strcspn(name, "=");
		if (has_name(seen1, *env, plen + len) ||
		    has_name(seen2, *env, plen + len))
			continue;
		for (i = 0; i < sizeof(known_names) / sizeof(*known_names); i++)
			if (strlen(known_names[i]) == len &&
			    strncmp(known_names[i], name, len) == 0)
				break;
		if (i == sizeof(known_names) / sizeof(*known_names))
			problem(cfg, NULL, "unknown variable " CONFIG_PREFIX
				"%.*s", (int)(len > 40 ? 40 : len), name);
	}
}

/* What a configuration holds when even its secrets cannot be allocated. */
static struct secrets no_secrets = { .state = SECRETS_BROKEN,
				     .problem = "out of memory" };

void
config_load(struct config *cfg, char *const *base, char *const *overlay)
{
	const struct env_file *file = env_file();
	unsigned long n;
	const char *v, *why;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_body = 1048576;
	cfg->hook_timeout = 8;
	cfg->max_attempts = 10;
	cfg->retry_delay = 30;
	cfg->claim_timeout = 600;
	cfg->overdue_age = 3600;
	cfg->hook_concurrency = 1;
	cfg->fsync = 1;
	cfg->min_free = 64ULL << 20;
	cfg->min_free_inodes = 1000;

	if (file->problem[0])
		problem(cfg, file->path, "%s", file->problem);
	check_unknown(cfg, file->entries, NULL, NULL);
	check_unknown(cfg, base, file->entries, NULL);
	check_unknown(cfg, overlay, file->entries, base);
	mode_var(cfg, base, overlay);
	cfg->spool = path_var(cfg, base, overlay, "SPOOL",
			      MAKINI_DEFAULT_SPOOL);
	cfg->spool_relative = cfg->spool && cfg->spool[0] != '/';
	make_absolute(&cfg->spool);
	cfg->hooks = path_var(cfg, base, overlay, "HOOKS", NULL);
	cfg->failure_hook = path_var(cfg, base, overlay, "FAILURE_HOOK", NULL);
	make_absolute(&cfg->failure_hook);
	age_var(cfg, base, overlay, "PRUNE_AGE", &cfg->prune_age);
	age_var(cfg, base, overlay, "OVERDUE_AGE", &cfg->overdue_age);
	hook_env_var(cfg, base, overlay);
	log_var(cfg, base, overlay);

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
	space_vars(cfg, base, overlay);

	v = lookup(base, overlay, "ALLOW_FROM");
	if (v) {
		cfg->allow_from = ALLOW_LISTED;
		if (allow_parse(&cfg->allow, v, &why) < 0) {
			problem(cfg, NULL, CONFIG_PREFIX "ALLOW_FROM %s", why);
			cfg->allow_from = ALLOW_NONE;
		}
	}

	if (cfg->mode != MODE_SPOOL)
		hooks_dir_var(cfg);

	cfg->secrets = calloc(1, sizeof(*cfg->secrets));
	if (!cfg->secrets) {
		problem(cfg, NULL, "out of memory");
		cfg->secrets = &no_secrets;
		return;
	}
	secrets_add(cfg->secrets, SECRET_CURRENT, "SECRET",
		    lookup(base, overlay, "SECRET"), "SECRET_FILE",
		    lookup(base, overlay, "SECRET_FILE"));
	secrets_add(cfg->secrets, SECRET_PREVIOUS, "SECRET_PREVIOUS",
		    lookup(base, overlay, "SECRET_PREVIOUS"),
		    "SECRET_PREVIOUS_FILE",
		    lookup(base, overlay, "SECRET_PREVIOUS_FILE"));
	secrets_finish(cfg->secrets);
}

void
config_free(struct config *cfg)
{
	if (cfg->secrets && cfg->secrets != &no_secrets) {
		secrets_free(cfg->secrets);
		free(cfg->secrets);
	}
	free(cfg->spool);
	free(cfg->hooks);
	free(cfg->failure_hook);
	free(cfg->hook_env);
	free(cfg->log_file);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
config_problem(const struct config *cfg)
{
	if (cfg->problem_count > 0)
		return cfg->problems[0].text;
	if (cfg->secrets->state != SECRETS_READY)
		return cfg->secrets->problem;
	return NULL;
}

/*
 * The cached per-request configuration, and a copy of the request
 * parameters it was loaded with, which may hold a secret.
 */
static struct config cached;
static char *cached_overlay[OVERLAY_MAX + 1];
static int loaded, cache_valid;

/* Succeeds when request_env's MAKINI_WEBHOOK_* entries are the cached ones. */
static int
same_overlay(char *const *request_env)
{
	size_t n = 0;

	for (char *const *e = request_env; e && *e; e++) {
		if (!env_is_ours(*e))
			continue;
		if (!cached_overlay[n] || strcmp(*e, cached_overlay[n]) != 0)
			return 0;
		n++;
	}
	return cached_overlay[n] == NULL;
}

static void
forget_overlay(void)
{
	for (char **e = cached_overlay; *e; e++) {
		explicit_bzero(*e, strlen(*e));
		free(*e);
		*e = NULL;
	}
}

/* Keeps a copy of the request's entries. Returns 0, or -1 when it cannot. */
static int
keep_overlay(char *const *request_env)
{
	size_t n = 0;

	for (char *const *e = request_env; e && *e; e++) {
		if (!env_is_ours(*e))
			continue;
		if (n == OVERLAY_MAX || !(cached_overlay[n] = strdup(*e))) {
			forget_overlay();
			return -1;
		}
		n++;
	}
	return 0;
}

const struct config *
config_for_request(char *const *request_env)
{
	if (cache_valid && same_overlay(request_env))
		return &cached;
	if (loaded)
		config_free(&cached);
	forget_overlay();
	config_load(&cached, env_process(), request_env);
	loaded = 1;
	cache_valid = keep_overlay(request_env) == 0;
	if (!cache_valid)
		problem(&cached, NULL, "too many or too large " CONFIG_PREFIX
			"* request parameters");
	return &cached;
}
