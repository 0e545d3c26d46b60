/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_ENV_H
#define MAKINI_ENV_H

#include <stddef.h>

#define ENV_FILE_NAME "makini-webhook.env"
#define ENV_FILE_MAX 65536   /* bytes in it */
#define ENV_FILE_LINES 256   /* entries in it */

/*
 * Where variables come from: environments are NULL-terminated arrays of
 * "NAME=value" strings, as environ is. Everything that reads one goes
 * through env_find().
 */

/* The value of name in env (NULL-safe), or NULL when it is not there. */
const char *env_find(char *const *env, const char *name);

/* Succeeds when entry is a "MAKINI_WEBHOOK_..." variable. */
int env_is_ours(const char *entry);

/*
 * Copies the process environment. Call it once before the first
 * FCGI_Accept(), which replaces environ with each request's parameters.
 */
void env_capture(char *const *process_env);

/* What env_capture() kept; an empty environment before it is called. */
char *const *env_process(void);

/*
 * The optional makini-webhook.env in the executable's own directory, for
 * servers that pass no variables (suEXEC). It holds MAKINI_WEBHOOK_*=value
 * lines; blank lines and lines starting with '#' are skipped, and one pair
 * of quotes around a value goes, as a shell would read it. It is read on
 * the first call, once per process.
 */
struct env_file {
	char *path;     /* NULL when the executable cannot be located */
	char **entries; /* NULL-terminated; empty when there is no file */
	/*
	 * Empty when the file is absent or usable. Otherwise why it is
	 * refused: then none of its entries is used, and the configuration
	 * is unusable.
	 */
	char problem[160];
};

const struct env_file *env_file(void);

#endif
