/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_EVENT_H
#define MAKINI_EVENT_H

#include <stddef.h>

#include "reply.h"

#define ENTITY_MAX 64      /* [a-z0-9][a-z0-9_]{0,63} */
#define ACTION_MAX 32      /* [a-z0-9][a-z0-9_]{0,31} */
#define RAW_EVENT_MAX 256  /* longest "event" member looked at */
#define JSON_DEPTH_MAX 32  /* nesting the parser accepts */

/* A verified event's name, normalised: safe as a directory and file name. */
struct event {
	char entity[ENTITY_MAX + 1];
	char action[ACTION_MAX + 1];
	char name[ENTITY_MAX + 1 + ACTION_MAX + 1]; /* "<entity>.<action>" */
	char id[EVENT_ID_MAX]; /* its id once stored or handed on, else empty */
};

/*
 * Parses a signed body: it must be one JSON object (strict JSON, valid
 * UTF-8, at most JSON_DEPTH_MAX deep), else STATUS_BAD_REQUEST; its string
 * member "event" must appear once at the top level and normalise to a
 * valid name, else STATUS_UNPROCESSABLE.
 * Returns STATUS_OK with ev filled, or the status with rep's reason set.
 */
enum status event_parse(const void *body, size_t len, struct event *ev,
			struct reply *rep);

/*
 * Normalises a raw event name as docs/CONTRACT.md says: split at the last
 * ".", camelCase humps, "-", "." and blanks become "_", letters are
 * lower-cased, runs of "_" collapse, leading and trailing "_" go; then each
 * part must match its pattern. Returns 0 with ev filled, or -1.
 */
int event_normalise(const char *raw, size_t len, struct event *ev);

/*
 * Whether s is a part of a name as event_normalise() makes them, at most
 * max characters: [a-z0-9][a-z0-9_]{0,max-1}, safe as a file name. The
 * one check of an event type: the spool's store and its walk over the
 * types use it too.
 */
int event_part_valid(const char *s, size_t max);

#endif
