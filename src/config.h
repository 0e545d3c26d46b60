/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_CONFIG_H
#define MAKINI_CONFIG_H

#include <stddef.h>

#include "allow.h"
#include "hook_env.h"
#include "secrets.h"

#define CONFIG_PREFIX "MAKINI_WEBHOOK_"
#define CONFIG_PROBLEMS_MAX 16

enum mode { MODE_SPOOL, MODE_HOOK, MODE_QUEUE };

/*
 * Where request lines go (LOG): decided from the server when unset, the
 * way earlier versions did; the process's standard error; the FastCGI
 * request's error stream (standard error under CGI); or a file.
 */
enum log_to { LOG_AUTO, LOG_STDERR, LOG_FASTCGI, LOG_FILE };

enum allow_from {
	ALLOW_ANY,    /* ALLOW_FROM unset */
	ALLOW_LISTED, /* only the addresses in allow */
	ALLOW_NONE,   /* ALLOW_FROM did not parse: fail closed */
};

/*
 * One thing wrong with the configuration. text names the variable and
 * why, never a value or a path, so it may be logged and answered; path
 * is the file involved, for check, which the administrator runs.
 */
struct config_problem {
	char text[160];
	const char *path; /* into the config or the env file, or NULL */
};

/*
 * The configuration, decided once from MAKINI_WEBHOOK_* variables and
 * not changed after: only the secrets, which follow their files, live
 * on (secrets.h). A configuration with problems answers every POST 500.
 */
struct config {
	size_t problem_count; /* every problem found, not only the first */
	struct config_problem problems[CONFIG_PROBLEMS_MAX];

	enum mode mode;
	char *spool;
	int spool_relative; /* SPOOL was made absolute against the cwd */
	char *hooks;
	char *hook_env; /* HOOK_ENV's text, the storage of hook_env_names */
	const char *hook_env_names[HOOK_ENV_NAMES_MAX + 1];
	size_t max_body;
	unsigned hook_timeout;
	unsigned max_attempts;
	unsigned retry_delay; /* seconds before the first retry; doubles */
	unsigned claim_timeout; /* seconds without a heartbeat: claim is dead */
	unsigned hook_concurrency; /* instances of one hook at once, per host */
	/* prune's default age in seconds (PRUNE_AGE), 0 when unset */
	unsigned long long prune_age;
	/* status: a pending event older than this is overdue (OVERDUE_AGE) */
	unsigned long long overdue_age;
	/* run once for each event moved to failed/ (FAILURE_HOOK), or NULL */
	char *failure_hook;
	int fsync;
	/* the health check's thresholds (MIN_FREE, MIN_FREE_INODES); 0: off */
	unsigned long long min_free;
	unsigned long long min_free_inodes;
	enum allow_from allow_from;
	struct allow_list allow;
	enum log_to log_to;
	char *log_file; /* LOG_FILE: an absolute path */

	struct secrets *secrets; /* its own state; never NULL once loaded */
};

/*
 * Loads the configuration from three layers, first match wins: overlay
 * (a request's variables, may be NULL), base (the process's), then the
 * env file beside the executable (env.h). An empty variable counts as
 * unset. The result is always filled, problems or not. Release it with
 * config_free().
 */
void config_load(struct config *cfg, char *const *base, char *const *overlay);

void config_free(struct config *cfg);

/*
 * Why the receiver cannot take events: the first problem with the
 * configuration or, failing that, with its secrets; NULL when there is
 * none. Never a value or a path.
 */
const char *config_problem(const struct config *cfg);

/*
 * Parses an age as PRUNE_AGE and prune --older-than take it: whole
 * seconds, or with the suffix s, m, h or d. Returns 0, or -1.
 */
int config_parse_age(const char *text, unsigned long long *seconds);

/*
 * Parses a size as MIN_FREE takes it: whole bytes, or KiB, MiB or GiB with
 * the suffix K, M or G (either case). Returns 0, or -1.
 */
int config_parse_size(const char *text, unsigned long long *bytes);

/*
 * The configuration for one request: the captured process environment
 * (env_capture) overlaid by the request's MAKINI_WEBHOOK_* parameters. It
 * is loaded again only when those parameters differ from the previous
 * request's, so a steady server loads it once. The result stays owned by
 * this module and is valid until the next call.
 */
const struct config *config_for_request(char *const *request_env);

#endif
