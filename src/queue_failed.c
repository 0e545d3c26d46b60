/* See LICENSE file for copyright and license details. */
/* The failure hook, run once for an event moved to failed/. */
#include "queue_failed.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"
#include "log.h"
#include "metrics.h"

/* Reads "attempts N" and "error TEXT" from failed/<id>.error. */
static void
read_error(int failed, const char *id, unsigned *attempts, char *why,
	   size_t size)
{
	char name[NAME_MAX + 1], buf[512];
	FILE *f;
	int fd;

	snprintf(name, sizeof(name), "%s.error", id);
	fd = spool_open_regular(failed, name);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strncmp(buf, "attempts ", 9) == 0)
			*attempts = (unsigned)strtoul(buf + 9, NULL, 10);
		else if (strncmp(buf, "error ", 6) == 0 && !why[0])
			snprintf(why, size, "%.200s", buf + 6);
	}
	fclose(f);
}

void
queue_failed_notify(const struct config *cfg, const struct spool_type *t,
		    const struct event *ev, const char *id,
		    char *const *env_first, char *const *env_second)
{
	char file[PATH_MAX], json[NAME_MAX + 1], reason[256] = "", why[256];
	unsigned attempts = 0;
	enum hook_result result;
	int fd;

	if (!cfg->failure_hook)
		return;
	read_error(t->failed, id, &attempts, reason, sizeof(reason));
	snprintf(json, sizeof(json), "%s.json", id);
	fd = spool_open_regular(t->failed, json);
	if (fd < 0 || snprintf(file, sizeof(file), "%s/%s/failed/%s",
			       cfg->spool, ev->entity, json) >=
			      (int)sizeof(file)) {
		log_line("queue %s: failure hook not run: cannot read the "
			 "event: %s", id, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	struct hook_call call = {
		.event = ev, .id = id, .attempt = attempts, .event_file = file,
		.timeout = cfg->hook_timeout, .env_names = cfg->hook_env_names,
		.env_first = env_first, .env_second = env_second,
		.failure_reason = reason,
	};
	result = hook_run(cfg->hooks ? cfg->hooks : "/", cfg->failure_hook,
			  &call, fd, why, sizeof(why));
	close(fd);
	metrics_count_failure_hook(cfg, ev->entity, result == HOOK_OK);
	if (result == HOOK_OK)
		log_line("queue %s: failure hook done", id);
	else
		log_line("queue %s: failure hook failed (the event stays in "
			 "failed/): %s", id, why);
}
