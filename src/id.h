/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_ID_H
#define MAKINI_ID_H

#include <stddef.h>
#include <time.h>

/*
 * Event ids, such as
 *
 *	20261129T071538.123456Z-3f9a1c2b7d4e5f60-00000001-updated
 *
 * a UTC time to the microsecond, 64 random bits drawn once per process, a
 * per-process counter and the action. Fixed-width fields make ids sort
 * lexically in receive order on one host (the time never goes back within
 * a process); the random part keeps processes and hosts sharing a spool
 * apart, so an id is never reused. A forked child draws its own.
 */
#define ID_LEN_MAX (23 + 1 + 16 + 1 + 8 + 1 + 32)

/* Writes a new id for action into out (size at least ID_LEN_MAX + 1). */
void id_make(char *out, size_t size, const char *action);

/* The time id was received, from its leading UTC time; 0 without one. */
time_t id_time(const char *id);

#endif
