/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_RUNNER_H
#define MAKINI_QUEUE_RUNNER_H

#include "config.h"

/*
 * Queue mode's runner: what happens after an event is acknowledged. It is
 * called once the answer is finished, under FastCGI and CGI alike, and
 * returns at once: the type's due events run in a detached process of their
 * own, so that no accept loop ever waits for a hook.
 *
 * A runner is started only while fewer than HOOK_CONCURRENCY runners of the
 * type run on this host (slot_lock() slots named "runner-<type>"); one
 * already running picks the new event up. The runner keeps none of the
 * server's pipes: its standard input and output are /dev/null, and its
 * standard error stays only when it is a file or a terminal (the server's
 * error log), else /dev/null. Its lines also go to SPOOL/queue.log. It
 * leaves no zombie: the server's process reaps an intermediate child at
 * once. env_first and env_second are where HOOK_ENV's names are looked up,
 * as for queue_drain().
 */
void runner_start(const struct config *cfg, const char *type,
		  char *const *env_first, char *const *env_second);

#endif
