/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_FAILED_H
#define MAKINI_QUEUE_FAILED_H

#include "config.h"
#include "event.h"
#include "spool_type.h"

/*
 * The failure hook (MAKINI_WEBHOOK_FAILURE_HOOK): run once by the runner
 * that moved event id of t to failed/, right after the move, with the
 * event on standard input and MAKINI_FAILURE_REASON and MAKINI_ATTEMPTS
 * (from failed/<id>.error) beside the usual hook variables. Its own
 * failure or timeout is logged and counted, and never moves or touches
 * the event again. The guarantee is at most once: a runner killed between
 * the move and the hook's end does not run it again (the event stays in
 * failed/, where status, metrics and their alert still show it).
 * env_first and env_second are where HOOK_ENV's names are looked up.
 */
void queue_failed_notify(const struct config *cfg, const struct spool_type *t,
			 const struct event *ev, const char *id,
			 char *const *env_first, char *const *env_second);

#endif
