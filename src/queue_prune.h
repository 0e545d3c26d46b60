/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_QUEUE_PRUNE_H
#define MAKINI_QUEUE_PRUNE_H

#include <stdio.h>

#include "config.h"

/*
 * Retention: removes finished (cur/) and failed (failed/) events whose
 * file was last changed more than age seconds ago, of every type or of
 * type alone. Only regular files named <id>.json go, each with its
 * failed/<id>.error; new/, claims, state files, links, FIFOs and names
 * that are not an event's are never touched. It works through the type's
 * directory descriptors (spool_type_open), looks with fstatat without
 * following links, and removes with unlinkat, so it is safe while
 * receivers and drains run: an event retried or replayed meanwhile is
 * simply no longer there. With dry_run set it removes nothing and lists
 * what it would remove, as "TYPE/DIR/NAME" lines on out (also listed
 * when removing). Returns how many events it removed (or would), or -1
 * with errno set when the spool cannot be read.
 */
long queue_prune(const struct config *cfg, const char *type,
		 unsigned long long age, int dry_run, FILE *out);

#endif
