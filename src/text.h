/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_TEXT_H
#define MAKINI_TEXT_H

#include <stddef.h>

/*
 * Text put together in a bounded buffer, piece by piece: what the request
 * path formats on every request (the answer, the log line, file names),
 * where snprintf's format parsing was a tenth of a request's instructions.
 * A piece that does not fit is cut, and the text is marked full.
 */
struct text {
	char *buf, *p, *end; /* end: the last byte, kept for the NUL */
	int full;
};

/* Starts an empty text in buf, which holds size bytes (at least 1). */
void text_init(struct text *t, char *buf, size_t size);

void text_add(struct text *t, const char *s);
void text_add_mem(struct text *t, const void *s, size_t len);

/* v in decimal, with leading zeros up to width digits. */
void text_add_uint(struct text *t, unsigned long long v, int width);

/* Ends the text with a NUL; returns its length, 0 if it was cut. */
size_t text_done(struct text *t);

/* text_done() for text that may be cut: the length of what fit. */
size_t text_done_cut(struct text *t);

#endif
