/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_SLOT_H
#define MAKINI_QUEUE_SLOT_H

#include "config.h"

#define SLOTS_MAX 64

/*
 * Locks one of n slots named <what>@<host>.<i> in SPOOL/.locks/, so that
 * at most n holders of one name run at once on this host, whichever
 * process they are (workers, CGI processes, runners, drains): an
 * instance of a hook, or a runner of a type. With wait set it waits until
 * a slot is free; else it fails with EWOULDBLOCK when none is. The lock is
 * an flock, which dies with its holder. Returns the locked descriptor,
 * which the caller closes to release it, or -1 with errno set.
 */
int slot_lock(const struct config *cfg, const char *what, unsigned n,
	      int wait);

#endif
