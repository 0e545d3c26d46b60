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
#include "queue_record.h"

void
queue_failed_notify(const struct config *cfg, const struct spool_type *t,
		    const struct event *ev, const char *id,
		    char *const *env_first, char *const *env_second)
{
	char file[PATH_MAX], json[NAME_MAX + 1], name[NAME_MAX + 1], why[256];
	struct queue_record r;
	enum hook_result result;
	int fd;

	if (!cfg->failure_hook)
		return;
	/* What can be read of it: the hook runs without it all the same. */
	snprintf(name, sizeof(name), "%s.error", id);
	if (record_read(t->failed, name, &r) != 0)
		memset(&r, 0, sizeof(r));
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
		.event = ev, .id = id, .attempt = r.attempts, .event_file = file,
		.timeout = cfg->hook_timeout, .env_names = cfg->hook_env_names,
		.env_first = env_first, .env_second = env_second,
		.failure_reason = r.error,
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
