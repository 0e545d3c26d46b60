/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_ADMIN_H
#define MAKINI_QUEUE_ADMIN_H

#include <stdio.h>
#include <time.h>

#include "config.h"

/*
 * The operators' verbs that queue events again: retry and replay. They
 * reach the spool only through the spool layer's directory descriptors.
 */

/*
 * retry: moves failed events back to pending with their error and state
 * cleared: all of them (what NULL), the one with id what, or those of type
 * what; pending events of the same choice that wait for their next try
 * are made due now, their state cleared too, and counted in *due. replay:
 * moves the finished event (in cur/) with id what back to pending. Both
 * return how many moved, or -1 with errno set.
 */
long queue_retry(const struct config *cfg, const char *what, long *due);
long queue_replay(const struct config *cfg, const char *what);

#endif
