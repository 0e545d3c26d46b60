/* See LICENSE file for copyright and license details. */
/*
 * Fuzzes event_parse() (json-c, strict, UTF-8 checked, depth-limited) and
 * event_normalise() with any bytes. A name they accept becomes a directory
 * and a file name in the spool, so it must match docs/CONTRACT.md's
 * patterns: else abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* [a-z0-9][a-z0-9_]{0,max-1}, and no "_" at the end. */
static int
valid_part(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '_' || s[n - 1] == '_')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return 0;
		if (c == '_' && i > 0 && s[i - 1] == '_')
			return 0;
	}
	return 1;
}

static void
check(const struct event *ev)
{
	size_t elen = strlen(ev->entity);

	if (!valid_part(ev->entity, ENTITY_MAX) ||
	    !valid_part(ev->action, ACTION_MAX))
		abort();
	if (strncmp(ev->name, ev->entity, elen) != 0 || ev->name[elen] != '.' ||
	    strcmp(ev->name + elen + 1, ev->action) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event ev;
	struct reply rep;
	enum status st;

	memset(&ev, 0, sizeof(ev));
	if (event_normalise((const char *)data, size, &ev) == 0)
		check(&ev);

	memset(&ev, 0, sizeof(ev));
	memset(&rep, 0, sizeof(rep));
	st = event_parse(data, size, &ev, &rep);
	if (st == STATUS_OK)
		check(&ev);
	else if ((st != STATUS_BAD_REQUEST && st != STATUS_UNPROCESSABLE) ||
		 !rep.reason)
		abort();
	return 0;
}
