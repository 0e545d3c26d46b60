#ifndef MAKINI_CONFIG_H
#define MAKINI_CONFIG_H

#include <stddef.h>
#include <sys/stat.h>

#include "allow.h"
#include "sig.h"

#define CONFIG_PREFIX "MAKINI_WEBHOOK_"
#define HOOK_ENV_TEXT_MAX 1024 /* bytes in MAKINI_WEBHOOK_HOOK_ENV */
#define HOOK_ENV_NAMES_MAX 32  /* names in it */
#define SECRETS_MAX 2 /* the current secret and the previous one */

enum mode { MODE_SPOOL, MODE_HOOK, MODE_QUEUE };

/* Where a secret came from, so that a changed secret file can be re-read. */
struct secret_origin {
	char *file; /* NULL when the secret came from the environment */
	const char *var; /* the variable that named the file */
	struct stat seen;
	int lost; /* the file can no longer be read: the secret is gone */
};

/*
 * The configuration, from MAKINI_WEBHOOK_* variables. When usable is 0,
 * problem names the variable and why, never its value: every POST is then
 * answered 500.
 */
struct config {
	int usable;
	char problem[160];
	/* All is well but the secret: enough for drain and status. */
	int only_secret_missing;

	enum mode mode;
	char *spool;
	char *hooks;
	char *hook_env; /* HOOK_ENV's text, its commas turned into NULs */
	/* HOOK_ENV's names, parsed once: NULL-terminated, into hook_env. */
	const char *hook_env_names[HOOK_ENV_NAMES_MAX + 1];
	size_t max_body;
	unsigned hook_timeout;
	unsigned max_attempts;
	unsigned retry_delay; /* seconds before the first retry; doubles */
	unsigned claim_timeout; /* seconds without a heartbeat: claim is dead */
	unsigned hook_concurrency; /* instances of one hook at once, per host */
	int fsync;
	int allow_set;
	int allow_bad; /* ALLOW_FROM did not parse: every address is refused */
	struct allow_list allow;

	struct secret secrets[SECRETS_MAX];
	struct secret_origin origins[SECRETS_MAX];
	size_t secret_count;
	long long secrets_checked; /* monotonic second of the last look */
	int unusable_for_lost_secret;
};

/*
 * Loads the configuration from two environments: overlay (a request's
 * variables, may be NULL) wins over base (the process's). The result is
 * always filled; check usable. Release it with config_free().
 */
void config_load(struct config *cfg, char *const *base, char *const *overlay);

void config_free(struct config *cfg);

/*
 * Re-reads secret files whose inode, size or time changed since they were
 * read, so that a rotated secret file takes effect without a restart. A
 * file that can no longer be read drops its secret and makes the
 * configuration unusable until it can be read again. Returns 1 when a
 * secret was (re)read, else 0.
 */
int config_reload_secrets(struct config *cfg);

/*
 * Calls config_reload_secrets() at most once a second, so that a secret
 * file rewritten to revoke a leaked secret takes effect within a second in
 * a long-running FastCGI process, at the cost of one stat() per second.
 */
void config_recheck_secrets(struct config *cfg);

/*
 * The configuration for one request: the captured process environment
 * overlaid by the request's MAKINI_WEBHOOK_* parameters. It is parsed again
 * only when those parameters differ from the previous request's, so a
 * steady server parses it once. The result stays owned by this module and
 * is valid until the next call.
 */
struct config *config_for_request(char *const *request_env);

#endif
