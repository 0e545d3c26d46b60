/* See LICENSE file for copyright and license details. */
/*
 * What a hook's environment holds: the event's MAKINI_* variables, PATH,
 * and the variables MAKINI_WEBHOOK_HOOK_ENV names, which never include
 * one of our own, so that no secret reaches a hook.
 */
#include "hook_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "env.h"
#include "hook.h"

/* Names a hook's environment sets itself. */
static const char *const hook_own_names[] = {
	"MAKINI_EVENT", "MAKINI_ENTITY", "MAKINI_ACTION", "MAKINI_EVENT_ID",
	"MAKINI_ATTEMPT", "MAKINI_EVENT_FILE", "MAKINI_DELIVERY_KEY",
	"MAKINI_FAILURE_REASON", "MAKINI_ATTEMPTS",
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
	for (size_t i = 0;
	     i < sizeof(hook_own_names) / sizeof(*hook_own_names); i++)
		if (strlen(hook_own_names[i]) == len &&
		    strncmp(name, hook_own_names[i], len) == 0)
			return 1;
	return 0;
}

int
hook_env_parse(char *text, const char *names[HOOK_ENV_NAMES_MAX + 1])
{
	size_t n = 0;

	names[0] = NULL;
	if (strlen(text) > HOOK_ENV_TEXT_MAX)
		return -1;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, ",");

		if (len == 0 || (p[0] >= '0' && p[0] <= '9') ||
		    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "abcdefghijklmnopqrstuvwxyz0123456789_") < len ||
		    is_reserved_for_hooks(p, len) || ++n > HOOK_ENV_NAMES_MAX)
			return -1;
		p += len;
		if (*p == ',')
			p++;
	}
	n = 0;
	for (char *p = text; *p; p++) {
		names[n++] = p;
		p += strcspn(p, ",");
		if (!*p)
			break;
		*p = '\0';
	}
	names[n] = NULL;
	return 0;
}

/* Formats "NAME=value" into a fresh string added to envp. */
static void
env_add(char **envp, size_t *n, const char *name, const char *value)
{
	char *entry;

	if (*n >= HOOK_ENV_MAX || asprintf(&entry, "%s=%s", name, value) < 0)
		return;
	envp[(*n)++] = entry;
}

void
hook_env_build(const struct hook_call *call, char **envp)
{
	const char *path = HOOK_DEFAULT_PATH;
	char attempt[16];
	size_t n = 0;

	snprintf(attempt, sizeof(attempt), "%u", call->attempt);
	env_add(envp, &n, "MAKINI_EVENT", call->event->name);
	env_add(envp, &n, "MAKINI_ENTITY", call->event->entity);
	env_add(envp, &n, "MAKINI_ACTION", call->event->action);
	env_add(envp, &n, "MAKINI_EVENT_ID", call->id);
	env_add(envp, &n, "MAKINI_ATTEMPT", attempt);
	if (call->event_file)
		env_add(envp, &n, "MAKINI_EVENT_FILE", call->event_file);
	/*
	 * The key names one stored event (in hook mode, one request), and so
	 * is its id: the same on every run of it, retries, reruns after a
	 * crash and takeovers by another host included. It is not a hash of
	 * the body: Makini's payload holds only record ids, so two real
	 * changes of one record arrive as the same bytes, and a hook that
	 * folded equal bytes would drop the second change.
	 */
	env_add(envp, &n, "MAKINI_DELIVERY_KEY", call->id);
	if (call->failure_reason) {
		env_add(envp, &n, "MAKINI_FAILURE_REASON", call->failure_reason);
		env_add(envp, &n, "MAKINI_ATTEMPTS", attempt);
	}

	for (const char *const *names = call->env_names; *names; names++) {
		const char *name = *names;
		const char *value = env_find(call->env_first, name);

		if (!value)
			value = env_find(call->env_second, name);
		if (!value)
			continue;
		if (strcmp(name, "PATH") == 0)
			path = value;
		else
			env_add(envp, &n, name, value);
	}
	env_add(envp, &n, "PATH", path);
	envp[n] = NULL;
}

void
hook_env_release(char **envp)
{
	for (char **e = envp; *e; e++)
		free(*e);
}

char **
hook_env_keep(const char *const *names, char *const *env)
{
	char **kept = calloc(HOOK_ENV_MAX + 1, sizeof(*kept));
	size_t n = 0;

	if (!kept)
		return NULL;
	for (; *names && n < HOOK_ENV_MAX; names++) {
		const char *value = env_find(env, *names);

		if (value && asprintf(&kept[n], "%s=%s", *names, value) >= 0)
			n++;
	}
	return kept;
}

void
hook_env_free(char **kept)
{
	if (!kept)
		return;
	hook_env_release(kept);
	free(kept);
}

