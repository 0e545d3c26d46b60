/* See LICENSE file for copyright and license details. */
/*
 * The check verb, for the administrator at a shell: everything it finds
 * wrong at once, with the paths involved, which no HTTP answer or request
 * log line ever names. It only looks: it creates no spool, no directory
 * and no file.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "env.h"
#include "spool.h"
#include "spool_space.h"
#include "spool_type.h"

#ifndef MAKINI_VERSION
#define MAKINI_VERSION "unknown"
#endif

static const char *
user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : "?";
}

/* Who the checks ran as: they hold for that user only. */
static void
say_user(void)
{
	uid_t uid = geteuid();

	printf("user:    %s (uid %ld, gid %ld)\n", user_name(uid), (long)uid,
	       (long)getegid());
	if (uid == 0)
		printf("note:    run as root, which may write anywhere: run "
		       "it as the server's user too, for example\n"
		       "         runuser -u www-data -- "
		       "makini-webhook check\n");
}

static void
say_env_file(void)
{
	const struct env_file *file = env_file();

	if (!file->path)
		return;
	if (file->problem[0])
		printf("env:     %s: refused\n", file->path);
	else if (file->entries[0])
		printf("env:     %s: read\n", file->path);
}

static void
say_problem(const char *what, const char *text, const char *path)
{
	if (path)
		printf("%-8s %s (%s)\n", what, text, path);
	else
		printf("%-8s %s\n", what, text);
}

/*
 * A secret with white space around it, or a file with more than one
 * trailing newline (one is stripped), makes every delivery fail with 401
 * although it looks right.
 */
static void
warn_padded_secrets(const struct secrets *s)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct secret *secret = &s->secret[i];
		const char *origin = s->origin[i].role == SECRET_CURRENT
					     ? "the secret"
					     : "the previous secret";

		if (!secrets_padded(s, i))
			continue;
		if (s->origin[i].file && secret->bytes[secret->len - 1] == '\n')
			printf("warning: %s's file has more than one trailing "
			       "newline, which become part of the secret: "
			       "every delivery will fail with 401 (%s)\n",
			       origin, s->origin[i].file);
		else
			printf("warning: %s begins or ends with white space, "
			       "which is part of it: every delivery will fail "
			       "with 401 unless Makini's has it too\n", origin);
	}
}

/* Prints every problem; returns how many there were. */
static size_t
say_config(const struct config *cfg)
{
	static const char *const mode_names[] = { "spool", "hook", "queue" };
	const struct secrets *s = cfg->secrets;
	size_t bad = cfg->problem_count;

	for (size_t i = 0; i < cfg->problem_count; i++)
		say_problem("config:", cfg->problems[i].text,
			    cfg->problems[i].path);
	if (!bad)
		printf("config:  ok, mode %s, max body %zu bytes, fsync %s\n",
		       mode_names[cfg->mode], cfg->max_body,
		       cfg->fsync ? "on" : "off");
	if (s->state == SECRETS_READY) {
		printf("secret:  %s\n", s->count == 2 ? "current and previous"
				       : secrets_current(s) ? "current"
							    : "previous only");
		if (!secrets_current(s))
			printf("warning: only the previous secret is set: "
			       "events signed with it are accepted, and sign "
			       "refuses; set " CONFIG_PREFIX "SECRET or "
			       CONFIG_PREFIX "SECRET_FILE to the secret Makini "
			       "signs with now\n");
		warn_padded_secrets(s);
	} else {
		say_problem("secret:", s->problem, s->problem_path);
		bad++;
	}
	return bad;
}

struct type_check {
	int types, bad;
};

/*
 * tmp/ and new/ of every type must share a file system, or the link
 * that publishes an event would fail, and tmp/ must be writable.
 */
static int
check_type(const char *type, struct spool_type *t, void *ctx)
{
	struct type_check *tc = ctx;
	struct stat st_tmp, st_new;

	if (!t) {
		printf("spool:   %s: a link or a file where a directory "
		       "belongs\n", type);
		tc->bad = 1;
		return 0;
	}
	if (t->tmp < 0 || t->new < 0 || fstat(t->tmp, &st_tmp) < 0 ||
	    fstat(t->new, &st_new) < 0) {
		printf("spool:   %s: tmp/ or new/ is missing\n", type);
		tc->bad = 1;
		return 0;
	}
	tc->types++;
	if (st_tmp.st_dev != st_new.st_dev) {
		printf("spool:   %s: tmp/ and new/ are on different file "
		       "systems\n", type);
		tc->bad = 1;
	} else if (faccessat(t->tmp, ".", W_OK | X_OK, AT_EACCESS) < 0 ||
		   faccessat(t->new, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		printf("spool:   %s: tmp/ or new/ is not writable: %s\n", type,
		       strerror(errno));
		tc->bad = 1;
	}
	return 0;
}

/* Returns 0 when events could be stored, else -1 after saying why. */
static int
say_spool(const struct config *cfg)
{
	struct type_check tc = { 0, 0 };
	struct stat st;

	if (!cfg->spool)
		return -1;
	if (cfg->spool_relative) {
		printf("spool:   %s: " CONFIG_PREFIX "SPOOL is a relative "
		       "path, which each server resolves against its own "
		       "working directory: give an absolute one\n",
		       cfg->spool);
		return -1;
	}
	if (stat(cfg->spool, &st) < 0) {
		if (errno != ENOENT || spool_ready(cfg->spool) < 0) {
			printf("spool:   %s: cannot be used: %s\n", cfg->spool,
			       strerror(errno));
			return -1;
		}
		printf("spool:   %s: missing; the first event creates it, as "
		       "the user that stores it\n", cfg->spool);
		return 0;
	}
	if (!S_ISDIR(st.st_mode) ||
	    faccessat(AT_FDCWD, cfg->spool, W_OK | X_OK, AT_EACCESS) < 0) {
		printf("spool:   %s: not writable: %s\n", cfg->spool,
		       S_ISDIR(st.st_mode) ? strerror(errno)
					   : strerror(ENOTDIR));
		return -1;
	}
	printf("spool:   %s: writable, owned by %s\n", cfg->spool,
	       user_name(st.st_uid));
	if (spool_each_type(cfg->spool, 0, check_type, &tc) < 0) {
		printf("spool:   %s: cannot be read: %s\n", cfg->spool,
		       strerror(errno));
		return -1;
	}
	printf("spool:   %d event type%s checked\n", tc.types,
	       tc.types == 1 ? "" : "s");
	return tc.bad ? -1 : 0;
}

/*
 * The room left on the spool's file system, as the health check judges
 * it: a disk about to fill is not usable, though events are still stored
 * until it is full. Returns 0, or -1 after saying why.
 */
static int
say_space(const struct config *cfg)
{
	struct spool_space sp;
	char bytes[32], inodes[32], min_free[32], min_inodes[48], why[400];

	if (spool_space_measure(cfg->spool, &sp) < 0) {
		printf("space:   %s: cannot be measured: %s\n", cfg->spool,
		       strerror(errno));
		return -1;
	}
	spool_space_bytes(sp.free_bytes, bytes, sizeof(bytes));
	if (cfg->min_free)
		spool_space_bytes(cfg->min_free, min_free, sizeof(min_free));
	else
		snprintf(min_free, sizeof(min_free), "space off");
	if (cfg->min_free_inodes)
		snprintf(min_inodes, sizeof(min_inodes), "%llu inodes",
			 cfg->min_free_inodes);
	else
		snprintf(min_inodes, sizeof(min_inodes), "inodes off");
	if (sp.inodes_counted)
		printf("space:   %s and %s inodes free (thresholds %s, %s)\n",
		       bytes, spool_space_count(sp.free_inodes, inodes,
						sizeof(inodes)),
		       min_free, min_inodes);
	else
		printf("space:   %s free, the file system counts no inodes "
		       "(threshold %s)\n", bytes, min_free);
	if (spool_space_judge(&sp, cfg->min_free, cfg->min_free_inodes, why,
			      sizeof(why)) < 0) {
		printf("space:   almost full: %s\n", why);
		return -1;
	}
	return 0;
}

/*
 * A name in HOOK_ENV that this environment lacks reaches no hook: often a
 * variable set for the shell but not for the server, or a typo.
 */
static void
warn_unset_hook_env(const char *const *names, char *const *env)
{
	for (; *names; names++)
		if (!env_find(env, *names))
			printf("warning: %s, named in " CONFIG_PREFIX
			       "HOOK_ENV, is not set here, so hooks will not "
			       "get it\n", *names);
}

static int
say_hooks(const struct config *cfg, char *const *env)
{
	struct stat st;

	if (!cfg->hooks || cfg->mode == MODE_SPOOL)
		return 0;
	warn_unset_hook_env(cfg->hook_env_names, env);
	if (stat(cfg->hooks, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* a problem of the configuration, said already */
	if (faccessat(AT_FDCWD, cfg->hooks, X_OK, AT_EACCESS) < 0) {
		printf("hooks:   %s: cannot be searched: %s\n", cfg->hooks,
		       strerror(errno));
		return -1;
	}
	printf("hooks:   %s\n", cfg->hooks);
	return 0;
}

int
check_main(char *const *env)
{
	struct config cfg;
	int usable = 1;

	config_load(&cfg, env, NULL);
	printf("makini-webhook %s\n", MAKINI_VERSION);
	say_user();
	say_env_file();
	if (say_config(&cfg) > 0)
		usable = 0;
	if (say_spool(&cfg) < 0 || say_space(&cfg) < 0)
		usable = 0;
	if (say_hooks(&cfg, env) < 0)
		usable = 0;
	printf("usable:  %s\n", usable ? "yes" : "no");
	config_free(&cfg);
	return usable ? 0 : 1;
}
