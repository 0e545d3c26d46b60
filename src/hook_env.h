/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_HOOK_ENV_H
#define MAKINI_HOOK_ENV_H

#include <stddef.h>

#define HOOK_ENV_TEXT_MAX 1024 /* bytes in MAKINI_WEBHOOK_HOOK_ENV */
#define HOOK_ENV_NAMES_MAX 32  /* names in it */
#define HOOK_ENV_MAX 48        /* entries in a hook's environment */

struct hook_call;

/*
 * Parses MAKINI_WEBHOOK_HOOK_ENV, the variables passed on to hooks: at
 * most HOOK_ENV_NAMES_MAX plain names, comma-separated, never one of our
 * own (a MAKINI_WEBHOOK_* variable, which may hold a secret, the
 * signature, or a name a hook's environment sets itself). text becomes
 * the names' storage: its commas turn into NULs and names[] points into
 * it, NULL-terminated. Returns 0, or -1 when the list is refused.
 */
int hook_env_parse(char *text, const char *names[HOOK_ENV_NAMES_MAX + 1]);

/*
 * The hook's whole environment into envp (HOOK_ENV_MAX + 1 entries):
 * PATH, the MAKINI_* event variables from call, and the variables that
 * call->env_names lists, looked up in call->env_first then
 * call->env_second. Nothing else is inherited. Free it with
 * hook_env_release().
 */
void hook_env_build(const struct hook_call *call, char **envp);
void hook_env_release(char **envp);

/*
 * Copies the entries of env that names lists into a new NULL-terminated
 * array, for use after env is gone (a FastCGI request's parameters are
 * freed when it is finished). Release it with hook_env_free(). Returns
 * NULL when out of memory.
 */
char **hook_env_keep(const char *const *names, char *const *env);
void hook_env_free(char **kept);

#endif
